/* SPDX-License-Identifier: MIT */
/*
 * The multi-buffer ChaCha20-Poly1305 driver: it turns a burst of independent ops (each its
 * own key, nonce, AD and length) into full SIMD batches for the kernels of
 * struct wg_mb_impl, in chunks of WG_AEAD_CHUNK ops.
 *
 * ChaCha20. Every (op, block) pair is one lane; lanes are filled in op order across the
 * whole chunk, so a long packet does not leave the other lanes idle, and the Poly1305 key
 * block (counter 0) of each op is a lane like any other, whose first 32 bytes are stored
 * (not XORed) in a slot of the chunk: the one-time key.
 *
 * Poly1305. Ops are sorted by their number of MAC blocks, longest first (and everything
 * about them laid out in that order, as arrays the kernels read directly), and taken
 * impl->poly_lanes at a time, so the messages of one group have about the same length and
 * few lanes wait for the longest one. Each MAC input (AD || pad16 || ciphertext || pad16 ||
 * le64(ad_len) || le64(len)) is four segments of whole blocks: the AD's whole blocks and
 * the ciphertext's whole blocks in place, and padded copies of their partial last blocks
 * (the latter followed by the lengths block) in the chunk's scratch.
 *
 * Encrypt: one ChaCha20 pass over all the blocks (keys and text), then the MAC over the
 * ciphertext, tags written behind the text. Decrypt: a ChaCha20 pass over the key blocks
 * only, the MAC over the ciphertext, each tag compared in constant time (tag_equal), then a
 * ChaCha20 pass over the text of the ops that verified; a failed op's text is wiped. No
 * plaintext of a failed op is ever written.
 *
 * The scratch holding secrets (one-time keys, computed tags) is wiped before returning; the
 * padded copies hold only ciphertext, AD and lengths; the keys are read where they are.
 */
#include <string.h>

#include "aead_internal.h"
#include "wg_crypto.h"

#define CHUNK WG_AEAD_CHUNK
#define PAD (CHUNK + WG_MB_MAX_POLY)         /* room for idle lanes after the last op */

struct chunk {
	const uint8_t *key[CHUNK + 1], *nonce[CHUNK + 1];   /* per op, and a dummy row */
	uint8_t otk[CHUNK][32];              /* one-time keys, in order: the MAC's key array */
	uint8_t tail_ad[CHUNK][16];
	uint8_t tail_ct[CHUNK][32];          /* partial ciphertext block, lengths block */
	uint8_t tag[CHUNK][16];
	/* The MAC's lanes, in the ops' sorted order, padded with idle lanes. */
	const uint8_t *pp[WG_MB_POLY_SEGS][PAD];
	uint32_t pn[WG_MB_POLY_SEGS][PAD];
	uint8_t *ptag[PAD];
	uint32_t gmax[WG_MB_POLY_SEGS][CHUNK / 8], gmin[WG_MB_POLY_SEGS][CHUNK / 8];  /* per 8 */
	struct wg_aead_op *op[CHUNK];        /* longest MAC first */
	unsigned n;
	uint8_t sink[16];                    /* tags of idle poly lanes */
};

static const uint8_t zero_block[64] __attribute__((aligned(64)));

/*
 * Constant-time equality of two tags: the OR of the XORs, reduced without a branch. Not
 * wg_equal (sodium_memcmp), whose volatile byte loop costs about 40 cycles per tag, a
 * quarter of the whole budget of a 64-byte packet.
 */
static bool tag_equal(const uint8_t a[16], const uint8_t b[16])
{
	uint64_t a0, a1, b0, b1, d;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	d = (a0 ^ b0) | (a1 ^ b1);
	d = (d | (0 - d)) >> 63;        /* 1 if any bit differs, else 0 */
	return (bool)(1 ^ d);
}

static inline uint32_t blocks16(uint32_t len)
{
	return len / 16 + (len % 16 != 0);
}

