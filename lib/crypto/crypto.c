/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <blake2.h>
#include <sodium.h>

#include "wg_crypto.h"

#define HMAC_BLOCK BLAKE2S_BLOCKBYTES

int wg_crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void wg_blake2s(uint8_t *out, size_t outlen, const void *in, size_t inlen)
{
	blake2s(out, in, NULL, outlen, inlen, 0);
}

void wg_blake2s_2(uint8_t out[WG_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen)
{
	blake2s_state s;

	blake2s_init(&s, WG_HASH_LEN);
	blake2s_update(&s, a, alen);
	blake2s_update(&s, b, blen);
	blake2s_final(&s, out, WG_HASH_LEN);
	sodium_memzero(&s, sizeof(s));
}

void wg_blake2s_keyed(uint8_t *out, size_t outlen, const void *key, size_t keylen,
		      const void *in, size_t inlen)
{
	blake2s(out, in, key, outlen, inlen, keylen);
}

void wg_hmac_blake2s(uint8_t out[WG_HASH_LEN], const void *key, size_t keylen,
		     const void *in, size_t inlen)
{
	uint8_t pad[HMAC_BLOCK], inner[WG_HASH_LEN];
	uint8_t k[HMAC_BLOCK] = { 0 };
	blake2s_state s;

	/* A key longer than a block is hashed first (RFC 2104); WireGuard's are 32 bytes. */
	if (keylen > HMAC_BLOCK)
		wg_blake2s(k, WG_HASH_LEN, key, keylen);
	else if (keylen)
		memcpy(k, key, keylen);

	for (size_t i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	blake2s_init(&s, WG_HASH_LEN);
	blake2s_update(&s, pad, HMAC_BLOCK);
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, inner, WG_HASH_LEN);

	for (size_t i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	blake2s_init(&s, WG_HASH_LEN);
	blake2s_update(&s, pad, HMAC_BLOCK);
	blake2s_update(&s, inner, WG_HASH_LEN);
	blake2s_final(&s, out, WG_HASH_LEN);

	sodium_memzero(k, sizeof(k));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&s, sizeof(s));
}

void wg_kdf(uint8_t t0[WG_HASH_LEN], uint8_t *t1, uint8_t *t2, const uint8_t key[WG_HASH_LEN],
	    const void *in, size_t inlen)
{
	uint8_t prk[WG_HASH_LEN], buf[WG_HASH_LEN + 1], out[WG_HASH_LEN];

	/* prk = HMAC(key, in); t_i = HMAC(prk, t_{i-1} || i), t_0's predecessor empty. */
	wg_hmac_blake2s(prk, key, WG_HASH_LEN, in, inlen);
	buf[0] = 1;
	wg_hmac_blake2s(out, prk, WG_HASH_LEN, buf, 1);
	memcpy(buf, out, WG_HASH_LEN);
	memcpy(t0, out, WG_HASH_LEN);
	if (t1 || t2) {
		buf[WG_HASH_LEN] = 2;
		wg_hmac_blake2s(out, prk, WG_HASH_LEN, buf, WG_HASH_LEN + 1);
		if (t1)
			memcpy(t1, out, WG_HASH_LEN);
	}
	if (t2) {
		memcpy(buf, out, WG_HASH_LEN);
		buf[WG_HASH_LEN] = 3;
		wg_hmac_blake2s(out, prk, WG_HASH_LEN, buf, WG_HASH_LEN + 1);
		memcpy(t2, out, WG_HASH_LEN);
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(out, sizeof(out));
}

void wg_x25519_clamp(uint8_t key[WG_KEY_LEN])
{
	key[0] &= 248;
	key[31] = (key[31] & 127) | 64;
}

void wg_x25519_generate(uint8_t priv[WG_KEY_LEN], uint8_t pub[WG_KEY_LEN])
{
	randombytes_buf(priv, WG_KEY_LEN);
	wg_x25519_clamp(priv);
	crypto_scalarmult_curve25519_base(pub, priv);
}

int wg_x25519_public(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN])
{
	return crypto_scalarmult_curve25519_base(pub, priv) == 0 ? 0 : -1;
}

int wg_x25519(uint8_t out[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN],
	      const uint8_t pub[WG_KEY_LEN])
{
	/* libsodium refuses low-order points, some implementations before computing anything;
	 * every such product is the identity, whose encoding is all zero. */
	if (crypto_scalarmult_curve25519(out, priv, pub) != 0) {
		sodium_memzero(out, WG_KEY_LEN);
		return -1;
	}
	return 0;
}

static void chacha_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	wg_put_le64(nonce + 4, counter);
}

