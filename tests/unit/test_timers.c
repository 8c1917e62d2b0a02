/* SPDX-License-Identifier: MIT */
/*
 * Timers driven by a fake clock. A small driver plays the caller: it turns poll's actions
 * into the messages a peer would send and calls the hooks for each message, as the real
 * caller must. Scenarios are tables of (time, event, expectation).
 */
#include <stdint.h>

#include "check.h"
#include "wg_timers.h"
#include "wg_wire.h"

#define MS (WG_NSEC_PER_SEC / 1000)
#define SEC WG_NSEC_PER_SEC
#define JITTER (7 * MS)   /* fixed, so every deadline below is exact */

struct peer {
	struct wg_timers t;
	uint64_t last_initiation;   /* 0 = never, as wg_timers_may_initiate takes it */
	unsigned initiations;
};

/* The messages, with the hooks the caller calls for each. */
static void send_initiation(struct peer *p, uint64_t now)
{
	if (!wg_timers_may_initiate(p->last_initiation, now))
		return;
	p->last_initiation = now;
	p->initiations++;
	wg_timers_any_authenticated_sent(&p->t, now);
	wg_timers_any_authenticated_traversal(&p->t, now);
	wg_timers_handshake_initiated(&p->t, now, JITTER);
}

static void receive_response(struct peer *p, uint64_t now)
{
	wg_timers_any_authenticated_received(&p->t, now);
	wg_timers_any_authenticated_traversal(&p->t, now);
	wg_timers_handshake_complete(&p->t, now);
	wg_timers_session_derived(&p->t, now);
}

static void send_data(struct peer *p, uint64_t now)
{
	wg_timers_data_sent(&p->t, now, JITTER);
	wg_timers_any_authenticated_sent(&p->t, now);
	wg_timers_any_authenticated_traversal(&p->t, now);
}

static void receive_data(struct peer *p, uint64_t now)
{
	wg_timers_data_received(&p->t, now);
	wg_timers_any_authenticated_received(&p->t, now);
	wg_timers_any_authenticated_traversal(&p->t, now);
}

static void send_keepalive(struct peer *p, uint64_t now)
{
	wg_timers_any_authenticated_sent(&p->t, now);
	wg_timers_any_authenticated_traversal(&p->t, now);
}

static void receive_keepalive(struct peer *p, uint64_t now)
{
	wg_timers_any_authenticated_received(&p->t, now);
	wg_timers_any_authenticated_traversal(&p->t, now);
}

/* Poll and do what it says, as the control lcore would. */
static unsigned poll_and_act(struct peer *p, uint64_t now)
{
	unsigned due = wg_timers_poll(&p->t, now, JITTER);

	if (due & WG_TIMER_SEND_INITIATION)
		send_initiation(p, now);
	if (due & WG_TIMER_SEND_KEEPALIVE)
		send_keepalive(p, now);
	return due;
}

enum op {
	POLL,         /* poll and act; expect the mask */
	POLL_ONLY,    /* poll, do nothing; expect the mask */
	NEXT,         /* expect wg_timers_next, in ms (0: nothing armed) */
	ATTEMPTS,     /* expect handshake_attempts */
	SEND_INIT, RECV_RESPONSE, SEND_DATA, RECV_DATA, SEND_KEEPALIVE, RECV_KEEPALIVE,
};

struct step {
	uint64_t ms;
	enum op op;
	uint64_t expect;
};

#define INIT WG_TIMER_SEND_INITIATION
#define KEEP WG_TIMER_SEND_KEEPALIVE
#define ZERO WG_TIMER_ZERO_KEYS

