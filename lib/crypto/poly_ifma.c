/* SPDX-License-Identifier: MIT */
/*
 * Poly1305 across messages with AVX-512 IFMA: each 64-bit lane of a zmm is one message with
 * its own r and s, the accumulator in three limbs of 44, 44 and 42 bits, and a block step
 * is nine 52-bit multiply-adds for the low halves and nine for the high halves
 * (vpmadd52luq / vpmadd52huq). WG_MB_MAX_POLY / 8 vectors (groups of eight messages) are
 * stepped together, so that independent multiply chains hide each other's latency.
 *
 * Blocks are read four at a time per lane (one 64-byte load) and turned into limbs of
 * eight lanes by an 8x8 transpose of 64-bit words. A lane whose segment is shorter than the
 * others' is masked: its loads read nothing past its own blocks, and its accumulator is
 * left as it is for the steps it has no block for. Lengths are public, so the masks may
 * depend on them; nothing depends on the key or the text.
 *
 * The limb arithmetic. With h = h0 + h1 2^44 + h2 2^88 and r likewise, and 2^130 = 5 mod p
 * (so 2^132 = 20):
 *   d0 = h0 r0 + h1 (20 r2) + h2 (20 r1)
 *   d1 = h0 r1 + h1 r0      + h2 (20 r2)
 *   d2 = h0 r2 + h1 r1      + h2 r0
 * Each d is lo + hi 2^52 from the two instructions. hi of d0 and d1 moves one limb up
 * (shifted left by 8, since 2^52 = 2^44 2^8); hi of d2 sits at 2^140 = 5 2^10 mod p and
 * comes back to limb 0 times 5120. One parallel carry step then leaves h0, h1 < 2^44 + 2^16
 * and h2 < 2^42 + 2^11, which with a message block added stays far below the 2^52 the
 * multipliers take (r0, r1 < 2^44, r2 < 2^36 after clamping, 20 r1 < 2^49).
 */
#include <immintrin.h>
#include <string.h>

#include "aead_internal.h"
#include "wg_crypto.h"

#define TIFMA __attribute__((target("avx512f,avx512bw,avx512vl,avx512ifma,bmi2")))

#define NG ((int)(WG_MB_MAX_POLY / 8))   /* vectors of eight lanes stepped together */
#define M44 ((1ull << 44) - 1)
#define M42 ((1ull << 42) - 1)

struct vec8 {
	__m512i h0, h1, h2, r0, r1, r2, s1, s2;
};

/* h = (h + m) r for the lanes of `active` (all lanes when full is true). */
INLINE TIFMA void step(struct vec8 *v, __m512i lo, __m512i hi, __mmask8 active,
			      bool full)
{
	const __m512i m44 = _mm512_set1_epi64((long long)M44);
	const __m512i m42 = _mm512_set1_epi64((long long)M42);
	const __m512i z = _mm512_setzero_si512();
	__m512i h0, h1, h2, l0, l1, l2, u0, u1, u2, t0, t1, t2;

	h0 = _mm512_add_epi64(v->h0, _mm512_and_si512(lo, m44));
	h1 = _mm512_add_epi64(v->h1, _mm512_and_si512(
		_mm512_or_si512(_mm512_srli_epi64(lo, 44), _mm512_slli_epi64(hi, 20)), m44));
	h2 = _mm512_add_epi64(v->h2, _mm512_or_si512(_mm512_srli_epi64(hi, 24),
						     _mm512_set1_epi64(1ll << 40)));

	l0 = _mm512_madd52lo_epu64(z, h0, v->r0);
	u0 = _mm512_madd52hi_epu64(z, h0, v->r0);
	l1 = _mm512_madd52lo_epu64(z, h0, v->r1);
	u1 = _mm512_madd52hi_epu64(z, h0, v->r1);
	l2 = _mm512_madd52lo_epu64(z, h0, v->r2);
	u2 = _mm512_madd52hi_epu64(z, h0, v->r2);
	l0 = _mm512_madd52lo_epu64(l0, h1, v->s2);
	u0 = _mm512_madd52hi_epu64(u0, h1, v->s2);
	l1 = _mm512_madd52lo_epu64(l1, h1, v->r0);
	u1 = _mm512_madd52hi_epu64(u1, h1, v->r0);
	l2 = _mm512_madd52lo_epu64(l2, h1, v->r1);
	u2 = _mm512_madd52hi_epu64(u2, h1, v->r1);
	l0 = _mm512_madd52lo_epu64(l0, h2, v->s1);
	u0 = _mm512_madd52hi_epu64(u0, h2, v->s1);
	l1 = _mm512_madd52lo_epu64(l1, h2, v->s2);
	u1 = _mm512_madd52hi_epu64(u1, h2, v->s2);
	l2 = _mm512_madd52lo_epu64(l2, h2, v->r0);
	u2 = _mm512_madd52hi_epu64(u2, h2, v->r0);

	t0 = _mm512_add_epi64(l0, _mm512_add_epi64(_mm512_slli_epi64(u2, 12),
						   _mm512_slli_epi64(u2, 10)));
	t1 = _mm512_add_epi64(l1, _mm512_slli_epi64(u0, 8));
	t2 = _mm512_add_epi64(l2, _mm512_slli_epi64(u1, 8));
	u0 = _mm512_srli_epi64(t0, 44);
	u1 = _mm512_srli_epi64(t1, 44);
	u2 = _mm512_srli_epi64(t2, 42);
	h0 = _mm512_add_epi64(_mm512_and_si512(t0, m44),
			      _mm512_add_epi64(u2, _mm512_slli_epi64(u2, 2)));
	h1 = _mm512_add_epi64(_mm512_and_si512(t1, m44), u0);
	h2 = _mm512_add_epi64(_mm512_and_si512(t2, m42), u1);
	if (full) {
		v->h0 = h0;
		v->h1 = h1;
		v->h2 = h2;
	} else {
		v->h0 = _mm512_mask_mov_epi64(v->h0, active, h0);
		v->h1 = _mm512_mask_mov_epi64(v->h1, active, h1);
		v->h2 = _mm512_mask_mov_epi64(v->h2, active, h2);
	}
}