/* The encodings of the small-order points, top bit cleared: 0, 1, the two points of order
 * 8, p - 1, and the non-canonical p and p + 1 (which are 0 and 1 again). */
static const uint8_t low_order[7][WG_KEY_LEN] = {
	{ 0 },
	{ 1 },
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f,
	  0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16,
	  0x5f, 0x49, 0xb8, 0x00 },
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83,
	  0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd,
	  0xd0, 0x9f, 0x11, 0x57 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0x7f },
	{ 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0x7f },
	{ 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0x7f },
};

bool wg_x25519_is_low_order(const uint8_t pub[WG_KEY_LEN])
{
	uint8_t k[WG_KEY_LEN];

	memcpy(k, pub, WG_KEY_LEN);
	k[31] &= 0x7f;
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++)
		if (memcmp(k, low_order[i], WG_KEY_LEN) == 0)
			return true;
	return false;
}

void wg_seal(uint8_t *out, const uint8_t *in, size_t inlen, const uint8_t *ad, size_t adlen,
	     uint64_t counter, const uint8_t key[WG_KEY_LEN])
{
	uint8_t nonce[12];

	chacha_nonce(nonce, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, inlen, ad, adlen, NULL, nonce,
						  key);
}

int wg_open(uint8_t *out, const uint8_t *in, size_t inlen, const uint8_t *ad, size_t adlen,
	    uint64_t counter, const uint8_t key[WG_KEY_LEN])
{
	uint8_t nonce[12];

	if (inlen < WG_AEAD_TAG_LEN)
		return -1;
	chacha_nonce(nonce, counter);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, in, inlen, ad, adlen,
						      nonce, key) != 0) {
		sodium_memzero(out, inlen - WG_AEAD_TAG_LEN);
		return -1;
	}
	return 0;
}

void wg_xaead_encrypt(uint8_t *out, const uint8_t *in, size_t inlen, const uint8_t *ad,
		      size_t adlen, const uint8_t nonce[WG_COOKIE_NONCE_LEN],
		      const uint8_t key[WG_KEY_LEN])
{
	crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, in, inlen, ad, adlen, NULL, nonce,
						   key);
}

int wg_xaead_decrypt(uint8_t *out, const uint8_t *in, size_t inlen, const uint8_t *ad,
		     size_t adlen, const uint8_t nonce[WG_COOKIE_NONCE_LEN],
		     const uint8_t key[WG_KEY_LEN])
{
	if (inlen < WG_AEAD_TAG_LEN)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, in, inlen, ad, adlen,
						       nonce, key) != 0) {
		sodium_memzero(out, inlen - WG_AEAD_TAG_LEN);
		return -1;
	}
	return 0;
}

void wg_key_to_base64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN])
{
	sodium_bin2base64(out, WG_KEY_B64_LEN + 1, key, WG_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

int wg_key_from_base64(uint8_t key[WG_KEY_LEN], const char *s, size_t len)
{
	size_t got = 0;
	const char *end = NULL;

	if (len != WG_KEY_B64_LEN || s[WG_KEY_B64_LEN - 1] != '=' ||
	    sodium_base642bin(key, WG_KEY_LEN, s, len, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != WG_KEY_LEN || end != s + len) {
		sodium_memzero(key, WG_KEY_LEN);
		return -1;
	}
	return 0;
}

void wg_key_to_hex(char out[WG_KEY_HEX_LEN + 1], const uint8_t key[WG_KEY_LEN])
{
	sodium_bin2hex(out, WG_KEY_HEX_LEN + 1, key, WG_KEY_LEN);
}

int wg_key_from_hex(uint8_t key[WG_KEY_LEN], const char *s, size_t len)
{
	size_t got = 0;
	const char *end = NULL;

	if (len != WG_KEY_HEX_LEN ||
	    sodium_hex2bin(key, WG_KEY_LEN, s, len, NULL, &got, &end) != 0 ||
	    got != WG_KEY_LEN || end != s + len) {
		sodium_memzero(key, WG_KEY_LEN);
		return -1;
	}
	return 0;
}

void wg_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

uint32_t wg_random_u32(void)
{
	return randombytes_random();
}

void wg_wipe(void *buf, size_t len)
{
	sodium_memzero(buf, len);
}

bool wg_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

bool wg_is_zero(const void *buf, size_t len)
{
	return sodium_is_zero(buf, len) == 1;
}