/* A whole session, from time 0 (a deadline computed at 0 must still be armed). */
static const struct step life[] = {
	{ 0, SEND_INIT, 0 },
	{ 0, NEXT, 5007 },              /* REKEY_TIMEOUT + jitter */
	{ 5006, POLL, 0 },
	{ 5007, POLL, INIT },           /* first retry; the driver sends it */
	{ 5007, POLL, 0 },              /* nothing twice */
	{ 5007, ATTEMPTS, 1 },
	{ 5007, NEXT, 10014 },
	{ 10014, POLL, INIT },
	{ 10014, ATTEMPTS, 2 },
	{ 11000, RECV_RESPONSE, 0 },    /* retransmit off, attempts 0, zero_keys at +540 s */
	{ 11000, ATTEMPTS, 0 },
	{ 11000, NEXT, 551000 },
	{ 11000, SEND_DATA, 0 },        /* new_handshake at +15 s + jitter */
	{ 11000, NEXT, 26007 },
	{ 12000, RECV_DATA, 0 },        /* the answer: new_handshake off, keepalive at +10 s */
	{ 12000, NEXT, 22000 },
	{ 21999, POLL, 0 },
	{ 22000, POLL, KEEP },          /* 10 s without sending anything back */
	{ 22000, NEXT, 551000 },
	{ 30000, RECV_DATA, 0 },        /* keepalive at 40 s */
	{ 35000, RECV_DATA, 0 },        /* while armed: another will be owed */
	{ 40000, POLL_ONLY, KEEP },
	{ 40000, NEXT, 50000 },         /* re-armed for the data of 35 s... */
	{ 40000, SEND_KEEPALIVE, 0 },   /* ...until the keepalive actually goes out */
	{ 40000, NEXT, 551000 },
	{ 45000, RECV_DATA, 0 },        /* keepalive at 55 s... */
	{ 46000, SEND_DATA, 0 },        /* ...not needed: data went back; new_handshake 61.007 */
	{ 50000, SEND_DATA, 0 },        /* does not push new_handshake back */
	{ 55000, POLL, 0 },
	{ 61006, POLL, 0 },
	{ 61007, POLL, INIT },          /* 15 s of sending into silence: new handshake */
	{ 61007, ATTEMPTS, 0 },         /* a fresh handshake, not a retry */
	{ 61007, NEXT, 66014 },
	{ 62000, RECV_RESPONSE, 0 },    /* new session: zero_keys moves to 602 s */
	{ 62000, NEXT, 602000 },
	{ 70000, SEND_DATA, 0 },        /* new_handshake at 85.007 s... */
	{ 80000, RECV_KEEPALIVE, 0 },   /* ...but a keepalive came back */
	{ 85007, POLL, 0 },
	{ 85007, NEXT, 602000 },
	{ 601999, POLL, 0 },
	{ 602000, POLL, ZERO },         /* 540 s after the last session */
	{ 602000, NEXT, 0 },
	{ 700000, POLL, 0 },
};

static void run(struct peer *p, const struct step *s, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t now = s[i].ms * MS, got = 0;
		bool expect = true;

		switch (s[i].op) {
		case POLL: got = poll_and_act(p, now); break;
		case POLL_ONLY: got = wg_timers_poll(&p->t, now, JITTER); break;
		case NEXT: got = wg_timers_next(&p->t) / MS; break;
		case ATTEMPTS: got = p->t.handshake_attempts; break;
		case SEND_INIT: send_initiation(p, now); expect = false; break;
		case RECV_RESPONSE: receive_response(p, now); expect = false; break;
		case SEND_DATA: send_data(p, now); expect = false; break;
		case RECV_DATA: receive_data(p, now); expect = false; break;
		case SEND_KEEPALIVE: send_keepalive(p, now); expect = false; break;
		case RECV_KEEPALIVE: receive_keepalive(p, now); expect = false; break;
		}
		if (expect && !check_at(got == s[i].expect, __FILE__, __LINE__, "timer step"))
			fprintf(stderr, "  %s step %zu at %llu ms: got %llu, expected %llu\n",
				name, i, (unsigned long long)s[i].ms, (unsigned long long)got,
				(unsigned long long)s[i].expect);
	}
}

static void test_life(void)
{
	struct peer p = { 0 };

	wg_timers_init(&p.t, 0);
	CHECK_EQ(wg_timers_next(&p.t), 0);
	CHECK_EQ(wg_timers_poll(&p.t, 0, JITTER), 0);
	run(&p, life, sizeof(life) / sizeof(life[0]), "life");
	CHECK_EQ(p.initiations, 4);
}

/* Retry until GIVE_UP; returns the time it came. Counts initiations sent. */
static uint64_t until_give_up(struct peer *p, unsigned *retries)
{
	for (unsigned i = 0; i < 100; i++) {
		uint64_t now = wg_timers_next(&p->t);
		unsigned due = poll_and_act(p, now);

		if (due & WG_TIMER_GIVE_UP)
			return now;
		*retries += !!(due & WG_TIMER_SEND_INITIATION);
	}
	return 0;
}