/* Rows z[l] = four blocks of lane l; out lo[j], hi[j] = the halves of block j, by lane. */
INLINE TIFMA void transpose8(const __m512i z[8], __m512i lo[4], __m512i hi[4])
{
	__m512i a[4], b[4];

	for (int p = 0; p < 4; p++) {
		a[p] = _mm512_unpacklo_epi64(z[2 * p], z[2 * p + 1]);
		b[p] = _mm512_unpackhi_epi64(z[2 * p], z[2 * p + 1]);
	}
	for (int k = 0; k < 2; k++) {
		__m512i *src = k ? b : a, *dst = k ? hi : lo;
		__m512i c0 = _mm512_shuffle_i64x2(src[0], src[1], 0x44);
		__m512i c1 = _mm512_shuffle_i64x2(src[0], src[1], 0xee);
		__m512i c2 = _mm512_shuffle_i64x2(src[2], src[3], 0x44);
		__m512i c3 = _mm512_shuffle_i64x2(src[2], src[3], 0xee);

		dst[0] = _mm512_shuffle_i64x2(c0, c2, 0x88);
		dst[1] = _mm512_shuffle_i64x2(c0, c2, 0xdd);
		dst[2] = _mm512_shuffle_i64x2(c1, c3, 0x88);
		dst[3] = _mm512_shuffle_i64x2(c1, c3, 0xdd);
	}
}

/* One segment of every lane: n[l] blocks from p[l]. */
static TIFMA void segment(struct vec8 v[NG], const uint8_t *const *p, const uint32_t *n)
{
	uint32_t maxn = 0, minn = UINT32_MAX;
	__m512i nv[NG];

	for (unsigned l = 0; l < WG_MB_MAX_POLY; l++) {
		maxn = n[l] > maxn ? n[l] : maxn;
		minn = n[l] < minn ? n[l] : minn;
	}
	for (int g = 0; g < NG; g++)
		nv[g] = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(n + 8 * g)));

	for (uint32_t t = 0; t < maxn; t += 4) {
		__m512i lo[NG][4], hi[NG][4];
		__m512i z[8];

		if (t + 4 <= minn) {
			for (int g = 0; g < NG; g++) {
				for (int l = 0; l < 8; l++)
					z[l] = _mm512_loadu_si512(p[8 * g + l] + 16 * t);
				transpose8(z, lo[g], hi[g]);
			}
			for (int j = 0; j < 4; j++)
				for (int g = 0; g < NG; g++)
					step(&v[g], lo[g][j], hi[g][j], 0xff, true);
			continue;
		}
		for (int g = 0; g < NG; g++) {
			for (int l = 0; l < 8; l++) {
				uint32_t nl = n[8 * g + l], left = nl > t ? nl - t : 0;
				uint32_t k = left < 4 ? left : 4;
				const uint8_t *a = k ? p[8 * g + l] + 16 * t : p[8 * g + l];

				z[l] = _mm512_maskz_loadu_epi64((__mmask8)_bzhi_u32(0xff, 2 * k), a);
			}
			transpose8(z, lo[g], hi[g]);
		}
		for (uint32_t j = 0; j < 4 && t + j < maxn; j++)
			for (int g = 0; g < NG; g++) {
				__mmask8 act = _mm512_cmpgt_epu64_mask(nv[g],
								       _mm512_set1_epi64(t + j));

				step(&v[g], lo[g][j], hi[g][j], act, false);
			}
	}
}

