/* SPDX-License-Identifier: MIT */
/*
 * wgdp: the gateway. `wgdp [EAL options] -- -c FILE [--name NAME] [--max-peers N]`
 *
 * The main lcore is the control lcore; every other lcore given to EAL runs a worker. With
 * a single lcore the main lcore runs the worker loop and the control loop in turn.
 * SIGINT and SIGTERM stop it cleanly (keys wiped); SIGUSR1 prints the counters.
 */
#include <getopt.h>
#include <malloc.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_pdump.h>

#include "wg_config.h"
#include "wg_crypto.h"
#include "wg_gw.h"
#include "wg_noise.h"
#include "wg_rpc.h"

static volatile sig_atomic_t stop_requested, dump_requested;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_requested = 1;
	else
		stop_requested = 1;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- -c FILE [--name NAME] [--max-peers N]\n"
		"          [--aead-engine NAME]\n"
		"  -c, --config FILE   configuration file (wgdp.conf(5), docs/configuration.md)\n"
		"  -n, --name NAME     the interface's name (`wg show NAME`, the default sockets\n"
		"                      /var/run/wireguard/NAME.sock and\n"
		"                      /var/run/wgdp/NAME.json.sock); the file's interface.name\n"
		"                      must then be absent or NAME. The service wgdp@NAME\n"
		"                      passes it. Default: the file's name, else wgdp0\n"
		"      --max-peers N   capacity of the peer table (default: 1024, or the\n"
		"                      number of configured peers if larger)\n"
		"      --handshake-lcores N  lcores that do the Diffie-Hellman of handshakes\n"
		"                      (taken from the EAL's lcores after the workers; default\n"
		"                      auto: one per five lcores from 6 lcores on, else none)\n"
		"      --max-allowed-ips N  capacity of the allowed-IPs tables per address\n"
		"                      family (default: 2 per peer + 1024)\n"
		"      --aead-engine NAME  ChaCha20-Poly1305 engine: auto, ipsec-mb, avx512,\n"
		"                      avx2 or ref (default: the file's interface.aead_engine,\n"
		"                      else auto)\n", prog);
}

struct opts {
	const char *config;
	const char *name;
	const char *aead_engine;
	uint32_t max_peers, max_aips;
	int hs_lcores;                 /* -1: auto */
};

static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "max-peers", required_argument, NULL, 'p' },
		{ "max-allowed-ips", required_argument, NULL, 'a' },
		{ "handshake-lcores", required_argument, NULL, 'H' },
		{ "aead-engine", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->hs_lcores = -1;
	while ((c = getopt_long(argc, argv, "c:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'e':
			o->aead_engine = optarg;
			break;
		case 'H': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (strcmp(optarg, "auto") == 0) {
				o->hs_lcores = -1;
			} else if (*end || end == optarg || v > 8) {
				fprintf(stderr, "wgdp: --handshake-lcores must be 0..8 or auto\n");
				return -1;
			} else {
				o->hs_lcores = (int)v;
			}
			break;
		}
		case 'n':
			if (!wg_config_name_ok(optarg)) {
				fprintf(stderr, "wgdp: --name must be 1..%d characters of "
					"A-Z a-z 0-9 _ . -\n", WG_CONFIG_NAME_LEN - 1);
				return -1;
			}
			o->name = optarg;
			break;
		case 'p':
		case 'a': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			unsigned long max = c == 'p' ? 1u << 21 : 1u << 24;

			if (*end || v == 0 || v > max) {
				fprintf(stderr, "wgdp: --%s must be 1..%lu\n",
					c == 'p' ? "max-peers" : "max-allowed-ips", max);
				return -1;
			}
			if (c == 'p')
				o->max_peers = (uint32_t)v;
			else
				o->max_aips = (uint32_t)v;
			break;
		}
		default:
			return -1;
		}
	}
	if (o->config == NULL || optind != argc)
		return -1;
	return 0;
}

static int worker_main(void *arg)
{
	struct wg_worker *w = arg;
	struct wg_gw *gw = *(struct wg_gw **)w;   /* first member */

	wg_gw_worker_register(w);
	while (!wg_gw_stopping(gw))
		wg_gw_worker_poll(w, wg_gw_now());
	wg_gw_worker_unregister(w);
	return 0;
}

static void control_loop(struct wg_gw *gw, struct wg_worker *inline_worker)
{
	while (!stop_requested) {
		uint64_t now = wg_gw_now();

		if (inline_worker)
			wg_gw_worker_poll(inline_worker, now);
		wg_gw_control_poll(gw, now);
		if (dump_requested) {
			dump_requested = 0;
			wg_gw_dump_stats(gw, stdout);
			fflush(stdout);
		}
	}
}

/* DPDK's own tools: telemetry (on unless --no-telemetry) and packet capture, which needs
 * multi-process and so shared memory: not with --no-shconf or --in-memory
 * (docs/operations.md). */
static bool pdump_ready;

