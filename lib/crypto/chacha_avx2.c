/* SPDX-License-Identifier: MIT */
/*
 * ChaCha20 across 8 lanes with AVX2: the same shape as the AVX-512 kernel, one ymm per
 * state word, lanes in and out through 8x8 transposes of 32-bit words (unpack, unpack,
 * vperm2i128). Rotations by 16 and 8 are byte shuffles, by 12 and 7 shifts. Sixteen state
 * vectors fill the sixteen ymm registers, so the compiler keeps a few in memory during the
 * rounds. Full blocks are XORed into the buffers directly; a partial last block goes
 * through a stack copy of the keystream, wiped afterwards.
 *
 * Compiled for AVX2 by function attributes only; callers check wg_mb_avx2_usable().
 */
#include <immintrin.h>
#include <string.h>

#include "aead_internal.h"
#include "wg_crypto.h"

#define T256 __attribute__((target("avx2,bmi2")))

/* Transpose 8 rows of 8 words (row i in v[i]). */
INLINE T256 void transpose8(__m256i v[8])
{
	__m256i t[8], u[8];

	UNROLL
	for (int g = 0; g < 2; g++) {
		__m256i a = v[4 * g], b = v[4 * g + 1], c = v[4 * g + 2], d = v[4 * g + 3];

		t[4 * g + 0] = _mm256_unpacklo_epi32(a, b);
		t[4 * g + 1] = _mm256_unpackhi_epi32(a, b);
		t[4 * g + 2] = _mm256_unpacklo_epi32(c, d);
		t[4 * g + 3] = _mm256_unpackhi_epi32(c, d);
		u[4 * g + 0] = _mm256_unpacklo_epi64(t[4 * g + 0], t[4 * g + 2]);
		u[4 * g + 1] = _mm256_unpackhi_epi64(t[4 * g + 0], t[4 * g + 2]);
		u[4 * g + 2] = _mm256_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
		u[4 * g + 3] = _mm256_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
	}
	UNROLL
	for (int j = 0; j < 4; j++) {
		v[j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x20);
		v[4 + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x31);
	}
}

static inline T256 __m256i rol16(__m256i x)
{
	const __m256i s = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
					   2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);

	return _mm256_shuffle_epi8(x, s);
}

static inline T256 __m256i rol8(__m256i x)
{
	const __m256i s = _mm256_setr_epi8(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
					   3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);

	return _mm256_shuffle_epi8(x, s);
}

#define ROL(x, n) _mm256_or_si256(_mm256_slli_epi32(x, n), _mm256_srli_epi32(x, 32 - (n)))

#define QR(a, b, c, d) do {                                                            \
		a = _mm256_add_epi32(a, b); d = rol16(_mm256_xor_si256(d, a));          \
		c = _mm256_add_epi32(c, d); b = _mm256_xor_si256(b, c); b = ROL(b, 12); \
		a = _mm256_add_epi32(a, b); d = rol8(_mm256_xor_si256(d, a));           \
		c = _mm256_add_epi32(c, d); b = _mm256_xor_si256(b, c); b = ROL(b, 7);  \
	} while (0)

static T256 void chacha8(const uint8_t *const *key, const uint8_t *const *nonce,
			const struct wg_mb_chacha_batch *b)
{
	const __m256i hi4 = _mm256_setr_epi32(0, 0, 0, 0, -1, -1, -1, -1);
	const __m256i n3 = _mm256_setr_epi32(0, 0, 0, 0, 0, -1, -1, -1);
	__m256i x[16], in[16], lo[8], hi[8];
	uint8_t ks[64];
	bool partial = false;

	UNROLL
	for (int l = 0; l < 8; l++) {
		const uint8_t *k = key[b->row[l]], *nn = nonce[b->row[l]];

		/* Words 0..7 of the state row (key words 0..3 at 4..7) and 8..15 (key words
		 * 4..7 at 8..11, the nonce at 13..15). */
		lo[l] = _mm256_maskload_epi32(wg_mb_before(k, 16), hi4);
		hi[l] = _mm256_blend_epi32(
			_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(k + 16))),
			_mm256_maskload_epi32(wg_mb_before(nn, 20), n3), 0xe0);
	}
	transpose8(lo);
	transpose8(hi);
	UNROLL
	for (int w = 0; w < 8; w++) {
		x[w] = lo[w];
		x[8 + w] = hi[w];
	}
	x[0] = _mm256_set1_epi32(0x61707865);   /* "expand 32-byte k" */
	x[1] = _mm256_set1_epi32(0x3320646e);
	x[2] = _mm256_set1_epi32(0x79622d32);
	x[3] = _mm256_set1_epi32(0x6b206574);
	x[12] = _mm256_loadu_si256((const __m256i *)b->ctr);
	UNROLL
	for (int w = 0; w < 16; w++)
		in[w] = x[w];

	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	UNROLL
	for (int w = 0; w < 8; w++) {
		lo[w] = _mm256_add_epi32(x[w], in[w]);
		hi[w] = _mm256_add_epi32(x[8 + w], in[8 + w]);
	}
	transpose8(lo);
	transpose8(hi);

	UNROLL
	for (int l = 0; l < 8; l++) {
		uint8_t *p = b->p[l];
		uint32_t n = b->n[l] & ~WG_MB_STORE;

		if (b->n[l] == (WG_MB_STORE | 32)) {
			_mm256_storeu_si256((__m256i *)p, lo[l]);
		} else if (n == 64) {
			__m256i d0 = _mm256_loadu_si256((const __m256i *)p);
			__m256i d1 = _mm256_loadu_si256((const __m256i *)(p + 32));

			_mm256_storeu_si256((__m256i *)p, _mm256_xor_si256(d0, lo[l]));
			_mm256_storeu_si256((__m256i *)(p + 32), _mm256_xor_si256(d1, hi[l]));
		} else if (n > 0) {
			_mm256_storeu_si256((__m256i *)ks, lo[l]);
			_mm256_storeu_si256((__m256i *)(ks + 32), hi[l]);
			if (b->n[l] & WG_MB_STORE)
				memcpy(p, ks, n);
			else
				for (uint32_t i = 0; i < n; i++)
					p[i] ^= ks[i];
			partial = true;
		}
	}
	if (partial)
		wg_wipe(ks, sizeof(ks));
}

const struct wg_mb_impl wg_mb_avx2 = {
	.name = "avx2",
	.chacha_lanes = 8,
	.poly_lanes = 8,
	.chacha = chacha8,
	.poly = wg_mb_poly_avx2,
};
