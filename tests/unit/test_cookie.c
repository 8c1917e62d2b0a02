/* SPDX-License-Identifier: MIT */
/*
 * MAC1, MAC2 and cookie replies. MAC1 and the cookie are checked against values computed
 * here from the whitepaper's definitions (an oracle made of the raw primitives); the cookie
 * round trip runs between two real devices, A sending initiations to B under load; the
 * lifetimes run on a fake clock.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "wg_cookie.h"
#include "wg_crypto.h"
#include "wg_noise.h"

#define MS (WG_NSEC_PER_SEC / 1000u)
#define SEC WG_NSEC_PER_SEC
#define MACS_LEN sizeof(struct wg_msg_macs)

/* Sources as the gateway passes them: address bytes, then the port. */
static const uint8_t src_a[6] = { 192, 0, 2, 1, 0xca, 0xfe };
static const uint8_t src_other_ip[6] = { 192, 0, 2, 2, 0xca, 0xfe };
static const uint8_t src_other_port[6] = { 192, 0, 2, 1, 0xca, 0xff };

/* ---- Oracles ---------------------------------------------------------------------------- */

/* mac1 = MAC(HASH(LABEL_MAC1 || receiver's public key), msg up to mac1). */
static void oracle_mac1(uint8_t out[WG_MAC_LEN], const uint8_t pub[WG_KEY_LEN],
			const uint8_t *msg, size_t len)
{
	uint8_t key[WG_HASH_LEN];

	wg_blake2s_2(key, WG_LABEL_MAC1, strlen(WG_LABEL_MAC1), pub, WG_KEY_LEN);
	wg_blake2s_keyed(out, WG_MAC_LEN, key, WG_KEY_LEN, msg, len - MACS_LEN);
}

/* mac2 = MAC(cookie, msg up to mac2); cookie = MAC(secret, source). */
static void oracle_mac2(uint8_t out[WG_MAC_LEN], const uint8_t cookie[WG_COOKIE_LEN],
			const uint8_t *msg, size_t len)
{
	wg_blake2s_keyed(out, WG_MAC_LEN, cookie, WG_COOKIE_LEN, msg, len - WG_MAC_LEN);
}

static void oracle_cookie(uint8_t out[WG_COOKIE_LEN], const struct wg_cookie_checker *c,
			  const uint8_t *src, size_t src_len)
{
	wg_blake2s_keyed(out, WG_COOKIE_LEN, c->secret, sizeof(c->secret), src, src_len);
}

/* A message of this length with a handshake header and random contents. */
static void random_msg(uint8_t *msg, size_t len)
{
	wg_random(msg, len);
	msg[0] = len == WG_MSG_INITIATION_LEN ? WG_MSG_INITIATION : WG_MSG_RESPONSE;
	msg[1] = msg[2] = msg[3] = 0;
}

static void new_public(uint8_t pub[WG_KEY_LEN])
{
	uint8_t priv[WG_KEY_LEN];

	wg_x25519_generate(priv, pub);
	wg_wipe(priv, sizeof(priv));
}

/* ---- MAC1 ------------------------------------------------------------------------------- */

/* Every byte before mac2 is covered by mac1; mac2's bytes are not. */
static void mac1_flips(const struct wg_cookie_checker *c, const uint8_t *msg, size_t len)
{
	uint8_t m[WG_MSG_INITIATION_LEN];
	unsigned wrong = 0;

	for (size_t i = 0; i < len; i++) {
		enum wg_result want = i < len - WG_MAC_LEN ? WG_BAD_MAC1 : WG_OK;

		memcpy(m, msg, len);
		m[i] ^= (uint8_t)(1u << (i % 8));
		if (!CHECK_EQ(wg_cookie_check_mac1(c, m, len), want) && wrong++ < 3)
			fprintf(stderr, "  flipped byte %zu of %zu\n", i, len);
	}
}

static void mac1_for_len(const struct wg_cookie_checker *cb, struct wg_cookie_maker *mb,
			 struct wg_cookie_maker *mc, const uint8_t pub_b[WG_KEY_LEN], size_t len)
{
	uint8_t msg[WG_MSG_INITIATION_LEN + 1], other[sizeof(msg)], mac[WG_MAC_LEN];

