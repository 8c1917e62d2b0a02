/* SPDX-License-Identifier: MIT */
/*
 * The protocol's timer rules (whitepaper section 6), as plain functions of the peer's timer
 * state, an event and the time, so that a fake clock can drive them. Times are monotonic
 * nanoseconds; a deadline of 0 means "not armed". Nothing here sends anything: wg_timers_poll
 * returns what is due and the caller acts on it.
 *
 * The timers, each armed and disarmed by the event hooks below:
 *   retransmit    REKEY_TIMEOUT + jitter after an initiation is sent: send it again, up to
 *                 MAX_TIMER_HANDSHAKES times, then give up (drop queued packets, stop).
 *   keepalive     KEEPALIVE_TIMEOUT after data is received with nothing sent back: send an
 *                 empty data message; armed again if more data arrived meanwhile.
 *   new_handshake KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter after data is sent with nothing
 *                 received: the session looks dead, start a new handshake.
 *   zero_keys     3 * REJECT_AFTER_TIME after a session is derived (or after giving up):
 *                 erase every keypair and the handshake state.
 *   persistent    persistent_keepalive seconds after any authenticated packet goes either
 *                 way, if configured: send an empty data message.
 */
#ifndef WG_TIMERS_H
#define WG_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "wg_wire.h"

struct wg_timers {
	uint64_t retransmit;
	uint64_t keepalive;
	uint64_t new_handshake;
	uint64_t zero_keys;
	uint64_t persistent;
	uint32_t handshake_attempts;   /* retransmissions of the current handshake */
	uint16_t persistent_interval;  /* seconds, 0 = off */
	bool keepalive_again;          /* data arrived while the keepalive timer was armed */
};

/* What wg_timers_poll says is due; a bit set each. */
enum wg_timer_action {
	WG_TIMER_SEND_INITIATION = 1u << 0,  /* retransmit, or a new handshake */
	WG_TIMER_SEND_KEEPALIVE  = 1u << 1,
	WG_TIMER_GIVE_UP         = 1u << 2,  /* drop the packets waiting for a handshake */
	WG_TIMER_ZERO_KEYS       = 1u << 3,
};

void wg_timers_init(struct wg_timers *t, uint16_t persistent_interval);

/* Event hooks; each states when the caller must call it. jitter_ns is a random value in
 * [0, WG_REKEY_TIMEOUT_JITTER_MAX_MS ms) supplied by the caller, so tests can fix it. */

/* An authenticated data message with a non-empty payload was sent. */
void wg_timers_data_sent(struct wg_timers *t, uint64_t now, uint64_t jitter_ns);
/* An authenticated data message with a non-empty payload was received. */
void wg_timers_data_received(struct wg_timers *t, uint64_t now);
/* Any authenticated message (data, keepalive or handshake) was sent. */
void wg_timers_any_authenticated_sent(struct wg_timers *t, uint64_t now);
/* Any authenticated message (data, keepalive or handshake) was received. */
void wg_timers_any_authenticated_received(struct wg_timers *t, uint64_t now);
/* Any authenticated message went either way (for the persistent keepalive). */
void wg_timers_any_authenticated_traversal(struct wg_timers *t, uint64_t now);
/* A handshake initiation was sent (first try or retry). */
void wg_timers_handshake_initiated(struct wg_timers *t, uint64_t now, uint64_t jitter_ns);
/* A handshake completed (response consumed, or first data on a responder's keypair). */
void wg_timers_handshake_complete(struct wg_timers *t, uint64_t now);
/* A new keypair was derived. */
void wg_timers_session_derived(struct wg_timers *t, uint64_t now);
/* Change the persistent keepalive interval (seconds, 0 = off). */
void wg_timers_set_persistent(struct wg_timers *t, uint16_t interval, uint64_t now);

/* Everything due at `now`, as a mask of enum wg_timer_action. Expired timers are disarmed
 * (the keepalive is re-armed if keepalive_again was set); calling again at the same time
 * returns 0.
 *
 * SEND_INITIATION counts a retry in handshake_attempts (a new_handshake expiry instead
 * starts the count over). Poll does not re-arm the retransmit timer: the caller sends the
 * initiation (if wg_timers_may_initiate allows) and then calls the hooks for it, among them
 * wg_timers_handshake_initiated, which re-arms it; an initiation not sent ends the retries.
 * GIVE_UP comes after MAX_TIMER_HANDSHAKES retries (the initiation at 0 s, retries at 5 s
 * ... 90 s, give up at 95 s, plus jitter) and resets the count for the next handshake.
 * Likewise a SEND_KEEPALIVE the caller sends disarms the keepalive through
 * wg_timers_any_authenticated_sent, as in the kernel.
 * jitter_ns is not used at present: nothing poll re-arms takes jitter. */
unsigned wg_timers_poll(struct wg_timers *t, uint64_t now, uint64_t jitter_ns);

/* The earliest armed deadline, or 0 if none: when the caller must poll next. */
uint64_t wg_timers_next(const struct wg_timers *t);

/* Rules that depend on a keypair rather than on a timer; inline, as the data path asks
 * them for every packet. */

static inline uint64_t wg_timers_since(uint64_t then, uint64_t now)
{
	return now > then ? now - then : 0;
}

/* Should sending on a keypair born at `birth` with `send_counter` messages sent start a new
 * handshake? (REKEY_AFTER_MESSAGES, or REKEY_AFTER_TIME for the initiator.) */
static inline bool wg_timers_rekey_on_send(uint64_t birth, uint64_t send_counter,
					   bool initiator, uint64_t now)
{
	return send_counter > WG_REKEY_AFTER_MESSAGES ||
	       (initiator && wg_timers_since(birth, now) >= WG_REKEY_AFTER_TIME * WG_NSEC_PER_SEC);
}

/* Should receiving on such a keypair start one? (Initiator only, at REKEY_ON_RECEIVE_TIME.) */
static inline bool wg_timers_rekey_on_receive(uint64_t birth, bool initiator, uint64_t now)
{
	return initiator &&
	       wg_timers_since(birth, now) >= WG_REKEY_ON_RECEIVE_TIME * WG_NSEC_PER_SEC;
}

/* May a keypair born at `birth` with `counter` messages still be used to send or receive? */
static inline bool wg_timers_keypair_usable(uint64_t birth, uint64_t counter, uint64_t now)
{
	return wg_timers_since(birth, now) < WG_REJECT_AFTER_TIME * WG_NSEC_PER_SEC &&
	       counter < WG_REJECT_AFTER_MESSAGES;
}
/* May a new initiation be sent, the last one having gone at `last_sent` (0 = never)?
 * At most one per REKEY_TIMEOUT. */
bool wg_timers_may_initiate(uint64_t last_sent, uint64_t now);

#endif
