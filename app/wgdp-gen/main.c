/* SPDX-License-Identifier: MIT */
/*
 * wgdp-gen [EAL options] -- [options]: plays N WireGuard peers against a server on DPDK
 * ports and measures what the server carries (docs/benchmarking.md, wgdp-gen(1) there).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "gen.h"
#include "wg_addr.h"
#include "wg_crypto.h"

static struct gen *the_gen;   /* for the signal handler only */

static void on_signal(int sig)
{
	(void)sig;
	if (the_gen)
		atomic_store(&the_gen->stop, true);
}

static void usage(FILE *f)
{
	fputs("usage: wgdp-gen [EAL options] -- [options]\n"
	      "  --wan NAME            the encrypted-side port (DPDK name; default port 0)\n"
	      "  --lan NAME|none       the plaintext-side port (default port 1 if there is one)\n"
	      "  --server IP[:PORT]    the server's address (default 10.99.0.1:51820)\n"
	      "  --server-key KEY      the server's public key, base64 (or @FILE)\n"
	      "  --server-mac MAC      skip ARP for the server\n"
	      "  --lan-gw IP           the server's address on the plaintext side (10.60.0.1)\n"
	      "  --lan-gw-mac MAC      skip ARP for it\n"
	      "  --peers N             peers to play (default 1)\n"
	      "  --peer-ip IP          peer k's endpoint is IP + k (10.99.1.1)\n"
	      "  --peer-port N         UDP port of every peer (51000)\n"
	      "  --tunnel-ip IP        peer k's tunnel address is IP + k (10.200.0.2)\n"
	      "  --sink-ip IP          the plaintext host played on the lan port (10.60.0.2)\n"
	      "  --keys FILE           peers' private keys, one base64 key a line (else fresh)\n"
	      "  --write-peers FILE    write the server's [Peer] sections (wg addconf)\n"
	      "  --sizes LIST          inner IP sizes and/or imix (default 64)\n"
	      "  --dir up|down|both    up: peers -> lan (we encrypt); down: lan -> peers\n"
	      "  --rate PPS            per direction (k, M suffixes); 0 or max: as fast as it can\n"
	      "  --duration S          seconds per trial (1)\n"
	      "  --pool N              most packets per direction per trial (262144)\n"
	      "  --trials N            trials per size at a fixed rate (1)\n"
	      "  --drain-ms N          wait for late packets after sending (300)\n"
	      "  --search              zero-loss search per size (RFC 2544 26.1 style)\n"
	      "  --tolerance PCT       loss allowed in a search, percent (0)\n"
	      "  --resolution F        stop searching when (hi - lo) / hi < F (0.02)\n"
	      "  --max-steps N         trials per size in a search (12)\n"
	      "  --mtu N               the tunnel MTU padding stops at (1420)\n"
	      "  --hs-chunk N --hs-timeout-ms N --hs-tries N   handshakes (32, 1000, 5)\n"
	      "  --fake-sessions       no server: random session keys (net_null sink tests)\n"
	      "  --per-peer            per-peer figures\n"
	      "  --json FILE           the figures as JSON\n", f);
}

static int parse_ip(const char *s, uint8_t out[4])
{
	struct wg_ip ip;

	if (wg_ip_parse(&ip, s, strlen(s)) != 0 || ip.family != WG_AF_INET)
		return -1;
	memcpy(out, ip.addr, 4);
	return 0;
}

static int parse_mac(const char *s, uint8_t out[6])
{
	struct rte_ether_addr a;

	if (rte_ether_unformat_addr(s, &a) != 0)
		return -1;
	memcpy(out, a.addr_bytes, 6);
	return 0;
}

static int parse_u(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v, mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (*end == 'k' || *end == 'K')
		mult = 1e3, end++;
	else if (*end == 'M' || *end == 'm')
		mult = 1e6, end++;
	else if (*end == 'G' || *end == 'g')
		mult = 1e9, end++;
	v *= mult;
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_key(const char *s, uint8_t key[32])
{
	char buf[128];

	if (s[0] == '@') {
		FILE *f = fopen(s + 1, "r");
		size_t n;

		if (f == NULL)
			return -1;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		buf[strcspn(buf, "\r\n \t")] = 0;
		s = buf;
	}
	return wg_key_from_base64(key, s, strlen(s));
}

static int parse_sizes(struct gen_opts *o, char *list)
{
	char *save = NULL;

	o->n_sizes = 0;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned long v;

		if (o->n_sizes == WG_GEN_MAX_SIZES)
			return -1;
		if (strcmp(t, "imix") == 0)
			v = 0;
		else if (parse_u(t, WG_GEN_INNER_MIN, WG_GEN_INNER_MAX, &v) != 0)
			return -1;
		o->sizes[o->n_sizes++] = (uint16_t)v;
	}
	return o->n_sizes ? 0 : -1;
}

