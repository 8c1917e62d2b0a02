/* SPDX-License-Identifier: MIT */
/*
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as WireGuard uses it (whitepaper section 5.4).
 *
 * The core knows nothing of packets or sockets: messages are byte buffers, and the few
 * things it needs from its owner (a fresh sender index, a peer by public key or by index)
 * come through a small table of callbacks. Each handshake message is a create/consume pair;
 * a consume function changes no state unless the whole message is good, and returns a named
 * reason when it refuses.
 *
 * Keypairs sit in three slots per peer (next, current, previous). The slot functions never
 * free anything: they hand back the keypairs they retire, so that the owner can free them
 * once no reader can hold them (RCU on the gateway, at once in tests).
 */
#ifndef WG_NOISE_H
#define WG_NOISE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_cookie.h"
#include "wg_replay.h"
#include "wg_wire.h"

struct wg_noise_peer;

struct wg_noise_callbacks {
	/* A fresh local index, unused by any handshake or keypair, now owned by `peer`. */
	uint32_t (*index_new)(void *ctx, struct wg_noise_peer *peer);
	/* `index` is no longer used by the handshake that held it. */
	void (*index_drop)(void *ctx, uint32_t index);
	/* The peer with this static public key, or NULL. */
	struct wg_noise_peer *(*peer_by_key)(void *ctx, const uint8_t public_key[WG_KEY_LEN]);
	/* The peer whose handshake holds this local index, or NULL. */
	struct wg_noise_peer *(*peer_by_index)(void *ctx, uint32_t index);
};

/* The local interface: its static key pair, and what is derived from it once. */
struct wg_noise_device {
	uint8_t static_private[WG_KEY_LEN];
	uint8_t static_public[WG_KEY_LEN];
	uint8_t responder_hash[WG_HASH_LEN];   /* h after mixing in our own static key */
	bool has_identity;
	struct wg_cookie_checker cookie;
	const struct wg_noise_callbacks *cb;
	void *cb_ctx;
};

enum wg_handshake_state {
	WG_HS_ZEROED,
	WG_HS_CREATED_INITIATION,
	WG_HS_CONSUMED_INITIATION,
	WG_HS_CREATED_RESPONSE,
	WG_HS_CONSUMED_RESPONSE,
};

struct wg_handshake {
	enum wg_handshake_state state;
	bool has_index;                         /* local_index is registered */
	uint32_t local_index;
	uint32_t remote_index;
	uint8_t ephemeral_private[WG_KEY_LEN];
	uint8_t remote_ephemeral[WG_KEY_LEN];
	uint8_t hash[WG_HASH_LEN];
	uint8_t chaining_key[WG_HASH_LEN];
};

/* One session's transport keys. Read by the data path; see the slot functions below.
 *
 * The first 64 bytes are everything sending needs, the counter that every packet sent
 * claims included, so that a keypair allocated on a cache line keeps the senders' writes
 * off the line the receiver reads (the receiving side has copies of what both check). */
struct wg_keypair {
	uint8_t send_key[WG_KEY_LEN];
	_Atomic uint64_t send_counter;          /* next nonce to use; senders claim ranges */
	uint64_t send_birth;                    /* = birth */
	uint32_t remote_index;                  /* receiver index of packets we send */
	_Atomic uint32_t send_type;             /* type field of data messages sent: 4, or
	                                         * the owner's (AmneziaWG's h4) */
	bool send_initiator;                    /* = initiator */
	uint8_t pad_send_line[64 - WG_KEY_LEN - 8 - 8 - 4 - 4 - 1];
	uint8_t recv_key[WG_KEY_LEN];
	uint64_t birth;                         /* monotonic ns */
	uint32_t local_index;                   /* receiver index of packets sent to us */
	bool initiator;
	struct wg_noise_peer *peer;
	struct wg_replay replay;                /* single writer: the receiving lcore */
};
_Static_assert(offsetof(struct wg_keypair, recv_key) == 64,
	       "the sending fields fill the keypair's first cache line");

struct wg_keypair_slots {
	struct wg_keypair *next;      /* responder's new keypair, until the first data arrives */
	struct wg_keypair *current;
	struct wg_keypair *previous;
};

/* The handshake state kept for one remote peer. */
struct wg_noise_peer {
	uint8_t remote_static[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN];      /* all zero when none */
	uint8_t precomputed_ss[WG_KEY_LEN];     /* DH(our static, their static), once ss_ready */
	bool ss_ready;
	uint8_t latest_timestamp[WG_TIMESTAMP_LEN];
	uint64_t last_initiation_consumed;      /* monotonic ns; 0 = never */
	struct wg_handshake hs;
	struct wg_keypair_slots keypairs;
	struct wg_cookie_maker cookie;
	void *owner;                            /* the caller's peer object */
};