static inline uint32_t mac_blocks(const struct wg_aead_op *op)
{
	return blocks16(op->ad_len) + blocks16(op->len) + 1;
}

/*
 * Take the next ops with len below max_len, at most CHUNK, sorted by MAC blocks, longest
 * first (insertion sort: no moves for a burst of equal lengths). Returns the index to go
 * on from.
 */
static unsigned chunk_take(struct chunk *c, struct wg_aead_op *ops, unsigned n, unsigned from,
			   uint32_t max_len)
{
	uint32_t cnt[CHUNK];
	unsigned k = 0;

	for (; from < n && k < CHUNK; from++) {
		struct wg_aead_op *op = &ops[from];
		uint32_t b;
		unsigned j = k;

		if (op->len >= max_len)
			continue;
		b = mac_blocks(op);
		while (j > 0 && cnt[j - 1] < b) {
			cnt[j] = cnt[j - 1];
			c->op[j] = c->op[j - 1];
			j--;
		}
		cnt[j] = b;
		c->op[j] = op;
		k++;
	}
	c->n = k;
	return from;
}

/* State rows, and the MAC's lanes (without the tails' contents). */
static void chunk_init(struct chunk *c, bool encrypt)
{
	unsigned n = c->n;
	/* Per 8 lanes: the bounds of the ciphertext's whole blocks, whether any op has AD,
	 * whether any and whether all have a partial last block. */
	uint32_t mx2 = 0, mn2 = UINT32_MAX, ad = 0, cp_any = 0, cp_all = 1;

	c->key[CHUNK] = zero_block + 16;
	c->nonce[CHUNK] = zero_block + 52;
	for (unsigned i = 0; i < n; i++) {
		const struct wg_aead_op *op = c->op[i];
		uint32_t n0 = op->ad_len / 16, n1 = op->ad_len % 16 != 0;
		uint32_t n2 = op->len / 16, cp = op->len % 16 != 0;

		c->key[i] = op->key;
		c->nonce[i] = op->nonce;

		c->pp[0][i] = n0 ? op->ad : zero_block;
		c->pp[1][i] = c->tail_ad[i];
		c->pp[2][i] = n2 ? op->buf : zero_block;
		c->pp[3][i] = cp ? c->tail_ct[i] : c->tail_ct[i] + 16;
		c->pn[0][i] = n0;
		c->pn[1][i] = n1;
		c->pn[2][i] = n2;
		c->pn[3][i] = 1 + cp;
		c->ptag[i] = encrypt ? op->buf + op->len : c->tag[i];
		if (encrypt)            /* done by the time the call returns */
			c->op[i]->ok = true;
		mx2 = n2 > mx2 ? n2 : mx2;
		mn2 = n2 < mn2 ? n2 : mn2;
		ad |= op->ad_len;
		cp_any |= cp;
		cp_all &= cp;
		if (i % 8 == 7 || i == n - 1) {
			unsigned g = i / 8, idle = i % 8 != 7;   /* idle lanes follow */
			uint32_t mx0 = 0, mx1 = 0, mn0 = 0, mn1 = 0;

			if (ad) {               /* the AD segments, exactly (rare) */
				mn0 = mn1 = UINT32_MAX;
				for (unsigned j = g * 8; j <= i; j++) {
					mx0 = c->pn[0][j] > mx0 ? c->pn[0][j] : mx0;
					mx1 = c->pn[1][j] > mx1 ? c->pn[1][j] : mx1;
					mn0 = c->pn[0][j] < mn0 ? c->pn[0][j] : mn0;
					mn1 = c->pn[1][j] < mn1 ? c->pn[1][j] : mn1;
				}
			}
			c->gmax[0][g] = mx0;
			c->gmax[1][g] = mx1;
			c->gmax[2][g] = mx2;
			c->gmax[3][g] = 1 + cp_any;
			c->gmin[0][g] = idle ? 0 : mn0;
			c->gmin[1][g] = idle ? 0 : mn1;
			c->gmin[2][g] = idle ? 0 : mn2;
			c->gmin[3][g] = idle ? 0 : 1 + cp_all;
			mx2 = ad = cp_any = 0;
			mn2 = UINT32_MAX;
			cp_all = 1;
		}
	}
	if (n % 16 != 0 && n % 16 <= 8)        /* a last group of 16 with an idle half */
		for (unsigned s = 0; s < WG_MB_POLY_SEGS; s++) {
			c->gmax[s][n / 8 + (n % 8 != 0)] = 0;
			c->gmin[s][n / 8 + (n % 8 != 0)] = 0;
		}
	/* Idle lanes up to the next whole group of the widest kernel. */
	for (unsigned i = n; i < (n + WG_MB_MAX_POLY - 1) / WG_MB_MAX_POLY * WG_MB_MAX_POLY; i++) {
		for (unsigned s = 0; s < WG_MB_POLY_SEGS; s++) {
			c->pp[s][i] = zero_block;
			c->pn[s][i] = 0;
		}
		memset(c->otk[i], 0, sizeof(c->otk[i]));
		c->ptag[i] = c->sink;
	}
}

