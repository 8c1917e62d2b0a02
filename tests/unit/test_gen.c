/* SPDX-License-Identifier: MIT */
/*
 * The traffic generator's pools (lib/gen): two pools in a row for a few peers, the first
 * laid out in slices as several lcores would, every frame opened as the target would open
 * it (outer headers, receiver index, the counter through a replay window, the tag, the
 * padding, the mark): no counter is used twice within or across pools, and a target's
 * replay window accepts every packet sent once, in order and reordered within a burst,
 * and refuses each a second time. Then the counter limit, plaintext frames, marks that are
 * not ours, IMIX and the latency histogram against a sorted oracle.
 */
#include <stdlib.h>

#include "check.h"
#include "wg_aead.h"
#include "wg_crypto.h"
#include "wg_gen.h"
#include "wg_pkt.h"
#include "wg_replay.h"

#define PEERS 5
#define CAP   1600

static uint8_t keys[PEERS][32];
static struct wg_gen_flow flows[PEERS];
static struct wg_gen_session sess[PEERS];
static struct wg_replay windows[PEERS];
static uint64_t sent[PEERS];            /* packets seen per peer, both pools */

static void setup(void)
{
	static const uint8_t gw_mac[6] = { 2, 0, 0, 0, 0, 1 };

	for (unsigned p = 0; p < PEERS; p++) {
		uint8_t mac[6] = { 2, 0, 0, 0, 1, (uint8_t)p };
		uint8_t src[4] = { 10, 99, 1, (uint8_t)p }, dst[4] = { 10, 99, 0, 1 };

		wg_random(keys[p], 32);
		sess[p] = (struct wg_gen_session){ .key = keys[p],
						   .remote_index = 0x1000u + p,
						   .first_counter = p };   /* p keepalives before */
		wg_gen_outer_template(flows[p].outer, gw_mac, mac, src, dst,
				      (uint16_t)(20000 + p), 51820);
		flows[p].src[0] = 10, flows[p].src[1] = 200, flows[p].src[2] = 0;
		flows[p].src[3] = (uint8_t)(2 + p);
		flows[p].dst[0] = 10, flows[p].dst[1] = 60, flows[p].dst[2] = 0, flows[p].dst[3] = 2;
		flows[p].sport = (uint16_t)(1024 + p);
		flows[p].dport = 9;
		wg_replay_init(&windows[p]);
	}
}

/* Open a data frame as the target does; the peer, counter and mark, or false. */
static bool open_frame(struct wg_aead *ref, uint8_t *f, size_t len, unsigned *peer,
		       uint64_t *counter, struct wg_gen_mark *m, size_t *inner_len)
{
	struct wg_pkt_info pi;
	struct wg_aead_op op;
	uint8_t *msg = f + WG_GEN_OUTER_LEN;
	uint32_t idx;

	if (wg_pkt_parse_frame(&pi, f, len) != 0 || pi.proto != WG_IPPROTO_UDP ||
	    pi.l3_len != len - WG_ETH_HLEN || pi.dport != 51820 ||
	    wg_get_le32(msg) != WG_MSG_DATA)
		return false;
	idx = wg_get_le32(msg + 4);
	if (idx < 0x1000u || idx >= 0x1000u + PEERS)
		return false;
	*peer = idx - 0x1000u;
	*counter = wg_get_le64(msg + 8);
	op = (struct wg_aead_op){ .key = keys[*peer], .buf = msg + 16,
				  .len = (uint32_t)(len - WG_GEN_OUTER_LEN - 32) };
	wg_aead_nonce(op.nonce, *counter);
	if (wg_aead_decrypt_burst(ref, &op, 1) != 1)
		return false;
	*inner_len = (size_t)(msg[16 + 2] << 8 | msg[16 + 3]);
	for (size_t j = *inner_len; j < op.len; j++)
		if (msg[16 + j] != 0)
			return false;
	return wg_gen_padded((uint32_t)*inner_len, 1420) == op.len &&
		wg_gen_read_mark(msg + 16, *inner_len, m);
}

/* One pool of n packets, laid out in `slices` slices; every frame checked. The frames
 * are opened in pool order, except that each burst of 32 is taken backwards (a NIC or a
 * target with several queues reorders within bursts). */