static void test_give_up(void)
{
	struct peer p = { 0 };
	const uint64_t start = 1000 * SEC;
	unsigned retries = 0;
	uint64_t at;

	wg_timers_init(&p.t, 0);
	send_initiation(&p, start);
	at = until_give_up(&p, &retries);
	/* 18 retries, the last 90 s in (plus jitter each time), then give up one timeout on. */
	CHECK_EQ(retries, WG_MAX_TIMER_HANDSHAKES);
	CHECK_EQ(p.initiations, 1 + WG_MAX_TIMER_HANDSHAKES);
	CHECK_EQ(p.last_initiation, start + 18 * (5 * SEC + JITTER));
	CHECK_EQ(p.last_initiation - start, 90 * SEC + 18 * JITTER);
	CHECK_EQ(at, start + 19 * (5 * SEC + JITTER));
	/* Nothing is left to do but erase the residue of the attempt, 540 s on. */
	CHECK_EQ(p.t.handshake_attempts, 0);
	CHECK_EQ(p.t.retransmit, 0);
	CHECK_EQ(wg_timers_next(&p.t), at + 540 * SEC);
	CHECK_EQ(wg_timers_poll(&p.t, at, JITTER), 0);
	/* The next handshake gets all its retries again. */
	retries = 0;
	send_initiation(&p, at + 10 * SEC);
	CHECK_EQ(until_give_up(&p, &retries), at + 10 * SEC + 19 * (5 * SEC + JITTER));
	CHECK_EQ(retries, WG_MAX_TIMER_HANDSHAKES);
}

/* Giving up disarms the keepalive and leaves an erasure already due alone. */
static void test_give_up_keeps_zero_keys(void)
{
	struct peer p = { 0 };
	unsigned retries = 0;
	uint64_t at;

	wg_timers_init(&p.t, 0);
	receive_response(&p, 100 * SEC);       /* an earlier session: erase at 640 s */
	send_initiation(&p, 300 * SEC);
	at = until_give_up(&p, &retries);
	CHECK_EQ(at, 300 * SEC + 19 * (5 * SEC + JITTER));
	CHECK_EQ(p.t.zero_keys, 640 * SEC);

	wg_timers_init(&p.t, 0);
	p.last_initiation = 0;
	send_initiation(&p, 1000 * SEC);
	for (unsigned i = 0; i < WG_MAX_TIMER_HANDSHAKES; i++)
		poll_and_act(&p, wg_timers_next(&p.t));
	wg_timers_data_received(&p.t, wg_timers_next(&p.t) - SEC);  /* keepalive armed */
	CHECK(p.t.keepalive != 0);
	CHECK_EQ(wg_timers_poll(&p.t, wg_timers_next(&p.t) + SEC, JITTER), WG_TIMER_GIVE_UP);
	CHECK_EQ(p.t.keepalive, 0);
}

/* A new_handshake expiry during retries starts the count over. */
static void test_new_handshake_resets(void)
{
	struct wg_timers t;

	wg_timers_init(&t, 0);
	wg_timers_handshake_initiated(&t, 1 * SEC, 0);
	CHECK_EQ(wg_timers_poll(&t, 6 * SEC, 0), INIT);
	CHECK_EQ(t.handshake_attempts, 1);
	wg_timers_data_sent(&t, 6 * SEC, 0);
	CHECK_EQ(wg_timers_poll(&t, 21 * SEC, 0), INIT);
	CHECK_EQ(t.handshake_attempts, 0);
}

static void test_persistent(void)
{
	struct peer p = { 0 };
	uint64_t now = 50 * SEC;
	unsigned good = 0;

	wg_timers_init(&p.t, 25);
	receive_response(&p, now);              /* persistent at +25 s */
	for (unsigned k = 1; k <= 10; k++) {
		uint64_t next = wg_timers_next(&p.t);

		good += next == now + k * 25 * SEC;
		good += poll_and_act(&p, next) == KEEP;  /* its keepalive re-arms it */
	}
	CHECK_EQ(good, 20);
	now += 250 * SEC;
	receive_data(&p, now + 10 * SEC);        /* traffic moves it on */
	CHECK_EQ(p.t.persistent, now + 35 * SEC);
	/* Shorter takes effect now, longer at the next packet, off disarms. */
	wg_timers_set_persistent(&p.t, 5, now + 11 * SEC);
	CHECK_EQ(p.t.persistent, now + 16 * SEC);
	wg_timers_set_persistent(&p.t, 60, now + 12 * SEC);
	CHECK_EQ(p.t.persistent, now + 16 * SEC);
	wg_timers_set_persistent(&p.t, 0, now + 13 * SEC);
	CHECK_EQ(p.t.persistent, 0);
	wg_timers_any_authenticated_traversal(&p.t, now + 14 * SEC);
	CHECK_EQ(p.t.persistent, 0);
	/* Turned on: a keepalive at once. */
	send_keepalive(&p, now + 19 * SEC);
	wg_timers_set_persistent(&p.t, 15, now + 20 * SEC);
	CHECK_EQ(p.t.persistent, now + 20 * SEC);
	CHECK_EQ(poll_and_act(&p, now + 20 * SEC), KEEP);
	CHECK_EQ(p.t.persistent, now + 35 * SEC);
	/* Also at time 0, where a deadline of "now" would read as unarmed. */
	wg_timers_init(&p.t, 0);
	wg_timers_set_persistent(&p.t, 15, 0);
	CHECK(wg_timers_next(&p.t) != 0);
	CHECK_EQ(wg_timers_poll(&p.t, 1, 0), KEEP);
}