/* The one-time keys, and for decryption the computed tags (encryption writes its tags
 * behind the text, not here). */
static void chunk_wipe(struct chunk *c, bool decrypt)
{
	unsigned n = c->n;

	wg_wipe(c->otk, (n + WG_MB_MAX_POLY - 1) / WG_MB_MAX_POLY * WG_MB_MAX_POLY *
		sizeof(c->otk[0]));
	if (decrypt)
		wg_wipe(c->tag, n * sizeof(c->tag[0]));
}

/* ---- ChaCha20 ---- */

/*
 * The ChaCha20 blocks of ops [0, n) of the chunk, as lanes of full batches: with keys, the
 * Poly1305 key block (counter 0, stored) of each op; with text, its text blocks (counter
 * 1 on, XORed), except for ops whose skip[] is set.
 */
static void chunk_chacha(const struct wg_mb_impl *impl, struct chunk *c, bool keys, bool text,
			 const bool *skip)
{
	struct wg_mb_chacha_batch b;
	const unsigned lanes = impl->chacha_lanes;
	unsigned k = 0;

#define ADD_LANE(ptr_, row_, ctr_, n_) do {                                     \
		b.p[k] = (ptr_);                                                \
		b.row[k] = (row_);                                              \
		b.ctr[k] = (ctr_);                                              \
		b.n[k] = (n_);                                                  \
		if (++k == lanes) {                                             \
			impl->chacha(c->key, c->nonce, &b);                                \
			k = 0;                                                  \
		}                                                               \
	} while (0)

	for (unsigned i = 0; i < c->n; i++) {
		struct wg_aead_op *op = c->op[i];
		uint32_t left = op->len, ctr = 1;
		uint8_t *p = op->buf;

		if (keys)
			ADD_LANE(c->otk[i], i, 0, WG_MB_STORE | 32);
		if (!text || (skip != NULL && skip[i]))
			continue;
		for (; left >= 64; left -= 64, p += 64)
			ADD_LANE(p, i, ctr++, 64);
		if (left)
			ADD_LANE(p, i, ctr, left);
	}
#undef ADD_LANE
	if (k == 0)
		return;
	for (; k < lanes; k++) {
		b.p[k] = c->sink;
		b.row[k] = CHUNK;
		b.ctr[k] = 0;
		b.n[k] = 0;
	}
	impl->chacha(c->key, c->nonce, &b);
}

/* ---- Poly1305 ---- */

/* The tails' contents: the last partial block of AD and of ciphertext, zero-padded, and the
 * lengths block. tag_follows: each buffer has the 16 bytes of a tag behind its text (false
 * only for one-buffer decryption, whose output buffer holds just the text). Ciphertext,
 * lengths and AD are public: this scratch needs no wiping. */
