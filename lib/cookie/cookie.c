/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "wg_cookie.h"
#include "wg_crypto.h"

/* A cookie is trusted this much less than the secret's life, for clock skew and latency. */
#define COOKIE_LATENCY_S 5u

static void derive_key(uint8_t key[WG_KEY_LEN], const char *label,
		       const uint8_t public_key[WG_KEY_LEN])
{
	wg_blake2s_2(key, label, strlen(label), public_key, WG_KEY_LEN);
}

/* Cookie reply nonces only need to be unique and unpredictable; under a flood the gateway
 * makes a few hundred thousand a second, and a system call for each would be most of the
 * cost. So they come from a per-thread pool of random bytes, refilled 768 at a time;
 * bytes are wiped as they are handed out. */
static void random_nonce(uint8_t *out, size_t n)
{
	static _Thread_local struct {
		uint8_t b[768];
		size_t off;
	} pool = { .off = sizeof(pool.b) };

	if (pool.off + n > sizeof(pool.b)) {
		wg_random(pool.b, sizeof(pool.b));
		pool.off = 0;
	}
	memcpy(out, pool.b + pool.off, n);
	wg_wipe(pool.b + pool.off, n);
	pool.off += n;
}

static bool is_handshake_len(size_t len)
{
	return len == WG_MSG_INITIATION_LEN || len == WG_MSG_RESPONSE_LEN;
}

/* Bytes covered by mac1 (everything before it) and mac2 (everything before mac2). */
static size_t mac1_span(size_t len)
{
	return len - sizeof(struct wg_msg_macs);
}

static size_t mac2_span(size_t len)
{
	return len - WG_MAC_LEN;
}

void wg_cookie_checker_init(struct wg_cookie_checker *c, const uint8_t local_public[WG_KEY_LEN])
{
	memset(c, 0, sizeof(*c));
	derive_key(c->mac1_key, WG_LABEL_MAC1, local_public);
	derive_key(c->cookie_key, WG_LABEL_COOKIE, local_public);
}

void wg_cookie_maker_init(struct wg_cookie_maker *m, const uint8_t remote_public[WG_KEY_LEN])
{
	wg_wipe(m, sizeof(*m));
	derive_key(m->mac1_key, WG_LABEL_MAC1, remote_public);
	derive_key(m->cookie_key, WG_LABEL_COOKIE, remote_public);
}

enum wg_result wg_cookie_check_mac1(const struct wg_cookie_checker *c, const void *msg,
				    size_t len)
{
	const uint8_t *p = msg;
	uint8_t mac[WG_MAC_LEN];

	if (!is_handshake_len(len))
		return len < WG_MSG_RESPONSE_LEN ? WG_SHORT : WG_BAD_MAC1;
	wg_blake2s_keyed(mac, WG_MAC_LEN, c->mac1_key, WG_KEY_LEN, p, mac1_span(len));
	return wg_equal(mac, p + mac1_span(len), WG_MAC_LEN) ? WG_OK : WG_BAD_MAC1;
}

static bool expired(uint64_t birth, uint64_t now, uint64_t life_s)
{
	return birth == 0 || now - birth >= life_s * WG_NSEC_PER_SEC;
}

/* A fresh secret every two minutes. */
static void rotate(struct wg_cookie_checker *c, uint64_t now)
{
	if (expired(c->secret_birth, now, WG_COOKIE_SECRET_MAX_AGE)) {
		wg_random(c->secret, sizeof(c->secret));
		c->secret_birth = now ? now : 1;
	}
}

/* The cookie for a source: MAC(secret, src). */
static void make_cookie(struct wg_cookie_checker *c, uint8_t cookie[WG_COOKIE_LEN],
			const uint8_t *src, size_t src_len, uint64_t now)
{
	rotate(c, now);
	wg_blake2s_keyed(cookie, WG_COOKIE_LEN, c->secret, sizeof(c->secret), src, src_len);
}

