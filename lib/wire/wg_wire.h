/* SPDX-License-Identifier: MIT */
/*
 * WireGuard wire format: message structs and every protocol constant, named as in the
 * whitepaper (section 6 and the "Timers" table). Nothing here depends on DPDK or on any
 * other module; the data path and the protocol core both include it.
 *
 * Integers on the wire are little-endian. The message type is one byte followed by three
 * reserved zero bytes, so the structs use a byte array there and leave byte order to the
 * accessors below.
 */
#ifndef WG_WIRE_H
#define WG_WIRE_H

#include <stdint.h>
#include <string.h>

/* Noise and key sizes. */
#define WG_KEY_LEN          32u
#define WG_HASH_LEN         32u
#define WG_AEAD_TAG_LEN     16u
#define WG_TIMESTAMP_LEN    12u   /* TAI64N */
#define WG_COOKIE_LEN       16u
#define WG_COOKIE_NONCE_LEN 24u
#define WG_MAC_LEN          16u

#define WG_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define WG_IDENTIFIER   "WireGuard v1 zx2c4 Jason@zx2c4.com"
#define WG_LABEL_MAC1   "mac1----"
#define WG_LABEL_COOKIE "cookie--"

/* Message types. */
enum wg_msg_type {
	WG_MSG_INITIATION = 1,
	WG_MSG_RESPONSE = 2,
	WG_MSG_COOKIE_REPLY = 3,
	WG_MSG_DATA = 4,
};

struct wg_msg_header {
	uint8_t type;
	uint8_t reserved[3];
};

/* The two MACs that close every handshake message. */
struct wg_msg_macs {
	uint8_t mac1[WG_MAC_LEN];
	uint8_t mac2[WG_MAC_LEN];
};

struct wg_msg_initiation {
	struct wg_msg_header header;
	uint8_t sender_index[4];
	uint8_t unencrypted_ephemeral[WG_KEY_LEN];
	uint8_t encrypted_static[WG_KEY_LEN + WG_AEAD_TAG_LEN];
	uint8_t encrypted_timestamp[WG_TIMESTAMP_LEN + WG_AEAD_TAG_LEN];
	struct wg_msg_macs macs;
};

struct wg_msg_response {
	struct wg_msg_header header;
	uint8_t sender_index[4];
	uint8_t receiver_index[4];
	uint8_t unencrypted_ephemeral[WG_KEY_LEN];
	uint8_t encrypted_nothing[WG_AEAD_TAG_LEN];
	struct wg_msg_macs macs;
};

struct wg_msg_cookie_reply {
	struct wg_msg_header header;
	uint8_t receiver_index[4];
	uint8_t nonce[WG_COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[WG_COOKIE_LEN + WG_AEAD_TAG_LEN];
};

struct wg_msg_data {
	struct wg_msg_header header;
	uint8_t receiver_index[4];
	uint8_t counter[8];
	uint8_t encrypted_packet[];
};

#define WG_MSG_INITIATION_LEN   148u
#define WG_MSG_RESPONSE_LEN     92u
#define WG_MSG_COOKIE_REPLY_LEN 64u
#define WG_MSG_DATA_HEADER_LEN  16u
#define WG_MSG_DATA_MIN_LEN     (WG_MSG_DATA_HEADER_LEN + WG_AEAD_TAG_LEN) /* a keepalive */
#define WG_DATA_PADDING         16u  /* plaintext is padded to a multiple of this */

_Static_assert(sizeof(struct wg_msg_initiation) == WG_MSG_INITIATION_LEN, "initiation size");
_Static_assert(sizeof(struct wg_msg_response) == WG_MSG_RESPONSE_LEN, "response size");
_Static_assert(sizeof(struct wg_msg_cookie_reply) == WG_MSG_COOKIE_REPLY_LEN, "cookie size");
_Static_assert(sizeof(struct wg_msg_data) == WG_MSG_DATA_HEADER_LEN, "data header size");

/* Limits and timers (whitepaper, section 6.1 "Timers"); times in seconds. */
#define WG_REKEY_AFTER_MESSAGES  (1ull << 60)
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13))   /* 2^64 - 2^13 - 1 */
#define WG_REKEY_AFTER_TIME      120u
#define WG_REJECT_AFTER_TIME     180u
#define WG_REKEY_ATTEMPT_TIME    90u
#define WG_REKEY_TIMEOUT         5u
#define WG_KEEPALIVE_TIMEOUT     10u
#define WG_COOKIE_SECRET_MAX_AGE 120u
/* Jitter added to each handshake retransmission, at most a third of a second. */
#define WG_REKEY_TIMEOUT_JITTER_MAX_MS 333u
/* Retransmissions before giving up: REKEY_ATTEMPT_TIME / REKEY_TIMEOUT. */
#define WG_MAX_TIMER_HANDSHAKES  (WG_REKEY_ATTEMPT_TIME / WG_REKEY_TIMEOUT)
/* The initiator rekeys on receive this long after the session began (165 s). */
#define WG_REKEY_ON_RECEIVE_TIME (WG_REJECT_AFTER_TIME - WG_KEEPALIVE_TIMEOUT - WG_REKEY_TIMEOUT)
/* Keys unused this long are zeroed (540 s). */
#define WG_ZERO_KEYS_AFTER_TIME  (WG_REJECT_AFTER_TIME * 3u)
/* A responder accepts at most this many initiations per second from one peer. */
#define WG_INITIATIONS_PER_SECOND 50u