/* Call once per process (after wg_crypto_init): derives the protocol's initial hash. */
void wg_noise_init(void);

/* Set up a device; a NULL private key leaves it without identity (it refuses handshakes).
 * Returns 0, or -1 if the key's public value cannot be derived. */
int wg_noise_device_init(struct wg_noise_device *dev, const uint8_t private_key[WG_KEY_LEN],
			 const struct wg_noise_callbacks *cb, void *cb_ctx);
/* Change the private key: every peer's precomputed DH must be redone by the caller. */
int wg_noise_device_set_key(struct wg_noise_device *dev, const uint8_t private_key[WG_KEY_LEN]);
void wg_noise_device_wipe(struct wg_noise_device *dev);

/* Set up a peer's handshake state; psk may be NULL. Returns WG_OK or WG_ZERO_DH (their
 * key is a low-order point: such a peer can never complete a handshake). The static-static
 * DH is not computed here but at the peer's first handshake, so that adding a hundred
 * thousand peers costs no X25519 at all. */
enum wg_result wg_noise_peer_init(struct wg_noise_device *dev, struct wg_noise_peer *peer,
				  const uint8_t remote_static[WG_KEY_LEN],
				  const uint8_t psk[WG_KEY_LEN], void *owner);
/* Compute the static-static DH now (it is otherwise computed at the first handshake).
 * WG_OK, or WG_ZERO_DH. */
enum wg_result wg_noise_peer_precompute(struct wg_noise_device *dev, struct wg_noise_peer *peer);
/* The device key changed: the DH is redone at the next handshake; drops any handshake in
 * progress. WG_OK, or WG_ZERO_DH for a low-order peer key. */
enum wg_result wg_noise_peer_rekey_static(struct wg_noise_device *dev,
					  struct wg_noise_peer *peer);
void wg_noise_peer_set_psk(struct wg_noise_peer *peer, const uint8_t psk[WG_KEY_LEN]);
/* Forget the handshake in progress (its index is dropped through the callback). */
void wg_noise_handshake_clear(struct wg_noise_device *dev, struct wg_noise_peer *peer);

/* TAI64N of a wall-clock time; nanoseconds are rounded down to 2^24 ns so that a timestamp
 * does not reveal the exact clock (as the kernel does). */
void wg_tai64n(uint8_t out[WG_TIMESTAMP_LEN], uint64_t unix_sec, uint32_t nsec);
void wg_tai64n_now(uint8_t out[WG_TIMESTAMP_LEN]);

/* Initiator: write a whole initiation (MACs included) for `peer`. WG_OK, WG_NO_KEY (device
 * without identity) or WG_ZERO_DH. */
enum wg_result wg_noise_create_initiation(struct wg_noise_device *dev,
					  struct wg_noise_peer *peer,
					  struct wg_msg_initiation *msg,
					  const uint8_t timestamp[WG_TIMESTAMP_LEN], uint64_t now);
/*
 * The *_as variants write or require another 32-bit type field (type and reserved bytes,
 * little-endian) than the protocol's 1 or 2: AmneziaWG's h1 and h2 (lib/obfs). The MACs
 * cover the type field as sent, so it is part of what is created and checked.
 */
enum wg_result wg_noise_create_initiation_as(struct wg_noise_device *dev,
					     struct wg_noise_peer *peer,
					     struct wg_msg_initiation *msg,
					     const uint8_t timestamp[WG_TIMESTAMP_LEN], uint64_t now,
					     uint32_t type);
enum wg_result wg_noise_consume_initiation_as(struct wg_noise_device *dev, const void *msg,
					      size_t len, uint64_t now, uint32_t type,
					      struct wg_noise_peer **peer_out);
enum wg_result wg_noise_create_response_as(struct wg_noise_device *dev,
					   struct wg_noise_peer *peer,
					   struct wg_msg_response *msg, uint64_t now, uint32_t type);
enum wg_result wg_noise_consume_response_as(struct wg_noise_device *dev, const void *msg,
					    size_t len, uint32_t type,
					    struct wg_noise_peer **peer_out);
/* Responder: check and take an initiation; on WG_OK *peer_out is the sender. Refusals:
 * WG_SHORT, WG_LONG, WG_WRONG_TYPE, WG_BAD_MAC1, WG_NO_KEY, WG_ZERO_DH, WG_DECRYPT,
 * WG_UNKNOWN_PEER, WG_STALE_TIMESTAMP, WG_FLOOD. MAC2 is the caller's business. */
enum wg_result wg_noise_consume_initiation(struct wg_noise_device *dev, const void *msg,
					   size_t len, uint64_t now,
					   struct wg_noise_peer **peer_out);