	random_msg(msg, len);
	memcpy(other, msg, sizeof(msg));
	wg_cookie_add_macs(mb, msg, len, SEC);
	CHECK_EQ(wg_cookie_check_mac1(cb, msg, len), WG_OK);
	oracle_mac1(mac, pub_b, msg, len);
	CHECK_MEM(msg + len - MACS_LEN, mac, WG_MAC_LEN);
	CHECK(wg_is_zero(msg + len - WG_MAC_LEN, WG_MAC_LEN));    /* no cookie: no mac2 */
	CHECK_MEM(mb->last_mac1, mac, WG_MAC_LEN);
	CHECK(mb->sent_mac1);
	mac1_flips(cb, msg, len);
	/* Made for another public key. */
	wg_cookie_add_macs(mc, other, len, SEC);
	CHECK_EQ(wg_cookie_check_mac1(cb, other, len), WG_BAD_MAC1);
	/* Lengths: too short for any handshake message, or not exactly one. */
	CHECK_EQ(wg_cookie_check_mac1(cb, msg, len - 1),
		 len == WG_MSG_RESPONSE_LEN ? WG_SHORT : WG_BAD_MAC1);
	CHECK_EQ(wg_cookie_check_mac1(cb, msg, len + 1), WG_BAD_MAC1);
	CHECK_EQ(wg_cookie_check_mac1(cb, msg, 0), WG_SHORT);
	CHECK_EQ(wg_cookie_check_mac1(cb, msg, WG_MSG_RESPONSE_LEN - 1), WG_SHORT);
}

static void test_mac1(void)
{
	struct wg_cookie_checker cb;
	struct wg_cookie_maker mb, mc;
	uint8_t pub_b[WG_KEY_LEN], pub_c[WG_KEY_LEN], msg[WG_MSG_INITIATION_LEN];

	new_public(pub_b);
	new_public(pub_c);
	wg_cookie_checker_init(&cb, pub_b);
	wg_cookie_maker_init(&mb, pub_b);
	wg_cookie_maker_init(&mc, pub_c);
	CHECK(!mb.sent_mac1 && mb.cookie_birth == 0);
	mac1_for_len(&cb, &mb, &mc, pub_b, WG_MSG_INITIATION_LEN);
	mac1_for_len(&cb, &mb, &mc, pub_b, WG_MSG_RESPONSE_LEN);
	/* An initiation read as a response looks for mac1 at another place. */
	random_msg(msg, sizeof(msg));
	wg_cookie_add_macs(&mb, msg, sizeof(msg), SEC);
	CHECK_EQ(wg_cookie_check_mac1(&cb, msg, WG_MSG_RESPONSE_LEN), WG_BAD_MAC1);
	/* A checker for a different key refuses what the right one accepts. */
	CHECK_EQ(wg_cookie_check_mac1(&cb, msg, sizeof(msg)), WG_OK);
	wg_cookie_checker_init(&cb, pub_c);
	CHECK_EQ(wg_cookie_check_mac1(&cb, msg, sizeof(msg)), WG_BAD_MAC1);
}

/* ---- Two devices for the round trip ------------------------------------------------------ */

/* One device with one peer; the callbacks are just enough for A to create initiations
 * and B to consume them. */
struct side {
	struct wg_noise_device dev;
	struct wg_noise_peer peer;
	uint32_t last_index;
};

static uint32_t cb_index_new(void *ctx, struct wg_noise_peer *peer)
{
	struct side *s = ctx;

	(void)peer;
	return ++s->last_index;
}

static void cb_index_drop(void *ctx, uint32_t index)
{
	(void)ctx;
	(void)index;
}

static struct wg_noise_peer *cb_peer_by_key(void *ctx, const uint8_t key[WG_KEY_LEN])
{
	struct side *s = ctx;

	return memcmp(s->peer.remote_static, key, WG_KEY_LEN) == 0 ? &s->peer : NULL;
}

static struct wg_noise_peer *cb_peer_by_index(void *ctx, uint32_t index)
{
	(void)ctx;
	(void)index;
	return NULL;
}

