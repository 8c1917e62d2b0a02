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
 * left as it is for the steps it has no block for. The last one or two blocks of a segment
 * (a padded partial block, the lengths block) are read one at a time with plain loads,
 * without the transpose. The group's one-time keys lie one after the other and come in as
 * four loads and eight permutes per eight lanes. Lengths are public, so the masks may
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

#include "aead_internal.h"

#define TIFMA __attribute__((target("avx512f,avx512bw,avx512vl,avx512ifma,bmi2")))

static const uint8_t zero16[16] __attribute__((aligned(16)));

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

	UNROLL
	for (int p = 0; p < 4; p++) {
		a[p] = _mm512_unpacklo_epi64(z[2 * p], z[2 * p + 1]);
		b[p] = _mm512_unpackhi_epi64(z[2 * p], z[2 * p + 1]);
	}
	UNROLL
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

/* Block t of lanes 8g..8g+7 (nothing read for a lane with n <= t): lo and hi halves. */
INLINE TIFMA void load1(const uint8_t *const *p, const uint32_t *n, uint32_t t,
			__m512i *lo, __m512i *hi)
{
	const __m512i ilo = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
	const __m512i ihi = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
	__m128i x[8];
	__m512i a, b;

	/* Plain loads (a lane without the block reads a zero block): the tails were just
	 * written, and a masked load could not take their data from the store buffer. */
	UNROLL
	for (int l = 0; l < 8; l++)
		x[l] = _mm_loadu_si128((const __m128i *)(n[l] > t ? p[l] + 16 * t : zero16));
	a = _mm512_inserti32x4(_mm512_castsi128_si512(x[0]), x[1], 1);
	a = _mm512_inserti32x4(a, x[2], 2);
	a = _mm512_inserti32x4(a, x[3], 3);
	b = _mm512_inserti32x4(_mm512_castsi128_si512(x[4]), x[5], 1);
	b = _mm512_inserti32x4(b, x[6], 2);
	b = _mm512_inserti32x4(b, x[7], 3);
	*lo = _mm512_permutex2var_epi64(a, ilo, b);
	*hi = _mm512_permutex2var_epi64(a, ihi, b);
}

/* One segment of every lane: n[l] blocks from p[l]; maxn and minn over the lanes. */
INLINE TIFMA void segment(struct vec8 v[NG], const uint8_t *const *p, const uint32_t *n,
			  uint32_t maxn, uint32_t minn)
{
	const __m512i nn = _mm512_loadu_si512(n);       /* the 16 counts */
	__m512i nv[NG];

	UNROLL
	for (int g = 0; g < NG; g++)
		nv[g] = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(n + 8 * g)));

	for (uint32_t t = 0; t < maxn; t += 4) {
		__m512i lo[NG][4], hi[NG][4];
		__m512i z[8];

		if (t + 4 <= minn) {
			UNROLL
			for (int g = 0; g < NG; g++) {
				UNROLL
				for (int l = 0; l < 8; l++)
					z[l] = _mm512_loadu_si512(p[8 * g + l] + 16 * t);
				transpose8(z, lo[g], hi[g]);
			}
			UNROLL
			for (int j = 0; j < 4; j++)
				UNROLL
				for (int g = 0; g < NG; g++)
					step(&v[g], lo[g][j], hi[g][j], 0xff, true);
			continue;
		}
		/* The last one or two blocks (the lengths block, a padded partial block):
		 * one block at a time, without the transpose. */
		if (maxn - t <= 2) {
			for (; t < maxn; t++)
				UNROLL
				for (int g = 0; g < NG; g++) {
					__m512i l1, h1;
					__mmask8 act = _mm512_cmpgt_epu64_mask(nv[g],
									       _mm512_set1_epi64(t));

					load1(p + 8 * g, n + 8 * g, t, &l1, &h1);
					step(&v[g], l1, h1, act, false);
				}
			break;
		}
		/* Some lane has fewer than four blocks left: masked loads (nothing is read
		 * past a lane's blocks) and masked steps. */
		{
			uint32_t left[WG_MB_MAX_POLY];
			const __m512i tt = _mm512_set1_epi32((int)t);
			/* Blocks each lane has left here, at most 4: min(max(n, t) - t, 4). */
			__m512i k = _mm512_min_epu32(_mm512_sub_epi32(_mm512_max_epu32(nn, tt), tt),
						     _mm512_set1_epi32(4));

			_mm512_storeu_si512(left, k);
			UNROLL
			for (int g = 0; g < NG; g++) {
				UNROLL
				for (int l = 0; l < 8; l++) {
					uint32_t kl = left[8 * g + l];
					const uint8_t *a = p[8 * g + l] + (kl ? 16 * t : 0);

					z[l] = _mm512_maskz_loadu_epi64(
						(__mmask8)_bzhi_u32(0xff, 2 * kl), a);
				}
				transpose8(z, lo[g], hi[g]);
			}
		}
		UNROLL
		for (uint32_t j = 0; j < 4; j++) {
			if (t + j >= maxn)
				break;
			UNROLL
			for (int g = 0; g < NG; g++) {
				__mmask8 act = _mm512_cmpgt_epu64_mask(nv[g],
								       _mm512_set1_epi64(t + j));

				step(&v[g], lo[g][j], hi[g][j], act, false);
			}
		}
	}
}