static void pool(struct wg_aead *a, struct wg_aead *ref, const struct wg_gen_plan *pl,
		 uint64_t n, unsigned slices)
{
	uint8_t **frames = calloc(n, sizeof(*frames));
	uint16_t *lens = calloc(n, sizeof(*lens));
	uint64_t made = 0;
	bool all_ok = true, all_once = true, all_refused = true;

	for (uint64_t i = 0; i < n; i++)
		frames[i] = malloc(CAP);
	for (unsigned s = 0; s < slices; s++) {
		uint64_t from = n * s / slices, to = n * (s + 1) / slices;

		made += wg_gen_fill_data(a, frames + from, CAP, lens + from, pl, flows, sess, from,
					 to);
	}
	CHECK_EQ(made, n);
	for (uint64_t b = 0; b < n; b += 32) {
		uint64_t e = b + 32 < n ? b + 32 : n;

		for (uint64_t i = e; i-- > b;) {
			unsigned peer;
			uint64_t counter;
			struct wg_gen_mark m;
			size_t inner;
			bool ok = open_frame(ref, frames[i], lens[i], &peer, &counter, &m, &inner);

			all_ok &= ok && peer == i % PEERS && m.peer == peer && m.index == i &&
				  m.run == pl->run && m.dir == pl->dir &&
				  inner == pl->sizes[i % pl->n_sizes] &&
				  lens[i] == wg_gen_data_frame_len(pl, i);
			if (!ok)
				continue;
			all_once &= wg_replay_check(&windows[peer], counter) &&
				    wg_replay_update(&windows[peer], counter);
			all_refused &= !wg_replay_check(&windows[peer], counter);
			sent[peer]++;
		}
	}
	CHECK(all_ok);
	CHECK(all_once);      /* never a counter refused, so none was used twice */
	CHECK(all_refused);   /* and each refused the second time */
	for (unsigned p = 0; p < PEERS; p++)
		sess[p].first_counter += wg_gen_peer_count(pl, n, p);
	for (uint64_t i = 0; i < n; i++)
		free(frames[i]);
	free(frames);
	free(lens);
}

static void test_pools(void)
{
	struct wg_aead *a = wg_aead_create(), *ref = wg_aead_create_engine(WG_AEAD_REF);
	uint16_t imix[24], fixed[1] = { 64 };
	struct wg_gen_plan pl = { .n_peers = PEERS, .sizes = imix, .n_sizes = 24, .run = 7,
				  .dir = 0, .mtu = 1420 };
	uint64_t expect[PEERS];

	CHECK(a != NULL && ref != NULL);
	if (a == NULL || ref == NULL)
		return;
	CHECK_EQ(wg_gen_imix(imix, 24, 1), 24);
	pool(a, ref, &pl, 1003, 3);
	pl.run = 8;
	pool(a, ref, &pl, 777, 1);
	pl.sizes = fixed;
	pl.n_sizes = 1;
	pl.run = 9;
	pool(a, ref, &pl, 64, 2);
	for (unsigned p = 0; p < PEERS; p++) {
		expect[p] = 1003 / PEERS + (p < 1003 % PEERS) + 777 / PEERS + (p < 777 % PEERS) +
			    64 / PEERS + (p < 64 % PEERS);
		CHECK_EQ(sent[p], expect[p]);
		/* The windows saw exactly the counters first..first+sent-1. */
		CHECK_EQ(windows[p].greatest, p + expect[p] - 1);
		CHECK_EQ(sess[p].first_counter, p + expect[p]);
	}
	wg_aead_free(a);
	wg_aead_free(ref);
}

static void test_limit(void)
{
	uint16_t sz[1] = { 100 };
	struct wg_gen_plan pl = { .n_peers = 1, .sizes = sz, .n_sizes = 1, .mtu = 1420 };
	struct wg_gen_session s = { .key = keys[0], .first_counter = WG_REJECT_AFTER_MESSAGES - 2 };
	struct wg_aead *a = wg_aead_create();
	uint8_t f0[CAP], f1[CAP], f2[CAP];
	uint8_t *frames[3] = { f0, f1, f2 };
	uint16_t lens[3];
	struct wg_aead_op op;

	CHECK_EQ(wg_gen_fill_data(a, frames, CAP, lens, &pl, flows, &s, 0, 3), 2);
	CHECK_EQ(wg_gen_layout_data(f0, CAP, &pl, flows, &s, 2, &op), 0);
	CHECK_EQ(wg_gen_layout_data(f0, 100, &pl, flows, &s, 0, &op), 0);   /* too small */
	sz[0] = WG_GEN_INNER_MIN - 1;
	s.first_counter = 0;
	CHECK_EQ(wg_gen_layout_data(f0, CAP, &pl, flows, &s, 0, &op), 0);
	wg_aead_free(a);
}