static const struct wg_noise_callbacks callbacks = {
	.index_new = cb_index_new,
	.index_drop = cb_index_drop,
	.peer_by_key = cb_peer_by_key,
	.peer_by_index = cb_peer_by_index,
};

static void sides_init(struct side *a, struct side *b)
{
	uint8_t pa[WG_KEY_LEN], pb[WG_KEY_LEN], pub[WG_KEY_LEN];

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	wg_x25519_generate(pa, pub);
	wg_x25519_generate(pb, pub);
	CHECK_EQ(wg_noise_device_init(&a->dev, pa, &callbacks, a), 0);
	CHECK_EQ(wg_noise_device_init(&b->dev, pb, &callbacks, b), 0);
	CHECK_EQ(wg_noise_peer_init(&a->dev, &a->peer, b->dev.static_public, NULL, a), WG_OK);
	CHECK_EQ(wg_noise_peer_init(&b->dev, &b->peer, a->dev.static_public, NULL, b), WG_OK);
	wg_wipe(pa, sizeof(pa));
	wg_wipe(pb, sizeof(pb));
}

static void initiate(struct side *a, struct wg_msg_initiation *m, uint64_t sec, uint64_t now)
{
	uint8_t ts[WG_TIMESTAMP_LEN];

	wg_tai64n(ts, 1700000000 + sec, 0);
	CHECK_EQ(wg_noise_create_initiation(&a->dev, &a->peer, m, ts, now), WG_OK);
}

/* ---- The cookie round trip --------------------------------------------------------------- */

/* mac2 holds for exactly this source and this message. */
static void mac2_refusals(struct wg_cookie_checker *c, const struct wg_msg_initiation *m,
			  uint64_t now)
{
	struct wg_msg_initiation x;

	CHECK_EQ(wg_cookie_check_mac2(c, m, sizeof(*m), src_other_ip, 6, now), WG_BAD_MAC2);
	CHECK_EQ(wg_cookie_check_mac2(c, m, sizeof(*m), src_other_port, 6, now), WG_BAD_MAC2);
	CHECK_EQ(wg_cookie_check_mac2(c, m, sizeof(*m), src_a, 4, now), WG_BAD_MAC2);
	CHECK_EQ(wg_cookie_check_mac2(c, m, sizeof(*m) - 1, src_a, 6, now), WG_BAD_MAC2);
	CHECK_EQ(wg_cookie_check_mac2(c, m, WG_MSG_RESPONSE_LEN, src_a, 6, now), WG_BAD_MAC2);
	x = *m;
	x.encrypted_static[0] ^= 1;
	CHECK_EQ(wg_cookie_check_mac2(c, &x, sizeof(x), src_a, 6, now), WG_BAD_MAC2);
	x = *m;
	x.macs.mac1[0] ^= 1;                         /* mac2 covers mac1 */
	CHECK_EQ(wg_cookie_check_mac2(c, &x, sizeof(x), src_a, 6, now), WG_BAD_MAC2);
	x = *m;
	x.macs.mac2[WG_MAC_LEN - 1] ^= 1;
	CHECK_EQ(wg_cookie_check_mac2(c, &x, sizeof(x), src_a, 6, now), WG_BAD_MAC2);
}

static void test_round_trip(void)
{
	struct side a, b;
	struct wg_msg_initiation m1, m2;
	struct wg_msg_response resp;
	struct wg_msg_cookie_reply reply;
	struct wg_noise_peer *p = NULL;
	uint8_t cookie[WG_COOKIE_LEN], mac[WG_MAC_LEN];
	const uint64_t t = 1000 * SEC;

	sides_init(&a, &b);
	/* Under load, B asks for mac2: the first initiation has none. */
	initiate(&a, &m1, 1, t);
	CHECK(wg_is_zero(m1.macs.mac2, WG_MAC_LEN));
	CHECK_EQ(wg_cookie_check_mac1(&b.dev.cookie, &m1, sizeof(m1)), WG_OK);
	CHECK_EQ(wg_cookie_check_mac2(&b.dev.cookie, &m1, sizeof(m1), src_a, 6, t), WG_BAD_MAC2);
	wg_cookie_create_reply(&b.dev.cookie, &reply, &m1, sizeof(m1),
			       wg_get_le32(m1.sender_index), src_a, 6, t + MS);
	CHECK_EQ(reply.header.type, WG_MSG_COOKIE_REPLY);
	CHECK(wg_msg_type(&reply, sizeof(reply)) == WG_MSG_COOKIE_REPLY);
	CHECK_EQ(wg_get_le32(reply.receiver_index), wg_get_le32(m1.sender_index));
	CHECK_EQ(wg_cookie_consume_reply(&a.peer.cookie, &reply, sizeof(reply), t + 2 * MS),
		 WG_OK);
	oracle_cookie(cookie, &b.dev.cookie, src_a, 6);
	CHECK_MEM(a.peer.cookie.cookie, cookie, WG_COOKIE_LEN);
	/* Taken once: no message of A's awaits another cookie now. */
	CHECK_EQ(wg_cookie_consume_reply(&a.peer.cookie, &reply, sizeof(reply), t + 2 * MS),
		 WG_BAD_STATE);

	/* A's next initiation carries mac2, good for A's source only. */
	initiate(&a, &m2, 2, t + 30 * MS);
	oracle_mac2(mac, cookie, (const uint8_t *)&m2, sizeof(m2));
	CHECK_MEM(m2.macs.mac2, mac, WG_MAC_LEN);
	CHECK_EQ(wg_cookie_check_mac1(&b.dev.cookie, &m2, sizeof(m2)), WG_OK);
	CHECK_EQ(wg_cookie_check_mac2(&b.dev.cookie, &m2, sizeof(m2), src_a, 6, t + 31 * MS),
		 WG_OK);
	mac2_refusals(&b.dev.cookie, &m2, t + 31 * MS);
	CHECK_EQ(wg_noise_consume_initiation(&b.dev, &m2, sizeof(m2), t + 31 * MS, &p), WG_OK);
	CHECK(p == &b.peer);
	/* The responder's messages carry mac2 the same way (B's maker has no cookie). */
	CHECK_EQ(wg_noise_create_response(&b.dev, &b.peer, &resp, t + 32 * MS), WG_OK);
	CHECK(wg_is_zero(resp.macs.mac2, WG_MAC_LEN));
	/* A new checker key means a new secret: the cookie is worthless. */
	wg_cookie_checker_init(&b.dev.cookie, b.dev.static_public);
	CHECK_EQ(wg_cookie_check_mac2(&b.dev.cookie, &m2, sizeof(m2), src_a, 6, t + 33 * MS),
		 WG_BAD_MAC2);
}

/* A response-sized message takes mac2 too. */
static void test_response_mac2(void)
{
	struct wg_cookie_checker c;
	struct wg_cookie_maker m;
	struct wg_msg_cookie_reply reply;
	uint8_t pub[WG_KEY_LEN], msg[WG_MSG_RESPONSE_LEN];

	new_public(pub);
	wg_cookie_checker_init(&c, pub);
	wg_cookie_maker_init(&m, pub);
	random_msg(msg, sizeof(msg));
	wg_cookie_add_macs(&m, msg, sizeof(msg), SEC);
	wg_cookie_create_reply(&c, &reply, msg, sizeof(msg), 7, src_a, 6, SEC);
	CHECK_EQ(wg_cookie_consume_reply(&m, &reply, sizeof(reply), SEC), WG_OK);
	random_msg(msg, sizeof(msg));
	wg_cookie_add_macs(&m, msg, sizeof(msg), 2 * SEC);
	CHECK(!wg_is_zero(msg + sizeof(msg) - WG_MAC_LEN, WG_MAC_LEN));
	CHECK_EQ(wg_cookie_check_mac1(&c, msg, sizeof(msg)), WG_OK);
	CHECK_EQ(wg_cookie_check_mac2(&c, msg, sizeof(msg), src_a, 6, 2 * SEC), WG_OK);
	CHECK_EQ(wg_cookie_check_mac2(&c, msg, sizeof(msg), src_other_port, 6, 2 * SEC),
		 WG_BAD_MAC2);
}

