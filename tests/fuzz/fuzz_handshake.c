/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target over every consume function of the protocol core: initiation,
 * response, cookie reply, MAC checks and the replay window. The first input byte picks the
 * function and whether to fix up mac1 over the fuzzed body, so that the fuzzer gets past
 * the MAC check into the Noise code instead of stopping at the first 16 bytes of BLAKE2s,
 * and whether to XOR the input over a genuine initiation from the peer, so that mutations
 * of valid messages reach the end of the handshake too. Bit 5 takes AmneziaWG's form: the
 * typed variants (*_as) with h1/h2 in the type field, under the MACs; selector 3 also
 * runs lib/obfs's recognition over the bytes and checks what it says (a handshake's
 * offset and length, a data message's minimum length).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wg_cookie.h"
#include "wg_crypto.h"
#include "wg_noise.h"
#include "wg_obfs.h"
#include "wg_replay.h"

static const struct wg_obfs amnezia = {
	.h = { 1020325451u, 3288052141u, 1766607858u, 2528465083u }, .s1 = 15, .s2 = 68,
	.accept_plain = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct world {
	struct wg_noise_device dev;
	struct wg_noise_peer peer;
	struct wg_noise_device remote;      /* the peer's side, to make genuine messages */
	struct wg_noise_peer remote_peer;
	struct wg_cookie_maker to_dev;     /* makes mac1 for messages addressed to dev */
	struct wg_replay replay;
	uint32_t index;
	uint64_t now;
};

static struct world w;

static uint32_t index_new(void *ctx, struct wg_noise_peer *peer)
{
	(void)ctx;
	(void)peer;
	return ++w.index;
}

static void index_drop(void *ctx, uint32_t index)
{
	(void)ctx;
	(void)index;
}

static struct wg_noise_peer *peer_by_key(void *ctx, const uint8_t key[WG_KEY_LEN])
{
	if (ctx != NULL)
		return NULL;  /* the remote side never consumes initiations here */
	return memcmp(key, w.peer.remote_static, WG_KEY_LEN) == 0 ? &w.peer : NULL;
}

static struct wg_noise_peer *peer_by_index(void *ctx, uint32_t index)
{
	(void)ctx;
	return index == w.peer.hs.local_index ? &w.peer : NULL;
}

static const struct wg_noise_callbacks cb = { index_new, index_drop, peer_by_key,
					      peer_by_index };

static void setup(void)
{
	uint8_t priv[WG_KEY_LEN], peer_priv[WG_KEY_LEN], peer_pub[WG_KEY_LEN];

	wg_crypto_init();
	wg_noise_init();
	/* Fixed keys keep runs reproducible from a seed. */
	memset(priv, 0x11, sizeof(priv));
	memset(peer_priv, 0x22, sizeof(peer_priv));
	wg_x25519_clamp(peer_priv);
	wg_x25519_public(peer_pub, peer_priv);
	wg_noise_device_init(&w.dev, priv, &cb, NULL);
	wg_noise_peer_init(&w.dev, &w.peer, peer_pub, NULL, NULL);
	wg_noise_device_init(&w.remote, peer_priv, &cb, &w.remote);
	wg_noise_peer_init(&w.remote, &w.remote_peer, w.dev.static_public, NULL, NULL);
	wg_cookie_maker_init(&w.to_dev, w.dev.static_public);
	wg_replay_init(&w.replay);
}

/* Keep one initiation of ours outstanding so that responses have a state to meet. */
static void ensure_initiation(void)
{
	struct wg_msg_initiation init;
	uint8_t ts[WG_TIMESTAMP_LEN];

	if (w.peer.hs.state == WG_HS_CREATED_INITIATION)
		return;
	wg_tai64n(ts, 1, 0);
	wg_noise_create_initiation(&w.dev, &w.peer, &init, ts, w.now);
}

/* A genuine initiation from the peer, with the fuzz input XORed over it. */
static size_t mutate_initiation(uint8_t *msg, const uint8_t *data, size_t size, uint32_t type)
{
	struct wg_msg_initiation init;
	uint8_t ts[WG_TIMESTAMP_LEN];

	wg_tai64n(ts, w.now / WG_NSEC_PER_SEC, 0);
	wg_noise_create_initiation_as(&w.remote, &w.remote_peer, &init, ts, w.now, type);
	memcpy(msg, &init, sizeof(init));
	for (size_t i = 0; i < size && i < sizeof(init); i++)
		msg[i] ^= data[i];
	return sizeof(init);
}

/* What the recognition says must hold of the bytes. */
static void fuzz_classify(const uint8_t *msg, size_t size)
{
	size_t off = 0;
	bool obfs;
	unsigned c = wg_obfs_classify(&amnezia, msg, size, &off, &obfs);

	if (off > size ||
	    (c == WG_MSG_INITIATION && obfs && (size - off != 148 || off != amnezia.s1 ||
						wg_get_le32(msg + off) != amnezia.h[0])) ||
	    (c == WG_MSG_RESPONSE && obfs && (size - off != 92 || off != amnezia.s2)) ||
	    (c == WG_MSG_COOKIE_REPLY && obfs && size != 64) ||
	    (c == WG_MSG_DATA && obfs && size < WG_MSG_DATA_MIN_LEN) ||
	    (c >= WG_MSG_INITIATION && c <= WG_MSG_DATA && !obfs &&
	     (off != 0 || wg_get_le32(msg) != c)) ||
	    (c > WG_MSG_DATA && c != WG_OBFS_PLAIN && c != WG_OBFS_SHORT))
		__builtin_trap();
}

static void fuzz_replay(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 8 <= size; i += 8) {
		uint64_t c = wg_get_le64(data + i);
		bool before = wg_replay_check(&w.replay, c);
		bool took = wg_replay_update(&w.replay, c);

		/* check must predict update exactly; a duplicate right after must fail. */
		if (before != took || (took && wg_replay_update(&w.replay, c)))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint8_t msg[512];
	struct wg_noise_peer *peer;
	struct wg_keypair kp;
	bool typed;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1 || size - 1 > sizeof(msg))
		return 0;
	w.now += WG_NSEC_PER_SEC;
	memcpy(msg, data + 1, size - 1);
	size--;
	typed = data[0] & 32;
	/* Bit 4: mutate a genuine initiation instead of taking the bytes as they are. */
	if (data[0] & 16)
		size = mutate_initiation(msg, data + 1, size, typed ? amnezia.h[0] : 1);
	/* Bit 3 of the selector: compute a valid mac1 over the fuzzed message. */
	if ((data[0] & 8) && (size == WG_MSG_INITIATION_LEN || size == WG_MSG_RESPONSE_LEN))
		wg_cookie_add_macs(&w.to_dev, msg, size, w.now);

	switch (data[0] & 7) {
	case 0:
		if (wg_noise_consume_initiation_as(&w.dev, msg, size, w.now,
						   typed ? amnezia.h[0] : 1, &peer) == WG_OK)
			wg_noise_handshake_clear(&w.dev, peer);
		break;
	case 1:
		ensure_initiation();
		if (wg_noise_consume_response_as(&w.dev, msg, size, typed ? amnezia.h[1] : 2,
						 &peer) == WG_OK &&
		    wg_noise_begin_session(peer, &kp, w.now) == WG_OK)
			wg_keypair_wipe(&kp);
		break;
	case 2:
		wg_cookie_consume_reply(&w.peer.cookie, msg, size, w.now);
		break;
	case 3:
		wg_cookie_check_mac1(&w.dev.cookie, msg, size);
		wg_cookie_check_mac2(&w.dev.cookie, msg, size, msg, size < 18 ? size : 18, w.now);
		fuzz_classify(msg, size);
		break;
	default:
		fuzz_replay(msg, size);
		break;
	}
	return 0;
}
