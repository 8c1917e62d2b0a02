/* SPDX-License-Identifier: MIT */
/*
 * The portable reference ChaCha20-Poly1305 (RFC 8439), in plain C: the oracle of the
 * tests and the engine of last resort. Written for clarity first: ChaCha20 one block at a
 * time, Poly1305 in five 26-bit limbs with 64-bit products. No branch and no memory index
 * depends on the key, the keystream, the text or the tag.
 */
#include <string.h>

#include "aead_internal.h"
#include "wg_crypto.h"

/* ------------------------------------------------------------------ ChaCha20 */

static inline uint32_t rotl32(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

#define QR(a, b, c, d) do {                                          \
		a += b; d ^= a; d = rotl32(d, 16);                   \
		c += d; b ^= c; b = rotl32(b, 12);                   \
		a += b; d ^= a; d = rotl32(d, 8);                    \
		c += d; b ^= c; b = rotl32(b, 7);                    \
	} while (0)

void wg_chacha20_ref_block(uint32_t out[16], const uint8_t key[32], uint32_t counter,
			   const uint8_t nonce[12])
{
	uint32_t in[16], x[16];

	in[0] = 0x61707865;     /* "expand 32-byte k" */
	in[1] = 0x3320646e;
	in[2] = 0x79622d32;
	in[3] = 0x6b206574;
	for (int i = 0; i < 8; i++)
		in[4 + i] = wg_mb_le32(key + 4 * i);
	in[12] = counter;
	for (int i = 0; i < 3; i++)
		in[13 + i] = wg_mb_le32(nonce + 4 * i);
	memcpy(x, in, sizeof(x));
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);    /* columns */
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);   /* diagonals */
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++)
		out[i] = x[i] + in[i];
	wg_wipe(x, sizeof(x));
	wg_wipe(in, sizeof(in));
}

void wg_chacha20_ref_xor(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[32],
			 uint32_t counter, const uint8_t nonce[12])
{
	uint32_t ks[16];
	uint8_t block[64];

	while (len > 0) {
		size_t k = len < 64 ? len : 64;

		wg_chacha20_ref_block(ks, key, counter++, nonce);
		for (int i = 0; i < 16; i++)
			wg_mb_put_le32(block + 4 * i, ks[i]);
		for (size_t i = 0; i < k; i++)
			dst[i] = src[i] ^ block[i];
		dst += k;
		src += k;
		len -= k;
	}
	wg_wipe(ks, sizeof(ks));
	wg_wipe(block, sizeof(block));
}

/* ------------------------------------------------------------------ Poly1305 */

struct poly {
	uint32_t r[5], h[5], s[4];
};

static void poly_init(struct poly *p, const uint8_t key[32])
{
	/* r &= 0x0ffffffc0ffffffc0ffffffc0fffffff, then split into 26-bit limbs. */
	uint32_t t0 = wg_mb_le32(key) & 0x0fffffff, t1 = wg_mb_le32(key + 4) & 0x0ffffffc;
	uint32_t t2 = wg_mb_le32(key + 8) & 0x0ffffffc, t3 = wg_mb_le32(key + 12) & 0x0ffffffc;

	p->r[0] = t0 & 0x3ffffff;
	p->r[1] = (t0 >> 26 | t1 << 6) & 0x3ffffff;
	p->r[2] = (t1 >> 20 | t2 << 12) & 0x3ffffff;
	p->r[3] = (t2 >> 14 | t3 << 18) & 0x3ffffff;
	p->r[4] = t3 >> 8;
	for (int i = 0; i < 4; i++)
		p->s[i] = wg_mb_le32(key + 16 + 4 * i);
	memset(p->h, 0, sizeof(p->h));
}

/* h = (h + m) * r mod 2^130 - 5, partly reduced; hibit is 2^128 for a full block. */
static void poly_block(struct poly *p, const uint8_t m[16], uint32_t hibit)
{
	const uint32_t *r = p->r;
	uint32_t *h = p->h;
	uint32_t t0 = wg_mb_le32(m), t1 = wg_mb_le32(m + 4), t2 = wg_mb_le32(m + 8);
	uint32_t t3 = wg_mb_le32(m + 12);
	uint64_t h0, h1, h2, h3, h4, d0, d1, d2, d3, d4, c;
	uint64_t s1 = r[1] * 5ull, s2 = r[2] * 5ull, s3 = r[3] * 5ull, s4 = r[4] * 5ull;

	h0 = h[0] + (t0 & 0x3ffffff);
	h1 = h[1] + ((t0 >> 26 | t1 << 6) & 0x3ffffff);
	h2 = h[2] + ((t1 >> 20 | t2 << 12) & 0x3ffffff);
	h3 = h[3] + ((t2 >> 14 | t3 << 18) & 0x3ffffff);
	h4 = h[4] + (t3 >> 8 | hibit << 24);

	d0 = h0 * r[0] + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
	d1 = h0 * r[1] + h1 * r[0] + h2 * s4 + h3 * s3 + h4 * s2;
	d2 = h0 * r[2] + h1 * r[1] + h2 * r[0] + h3 * s4 + h4 * s3;
	d3 = h0 * r[3] + h1 * r[2] + h2 * r[1] + h3 * r[0] + h4 * s4;
	d4 = h0 * r[4] + h1 * r[3] + h2 * r[2] + h3 * r[1] + h4 * r[0];

	c = d0 >> 26; h[0] = (uint32_t)d0 & 0x3ffffff; d1 += c;
	c = d1 >> 26; h[1] = (uint32_t)d1 & 0x3ffffff; d2 += c;
	c = d2 >> 26; h[2] = (uint32_t)d2 & 0x3ffffff; d3 += c;
	c = d3 >> 26; h[3] = (uint32_t)d3 & 0x3ffffff; d4 += c;
	c = d4 >> 26; h[4] = (uint32_t)d4 & 0x3ffffff;
	h0 = h[0] + c * 5;
	h[0] = (uint32_t)h0 & 0x3ffffff;
	h[1] += (uint32_t)(h0 >> 26);
}

