/* SPDX-License-Identifier: MIT */
/*
 * The Noise IKpsk2 handshake between devices in one process, through a fake owner: an
 * index table with random 32-bit indices behind the wg_noise_callbacks, one device per side
 * and a few peers per device. Keypairs are heap objects, freed (wiped, index dropped) as
 * soon as the slot functions retire them, so ASan sees any double retirement.
 *
 * What is shown: matching transport keys with and without a preshared key; every refusal
 * reason of the two consume functions, each followed by the genuine message still
 * completing the handshake (a refusal changes nothing, checked byte for byte); timestamp
 * replay and flood limits; low-order points; the keypair slots as a table of cases; the
 * index table holding exactly the live indices; and a long run of handshakes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wg_cookie.h"
#include "wg_crypto.h"
#include "wg_noise.h"

#define MS (WG_NSEC_PER_SEC / 1000u)
#define SEC WG_NSEC_PER_SEC
#define FLOOD_GAP (WG_NSEC_PER_SEC / WG_INITIATIONS_PER_SECOND)   /* 20 ms */
#define EPOCH 1700000000ull     /* wall-clock second of the first timestamp */
#define MAX_INDICES 64
#define MAX_PEERS 3

/* ---- The fake owner -------------------------------------------------------------------- */

struct index_entry {
	uint32_t index;
	struct wg_noise_peer *peer;
};

struct owner {
	struct wg_noise_device dev;
	struct wg_noise_peer peers[MAX_PEERS];
	size_t n_peers;                       /* peer_by_key searches only these */
	struct index_entry idx[MAX_INDICES];
	size_t n_idx;
	unsigned bad_drops;                   /* drops of an index not in the table */
	uint8_t public_key[WG_KEY_LEN];
};

/* Both clocks of a test: monotonic ns for `now`, wall seconds for timestamps. */
struct clock {
	uint64_t now;
	uint64_t wall;
};

static struct index_entry *index_find(struct owner *o, uint32_t index)
{
	for (size_t i = 0; i < o->n_idx; i++)
		if (o->idx[i].index == index)
			return &o->idx[i];
	return NULL;
}

static uint32_t cb_index_new(void *ctx, struct wg_noise_peer *peer)
{
	struct owner *o = ctx;
	uint32_t v;

	do
		v = wg_random_u32();
	while (index_find(o, v) != NULL);
	if (!CHECK(o->n_idx < MAX_INDICES))
		abort();                      /* an index leak this large ends the test */
	o->idx[o->n_idx++] = (struct index_entry){ v, peer };
	return v;
}

static void cb_index_drop(void *ctx, uint32_t index)
{
	struct owner *o = ctx;
	struct index_entry *e = index_find(o, index);

	if (e == NULL) {
		o->bad_drops++;
		return;
	}
	*e = o->idx[--o->n_idx];
}

static struct wg_noise_peer *cb_peer_by_key(void *ctx, const uint8_t key[WG_KEY_LEN])
{
	struct owner *o = ctx;

	for (size_t i = 0; i < o->n_peers; i++)
		if (memcmp(o->peers[i].remote_static, key, WG_KEY_LEN) == 0)
			return &o->peers[i];
	return NULL;
}

static struct wg_noise_peer *cb_peer_by_index(void *ctx, uint32_t index)
{
	struct index_entry *e = index_find(ctx, index);

	return e ? e->peer : NULL;
}

static const struct wg_noise_callbacks callbacks = {
	.index_new = cb_index_new,
	.index_drop = cb_index_drop,
	.peer_by_key = cb_peer_by_key,
	.peer_by_index = cb_peer_by_index,
};

static void owner_init(struct owner *o)
{
	uint8_t priv[WG_KEY_LEN];

	memset(o, 0, sizeof(*o));
	wg_x25519_generate(priv, o->public_key);
	CHECK_EQ(wg_noise_device_init(&o->dev, priv, &callbacks, o), 0);
	CHECK(o->dev.has_identity);
	CHECK_MEM(o->dev.static_public, o->public_key, WG_KEY_LEN);
	wg_wipe(priv, sizeof(priv));
}

/* A peer of `o` for `remote`, with this preshared key (NULL for none). */
static struct wg_noise_peer *owner_add_peer(struct owner *o, const struct owner *remote,
					    const uint8_t *psk)
{
	struct wg_noise_peer *p = &o->peers[o->n_peers++];

	CHECK_EQ(wg_noise_peer_init(&o->dev, p, remote->public_key, psk, o), WG_OK);
	return p;
}

static void free_retired(struct owner *o, struct wg_keypair *retired[3], unsigned n)
{
	CHECK(n <= 3);
	for (unsigned i = 0; i < n && i < 3; i++) {
		cb_index_drop(o, retired[i]->local_index);
		wg_keypair_wipe(retired[i]);
		free(retired[i]);
	}
}

/* Derive the session of a finished handshake and place it in the peer's slots. */
static enum wg_result begin(struct owner *o, struct wg_noise_peer *p, struct wg_keypair **out,
			    uint64_t now)
{
	struct wg_keypair *kp = calloc(1, sizeof(*kp));
	struct wg_keypair *retired[3];
	enum wg_result r;

	if (!CHECK(kp != NULL))
		abort();
	r = wg_noise_begin_session(p, kp, now);
	if (r != WG_OK) {
		free(kp);
		return r;
	}
	free_retired(o, retired, wg_keypairs_add(&p->keypairs, kp, retired));
	if (out)
		*out = kp;
	return WG_OK;
}

/* Data arrived on kp: promote it if it was next. */
static void received(struct owner *o, struct wg_keypair *kp)
{
	struct wg_keypair *retired[3];

	free_retired(o, retired, wg_keypairs_received(&kp->peer->keypairs, kp, retired));
}

/* Forget every handshake and keypair: the table must end empty. */
static void owner_retire_all(struct owner *o)
{
	struct wg_keypair *retired[3];

	for (size_t i = 0; i < o->n_peers; i++) {
		wg_noise_handshake_clear(&o->dev, &o->peers[i]);
		free_retired(o, retired, wg_keypairs_clear(&o->peers[i].keypairs, retired));
	}
	CHECK_EQ(o->n_idx, 0);
	CHECK_EQ(o->bad_drops, 0);
}

static void owner_clear(struct owner *o)
{
	owner_retire_all(o);
	wg_noise_device_wipe(&o->dev);
}

/* ---- Handshake helpers ----------------------------------------------------------------- */

static void stamp(uint8_t ts[WG_TIMESTAMP_LEN], uint64_t sec, uint32_t nsec)
{
	wg_tai64n(ts, EPOCH + sec, nsec);
}

/* A fresh initiation one second after the last one. */
static void initiate(struct owner *o, struct wg_noise_peer *p, struct clock *c,
		     struct wg_msg_initiation *msg)
{
	uint8_t ts[WG_TIMESTAMP_LEN];

	c->now += SEC;
	c->wall++;
	stamp(ts, c->wall, 0);
	CHECK_EQ(wg_noise_create_initiation(&o->dev, p, msg, ts, c->now), WG_OK);
}

/* The responder's path under test: consume_initiation + create_response, or (the second
 * pass of every test) prepare_response + answer_prepared, which the gateway's handshake
 * lcores use. */
static bool prepared_mode;

static enum wg_result take_initiation(struct owner *o, const void *msg, size_t len,
				      uint64_t now, struct wg_msg_response *resp,
				      struct wg_noise_peer **p)
{
	struct wg_noise_identity id;
	struct wg_noise_prepared prep;
	enum wg_result r;