static void defaults(struct gen_opts *o)
{
	*o = (struct gen_opts){
		.server_ip = { 10, 99, 0, 1 }, .server_port = 51820,
		.peer_ip = { 10, 99, 1, 1 }, .peer_port = 51000,
		.tun_ip = { 10, 200, 0, 2 }, .sink_ip = { 10, 60, 0, 2 },
		.lan_gw_ip = { 10, 60, 0, 1 }, .n_peers = 1, .sizes = { 64 }, .n_sizes = 1,
		.dir = { true, false }, .duration = 1, .pool = 262144, .drain_ms = 300,
		.trials = 1, .resolution = 0.02, .max_steps = 12, .hs_chunk = 32,
		.hs_timeout_ms = 1000, .hs_tries = 5, .mtu = 1420,
	};
}

enum {
	O_WAN = 256, O_LAN, O_SERVER, O_SKEY, O_SMAC, O_LANGW, O_LANGWMAC, O_PEERS, O_PEERIP,
	O_PEERPORT, O_TUN, O_SINK, O_KEYS, O_WPEERS, O_SIZES, O_DIR, O_RATE, O_DUR, O_POOL,
	O_TRIALS, O_DRAIN, O_SEARCH, O_TOL, O_RES, O_STEPS, O_MTU, O_HSC, O_HST, O_HSN, O_FAKE,
	O_PERPEER, O_JSON, O_HELP,
};

static const struct option longopts[] = {
	{ "wan", 1, NULL, O_WAN }, { "lan", 1, NULL, O_LAN }, { "server", 1, NULL, O_SERVER },
	{ "server-key", 1, NULL, O_SKEY }, { "server-mac", 1, NULL, O_SMAC },
	{ "lan-gw", 1, NULL, O_LANGW }, { "lan-gw-mac", 1, NULL, O_LANGWMAC },
	{ "peers", 1, NULL, O_PEERS }, { "peer-ip", 1, NULL, O_PEERIP },
	{ "peer-port", 1, NULL, O_PEERPORT }, { "tunnel-ip", 1, NULL, O_TUN },
	{ "sink-ip", 1, NULL, O_SINK }, { "keys", 1, NULL, O_KEYS },
	{ "write-peers", 1, NULL, O_WPEERS }, { "sizes", 1, NULL, O_SIZES },
	{ "dir", 1, NULL, O_DIR }, { "rate", 1, NULL, O_RATE }, { "duration", 1, NULL, O_DUR },
	{ "pool", 1, NULL, O_POOL }, { "trials", 1, NULL, O_TRIALS },
	{ "drain-ms", 1, NULL, O_DRAIN }, { "search", 0, NULL, O_SEARCH },
	{ "tolerance", 1, NULL, O_TOL }, { "resolution", 1, NULL, O_RES },
	{ "max-steps", 1, NULL, O_STEPS }, { "mtu", 1, NULL, O_MTU },
	{ "hs-chunk", 1, NULL, O_HSC }, { "hs-timeout-ms", 1, NULL, O_HST },
	{ "hs-tries", 1, NULL, O_HSN }, { "fake-sessions", 0, NULL, O_FAKE },
	{ "per-peer", 0, NULL, O_PERPEER }, { "json", 1, NULL, O_JSON },
	{ "help", 0, NULL, O_HELP }, { NULL, 0, NULL, 0 },
};

