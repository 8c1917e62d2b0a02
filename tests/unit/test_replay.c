/* SPDX-License-Identifier: MIT */
/*
 * Replay window: tables of counters with the expected verdict, in the spirit of the
 * kernel's selftest, then a long random run against a naive oracle (a bitmap of every
 * counter seen, plus the greatest). Then the single-writer rule: the interleaving of two
 * receiving workers that made replays acceptable, before and with the claim, and claims
 * racing on several threads.
 *
 * The rule under test: refuse counter >= WG_REJECT_AFTER_MESSAGES, refuse
 * counter + WG_REPLAY_WINDOW < greatest (too old), refuse a counter already seen. So with
 * greatest G, G - 8128 is still in the window and G - 8129 is too old.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"
#include "wg_replay.h"

#define W WG_REPLAY_WINDOW
#define LIMIT WG_REJECT_AFTER_MESSAGES

struct step {
	uint64_t counter;
	bool ok;
};

struct table {
	const char *name;
	const struct step *steps;
	size_t n;
};

static const struct step zero_first[] = {
	{ 0, true }, { 0, false }, { 1, true }, { 1, false }, { 3, true }, { 2, true },
	{ 2, false }, { 4, true }, { 0, false },
};

static const struct step out_of_order[] = {
	{ 10, true }, { 8, true }, { 9, true }, { 8, false }, { 12, true }, { 11, true },
	{ 10, false }, { 0, true }, { 0, false }, { 7, true }, { 12, false },
};

/* The first counter need not be 0; then the edge of the window, on both sides. */
static const struct step edge[] = {
	{ 10000, true },
	{ 10000 - W, true },       /* 1872 + 8128 == 10000: not below, accepted */
	{ 10000 - W - 1, false },  /* 1871 + 8128 < 10000: too old */
	{ 10000 - W, false },      /* now a duplicate */
	{ 9999, true },
	{ 10001, true },           /* the window moves up by one... */
	{ 10000 - W + 1, true },   /* ...1873 is the new edge, still fresh */
	{ 10000 - W + 1, false },
	{ 10000 - W, false },      /* 1872 is too old now (and seen) */
	{ 10000 - W - 1, false },
	{ 10000 - W + 2, true },
};

/*
 * The oldest ring word survives a move of the top by 127 words: its bits must still count.
 * 100 sits in word 1; 8228 = 100 + W sits in word 128, which is ring word 0, so the move
 * clears ring words 2..127 and 0 but not 1.
 */
static const struct step oldest_word[] = {
	{ 100, true },
	{ 100 + W, true },
	{ 100, false },            /* at the edge and remembered: a duplicate */
	{ 101, true },             /* same word, never seen */
	{ 99, false },             /* too old */
	{ 100 + W + 1, true },
	{ 100, false },            /* too old now */
	{ 102, true },
	{ 101, false },
};

/*
 * Moves that alias ring positions: the bits of old counters must be cleared.
 * 768 % 8192 == 992000 % 8192, and 8960 == 768 + 8192.
 */
static const struct step jumps[] = {
	{ 0, true }, { 5, true }, { 768, true },
	{ 768 + 8192 - 64, true }, /* top moves 127 words: ring word 12 (768's) kept */
	{ 768, false },            /* exactly at the edge, seen */
	{ 767, false },            /* too old */
	{ 768 + 8192, true },      /* same ring bit as 768, cleared by the move */
	{ 768 + 8192, false },
	{ 1000000, true },         /* far past the window: the whole ring is cleared */
	{ 5, false }, { 768, false }, { 768 + 8192, false },
	{ 1000000 - 8000, true },  /* same ring bit as 768 */
	{ 1000000 - W, true },
	{ 1000000 - W - 1, false },
	{ 1000000 - 1, true },
	{ 1000000, false },
	{ UINT64_C(1) << 40, true },
	{ 1000001, false },
	{ (UINT64_C(1) << 40) - W, true },
	{ (UINT64_C(1) << 40) - 1, true },
	{ (UINT64_C(1) << 40) - 1, false },
};

static const struct step limit[] = {
	{ LIMIT - 2, true },
	{ LIMIT - 1, true },       /* the last counter that may ever be accepted */
	{ LIMIT, false },
	{ LIMIT + 1, false },
	{ UINT64_MAX, false },
	{ LIMIT - 1, false },
	{ LIMIT - 2, false },
	{ LIMIT - 3, true },
	{ LIMIT - 1 - W, true },
	{ LIMIT - 2 - W, false },
};

static const struct step limit_first[] = {
	{ LIMIT, false },          /* refused even as the first counter... */
	{ UINT64_MAX, false },
	{ 0, true },               /* ...and leaves the window untouched */
	{ LIMIT - 1, true },
	{ 0, false },
};

#define TABLE(t) { #t, t, sizeof(t) / sizeof((t)[0]) }