static enum wg_result verify_mac2(const uint8_t secret[WG_HASH_LEN], const uint8_t *p,
				  size_t len, const uint8_t *src, size_t src_len)
{
	uint8_t cookie[WG_COOKIE_LEN], mac[WG_MAC_LEN];
	bool ok;

	wg_blake2s_keyed(cookie, WG_COOKIE_LEN, secret, WG_HASH_LEN, src, src_len);
	wg_blake2s_keyed(mac, WG_MAC_LEN, cookie, WG_COOKIE_LEN, p, mac2_span(len));
	ok = wg_equal(mac, p + mac2_span(len), WG_MAC_LEN);
	wg_wipe(cookie, sizeof(cookie));
	return ok ? WG_OK : WG_BAD_MAC2;
}

enum wg_result wg_cookie_check_mac2(struct wg_cookie_checker *c, const void *msg, size_t len,
				    const uint8_t *src, size_t src_len, uint64_t now)
{
	if (!is_handshake_len(len))
		return WG_BAD_MAC2;
	rotate(c, now);
	return verify_mac2(c->secret, msg, len, src, src_len);
}

enum wg_result wg_cookie_verify_mac2(const uint8_t secret[WG_HASH_LEN], uint64_t birth,
				     const void *msg, size_t len, const uint8_t *src,
				     size_t src_len, uint64_t now)
{
	if (!is_handshake_len(len) || expired(birth, now, WG_COOKIE_SECRET_MAX_AGE))
		return WG_BAD_MAC2;
	return verify_mac2(secret, msg, len, src, src_len);
}

void wg_cookie_create_reply(struct wg_cookie_checker *c, struct wg_msg_cookie_reply *reply,
			    const void *msg, size_t len, uint32_t sender_index,
			    const uint8_t *src, size_t src_len, uint64_t now)
{
	const uint8_t *p = msg;
	uint8_t cookie[WG_COOKIE_LEN];

	memset(reply, 0, sizeof(*reply));
	reply->header.type = WG_MSG_COOKIE_REPLY;
	wg_put_le32(reply->receiver_index, sender_index);
	random_nonce(reply->nonce, sizeof(reply->nonce));
	make_cookie(c, cookie, src, src_len, now);
	/* The reply is bound to the message's mac1, so only its sender can use it. */
	wg_xaead_encrypt(reply->encrypted_cookie, cookie, WG_COOKIE_LEN, p + mac1_span(len),
			 WG_MAC_LEN, reply->nonce, c->cookie_key);
	wg_wipe(cookie, sizeof(cookie));
}

void wg_cookie_add_macs(struct wg_cookie_maker *m, void *msg, size_t len, uint64_t now)
{
	uint8_t *p = msg;
	struct wg_msg_macs *macs = (struct wg_msg_macs *)(p + mac1_span(len));

	wg_blake2s_keyed(macs->mac1, WG_MAC_LEN, m->mac1_key, WG_KEY_LEN, p, mac1_span(len));
	memcpy(m->last_mac1, macs->mac1, WG_MAC_LEN);
	m->sent_mac1 = true;

	if (expired(m->cookie_birth, now, WG_COOKIE_SECRET_MAX_AGE - COOKIE_LATENCY_S))
		memset(macs->mac2, 0, WG_MAC_LEN);
	else
		wg_blake2s_keyed(macs->mac2, WG_MAC_LEN, m->cookie, WG_COOKIE_LEN, p,
				 mac2_span(len));
}

enum wg_result wg_cookie_consume_reply(struct wg_cookie_maker *m, const void *msg, size_t len,
				       uint64_t now)
{
	const struct wg_msg_cookie_reply *r = msg;
	uint8_t cookie[WG_COOKIE_LEN];

	if (len < WG_MSG_COOKIE_REPLY_LEN)
		return WG_SHORT;
	if (len > WG_MSG_COOKIE_REPLY_LEN)
		return WG_LONG;
	if (wg_msg_type(msg, len) != WG_MSG_COOKIE_REPLY)
		return WG_WRONG_TYPE;
	if (!m->sent_mac1)
		return WG_BAD_STATE;
	if (wg_xaead_decrypt(cookie, r->encrypted_cookie, sizeof(r->encrypted_cookie),
			     m->last_mac1, WG_MAC_LEN, r->nonce, m->cookie_key) != 0)
		return WG_DECRYPT;
	memcpy(m->cookie, cookie, WG_COOKIE_LEN);
	m->cookie_birth = now ? now : 1;
	m->sent_mac1 = false;
	wg_wipe(cookie, sizeof(cookie));
	return WG_OK;
}