/* Replay window: 8192 bits of ring, one 64-bit word of slack, as the kernel and wireguard-go. */
#define WG_REPLAY_RING_BITS 8192u
#define WG_REPLAY_WINDOW    (WG_REPLAY_RING_BITS - 64u)   /* 8128 */

/* Handshake rate limit per source (IPv4 address, IPv6 /64). */
#define WG_RATELIMIT_PER_SECOND 20u
#define WG_RATELIMIT_BURST      5u

#define WG_NSEC_PER_SEC 1000000000ull

/*
 * Every reason a consume or parse function refuses its input, and the data path's drop
 * reasons that belong to the protocol. One list feeds the enum and the names.
 */
#define WG_RESULTS(X)                                              \
	X(OK,              "ok")                                   \
	X(SHORT,           "message too short")                    \
	X(LONG,            "message too long")                     \
	X(WRONG_TYPE,      "wrong message type")                   \
	X(BAD_MAC1,        "bad mac1")                             \
	X(BAD_MAC2,        "bad or missing mac2 (cookie)")         \
	X(DECRYPT,         "decryption failed")                    \
	X(ZERO_DH,         "all-zero Diffie-Hellman result")       \
	X(UNKNOWN_PEER,    "unknown peer static key")              \
	X(UNKNOWN_INDEX,   "unknown receiver index")               \
	X(STALE_TIMESTAMP, "stale or replayed timestamp")          \
	X(FLOOD,           "initiations arriving too fast")        \
	X(BAD_STATE,       "message does not fit handshake state") \
	X(REPLAY,          "replayed or too old counter")          \
	X(EXPIRED,         "key expired")                          \
	X(NO_KEY,          "no key material")

enum wg_result {
#define WG_RESULT_ENUM(name, text) WG_##name,
	WG_RESULTS(WG_RESULT_ENUM)
#undef WG_RESULT_ENUM
	WG_RESULT_COUNT
};

/* Human-readable name of a result, never NULL. */
const char *wg_result_str(enum wg_result r);

static inline uint32_t wg_get_le32(const uint8_t p[4])
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wg_put_le32(uint8_t p[4], uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint64_t wg_get_le64(const uint8_t p[8])
{
	return (uint64_t)wg_get_le32(p) | (uint64_t)wg_get_le32(p + 4) << 32;
}

static inline void wg_put_le64(uint8_t p[8], uint64_t v)
{
	wg_put_le32(p, (uint32_t)v);
	wg_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* The message type of a buffer, or 0 when it is too short or its reserved bytes are set. */
static inline unsigned wg_msg_type(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (len < sizeof(struct wg_msg_header) || p[1] | p[2] | p[3])
		return 0;
	return p[0];
}

#endif /* WG_WIRE_H */
