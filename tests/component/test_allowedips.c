/* SPDX-License-Identifier: MIT */
/*
 * The allowed-IPs tables (lib/allowedips) against a reference that is obviously right: a
 * list of prefixes searched linearly for the longest that covers an address.
 *
 *   model       random prefixes of every length in both families, inserted, moved and
 *               removed in batches; after each batch every prefix's first and last
 *               address and random addresses give the reference's answer, one by one
 *               and in bursts, and the exact-prefix owners and counts agree;
 *   slices      a published batch is what readers see at once, its replay on the other
 *               copy done a change at a time; the next batch starts from the full state;
 *   full        a table out of second-level groups refuses the prefix and keeps every
 *               other answer and its counts;
 *   concurrent  a reader thread (an RCU reader, as workers are) looks up addresses whose
 *               owners never change while the writer adds and removes longer prefixes
 *               beside them in the same /24s and /120s (so second-level groups are
 *               allocated, freed and reused for other /24s all the time): no answer is
 *               ever wrong.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "check.h"
#include "wg_allowedips.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

struct ref_entry {
	struct wg_prefix p;
	uint32_t peer;
	bool live;
};

struct ref {
	struct ref_entry *e;
	unsigned n;
};

static bool covers(const struct wg_prefix *p, const struct wg_ip *ip)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->ip.family != ip->family)
		return false;
	if (memcmp(p->ip.addr, ip->addr, full) != 0)
		return false;
	return rest == 0 || ((p->ip.addr[full] ^ ip->addr[full]) & (0xff << (8 - rest))) == 0;
}

static uint32_t ref_lookup(const struct ref *r, const struct wg_ip *ip)
{
	int best = -1;
	uint32_t peer = WG_ALLOWEDIPS_NONE;

	for (unsigned i = 0; i < r->n; i++)
		if (r->e[i].live && covers(&r->e[i].p, ip) && r->e[i].p.len > best) {
			best = r->e[i].p.len;
			peer = r->e[i].peer;
		}
	return peer;
}

static void mask(struct wg_prefix *p)
{
	unsigned bytes = p->ip.family == WG_AF_INET ? 4 : 16;

	for (unsigned i = 0; i < bytes; i++) {
		int keep = (int)p->len - (int)i * 8;

		if (keep <= 0)
			p->ip.addr[i] = 0;
		else if (keep < 8)
			p->ip.addr[i] &= (uint8_t)(0xff << (8 - keep));
	}
}

/* Prefixes clustered the way allowed IPs are: most under 10.0.0.0/8 or fd00::/16 and
 * long, some short, some anywhere. */
static struct wg_prefix random_prefix(void)
{
	struct wg_prefix p = { 0 };
	uint32_t r = rnd();

	if (r & 1) {
		p.ip.family = WG_AF_INET;
		for (int i = 0; i < 4; i++)
			p.ip.addr[i] = (uint8_t)rnd();
		if (r & 2) {
			p.ip.addr[0] = 10;
			p.ip.addr[1] = (uint8_t)(rnd() % 4);
		}
		p.len = (uint8_t)((r >> 4) % 4 ? 20 + rnd() % 13 : rnd() % 33);
	} else {
		p.ip.family = WG_AF_INET6;
		for (int i = 0; i < 16; i++)
			p.ip.addr[i] = (uint8_t)rnd();
		if (r & 2) {
			memset(p.ip.addr, 0, 14);
			p.ip.addr[0] = 0xfd;
			p.ip.addr[13] = (uint8_t)(rnd() % 4);
		}
		p.len = (uint8_t)((r >> 4) % 4 ? 100 + rnd() % 29 : rnd() % 129);
	}
	mask(&p);
	return p;
}

static int find(const struct ref *r, const struct wg_prefix *p)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->e[i].live && r->e[i].p.len == p->len &&
		    r->e[i].p.ip.family == p->ip.family &&
		    memcmp(r->e[i].p.ip.addr, p->ip.addr, 16) == 0)
			return (int)i;
	return -1;
}

