/* SPDX-License-Identifier: MIT */
/*
 * The protocol's timers (whitepaper section 6, and the Linux driver's timers.c), kept as
 * deadlines in a plain struct. The hooks arm and disarm them; wg_timers_poll fires the
 * expired ones and says what the caller must do. See wg_timers.h for every timer's purpose.
 *
 * Poll never re-arms the retransmit timer itself: the caller sends the initiation and calls
 * wg_timers_handshake_initiated, as after any initiation. The retransmit timer thus only
 * runs while initiations really go out, and every initiation, first or retry, takes one
 * path through the caller.
 */
#include "wg_timers.h"

#include <string.h>

#include "wg_wire.h"

#define SEC WG_NSEC_PER_SEC

void wg_timers_init(struct wg_timers *t, uint16_t persistent_interval)
{
	memset(t, 0, sizeof(*t));
	t->persistent_interval = persistent_interval;
}

/* A deadline `delay` after now: never 0 (delay is never 0), saturating rather than wrap. */
static uint64_t after(uint64_t now, uint64_t delay)
{
	return now > UINT64_MAX - delay ? UINT64_MAX : now + delay;
}

static bool armed(uint64_t deadline)
{
	return deadline != 0;
}

/* Fire a timer: true, and disarmed, if it was armed and its deadline has come. */
static bool expire(uint64_t *deadline, uint64_t now)
{
	if (!armed(*deadline) || *deadline > now)
		return false;
	*deadline = 0;
	return true;
}

/* Time since `then`; 0 if the clock reads earlier, so nothing expires by a step back. */
static uint64_t since(uint64_t then, uint64_t now)
{
	return now > then ? now - then : 0;
}

void wg_timers_data_sent(struct wg_timers *t, uint64_t now, uint64_t jitter_ns)
{
	/* Armed once per silence: more data sent must not push the deadline back. */
	if (!armed(t->new_handshake))
		t->new_handshake = after(now, (WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT) * SEC +
					      jitter_ns);
}

void wg_timers_data_received(struct wg_timers *t, uint64_t now)
{
	if (!armed(t->keepalive))
		t->keepalive = after(now, WG_KEEPALIVE_TIMEOUT * SEC);
	else
		t->keepalive_again = true;
}

void wg_timers_any_authenticated_sent(struct wg_timers *t, uint64_t now)
{
	(void)now;
	/* Whatever went out tells the peer we are alive: no keepalive needed, and none owed
	 * for data that came in before (the kernel leaves the flag set, to no purpose but a
	 * keepalive too many later). */
	t->keepalive = 0;
	t->keepalive_again = false;
}

void wg_timers_any_authenticated_received(struct wg_timers *t, uint64_t now)
{
	(void)now;
	/* The peer answered: the session is not dead. */
	t->new_handshake = 0;
}

void wg_timers_any_authenticated_traversal(struct wg_timers *t, uint64_t now)
{
	if (t->persistent_interval != 0)
		t->persistent = after(now, (uint64_t)t->persistent_interval * SEC);
}

void wg_timers_handshake_initiated(struct wg_timers *t, uint64_t now, uint64_t jitter_ns)
{
	t->retransmit = after(now, WG_REKEY_TIMEOUT * SEC + jitter_ns);
}

void wg_timers_handshake_complete(struct wg_timers *t, uint64_t now)
{
	(void)now;
	t->retransmit = 0;
	t->handshake_attempts = 0;
}

void wg_timers_session_derived(struct wg_timers *t, uint64_t now)
{
	t->zero_keys = after(now, WG_ZERO_KEYS_AFTER_TIME * SEC);
}

void wg_timers_set_persistent(struct wg_timers *t, uint16_t interval, uint64_t now)
{
	uint16_t old = t->persistent_interval;
	uint64_t sooner;

	t->persistent_interval = interval;
	if (interval == 0) {
		t->persistent = 0;
	} else if (old == 0) {
		/* Turned on: one keepalive now, as the kernel sends, to open the NAT mapping
		 * straight away. A deadline must not be 0, hence the 1 ns at time 0. */
		t->persistent = now != 0 ? now : 1;
	} else {
		/* A shorter interval takes effect at once, a longer one at the next packet. */
		sooner = after(now, (uint64_t)interval * SEC);
		if (!armed(t->persistent) || sooner < t->persistent)
			t->persistent = sooner;
	}
}

static unsigned expire_retransmit(struct wg_timers *t, uint64_t now)
{
	if (!expire(&t->retransmit, now))
		return 0;
	if (t->handshake_attempts < WG_MAX_TIMER_HANDSHAKES) {
		t->handshake_attempts++;
		return WG_TIMER_SEND_INITIATION;
	}
	/* Tried for REKEY_ATTEMPT_TIME: stop, and erase what a partial exchange left behind
	 * unless an erasure is already due. The count starts over for whatever handshake the
	 * next packet asks for. */
	t->handshake_attempts = 0;
	t->keepalive = 0;
	t->keepalive_again = false;
	if (!armed(t->zero_keys))
		t->zero_keys = after(now, WG_ZERO_KEYS_AFTER_TIME * SEC);
	return WG_TIMER_GIVE_UP;
}

static unsigned expire_keepalive(struct wg_timers *t, uint64_t now)
{
	if (!expire(&t->keepalive, now))
		return 0;
	if (t->keepalive_again) {
		t->keepalive_again = false;
		t->keepalive = after(now, WG_KEEPALIVE_TIMEOUT * SEC);
	}
	return WG_TIMER_SEND_KEEPALIVE;
}

static unsigned expire_new_handshake(struct wg_timers *t, uint64_t now)
{
	if (!expire(&t->new_handshake, now))
		return 0;
	/* A fresh handshake, not a retry: it gets the full number of attempts. */
	t->handshake_attempts = 0;
	return WG_TIMER_SEND_INITIATION;
}

unsigned wg_timers_poll(struct wg_timers *t, uint64_t now, uint64_t jitter_ns)
{
	unsigned due = 0;

	(void)jitter_ns;   /* nothing poll re-arms takes jitter; see the top of the file */
	due |= expire_retransmit(t, now);
	due |= expire_keepalive(t, now);
	due |= expire_new_handshake(t, now);
	if (expire(&t->zero_keys, now))
		due |= WG_TIMER_ZERO_KEYS;
	if (expire(&t->persistent, now) && t->persistent_interval != 0)
		due |= WG_TIMER_SEND_KEEPALIVE;
	return due;
}

static uint64_t earlier(uint64_t a, uint64_t b)
{
	if (!armed(a))
		return b;
	if (!armed(b))
		return a;
	return a < b ? a : b;
}

uint64_t wg_timers_next(const struct wg_timers *t)
{
	uint64_t next = earlier(t->retransmit, t->keepalive);

	next = earlier(next, t->new_handshake);
	next = earlier(next, t->zero_keys);
	return earlier(next, t->persistent);
}

bool wg_timers_may_initiate(uint64_t last_sent, uint64_t now)
{
	return last_sent == 0 || since(last_sent, now) >= WG_REKEY_TIMEOUT * SEC;
}