static void chunk_tails(struct chunk *c, bool tag_follows)
{
	for (unsigned i = 0; i < c->n; i++) {
		const struct wg_aead_op *op = c->op[i];
		uint32_t ap = op->ad_len % 16, cp = op->len % 16;
		uint8_t *t = c->tail_ct[i];
		uint64_t w[2] = { 0, 0 };

		if (ap) {
			memset(c->tail_ad[i], 0, 16);
			memcpy(c->tail_ad[i], op->ad + op->ad_len - ap, ap);
		}
		if (cp && tag_follows) {
			/* The 16 bytes from the partial block on are inside the buffer; keep
			 * the cp of them that are text. */
			memcpy(w, op->buf + op->len - cp, 16);
			w[0] &= cp >= 8 ? ~0ull : (1ull << (8 * cp)) - 1;
			w[1] &= cp > 8 ? (1ull << (8 * (cp - 8))) - 1 : 0;
		} else if (cp) {
			memcpy(w, op->buf + op->len - cp, cp);
		}
		memcpy(t, w, 16);
		wg_put_le64(t + 16, op->ad_len);
		wg_put_le64(t + 24, op->len);
	}
}

/* The MAC of every op, impl->poly_lanes at a time (the lanes of a group are neighbours in
 * the sorted order, so of about the same length). */
static void chunk_mac(const struct wg_mb_impl *impl, struct chunk *c)
{
	const unsigned lanes = impl->poly_lanes;

	for (unsigned base = 0; base < c->n; base += lanes) {
		struct wg_mb_poly_group g;

		for (unsigned s = 0; s < WG_MB_POLY_SEGS; s++) {
			unsigned k = base / 8;

			g.p[s] = c->pp[s] + base;
			g.n[s] = c->pn[s] + base;
			g.max[s] = c->gmax[s][k];
			g.min[s] = c->gmin[s][k];
			if (lanes == 16) {
				g.max[s] = c->gmax[s][k + 1] > g.max[s] ? c->gmax[s][k + 1] : g.max[s];
				g.min[s] = c->gmin[s][k + 1] < g.min[s] ? c->gmin[s][k + 1] : g.min[s];
			}
		}
		g.key = c->otk[base];
		g.tag = c->ptag + base;
		impl->poly(&g);
	}
}

/* ---- the burst ---- */

unsigned wg_mb_encrypt(const struct wg_mb_impl *impl, struct wg_aead_op *ops, unsigned n,
		       uint32_t max_len)
{
	struct chunk c;
	unsigned done = 0;

	for (unsigned next = 0; next < n;) {
		next = chunk_take(&c, ops, n, next, max_len);
		if (c.n == 0)
			break;
		chunk_init(&c, true);
		chunk_chacha(impl, &c, true, true, NULL);
		chunk_tails(&c, true);
		chunk_mac(impl, &c);
		done += c.n;
		chunk_wipe(&c, false);
	}
	return done;
}

unsigned wg_mb_decrypt(const struct wg_mb_impl *impl, struct wg_aead_op *ops, unsigned n,
		       uint32_t max_len, const uint8_t *const *tags)
{
	struct chunk c;
	bool bad[CHUNK];
	unsigned good = 0;

	for (unsigned next = 0; next < n;) {
		next = chunk_take(&c, ops, n, next, max_len);
		if (c.n == 0)
			break;
		chunk_init(&c, false);
		chunk_chacha(impl, &c, true, false, NULL);
		chunk_tails(&c, tags == NULL);
		chunk_mac(impl, &c);
		for (unsigned i = 0; i < c.n; i++) {
			struct wg_aead_op *op = c.op[i];
			const uint8_t *want = tags ? tags[op - ops] : op->buf + op->len;

			op->ok = tag_equal(c.tag[i], want);
			bad[i] = !op->ok;
			good += op->ok;
		}
		chunk_chacha(impl, &c, false, true, bad);
		for (unsigned i = 0; i < c.n; i++)
			if (bad[i])
				wg_wipe(c.op[i]->buf, c.op[i]->len);
		chunk_wipe(&c, true);
	}
	return good;
}
