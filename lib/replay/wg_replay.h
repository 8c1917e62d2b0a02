/* SPDX-License-Identifier: MIT */
/*
 * Replay protection for received data messages: a sliding window of WG_REPLAY_WINDOW (8128)
 * counters over a ring of WG_REPLAY_RING_BITS bits, as RFC 6479 describes and the kernel
 * and wireguard-go use. A counter at or past WG_REJECT_AFTER_MESSAGES is always refused.
 *
 * One window belongs to one receiving keypair and has a single writer. Where several
 * threads receive (the gateway's workers), the writer is whoever claims the window first
 * (wg_replay_claim); the others must hand their messages to it rather than update the
 * window themselves: check-then-update is not atomic, and two writers interleaving it can
 * move the window back and accept counters that were already accepted.
 */
#ifndef WG_REPLAY_H
#define WG_REPLAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "wg_wire.h"

struct wg_replay {
	uint64_t greatest;   /* highest counter accepted so far */
	uint64_t ring[WG_REPLAY_RING_BITS / 64];
	bool any;            /* false until the first counter is accepted */
	_Atomic uint32_t writer;   /* who may update it: 0 until claimed, then fixed */
};

void wg_replay_init(struct wg_replay *r);

/* May writer `me` (non-zero) update the window? The first to ask becomes its writer for
 * good; *writer says who it is. Lock-free; one compare-and-swap in the window's life. */
bool wg_replay_claim(struct wg_replay *r, uint32_t me, uint32_t *writer);

/* Would this counter be accepted? Changes nothing: for a check before decryption. */
bool wg_replay_check(const struct wg_replay *r, uint64_t counter);

/* Accept the counter of an authenticated packet: false if it is too old, a duplicate or
 * past the message limit; otherwise it is marked as seen. */
bool wg_replay_update(struct wg_replay *r, uint64_t counter);

#endif