/* Everything due at once: one poll reports all of it, the next nothing. */
static void test_all_at_once(void)
{
	struct wg_timers t;

	wg_timers_init(&t, 1);
	wg_timers_handshake_initiated(&t, 0, 0);
	wg_timers_data_sent(&t, 0, 0);
	wg_timers_data_received(&t, 0);
	wg_timers_session_derived(&t, 0);
	wg_timers_any_authenticated_traversal(&t, 0);
	CHECK_EQ(wg_timers_poll(&t, 1000 * SEC, 0), INIT | KEEP | ZERO);
	CHECK_EQ(wg_timers_poll(&t, 1000 * SEC, 0), 0);
	CHECK_EQ(wg_timers_next(&t), 0);
	/* A keepalive owed, then data sent: nothing owed any more. */
	wg_timers_data_received(&t, 2000 * SEC);
	wg_timers_data_received(&t, 2001 * SEC);
	wg_timers_any_authenticated_sent(&t, 2002 * SEC);
	wg_timers_data_received(&t, 2003 * SEC);
	CHECK_EQ(wg_timers_poll(&t, 2013 * SEC, 0), KEEP);
	CHECK_EQ(wg_timers_next(&t), 0);
}

static void test_rules(void)
{
	const uint64_t birth = 62 * SEC;   /* the session of the life table */
	const uint64_t rekey_msgs = WG_REKEY_AFTER_MESSAGES;

	CHECK(!wg_timers_rekey_on_send(birth, 0, true, birth + 120 * SEC - 1));
	CHECK(wg_timers_rekey_on_send(birth, 0, true, birth + 120 * SEC));
	CHECK(!wg_timers_rekey_on_send(birth, 0, false, birth + 120 * SEC));
	CHECK(!wg_timers_rekey_on_send(birth, 0, false, birth + 179 * SEC));
	CHECK(!wg_timers_rekey_on_send(birth, rekey_msgs, false, birth));
	CHECK(wg_timers_rekey_on_send(birth, rekey_msgs + 1, false, birth));
	CHECK(wg_timers_rekey_on_send(birth, rekey_msgs + 1, true, birth));
	CHECK(!wg_timers_rekey_on_send(birth, 0, true, birth - SEC));  /* clock behind birth */

	CHECK(!wg_timers_rekey_on_receive(birth, true, birth + 165 * SEC - 1));
	CHECK(wg_timers_rekey_on_receive(birth, true, birth + 165 * SEC));
	CHECK(!wg_timers_rekey_on_receive(birth, false, birth + 165 * SEC));
	CHECK(!wg_timers_rekey_on_receive(birth, false, birth + 1000 * SEC));

	CHECK(wg_timers_keypair_usable(birth, 0, birth));
	CHECK(wg_timers_keypair_usable(birth, 0, birth + 180 * SEC - 1));
	CHECK(!wg_timers_keypair_usable(birth, 0, birth + 180 * SEC));
	CHECK(wg_timers_keypair_usable(birth, WG_REJECT_AFTER_MESSAGES - 1, birth));
	CHECK(!wg_timers_keypair_usable(birth, WG_REJECT_AFTER_MESSAGES, birth));
	CHECK(!wg_timers_keypair_usable(birth, UINT64_MAX, birth));
	CHECK(wg_timers_keypair_usable(birth, 0, 0));

	CHECK(wg_timers_may_initiate(0, 0));
	CHECK(wg_timers_may_initiate(0, 3 * SEC));
	CHECK(!wg_timers_may_initiate(100 * SEC, 100 * SEC));
	CHECK(!wg_timers_may_initiate(100 * SEC, 105 * SEC - 1));
	CHECK(wg_timers_may_initiate(100 * SEC, 105 * SEC));
	CHECK(!wg_timers_may_initiate(100 * SEC, 99 * SEC));
}

/* At most one initiation per REKEY_TIMEOUT, however often one is asked for. */
static void test_initiation_rate(void)
{
	struct peer p = { 0 };

	wg_timers_init(&p.t, 0);
	for (uint64_t ms = 1000; ms <= 31000; ms += 100)
		send_initiation(&p, ms * MS);
	CHECK_EQ(p.initiations, 7);   /* at 1, 6, 11, 16, 21, 26 and 31 s */
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	test_life();
	test_give_up();
	test_give_up_keeps_zero_keys();
	test_new_handshake_resets();
	test_persistent();
	test_all_at_once();
	test_rules();
	test_initiation_rate();
	return check_report("timers");
}
