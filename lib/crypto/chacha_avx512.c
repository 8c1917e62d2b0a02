/* SPDX-License-Identifier: MIT */
/*
 * ChaCha20 across 16 lanes with AVX-512F: lane l computes one 64-byte block of its own
 * key, nonce and counter (struct wg_mb_chacha_batch). The state is held transposed, one
 * zmm per state word, so a double round is 96 lane-parallel adds, xors and vprold with no
 * shuffles at all. The lanes' keys and nonces go in (two masked loads per lane put them
 * where a state row has them), and their keystream blocks come out,
 * through one 16x16 transpose of 32-bit words each (unpack, unpack, vshufi32x4 twice), and
 * the keystream is XORed straight into the buffers with byte-masked loads and stores
 * (AVX512BW), so a partial last block needs no copy. Full blocks and key blocks use plain
 * loads and stores: a byte-masked store cannot forward its data to a later load, and the
 * one-time keys are read back by the Poly1305 kernel right away (that stall alone cost
 * 15 of 135 cycles per 64-byte packet).
 *
 * Compiled for AVX-512 by function attributes only; callers check wg_mb_avx512_usable().
 */
#include <immintrin.h>

#include "aead_internal.h"

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,bmi2")))

/* Transpose a 16x16 matrix of 32-bit words held in 16 zmm (row i in v[i]). */
INLINE T512 void transpose16(__m512i v[16])
{
	__m512i t[16], u[16];

	/* Within each 128-bit lane, 4x4 transposes of rows 4g..4g+3. */
	UNROLL
	for (int g = 0; g < 4; g++) {
		__m512i a = v[4 * g], b = v[4 * g + 1], c = v[4 * g + 2], d = v[4 * g + 3];

		t[4 * g + 0] = _mm512_unpacklo_epi32(a, b);
		t[4 * g + 1] = _mm512_unpackhi_epi32(a, b);
		t[4 * g + 2] = _mm512_unpacklo_epi32(c, d);
		t[4 * g + 3] = _mm512_unpackhi_epi32(c, d);
		u[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g + 0], t[4 * g + 2]);
		u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g + 0], t[4 * g + 2]);
		u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
		u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
	}
	/* Then a 4x4 transpose of 128-bit blocks across u[j], u[4+j], u[8+j], u[12+j]. */
	UNROLL
	for (int j = 0; j < 4; j++) {
		__m512i a0 = u[j], a1 = u[4 + j], a2 = u[8 + j], a3 = u[12 + j];
		__m512i b0 = _mm512_shuffle_i32x4(a0, a1, 0x44);
		__m512i b1 = _mm512_shuffle_i32x4(a0, a1, 0xee);
		__m512i b2 = _mm512_shuffle_i32x4(a2, a3, 0x44);
		__m512i b3 = _mm512_shuffle_i32x4(a2, a3, 0xee);

		v[j] = _mm512_shuffle_i32x4(b0, b2, 0x88);
		v[4 + j] = _mm512_shuffle_i32x4(b0, b2, 0xdd);
		v[8 + j] = _mm512_shuffle_i32x4(b1, b3, 0x88);
		v[12 + j] = _mm512_shuffle_i32x4(b1, b3, 0xdd);
	}
}

/* Four quarter rounds interleaved step by step, so that four independent chains are in
 * flight at every instruction. */
