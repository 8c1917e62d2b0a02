/* SPDX-License-Identifier: MIT */
/*
 * Inside lib/crypto's ChaCha20-Poly1305 (RFC 8439): the portable reference (aead_ref.c),
 * the multi-buffer driver (aead_mb.c) and the interface of its SIMD kernels
 * (chacha_avx512.c, chacha_avx2.c, poly_ifma.c, poly_avx2.c). Not part of the public API;
 * the unit tests include it to check the reference primitives on their own.
 *
 * Everything here is constant time in the key, the keystream, the text and the tag:
 * lengths, the number of ops and which op goes in which lane are public.
 */
#ifndef WG_AEAD_INTERNAL_H
#define WG_AEAD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_aead.h"

/* ---- the portable reference (plain C) ---- */

/* One ChaCha20 block (RFC 8439 2.3): the 16 output words, before serialisation. */
void wg_chacha20_ref_block(uint32_t out[16], const uint8_t key[32], uint32_t counter,
			   const uint8_t nonce[12]);
/* dst = src XOR keystream from block `counter` on (RFC 8439 2.4); dst may equal src. */
void wg_chacha20_ref_xor(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[32],
			 uint32_t counter, const uint8_t nonce[12]);
/* Poly1305 of msg under the one-time key r || s (RFC 8439 2.5). */
void wg_poly1305_ref(uint8_t tag[16], const uint8_t *msg, size_t len, const uint8_t key[32]);
/* The AEAD in place (RFC 8439 2.8): encrypt buf and write the tag; or check the tag and
 * decrypt, wiping buf on failure. */
void wg_aead_ref_seal(uint8_t *buf, size_t len, uint8_t tag[16], const uint8_t *ad,
		      size_t ad_len, const uint8_t nonce[12], const uint8_t key[32]);
bool wg_aead_ref_open(uint8_t *buf, size_t len, const uint8_t tag[16], const uint8_t *ad,
		      size_t ad_len, const uint8_t nonce[12], const uint8_t key[32]);

/* ---- the multi-buffer kernels ---- */

#define WG_MB_MAX_LANES 16u     /* ChaCha20: AVX-512 16 lanes, AVX2 8 */

/*
 * A batch of ChaCha20 blocks, one per lane. Lane l computes the block `ctr[l]` of the key
 * key[row[l]] (32 bytes) and nonce nonce[row[l]] (12 bytes), and XORs its first n[l]
 * bytes (0..64) into p[l]; with WG_MB_STORE added to n[l] it stores them instead (the
 * Poly1305 key block). A lane with n 0 touches nothing. The kernels load keys and nonces
 * with masked loads around them: the 16 bytes before a key and the 52 before a nonce are
 * never read, but their addresses are formed.
 */
struct wg_mb_chacha_batch {
	uint8_t *p[WG_MB_MAX_LANES];
	uint32_t ctr[WG_MB_MAX_LANES];
	uint32_t row[WG_MB_MAX_LANES];
	uint32_t n[WG_MB_MAX_LANES];
};
#define WG_MB_STORE 0x80u

/*
 * A group of Poly1305 messages, one per lane. Each message is four segments of whole
 * 16-byte blocks, taken in order: seg 0 and 2 in the caller's buffers (the AD and the
 * ciphertext), seg 1 and 3 in padded copies (the AD's last partial block; the
 * ciphertext's last partial block and the lengths block). Every block is a full block
 * (the 2^128 bit set): the AEAD's padding makes it so. A lane with no blocks at all has
 * its tag written from a zero accumulator and is ignored by the caller. The arrays have
 * WG_MB_MAX_POLY entries readable from p[s] and n[s] (the IFMA kernel loads 16 counts at
 * once), whatever the kernel's number of lanes.
 */
#define WG_MB_POLY_SEGS 4u
#define WG_MB_MAX_POLY 16u
struct wg_mb_poly_group {
	const uint8_t *const *p[WG_MB_POLY_SEGS];   /* p[s][l]: segment s of lane l */
	const uint32_t *n[WG_MB_POLY_SEGS];         /* n[s][l]: its blocks */
	const uint8_t *key;             /* 32 bytes per lane, one after the other: r (clamped
					 * here), s */
	uint8_t *const *tag;                        /* tag[l]: 16 bytes out */
	uint32_t max[WG_MB_POLY_SEGS], min[WG_MB_POLY_SEGS];  /* of n[s][], over the lanes */
};

struct wg_mb_impl {
	const char *name;
	unsigned chacha_lanes;                  /* lanes of a chacha batch: 16 or 8 */
	unsigned poly_lanes;                    /* messages of a poly group */
	void (*chacha)(const uint8_t *const *key, const uint8_t *const *nonce,
		       const struct wg_mb_chacha_batch *b);
	void (*poly)(const struct wg_mb_poly_group *g);
};

/* The Poly1305 kernels: 52-bit limbs with AVX-512 IFMA, 26-bit limbs with AVX2. */
void wg_mb_poly_ifma(const struct wg_mb_poly_group *g);
void wg_mb_poly_avx2(const struct wg_mb_poly_group *g);

bool wg_mb_avx512_usable(void);
bool wg_mb_avx2_usable(void);
extern const struct wg_mb_impl wg_mb_avx512;
extern const struct wg_mb_impl wg_mb_avx2;

/*
 * The multi-buffer driver. Processes the ops whose len is below max_len (the others are
 * left untouched for the caller), in chunks. Encrypt writes each tag at buf + len and sets
 * ok. Decrypt checks the tag (at buf + len, or tags[i] when tags is not NULL) in constant
 * time, decrypts the good ones and wipes the failed ones; returns the number verified.
 */
unsigned wg_mb_encrypt(const struct wg_mb_impl *impl, struct wg_aead_op *ops, unsigned n,
		       uint32_t max_len);
unsigned wg_mb_decrypt(const struct wg_mb_impl *impl, struct wg_aead_op *ops, unsigned n,
		       uint32_t max_len, const uint8_t *const *tags);

/* For the kernels' helpers, which must be inlined into their callers to share the
 * callers' target ISA and registers. */
#define INLINE static inline __attribute__((always_inline))
/* Loops over the vectors of a kernel are unrolled fully, so that arrays of vectors become
 * registers instead of stack slots. */
#define UNROLL _Pragma("GCC unroll 16")

/* An address n bytes before p, for a masked load that reads nothing there (integer
 * arithmetic: the address may be outside p's object). */
static inline const void *wg_mb_before(const void *p, uintptr_t n)
{
	return (const void *)((uintptr_t)p - n);
}

/* AUTO as a CPU without AVX-512 (max_level 1) or without AVX2 (0) would run it: for the
 * tests. */
struct wg_aead *wg_aead_create_auto_capped(int max_level);

/* Little-endian loads and stores (the compiler makes single moves of them). */
static inline uint32_t wg_mb_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void wg_mb_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif
