/* SPDX-License-Identifier: MIT */
/*
 * The cryptographic primitives WireGuard uses, as thin compositions over the project's
 * libraries: BLAKE2s from libb2; X25519, XChaCha20-Poly1305, randomness, wiping and
 * constant-time comparison from libsodium; ChaCha20-Poly1305 for one buffer or a burst from
 * intel-ipsec-mb (wg_aead.h). HMAC-BLAKE2s and the KDF are the project's own, as the
 * whitepaper defines them (section 5.4).
 */
#ifndef WG_CRYPTO_H
#define WG_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_wire.h"

/* Call once per process before anything else here; safe to call again. 0 on success. */
int wg_crypto_init(void);

/* HASH: BLAKE2s with outlen 1..32. */
void wg_blake2s(uint8_t *out, size_t outlen, const void *in, size_t inlen);
/* HASH(a || b), the whitepaper's MixHash shape, 32 bytes out. */
void wg_blake2s_2(uint8_t out[WG_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen);
/* MAC: keyed BLAKE2s, key 1..32 bytes, outlen 1..32 (WireGuard uses 16 and 32). */
void wg_blake2s_keyed(uint8_t *out, size_t outlen, const void *key, size_t keylen,
		      const void *in, size_t inlen);
/* HMAC-BLAKE2s (RFC 2104 over BLAKE2s, block 64), 32 bytes out. */
void wg_hmac_blake2s(uint8_t out[WG_HASH_LEN], const void *key, size_t keylen,
		     const void *in, size_t inlen);
/* KDF_n(key, input): t0 always; t1 and t2 when non-NULL (KDF1, KDF2, KDF3). */
void wg_kdf(uint8_t t0[WG_HASH_LEN], uint8_t *t1, uint8_t *t2, const uint8_t key[WG_HASH_LEN],
	    const void *in, size_t inlen);

/* X25519. */
void wg_x25519_clamp(uint8_t key[WG_KEY_LEN]);
/* A fresh clamped private key and its public key. */
void wg_x25519_generate(uint8_t priv[WG_KEY_LEN], uint8_t pub[WG_KEY_LEN]);
/* pub = priv * base point. 0, or -1 if priv is unusable. */
int wg_x25519_public(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN]);
/* The raw function: out = priv * pub. Returns 0, or -1 when the result is all zero (a
 * low-order point); out then holds the all-zero result, which callers must refuse. */
int wg_x25519(uint8_t out[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN],
	      const uint8_t pub[WG_KEY_LEN]);

/* ChaCha20-Poly1305 for the handshake's small fields, over libsodium: the control lcore
 * needs no intel-ipsec-mb manager for them. The nonce is WireGuard's: 32 zero bits and the
 * 64-bit counter, little-endian. out holds inlen + 16 bytes (seal) or inlen - 16 (open).
 * Open returns 0, or -1 on a bad tag or short input, with out zeroed. */
void wg_seal(uint8_t *out, const uint8_t *in, size_t inlen, const uint8_t *ad, size_t adlen,
	     uint64_t counter, const uint8_t key[WG_KEY_LEN]);
int wg_open(uint8_t *out, const uint8_t *in, size_t inlen, const uint8_t *ad, size_t adlen,
	    uint64_t counter, const uint8_t key[WG_KEY_LEN]);

/* Is pub one of the points of small order (any encoding of them, top bit ignored)? Every
 * DH with such a point is all zero; checking the list costs nothing next to a DH. */
bool wg_x25519_is_low_order(const uint8_t pub[WG_KEY_LEN]);

/* XChaCha20-Poly1305 (cookie replies). out holds inlen + 16 / inlen - 16 bytes.
 * Decrypt returns 0 on success, -1 on a bad tag or short input (out is then zeroed). */
void wg_xaead_encrypt(uint8_t *out, const uint8_t *in, size_t inlen, const uint8_t *ad,
		      size_t adlen, const uint8_t nonce[WG_COOKIE_NONCE_LEN],
		      const uint8_t key[WG_KEY_LEN]);
int wg_xaead_decrypt(uint8_t *out, const uint8_t *in, size_t inlen, const uint8_t *ad,
		     size_t adlen, const uint8_t nonce[WG_COOKIE_NONCE_LEN],
		     const uint8_t key[WG_KEY_LEN]);

/* Keys as `wg` prints them: base64 (44 characters with the '=') and lowercase hex (64, the
 * userspace API). The parsers are strict: exact length, valid alphabet, no trailing bits.
 * Return 0, or -1 with the output wiped. */
#define WG_KEY_B64_LEN 44
#define WG_KEY_HEX_LEN 64
void wg_key_to_base64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN]);
int wg_key_from_base64(uint8_t key[WG_KEY_LEN], const char *s, size_t len);
void wg_key_to_hex(char out[WG_KEY_HEX_LEN + 1], const uint8_t key[WG_KEY_LEN]);
int wg_key_from_hex(uint8_t key[WG_KEY_LEN], const char *s, size_t len);

/* Utilities from libsodium, named once here so the core has one place to look. */
void wg_random(void *buf, size_t len);
uint32_t wg_random_u32(void);
void wg_wipe(void *buf, size_t len);
/* Constant-time equality of two buffers of the same length. */
bool wg_equal(const void *a, const void *b, size_t len);
bool wg_is_zero(const void *buf, size_t len);

#endif