/* One option; 0, 1 (help) or -1 (refused). */
static int option(struct gen_opts *o, int c, char *arg)
{
	unsigned long v;
	struct wg_endpoint ep;

	switch (c) {
	case O_WAN: o->port_name[GEN_WAN] = arg; return 0;
	case O_LAN: o->port_name[GEN_LAN] = arg; return 0;
	case O_SERVER:
		if (parse_ip(arg, o->server_ip) == 0)
			return 0;
		if (wg_endpoint_parse(&ep, arg, strlen(arg)) != 0 || ep.ip.family != WG_AF_INET)
			return -1;
		memcpy(o->server_ip, ep.ip.addr, 4);
		o->server_port = ep.port;
		return 0;
	case O_SKEY:
		o->have_server_pub = true;
		return parse_key(arg, o->server_pub);
	case O_SMAC: o->have_server_mac = true; return parse_mac(arg, o->server_mac);
	case O_LANGW: return parse_ip(arg, o->lan_gw_ip);
	case O_LANGWMAC: o->have_lan_gw_mac = true; return parse_mac(arg, o->lan_gw_mac);
	case O_PEERS:
		if (parse_u(arg, 1, GEN_MAX_PEERS - 1, &v) != 0)
			return -1;
		o->n_peers = (unsigned)v;
		return 0;
	case O_PEERIP: return parse_ip(arg, o->peer_ip);
	case O_PEERPORT:
		if (parse_u(arg, 1, 65535, &v) != 0)
			return -1;
		o->peer_port = (uint16_t)v;
		return 0;
	case O_TUN: return parse_ip(arg, o->tun_ip);
	case O_SINK: return parse_ip(arg, o->sink_ip);
	case O_KEYS: o->keys_file = arg; return 0;
	case O_WPEERS: o->peers_out = arg; return 0;
	case O_SIZES: return parse_sizes(o, arg);
	case O_DIR:
		o->dir[GEN_UP] = strcmp(arg, "up") == 0 || strcmp(arg, "both") == 0;
		o->dir[GEN_DOWN] = strcmp(arg, "down") == 0 || strcmp(arg, "both") == 0;
		return o->dir[0] || o->dir[1] ? 0 : -1;
	case O_RATE:
		if (strcmp(arg, "max") == 0) {
			o->rate = 0;
			return 0;
		}
		return parse_double(arg, 0, 1e9, &o->rate);
	case O_DUR: return parse_double(arg, 0.001, 3600, &o->duration);
	case O_POOL:
		if (parse_u(arg, 1, 1ul << 31, &v) != 0)
			return -1;
		o->pool = v;
		return 0;
	case O_TRIALS:
		if (parse_u(arg, 1, 1000, &v) != 0)
			return -1;
		o->trials = (unsigned)v;
		return 0;
	case O_DRAIN:
		if (parse_u(arg, 0, 60000, &v) != 0)
			return -1;
		o->drain_ms = (unsigned)v;
		return 0;
	case O_SEARCH: o->search = true; return 0;
	case O_TOL: return parse_double(arg, 0, 100, &o->tolerance);
	case O_RES: return parse_double(arg, 0.0001, 1, &o->resolution);
	case O_STEPS:
		if (parse_u(arg, 1, 100, &v) != 0)
			return -1;
		o->max_steps = (unsigned)v;
		return 0;
	case O_MTU:
		if (parse_u(arg, 576, 9000, &v) != 0)
			return -1;
		o->mtu = (uint32_t)v;
		return 0;
	case O_HSC:
		if (parse_u(arg, 1, 4096, &v) != 0)
			return -1;
		o->hs_chunk = (unsigned)v;
		return 0;
	case O_HST:
		if (parse_u(arg, 10, 60000, &v) != 0)
			return -1;
		o->hs_timeout_ms = (unsigned)v;
		return 0;
	case O_HSN:
		if (parse_u(arg, 1, 100, &v) != 0)
			return -1;
		o->hs_tries = (unsigned)v;
		return 0;
	case O_FAKE: o->fake_sessions = true; return 0;
	case O_PERPEER: o->per_peer = true; return 0;
	case O_JSON: o->json_out = arg; return 0;
	case O_HELP: return 1;
	default: return -1;
	}
}

