/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <time.h>

#include "wg_crypto.h"
#include "wg_noise.h"

/* HASH(CONSTRUCTION) and HASH(HASH(CONSTRUCTION) || IDENTIFIER): the same for everyone. */
static uint8_t initial_chaining_key[WG_HASH_LEN];
static uint8_t initial_hash[WG_HASH_LEN];

/* The TAI64 label of the Unix epoch: 2^62 + 10 leap seconds. */
#define TAI64_EPOCH 0x400000000000000aull
/* Timestamp granularity: the largest power of two under 1 s / INITIATIONS_PER_SECOND. */
#define TAI64N_NSEC_MASK (~((1u << 24) - 1u))

void wg_noise_init(void)
{
	wg_blake2s(initial_chaining_key, WG_HASH_LEN, WG_CONSTRUCTION, strlen(WG_CONSTRUCTION));
	wg_blake2s_2(initial_hash, initial_chaining_key, WG_HASH_LEN, WG_IDENTIFIER,
		     strlen(WG_IDENTIFIER));
}

static void mix_hash(uint8_t h[WG_HASH_LEN], const void *data, size_t len)
{
	wg_blake2s_2(h, h, WG_HASH_LEN, data, len);
}

/* MixKey for an unencrypted ephemeral: C = KDF1(C, e), and h absorbs e. */
static void mix_ephemeral(uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN],
			  const uint8_t ephemeral[WG_KEY_LEN])
{
	wg_kdf(ck, NULL, NULL, ck, ephemeral, WG_KEY_LEN);
	mix_hash(h, ephemeral, WG_KEY_LEN);
}

/* (C, k) = KDF2(C, DH(priv, pub)); false on an all-zero DH result. key may be NULL. */
static bool mix_dh(uint8_t ck[WG_HASH_LEN], uint8_t *key, const uint8_t priv[WG_KEY_LEN],
		   const uint8_t pub[WG_KEY_LEN])
{
	uint8_t dh[WG_KEY_LEN];
	bool ok = wg_x25519(dh, priv, pub) == 0;

	if (ok)
		wg_kdf(ck, key, NULL, ck, dh, WG_KEY_LEN);
	wg_wipe(dh, sizeof(dh));
	return ok;
}

/* The same with a DH already computed (the static-static one). */
static bool mix_precomputed(uint8_t ck[WG_HASH_LEN], uint8_t key[WG_KEY_LEN],
			    const uint8_t dh[WG_KEY_LEN])
{
	if (wg_is_zero(dh, WG_KEY_LEN))
		return false;
	wg_kdf(ck, key, NULL, ck, dh, WG_KEY_LEN);
	return true;
}

/* (C, tau, k) = KDF3(C, psk); h absorbs tau. */
static void mix_psk(uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN], uint8_t key[WG_KEY_LEN],
		    const uint8_t psk[WG_KEY_LEN])
{
	uint8_t tau[WG_HASH_LEN];

	wg_kdf(ck, tau, key, ck, psk, WG_KEY_LEN);
	mix_hash(h, tau, WG_HASH_LEN);
	wg_wipe(tau, sizeof(tau));
}

/* AEAD with counter 0 and h as associated data; then h absorbs the ciphertext. */
static void seal_and_hash(uint8_t *out, const uint8_t *in, size_t len,
			  const uint8_t key[WG_KEY_LEN], uint8_t h[WG_HASH_LEN])
{
	wg_seal(out, in, len, h, WG_HASH_LEN, 0, key);
	mix_hash(h, out, len + WG_AEAD_TAG_LEN);
}

static bool open_and_hash(uint8_t *out, const uint8_t *in, size_t len,
			  const uint8_t key[WG_KEY_LEN], uint8_t h[WG_HASH_LEN])
{
	if (wg_open(out, in, len + WG_AEAD_TAG_LEN, h, WG_HASH_LEN, 0, key) != 0)
		return false;
	mix_hash(h, in, len + WG_AEAD_TAG_LEN);
	return true;
}