static struct wg_ip last_of(const struct wg_prefix *p)
{
	struct wg_ip ip = p->ip;
	unsigned bits = p->ip.family == WG_AF_INET ? 32 : 128;

	for (unsigned b = p->len; b < bits; b++)
		ip.addr[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	return ip;
}

/* Every prefix's first and last address and some random ones, one by one and in bursts. */
static void compare(struct wg_allowedips *a, const struct ref *r)
{
	enum { N = 600 };
	static struct wg_ip ips[N];
	const struct wg_ip *ptrs[N];
	uint32_t got[N];
	unsigned n = 0, v4 = 0, v6 = 0;

	for (unsigned i = 0; i < r->n && n + 2 <= N / 2; i++)
		if (r->e[i].live) {
			ips[n++] = r->e[i].p.ip;
			ips[n++] = last_of(&r->e[i].p);
		}
	while (n < N) {
		struct wg_prefix p = random_prefix();

		p.len = p.ip.family == WG_AF_INET ? 32 : 128;
		ips[n++] = p.ip;
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t peer, want = ref_lookup(r, &ips[i]);
		bool hit = wg_allowedips_lookup(a, &ips[i], &peer);

		if (!CHECK_EQ(hit ? peer : WG_ALLOWEDIPS_NONE, want) && getenv("TAI_DEBUG")) {
			char b[WG_ADDR_STRLEN];

			wg_ip_format(b, &ips[i]);
			fprintf(stderr, "  %s: got %u want %u; reference prefixes covering it:\n",
				b, hit ? peer : WG_ALLOWEDIPS_NONE, want);
			for (unsigned k = 0; k < r->n; k++)
				if (covers(&r->e[k].p, &ips[i])) {
					wg_prefix_format(b, &r->e[k].p);
					fprintf(stderr, "    %s -> %u%s\n", b, r->e[k].peer,
						r->e[k].live ? "" : " (removed)");
				}
		}
		ptrs[i] = &ips[i];
	}
	wg_allowedips_lookup_burst(a, ptrs, got, n);   /* more than WG_ALLOWEDIPS_BURST */
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ(got[i], ref_lookup(r, &ips[i]));
	for (unsigned i = 0; i < r->n; i++) {
		uint32_t peer;

		if (!r->e[i].live)
			continue;
		CHECK(wg_allowedips_owner(a, &r->e[i].p, &peer) && peer == r->e[i].peer);
		if (r->e[i].p.ip.family == WG_AF_INET)
			v4++;
		else
			v6++;
	}
	CHECK_EQ(a->n_v4, v4);
	CHECK_EQ(a->n_v6, v6);
}

/* One random change to both the table and the reference. */
static void trace(const char *what, const struct wg_prefix *p, uint32_t peer)
{
	char b[WG_ADDR_STRLEN];

	if (!getenv("TAI_STEP"))
		return;
	wg_prefix_format(b, p);
	fprintf(stderr, "%s %s %u\n", what, b, peer);
}

static void random_change(struct wg_allowedips *a, struct ref *r, unsigned cap)
{
	uint32_t what = rnd() % 10;

	if (what < 2 && r->n > 0) {            /* remove one */
		unsigned i = rnd() % r->n;

		if (r->e[i].live) {
			trace("del", &r->e[i].p, 0);
			CHECK_EQ(wg_allowedips_remove(a, &r->e[i].p), 0);
			r->e[i].live = false;
		}
	} else if (what < 4 && r->n > 0) {     /* move one to another peer */
		unsigned i = rnd() % r->n;

		if (r->e[i].live) {
			r->e[i].peer = rnd() % 5000;
			trace("mov", &r->e[i].p, r->e[i].peer);
			CHECK_EQ(wg_allowedips_insert(a, &r->e[i].p, r->e[i].peer), 0);
		}
	} else if (r->n < cap) {
		struct wg_prefix p = random_prefix();
		uint32_t peer = rnd() % 5000;
		int at = find(r, &p);

		trace("add", &p, peer);
		/* Sized to fit (random IPv6 /100s../128s take up to 13 groups each). */
		if (!CHECK_EQ(wg_allowedips_insert(a, &p, peer), 0)) {
			char b[WG_ADDR_STRLEN];

			wg_prefix_format(b, &p);
			fprintf(stderr, "  refused: %s (%u IPv4, %u IPv6 in the table)\n", b,
				a->n_v4, a->n_v6);
			return;
		}
		if (at >= 0) {
			r->e[at].peer = peer;
		} else {
			r->e[r->n].p = p;
			r->e[r->n].peer = peer;
			r->e[r->n++].live = true;
		}
	}
	{
		struct wg_prefix gone = random_prefix();

		if (find(r, &gone) < 0)               /* absent: refused */
			CHECK_EQ(wg_allowedips_remove(a, &gone), -1);
	}
}

static void test_model(void)
{
	struct wg_allowedips a;
	struct ref r = { calloc(3000, sizeof(struct ref_entry)), 0 };

	CHECK_EQ(wg_allowedips_init(&a, "tm", 5000, 4000, 4000, 4096, 40000, NULL,
				    SOCKET_ID_ANY), 0);
	for (int batch = 0; batch < 40; batch++) {
		unsigned changes = batch % 5 == 0 ? 300 : 1 + rnd() % 40;

		wg_allowedips_begin(&a);
		for (unsigned c = 0; c < changes; c++) {
			random_change(&a, &r, 3000);
			if (getenv("TAI_STEP")) {
				unsigned before = check_failed;

				wg_allowedips_commit(&a);
				compare(&a, &r);
				if (check_failed > before) {
					fprintf(stderr, "first failure at batch %d change %u\n", batch, c);
					exit(1);
				}
			}
		}
		wg_allowedips_commit(&a);
		compare(&a, &r);
	}
	{
		/* Mixed families and an address of none in one burst. */
		struct wg_ip none = { 0 };
		const struct wg_ip *ptrs[3] = { &none, &r.e[0].p.ip, &none };
		uint32_t got[3];

		wg_allowedips_lookup_burst(&a, ptrs, got, 3);
		CHECK_EQ(got[0], WG_ALLOWEDIPS_NONE);
		CHECK_EQ(got[1], ref_lookup(&r, &r.e[0].p.ip));
		CHECK_EQ(got[2], WG_ALLOWEDIPS_NONE);
	}
	/* Peer ids beyond what the table was made for are refused. */
	{
		struct wg_prefix p = random_prefix();

		CHECK_EQ(wg_allowedips_insert(&a, &p, WG_ALLOWEDIPS_MAX_PEER_ID + 1), -1);
	}
	wg_allowedips_destroy(&a);
	free(r.e);
}

static void test_slices(void)
{
	struct wg_allowedips a;
	struct ref r = { calloc(2000, sizeof(struct ref_entry)), 0 };

	CHECK_EQ(wg_allowedips_init(&a, "ts", 5000, 4000, 4000, 4096, 40000, NULL,
				    SOCKET_ID_ANY), 0);
	for (int batch = 0; batch < 12; batch++) {
		unsigned steps = 1, n;

		wg_allowedips_begin(&a);
		for (unsigned c = 0; c < 100; c++)
			random_change(&a, &r, 2000);
		n = a.n_pending;
		wg_allowedips_publish(&a);
		compare(&a, &r);                 /* the whole batch, before any replay */
		while (!wg_allowedips_catch_up(&a, 7))
			steps++;
		CHECK_EQ(steps, (n + 6) / 7);
		compare(&a, &r);
	}
	/* A batch begun while the last one is still being replayed finishes that first. */
	wg_allowedips_begin(&a);
	for (unsigned c = 0; c < 50; c++)
		random_change(&a, &r, 2000);
	wg_allowedips_publish(&a);
	CHECK(!wg_allowedips_catch_up(&a, 1));
	wg_allowedips_begin(&a);
	for (unsigned c = 0; c < 50; c++)
		random_change(&a, &r, 2000);
	wg_allowedips_commit(&a);
	compare(&a, &r);
	wg_allowedips_begin(&a);        /* and the copy readers left has both batches */
	random_change(&a, &r, 2000);
	wg_allowedips_commit(&a);
	compare(&a, &r);
	wg_allowedips_destroy(&a);
	free(r.e);
}

static void test_full(void)
{
	struct wg_allowedips a;
	struct wg_prefix p = { .ip = { .family = WG_AF_INET, .addr = { 10, 1, 0, 5 } }, .len = 32 };
	unsigned ok = 0, refused = 0;
	uint32_t peer;

	/* Eight second-level groups asked for (rte_fib rounds that up to 64): /32s in as
	 * many /24s fit, the next /24 does not. */
	CHECK_EQ(wg_allowedips_init(&a, "tf", 300, 300, 300, 8, 64, NULL, SOCKET_ID_ANY), 0);
	wg_allowedips_begin(&a);
	for (unsigned i = 0; i < 200; i++) {
		p.ip.addr[2] = (uint8_t)i;
		if (wg_allowedips_insert(&a, &p, i) == 0)
			ok++;
		else
			refused++;
	}
	wg_allowedips_commit(&a);
	printf("full: %u /32s in as many /24s went in, %u were refused\n", ok, refused);
	CHECK(ok >= 8 && refused >= 1);
	CHECK_EQ(a.n_v4, ok);
	for (unsigned i = 0; i < 200; i++) {
		bool hit;

		p.ip.addr[2] = (uint8_t)i;
		hit = wg_allowedips_lookup(&a, &p.ip, &peer);
		CHECK_EQ(hit, i < ok);
		CHECK_EQ(wg_allowedips_owner(&a, &p, &peer), i < ok);
		if (hit)
			CHECK_EQ(peer, i);
	}
	/* A short prefix needs no second-level group and still goes in. */
	{
		struct wg_prefix s = { .ip = { .family = WG_AF_INET, .addr = { 192, 168, 0, 0 } },
				       .len = 16 };
		struct wg_ip in = { .family = WG_AF_INET, .addr = { 192, 168, 7, 7 } };

		wg_allowedips_begin(&a);
		CHECK_EQ(wg_allowedips_insert(&a, &s, 77), 0);
		wg_allowedips_commit(&a);
		CHECK(wg_allowedips_lookup(&a, &in, &peer) && peer == 77);
	}
	wg_allowedips_destroy(&a);
}

/* The concurrent test: stable /24s and /120s owned by peer (index + 1), looked up at
 * their .1 while the writer adds and removes longer prefixes inside them: each time a /24
 * gains its first longer prefix it takes a second-level group, and gives it back when the
 * last goes, so groups move between /24s all the time (a reader still in a group that was
 * handed to another /24 would read that /24's owner). */
enum { STABLE = 64, READ_BURST = 32 };

struct reader {
	struct wg_allowedips *a;
	struct rte_rcu_qsbr *rcu;
	struct wg_ip stable[STABLE];
	atomic_bool stop;
	unsigned long lookups, wrong;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	const struct wg_ip *ptrs[READ_BURST];
	uint32_t got[READ_BURST];
	unsigned base = 0;