static int parse_args(struct gen_opts *o, int argc, char **argv)
{
	int c, rc;

	defaults(o);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if ((rc = option(o, c, optarg)) == 1) {
			usage(stdout);
			exit(0);
		}
		if (rc != 0) {
			fprintf(stderr, "wgdp-gen: bad option %s%s%s\n", argv[optind - 1],
				optarg ? " " : "", optarg ? optarg : "");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wgdp-gen: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	if (!o->have_server_pub && !o->fake_sessions) {
		fprintf(stderr, "wgdp-gen: --server-key is needed (or --fake-sessions)\n");
		return -1;
	}
	if (o->fake_sessions && !o->have_server_mac)
		o->have_server_mac = true;              /* nobody answers ARP on a sink */
	for (unsigned i = 0; i < o->n_sizes; i++)
		if (o->sizes[i] > o->mtu) {
			fprintf(stderr, "wgdp-gen: size %u is larger than the MTU %u\n", o->sizes[i],
				o->mtu);
			return -1;
		}
	return 0;
}

/* The pools' mbufs: as many as both pools need, each just big enough for the largest
 * frame of the run. */
static int tx_pool(struct gen *g)
{
	uint32_t max = 0, frame;
	unsigned dirs = (unsigned)g->o.dir[0] + (unsigned)g->o.dir[1];
	uint64_t per = g->o.pool, n;

	if (g->o.rate > 0 && !g->o.search && g->o.rate * g->o.duration + 1 < (double)per)
		per = (uint64_t)(g->o.rate * g->o.duration) + 2;
	n = per * dirs + 1024;

	for (unsigned i = 0; i < g->o.n_sizes; i++)
		max = g->o.sizes[i] == 0 ? (max > 1420 ? max : 1420) :
		      (g->o.sizes[i] > max ? g->o.sizes[i] : max);
	frame = WG_GEN_OUTER_LEN + WG_MSG_DATA_MIN_LEN + wg_gen_padded(max, g->o.mtu);
	frame = (frame + 63) / 64 * 64;
	g->tx_mp = rte_pktmbuf_pool_create("gen_tx", (unsigned)(n > UINT32_MAX ? UINT32_MAX : n),
					   512, 0, (uint16_t)(RTE_PKTMBUF_HEADROOM + frame),
					   (int)rte_socket_id());
	if (g->tx_mp == NULL) {
		fprintf(stderr, "wgdp-gen: no memory for %lu packets of %u bytes (-m, --pool)\n",
			(unsigned long)n, frame);
		return -1;
	}
	return 0;
}

static int setup(struct gen *g)
{
	char err[256];
	unsigned lc;

	RTE_LCORE_FOREACH(lc) {
		if ((g->aead[lc] = wg_aead_create()) == NULL) {
			fprintf(stderr, "wgdp-gen: no AEAD context\n");
			return -1;
		}
	}
	g->tx_lcore = rte_lcore_count() > 1 ? rte_get_next_lcore(-1, 1, 0) : RTE_MAX_LCORE;
	g->tsc_hz = rte_get_tsc_hz();
	if (gen_ports_init(g, err, sizeof(err)) != 0 || gen_peers_init(g, err, sizeof(err)) != 0) {
		fprintf(stderr, "wgdp-gen: %s\n", err);
		return -1;
	}
	if (tx_pool(g) != 0)
		return -1;
	if (g->o.peers_out && gen_peers_write(g, g->o.peers_out) != 0) {
		fprintf(stderr, "wgdp-gen: cannot write %s: %s\n", g->o.peers_out, strerror(errno));
		return -1;
	}
	if (!g->has_lan)
		g->o.dir[GEN_DOWN] = false;
	if (!g->o.fake_sessions && gen_resolve(g, err, sizeof(err)) != 0) {
		fprintf(stderr, "wgdp-gen: %s\n", err);
		return -1;
	}
	printf("wgdp-gen: %u peers, wan port %u%s, %u lcores (%s), AEAD %s\n", g->o.n_peers,
	       g->port[GEN_WAN], g->has_lan ? " and lan port" : " (no lan port)",
	       rte_lcore_count(), g->tx_lcore < RTE_MAX_LCORE ? "one sends" : "one loop",
	       wg_aead_describe(g->aead[rte_get_main_lcore()]));
	return 0;
}

static void print_counters(const struct gen *g)
{
	const struct gen_counters *c = &g->c;

	printf("wgdp-gen: counters: arp answered %lu, other arp %lu, keepalives %lu, other "
	       "handshake messages %lu, not ours %lu, unknown index %lu, replayed %lu, bad tag %lu, "
	       "bad padding %lu, cookies %lu, refused %lu\n", (unsigned long)c->arp_answered,
	       (unsigned long)c->arp_other,
	       (unsigned long)c->keepalives, (unsigned long)c->handshake_other,
	       (unsigned long)c->not_ours, (unsigned long)c->unknown_index,
	       (unsigned long)c->replay, (unsigned long)c->decrypt_failed,
	       (unsigned long)c->bad_padding, (unsigned long)c->cookies,
	       (unsigned long)c->hs_refused);
}

int main(int argc, char **argv)
{
	static struct gen g;
	int n = rte_eal_init(argc, argv), rc = 1;
	unsigned lc;

	if (n < 0) {
		fprintf(stderr, "wgdp-gen: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (wg_crypto_init() != 0)
		return 1;
	wg_noise_init();
	argc -= n;
	argv += n;
	argv[0] = (char *)"wgdp-gen";
	if (parse_args(&g.o, argc, argv) != 0) {
		usage(stderr);
		rte_eal_cleanup();
		return 2;
	}
	the_gen = &g;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (setup(&g) == 0) {
		if (!g.o.fake_sessions) {
			unsigned up = gen_handshake_all(&g);

			printf("wgdp-gen: sessions up: %u of %u\n", up, g.o.n_peers);
			fflush(stdout);
		}
		rc = (g.o.search ? gen_run_search(&g) : gen_run_fixed(&g)) == 0 ? 0 : 1;
		print_counters(&g);
		if (g.o.json_out &&
		    gen_write_json(&g, g.o.json_out,
				   wg_aead_describe(g.aead[rte_get_main_lcore()])) != 0) {
			fprintf(stderr, "wgdp-gen: cannot write %s\n", g.o.json_out);
			rc = 1;
		}
	}
	if (g.port[0] || g.rx_mp)
		gen_ports_close(&g);
	gen_peers_free(&g);
	RTE_LCORE_FOREACH(lc)
		wg_aead_free(g.aead[lc]);
	rte_eal_cleanup();
	return rc;
}