static void start_pdump(void)
{
	char config[PATH_MAX];

	/* rte_pdump_init "succeeds" without multi-process too (EAL then ignores the IPC it
	 * registers); a secondary can attach only with hugepages and the shared config file,
	 * which --no-shconf and --in-memory do not make. */
	snprintf(config, sizeof(config), "%s/config", rte_eal_get_runtime_dir());
	pdump_ready = rte_eal_has_hugepages() && access(config, F_OK) == 0 &&
		      rte_pdump_init() == 0;
}

static void describe_tools(void)
{
	const char *dir = rte_eal_get_runtime_dir(), *prefix = strrchr(dir, '/');

	prefix = prefix ? prefix + 1 : dir;
	if (pdump_ready)
		printf("wgdp: packet capture: dpdk-dumpcap --file-prefix=%s -i PORT\n", prefix);
	else
		printf("wgdp: packet capture: off (EAL without multi-process: --no-shconf or "
		       "--in-memory)\n");
	printf("wgdp: telemetry: dpdk-telemetry.py -f %s (/wgdp/stats, /wgdp/peers, ...)\n",
	       prefix);
}

static int run(const struct opts *o)
{
	struct wg_config cfg;
	struct wg_gw_params prm = { .max_peers = o->max_peers, .max_allowed_ips = o->max_aips,
				    .aead_engine = o->aead_engine, .config_path = o->config };
	char err[WG_CONFIG_ERR_LEN];
	struct wg_gw *gw;
	unsigned lcore, i = 0, n_lcores;

	if (wg_config_load_as(&cfg, o->config, o->name, err, sizeof(err)) != 0) {
		fprintf(stderr, "wgdp: %s\n", err);
		return 1;
	}
	/* The main lcore controls; then the workers; then the handshake lcores, by default
	 * one for every five lcores once there are six (below that, the workers need the
	 * cores more than a burst of handshakes does). */
	n_lcores = rte_lcore_count();
	prm.n_hs_lcores = o->hs_lcores >= 0 ? (unsigned)o->hs_lcores :
			  n_lcores >= 6 ? n_lcores / 5 : 0;
	/* All of them but the main lcore may handshake: the worker then shares it. */
	if (prm.n_hs_lcores > n_lcores - 1) {
		fprintf(stderr, "wgdp: --handshake-lcores %u needs %u lcores besides the "
			"main one (EAL -l); there are %u\n", prm.n_hs_lcores, prm.n_hs_lcores,
			n_lcores - 1);
		return 1;
	}
	prm.n_workers = n_lcores - 1 - prm.n_hs_lcores;
	prm.single_lcore = prm.n_workers == 0;
	if (prm.single_lcore)
		prm.n_workers = 1;
	gw = wg_gw_create(&cfg, &prm, err, sizeof(err));
	wg_config_free(&cfg);
	if (gw == NULL || wg_gw_start(gw, err, sizeof(err)) != 0 ||
	    wg_gw_uapi_listen(gw, err, sizeof(err)) != 0 ||
	    wg_gw_rpc_listen(gw, err, sizeof(err)) != 0 ||
	    wg_gw_http_listen(gw, err, sizeof(err)) != 0 ||
	    wg_gw_telemetry_register(gw, err, sizeof(err)) != 0) {
		fprintf(stderr, "wgdp: %s\n", err);
		wg_gw_destroy(gw);
		return 1;
	}
	wg_gw_describe(gw, stdout);
	describe_tools();
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (i < prm.n_workers) {
			printf("wgdp: lcore %u: worker %u\n", lcore, i);
			rte_eal_remote_launch(worker_main, wg_gw_worker(gw, i), lcore);
		} else {
			printf("wgdp: lcore %u: handshakes\n", lcore);
			rte_eal_remote_launch(wg_gw_hs_lcore_main,
					      wg_gw_hs_lcore(gw, i - prm.n_workers), lcore);
		}
		i++;
	}
	printf("wgdp: ready\n");
	fflush(stdout);
	control_loop(gw, prm.single_lcore ? wg_gw_worker(gw, 0) : NULL);
	wg_gw_request_stop(gw);
	rte_eal_mp_wait_lcore();
	wg_gw_dump_stats(gw, stdout);
	wg_gw_destroy(gw);
	printf("wgdp: stopped\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int n, rc;

	/* No fastbins: the control lcore frees a large request's parsed objects by the
	 * hundred thousand, and the next large malloc would consolidate them all in one
	 * go (154 ms after an AddPeers of 100,000 peers); without fastbins each free
	 * coalesces as it goes. Only the control plane allocates from the C heap. */
	mallopt(M_MXFAST, 0);
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "wgdp: EAL initialisation failed\n");
		return 1;
	}
	argv[n] = argv[0];
	if (parse_args(&o, argc - n, argv + n) != 0) {
		usage(argv[0]);
		rte_eal_cleanup();
		return 2;
	}
	if (wg_crypto_init() != 0) {
		fprintf(stderr, "wgdp: libsodium initialisation failed\n");
		rte_eal_cleanup();
		return 1;
	}
	wg_noise_init();
	wg_rpc_init();
	start_pdump();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = run(&o);
	if (pdump_ready)
		rte_pdump_uninit();
	rte_eal_cleanup();
	return rc;
}
