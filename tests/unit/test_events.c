/* SPDX-License-Identifier: MIT */
/* The peer event ring: order, the cursor, the oldest lost first and counted. */
#include <string.h>

#include "check.h"
#include "wg_events.h"

static void push_n(struct wg_events *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct wg_peer_event ev = { .kind = WG_PEER_EVENT_HANDSHAKE };

		ev.public_key[0] = (uint8_t)i;
		wg_events_push(r, &ev);
	}
}

int main(void)
{
	struct wg_events *r = wg_events_create(4);
	struct wg_peer_event out[8];
	uint64_t lost, next;
	size_t n;

	if (!CHECK(r != NULL))
		return check_report("events");
	/* Empty: nothing, and the cursor to keep is the next seq. */
	CHECK_EQ(wg_events_read(r, 0, out, 8, &lost, &next), 0);
	CHECK_EQ(lost, 0);
	CHECK_EQ(next, 1);
	push_n(r, 3);
	n = wg_events_read(r, 0, out, 8, &lost, &next);
	CHECK_EQ(n, 3);
	CHECK_EQ(out[0].seq, 1);
	CHECK_EQ(out[2].seq, 3);
	CHECK_EQ(out[2].public_key[0], 2);
	CHECK_EQ(next, 4);
	/* From the cursor on only. */
	CHECK_EQ(wg_events_read(r, 4, out, 8, &lost, &next), 0);
	CHECK_EQ(next, 4);
	CHECK_EQ(wg_events_read(r, 2, out, 1, &lost, &next), 1);
	CHECK_EQ(out[0].seq, 2);
	CHECK_EQ(next, 3);
	/* Full: the oldest go first, and a cursor behind them is told how many. */
	push_n(r, 5);             /* seqs 1..8, the ring holds 5..8 */
	CHECK_EQ(wg_events_oldest_seq(r), 5);
	CHECK_EQ(wg_events_dropped(r), 4);
	n = wg_events_read(r, 2, out, 8, &lost, &next);
	CHECK_EQ(n, 4);
	CHECK_EQ(lost, 3);        /* 2, 3, 4 */
	CHECK_EQ(out[0].seq, 5);
	CHECK_EQ(out[3].seq, 8);
	CHECK_EQ(next, 9);
	n = wg_events_read(r, 0, out, 8, &lost, &next);
	CHECK_EQ(n, 4);
	CHECK_EQ(lost, 0);
	/* A cursor from the future reads nothing and is kept. */
	CHECK_EQ(wg_events_read(r, 100, out, 8, &lost, &next), 0);
	CHECK_EQ(next, 100);
	CHECK(strcmp(wg_peer_event_word(WG_PEER_EVENT_ROAMED), "roamed") == 0);
	CHECK(strcmp(wg_peer_event_word(99), "unknown") == 0);
	wg_events_free(r);
	return check_report("events");
}
