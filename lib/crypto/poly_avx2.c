/* SPDX-License-Identifier: MIT */
/*
 * Poly1305 across messages with AVX2: each 64-bit lane of a ymm is one message with its
 * own r, the accumulator in five 26-bit limbs (one ymm per limb), a block step 25
 * vpmuludq (32x32 -> 64 bits) and a carry chain. Two vectors of four messages are
 * stepped together to overlap their multiply latencies. A lane with no block at a step
 * reads a zero block and keeps its accumulator (blend by mask); lengths are public, the
 * masks depend on nothing else. The final reduction and the addition of s run per lane in
 * scalar code, without branches.
 *
 * Bounds: limbs stay below 2^26 plus a small carry, r limbs below 2^26 and 5 r below
 * 2^29, so each product is below 2^56 and each sum of five below 2^59.
 *
 * Compiled for AVX2 by function attributes only; callers check wg_mb_avx2_usable().
 */
#include <immintrin.h>
#include <string.h>

#include "aead_internal.h"
#include "wg_crypto.h"

#define T256 __attribute__((target("avx2,bmi2")))

#define NL 8                     /* lanes: two vectors of four */
#define M26 0x3ffffffu

static const uint8_t zero16[16];

struct vec4 {
	__m256i h[5], r[5], s[5];    /* s[i] = 5 r[i] (s[0] unused) */
};

static inline T256 void step(struct vec4 *v, __m256i lo, __m256i hi, __m256i active)
{
	const __m256i m = _mm256_set1_epi64x(M26);
	__m256i h[5], d[5], c;

	h[0] = _mm256_add_epi64(v->h[0], _mm256_and_si256(lo, m));
	h[1] = _mm256_add_epi64(v->h[1], _mm256_and_si256(_mm256_srli_epi64(lo, 26), m));
	h[2] = _mm256_add_epi64(v->h[2], _mm256_and_si256(
		_mm256_or_si256(_mm256_srli_epi64(lo, 52), _mm256_slli_epi64(hi, 12)), m));
	h[3] = _mm256_add_epi64(v->h[3], _mm256_and_si256(_mm256_srli_epi64(hi, 14), m));
	h[4] = _mm256_add_epi64(v->h[4], _mm256_or_si256(_mm256_srli_epi64(hi, 40),
							 _mm256_set1_epi64x(1 << 24)));

#define MUL(a, b) _mm256_mul_epu32(a, b)
#define ADD(a, b) _mm256_add_epi64(a, b)
	d[0] = ADD(ADD(ADD(MUL(h[0], v->r[0]), MUL(h[1], v->s[4])), ADD(MUL(h[2], v->s[3]),
		   MUL(h[3], v->s[2]))), MUL(h[4], v->s[1]));
	d[1] = ADD(ADD(ADD(MUL(h[0], v->r[1]), MUL(h[1], v->r[0])), ADD(MUL(h[2], v->s[4]),
		   MUL(h[3], v->s[3]))), MUL(h[4], v->s[2]));
	d[2] = ADD(ADD(ADD(MUL(h[0], v->r[2]), MUL(h[1], v->r[1])), ADD(MUL(h[2], v->r[0]),
		   MUL(h[3], v->s[4]))), MUL(h[4], v->s[3]));
	d[3] = ADD(ADD(ADD(MUL(h[0], v->r[3]), MUL(h[1], v->r[2])), ADD(MUL(h[2], v->r[1]),
		   MUL(h[3], v->r[0]))), MUL(h[4], v->s[4]));
	d[4] = ADD(ADD(ADD(MUL(h[0], v->r[4]), MUL(h[1], v->r[3])), ADD(MUL(h[2], v->r[2]),
		   MUL(h[3], v->r[1]))), MUL(h[4], v->r[0]));

	/* Carry in two interleaved chains: d0 -> d1 and d3 -> d4 -> d0, then on. */
	c = _mm256_srli_epi64(d[0], 26); d[0] = _mm256_and_si256(d[0], m); d[1] = ADD(d[1], c);
	c = _mm256_srli_epi64(d[3], 26); d[3] = _mm256_and_si256(d[3], m); d[4] = ADD(d[4], c);
	c = _mm256_srli_epi64(d[1], 26); d[1] = _mm256_and_si256(d[1], m); d[2] = ADD(d[2], c);
	c = _mm256_srli_epi64(d[4], 26); d[4] = _mm256_and_si256(d[4], m);
	d[0] = ADD(d[0], ADD(c, _mm256_slli_epi64(c, 2)));
	c = _mm256_srli_epi64(d[2], 26); d[2] = _mm256_and_si256(d[2], m); d[3] = ADD(d[3], c);
	c = _mm256_srli_epi64(d[0], 26); d[0] = _mm256_and_si256(d[0], m); d[1] = ADD(d[1], c);
	c = _mm256_srli_epi64(d[3], 26); d[3] = _mm256_and_si256(d[3], m); d[4] = ADD(d[4], c);
#undef MUL
#undef ADD
	UNROLL
	for (int i = 0; i < 5; i++)
		v->h[i] = _mm256_blendv_epi8(v->h[i], d[i], active);
}

/* Blocks t of lanes 4g..4g+3 (a zero block for a lane past its n): lo and hi halves. */
static inline T256 void load4(const uint8_t *const *p, const uint32_t *n, uint32_t t,
			      __m256i *lo, __m256i *hi)
{
	__m128i b[4];
	__m256i x, y;

	UNROLL
	for (int l = 0; l < 4; l++) {
		const uint8_t *a = t < n[l] ? p[l] + 16 * t : zero16;

		b[l] = _mm_loadu_si128((const __m128i *)a);
	}
	x = _mm256_inserti128_si256(_mm256_castsi128_si256(b[0]), b[2], 1);
	y = _mm256_inserti128_si256(_mm256_castsi128_si256(b[1]), b[3], 1);
	*lo = _mm256_unpacklo_epi64(x, y);
	*hi = _mm256_unpackhi_epi64(x, y);
}