	if (!prepared_mode) {
		r = wg_noise_consume_initiation(&o->dev, msg, len, now, p);
		return r == WG_OK ? wg_noise_create_response(&o->dev, *p, resp, now) : r;
	}
	wg_noise_identity_get(&o->dev, &id);
	wg_noise_prepare_response(&id, msg, len, WG_MSG_INITIATION, &prep);
	r = wg_noise_answer_prepared(&o->dev, &prep, msg, len, WG_MSG_INITIATION, now, resp,
				     WG_MSG_RESPONSE, p);
	wg_wipe(&id, sizeof(id));
	wg_wipe(&prep, sizeof(prep));
	if (r != WG_OK)
		*p = NULL;
	return r;
}

/* Responder: take the initiation, answer it and begin its session. */
static enum wg_result respond(struct owner *o, const struct wg_msg_initiation *init,
			      uint64_t now, struct wg_msg_response *resp, struct wg_keypair **kp)
{
	struct wg_noise_peer *p = NULL;
	enum wg_result r = take_initiation(o, init, sizeof(*init), now, resp, &p);

	if (r == WG_OK)
		r = begin(o, p, kp, now);
	return r;
}

/* Initiator: consume the response for peer `want` and begin its session. */
static enum wg_result finish(struct owner *o, struct wg_noise_peer *want,
			     const struct wg_msg_response *resp, uint64_t now,
			     struct wg_keypair **kp)
{
	struct wg_noise_peer *p = NULL;
	enum wg_result r = wg_noise_consume_response(&o->dev, resp, sizeof(*resp), &p);

	if (r == WG_OK) {
		CHECK(p == want);
		r = begin(o, p, kp, now);
	}
	return r;
}

/* A whole handshake from peer `ip` of `io` to `ro`. */
static enum wg_result handshake(struct owner *io, struct wg_noise_peer *ip, struct owner *ro,
				struct clock *c, struct wg_keypair **ikp, struct wg_keypair **rkp)
{
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	enum wg_result r;

	initiate(io, ip, c, &init);
	r = respond(ro, &init, c->now, &resp, rkp);
	return r == WG_OK ? finish(io, ip, &resp, c->now, ikp) : r;
}

static void check_session(const struct wg_keypair *i, const struct wg_keypair *r)
{
	CHECK_MEM(i->send_key, r->recv_key, WG_KEY_LEN);
	CHECK_MEM(i->recv_key, r->send_key, WG_KEY_LEN);
	CHECK(memcmp(i->send_key, i->recv_key, WG_KEY_LEN) != 0);
	CHECK(!wg_is_zero(i->send_key, WG_KEY_LEN));
	CHECK(!wg_is_zero(i->recv_key, WG_KEY_LEN));
	CHECK_EQ(i->remote_index, r->local_index);
	CHECK_EQ(i->local_index, r->remote_index);
	CHECK(i->initiator && !r->initiator);
}

/* One data message from s to r with this counter; the wrong nonce or key must fail. */
static void check_data(const struct wg_keypair *s, const struct wg_keypair *r, uint64_t ctr)
{
	uint8_t pt[48], ct[sizeof(pt) + WG_AEAD_TAG_LEN], out[sizeof(pt)];

	wg_random(pt, sizeof(pt));
	wg_seal(ct, pt, sizeof(pt), NULL, 0, ctr, s->send_key);
	CHECK_EQ(wg_open(out, ct, sizeof(ct), NULL, 0, ctr, r->recv_key), 0);
	CHECK_MEM(out, pt, sizeof(pt));
	CHECK(wg_open(out, ct, sizeof(ct), NULL, 0, ctr + 1, r->recv_key) != 0);
	CHECK(wg_open(out, ct, sizeof(ct), NULL, 0, ctr, r->send_key) != 0);
}

/* The static-static DH is a cache filled at a peer's first handshake; fill it first, so
 * that "untouched" below means the protocol state, not the cache. */
static void precompute_all(struct owner *o)
{
	for (size_t i = 0; i < o->n_peers; i++)
		wg_noise_peer_precompute(&o->dev, &o->peers[i]);
}

/* A consume must refuse with `want` and leave its owner untouched, byte for byte. */
#define REFUSE_INIT(o, msg, len, now, want) refuse_init(o, msg, len, now, want, __LINE__)
#define REFUSE_RESP(o, msg, len, want) refuse_resp(o, msg, len, want, __LINE__)

static void refuse_init(struct owner *o, const void *msg, size_t len, uint64_t now,
			enum wg_result want, int line)
{
	struct owner before;
	struct wg_noise_peer *p = NULL;

	precompute_all(o);
	memcpy(&before, o, sizeof(before));
	struct wg_msg_response resp;

	check_eq_at(take_initiation(o, msg, len, now, &resp, &p), want, __FILE__,
		    line, "consume_initiation refusal");
	check_at(p == NULL, __FILE__, line, "no peer on refusal");
	check_at(memcmp(&before, o, sizeof(before)) == 0, __FILE__, line, "state unchanged");
}

static void refuse_resp(struct owner *o, const void *msg, size_t len, enum wg_result want,
			int line)
{
	struct owner before;
	struct wg_noise_peer *p = NULL;

	precompute_all(o);
	memcpy(&before, o, sizeof(before));
	check_eq_at(wg_noise_consume_response(&o->dev, msg, len, &p), want, __FILE__, line,
		    "consume_response refusal");
	check_at(p == NULL, __FILE__, line, "no peer on refusal");
	check_at(memcmp(&before, o, sizeof(before)) == 0, __FILE__, line, "state unchanged");
}

/* Recompute the MACs of a doctored message as its sender would, for receiver `to`. */
static void remac(void *msg, size_t len, const struct owner *to, uint64_t now)
{
	struct wg_cookie_maker m;

	wg_cookie_maker_init(&m, to->public_key);
	wg_cookie_add_macs(&m, msg, len, now);
}

/* ---- TAI64N ---------------------------------------------------------------------------- */

static void test_tai64n(void)
{
	static const uint8_t known[WG_TIMESTAMP_LEN] = {
		0x40, 0x00, 0x00, 0x00, 0x65, 0x53, 0xf1, 0x0a, 0x07, 0x00, 0x00, 0x00,
	};
	static const uint8_t epoch[WG_TIMESTAMP_LEN] = { 0x40, 0, 0, 0, 0, 0, 0, 0x0a };
	static const uint8_t last_ns[WG_TIMESTAMP_LEN] = {
		0x40, 0, 0, 0, 0, 0, 0, 0x0b, 0x3b, 0x00, 0x00, 0x00,
	};
	uint8_t a[WG_TIMESTAMP_LEN], b[WG_TIMESTAMP_LEN];

	/* 1700000000 = 0x6553f100; 123456789 = 0x075bcd15, rounded down to 0x07000000. */
	wg_tai64n(a, 1700000000, 123456789);
	CHECK_MEM(a, known, sizeof(a));
	wg_tai64n(a, 0, 0);
	CHECK_MEM(a, epoch, sizeof(a));
	wg_tai64n(a, 1, 999999999);          /* 0x3b9ac9ff -> 0x3b000000 */
	CHECK_MEM(a, last_ns, sizeof(a));

	/* One 2^24 ns window encodes as one timestamp; the next window is greater. */
	wg_tai64n(a, 1700000000, 0x07000000);
	wg_tai64n(b, 1700000000, 0x07ffffff);
	CHECK_MEM(a, b, sizeof(a));
	wg_tai64n(b, 1700000000, 0x08000000);
	CHECK(memcmp(a, b, sizeof(a)) < 0);
	/* Seconds dominate nanoseconds, and compare big-endian across a byte carry. */
	wg_tai64n(a, 0xff, 999999999);
	wg_tai64n(b, 0x100, 0);
	CHECK(memcmp(a, b, sizeof(a)) < 0);

	wg_tai64n_now(a);
	wg_tai64n(b, EPOCH, 0);
	CHECK(memcmp(a, b, sizeof(a)) > 0);
	CHECK_EQ(a[0], 0x40);
	CHECK_EQ(a[11], 0);                  /* the low 24 bits of nsec are never sent */
	CHECK_EQ(a[10], 0);
	CHECK_EQ(a[9], 0);
}