static void test_plain_and_marks(void)
{
	uint16_t sz[2] = { 52, 1420 };
	struct wg_gen_plan pl = { .n_peers = PEERS, .sizes = sz, .n_sizes = 2, .run = 3,
				  .dir = 1, .mtu = 1420 };
	uint8_t f[CAP];
	struct wg_gen_mark m;
	size_t len;

	len = wg_gen_layout_plain(f, sizeof(f), &pl, flows, 0);
	CHECK_EQ(len, 14 + 52);                   /* above the Ethernet minimum: no padding */
	len = wg_gen_layout_plain(f, sizeof(f), &pl, flows, 1);
	CHECK_EQ(len, 14 + 1420);
	CHECK(wg_gen_read_mark(f + 14, 1420, &m) && m.index == 1 && m.peer == 1 && m.dir == 1 &&
	      m.run == 3);
	CHECK(wg_gen_read_mark(f + 14, len - 14 + 10, &m));   /* trailing bytes are allowed */
	CHECK(!wg_gen_read_mark(f + 14, 1419, &m));           /* truncated */
	f[14 + 1000] ^= 1;
	CHECK(!wg_gen_read_mark(f + 14, 1420, &m));           /* corrupted payload */
	f[14 + 1000] ^= 1;
	f[14 + 28] ^= 1;
	CHECK(!wg_gen_read_mark(f + 14, 1420, &m));           /* not our magic */
	f[14 + 28] ^= 1;
	f[14 + 10] ^= 1;
	CHECK(!wg_gen_read_mark(f + 14, 1420, &m));           /* bad IPv4 checksum */
	CHECK(!wg_gen_read_mark(f, 10, &m));
	CHECK_EQ(wg_gen_layout_plain(f, 100, &pl, flows, 1), 0);
	CHECK_EQ(wg_gen_padded(0, 1420), 0);
	CHECK_EQ(wg_gen_padded(1, 1420), 16);
	CHECK_EQ(wg_gen_padded(1419, 1420), 1420);
	CHECK_EQ(wg_gen_padded(1420, 1420), 1420);
	CHECK_EQ(wg_gen_padded(1500, 1420), 1500);
}

static void test_imix(void)
{
	uint16_t s[48];
	unsigned n64 = 0, n576 = 0, n1420 = 0;

	CHECK_EQ(wg_gen_imix(s, 13, 1), 0);
	CHECK_EQ(wg_gen_imix(s, 48, 5), 48);
	for (unsigned i = 0; i < 48; i++) {
		n64 += s[i] == 64;
		n576 += s[i] == 576;
		n1420 += s[i] == 1420;
	}
	CHECK(n64 == 28 && n576 == 16 && n1420 == 4);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_hist(void)
{
	static struct wg_gen_hist h, h2, all;
	enum { N = 20000 };
	uint64_t *v = malloc(N * sizeof(*v)), x = 12345;
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
	bool within = true;

	for (unsigned i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = 100 + x % (1u << (10 + i % 12));   /* 100 ns .. 4 ms, skewed */
		wg_gen_hist_add(i % 2 ? &h : &h2, v[i]);
	}
	wg_gen_hist_merge(&all, &h);
	wg_gen_hist_merge(&all, &h2);
	qsort(v, N, sizeof(*v), cmp_u64);
	CHECK_EQ(all.n, N);
	CHECK_EQ(all.min_ns, v[0]);
	CHECK_EQ(all.max_ns, v[N - 1]);
	for (unsigned k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		uint64_t exact = v[(size_t)(qs[k] * N + 0.5) - 1], got = wg_gen_hist_quantile(&all, qs[k]);

		/* a bucket is 1/8 of its power of two wide: at most 12.5% above, never below */
		within &= got >= exact && got <= exact + exact / 8 + 1;
	}
	CHECK(within);
	CHECK_EQ(wg_gen_hist_quantile(&(struct wg_gen_hist){ 0 }, 0.5), 0);
	free(v);
}

int main(void)
{
	if (wg_crypto_init() != 0)
		return 1;
	setup();
	test_pools();
	test_limit();
	test_plain_and_marks();
	test_imix();
	test_hist();
	return check_report("test_gen");
}