/* ---- Replies that must be refused ---------------------------------------------------------- */

#define REFUSE_REPLY(m, r, len, want) refuse_reply(m, r, len, want, __LINE__)

/* The maker refuses the reply and is left as it was, byte for byte. */
static void refuse_reply(struct wg_cookie_maker *m, const void *reply, size_t len,
			 enum wg_result want, int line)
{
	struct wg_cookie_maker before;

	memcpy(&before, m, sizeof(before));
	check_eq_at(wg_cookie_consume_reply(m, reply, len, 5 * SEC), want, __FILE__, line,
		    "consume_reply refusal");
	check_at(memcmp(&before, m, sizeof(before)) == 0, __FILE__, line, "maker unchanged");
}

static void reply_framing(struct wg_cookie_maker *m, const struct wg_msg_cookie_reply *good)
{
	uint8_t buf[WG_MSG_COOKIE_REPLY_LEN + 1];
	struct wg_msg_cookie_reply r;

	memcpy(buf, good, sizeof(*good));
	buf[sizeof(*good)] = 0;
	REFUSE_REPLY(m, buf, 0, WG_SHORT);
	REFUSE_REPLY(m, buf, sizeof(*good) - 1, WG_SHORT);
	REFUSE_REPLY(m, buf, sizeof(buf), WG_LONG);
	r = *good;
	r.header.type = WG_MSG_RESPONSE;
	REFUSE_REPLY(m, &r, sizeof(r), WG_WRONG_TYPE);
	r = *good;
	r.header.reserved[0] = 1;
	REFUSE_REPLY(m, &r, sizeof(r), WG_WRONG_TYPE);
	r = *good;
	r.nonce[3] ^= 1;
	REFUSE_REPLY(m, &r, sizeof(r), WG_DECRYPT);
	r = *good;
	r.encrypted_cookie[0] ^= 1;
	REFUSE_REPLY(m, &r, sizeof(r), WG_DECRYPT);
	r = *good;
	r.encrypted_cookie[WG_COOKIE_LEN] ^= 1;     /* the tag */
	REFUSE_REPLY(m, &r, sizeof(r), WG_DECRYPT);
}

static void test_reply_refusals(void)
{
	struct wg_cookie_checker cb, cc;
	struct wg_cookie_maker m;
	struct wg_msg_cookie_reply r_old, r_last, r_other;
	uint8_t pub_b[WG_KEY_LEN], pub_c[WG_KEY_LEN];
	uint8_t m1[WG_MSG_INITIATION_LEN], m2[WG_MSG_INITIATION_LEN];

	new_public(pub_b);
	new_public(pub_c);
	wg_cookie_checker_init(&cb, pub_b);
	wg_cookie_checker_init(&cc, pub_c);
	wg_cookie_maker_init(&m, pub_b);
	random_msg(m1, sizeof(m1));
	random_msg(m2, sizeof(m2));
	wg_cookie_add_macs(&m, m1, sizeof(m1), SEC);
	wg_cookie_add_macs(&m, m2, sizeof(m2), 2 * SEC);
	wg_cookie_create_reply(&cb, &r_old, m1, sizeof(m1), 1, src_a, 6, 3 * SEC);
	wg_cookie_create_reply(&cb, &r_last, m2, sizeof(m2), 2, src_a, 6, 3 * SEC);
	wg_cookie_create_reply(&cc, &r_other, m2, sizeof(m2), 2, src_a, 6, 3 * SEC);

	/* Nothing sent yet: a reply cannot be for us. */
	wg_cookie_maker_init(&m, pub_b);
	REFUSE_REPLY(&m, &r_last, sizeof(r_last), WG_BAD_STATE);
	/* Sent m1 then m2: only a reply bound to m2's mac1, from B's key, is good. */
	wg_cookie_add_macs(&m, m1, sizeof(m1), SEC);
	wg_cookie_add_macs(&m, m2, sizeof(m2), 2 * SEC);
	REFUSE_REPLY(&m, &r_old, sizeof(r_old), WG_DECRYPT);
	REFUSE_REPLY(&m, &r_other, sizeof(r_other), WG_DECRYPT);
	reply_framing(&m, &r_last);
	CHECK_EQ(wg_cookie_consume_reply(&m, &r_last, sizeof(r_last), 5 * SEC), WG_OK);
	CHECK_EQ(m.cookie_birth, 5 * SEC);
	CHECK(!m.sent_mac1);
}