/* ---- The handshake --------------------------------------------------------------------- */

static void test_handshake(const uint8_t *psk)
{
	struct owner a, b;
	struct wg_noise_peer *ab, *ba;
	struct wg_keypair *ikp = NULL, *rkp = NULL;
	struct clock c = { 10 * SEC, 0 };

	owner_init(&a);
	owner_init(&b);
	ab = owner_add_peer(&a, &b, psk);
	ba = owner_add_peer(&b, &a, psk);
	/* The DH is made lazily; asking for it gives both sides the same value. */
	CHECK(!ab->ss_ready && !ba->ss_ready);
	CHECK_EQ(wg_noise_peer_precompute(&a.dev, ab), WG_OK);
	CHECK_EQ(wg_noise_peer_precompute(&b.dev, ba), WG_OK);
	CHECK_MEM(ab->precomputed_ss, ba->precomputed_ss, WG_KEY_LEN);
	CHECK_EQ(handshake(&a, ab, &b, &c, &ikp, &rkp), WG_OK);
	if (!ikp || !rkp)
		return;
	check_session(ikp, rkp);
	CHECK(ikp->peer == ab && rkp->peer == ba);
	CHECK_EQ(ikp->birth, c.now);
	CHECK(ab->hs.state == WG_HS_ZEROED && ba->hs.state == WG_HS_ZEROED);
	/* The initiator sends at once; the responder's keypair waits for the first data. */
	CHECK(ab->keypairs.current == ikp && ab->keypairs.next == NULL);
	CHECK(ba->keypairs.next == rkp && ba->keypairs.current == NULL);
	check_data(ikp, rkp, 0);
	received(&b, rkp);
	CHECK(ba->keypairs.current == rkp && ba->keypairs.next == NULL);
	check_data(ikp, rkp, 1);
	check_data(rkp, ikp, 0);
	check_data(rkp, ikp, 1);
	owner_clear(&a);
	owner_clear(&b);
}

/* Keys from one handshake with psk `pa` on the initiator and `pb` on the responder. */
static void test_psk_mismatch(const uint8_t *pa, const uint8_t *pb)
{
	struct owner a, b;
	struct wg_noise_peer *ab, *ba;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_keypair *ikp = NULL, *rkp = NULL;
	struct clock c = { SEC, 0 };

	owner_init(&a);
	owner_init(&b);
	ab = owner_add_peer(&a, &b, pa);
	ba = owner_add_peer(&b, &a, pb);
	/*
	 * The psk is mixed in only after the initiation (the "psk2" of IKpsk2): the responder
	 * accepts the initiation and answers with keys the initiator cannot have. Only the
	 * initiator learns of it, from the response's empty AEAD; the responder would only see
	 * that no data ever arrives on its next keypair.
	 */
	initiate(&a, ab, &c, &init);
	CHECK_EQ(respond(&b, &init, c.now, &resp, &rkp), WG_OK);
	REFUSE_RESP(&a, &resp, sizeof(resp), WG_DECRYPT);
	CHECK(ab->hs.state == WG_HS_CREATED_INITIATION);

	wg_noise_peer_set_psk(ba, pa);
	CHECK_EQ(handshake(&a, ab, &b, &c, &ikp, &rkp), WG_OK);
	if (ikp && rkp)
		check_session(ikp, rkp);
	owner_clear(&a);
	owner_clear(&b);
}

static void test_psk(void)
{
	uint8_t p1[WG_KEY_LEN], p2[WG_KEY_LEN];

	wg_random(p1, sizeof(p1));
	memcpy(p2, p1, sizeof(p2));
	p2[31] ^= 0x80;
	test_handshake(NULL);
	test_handshake(p1);
	test_psk_mismatch(p1, p2);
	test_psk_mismatch(p1, NULL);
	test_psk_mismatch(NULL, p1);
}

/* ---- Timestamps: replay and flood ------------------------------------------------------ */

static void init_at(struct owner *o, struct wg_noise_peer *p, uint64_t sec, uint32_t nsec,
		    uint64_t now, struct wg_msg_initiation *msg)
{
	uint8_t ts[WG_TIMESTAMP_LEN];

	stamp(ts, sec, nsec);
	CHECK_EQ(wg_noise_create_initiation(&o->dev, p, msg, ts, now), WG_OK);
}

static void test_timestamps(void)
{
	struct owner a, b;
	struct wg_noise_peer *ab, *ba;
	struct wg_msg_initiation first, older, same_window, newer;
	struct wg_msg_response resp;
	struct wg_keypair *ikp = NULL, *rkp = NULL;
	const uint64_t t = 50 * SEC;            /* when the first initiation is consumed */

	owner_init(&a);
	owner_init(&b);
	ab = owner_add_peer(&a, &b, NULL);
	ba = owner_add_peer(&b, &a, NULL);
	init_at(&a, ab, 100, 0, t, &first);
	init_at(&a, ab, 99, 999999999, t, &older);
	init_at(&a, ab, 100, 0x00ffffff, t, &same_window);   /* encodes as 100 s + 0 ns */
	init_at(&a, ab, 100, 0x01000000, t, &newer);         /* the next window */

	CHECK_EQ(respond(&b, &first, t, &resp, &rkp), WG_OK);
	CHECK(ba->last_initiation_consumed == t);
	/* Staleness is judged before the flood limit, and by timestamp alone. */
	REFUSE_INIT(&b, &first, sizeof(first), t + SEC, WG_STALE_TIMESTAMP);
	REFUSE_INIT(&b, &first, sizeof(first), t + 5 * MS, WG_STALE_TIMESTAMP);
	REFUSE_INIT(&b, &older, sizeof(older), t + SEC, WG_STALE_TIMESTAMP);
	REFUSE_INIT(&b, &same_window, sizeof(same_window), t + SEC, WG_STALE_TIMESTAMP);
	/* A newer one is held back until 20 ms after the last accepted one. */
	REFUSE_INIT(&b, &newer, sizeof(newer), t + 10 * MS, WG_FLOOD);
	REFUSE_INIT(&b, &newer, sizeof(newer), t + FLOOD_GAP - 1, WG_FLOOD);
	CHECK_EQ(respond(&b, &newer, t + FLOOD_GAP, &resp, &rkp), WG_OK);
	REFUSE_INIT(&b, &newer, sizeof(newer), t + 2 * SEC, WG_STALE_TIMESTAMP);
	/* `newer` was a's last initiation: the handshake completes. */
	CHECK_EQ(finish(&a, ab, &resp, t + FLOOD_GAP, &ikp), WG_OK);
	if (ikp && rkp)
		check_session(ikp, rkp);
	owner_clear(&a);
	owner_clear(&b);
}

/* ---- Low-order points ------------------------------------------------------------------ */

/* The points of small order on Curve25519 and its twist (libsodium's list), and two of
 * them with the ignored top bit set. */
static const char *const low_order_hex[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"0100000000000000000000000000000000000000000000000000000000000080",
};
#define N_LOW_ORDER (sizeof(low_order_hex) / sizeof(low_order_hex[0]))

static void low_order(uint8_t key[WG_KEY_LEN], size_t i)
{
	CHECK_EQ(check_unhex(key, WG_KEY_LEN, low_order_hex[i]), (int)WG_KEY_LEN);
}

