/* SPDX-License-Identifier: MIT */
/*
 * wgdp-bench-tables: what the allowed-IPs tables cost at a million peers, for choosing
 * their structure. A program, not a test: it prints figures.
 *
 *   wgdp-bench-tables [--prefixes N] [--mem MB]
 *
 * N IPv4 /32s and N IPv6 /128s (each peer's tunnel addresses, as lib/sim makes them)
 * are added to, looked up in (every address, in a random order, one at a time and in
 * bursts of 32), and deleted from:
 *   - rte_lpm / rte_lpm6, what the gateway used first;
 *   - rte_fib (DIR24_8) / rte_fib6 (TRIE), DPDK's FIB over rte_rib;
 *   - rte_hash with lock-free readers, for exact host routes (a /32 or /128 is always the
 *     longest match, so host routes can live apart from the shorter prefixes).
 * Times are wall-clock seconds for the adds and deletes, and millions of lookups a second.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>

#define BURST 32

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Peer k's addresses: 10.(200 + x>>16).(x>>8).x and fd00:200::x with x = k + 1. */
static uint32_t v4_of(uint32_t k)
{
	uint32_t x = k + 1;

	return 10u << 24 | (200u + (x >> 16)) << 16 | (x & 0xffff);
}

static void v6_of(uint32_t k, uint8_t out[16])
{
	uint32_t x = k + 1;

	memset(out, 0, 16);
	out[0] = 0xfd;
	out[2] = 0x02;
	out[12] = (uint8_t)(x >> 24);
	out[13] = (uint8_t)(x >> 16);
	out[14] = (uint8_t)(x >> 8);
	out[15] = (uint8_t)x;
}

struct figures {
	double add4, add6, del4, del6;        /* seconds */
	double look4, look6, bulk4, bulk6;    /* Mlookups/s */
	unsigned long bad;
};

static uint32_t *order;                   /* a random order of 0..n-1 */

static void shuffle(uint32_t n)
{
	uint64_t x = 88172645463325252ull;

	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j, t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (uint32_t)(x % (i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/* with_v4 false: rte_lpm's IPv4 half is left out (its adds are quadratic). */
static void bench_lpm(uint32_t n, bool with_v4, struct figures *f)
{
	struct rte_lpm_config c4 = { .max_rules = n + 16, .number_tbl8s = n / 64 + 1024 };
	struct rte_lpm6_config c6 = { .max_rules = n + 16, .number_tbl8s = n + 1024 };
	struct rte_lpm *l4 = rte_lpm_create("b4", SOCKET_ID_ANY, &c4);
	struct rte_lpm6 *l6 = rte_lpm6_create("b6", SOCKET_ID_ANY, &c6);
	uint8_t a[16];
	double t;

	if (!l4 || !l6) {
		printf("  rte_lpm: cannot create (%s)\n", rte_strerror(rte_errno));
		goto out;
	}
	if (!with_v4)
		goto v6;
	t = now_s();
	for (uint32_t k = 0; k < n; k++)
		f->bad += rte_lpm_add(l4, v4_of(k), 32, k) != 0;
	t = now_s();
	for (uint32_t i = 0; i < n; i++) {
		uint32_t nh;

		f->bad += rte_lpm_lookup(l4, v4_of(order[i]), &nh) != 0 || nh != order[i];
	}
	f->look4 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t i = 0; i + BURST <= n; i += BURST) {
		uint32_t ips[BURST], hops[BURST];

		for (int j = 0; j < BURST; j++)
			ips[j] = v4_of(order[i + j]);
		rte_lpm_lookup_bulk(l4, ips, hops, BURST);
		for (int j = 0; j < BURST; j++)
			f->bad += (hops[j] & 0xffffff) != order[i + j];
	}
	f->bulk4 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t k = 0; k < n; k++)
		f->bad += rte_lpm_delete(l4, v4_of(k), 32) != 0;
	f->del4 = now_s() - t;
v6:
	t = now_s();
	for (uint32_t k = 0; k < n; k++) {
		v6_of(k, a);
		f->bad += rte_lpm6_add(l6, a, 128, k) != 0;
	}
	f->add6 = now_s() - t;
	t = now_s();
	for (uint32_t i = 0; i < n; i++) {
		uint32_t nh;

		v6_of(order[i], a);
		f->bad += rte_lpm6_lookup(l6, a, &nh) != 0 || nh != order[i];
	}
	f->look6 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t i = 0; i + BURST <= n; i += BURST) {
		uint8_t ips[BURST][16];
		int32_t hops[BURST];

		for (int j = 0; j < BURST; j++)
			v6_of(order[i + j], ips[j]);
		rte_lpm6_lookup_bulk_func(l6, ips, hops, BURST);
		for (int j = 0; j < BURST; j++)
			f->bad += hops[j] != (int32_t)order[i + j];
	}
	f->bulk6 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t k = 0; k < n; k++) {
		v6_of(k, a);
		f->bad += rte_lpm6_delete(l6, a, 128) != 0;
	}
	f->del6 = now_s() - t;
out:
	rte_lpm_free(l4);
	rte_lpm6_free(l6);
}