	rte_rcu_qsbr_thread_register(rd->rcu, 0);
	rte_rcu_qsbr_thread_online(rd->rcu, 0);
	while (!atomic_load(&rd->stop)) {
		for (unsigned i = 0; i < READ_BURST; i++)
			ptrs[i] = &rd->stable[(base + i * 7) % STABLE];
		wg_allowedips_lookup_burst(rd->a, ptrs, got, READ_BURST);
		for (unsigned i = 0; i < READ_BURST; i++)
			rd->wrong += got[i] != (base + i * 7) % STABLE + 1;
		rd->lookups += READ_BURST;
		base++;
		rte_rcu_qsbr_quiescent(rd->rcu, 0);
	}
	rte_rcu_qsbr_thread_offline(rd->rcu, 0);
	rte_rcu_qsbr_thread_unregister(rd->rcu, 0);
	return NULL;
}

static bool seen(const struct wg_prefix *ps, unsigned n, const struct wg_prefix *p)
{
	for (unsigned i = 0; i < n; i++)
		if (ps[i].len == p->len && memcmp(ps[i].ip.addr, p->ip.addr, 16) == 0 &&
		    ps[i].ip.family == p->ip.family)
			return true;
	return false;
}

static void test_concurrent(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *rcu = rte_zmalloc("tc_rcu", sz, RTE_CACHE_LINE_SIZE);
	struct wg_allowedips a;
	struct reader rd = { .a = &a, .rcu = rcu };
	pthread_t t;
	unsigned rounds = 0;

	CHECK(rcu != NULL && rte_rcu_qsbr_init(rcu, 1) == 0);
	CHECK_EQ(wg_allowedips_init(&a, "tc", 5000, 20000, 20000, 2048, 8192, rcu,
				    SOCKET_ID_ANY), 0);
	wg_allowedips_begin(&a);
	for (unsigned i = 0; i < STABLE; i++) {
		struct wg_prefix p = { 0 };

		if (i % 2 == 0) {
			p.ip.family = WG_AF_INET;
			p.ip.addr[0] = 10;
			p.ip.addr[1] = 9;
			p.ip.addr[2] = (uint8_t)(i / 2);
			p.len = 24;
		} else {
			p.ip.family = WG_AF_INET6;
			p.ip.addr[0] = 0xfd;
			p.ip.addr[14] = (uint8_t)(i / 2);
			p.len = 120;
		}
		rd.stable[i] = p.ip;
		rd.stable[i].addr[p.ip.family == WG_AF_INET ? 3 : 15] = 1;
		CHECK_EQ(wg_allowedips_insert(&a, &p, i + 1), 0);
	}
	wg_allowedips_commit(&a);
	atomic_init(&rd.stop, false);
	CHECK_EQ(pthread_create(&t, NULL, reader_main, &rd), 0);
	/* Two seconds of neighbours coming and going: each round fills some of the stable
	 * addresses' /24s (/120s) with more specific prefixes, then empties them again, so
	 * second-level groups are allocated and freed (and reused) under the reader. */
	for (uint64_t end = rte_get_timer_cycles() + 2 * rte_get_timer_hz();
	     rte_get_timer_cycles() < end; rounds++) {
		struct wg_prefix ps[40];

		for (int pass = 0; pass < 2; pass++) {
			wg_allowedips_begin(&a);
			for (unsigned j = 0; j < 40; j++) {
				struct wg_prefix *p = &ps[j];
				unsigned i = (rounds * 13 + j) % STABLE;

				if (pass == 0) {
					memset(p, 0, sizeof(*p));
					p->ip = rd.stable[i];
					if (p->ip.family == WG_AF_INET) {
						p->ip.addr[3] = (uint8_t)(2 + j);
						p->len = (uint8_t)(25 + j % 8);
					} else {
						p->ip.addr[15] = (uint8_t)(2 + j);
						p->len = (uint8_t)(121 + j % 8);
					}
					mask(p);
					if (covers(p, &rd.stable[i]) || seen(ps, j, p)) {
						p->len = 0;   /* covers the stable address, or twice */
						continue;
					}
					CHECK_EQ(wg_allowedips_insert(&a, p, 1000 + j), 0);
				} else if (p->len) {
					CHECK_EQ(wg_allowedips_remove(&a, p), 0);
				}
			}
			wg_allowedips_commit(&a);
		}
	}
	atomic_store(&rd.stop, true);
	pthread_join(t, NULL);
	printf("concurrent: %u rounds of churn, %lu lookups, %lu wrong\n", rounds, rd.lookups,
	       rd.wrong);
	CHECK(rounds > 10 && rd.lookups > 1000);
	CHECK_EQ(rd.wrong, 0);
	wg_allowedips_destroy(&a);
	rte_free(rcu);
}

int main(int argc, char **argv)
{
	char prefix[32];
	char *eal[] = { argv[0], "-l", "0", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
			"--no-telemetry", "--file-prefix", prefix, "--log-level", "*:error",
			NULL };

	(void)argc;
	snprintf(prefix, sizeof(prefix), "tai%ld", (long)getpid());
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "test_allowedips: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	test_model();
	test_slices();
	test_full();
	test_concurrent();
	rte_eal_cleanup();
	return check_report("test_allowedips");
}
