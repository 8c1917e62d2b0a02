/* SPDX-License-Identifier: MIT */
/*
 * MAC1, MAC2 and cookie replies (whitepaper section 5.4.4 and 5.4.7).
 *
 * The checker belongs to the local interface: it verifies MAC1 (keyed by our public key) on
 * every handshake message, and under load MAC2, keyed by a cookie that is a MAC of the
 * sender's address under a secret rotated every COOKIE_SECRET_MAX_AGE seconds. MAC1 checks
 * only read the checker, so worker lcores may run them while the control lcore owns the
 * secret. The maker belongs to one remote peer: it writes MAC1 and, while it holds a fresh
 * cookie from that peer, MAC2 into the handshake messages we send, and consumes the cookie
 * replies that peer sends us.
 *
 * Messages are whole initiations (148 bytes) or responses (92 bytes): both end in mac1 and
 * mac2, which the functions locate from the length.
 */
#ifndef WG_COOKIE_H
#define WG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_wire.h"

struct wg_cookie_checker {
	uint8_t mac1_key[WG_KEY_LEN];
	uint8_t cookie_key[WG_KEY_LEN];    /* encrypts the cookies we hand out */
	uint8_t secret[WG_HASH_LEN];
	uint64_t secret_birth;             /* monotonic ns; 0 = no secret yet */
};

struct wg_cookie_maker {
	uint8_t mac1_key[WG_KEY_LEN];
	uint8_t cookie_key[WG_KEY_LEN];    /* decrypts the cookies the peer hands us */
	uint8_t cookie[WG_COOKIE_LEN];
	uint64_t cookie_birth;             /* monotonic ns; 0 = no cookie */
	uint8_t last_mac1[WG_MAC_LEN];     /* the ad a cookie reply must carry */
	bool sent_mac1;
};

/* Keys from our own public key; the secret is made on first use. */
void wg_cookie_checker_init(struct wg_cookie_checker *c, const uint8_t local_public[WG_KEY_LEN]);
/* Keys from the remote peer's public key; forgets any cookie. */
void wg_cookie_maker_init(struct wg_cookie_maker *m, const uint8_t remote_public[WG_KEY_LEN]);

/* WG_OK, WG_SHORT, or WG_BAD_MAC1. Constant-time comparison; reads only the checker. */
enum wg_result wg_cookie_check_mac1(const struct wg_cookie_checker *c, const void *msg,
				    size_t len);
/* WG_OK if mac2 is the cookie for this source address (opaque bytes: IP then port),
 * otherwise WG_BAD_MAC2. Rotates the secret when it is older than COOKIE_SECRET_MAX_AGE. */
enum wg_result wg_cookie_check_mac2(struct wg_cookie_checker *c, const void *msg, size_t len,
				    const uint8_t *src, size_t src_len, uint64_t now);
/* The same check against a copy of a checker's secret (born at `birth`), which it never
 * changes: for lcores that read a snapshot the checker's owner published. An expired
 * secret fails (WG_BAD_MAC2). */
enum wg_result wg_cookie_verify_mac2(const uint8_t secret[WG_HASH_LEN], uint64_t birth,
				     const void *msg, size_t len, const uint8_t *src,
				     size_t src_len, uint64_t now);
/* The cookie reply to a handshake message (whose sender index is `sender_index`) that
 * arrived from `src` while we are under load. */
void wg_cookie_create_reply(struct wg_cookie_checker *c, struct wg_msg_cookie_reply *reply,
			    const void *msg, size_t len, uint32_t sender_index,
			    const uint8_t *src, size_t src_len, uint64_t now);

/* Write mac1, and mac2 while a cookie younger than COOKIE_SECRET_MAX_AGE - 5 s is held
 * (otherwise zeros), into a message we are about to send. */
void wg_cookie_add_macs(struct wg_cookie_maker *m, void *msg, size_t len, uint64_t now);
/* Take the cookie from a reply to the last message we sent: WG_OK, WG_SHORT, WG_LONG,
 * WG_WRONG_TYPE, WG_BAD_STATE (no message of ours awaits a cookie) or WG_DECRYPT. */
enum wg_result wg_cookie_consume_reply(struct wg_cookie_maker *m, const void *msg, size_t len,
				       uint64_t now);

#endif