static void bench_fib4(uint32_t n, struct figures *f)
{
	struct rte_fib_conf c4 = { .type = RTE_FIB_DIR24_8, .default_nh = 0xffffff,
		.max_routes = (int)n + 16,
		.dir24_8 = { .nh_sz = RTE_FIB_DIR24_8_4B, .num_tbl8 = n / 64 + 1024 } };
	struct rte_fib *f4 = rte_fib_create("f4", SOCKET_ID_ANY, &c4);
	double t;

	if (f4 == NULL) {
		printf("  rte_fib: cannot create (%s)\n", rte_strerror(rte_errno));
		f->add4 = f->look4 = f->bulk4 = f->del4 = -1;
		return;
	}
	t = now_s();
	for (uint32_t k = 0; k < n; k++)
		f->bad += rte_fib_add(f4, v4_of(k), 32, k) != 0;
	f->add4 = now_s() - t;
	t = now_s();
	for (uint32_t i = 0; i < n; i++) {
		uint32_t ip = v4_of(order[i]);
		uint64_t nh;

		rte_fib_lookup_bulk(f4, &ip, &nh, 1);
		f->bad += nh != order[i];
	}
	f->look4 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t i = 0; i + BURST <= n; i += BURST) {
		uint32_t ips[BURST];
		uint64_t hops[BURST];

		for (int j = 0; j < BURST; j++)
			ips[j] = v4_of(order[i + j]);
		rte_fib_lookup_bulk(f4, ips, hops, BURST);
		for (int j = 0; j < BURST; j++)
			f->bad += hops[j] != order[i + j];
	}
	f->bulk4 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t k = 0; k < n; k++)
		f->bad += rte_fib_delete(f4, v4_of(k), 32) != 0;
	f->del4 = now_s() - t;
	rte_fib_free(f4);
}

static void bench_fib6(uint32_t n, struct figures *f)
{
	/* Measured: the trie spends about 13 tbl8 groups (1 KiB each at 4-byte next hops)
	 * on every /128, even where the prefixes are shared. */
	struct rte_fib6_conf c6 = { .type = RTE_FIB6_TRIE, .default_nh = 0xffffff,
		.max_routes = (int)n + 16,
		.trie = { .nh_sz = RTE_FIB6_TRIE_4B, .num_tbl8 = n * 14 + 1024 } };
	struct rte_fib6 *f6 = rte_fib6_create("f6", SOCKET_ID_ANY, &c6);
	uint8_t a[16];
	double t;

	if (f6 == NULL) {
		printf("  rte_fib6: cannot create (%s; it wants %u tbl8 groups of 1 KiB)\n",
		       rte_strerror(rte_errno), n * 14 + 1024);
		f->add6 = f->look6 = f->bulk6 = f->del6 = -1;
		return;
	}
	t = now_s();
	for (uint32_t k = 0; k < n; k++) {
		v6_of(k, a);
		f->bad += rte_fib6_add(f6, a, 128, k) != 0;
	}
	f->add6 = now_s() - t;
	t = now_s();
	for (uint32_t i = 0; i < n; i++) {
		uint8_t ip[1][16];
		uint64_t nh;

		v6_of(order[i], ip[0]);
		rte_fib6_lookup_bulk(f6, ip, &nh, 1);
		f->bad += nh != order[i];
	}
	f->look6 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t i = 0; i + BURST <= n; i += BURST) {
		uint8_t ips[BURST][16];
		uint64_t hops[BURST];

		for (int j = 0; j < BURST; j++)
			v6_of(order[i + j], ips[j]);
		rte_fib6_lookup_bulk(f6, ips, hops, BURST);
		for (int j = 0; j < BURST; j++)
			f->bad += hops[j] != order[i + j];
	}
	f->bulk6 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t k = 0; k < n; k++) {
		v6_of(k, a);
		f->bad += rte_fib6_delete(f6, a, 128) != 0;
	}
	f->del6 = now_s() - t;
	rte_fib6_free(f6);
}