static void poly_finish(struct poly *p, uint8_t tag[16])
{
	uint32_t *h = p->h, g[5], c, mask;
	uint64_t f;

	/* Carry fully, then h mod p: subtract p (add 5, drop 2^130) if that does not go
	 * negative, chosen by a mask. */
	c = h[1] >> 26; h[1] &= 0x3ffffff; h[2] += c;
	c = h[2] >> 26; h[2] &= 0x3ffffff; h[3] += c;
	c = h[3] >> 26; h[3] &= 0x3ffffff; h[4] += c;
	c = h[4] >> 26; h[4] &= 0x3ffffff; h[0] += c * 5;
	c = h[0] >> 26; h[0] &= 0x3ffffff; h[1] += c;

	g[0] = h[0] + 5; c = g[0] >> 26; g[0] &= 0x3ffffff;
	g[1] = h[1] + c; c = g[1] >> 26; g[1] &= 0x3ffffff;
	g[2] = h[2] + c; c = g[2] >> 26; g[2] &= 0x3ffffff;
	g[3] = h[3] + c; c = g[3] >> 26; g[3] &= 0x3ffffff;
	g[4] = h[4] + c - (1u << 26);
	mask = (g[4] >> 31) - 1;        /* all ones when g >= 0, i.e. h >= p */
	for (int i = 0; i < 5; i++)
		h[i] = (h[i] & ~mask) | (g[i] & mask);

	/* h mod 2^128, plus s. */
	uint32_t w0 = h[0] | h[1] << 26, w1 = h[1] >> 6 | h[2] << 20;
	uint32_t w2 = h[2] >> 12 | h[3] << 14, w3 = h[3] >> 18 | h[4] << 8;

	f = (uint64_t)w0 + p->s[0];            wg_mb_put_le32(tag, (uint32_t)f);
	f = (uint64_t)w1 + p->s[1] + (f >> 32); wg_mb_put_le32(tag + 4, (uint32_t)f);
	f = (uint64_t)w2 + p->s[2] + (f >> 32); wg_mb_put_le32(tag + 8, (uint32_t)f);
	f = (uint64_t)w3 + p->s[3] + (f >> 32); wg_mb_put_le32(tag + 12, (uint32_t)f);
	wg_wipe(p, sizeof(*p));
	wg_wipe(g, sizeof(g));
}

/* Whole blocks of msg; a last partial block is padded with 1 then zeros (standalone
 * Poly1305) or, when pad16, with zeros as a full block (the AEAD's pad16). */
static void poly_update(struct poly *p, const uint8_t *msg, size_t len, bool pad16)
{
	uint8_t last[16];

	for (; len >= 16; msg += 16, len -= 16)
		poly_block(p, msg, 1);
	if (len == 0)
		return;
	memset(last, 0, sizeof(last));
	memcpy(last, msg, len);
	if (!pad16)
		last[len] = 1;
	poly_block(p, last, pad16);
	wg_wipe(last, sizeof(last));
}

void wg_poly1305_ref(uint8_t tag[16], const uint8_t *msg, size_t len, const uint8_t key[32])
{
	struct poly p;

	poly_init(&p, key);
	poly_update(&p, msg, len, false);
	poly_finish(&p, tag);
}

/* ------------------------------------------------------------------ the AEAD */

/* The tag over ad and ciphertext c (RFC 8439 2.8). */
static void aead_tag(uint8_t tag[16], const uint8_t *c, size_t len, const uint8_t *ad,
		     size_t ad_len, const uint8_t nonce[12], const uint8_t key[32])
{
	uint32_t ks[16];
	uint8_t otk[32], lens[16];
	struct poly p;

	wg_chacha20_ref_block(ks, key, 0, nonce);
	for (int i = 0; i < 8; i++)
		wg_mb_put_le32(otk + 4 * i, ks[i]);
	poly_init(&p, otk);
	if (ad_len)
		poly_update(&p, ad, ad_len, true);
	poly_update(&p, c, len, true);
	for (int i = 0; i < 8; i++) {
		lens[i] = (uint8_t)((uint64_t)ad_len >> (8 * i));
		lens[8 + i] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	poly_block(&p, lens, 1);
	poly_finish(&p, tag);
	wg_wipe(ks, sizeof(ks));
	wg_wipe(otk, sizeof(otk));
}

void wg_aead_ref_seal(uint8_t *buf, size_t len, uint8_t tag[16], const uint8_t *ad,
		      size_t ad_len, const uint8_t nonce[12], const uint8_t key[32])
{
	wg_chacha20_ref_xor(buf, buf, len, key, 1, nonce);
	aead_tag(tag, buf, len, ad, ad_len, nonce, key);
}

bool wg_aead_ref_open(uint8_t *buf, size_t len, const uint8_t tag[16], const uint8_t *ad,
		      size_t ad_len, const uint8_t nonce[12], const uint8_t key[32])
{
	uint8_t want[16];
	bool ok;

	aead_tag(want, buf, len, ad, ad_len, nonce, key);
	ok = wg_equal(want, tag, 16);
	if (ok)
		wg_chacha20_ref_xor(buf, buf, len, key, 1, nonce);
	else
		wg_wipe(buf, len);
	wg_wipe(want, sizeof(want));
	return ok;
}