/* A peer whose static key is of low order is refused, and can never initiate. */
static void test_zero_dh_peer(void)
{
	struct owner a;
	struct wg_noise_peer p;
	struct wg_msg_initiation msg;
	uint8_t key[WG_KEY_LEN], ts[WG_TIMESTAMP_LEN];

	owner_init(&a);
	stamp(ts, 1, 0);
	for (size_t i = 0; i < N_LOW_ORDER; i++) {
		low_order(key, i);
		CHECK_EQ(wg_noise_peer_init(&a.dev, &p, key, NULL, &a), WG_ZERO_DH);
		CHECK_EQ(wg_noise_create_initiation(&a.dev, &p, &msg, ts, SEC), WG_ZERO_DH);
		CHECK(p.hs.state == WG_HS_ZEROED && !p.hs.has_index);
	}
	CHECK_EQ(a.n_idx, 0);                   /* no index leaked by the failed creations */
	owner_clear(&a);
}

/* Low-order ephemerals in either message, with valid MACs, then the genuine exchange. */
static void test_zero_dh_ephemeral(void)
{
	struct owner a, b;
	struct wg_noise_peer *ab;
	struct wg_msg_initiation init, bad_init;
	struct wg_msg_response resp, bad_resp;
	struct wg_keypair *ikp = NULL, *rkp = NULL;
	struct clock c = { SEC, 0 };

	owner_init(&a);
	owner_init(&b);
	ab = owner_add_peer(&a, &b, NULL);
	owner_add_peer(&b, &a, NULL);
	initiate(&a, ab, &c, &init);
	for (size_t i = 0; i < N_LOW_ORDER; i++) {
		bad_init = init;
		low_order(bad_init.unencrypted_ephemeral, i);
		remac(&bad_init, sizeof(bad_init), &b, c.now);
		REFUSE_INIT(&b, &bad_init, sizeof(bad_init), c.now, WG_ZERO_DH);
	}
	CHECK_EQ(respond(&b, &init, c.now, &resp, &rkp), WG_OK);
	for (size_t i = 0; i < N_LOW_ORDER; i++) {
		bad_resp = resp;
		low_order(bad_resp.unencrypted_ephemeral, i);
		remac(&bad_resp, sizeof(bad_resp), &a, c.now);
		REFUSE_RESP(&a, &bad_resp, sizeof(bad_resp), WG_ZERO_DH);
	}
	CHECK_EQ(finish(&a, ab, &resp, c.now, &ikp), WG_OK);
	if (ikp && rkp)
		check_session(ikp, rkp);
	owner_clear(&a);
	owner_clear(&b);
}

/*
 * An initiation written from the whitepaper with the test's own primitives, claiming static
 * key `spub` with static-static DH `ss`: an independent check of the initiator's side, and a
 * way to send what create_initiation never would.
 */
static void forge_initiation(struct wg_msg_initiation *m, const struct owner *to,
			     const uint8_t spub[WG_KEY_LEN], const uint8_t ss[WG_KEY_LEN],
			     uint64_t sec)
{
	uint8_t ck[WG_HASH_LEN], h[WG_HASH_LEN], k[WG_KEY_LEN], e[WG_KEY_LEN];
	uint8_t dh[WG_KEY_LEN], ts[WG_TIMESTAMP_LEN];

	memset(m, 0, sizeof(*m));
	m->header.type = WG_MSG_INITIATION;
	wg_put_le32(m->sender_index, wg_random_u32());
	wg_blake2s(ck, WG_HASH_LEN, WG_CONSTRUCTION, strlen(WG_CONSTRUCTION));
	wg_blake2s_2(h, ck, WG_HASH_LEN, WG_IDENTIFIER, strlen(WG_IDENTIFIER));
	wg_blake2s_2(h, h, WG_HASH_LEN, to->public_key, WG_KEY_LEN);
	wg_x25519_generate(e, m->unencrypted_ephemeral);                    /* e */
	wg_kdf(ck, NULL, NULL, ck, m->unencrypted_ephemeral, WG_KEY_LEN);
	wg_blake2s_2(h, h, WG_HASH_LEN, m->unencrypted_ephemeral, WG_KEY_LEN);
	CHECK_EQ(wg_x25519(dh, e, to->public_key), 0);                     /* es */
	wg_kdf(ck, k, NULL, ck, dh, WG_KEY_LEN);
	wg_seal(m->encrypted_static, spub, WG_KEY_LEN, h, WG_HASH_LEN, 0, k);  /* s */
	wg_blake2s_2(h, h, WG_HASH_LEN, m->encrypted_static, sizeof(m->encrypted_static));
	wg_kdf(ck, k, NULL, ck, ss, WG_KEY_LEN);                            /* ss */
	stamp(ts, sec, 0);                                                  /* {t} */
	wg_seal(m->encrypted_timestamp, ts, WG_TIMESTAMP_LEN, h, WG_HASH_LEN, 0, k);
	remac(m, sizeof(*m), to, 0);
}

/* A responder that kept a peer with a low-order static key (against peer_init's advice)
 * must still refuse it: the static-static DH is all zero, so anyone could forge the rest. */
static void test_zero_dh_static(void)
{
	struct owner a, b;
	struct wg_noise_peer *ab, *bz, *p = NULL;
	struct wg_msg_initiation m;
	struct wg_msg_response resp;
	uint8_t zero_ss[WG_KEY_LEN] = { 0 }, low[WG_KEY_LEN];

	owner_init(&a);
	owner_init(&b);
	ab = owner_add_peer(&a, &b, NULL);
	owner_add_peer(&b, &a, NULL);
	/* The forger is right: with a's true static and DH, b accepts and answers. */
	CHECK_EQ(wg_noise_peer_precompute(&a.dev, ab), WG_OK);
	forge_initiation(&m, &b, a.public_key, ab->precomputed_ss, 1);
	CHECK_EQ(wg_noise_consume_initiation(&b.dev, &m, sizeof(m), SEC, &p), WG_OK);
	CHECK(p == &b.peers[0]);
	if (p)
		CHECK_EQ(wg_noise_create_response(&b.dev, p, &resp, SEC), WG_OK);
	for (size_t i = 0; i < N_LOW_ORDER; i++) {
		low_order(low, i);
		b.n_peers = 1;
		bz = &b.peers[b.n_peers++];
		CHECK_EQ(wg_noise_peer_init(&b.dev, bz, low, NULL, &b), WG_ZERO_DH);
		forge_initiation(&m, &b, low, zero_ss, 1);
		REFUSE_INIT(&b, &m, sizeof(m), 2 * SEC, WG_ZERO_DH);
	}
	owner_clear(&a);
	owner_clear(&b);
}

/* ---- Refusals of initiations ----------------------------------------------------------- */

/* Damage that the MAC or the framing catches before any cryptography. */
static void refuse_framing(struct owner *b, const struct wg_msg_initiation *init, uint64_t now)
{
	uint8_t buf[WG_MSG_INITIATION_LEN + 1];
	struct wg_msg_initiation m;

	memcpy(buf, init, sizeof(*init));
	buf[sizeof(*init)] = 0;
	REFUSE_INIT(b, buf, 0, now, WG_SHORT);
	REFUSE_INIT(b, buf, WG_MSG_RESPONSE_LEN, now, WG_SHORT);
	REFUSE_INIT(b, buf, sizeof(*init) - 1, now, WG_SHORT);
	REFUSE_INIT(b, buf, sizeof(buf), now, WG_LONG);
	for (size_t i = 0; i < 4; i++) {             /* type 2, then a reserved byte set */
		m = *init;
		m.header.type = (uint8_t)(i == 0 ? WG_MSG_RESPONSE : m.header.type);
		if (i > 0)
			m.header.reserved[i - 1] = 1;
		remac(&m, sizeof(m), b, now);
		REFUSE_INIT(b, &m, sizeof(m), now, WG_WRONG_TYPE);
	}
	m = *init;
	m.macs.mac1[3] ^= 1;
	REFUSE_INIT(b, &m, sizeof(m), now, WG_BAD_MAC1);
	m = *init;
	m.encrypted_timestamp[0] ^= 1;                /* body changed, mac1 not recomputed */
	REFUSE_INIT(b, &m, sizeof(m), now, WG_BAD_MAC1);
	m = *init;
	remac(&m, sizeof(m), b, now);
	m.sender_index[0] ^= 1;
	REFUSE_INIT(b, &m, sizeof(m), now, WG_BAD_MAC1);
}