/* ---- Lifetimes ----------------------------------------------------------------------------- */

/* A cookie taken at `t` from a checker whose secret was born at `t`. */
static void fresh_cookie(struct wg_cookie_checker *c, struct wg_cookie_maker *m, uint64_t t)
{
	struct wg_msg_cookie_reply reply;
	uint8_t msg[WG_MSG_INITIATION_LEN];

	random_msg(msg, sizeof(msg));
	wg_cookie_add_macs(m, msg, sizeof(msg), t);
	wg_cookie_create_reply(c, &reply, msg, sizeof(msg), 9, src_a, 6, t);
	CHECK_EQ(wg_cookie_consume_reply(m, &reply, sizeof(reply), t), WG_OK);
}

/* A message sent at `sent`, checked at `checked`: the verdict. */
static enum wg_result mac2_at(struct wg_cookie_checker *c, struct wg_cookie_maker *m,
			      uint64_t sent, uint64_t checked, bool *has_mac2)
{
	uint8_t msg[WG_MSG_INITIATION_LEN];

	random_msg(msg, sizeof(msg));
	wg_cookie_add_macs(m, msg, sizeof(msg), sent);
	*has_mac2 = !wg_is_zero(msg + sizeof(msg) - WG_MAC_LEN, WG_MAC_LEN);
	return wg_cookie_check_mac2(c, msg, sizeof(msg), src_a, 6, checked);
}

static void test_expiry(void)
{
	struct wg_cookie_checker c;
	struct wg_cookie_maker m;
	uint8_t pub[WG_KEY_LEN];
	const uint64_t t = 5000 * SEC;
	const uint64_t cookie_life = (WG_COOKIE_SECRET_MAX_AGE - 5) * SEC;   /* 115 s */
	const uint64_t secret_life = WG_COOKIE_SECRET_MAX_AGE * SEC;         /* 120 s */
	bool has;

	new_public(pub);
	wg_cookie_checker_init(&c, pub);
	wg_cookie_maker_init(&m, pub);
	fresh_cookie(&c, &m, t);
	CHECK_EQ(c.secret_birth, t);
	/* The maker stops using its cookie 5 s before the secret behind it may change. */
	CHECK_EQ(mac2_at(&c, &m, t + cookie_life - 1, t + cookie_life, &has), WG_OK);
	CHECK(has);
	CHECK_EQ(mac2_at(&c, &m, t + cookie_life, t + cookie_life, &has), WG_BAD_MAC2);
	CHECK(!has);
	/* A mac2 made in time stops validating when the checker's secret rotates. */
	CHECK_EQ(mac2_at(&c, &m, t + 100 * SEC, t + secret_life - 1, &has), WG_OK);
	CHECK(has);
	CHECK_EQ(c.secret_birth, t);
	CHECK_EQ(mac2_at(&c, &m, t + 100 * SEC, t + secret_life, &has), WG_BAD_MAC2);
	CHECK(has);
	CHECK_EQ(c.secret_birth, t + secret_life);
	CHECK_EQ(mac2_at(&c, &m, t + 100 * SEC, t + secret_life + MS, &has), WG_BAD_MAC2);
	CHECK_EQ(c.secret_birth, t + secret_life);
	/* A new cookie under the new secret works again. */
	fresh_cookie(&c, &m, t + secret_life + SEC);
	CHECK_EQ(c.secret_birth, t + secret_life);
	CHECK_EQ(mac2_at(&c, &m, t + secret_life + 2 * SEC, t + secret_life + 2 * SEC, &has),
		 WG_OK);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (wg_crypto_init() != 0) {
		fprintf(stderr, "cookie: crypto init failed\n");
		return 1;
	}
	wg_noise_init();
	test_mac1();
	test_round_trip();
	test_response_mac2();
	test_reply_refusals();
	test_expiry();
	return check_report("cookie");
}