static struct rte_hash *make_hash(const char *name, uint32_t n, uint32_t key_len)
{
	struct rte_hash_parameters p = {
		.name = name, .entries = n + n / 4 + 64, .key_len = key_len,
		.hash_func = rte_jhash, .socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	return rte_hash_create(&p);
}

static void bench_hash(uint32_t n, struct figures *f)
{
	struct rte_hash *h4 = make_hash("h4", n, 4), *h6 = make_hash("h6", n, 16);
	uint8_t a[16];
	double t;

	if (!h4 || !h6) {
		printf("  rte_hash: cannot create (%s)\n", rte_strerror(rte_errno));
		goto out;
	}
	t = now_s();
	for (uint32_t k = 0; k < n; k++) {
		uint32_t ip = v4_of(k);

		f->bad += rte_hash_add_key_data(h4, &ip, (void *)(uintptr_t)k) != 0;
	}
	f->add4 = now_s() - t;
	t = now_s();
	for (uint32_t k = 0; k < n; k++) {
		v6_of(k, a);
		f->bad += rte_hash_add_key_data(h6, a, (void *)(uintptr_t)k) != 0;
	}
	f->add6 = now_s() - t;
	t = now_s();
	for (uint32_t i = 0; i < n; i++) {
		uint32_t ip = v4_of(order[i]);
		void *d;

		f->bad += rte_hash_lookup_data(h4, &ip, &d) < 0 || (uintptr_t)d != order[i];
	}
	f->look4 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t i = 0; i < n; i++) {
		void *d;

		v6_of(order[i], a);
		f->bad += rte_hash_lookup_data(h6, a, &d) < 0 || (uintptr_t)d != order[i];
	}
	f->look6 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t i = 0; i + BURST <= n; i += BURST) {
		uint32_t ips[BURST];
		const void *keys[BURST];
		void *d[BURST];
		uint64_t hits;

		for (int j = 0; j < BURST; j++) {
			ips[j] = v4_of(order[i + j]);
			keys[j] = &ips[j];
		}
		rte_hash_lookup_bulk_data(h4, keys, BURST, &hits, d);
		for (int j = 0; j < BURST; j++)
			f->bad += !(hits >> j & 1) || (uintptr_t)d[j] != order[i + j];
	}
	f->bulk4 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t i = 0; i + BURST <= n; i += BURST) {
		uint8_t ips[BURST][16];
		const void *keys[BURST];
		void *d[BURST];
		uint64_t hits;

		for (int j = 0; j < BURST; j++) {
			v6_of(order[i + j], ips[j]);
			keys[j] = ips[j];
		}
		rte_hash_lookup_bulk_data(h6, keys, BURST, &hits, d);
		for (int j = 0; j < BURST; j++)
			f->bad += !(hits >> j & 1) || (uintptr_t)d[j] != order[i + j];
	}
	f->bulk6 = n / (now_s() - t) / 1e6;
	t = now_s();
	for (uint32_t k = 0; k < n; k++) {
		uint32_t ip = v4_of(k);

		f->bad += rte_hash_del_key(h4, &ip) < 0;
	}
	f->del4 = now_s() - t;
	t = now_s();
	for (uint32_t k = 0; k < n; k++) {
		v6_of(k, a);
		f->bad += rte_hash_del_key(h6, a) < 0;
	}
	f->del6 = now_s() - t;
out:
	rte_hash_free(h4);
	rte_hash_free(h6);
}

static void cell(double v)
{
	if (v < 0)
		printf(" %8s", "-");
	else
		printf(" %8.2f", v);
}

/* A figure below zero was not measured and prints as "-". */
static void print(const char *name, const struct figures *f)
{
	printf("%-28s", name);
	cell(f->add4);
	cell(f->add6);
	cell(f->look4);
	cell(f->bulk4);
	cell(f->look6);
	cell(f->bulk6);
	cell(f->del4);
	cell(f->del6);
	printf(" %6lu\n", f->bad);
}

int main(int argc, char **argv)
{
	char mem[16] = "2048", prefix[32];
	char *cpu = getenv("WGDP_TABLES_CPU");   /* the lcore to run on, 0 unless told */
	char *eal[] = { argv[0], "-l", cpu ? cpu : "0", "--no-huge", "-m", mem, "--no-pci",
			"--no-shconf",
			"--no-telemetry", "--file-prefix", prefix, "--log-level", "lib.eal:error",
			NULL };
	uint32_t n = 1000000;
	int c;
	static const struct option lo[] = { { "prefixes", required_argument, NULL, 'n' },
		{ "mem", required_argument, NULL, 'm' }, { NULL, 0, NULL, 0 } };

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'n')
			n = (uint32_t)strtoul(optarg, NULL, 10);
		else if (c == 'm')
			snprintf(mem, sizeof(mem), "%s", optarg);
		else
			return 2;
	}
	snprintf(prefix, sizeof(prefix), "wgtab%ld", (long)getpid());
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0)
		return 1;
	order = malloc(n * sizeof(*order));
	if (order == NULL)
		return 1;
	shuffle(n);
	printf("wgdp-bench-tables: %u IPv4 /32 and %u IPv6 /128 host routes\n", n, n);
	printf("%-28s %8s %8s %8s %8s %8s %8s %8s %8s %6s\n", "structure", "add4 s", "add6 s",
	       "look4 M", "bulk4 M", "look6 M", "bulk6 M", "del4 s", "del6 s", "wrong");
	{
		struct figures f = { 0 };

		bench_hash(n, &f);
		print("rte_hash (lock-free)", &f);
	}
	{
		struct figures f = { 0 };

		bench_fib4(n, &f);
		bench_fib6(n, &f);
		print("rte_fib DIR24_8 / fib6 TRIE", &f);
	}
	{
		struct figures f = { .add4 = -1, .del4 = -1, .look4 = -1, .bulk4 = -1 };
		bool v4 = n <= 200000 || getenv("WGDP_TABLES_LPM");

		bench_lpm(n, v4, &f);
		print("rte_lpm / rte_lpm6", &f);
		if (!v4)
			printf("  (rte_lpm IPv4 skipped above 200,000 routes: its adds are "
			       "quadratic; WGDP_TABLES_LPM=1 runs it)\n");
	}
	free(order);
	rte_eal_cleanup();
	return 0;
}