/* Damage under a valid mac1: the AEADs refuse it. */
static void refuse_crypto(struct owner *b, const struct wg_msg_initiation *init, uint64_t now)
{
	struct wg_msg_initiation m;
	uint8_t priv[WG_KEY_LEN];

	m = *init;
	m.encrypted_static[5] ^= 0x10;
	remac(&m, sizeof(m), b, now);
	REFUSE_INIT(b, &m, sizeof(m), now, WG_DECRYPT);
	m = *init;
	m.encrypted_static[WG_KEY_LEN + 2] ^= 1;      /* in the tag */
	remac(&m, sizeof(m), b, now);
	REFUSE_INIT(b, &m, sizeof(m), now, WG_DECRYPT);
	m = *init;
	m.encrypted_timestamp[1] ^= 1;
	remac(&m, sizeof(m), b, now);
	REFUSE_INIT(b, &m, sizeof(m), now, WG_DECRYPT);
	m = *init;
	wg_x25519_generate(priv, m.unencrypted_ephemeral);   /* a valid but foreign point */
	remac(&m, sizeof(m), b, now);
	REFUSE_INIT(b, &m, sizeof(m), now, WG_DECRYPT);
}

static void test_initiation_refusals(void)
{
	struct owner a, b;
	struct wg_noise_peer *ab;
	struct wg_msg_initiation init, m;
	struct wg_msg_response resp;
	struct wg_keypair *ikp = NULL, *rkp = NULL;
	struct clock c = { SEC, 0 };

	owner_init(&a);
	owner_init(&b);
	ab = owner_add_peer(&a, &b, NULL);
	initiate(&a, ab, &c, &init);
	/* b does not know a yet: the static key decrypts but matches no peer. */
	REFUSE_INIT(&b, &init, sizeof(init), c.now, WG_UNKNOWN_PEER);
	owner_add_peer(&b, &a, NULL);
	refuse_framing(&b, &init, c.now);
	refuse_crypto(&b, &init, c.now);
	/* mac2 is not this function's business: a damaged mac2 still passes. */
	m = init;
	m.macs.mac2[0] ^= 1;
	CHECK_EQ(respond(&b, &m, c.now, &resp, &rkp), WG_OK);
	CHECK_EQ(finish(&a, ab, &resp, c.now, &ikp), WG_OK);
	if (ikp && rkp)
		check_session(ikp, rkp);
	owner_clear(&a);
	owner_clear(&b);
}

/* ---- Refusals of responses ------------------------------------------------------------- */

static void refuse_resp_framing(struct owner *a, const struct wg_msg_response *resp)
{
	uint8_t buf[WG_MSG_RESPONSE_LEN + 1];
	struct wg_msg_response m;

	memcpy(buf, resp, sizeof(*resp));
	buf[sizeof(*resp)] = 0;
	REFUSE_RESP(a, buf, 3, WG_SHORT);
	REFUSE_RESP(a, buf, sizeof(*resp) - 1, WG_SHORT);
	REFUSE_RESP(a, buf, sizeof(buf), WG_LONG);
	m = *resp;
	m.header.type = WG_MSG_INITIATION;
	remac(&m, sizeof(m), a, 0);
	REFUSE_RESP(a, &m, sizeof(m), WG_WRONG_TYPE);
	m = *resp;
	m.header.reserved[2] = 0x80;
	remac(&m, sizeof(m), a, 0);
	REFUSE_RESP(a, &m, sizeof(m), WG_WRONG_TYPE);
	m = *resp;
	m.macs.mac1[WG_MAC_LEN - 1] ^= 1;
	REFUSE_RESP(a, &m, sizeof(m), WG_BAD_MAC1);
	m = *resp;
	m.unencrypted_ephemeral[7] ^= 1;
	REFUSE_RESP(a, &m, sizeof(m), WG_BAD_MAC1);
}

/* Crypto and index damage under a valid mac1. */
static void refuse_resp_crypto(struct owner *a, const struct wg_msg_response *resp)
{
	struct wg_msg_response m;
	uint8_t priv[WG_KEY_LEN];
	uint32_t unknown;

	m = *resp;
	m.encrypted_nothing[0] ^= 1;
	remac(&m, sizeof(m), a, 0);
	REFUSE_RESP(a, &m, sizeof(m), WG_DECRYPT);
	m = *resp;
	wg_x25519_generate(priv, m.unencrypted_ephemeral);
	remac(&m, sizeof(m), a, 0);
	REFUSE_RESP(a, &m, sizeof(m), WG_DECRYPT);
	m = *resp;
	do
		unknown = wg_random_u32();
	while (index_find(a, unknown) != NULL);
	wg_put_le32(m.receiver_index, unknown);
	remac(&m, sizeof(m), a, 0);
	REFUSE_RESP(a, &m, sizeof(m), WG_UNKNOWN_INDEX);
}

/* A response aimed at an index that a keypair of the same peer holds, while a handshake is
 * pending: the peer is found, but its handshake does not hold that index. */
static void refuse_resp_keypair_index(struct owner *a, struct wg_noise_peer *ab,
				      const struct wg_msg_response *resp)
{
	struct wg_msg_response m = *resp;

	if (!CHECK(ab->keypairs.current != NULL))
		return;
	wg_put_le32(m.receiver_index, ab->keypairs.current->local_index);
	remac(&m, sizeof(m), a, 0);
	REFUSE_RESP(a, &m, sizeof(m), WG_BAD_STATE);
}

/* Out-of-order calls: responses without an initiation, sessions without a handshake. */
static void test_bad_state(void)
{
	struct owner a, b;
	struct wg_noise_peer *ab, *ba;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_keypair kp;
	struct clock c = { SEC, 0 };

	owner_init(&a);
	owner_init(&b);
	ab = owner_add_peer(&a, &b, NULL);
	ba = owner_add_peer(&b, &a, NULL);
	CHECK_EQ(wg_noise_create_response(&b.dev, ba, &resp, c.now), WG_BAD_STATE);
	CHECK_EQ(wg_noise_begin_session(ba, &kp, c.now), WG_BAD_STATE);
	initiate(&a, ab, &c, &init);
	CHECK_EQ(wg_noise_create_response(&a.dev, ab, &resp, c.now), WG_BAD_STATE);
	CHECK_EQ(wg_noise_begin_session(ab, &kp, c.now), WG_BAD_STATE);
	CHECK(ab->hs.state == WG_HS_CREATED_INITIATION);
	CHECK(wg_noise_consume_initiation(&b.dev, &init, sizeof(init), c.now, &ba) == WG_OK);
	CHECK_EQ(wg_noise_begin_session(ba, &kp, c.now), WG_BAD_STATE);
	CHECK_EQ(wg_noise_create_response(&b.dev, ba, &resp, c.now), WG_OK);
	CHECK_EQ(wg_noise_create_response(&b.dev, ba, &resp, c.now), WG_BAD_STATE);
	CHECK(ba->hs.state == WG_HS_CREATED_RESPONSE);
	CHECK_EQ(begin(&b, ba, NULL, c.now), WG_OK);
	CHECK_EQ(begin(&b, ba, NULL, c.now), WG_BAD_STATE);
	owner_clear(&a);
	owner_clear(&b);
}