/* Responder: write the response to the initiation just consumed. WG_OK, WG_BAD_STATE or
 * WG_ZERO_DH. */
enum wg_result wg_noise_create_response(struct wg_noise_device *dev,
					struct wg_noise_peer *peer,
					struct wg_msg_response *msg, uint64_t now);
/* Initiator: check and take a response; on WG_OK *peer_out is the responder. Refusals:
 * WG_SHORT, WG_LONG, WG_WRONG_TYPE, WG_BAD_MAC1, WG_UNKNOWN_INDEX, WG_BAD_STATE,
 * WG_ZERO_DH, WG_DECRYPT. */
enum wg_result wg_noise_consume_response(struct wg_noise_device *dev, const void *msg,
					 size_t len, struct wg_noise_peer **peer_out);
/*
 * Answering an initiation in two halves, so that the Diffie-Hellman work can run on
 * lcores that own no peer state (handshake lcores):
 *
 *   wg_noise_prepare_response   needs only the device's identity (a copy of which a
 *                               handshake lcore holds) and the message: the es, ss, ee and
 *                               se Diffie-Hellman, the static key and timestamp decrypted,
 *                               the response's ephemeral made; no peer is looked up or
 *                               changed. Any thread may call it.
 *   wg_noise_answer_prepared    on the owner of the peers: the message's length, type and
 *                               mac1, the sender by its key, the timestamp against replay
 *                               and flood, the preshared key mixed in and the response
 *                               written (sender index, MACs), as create_response would.
 *
 * Together they accept and refuse exactly what consume_initiation + create_response do.
 */
struct wg_noise_identity {
	uint8_t static_private[WG_KEY_LEN];
	uint8_t responder_hash[WG_HASH_LEN];
	bool has_identity;
};

struct wg_noise_prepared {
	enum wg_result result;                  /* WG_OK, or the first refusal met */
	uint8_t initiator_static[WG_KEY_LEN];
	uint8_t timestamp[WG_TIMESTAMP_LEN];
	uint8_t remote_ephemeral[WG_KEY_LEN];
	uint8_t response_ephemeral[WG_KEY_LEN]; /* public: it goes in the response */
	uint8_t chaining_key[WG_HASH_LEN];      /* after se */
	uint8_t hash[WG_HASH_LEN];              /* after the response's e */
};

void wg_noise_identity_get(const struct wg_noise_device *dev, struct wg_noise_identity *id);
/* Fills *out (wipe it after use: it holds key material); returns out->result. Only the
 * length and the type field are checked here (mac1 is the answer's business). */
enum wg_result wg_noise_prepare_response(const struct wg_noise_identity *id, const void *msg,
					 size_t len, uint32_t type,
					 struct wg_noise_prepared *out);
/* Refusals: those of consume_initiation (WG_UNKNOWN_PEER, WG_STALE_TIMESTAMP, WG_FLOOD,
 * the prepared refusal, ...). On WG_OK *peer_out is the sender, its handshake is in
 * WG_HS_CREATED_RESPONSE and *resp is ready to send (then wg_noise_begin_session). */
enum wg_result wg_noise_answer_prepared(struct wg_noise_device *dev,
					const struct wg_noise_prepared *p, const void *msg,
					size_t len, uint32_t type, uint64_t now,
					struct wg_msg_response *resp, uint32_t resp_type,
					struct wg_noise_peer **peer_out);

/* After create_response (responder) or consume_response (initiator): derive the transport
 * keypair into *kp, which takes over the handshake's local index; the handshake is wiped.
 * WG_OK or WG_BAD_STATE. The caller then places kp with wg_keypairs_add. */
enum wg_result wg_noise_begin_session(struct wg_noise_peer *peer, struct wg_keypair *kp,
				      uint64_t now);

/* Slots. Each returns how many keypairs it retired into retired[] (room for 3). */
/* A new keypair: the initiator's becomes current at once; the responder's waits as next
 * until the first data message arrives on it. */
unsigned wg_keypairs_add(struct wg_keypair_slots *s, struct wg_keypair *kp,
			 struct wg_keypair *retired[3]);
/* A data message was received on kp: if it is the next keypair, it becomes current. */
unsigned wg_keypairs_received(struct wg_keypair_slots *s, struct wg_keypair *kp,
			      struct wg_keypair *retired[3]);
/* Empty every slot (zero-keys timer, peer removal). */
unsigned wg_keypairs_clear(struct wg_keypair_slots *s, struct wg_keypair *retired[3]);
/* Erase a retired keypair's keys before it is freed. */
void wg_keypair_wipe(struct wg_keypair *kp);

#endif
