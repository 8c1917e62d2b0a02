/* SPDX-License-Identifier: MIT */
/*
 * Handshake rate limiter, driven by a fake clock: burst and refill, the sustained rate,
 * sources kept apart (IPv4, IPv6 /64, the family), bounded memory under a flood of distinct
 * sources, and refused input.
 */
#include <stdint.h>

#include "check.h"
#include "wg_ratelimiter.h"
#include "wg_wire.h"

#define MS (WG_NSEC_PER_SEC / 1000)
#define SEC WG_NSEC_PER_SEC
#define T0 (5 * SEC)    /* any start; not 0, to show nothing depends on it */

static const uint8_t v4_a[4] = { 192, 0, 2, 1 };
static const uint8_t v4_b[4] = { 192, 0, 2, 2 };

/* Allowed handshakes out of `tries`, all at one instant. */
static unsigned burst(struct wg_ratelimiter *rl, const uint8_t *addr, size_t len,
		      unsigned tries, uint64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < tries; i++)
		n += wg_ratelimiter_allow(rl, addr, len, now);
	return n;
}

static void test_burst_and_refill(void)
{
	struct wg_ratelimiter *rl = wg_ratelimiter_create(1024);

	CHECK(rl != NULL);
	CHECK_EQ(burst(rl, v4_a, 4, 5, T0), 5);
	CHECK(!wg_ratelimiter_allow(rl, v4_a, 4, T0));
	CHECK(!wg_ratelimiter_allow(rl, v4_a, 4, T0 + 50 * MS - 1));
	/* A refused try costs nothing: the token is whole at 50 ms. */
	CHECK(wg_ratelimiter_allow(rl, v4_a, 4, T0 + 50 * MS));
	CHECK(!wg_ratelimiter_allow(rl, v4_a, 4, T0 + 50 * MS));
	/* Another source is untouched by the first. */
	CHECK_EQ(burst(rl, v4_b, 4, 7, T0 + 50 * MS), 5);
	CHECK_EQ(wg_ratelimiter_active(rl, T0 + 50 * MS), 2);
	/* Idle for an hour: the bucket is capped at the burst, not an hour's worth. */
	CHECK_EQ(burst(rl, v4_a, 4, 10, T0 + 3600 * SEC), 5);
	/* A clock that steps back adds nothing. */
	CHECK(!wg_ratelimiter_allow(rl, v4_a, 4, T0 + 3599 * SEC));
	wg_ratelimiter_free(rl);
}

static void test_sustained(void)
{
	struct wg_ratelimiter *rl = wg_ratelimiter_create(64);
	unsigned at20 = 0, at25 = 0;

	/* 20 a second (one every 50 ms) for 10 s: every one allowed. */
	for (uint64_t t = 0; t <= 10 * SEC; t += 50 * MS)
		at20 += wg_ratelimiter_allow(rl, v4_a, 4, T0 + t);
	CHECK_EQ(at20, 201);
	/* 25 a second for 10 s: the burst of 5 plus 20 a second, 200, and no more. */
	for (uint64_t t = 0; t <= 10 * SEC; t += 40 * MS)
		at25 += wg_ratelimiter_allow(rl, v4_b, 4, T0 + t);
	CHECK_EQ(at25, 205);
	wg_ratelimiter_free(rl);
}

/* One set of 8 ways, so every source meets every other in the key comparison. */
static void test_sources_apart(void)
{
	struct wg_ratelimiter *rl = wg_ratelimiter_create(1);
	const uint8_t v6_a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, [15] = 1 };
	const uint8_t v6_a2[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0xff, 0xff, [15] = 7 };
	const uint8_t v6_b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 3, [15] = 1 };
	/* The IPv6 address whose /64 is 192.0.2.1 followed by zeros. */
	const uint8_t v6_like_v4[16] = { 192, 0, 2, 1 };
	const uint8_t v4_zero[4] = { 0 };
	const uint8_t v6_zero[16] = { 0 };

	CHECK_EQ(burst(rl, v6_a, 16, 5, T0), 5);
	CHECK(!wg_ratelimiter_allow(rl, v6_a2, 16, T0));  /* same /64: same bucket */
	CHECK_EQ(burst(rl, v6_b, 16, 6, T0), 5);          /* next /64: its own */
	CHECK_EQ(burst(rl, v4_a, 4, 6, T0), 5);
	CHECK_EQ(burst(rl, v6_like_v4, 16, 6, T0), 5);    /* same bytes, other family */
	CHECK_EQ(burst(rl, v4_zero, 4, 6, T0), 5);
	CHECK_EQ(burst(rl, v6_zero, 16, 6, T0), 5);
	CHECK_EQ(wg_ratelimiter_active(rl, T0), 6);
	wg_ratelimiter_free(rl);
}

static void put_source(uint8_t addr[4], uint32_t i)
{
	addr[0] = 10;
	addr[1] = (uint8_t)(i >> 16);
	addr[2] = (uint8_t)(i >> 8);
	addr[3] = (uint8_t)i;
}