static void test_response_refusals(void)
{
	struct owner a, b;
	struct wg_noise_peer *ab;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_keypair *ikp = NULL, *rkp = NULL;
	struct clock c = { SEC, 0 };

	owner_init(&a);
	owner_init(&b);
	ab = owner_add_peer(&a, &b, NULL);
	owner_add_peer(&b, &a, NULL);
	CHECK_EQ(handshake(&a, ab, &b, &c, &ikp, &rkp), WG_OK);   /* gives ab a keypair */
	initiate(&a, ab, &c, &init);
	CHECK_EQ(respond(&b, &init, c.now, &resp, &rkp), WG_OK);
	refuse_resp_framing(&a, &resp);
	refuse_resp_crypto(&a, &resp);
	refuse_resp_keypair_index(&a, ab, &resp);
	CHECK_EQ(wg_noise_consume_response(&a.dev, &resp, sizeof(resp), &ab), WG_OK);
	/*
	 * Consumed twice. Before the session begins, the handshake is past CREATED_INITIATION;
	 * after, the index belongs to the new keypair and stays in the owner's table, so the
	 * peer is still found but its handshake (zeroed) does not hold it: WG_BAD_STATE both
	 * times. Only once the keypair is retired and its index dropped does the same response
	 * become WG_UNKNOWN_INDEX.
	 */
	REFUSE_RESP(&a, &resp, sizeof(resp), WG_BAD_STATE);
	CHECK_EQ(begin(&a, ab, &ikp, c.now), WG_OK);
	if (ikp && rkp)
		check_session(ikp, rkp);
	REFUSE_RESP(&a, &resp, sizeof(resp), WG_BAD_STATE);
	CHECK(ab->keypairs.current == ikp);
	owner_retire_all(&a);
	REFUSE_RESP(&a, &resp, sizeof(resp), WG_UNKNOWN_INDEX);
	owner_clear(&a);
	owner_clear(&b);
}

/* ---- Devices without a key, and a change of key ---------------------------------------- */

static void test_no_key(void)
{
	struct owner a, n;
	struct wg_noise_peer *an, *na;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_keypair *ikp = NULL, *rkp = NULL;
	uint8_t priv[WG_KEY_LEN], ts[WG_TIMESTAMP_LEN];
	struct clock c = { SEC, 0 };

	owner_init(&a);
	memset(&n, 0, sizeof(n));
	CHECK_EQ(wg_noise_device_init(&n.dev, NULL, &callbacks, &n), 0);
	CHECK(!n.dev.has_identity);
	na = owner_add_peer(&n, &a, NULL);
	stamp(ts, 1, 0);
	CHECK_EQ(wg_noise_create_initiation(&n.dev, na, &init, ts, c.now), WG_NO_KEY);
	CHECK_EQ(n.n_idx, 0);

	/* A message that would be fine for a keyed device. */
	wg_x25519_generate(priv, n.public_key);
	an = owner_add_peer(&a, &n, NULL);
	initiate(&a, an, &c, &init);
	REFUSE_INIT(&n, &init, sizeof(init), c.now, WG_NO_KEY);
	memset(&resp, 0, sizeof(resp));
	resp.header.type = WG_MSG_RESPONSE;
	REFUSE_RESP(&n, &resp, sizeof(resp), WG_NO_KEY);

	/* Now give n that key: every peer's DH must be redone. */
	CHECK_EQ(wg_noise_device_set_key(&n.dev, priv), 0);
	CHECK_MEM(n.dev.static_public, n.public_key, WG_KEY_LEN);
	CHECK_EQ(wg_noise_peer_rekey_static(&n.dev, na), WG_OK);
	CHECK_EQ(wg_noise_peer_precompute(&n.dev, na), WG_OK);
	CHECK_EQ(wg_noise_peer_precompute(&a.dev, an), WG_OK);
	CHECK_MEM(na->precomputed_ss, an->precomputed_ss, WG_KEY_LEN);
	CHECK_EQ(respond(&n, &init, c.now, &resp, &rkp), WG_OK);
	CHECK_EQ(finish(&a, an, &resp, c.now, &ikp), WG_OK);
	if (ikp && rkp)
		check_session(ikp, rkp);
	/* And take it away again: a zero key means none. */
	CHECK_EQ(wg_noise_device_set_key(&n.dev, (const uint8_t[WG_KEY_LEN]){ 0 }), 0);
	CHECK(!n.dev.has_identity);
	CHECK_EQ(wg_noise_create_initiation(&n.dev, na, &init, ts, c.now), WG_NO_KEY);
	wg_wipe(priv, sizeof(priv));
	owner_clear(&a);
	owner_clear(&n);
}

/* ---- Keypair slots --------------------------------------------------------------------- */

enum slot_op { ADD_I, ADD_R, RECV, CLEAR };

struct slot_step {
	enum slot_op op;
	int kp;                          /* keypair 1..7 the op is about; 0 = NULL */
	int next, current, previous;     /* slots after the op; 0 = empty */
	unsigned retired;                /* bit k: keypair k retired by the op */
};

#define R(k) (1u << (k))

static const struct slot_step initiator_only[] = {
	{ ADD_I, 1, 0, 1, 0, 0 },
	{ ADD_I, 2, 0, 2, 1, 0 },
	{ ADD_I, 3, 0, 3, 2, R(1) },
	{ RECV, 2, 0, 3, 2, 0 },         /* data on previous: nothing */
	{ CLEAR, 0, 0, 0, 0, R(2) | R(3) },
};

static const struct slot_step responder_only[] = {
	{ ADD_R, 1, 1, 0, 0, 0 },
	{ RECV, 1, 0, 1, 0, 0 },         /* first data on next: promoted */
	{ RECV, 1, 0, 1, 0, 0 },         /* on current: nothing */
	{ ADD_R, 2, 2, 1, 0, 0 },
	{ ADD_R, 3, 3, 1, 0, R(2) },     /* a newer next replaces one never used */
	{ RECV, 1, 3, 1, 0, 0 },         /* data on current: next keeps waiting */
	{ RECV, 3, 0, 3, 1, 0 },
	{ ADD_R, 4, 4, 3, 0, R(1) },     /* the responder's add drops previous */
	{ RECV, 4, 0, 4, 3, 0 },
	{ RECV, 3, 0, 4, 3, 0 },         /* on previous: nothing */
	{ RECV, 5, 0, 4, 3, 0 },         /* a keypair not in the slots: nothing */
	{ CLEAR, 0, 0, 0, 0, R(3) | R(4) },
};

static const struct slot_step initiator_with_next[] = {
	{ ADD_I, 1, 0, 1, 0, 0 },
	{ ADD_I, 2, 0, 2, 1, 0 },
	{ ADD_R, 3, 3, 2, 0, R(1) },
	{ ADD_I, 4, 0, 4, 3, R(2) },     /* next is newer than current: it becomes previous */
	{ RECV, 3, 0, 4, 3, 0 },         /* too late to promote it */
	{ CLEAR, 0, 0, 0, 0, R(3) | R(4) },
};

static const struct slot_step next_alone[] = {
	{ RECV, 0, 0, 0, 0, 0 },         /* NULL while next is NULL: nothing promoted */
	{ CLEAR, 0, 0, 0, 0, 0 },
	{ ADD_R, 1, 1, 0, 0, 0 },
	{ RECV, 0, 1, 0, 0, 0 },
	{ ADD_I, 2, 0, 2, 1, 0 },
	{ RECV, 0, 0, 2, 1, 0 },         /* NULL with current set: still nothing */
	{ ADD_R, 3, 3, 2, 0, R(1) },
	{ ADD_I, 4, 0, 4, 3, R(2) },
	{ ADD_I, 5, 0, 5, 4, R(3) },
	{ CLEAR, 0, 0, 0, 0, R(4) | R(5) },
};