static const struct table tables[] = {
	TABLE(zero_first), TABLE(out_of_order), TABLE(edge), TABLE(oldest_word),
	TABLE(jumps), TABLE(limit), TABLE(limit_first),
};

/* Each step: check must agree with update and must not change the window. */
static void run_table(const struct table *t)
{
	struct wg_replay r, before;

	wg_replay_init(&r);
	for (size_t i = 0; i < t->n; i++) {
		const struct step *s = &t->steps[i];
		bool checked, updated;

		memcpy(&before, &r, sizeof(r));
		checked = wg_replay_check(&r, s->counter);
		CHECK(memcmp(&before, &r, sizeof(r)) == 0);
		updated = wg_replay_update(&r, s->counter);
		if (!check_at(checked == s->ok && updated == s->ok, __FILE__, __LINE__,
			      "table step"))
			fprintf(stderr, "  table %s step %zu: counter %llu expected %d, "
				"check %d update %d\n", t->name, i,
				(unsigned long long)s->counter, s->ok, checked, updated);
	}
}

static void test_in_order(void)
{
	struct wg_replay r;
	unsigned bad = 0;

	wg_replay_init(&r);
	for (uint64_t c = 0; c < 100000; c++) {
		bad += !wg_replay_update(&r, c);
		bad += wg_replay_update(&r, c);
		if (c >= 1)
			bad += wg_replay_update(&r, c - 1);
	}
	CHECK_EQ(bad, 0);
}

/* Top at 20000, then everything below it, newest first: exactly W of them are fresh. */
static void test_backwards(void)
{
	struct wg_replay r;
	uint64_t accepted = 0;

	wg_replay_init(&r);
	CHECK(wg_replay_update(&r, 20000));
	for (uint64_t c = 19999; c > 0; c--)
		accepted += wg_replay_update(&r, c);
	accepted += wg_replay_update(&r, 0);
	CHECK_EQ(accepted, W);
	CHECK(!wg_replay_check(&r, 20000 - W));
	CHECK(!wg_replay_check(&r, 20000 - W - 1));
	CHECK(wg_replay_check(&r, 20001));
}

/* splitmix64: a fixed, portable sequence so a failure can be replayed. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* The oracle: every counter seen, relative to a base, in a plain bitmap. */
#define SPAN (UINT64_C(1) << 21)

struct oracle {
	uint64_t base, greatest;
	bool any;
	uint8_t seen[SPAN / 8];
};

static bool oracle_update(struct oracle *o, uint64_t counter)
{
	uint64_t rel = counter - o->base;

	if (counter >= LIMIT || (o->any && counter + W < o->greatest))
		return false;
	if (o->seen[rel / 8] & (1u << (rel % 8)))
		return false;
	o->seen[rel / 8] |= (uint8_t)(1u << (rel % 8));
	if (!o->any || counter > o->greatest)
		o->greatest = counter;
	o->any = true;
	return true;
}

/* Mostly small steps up, some steps back into and past the window, duplicates, and now and
 * then a jump of about the window or the ring. */
static uint64_t pick(uint64_t *rng, uint64_t top)
{
	uint64_t x = next_random(rng), r = x >> 8;

	switch (x % 100) {
	case 0:
		return top + r % 20000;
	case 1:
		return top + W - 2 + r % 5 - 4000 * (r % 2);
	default:
		break;
	}
	if (x % 100 < 45)
		return top + 1 + r % 16;
	if (x % 100 < 60)
		return top - r % 16;
	if (x % 100 < 95)
		return top - r % (W + 64);
	return top - W - 1 + r % 3;
}

static unsigned random_round(struct oracle *o, uint64_t base, uint64_t *rng, unsigned ops)
{
	struct wg_replay r;
	unsigned mismatches = 0;
	uint64_t span = base > UINT64_MAX - SPAN ? UINT64_MAX - base : SPAN;

	wg_replay_init(&r);
	memset(o, 0, sizeof(*o));
	o->base = base;
	for (unsigned i = 0; i < ops; i++) {
		uint64_t top = o->any ? o->greatest : base + W + 100;
		uint64_t c = pick(rng, top);
		bool want, checked;

		if (c < base || c - base >= span)
			continue;
		checked = wg_replay_check(&r, c);
		want = oracle_update(o, c);
		mismatches += checked != want;
		mismatches += wg_replay_update(&r, c) != want;
	}
	return mismatches;
}

static void test_random(void)
{
	static struct oracle o;
	uint64_t rng = 0x5eed;
	unsigned mismatches = 0;

	for (unsigned round = 0; round < 40; round++) {
		uint64_t base = round % 4 == 0 ? 0 : next_random(&rng) >> 2;

		if (round % 4 == 3)       /* run into the message limit */
			base = LIMIT - 1000000 - next_random(&rng) % 500000;
		mismatches += random_round(&o, base, &rng, 10000);
	}
	CHECK_EQ(mismatches, 0);
}