int wg_noise_device_set_key(struct wg_noise_device *dev, const uint8_t private_key[WG_KEY_LEN])
{
	uint8_t priv[WG_KEY_LEN];

	if (private_key == NULL || wg_is_zero(private_key, WG_KEY_LEN)) {
		wg_wipe(dev->static_private, WG_KEY_LEN);
		memset(dev->static_public, 0, WG_KEY_LEN);
		dev->has_identity = false;
		return 0;
	}
	memcpy(priv, private_key, WG_KEY_LEN);
	wg_x25519_clamp(priv);
	if (wg_x25519_public(dev->static_public, priv) != 0) {
		wg_wipe(priv, sizeof(priv));
		return -1;
	}
	memcpy(dev->static_private, priv, WG_KEY_LEN);
	wg_wipe(priv, sizeof(priv));
	wg_blake2s_2(dev->responder_hash, initial_hash, WG_HASH_LEN, dev->static_public,
		     WG_KEY_LEN);
	wg_cookie_checker_init(&dev->cookie, dev->static_public);
	dev->has_identity = true;
	return 0;
}

int wg_noise_device_init(struct wg_noise_device *dev, const uint8_t private_key[WG_KEY_LEN],
			 const struct wg_noise_callbacks *cb, void *cb_ctx)
{
	memset(dev, 0, sizeof(*dev));
	dev->cb = cb;
	dev->cb_ctx = cb_ctx;
	return wg_noise_device_set_key(dev, private_key);
}

void wg_noise_device_wipe(struct wg_noise_device *dev)
{
	wg_wipe(dev, sizeof(*dev));
}

static void handshake_zero(struct wg_handshake *hs)
{
	wg_wipe(hs, sizeof(*hs));
	hs->state = WG_HS_ZEROED;
}

void wg_noise_handshake_clear(struct wg_noise_device *dev, struct wg_noise_peer *peer)
{
	if (peer->hs.has_index)
		dev->cb->index_drop(dev->cb_ctx, peer->hs.local_index);
	handshake_zero(&peer->hs);
}

/* Give the handshake a fresh local index, releasing the one it held. */
static uint32_t handshake_new_index(struct wg_noise_device *dev, struct wg_noise_peer *peer)
{
	if (peer->hs.has_index)
		dev->cb->index_drop(dev->cb_ctx, peer->hs.local_index);
	peer->hs.local_index = dev->cb->index_new(dev->cb_ctx, peer);
	peer->hs.has_index = true;
	return peer->hs.local_index;
}

enum wg_result wg_noise_peer_rekey_static(struct wg_noise_device *dev,
					  struct wg_noise_peer *peer)
{
	wg_noise_handshake_clear(dev, peer);
	wg_wipe(peer->precomputed_ss, WG_KEY_LEN);
	peer->ss_ready = false;
	return wg_x25519_is_low_order(peer->remote_static) ? WG_ZERO_DH : WG_OK;
}

enum wg_result wg_noise_peer_precompute(struct wg_noise_device *dev, struct wg_noise_peer *peer)
{
	if (!peer->ss_ready && dev->has_identity) {
		/* A low-order key leaves the all-zero result, which mix_precomputed refuses. */
		wg_x25519(peer->precomputed_ss, dev->static_private, peer->remote_static);
		peer->ss_ready = true;
	}
	return peer->ss_ready && !wg_is_zero(peer->precomputed_ss, WG_KEY_LEN) ? WG_OK : WG_ZERO_DH;
}

enum wg_result wg_noise_peer_init(struct wg_noise_device *dev, struct wg_noise_peer *peer,
				  const uint8_t remote_static[WG_KEY_LEN],
				  const uint8_t psk[WG_KEY_LEN], void *owner)
{
	memset(peer, 0, sizeof(*peer));
	memcpy(peer->remote_static, remote_static, WG_KEY_LEN);
	wg_noise_peer_set_psk(peer, psk);
	wg_cookie_maker_init(&peer->cookie, remote_static);
	peer->owner = owner;
	return wg_noise_peer_rekey_static(dev, peer);
}

void wg_noise_peer_set_psk(struct wg_noise_peer *peer, const uint8_t psk[WG_KEY_LEN])
{
	if (psk)
		memcpy(peer->preshared_key, psk, WG_KEY_LEN);
	else
		wg_wipe(peer->preshared_key, WG_KEY_LEN);
}