static struct wg_keypair *kp_of(struct wg_keypair *kps, int k)
{
	return k ? &kps[k] : NULL;
}

/* The retired keypairs as a mask; ~0u if one is out of range or listed twice. */
static unsigned retired_mask(const struct wg_keypair *kps, struct wg_keypair *const *r,
			     unsigned n)
{
	unsigned mask = 0;

	for (unsigned i = 0; i < n; i++) {
		ptrdiff_t k = r[i] - kps;

		if (r[i] == NULL || k < 1 || k > 7 || (mask & R(k)))
			return ~0u;
		mask |= R(k);
	}
	return mask;
}

static void slot_step(const char *name, size_t i, const struct slot_step *st,
		      struct wg_keypair *kps, struct wg_keypair_slots *s, unsigned *live)
{
	struct wg_keypair *r[3] = { NULL, NULL, NULL };
	struct wg_keypair *kp = kp_of(kps, st->kp);
	unsigned n = 0, got;
	int ok = 1;

	if (st->op == ADD_I || st->op == ADD_R) {
		kp->initiator = st->op == ADD_I;
		n = wg_keypairs_add(s, kp, r);
		*live |= R(st->kp);
	} else if (st->op == RECV) {
		n = wg_keypairs_received(s, kp, r);
	} else {
		n = wg_keypairs_clear(s, r);
	}
	got = n <= 3 ? retired_mask(kps, r, n) : ~0u;
	ok &= CHECK_EQ(got, st->retired);
	ok &= CHECK((got & ~*live) == 0);       /* only what was live can be retired */
	ok &= CHECK(s->next == kp_of(kps, st->next));
	ok &= CHECK(s->current == kp_of(kps, st->current));
	ok &= CHECK(s->previous == kp_of(kps, st->previous));
	if (!ok)
		fprintf(stderr, "  in slot table %s, step %zu\n", name, i);
	*live &= ~got;
}

static void run_slots(const char *name, const struct slot_step *steps, size_t n)
{
	struct wg_keypair kps[8];
	struct wg_keypair_slots s = { NULL, NULL, NULL };
	unsigned live = 0;

	memset(kps, 0, sizeof(kps));
	for (size_t i = 0; i < n; i++)
		slot_step(name, i, &steps[i], kps, &s, &live);
	CHECK_EQ(live, 0);                       /* each table ends empty: all retired once */
}

#define RUN_SLOTS(t) run_slots(#t, t, sizeof(t) / sizeof(t[0]))

static void test_slots(void)
{
	RUN_SLOTS(initiator_only);
	RUN_SLOTS(responder_only);
	RUN_SLOTS(initiator_with_next);
	RUN_SLOTS(next_alone);
}

/* ---- Index hygiene --------------------------------------------------------------------- */

static void expect_index(struct owner *o, uint32_t index, struct wg_noise_peer *p, int line)
{
	struct index_entry *e = index_find(o, index);

	check_at(e != NULL && e->peer == p, __FILE__, line, "live index in the table");
}

/* The table holds exactly each peer's handshake index and its keypairs' local indices. */
#define CHECK_INDICES(o) check_indices(o, __LINE__)

static void check_indices(struct owner *o, int line)
{
	size_t want = 0;

	for (size_t i = 0; i < o->n_peers; i++) {
		struct wg_noise_peer *p = &o->peers[i];
		struct wg_keypair *kps[3] = { p->keypairs.next, p->keypairs.current,
					      p->keypairs.previous };

		if (p->hs.has_index) {
			expect_index(o, p->hs.local_index, p, line);
			want++;
		}
		for (size_t k = 0; k < 3; k++) {
			if (kps[k] == NULL)
				continue;
			expect_index(o, kps[k]->local_index, p, line);
			want++;
		}
	}
	check_eq_at((long long)o->n_idx, (long long)want, __FILE__, line, "table size");
	check_eq_at(o->bad_drops, 0, __FILE__, line, "no unknown drops");
}

static void test_index_hygiene(void)
{
	struct owner a, b;
	struct wg_noise_peer *ab, *ba;
	struct wg_msg_initiation i1, i2;
	struct wg_msg_response r1, r2;
	struct wg_keypair *ikp = NULL, *rkp = NULL;
	struct wg_noise_peer *p = NULL;
	struct clock c = { SEC, 0 };
	uint32_t dropped;

	owner_init(&a);
	owner_init(&b);
	ab = owner_add_peer(&a, &b, NULL);
	ba = owner_add_peer(&b, &a, NULL);
	CHECK_EQ(handshake(&a, ab, &b, &c, &ikp, &rkp), WG_OK);
	CHECK_INDICES(&a);
	CHECK_INDICES(&b);
	CHECK(a.n_idx == 1 && b.n_idx == 1);
	received(&b, rkp);

	/* A restarted handshake: the first initiation's index goes at once. */
	initiate(&a, ab, &c, &i1);
	dropped = ab->hs.local_index;
	CHECK_EQ(a.n_idx, 2);
	initiate(&a, ab, &c, &i2);
	CHECK(index_find(&a, dropped) == NULL);
	CHECK_INDICES(&a);
	/* b answers both; the second initiation replaces the first handshake and its index. */
	CHECK_EQ(wg_noise_consume_initiation(&b.dev, &i1, sizeof(i1), c.now, &p), WG_OK);
	CHECK_EQ(wg_noise_create_response(&b.dev, p, &r1, c.now), WG_OK);
	CHECK_EQ(b.n_idx, 2);
	CHECK_INDICES(&b);
	c.now += SEC;
	CHECK_EQ(respond(&b, &i2, c.now, &r2, &rkp), WG_OK);
	CHECK_INDICES(&b);
	CHECK(index_find(&b, wg_get_le32(r1.sender_index)) == NULL);
	REFUSE_RESP(&a, &r1, sizeof(r1), WG_UNKNOWN_INDEX);
	CHECK_EQ(finish(&a, ab, &r2, c.now, &ikp), WG_OK);
	CHECK_INDICES(&a);
	CHECK(a.n_idx == 2 && b.n_idx == 2);

	/* A third session retires a's oldest keypair, b's current waits behind the next. */
	received(&b, rkp);
	CHECK_EQ(handshake(&a, ab, &b, &c, &ikp, &rkp), WG_OK);
	CHECK_INDICES(&a);
	CHECK_INDICES(&b);
	CHECK(a.n_idx == 2 && b.n_idx == 2);
	initiate(&a, ab, &c, &i1);
	wg_noise_handshake_clear(&a.dev, ab);
	CHECK_INDICES(&a);
	initiate(&a, ab, &c, &i1);
	CHECK_EQ(wg_noise_peer_rekey_static(&a.dev, ab), WG_OK);   /* drops it too */
	CHECK_INDICES(&a);
	CHECK(ba->keypairs.next == rkp);
	owner_clear(&a);
	owner_clear(&b);
}

/* ---- Many handshakes ------------------------------------------------------------------- */

struct pairing {
	int from, to;          /* owners 0 (a), 1 (b), 2 (c) */
};

/* b is the hub with peers for a and c; a and c each know only b. */
static const struct pairing pairings[] = { { 0, 1 }, { 1, 0 }, { 2, 1 }, { 1, 2 } };

static struct wg_noise_peer *peer_for(struct owner *o, const struct owner *remote)
{
	for (size_t i = 0; i < o->n_peers; i++)
		if (memcmp(o->peers[i].remote_static, remote->public_key, WG_KEY_LEN) == 0)
			return &o->peers[i];
	return NULL;
}