/* One set: a full set refuses newcomers rather than evict, and frees up as buckets refill. */
static void test_full_set(void)
{
	struct wg_ratelimiter *rl = wg_ratelimiter_create(0);
	uint8_t addr[4];
	unsigned allowed = 0;

	CHECK_EQ(burst(rl, v4_a, 4, 5, T0), 5);           /* an exhausted bucket */
	for (uint32_t i = 0; i < 100; i++) {
		put_source(addr, i);
		allowed += wg_ratelimiter_allow(rl, addr, 4, T0);
	}
	CHECK_EQ(allowed, 7);
	CHECK_EQ(wg_ratelimiter_active(rl, T0), 8);
	/* 50 ms on, the one-handshake buckets are full again and make room; the exhausted one
	 * keeps its entry (evicting it would give it a fresh burst). */
	allowed = 0;
	for (uint32_t i = 100; i < 200; i++) {
		put_source(addr, i);
		allowed += wg_ratelimiter_allow(rl, addr, 4, T0 + 50 * MS);
	}
	CHECK_EQ(allowed, 7);
	CHECK(wg_ratelimiter_allow(rl, v4_a, 4, T0 + 50 * MS));
	CHECK(!wg_ratelimiter_allow(rl, v4_a, 4, T0 + 50 * MS));
	wg_ratelimiter_free(rl);
}

static void test_rounding(void)
{
	struct wg_ratelimiter *rl = wg_ratelimiter_create(100);  /* 128: 16 sets of 8 */
	uint8_t addr[4];

	for (uint32_t i = 0; i < 5000; i++) {
		put_source(addr, i);
		wg_ratelimiter_allow(rl, addr, 4, T0);
	}
	CHECK_EQ(wg_ratelimiter_active(rl, T0), 128);
	CHECK_EQ(wg_ratelimiter_active(rl, T0 + 50 * MS), 0);
	wg_ratelimiter_free(rl);
	CHECK(wg_ratelimiter_create(SIZE_MAX) == NULL);
	CHECK(wg_ratelimiter_create(SIZE_MAX / 2 + 2) == NULL);
}

/* A million distinct sources in 10 ms against a table of 4096: memory stays put, an
 * established source keeps its (empty) bucket, and legitimate sources are served once the
 * flood's buckets have refilled. */
static void test_flood(void)
{
	struct wg_ratelimiter *rl = wg_ratelimiter_create(4096);
	const uint8_t legit[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
	uint8_t addr4[4], addr6[16] = { 0xfd };
	unsigned allowed = 0, over = 0;
	uint64_t t = T0;

	CHECK_EQ(burst(rl, legit, 16, 5, T0), 5);
	for (uint32_t i = 0; i < 1000000; i++, t += 10) {
		/* Half IPv4, half IPv6 in distinct /64s. */
		if (i % 2) {
			put_source(addr4, i);
			allowed += wg_ratelimiter_allow(rl, addr4, 4, t);
		} else {
			memcpy(addr6 + 4, &i, sizeof(i));
			allowed += wg_ratelimiter_allow(rl, addr6, 16, t);
		}
		if (i % 65536 == 0)
			over += wg_ratelimiter_active(rl, t) > 4096;
	}
	CHECK_EQ(over, 0);
	CHECK_EQ(allowed, 4095);                           /* the table, less the legit entry */
	CHECK_EQ(wg_ratelimiter_active(rl, t), 4096);
	CHECK(!wg_ratelimiter_allow(rl, legit, 16, t));    /* still rate-limited, not reset */
	t = T0 + 250 * MS;
	CHECK_EQ(wg_ratelimiter_active(rl, t), 0);
	CHECK(wg_ratelimiter_allow(rl, legit, 16, t));
	CHECK(wg_ratelimiter_allow(rl, v4_a, 4, t));
	CHECK_EQ(wg_ratelimiter_active(rl, t), 2);
	wg_ratelimiter_free(rl);
}

static void test_refused_input(void)
{
	struct wg_ratelimiter *rl = wg_ratelimiter_create(8);
	const uint8_t addr[32] = { 1 };
	static const size_t bad[] = { 0, 1, 3, 5, 8, 15, 17, 32 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!wg_ratelimiter_allow(rl, addr, bad[i], T0));
	CHECK(!wg_ratelimiter_allow(rl, NULL, 4, T0));
	CHECK(!wg_ratelimiter_allow(NULL, addr, 4, T0));
	CHECK_EQ(wg_ratelimiter_active(rl, T0), 0);
	CHECK_EQ(wg_ratelimiter_active(NULL, T0), 0);
	CHECK(wg_ratelimiter_allow(rl, addr, 4, 0));       /* time 0 is a time like any other */
	wg_ratelimiter_free(rl);
	wg_ratelimiter_free(NULL);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	test_burst_and_refill();
	test_sustained();
	test_sources_apart();
	test_full_set();
	test_rounding();
	test_flood();
	test_refused_input();
	return check_report("ratelimiter");
}
