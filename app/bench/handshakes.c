/* SPDX-License-Identifier: MIT */
/*
 * wgdp-bench-hs: handshakes per second, with 0, 1, 2 ... handshake lcores and a given
 * number of configured peers, in one process (lib/sim). A program, not a test: it prints
 * figures.
 *
 * Clients handshake in groups small enough that the gateway never goes under load (so
 * every initiation costs the full Diffie-Hellman, none a cookie), and the figures are
 *   - handshakes per second of wall-clock time, and
 *   - handshakes per lcore-second: per second of the time the control lcore spent on
 *     handshake messages plus the time the handshake lcores spent preparing them, which
 *     reads the same on a machine with more cores (here, the control lcore and the
 *     handshake lcores share the machine's cores).
 * Each configuration runs --reps times in the same process; the median is printed with
 * the minimum and maximum. The configured peers beyond the clients are peers that no one
 * plays (random keys, a /32 and a /128 each), so a gateway of a million peers can be
 * measured with a few thousand clients.
 *
 *   wgdp-bench-hs [--lcores 0,1,2] [--peers 1000,1000000] [--clients N] [--reps N]
 *                 [--group N] [--mem MB] [--cpus LIST]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "wg_gw.h"
#include "wg_sim.h"

#define MAX_LIST 8

struct opts {
	unsigned lcores[MAX_LIST], n_lcores;
	unsigned peers[MAX_LIST], n_peers;
	unsigned clients, reps, group, mem;
};

static int parse_list(const char *s, unsigned *out, unsigned *n, unsigned max)
{
	char *end;

	*n = 0;
	while (*s && *n < MAX_LIST) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v > max)
			return -1;
		out[(*n)++] = (unsigned)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return *n ? 0 : -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void cpu_model(char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(out, len, "unknown");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0) {
			char *v = strchr(line, ':');

			if (v) {
				snprintf(out, len, "%s", v + 2);
				out[strcspn(out, "\n")] = 0;
			}
			break;
		}
	if (f)
		fclose(f);
}

/* One configuration: rates of each rep into wall[] and cpu[]. 0, or -1. */
static int measure(const struct opts *o, unsigned peers, unsigned hs_lcores, double *wall,
		   double *cpu, double *ctrl_us, double *lcore_us)
{
	unsigned clients = o->clients < peers ? o->clients : peers;
	struct wg_sim_params p = { .n_clients = clients, .n_extra_peers = peers - clients,
		.n_hs_lcores = hs_lcores };
	char err[256];
	double t0 = now_s();
	struct wg_sim *s = wg_sim_create(&p, err, sizeof(err));

	if (s == NULL) {
		fprintf(stderr, "wgdp-bench-hs: %u peers: %s\n", peers, err);
		return -1;
	}
	if (hs_lcores == 0 && peers == o->peers[0])
		printf("  (%u peers: gateway made in %.1f s)\n", peers, now_s() - t0);
	for (unsigned r = 0; r < o->reps; r++) {
		struct wg_gw_stats a, b;
		unsigned done = 0;
		double t;

		wg_sim_stats(s, &a);
		t = now_s();
		for (unsigned k = 0; k < clients; k += o->group)
			done += wg_sim_handshake_storm(s, k, clients - k < o->group ?
							clients - k : o->group);
		t = now_s() - t;
		wg_sim_stats(s, &b);
		if (done != clients || b.under_load_entered != a.under_load_entered)
			printf("  warning: %u of %u handshakes, under load %lu times\n", done,
			       clients, (unsigned long)(b.under_load_entered - a.under_load_entered));
		wall[r] = done / t;
		cpu[r] = done / ((double)(b.hs_busy_ns - a.hs_busy_ns +
					  b.hs_lcores_busy_ns - a.hs_lcores_busy_ns) / 1e9);
		ctrl_us[r] = (double)(b.hs_busy_ns - a.hs_busy_ns) / 1e3 / done;
		lcore_us[r] = (double)(b.hs_lcores_busy_ns - a.hs_lcores_busy_ns) / 1e3 / done;
		/* The next rep's initiations must be 20 ms after this one's (flood limit). */
		wg_sim_advance(s, 25 * 1000 * 1000);
	}
	wg_sim_destroy(s);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "lcores", required_argument, NULL, 'l' }, { "peers", required_argument, NULL, 'p' },
		{ "clients", required_argument, NULL, 'c' }, { "reps", required_argument, NULL, 'r' },
		{ "group", required_argument, NULL, 'g' }, { "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'C' }, { NULL, 0, NULL, 0 } };
	struct opts o = { .lcores = { 0, 1, 2 }, .n_lcores = 3, .peers = { 1000 }, .n_peers = 1,
			  .clients = 4000, .reps = 5, .group = 128, .mem = 1024 };
	const char *cpus = "0";
	char model[128];
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'l': bad = parse_list(optarg, o.lcores, &o.n_lcores, 8); break;
		case 'p': bad = parse_list(optarg, o.peers, &o.n_peers, 2000000); break;
		case 'c': o.clients = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o.reps = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'g': o.group = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': o.mem = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'C': cpus = optarg; break;
		default: bad = 1;
		}
		if (bad) {
			fprintf(stderr, "usage: %s [--lcores 0,1,2] [--peers 1000,1000000] "
				"[--clients N] [--reps N] [--group N] [--mem MB] [--cpus LIST]\n",
				argv[0]);
			return 2;
		}
	}
	if (o.reps == 0 || o.reps > 64 || o.group == 0 || o.clients == 0)
		return 2;
	if (wg_sim_eal_init_lcores(argv[0], o.mem, cpus) != 0)
		return 1;
	cpu_model(model, sizeof(model));
	printf("wgdp-bench-hs: %s, %u online CPUs; %u clients in groups of %u, %u reps\n",
	       model, (unsigned)sysconf(_SC_NPROCESSORS_ONLN), o.clients, o.group, o.reps);
	printf("%9s %10s %14s %22s %14s %22s %9s %9s\n", "peers", "hs lcores", "handshakes/s",
	       "[min, max]", "per lcore-s", "[min, max]", "ctrl us", "hs-lc us");
	for (unsigned pi = 0; pi < o.n_peers; pi++)
		for (unsigned li = 0; li < o.n_lcores; li++) {
			double wall[64], cpu[64], cu[64], lu[64];

			if (measure(&o, o.peers[pi], o.lcores[li], wall, cpu, cu, lu) != 0)
				continue;
			qsort(wall, o.reps, sizeof(double), cmp);
			qsort(cpu, o.reps, sizeof(double), cmp);
			qsort(cu, o.reps, sizeof(double), cmp);
			qsort(lu, o.reps, sizeof(double), cmp);
			printf("%9u %10u %14.0f [%9.0f, %9.0f] %14.0f [%9.0f, %9.0f] %9.1f %9.1f\n",
			       o.peers[pi], o.lcores[li], wall[o.reps / 2], wall[0],
			       wall[o.reps - 1], cpu[o.reps / 2], cpu[0], cpu[o.reps - 1],
			       cu[o.reps / 2], lu[o.reps / 2]);
			fflush(stdout);
		}
	wg_sim_eal_cleanup();
	return 0;
}