#define QR4(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3) do {         \
		a0 = _mm512_add_epi32(a0, b0); a1 = _mm512_add_epi32(a1, b1);           \
		a2 = _mm512_add_epi32(a2, b2); a3 = _mm512_add_epi32(a3, b3);           \
		d0 = _mm512_rol_epi32(_mm512_xor_si512(d0, a0), 16);                    \
		d1 = _mm512_rol_epi32(_mm512_xor_si512(d1, a1), 16);                    \
		d2 = _mm512_rol_epi32(_mm512_xor_si512(d2, a2), 16);                    \
		d3 = _mm512_rol_epi32(_mm512_xor_si512(d3, a3), 16);                    \
		c0 = _mm512_add_epi32(c0, d0); c1 = _mm512_add_epi32(c1, d1);           \
		c2 = _mm512_add_epi32(c2, d2); c3 = _mm512_add_epi32(c3, d3);           \
		b0 = _mm512_rol_epi32(_mm512_xor_si512(b0, c0), 12);                    \
		b1 = _mm512_rol_epi32(_mm512_xor_si512(b1, c1), 12);                    \
		b2 = _mm512_rol_epi32(_mm512_xor_si512(b2, c2), 12);                    \
		b3 = _mm512_rol_epi32(_mm512_xor_si512(b3, c3), 12);                    \
		a0 = _mm512_add_epi32(a0, b0); a1 = _mm512_add_epi32(a1, b1);           \
		a2 = _mm512_add_epi32(a2, b2); a3 = _mm512_add_epi32(a3, b3);           \
		d0 = _mm512_rol_epi32(_mm512_xor_si512(d0, a0), 8);                     \
		d1 = _mm512_rol_epi32(_mm512_xor_si512(d1, a1), 8);                     \
		d2 = _mm512_rol_epi32(_mm512_xor_si512(d2, a2), 8);                     \
		d3 = _mm512_rol_epi32(_mm512_xor_si512(d3, a3), 8);                     \
		c0 = _mm512_add_epi32(c0, d0); c1 = _mm512_add_epi32(c1, d1);           \
		c2 = _mm512_add_epi32(c2, d2); c3 = _mm512_add_epi32(c3, d3);           \
		b0 = _mm512_rol_epi32(_mm512_xor_si512(b0, c0), 7);                     \
		b1 = _mm512_rol_epi32(_mm512_xor_si512(b1, c1), 7);                     \
		b2 = _mm512_rol_epi32(_mm512_xor_si512(b2, c2), 7);                     \
		b3 = _mm512_rol_epi32(_mm512_xor_si512(b3, c3), 7);                     \
	} while (0)

static T512 void chacha16(const uint8_t *const *key, const uint8_t *const *nonce,
			  const struct wg_mb_chacha_batch *b)
{
	__m512i x[16], in[16];

	UNROLL
	for (int l = 0; l < 16; l++)
		x[l] = _mm512_mask_loadu_epi32(
			_mm512_maskz_loadu_epi32(0x0ff0, wg_mb_before(key[b->row[l]], 16)),
			0xe000, wg_mb_before(nonce[b->row[l]], 52));
	transpose16(x);
	/* The constants and the counters directly (the transpose's outputs for them are then
	 * dead, and the compiler drops their shuffles). */
	x[0] = _mm512_set1_epi32(0x61707865);
	x[1] = _mm512_set1_epi32(0x3320646e);
	x[2] = _mm512_set1_epi32(0x79622d32);
	x[3] = _mm512_set1_epi32(0x6b206574);
	x[12] = _mm512_loadu_si512(b->ctr);
	UNROLL
	for (int w = 0; w < 16; w++)
		in[w] = x[w];

	for (int i = 0; i < 10; i++) {
		QR4(x[0], x[4], x[8], x[12], x[1], x[5], x[9], x[13],
		    x[2], x[6], x[10], x[14], x[3], x[7], x[11], x[15]);
		QR4(x[0], x[5], x[10], x[15], x[1], x[6], x[11], x[12],
		    x[2], x[7], x[8], x[13], x[3], x[4], x[9], x[14]);
	}
	UNROLL
	for (int w = 0; w < 16; w++)
		x[w] = _mm512_add_epi32(x[w], in[w]);
	transpose16(x);

	UNROLL
	for (int l = 0; l < 16; l++) {
		uint32_t n = b->n[l] & ~WG_MB_STORE, ld = b->n[l] & WG_MB_STORE ? 0 : n;

		if (b->n[l] == 64) {
			_mm512_storeu_si512(b->p[l], _mm512_xor_si512(_mm512_loadu_si512(b->p[l]),
								      x[l]));
		} else if (b->n[l] == (WG_MB_STORE | 32)) {
			_mm256_storeu_si256((__m256i *)b->p[l], _mm512_castsi512_si256(x[l]));
		} else {
			__m512i d = _mm512_maskz_loadu_epi8(_bzhi_u64(~0ull, ld), b->p[l]);

			_mm512_mask_storeu_epi8(b->p[l], _bzhi_u64(~0ull, n),
						_mm512_xor_si512(d, x[l]));
		}
	}
}

const struct wg_mb_impl wg_mb_avx512 = {
	.name = "avx512",
	.chacha_lanes = 16,
	.poly_lanes = WG_MB_MAX_POLY,
	.chacha = chacha16,
	.poly = wg_mb_poly_ifma,
};