static T256 void segment(struct vec4 v[2], const uint8_t *const *p, const uint32_t *n)
{
	uint32_t maxn = 0;
	__m256i nv[2];

	UNROLL
	for (int l = 0; l < NL; l++)
		maxn = n[l] > maxn ? n[l] : maxn;
	UNROLL
	for (int g = 0; g < 2; g++)
		nv[g] = _mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)(n + 4 * g)));
	for (uint32_t t = 0; t < maxn; t++) {
		__m256i lo[2], hi[2], tv = _mm256_set1_epi64x(t);

		UNROLL
		for (int g = 0; g < 2; g++)
			load4(p + 4 * g, n + 4 * g, t, &lo[g], &hi[g]);
		UNROLL
		for (int g = 0; g < 2; g++)
			step(&v[g], lo[g], hi[g], _mm256_cmpgt_epi64(nv[g], tv));
	}
}

/* The last steps of one lane: full carry, h mod p, plus s, out. */
static void finish(uint64_t h64[5], const uint8_t *key, uint8_t *tag)
{
	uint32_t h[5], g[5], c, mask, s[4];
	uint64_t f;

	UNROLL
	for (int i = 0; i < 5; i++)
		h[i] = (uint32_t)h64[i];
	memcpy(s, key + 16, 16);
	c = h[0] >> 26; h[0] &= M26; h[1] += c;
	c = h[1] >> 26; h[1] &= M26; h[2] += c;
	c = h[2] >> 26; h[2] &= M26; h[3] += c;
	c = h[3] >> 26; h[3] &= M26; h[4] += c;
	c = h[4] >> 26; h[4] &= M26; h[0] += c * 5;
	c = h[0] >> 26; h[0] &= M26; h[1] += c;

	g[0] = h[0] + 5; c = g[0] >> 26; g[0] &= M26;
	g[1] = h[1] + c; c = g[1] >> 26; g[1] &= M26;
	g[2] = h[2] + c; c = g[2] >> 26; g[2] &= M26;
	g[3] = h[3] + c; c = g[3] >> 26; g[3] &= M26;
	g[4] = h[4] + c - (1u << 26);
	mask = (g[4] >> 31) - 1;
	UNROLL
	for (int i = 0; i < 5; i++)
		h[i] = (h[i] & ~mask) | (g[i] & mask);

	f = (uint64_t)(h[0] | h[1] << 26) + s[0];
	wg_mb_put_le32(tag, (uint32_t)f);
	f = (uint64_t)(h[1] >> 6 | h[2] << 20) + s[1] + (f >> 32);
	wg_mb_put_le32(tag + 4, (uint32_t)f);
	f = (uint64_t)(h[2] >> 12 | h[3] << 14) + s[2] + (f >> 32);
	wg_mb_put_le32(tag + 8, (uint32_t)f);
	f = (uint64_t)(h[3] >> 18 | h[4] << 8) + s[3] + (f >> 32);
	wg_mb_put_le32(tag + 12, (uint32_t)f);
	wg_wipe(h, sizeof(h));
	wg_wipe(g, sizeof(g));
	wg_wipe(s, sizeof(s));
}

T256 void wg_mb_poly_avx2(const struct wg_mb_poly_group *grp)
{
	struct {
		uint32_t t[4][4];
		uint64_t r[5][4], h[5][4], lane[5];
	} sec;
	struct vec4 v[2];

	UNROLL
	for (int g = 0; g < 2; g++) {
		UNROLL
		for (int l = 0; l < 4; l++) {
			const uint8_t *k = grp->key + 32 * (4 * g + l);

			memcpy(sec.t[l], k, 16);
			sec.t[l][0] &= 0x0fffffff;
			sec.t[l][1] &= 0x0ffffffc;
			sec.t[l][2] &= 0x0ffffffc;
			sec.t[l][3] &= 0x0ffffffc;
			sec.r[0][l] = sec.t[l][0] & M26;
			sec.r[1][l] = (sec.t[l][0] >> 26 | sec.t[l][1] << 6) & M26;
			sec.r[2][l] = (sec.t[l][1] >> 20 | sec.t[l][2] << 12) & M26;
			sec.r[3][l] = (sec.t[l][2] >> 14 | sec.t[l][3] << 18) & M26;
			sec.r[4][l] = sec.t[l][3] >> 8;
		}
		UNROLL
		for (int i = 0; i < 5; i++) {
			v[g].r[i] = _mm256_loadu_si256((const __m256i *)sec.r[i]);
			v[g].s[i] = _mm256_add_epi64(v[g].r[i], _mm256_slli_epi64(v[g].r[i], 2));
			v[g].h[i] = _mm256_setzero_si256();
		}
	}
	for (unsigned s = 0; s < WG_MB_POLY_SEGS; s++)
		segment(v, grp->p[s], grp->n[s]);
	UNROLL
	for (int g = 0; g < 2; g++) {
		UNROLL
		for (int i = 0; i < 5; i++)
			_mm256_storeu_si256((__m256i *)sec.h[i], v[g].h[i]);
		UNROLL
		for (int l = 0; l < 4; l++) {
			UNROLL
			for (int i = 0; i < 5; i++)
				sec.lane[i] = sec.h[i][l];
			finish(sec.lane, grp->key + 32 * (4 * g + l), grp->tag[4 * g + l]);
		}
	}
	wg_wipe(&sec, sizeof(sec));
}