/* ---- two receivers, one window (issue: replays accepted across workers) ---- */

/* Worker A receives counters 0..8000 on a keypair; then worker B handles 9000 (a copy
 * someone re-sent with another source port, so RSS put it on B's queue) while A goes on
 * with 8001..10000; then 10001 arrives. How many of the counters 8001..10000, every one
 * already accepted, are accepted again when they are replayed? */
static unsigned replays_after(struct wg_replay *shared, void (*b_handles_9000)(struct
			      wg_replay *, struct wg_replay *))
{
	struct wg_replay snapshot;
	unsigned again = 0;
	uint32_t who;

	wg_replay_init(shared);
	CHECK(wg_replay_claim(shared, 1, &who) && who == 1);      /* A's first packet */
	for (uint64_t c = 0; c <= 8000; c++)
		CHECK(wg_replay_update(shared, c));
	snapshot = *shared;                                     /* what B reads */
	for (uint64_t c = 8001; c <= 10000; c++)
		CHECK(wg_replay_update(shared, c));
	b_handles_9000(shared, &snapshot);
	CHECK(wg_replay_update(shared, 10001));
	for (uint64_t c = 8001; c <= 10000; c++)
		again += wg_replay_update(shared, c);
	return again;
}

/* Two writers, as before the fix: B updates the window it read at greatest 8000, and its
 * writes (the words its advance cleared, the bit, greatest = 9000) land after A's. */
static void b_writes_stale(struct wg_replay *shared, struct wg_replay *seen)
{
	uint64_t first = 8000 / 64 + 1, last = 9000 / 64;

	CHECK(wg_replay_update(seen, 9000));
	for (uint64_t w = first; w <= last; w++)
		shared->ring[w % (WG_REPLAY_RING_BITS / 64)] =
			seen->ring[w % (WG_REPLAY_RING_BITS / 64)];
	shared->greatest = seen->greatest;
}

/* One writer: B may not update a window A has claimed, and hands the message to A, which
 * checks it against the window as it is. */
static void b_hands_to_owner(struct wg_replay *shared, struct wg_replay *seen)
{
	uint32_t who = 0;

	(void)seen;
	CHECK(!wg_replay_claim(shared, 2, &who));
	CHECK_EQ(who, 1);
	CHECK(!wg_replay_update(shared, 9000));                /* A: already seen */
}

static void test_two_receivers(void)
{
	static struct wg_replay w;

	/* The interleaving really does what the review found: 1,936 replays accepted. */
	CHECK_EQ(replays_after(&w, b_writes_stale), 1936);
	CHECK_EQ(replays_after(&w, b_hands_to_owner), 0);
}

/* Racing claims: exactly one thread wins each window, and every thread agrees on who. */
#define CLAIM_THREADS 4
#define CLAIM_WINDOWS 2000

static struct wg_replay claim_w[CLAIM_WINDOWS];
static uint32_t claim_seen[CLAIM_THREADS][CLAIM_WINDOWS];
static unsigned claim_won[CLAIM_THREADS];
static atomic_uint claim_go;

static void *claimer(void *arg)
{
	uint32_t me = (uint32_t)(uintptr_t)arg;

	atomic_fetch_add(&claim_go, 1);
	while (atomic_load(&claim_go) < CLAIM_THREADS)
		;
	for (unsigned i = 0; i < CLAIM_WINDOWS; i++)
		claim_won[me - 1] += wg_replay_claim(&claim_w[i], me, &claim_seen[me - 1][i]);
	return NULL;
}

static void test_claim_race(void)
{
	pthread_t t[CLAIM_THREADS];
	unsigned won = 0, disagree = 0;

	for (unsigned i = 0; i < CLAIM_WINDOWS; i++)
		wg_replay_init(&claim_w[i]);
	for (uintptr_t k = 0; k < CLAIM_THREADS; k++)
		CHECK(pthread_create(&t[k], NULL, claimer, (void *)(k + 1)) == 0);
	for (unsigned k = 0; k < CLAIM_THREADS; k++)
		pthread_join(t[k], NULL);
	for (unsigned k = 0; k < CLAIM_THREADS; k++)
		won += claim_won[k];
	for (unsigned i = 0; i < CLAIM_WINDOWS; i++)
		for (unsigned k = 1; k < CLAIM_THREADS; k++)
			disagree += claim_seen[k][i] != claim_seen[0][i] || claim_seen[k][i] == 0;
	CHECK_EQ(won, CLAIM_WINDOWS);
	CHECK_EQ(disagree, 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		run_table(&tables[i]);
	test_in_order();
	test_backwards();
	test_random();
	test_two_receivers();
	test_claim_race();
	return check_report("replay");
}