TIFMA void wg_mb_poly_ifma(const struct wg_mb_poly_group *grp)
{
	const __m512i m44 = _mm512_set1_epi64((long long)M44);
	const __m512i m42 = _mm512_set1_epi64((long long)M42);
	struct {
		uint64_t rl[8], rh[8], sl[8], sh[8], w0[8], w1[8];
	} sec;
	struct vec8 v[NG];

	for (int g = 0; g < NG; g++) {
		__m512i rl, rh;

		for (int l = 0; l < 8; l++) {
			const uint8_t *k = grp->key[8 * g + l];

			memcpy(&sec.rl[l], k, 8);
			memcpy(&sec.rh[l], k + 8, 8);
		}
		rl = _mm512_and_si512(_mm512_loadu_si512(sec.rl),
				      _mm512_set1_epi64(0x0ffffffc0fffffffll));
		rh = _mm512_and_si512(_mm512_loadu_si512(sec.rh),
				      _mm512_set1_epi64(0x0ffffffc0ffffffcll));
		v[g].r0 = _mm512_and_si512(rl, m44);
		v[g].r1 = _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(rl, 44),
							   _mm512_slli_epi64(rh, 20)), m44);
		v[g].r2 = _mm512_srli_epi64(rh, 24);
		v[g].s1 = _mm512_add_epi64(_mm512_slli_epi64(v[g].r1, 4),
					   _mm512_slli_epi64(v[g].r1, 2));
		v[g].s2 = _mm512_add_epi64(_mm512_slli_epi64(v[g].r2, 4),
					   _mm512_slli_epi64(v[g].r2, 2));
		v[g].h0 = v[g].h1 = v[g].h2 = _mm512_setzero_si512();
	}

	for (unsigned s = 0; s < WG_MB_POLY_SEGS; s++)
		segment(v, grp->p[s], grp->n[s]);

	for (int g = 0; g < NG; g++) {
		__m512i h0 = v[g].h0, h1 = v[g].h1, h2 = v[g].h2, c, g0, g1, g2, w0, w1, s0, s1;
		__mmask8 big, carry;

		/* Carry fully: h < 2^130 + a little. */
		c = _mm512_srli_epi64(h0, 44); h0 = _mm512_and_si512(h0, m44);
		h1 = _mm512_add_epi64(h1, c);
		c = _mm512_srli_epi64(h1, 44); h1 = _mm512_and_si512(h1, m44);
		h2 = _mm512_add_epi64(h2, c);
		c = _mm512_srli_epi64(h2, 42); h2 = _mm512_and_si512(h2, m42);
		h0 = _mm512_add_epi64(h0, _mm512_add_epi64(c, _mm512_slli_epi64(c, 2)));
		c = _mm512_srli_epi64(h0, 44); h0 = _mm512_and_si512(h0, m44);
		h1 = _mm512_add_epi64(h1, c);
		c = _mm512_srli_epi64(h1, 44); h1 = _mm512_and_si512(h1, m44);
		h2 = _mm512_add_epi64(h2, c);

		/* h mod p: h + 5 - 2^130 where that is not negative, by mask. */
		g0 = _mm512_add_epi64(h0, _mm512_set1_epi64(5));
		c = _mm512_srli_epi64(g0, 44); g0 = _mm512_and_si512(g0, m44);
		g1 = _mm512_add_epi64(h1, c);
		c = _mm512_srli_epi64(g1, 44); g1 = _mm512_and_si512(g1, m44);
		g2 = _mm512_add_epi64(h2, c);
		big = _mm512_test_epi64_mask(g2, _mm512_set1_epi64(1ll << 42));
		g2 = _mm512_and_si512(g2, m42);
		h0 = _mm512_mask_mov_epi64(h0, big, g0);
		h1 = _mm512_mask_mov_epi64(h1, big, g1);
		h2 = _mm512_mask_mov_epi64(h2, big, g2);

		/* Two 64-bit words, plus s with the carry between them. */
		for (int l = 0; l < 8; l++) {
			const uint8_t *k = grp->key[8 * g + l];

			memcpy(&sec.sl[l], k + 16, 8);
			memcpy(&sec.sh[l], k + 24, 8);
		}
		s0 = _mm512_loadu_si512(sec.sl);
		s1 = _mm512_loadu_si512(sec.sh);
		w0 = _mm512_or_si512(h0, _mm512_slli_epi64(h1, 44));
		w1 = _mm512_or_si512(_mm512_srli_epi64(h1, 20), _mm512_slli_epi64(h2, 24));
		w0 = _mm512_add_epi64(w0, s0);
		carry = _mm512_cmplt_epu64_mask(w0, s0);
		w1 = _mm512_add_epi64(w1, s1);
		w1 = _mm512_mask_add_epi64(w1, carry, w1, _mm512_set1_epi64(1));
		_mm512_storeu_si512(sec.w0, w0);
		_mm512_storeu_si512(sec.w1, w1);
		for (int l = 0; l < 8; l++) {
			memcpy(grp->tag[8 * g + l], &sec.w0[l], 8);
			memcpy(grp->tag[8 * g + l] + 8, &sec.w1[l], 8);
		}
	}
	wg_wipe(&sec, sizeof(sec));
}