void wg_tai64n(uint8_t out[WG_TIMESTAMP_LEN], uint64_t unix_sec, uint32_t nsec)
{
	uint64_t label = TAI64_EPOCH + unix_sec;

	nsec &= TAI64N_NSEC_MASK;
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(label >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

void wg_tai64n_now(uint8_t out[WG_TIMESTAMP_LEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	wg_tai64n(out, (uint64_t)ts.tv_sec, (uint32_t)ts.tv_nsec);
}

enum wg_result wg_noise_create_initiation(struct wg_noise_device *dev,
					  struct wg_noise_peer *peer,
					  struct wg_msg_initiation *msg,
					  const uint8_t timestamp[WG_TIMESTAMP_LEN], uint64_t now)
{
	return wg_noise_create_initiation_as(dev, peer, msg, timestamp, now, WG_MSG_INITIATION);
}

enum wg_result wg_noise_create_initiation_as(struct wg_noise_device *dev,
					     struct wg_noise_peer *peer,
					     struct wg_msg_initiation *msg,
					     const uint8_t timestamp[WG_TIMESTAMP_LEN], uint64_t now,
					     uint32_t type)
{
	struct wg_handshake hs = { .state = WG_HS_ZEROED };
	uint8_t key[WG_KEY_LEN];
	enum wg_result r = WG_ZERO_DH;

	if (!dev->has_identity)
		return WG_NO_KEY;
	memset(msg, 0, sizeof(*msg));
	wg_put_le32((uint8_t *)&msg->header, type);   /* before the MACs, which cover it */
	memcpy(hs.chaining_key, initial_chaining_key, WG_HASH_LEN);
	wg_blake2s_2(hs.hash, initial_hash, WG_HASH_LEN, peer->remote_static, WG_KEY_LEN);

	/* e */
	wg_x25519_generate(hs.ephemeral_private, msg->unencrypted_ephemeral);
	mix_ephemeral(hs.chaining_key, hs.hash, msg->unencrypted_ephemeral);
	/* es */
	if (!mix_dh(hs.chaining_key, key, hs.ephemeral_private, peer->remote_static))
		goto out;
	/* s */
	seal_and_hash(msg->encrypted_static, dev->static_public, WG_KEY_LEN, key, hs.hash);
	/* ss */
	wg_noise_peer_precompute(dev, peer);
	if (!mix_precomputed(hs.chaining_key, key, peer->precomputed_ss))
		goto out;
	/* {t} */
	seal_and_hash(msg->encrypted_timestamp, timestamp, WG_TIMESTAMP_LEN, key, hs.hash);

	hs.local_index = handshake_new_index(dev, peer);
	hs.has_index = true;
	hs.state = WG_HS_CREATED_INITIATION;
	peer->hs = hs;
	wg_put_le32(msg->sender_index, hs.local_index);
	wg_cookie_add_macs(&peer->cookie, msg, sizeof(*msg), now);
	r = WG_OK;
out:
	wg_wipe(key, sizeof(key));
	wg_wipe(&hs, sizeof(hs));
	return r;
}

/* The type field is compared whole (type and reserved bytes), as the MACs cover it. */
static enum wg_result check_message(const struct wg_noise_device *dev, const void *msg,
				    size_t len, size_t want, uint32_t type)
{
	if (len < want)
		return WG_SHORT;
	if (len > want)
		return WG_LONG;
	if (wg_get_le32(msg) != type)
		return WG_WRONG_TYPE;
	if (!dev->has_identity)
		return WG_NO_KEY;
	return wg_cookie_check_mac1(&dev->cookie, msg, len);
}

/* Big-endian TAI64N compares as bytes; the flood limit spaces initiations by 20 ms. */
static enum wg_result check_replay(const struct wg_noise_peer *peer,
				   const uint8_t timestamp[WG_TIMESTAMP_LEN], uint64_t now)
{
	if (memcmp(timestamp, peer->latest_timestamp, WG_TIMESTAMP_LEN) <= 0)
		return WG_STALE_TIMESTAMP;
	if (peer->last_initiation_consumed &&
	    now - peer->last_initiation_consumed < WG_NSEC_PER_SEC / WG_INITIATIONS_PER_SECOND)
		return WG_FLOOD;
	return WG_OK;
}

enum wg_result wg_noise_consume_initiation(struct wg_noise_device *dev, const void *buf,
					   size_t len, uint64_t now,
					   struct wg_noise_peer **peer_out)
{
	return wg_noise_consume_initiation_as(dev, buf, len, now, WG_MSG_INITIATION, peer_out);
}

enum wg_result wg_noise_consume_initiation_as(struct wg_noise_device *dev, const void *buf,
					      size_t len, uint64_t now, uint32_t type,
					      struct wg_noise_peer **peer_out)
{
	const struct wg_msg_initiation *msg = buf;
	struct wg_handshake hs = { .state = WG_HS_ZEROED };
	uint8_t key[WG_KEY_LEN], s[WG_KEY_LEN], t[WG_TIMESTAMP_LEN];
	struct wg_noise_peer *peer = NULL;
	enum wg_result r = check_message(dev, buf, len, WG_MSG_INITIATION_LEN, type);

	if (r != WG_OK)
		return r;
	memcpy(hs.chaining_key, initial_chaining_key, WG_HASH_LEN);
	memcpy(hs.hash, dev->responder_hash, WG_HASH_LEN);

	/* e */
	memcpy(hs.remote_ephemeral, msg->unencrypted_ephemeral, WG_KEY_LEN);
	mix_ephemeral(hs.chaining_key, hs.hash, hs.remote_ephemeral);
	/* es */
	r = WG_ZERO_DH;
	if (!mix_dh(hs.chaining_key, key, dev->static_private, hs.remote_ephemeral))
		goto out;
	/* s */
	r = WG_DECRYPT;
	if (!open_and_hash(s, msg->encrypted_static, WG_KEY_LEN, key, hs.hash))
		goto out;
	r = WG_UNKNOWN_PEER;
	peer = dev->cb->peer_by_key(dev->cb_ctx, s);
	if (peer == NULL)
		goto out;
	/* ss */
	r = WG_ZERO_DH;
	wg_noise_peer_precompute(dev, peer);
	if (!mix_precomputed(hs.chaining_key, key, peer->precomputed_ss))
		goto out;
	/* {t} */
	r = WG_DECRYPT;
	if (!open_and_hash(t, msg->encrypted_timestamp, WG_TIMESTAMP_LEN, key, hs.hash))
		goto out;
	r = check_replay(peer, t, now);
	if (r != WG_OK)
		goto out;

	/* Accepted: replace whatever handshake the peer had. */
	wg_noise_handshake_clear(dev, peer);
	memcpy(peer->latest_timestamp, t, WG_TIMESTAMP_LEN);
	peer->last_initiation_consumed = now ? now : 1;
	hs.remote_index = wg_get_le32(msg->sender_index);
	hs.state = WG_HS_CONSUMED_INITIATION;
	peer->hs = hs;
	*peer_out = peer;
out:
	wg_wipe(key, sizeof(key));
	wg_wipe(s, sizeof(s));
	wg_wipe(&hs, sizeof(hs));
	return r;
}

enum wg_result wg_noise_create_response(struct wg_noise_device *dev,
					struct wg_noise_peer *peer,
					struct wg_msg_response *msg, uint64_t now)
{
	return wg_noise_create_response_as(dev, peer, msg, now, WG_MSG_RESPONSE);
}

enum wg_result wg_noise_create_response_as(struct wg_noise_device *dev,
					   struct wg_noise_peer *peer,
					   struct wg_msg_response *msg, uint64_t now, uint32_t type)
{
	struct wg_handshake *hs = &peer->hs;
	uint8_t key[WG_KEY_LEN];
	enum wg_result r = WG_ZERO_DH;

	if (hs->state != WG_HS_CONSUMED_INITIATION)
		return WG_BAD_STATE;
	memset(msg, 0, sizeof(*msg));
	wg_put_le32((uint8_t *)&msg->header, type);   /* before the MACs, which cover it */
	wg_put_le32(msg->receiver_index, hs->remote_index);

	/* e */
	wg_x25519_generate(hs->ephemeral_private, msg->unencrypted_ephemeral);
	mix_ephemeral(hs->chaining_key, hs->hash, msg->unencrypted_ephemeral);
	/* ee */
	if (!mix_dh(hs->chaining_key, NULL, hs->ephemeral_private, hs->remote_ephemeral))
		goto fail;
	/* se */
	if (!mix_dh(hs->chaining_key, NULL, hs->ephemeral_private, peer->remote_static))
		goto fail;
	/* psk */
	mix_psk(hs->chaining_key, hs->hash, key, peer->preshared_key);
	/* {} */
	seal_and_hash(msg->encrypted_nothing, NULL, 0, key, hs->hash);

	wg_put_le32(msg->sender_index, handshake_new_index(dev, peer));
	hs->state = WG_HS_CREATED_RESPONSE;
	wg_cookie_add_macs(&peer->cookie, msg, sizeof(*msg), now);
	r = WG_OK;
	goto out;
fail:
	wg_noise_handshake_clear(dev, peer);
out:
	wg_wipe(key, sizeof(key));
	return r;
}

void wg_noise_identity_get(const struct wg_noise_device *dev, struct wg_noise_identity *id)
{
	memcpy(id->static_private, dev->static_private, WG_KEY_LEN);
	memcpy(id->responder_hash, dev->responder_hash, WG_HASH_LEN);
	id->has_identity = dev->has_identity;
}

enum wg_result wg_noise_prepare_response(const struct wg_noise_identity *id, const void *buf,
					 size_t len, uint32_t type,
					 struct wg_noise_prepared *out)
{
	const struct wg_msg_initiation *msg = buf;
	uint8_t key[WG_KEY_LEN], ss[WG_KEY_LEN], e_priv[WG_KEY_LEN];
	uint8_t *ck = out->chaining_key, *h = out->hash;
	enum wg_result r;

	memset(out, 0, sizeof(*out));
	r = len < WG_MSG_INITIATION_LEN ? WG_SHORT : len > WG_MSG_INITIATION_LEN ? WG_LONG :
		wg_get_le32(buf) != type ? WG_WRONG_TYPE : !id->has_identity ? WG_NO_KEY : WG_OK;
	if (r != WG_OK)
		goto out;
	memcpy(ck, initial_chaining_key, WG_HASH_LEN);
	memcpy(h, id->responder_hash, WG_HASH_LEN);
	/* The initiation, as consume_initiation takes it. e */
	memcpy(out->remote_ephemeral, msg->unencrypted_ephemeral, WG_KEY_LEN);
	mix_ephemeral(ck, h, out->remote_ephemeral);
	/* es */
	r = WG_ZERO_DH;
	if (!mix_dh(ck, key, id->static_private, out->remote_ephemeral))
		goto out;
	/* s */
	r = WG_DECRYPT;
	if (!open_and_hash(out->initiator_static, msg->encrypted_static, WG_KEY_LEN, key, h))
		goto out;
	/* ss: computed here, not taken from the peer (no peer is read on this side) */
	r = WG_ZERO_DH;
	if (wg_x25519(ss, id->static_private, out->initiator_static) != 0 ||
	    !mix_precomputed(ck, key, ss))
		goto out;
	/* {t} */
	r = WG_DECRYPT;
	if (!open_and_hash(out->timestamp, msg->encrypted_timestamp, WG_TIMESTAMP_LEN, key, h))
		goto out;
	/* The response, as create_response makes it, up to the preshared key. e */
	wg_x25519_generate(e_priv, out->response_ephemeral);
	mix_ephemeral(ck, h, out->response_ephemeral);
	/* ee, se */
	r = WG_ZERO_DH;
	if (!mix_dh(ck, NULL, e_priv, out->remote_ephemeral) ||
	    !mix_dh(ck, NULL, e_priv, out->initiator_static))
		goto out;
	r = WG_OK;
out:
	wg_wipe(key, sizeof(key));
	wg_wipe(ss, sizeof(ss));
	wg_wipe(e_priv, sizeof(e_priv));
	if (r != WG_OK)
		wg_wipe(out, sizeof(*out));
	out->result = r;
	return r;
}

enum wg_result wg_noise_answer_prepared(struct wg_noise_device *dev,
					const struct wg_noise_prepared *p, const void *buf,
					size_t len, uint32_t type, uint64_t now,
					struct wg_msg_response *resp, uint32_t resp_type,
					struct wg_noise_peer **peer_out)
{
	const struct wg_msg_initiation *msg = buf;
	struct wg_handshake hs = { .state = WG_HS_ZEROED };
	uint8_t key[WG_KEY_LEN];
	struct wg_noise_peer *peer;
	enum wg_result r = check_message(dev, buf, len, WG_MSG_INITIATION_LEN, type);

	if (r != WG_OK)
		return r;
	if (p->result != WG_OK)
		return p->result;
	if (memcmp(p->remote_ephemeral, msg->unencrypted_ephemeral, WG_KEY_LEN) != 0)
		return WG_BAD_STATE;   /* prepared from another message */
	peer = dev->cb->peer_by_key(dev->cb_ctx, p->initiator_static);
	if (peer == NULL)
		return WG_UNKNOWN_PEER;
	r = check_replay(peer, p->timestamp, now);
	if (r != WG_OK)
		return r;

	/* Accepted: replace whatever handshake the peer had. */
	wg_noise_handshake_clear(dev, peer);
	memcpy(peer->latest_timestamp, p->timestamp, WG_TIMESTAMP_LEN);
	peer->last_initiation_consumed = now ? now : 1;
	memcpy(hs.remote_ephemeral, p->remote_ephemeral, WG_KEY_LEN);
	memcpy(hs.chaining_key, p->chaining_key, WG_HASH_LEN);
	memcpy(hs.hash, p->hash, WG_HASH_LEN);
	hs.remote_index = wg_get_le32(msg->sender_index);

	memset(resp, 0, sizeof(*resp));
	wg_put_le32((uint8_t *)&resp->header, resp_type);   /* before the MACs */
	wg_put_le32(resp->receiver_index, hs.remote_index);
	memcpy(resp->unencrypted_ephemeral, p->response_ephemeral, WG_KEY_LEN);
	/* psk */
	mix_psk(hs.chaining_key, hs.hash, key, peer->preshared_key);
	/* {} */
	seal_and_hash(resp->encrypted_nothing, NULL, 0, key, hs.hash);
	hs.state = WG_HS_CREATED_RESPONSE;
	peer->hs = hs;
	wg_put_le32(resp->sender_index, handshake_new_index(dev, peer));
	wg_cookie_add_macs(&peer->cookie, resp, sizeof(*resp), now);
	*peer_out = peer;
	wg_wipe(key, sizeof(key));
	wg_wipe(&hs, sizeof(hs));
	return WG_OK;
}

enum wg_result wg_noise_consume_response(struct wg_noise_device *dev, const void *buf,
					 size_t len, struct wg_noise_peer **peer_out)
{
	return wg_noise_consume_response_as(dev, buf, len, WG_MSG_RESPONSE, peer_out);
}

enum wg_result wg_noise_consume_response_as(struct wg_noise_device *dev, const void *buf,
					    size_t len, uint32_t type,
					    struct wg_noise_peer **peer_out)
{
	const struct wg_msg_response *msg = buf;
	struct wg_handshake hs;
	uint8_t key[WG_KEY_LEN];
	struct wg_noise_peer *peer;
	uint32_t receiver;
	enum wg_result r = check_message(dev, buf, len, WG_MSG_RESPONSE_LEN, type);

	if (r != WG_OK)
		return r;
	receiver = wg_get_le32(msg->receiver_index);
	peer = dev->cb->peer_by_index(dev->cb_ctx, receiver);
	if (peer == NULL)
		return WG_UNKNOWN_INDEX;
	if (peer->hs.state != WG_HS_CREATED_INITIATION || !peer->hs.has_index ||
	    peer->hs.local_index != receiver)
		return WG_BAD_STATE;
	hs = peer->hs;

	/* e */
	memcpy(hs.remote_ephemeral, msg->unencrypted_ephemeral, WG_KEY_LEN);
	mix_ephemeral(hs.chaining_key, hs.hash, hs.remote_ephemeral);
	/* ee */
	r = WG_ZERO_DH;
	if (!mix_dh(hs.chaining_key, NULL, hs.ephemeral_private, hs.remote_ephemeral))
		goto out;
	/* se */
	if (!mix_dh(hs.chaining_key, NULL, dev->static_private, hs.remote_ephemeral))
		goto out;
	/* psk */
	mix_psk(hs.chaining_key, hs.hash, key, peer->preshared_key);
	/* {} */
	r = WG_DECRYPT;
	if (!open_and_hash(NULL, msg->encrypted_nothing, 0, key, hs.hash))
		goto out;

	hs.remote_index = wg_get_le32(msg->sender_index);
	hs.state = WG_HS_CONSUMED_RESPONSE;
	peer->hs = hs;
	*peer_out = peer;
	r = WG_OK;
out:
	wg_wipe(key, sizeof(key));
	wg_wipe(&hs, sizeof(hs));
	return r;
}

enum wg_result wg_noise_begin_session(struct wg_noise_peer *peer, struct wg_keypair *kp,
				      uint64_t now)
{
	struct wg_handshake *hs = &peer->hs;
	bool initiator = hs->state == WG_HS_CONSUMED_RESPONSE;

	if (!initiator && hs->state != WG_HS_CREATED_RESPONSE)
		return WG_BAD_STATE;
	memset(kp, 0, sizeof(*kp));
	/* (T_send, T_recv) = KDF2(C, ""), from the initiator's side. */
	if (initiator)
		wg_kdf(kp->send_key, kp->recv_key, NULL, hs->chaining_key, NULL, 0);
	else
		wg_kdf(kp->recv_key, kp->send_key, NULL, hs->chaining_key, NULL, 0);
	atomic_init(&kp->send_counter, 0);
	wg_replay_init(&kp->replay);
	kp->birth = kp->send_birth = now;
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->initiator = kp->send_initiator = initiator;
	atomic_init(&kp->send_type, WG_MSG_DATA);
	kp->peer = peer;
	/* The index now belongs to the keypair, not to a handshake. */
	handshake_zero(hs);
	return WG_OK;
}

unsigned wg_keypairs_add(struct wg_keypair_slots *s, struct wg_keypair *kp,
			 struct wg_keypair *retired[3])
{
	unsigned n = 0;

	if (kp->initiator) {
		/* Usable at once. A pending next keypair is newer than current: keep it as
		 * previous, and drop current, which would never be used again. */
		if (s->next) {
			if (s->current)
				retired[n++] = s->current;
			if (s->previous)
				retired[n++] = s->previous;
			s->previous = s->next;
			s->next = NULL;
		} else {
			if (s->previous)
				retired[n++] = s->previous;
			s->previous = s->current;
		}
		s->current = kp;
	} else {
		/* Not usable to send until the initiator proves it has it. */
		if (s->next)
			retired[n++] = s->next;
		if (s->previous)
			retired[n++] = s->previous;
		s->previous = NULL;
		s->next = kp;
	}
	return n;
}

unsigned wg_keypairs_received(struct wg_keypair_slots *s, struct wg_keypair *kp,
			      struct wg_keypair *retired[3])
{
	unsigned n = 0;

	if (kp == NULL || s->next != kp)
		return 0;
	if (s->previous)
		retired[n++] = s->previous;
	s->previous = s->current;
	s->current = kp;
	s->next = NULL;
	return n;
}

unsigned wg_keypairs_clear(struct wg_keypair_slots *s, struct wg_keypair *retired[3])
{
	unsigned n = 0;

	if (s->next)
		retired[n++] = s->next;
	if (s->current)
		retired[n++] = s->current;
	if (s->previous)
		retired[n++] = s->previous;
	s->next = s->current = s->previous = NULL;
	return n;
}

void wg_keypair_wipe(struct wg_keypair *kp)
{
	wg_wipe(kp->send_key, WG_KEY_LEN);
	wg_wipe(kp->recv_key, WG_KEY_LEN);
}