static int many_one(struct owner *o, size_t i, struct clock *c)
{
	const struct pairing *pr = &pairings[i % 4];
	struct owner *io = &o[pr->from], *ro = &o[pr->to];
	struct wg_noise_peer *ip = peer_for(io, ro), *rp = peer_for(ro, io);
	struct wg_keypair *ikp = NULL, *rkp = NULL;
	uint8_t psk[WG_KEY_LEN];

	wg_random(psk, sizeof(psk));
	wg_noise_peer_set_psk(ip, i % 5 ? psk : NULL);
	wg_noise_peer_set_psk(rp, i % 5 ? psk : NULL);
	if (!CHECK_EQ(handshake(io, ip, ro, c, &ikp, &rkp), WG_OK) || !ikp || !rkp)
		return 0;
	check_session(ikp, rkp);
	CHECK(ikp->peer == ip && rkp->peer == rp);
	check_data(ikp, rkp, i);
	received(ro, rkp);
	check_data(rkp, ikp, i);
	return 1;
}

static void test_many(void)
{
	struct owner o[3];
	struct clock c = { SEC, 0 };
	int ok = 0;

	for (size_t i = 0; i < 3; i++)
		owner_init(&o[i]);
	owner_add_peer(&o[0], &o[1], NULL);
	owner_add_peer(&o[1], &o[0], NULL);
	owner_add_peer(&o[1], &o[2], NULL);
	owner_add_peer(&o[2], &o[1], NULL);
	for (size_t i = 0; i < 200; i++)
		ok += many_one(o, i, &c);
	CHECK_EQ(ok, 200);
	for (size_t i = 0; i < 3; i++) {
		CHECK_INDICES(&o[i]);
		owner_clear(&o[i]);
	}
}


/* AmneziaWG's form: the type field is another 32-bit value, covered by the MACs. A message
 * made with h1/h2 is refused as the plain type and by a responder expecting another value;
 * one whose type field is rewritten after the MACs fails mac1; the session is the same. */
static void test_typed(void)
{
	const uint32_t h1 = 1020325451u, h2 = 3288052141u;
	struct owner a, b;
	struct wg_noise_peer *ab, *ba, *p = NULL;
	struct wg_keypair *ikp = NULL, *rkp = NULL;
	struct wg_msg_initiation init, copy;
	struct wg_msg_response resp;
	uint8_t ts[WG_TIMESTAMP_LEN];
	uint64_t now = 10 * SEC;

	owner_init(&a);
	owner_init(&b);
	ab = owner_add_peer(&a, &b, NULL);
	ba = owner_add_peer(&b, &a, NULL);
	stamp(ts, 1, 0);
	CHECK_EQ(wg_noise_create_initiation_as(&a.dev, ab, &init, ts, now, h1), WG_OK);
	CHECK_EQ(wg_get_le32((const uint8_t *)&init), h1);
	CHECK_EQ(wg_noise_consume_initiation(&b.dev, &init, sizeof(init), now, &p), WG_WRONG_TYPE);
	CHECK_EQ(wg_noise_consume_initiation_as(&b.dev, &init, sizeof(init), now, h1 + 1, &p),
		 WG_WRONG_TYPE);
	copy = init;
	wg_put_le32((uint8_t *)&copy, WG_MSG_INITIATION);   /* the plain type, MACs unchanged */
	CHECK_EQ(wg_noise_consume_initiation(&b.dev, &copy, sizeof(copy), now, &p), WG_BAD_MAC1);
	CHECK_EQ(wg_noise_consume_initiation_as(&b.dev, &init, sizeof(init), now, h1, &p), WG_OK);
	CHECK(p == ba);
	CHECK_EQ(wg_noise_create_response_as(&b.dev, ba, &resp, now, h2), WG_OK);
	CHECK_EQ(wg_get_le32((const uint8_t *)&resp), h2);
	CHECK_EQ(begin(&b, ba, &rkp, now), WG_OK);
	CHECK_EQ(wg_noise_consume_response(&a.dev, &resp, sizeof(resp), &p), WG_WRONG_TYPE);
	CHECK_EQ(wg_noise_consume_response_as(&a.dev, &resp, sizeof(resp), h2, &p), WG_OK);
	CHECK(p == ab);
	CHECK_EQ(begin(&a, ab, &ikp, now), WG_OK);
	if (ikp && rkp) {
		check_session(ikp, rkp);
		CHECK_EQ(ikp->send_type, WG_MSG_DATA);   /* the owner sets another form's */
	}
	owner_clear(&a);
	owner_clear(&b);
}

/* A prepared result answers only the message it was made from, and a prepared refusal is
 * the answer's refusal; what prepare decrypted is what the initiator sent. */
static void test_prepared_mismatch(void)
{
	struct owner a, b;
	struct wg_noise_peer *ab, *p = NULL;
	struct wg_msg_initiation i1, i2;
	struct wg_msg_response resp;
	struct wg_noise_identity id;
	struct wg_noise_prepared prep;
	struct wg_keypair *ikp = NULL, *rkp = NULL;
	struct clock c = { SEC, 0 };

	owner_init(&a);
	owner_init(&b);
	ab = owner_add_peer(&a, &b, NULL);
	owner_add_peer(&b, &a, NULL);
	initiate(&a, ab, &c, &i1);
	initiate(&a, ab, &c, &i2);
	wg_noise_identity_get(&b.dev, &id);
	CHECK_EQ(wg_noise_prepare_response(&id, &i1, sizeof(i1), WG_MSG_INITIATION, &prep), WG_OK);
	CHECK_MEM(prep.initiator_static, a.public_key, WG_KEY_LEN);
	CHECK_EQ(wg_noise_answer_prepared(&b.dev, &prep, &i2, sizeof(i2), WG_MSG_INITIATION, c.now,
					  &resp, WG_MSG_RESPONSE, &p), WG_BAD_STATE);
	/* The second initiation, prepared and answered, completes (a holds its handshake). */
	CHECK_EQ(wg_noise_prepare_response(&id, &i2, sizeof(i2), WG_MSG_INITIATION, &prep), WG_OK);
	CHECK_EQ(wg_noise_answer_prepared(&b.dev, &prep, &i2, sizeof(i2), WG_MSG_INITIATION, c.now,
					  &resp, WG_MSG_RESPONSE, &p), WG_OK);
	CHECK_EQ(begin(&b, p, &rkp, c.now), WG_OK);
	CHECK_EQ(finish(&a, ab, &resp, c.now, &ikp), WG_OK);
	if (ikp && rkp)
		check_session(ikp, rkp);
	/* A device without identity prepares nothing. */
	id.has_identity = false;
	CHECK_EQ(wg_noise_prepare_response(&id, &i2, sizeof(i2), WG_MSG_INITIATION, &prep),
		 WG_NO_KEY);
	CHECK_EQ(prep.result, WG_NO_KEY);
	CHECK(wg_is_zero(prep.chaining_key, WG_HASH_LEN));
	wg_wipe(&id, sizeof(id));
	owner_clear(&a);
	owner_clear(&b);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (wg_crypto_init() != 0) {
		fprintf(stderr, "noise: crypto init failed\n");
		return 1;
	}
	wg_noise_init();
	test_tai64n();
	for (int pass = 0; pass < 2; pass++) {
		prepared_mode = pass == 1;
		test_psk();
		test_timestamps();
		test_zero_dh_peer();
		test_zero_dh_ephemeral();
		test_zero_dh_static();
		test_initiation_refusals();
		test_response_refusals();
		test_bad_state();
		test_no_key();
		test_index_hygiene();
		test_many();
	}
	test_prepared_mismatch();
	test_slots();
	test_typed();
	return check_report("noise");
}
