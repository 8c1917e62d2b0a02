/* SPDX-License-Identifier: MIT */
/*
 * Replay window (RFC 6479): a ring of WG_REPLAY_RING_BITS bits, bit (counter mod ring size)
 * standing for that counter. The word holding `greatest` is the top of the window; moving
 * the top forward clears the words it passes over, a whole word at a time, which is why
 * the window is one word short of the ring: the oldest word may be partly stale, and the
 * WG_REPLAY_WINDOW bound refuses everything below the part that is exact.
 *
 * The ring starts all zero, so before the first accepted counter every counter below the
 * limit is fresh, 0 included; `any` keeps "nothing seen" apart from "0 seen".
 */
#include "wg_replay.h"

#include <string.h>

#define WORD_BITS 64u
#define RING_WORDS (WG_REPLAY_RING_BITS / WORD_BITS)

_Static_assert((WG_REPLAY_RING_BITS & (WG_REPLAY_RING_BITS - 1)) == 0,
	       "ring size must be a power of two");
_Static_assert(WG_REPLAY_WINDOW <= WG_REPLAY_RING_BITS - WORD_BITS,
	       "window must leave one word of slack in the ring");

void wg_replay_init(struct wg_replay *r)
{
	memset(r, 0, sizeof(*r));
	atomic_init(&r->writer, 0);
}

bool wg_replay_claim(struct wg_replay *r, uint32_t me, uint32_t *writer)
{
	uint32_t w = atomic_load_explicit(&r->writer, memory_order_relaxed);

	/* A failed compare-and-swap leaves the one who claimed it first in w. */
	if (w == 0 && atomic_compare_exchange_strong_explicit(&r->writer, &w, me,
							      memory_order_relaxed,
							      memory_order_relaxed))
		w = me;
	*writer = w;
	return w == me;
}

static size_t word_of(uint64_t counter)
{
	return (size_t)((counter / WORD_BITS) % RING_WORDS);
}

static uint64_t bit_of(uint64_t counter)
{
	return 1ull << (counter % WORD_BITS);
}

/* Everything but the bit itself: limit, age. Counters above the top are always fresh
 * (their bits are cleared when the top moves), so only the rest need the ring. */
static bool in_window(const struct wg_replay *r, uint64_t counter)
{
	if (counter >= WG_REJECT_AFTER_MESSAGES)
		return false;
	/* No overflow: counter is below the limit, which is 2^13 short of UINT64_MAX. */
	return !r->any || counter + WG_REPLAY_WINDOW >= r->greatest;
}

bool wg_replay_check(const struct wg_replay *r, uint64_t counter)
{
	if (!in_window(r, counter))
		return false;
	if (r->any && counter > r->greatest)
		return true;
	return !(r->ring[word_of(counter)] & bit_of(counter));
}

/* Move the top of the window up to `counter`, clearing the words it enters. Past a whole
 * ring's worth of words every word is cleared once, so the loop is bounded. */
static void advance(struct wg_replay *r, uint64_t counter)
{
	uint64_t top = r->greatest / WORD_BITS;
	uint64_t gap = counter / WORD_BITS - top;

	if (gap > RING_WORDS)
		gap = RING_WORDS;
	for (uint64_t i = 1; i <= gap; i++)
		r->ring[(top + i) % RING_WORDS] = 0;
	r->greatest = counter;
}

bool wg_replay_update(struct wg_replay *r, uint64_t counter)
{
	uint64_t *word;
	uint64_t bit;

	if (!in_window(r, counter))
		return false;
	if (!r->any) {
		r->any = true;
		r->greatest = counter;
	} else if (counter > r->greatest) {
		advance(r, counter);
	}
	word = &r->ring[word_of(counter)];
	bit = bit_of(counter);
	if (*word & bit)
		return false;
	*word |= bit;
	return true;
}