/* The keys of eight lanes (32 bytes each, one after the other) as four vectors: the low
 * and high halves of r, and of s. Four loads and eight permutes, no gather. */
INLINE TIFMA void keys8(const uint8_t *k, __m512i *rl, __m512i *rh, __m512i *sl, __m512i *sh)
{
	const __m512i ir = _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13);
	const __m512i is = _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15);
	__m512i z0 = _mm512_loadu_si512(k), z1 = _mm512_loadu_si512(k + 64);
	__m512i z2 = _mm512_loadu_si512(k + 128), z3 = _mm512_loadu_si512(k + 192);
	__m512i ra = _mm512_permutex2var_epi64(z0, ir, z1), rb = _mm512_permutex2var_epi64(z2, ir, z3);
	__m512i sa = _mm512_permutex2var_epi64(z0, is, z1), sb = _mm512_permutex2var_epi64(z2, is, z3);

	*rl = _mm512_shuffle_i64x2(ra, rb, 0x44);
	*rh = _mm512_shuffle_i64x2(ra, rb, 0xee);
	*sl = _mm512_shuffle_i64x2(sa, sb, 0x44);
	*sh = _mm512_shuffle_i64x2(sa, sb, 0xee);
}

TIFMA void wg_mb_poly_ifma(const struct wg_mb_poly_group *grp)
{
	const __m512i m44 = _mm512_set1_epi64((long long)M44);
	const __m512i m42 = _mm512_set1_epi64((long long)M42);
	struct vec8 v[NG];
	__m512i sl[NG], sh[NG];

	UNROLL
	for (int g = 0; g < NG; g++) {
		__m512i rl, rh;

		keys8(grp->key + 256 * g, &rl, &rh, &sl[g], &sh[g]);

		rl = _mm512_and_si512(rl, _mm512_set1_epi64(0x0ffffffc0fffffffll));
		rh = _mm512_and_si512(rh, _mm512_set1_epi64(0x0ffffffc0ffffffcll));
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
		if (grp->max[s] > 0)
			segment(v, grp->p[s], grp->n[s], grp->max[s], grp->min[s]);

	UNROLL
	for (int g = 0; g < NG; g++) {
		__m512i h0 = v[g].h0, h1 = v[g].h1, h2 = v[g].h2, c, g0, g1, g2, w0, w1, s0, s1;
		__m512i lo, hi;
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
		s0 = sl[g];
		s1 = sh[g];
		w0 = _mm512_or_si512(h0, _mm512_slli_epi64(h1, 44));
		w1 = _mm512_or_si512(_mm512_srli_epi64(h1, 20), _mm512_slli_epi64(h2, 24));
		w0 = _mm512_add_epi64(w0, s0);
		carry = _mm512_cmplt_epu64_mask(w0, s0);
		w1 = _mm512_add_epi64(w1, s1);
		w1 = _mm512_mask_add_epi64(w1, carry, w1, _mm512_set1_epi64(1));

		/* Lane 2k's tag is 128-bit lane k of lo, lane 2k+1's of hi. */
		lo = _mm512_unpacklo_epi64(w0, w1);
		hi = _mm512_unpackhi_epi64(w0, w1);
		_mm_storeu_si128((__m128i *)grp->tag[8 * g + 0], _mm512_castsi512_si128(lo));
		_mm_storeu_si128((__m128i *)grp->tag[8 * g + 1], _mm512_castsi512_si128(hi));
		_mm_storeu_si128((__m128i *)grp->tag[8 * g + 2], _mm512_extracti32x4_epi32(lo, 1));
		_mm_storeu_si128((__m128i *)grp->tag[8 * g + 3], _mm512_extracti32x4_epi32(hi, 1));
		_mm_storeu_si128((__m128i *)grp->tag[8 * g + 4], _mm512_extracti32x4_epi32(lo, 2));
		_mm_storeu_si128((__m128i *)grp->tag[8 * g + 5], _mm512_extracti32x4_epi32(hi, 2));
		_mm_storeu_si128((__m128i *)grp->tag[8 * g + 6], _mm512_extracti32x4_epi32(lo, 3));
		_mm_storeu_si128((__m128i *)grp->tag[8 * g + 7], _mm512_extracti32x4_epi32(hi, 3));
	}
}
