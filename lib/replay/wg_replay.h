/* SPDX-License-Identifier: MIT */
/*
 * Replay protection for received data messages: a sliding window of WG_REPLAY_WINDOW (8128)
 * counters over a ring of WG_REPLAY_RING_BITS bits, as RFC 6479 describes and the kernel
 * and wireguard-go use. A counter at or past WG_REJECT_AFTER_MESSAGES is always refused.
 *
 * One window belongs to one receiving keypair and is updated by a single writer.
 */
#ifndef WG_REPLAY_H
#define WG_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "wg_wire.h"

struct wg_replay {
	uint64_t greatest;   /* highest counter accepted so far */
	uint64_t ring[WG_REPLAY_RING_BITS / 64];
	bool any;            /* false until the first counter is accepted */
};

void wg_replay_init(struct wg_replay *r);

/* Would this counter be accepted? Changes nothing: for a check before decryption. */
bool wg_replay_check(const struct wg_replay *r, uint64_t counter);

/* Accept the counter of an authenticated packet: false if it is too old, a duplicate or
 * past the message limit; otherwise it is marked as seen. */
bool wg_replay_update(struct wg_replay *r, uint64_t counter);

#endif
