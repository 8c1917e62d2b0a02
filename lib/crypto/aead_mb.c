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
 * Poly1305. Ops are sorted by their number of MAC blocks, longest first, and taken
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
 * The scratch holding secrets (state rows with the keys, one-time keys, computed tags) is
 * wiped before returning; the padded copies hold only ciphertext, AD and lengths.
 */
#include <string.h>

#include "aead_internal.h"
#include "wg_crypto.h"

#define CHUNK WG_AEAD_CHUNK

struct chunk {
	uint32_t st[CHUNK + 1][16] __attribute__((aligned(64)));  /* + a dummy row */
	uint8_t otk[CHUNK][32];
	uint8_t tail_ad[CHUNK][16];
	uint8_t tail_ct[CHUNK][32];          /* partial ciphertext block, lengths block */
	uint8_t tag[CHUNK][16];
	struct wg_aead_op *op[CHUNK];
	unsigned order[CHUNK];               /* ops by MAC blocks, longest first */
	unsigned n;
	uint8_t sink[16];                    /* tags of idle poly lanes */
};

struct cc_fill {
	struct wg_mb_chacha_batch b;
	unsigned k;
};

static const uint8_t zero_block[64] __attribute__((aligned(64)));

/* ---- ChaCha20 batches ---- */

static void cc_flush(const struct wg_mb_impl *impl, struct chunk *c, struct cc_fill *f)
{
	if (f->k == 0)
		return;
	for (unsigned l = f->k; l < impl->chacha_lanes; l++) {
		f->b.p[l] = c->sink;
		f->b.ctr[l] = 0;
		f->b.row[l] = CHUNK;
		f->b.n[l] = 0;
	}
	impl->chacha(c->st, &f->b);
	f->k = 0;
}

static inline void cc_add(const struct wg_mb_impl *impl, struct chunk *c,
			  struct cc_fill *f, uint8_t *p, uint32_t row, uint32_t ctr, uint32_t n)
{
	unsigned k = f->k;

	f->b.p[k] = p;
	f->b.ctr[k] = ctr;
	f->b.row[k] = row;
	f->b.n[k] = n;
	f->k = k + 1;
	if (f->k == impl->chacha_lanes)
		cc_flush(impl, c, f);
}

/* The text blocks of op i, counters 1 on. */
static void cc_add_text(const struct wg_mb_impl *impl, struct chunk *c,
			struct cc_fill *f, unsigned i)
{
	struct wg_aead_op *op = c->op[i];
	uint32_t left = op->len, ctr = 1;
	uint8_t *p = op->buf;

	while (left >= 64) {
		cc_add(impl, c, f, p, i, ctr++, 64);
		p += 64;
		left -= 64;
	}
	if (left)
		cc_add(impl, c, f, p, i, ctr, left);
}

/* ---- the chunk ---- */

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

static void chunk_init(struct chunk *c)
{
	static const uint32_t sigma[4] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };
	unsigned cnt[CHUNK], n = c->n;

	memset(c->st[CHUNK], 0, sizeof(c->st[CHUNK]));
	for (unsigned i = 0; i < n; i++) {
		const struct wg_aead_op *op = c->op[i];
		uint32_t *s = c->st[i];

		memcpy(s, sigma, sizeof(sigma));
		memcpy(s + 4, op->key, 32);
		s[12] = 0;
		memcpy(s + 13, op->nonce, 12);
		cnt[i] = blocks16(op->ad_len) + blocks16(op->len) + 1;
	}
	/* Insertion sort by MAC blocks, longest first; already sorted for uniform bursts. */
	for (unsigned i = 0; i < n; i++) {
		unsigned j = i;

		while (j > 0 && cnt[c->order[j - 1]] < cnt[i]) {
			c->order[j] = c->order[j - 1];
			j--;
		}
		c->order[j] = i;
	}
}

static void chunk_wipe(struct chunk *c)
{
	unsigned n = c->n;

	wg_wipe(c->st, n * sizeof(c->st[0]));
	wg_wipe(c->otk, n * sizeof(c->otk[0]));
	wg_wipe(c->tag, n * sizeof(c->tag[0]));
}

/* The MAC of every op of the chunk; tags to buf + len (encrypt) or c->tag (decrypt).
 * tag_follows: each buffer has the 16 bytes of a tag behind its text (false only for
 * one-buffer decryption, whose output buffer holds just the text). */
static void chunk_mac(const struct wg_mb_impl *impl, struct chunk *c, bool encrypt,
		      bool tag_follows)
{
	struct wg_mb_poly_group g;
	unsigned lanes = impl->poly_lanes;

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
			/* The 16 bytes from the partial block on are inside the buffer (the tag
			 * follows the text); keep the cp of them that are text. Ciphertext,
			 * lengths and AD are public: this scratch needs no wiping. */
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
	for (unsigned base = 0; base < c->n; base += lanes) {
		for (unsigned s = 0; s < WG_MB_POLY_SEGS; s++) {
			g.max[s] = 0;
			g.min[s] = UINT32_MAX;
		}
		for (unsigned l = 0; l < lanes; l++) {
			const struct wg_aead_op *op;
			unsigned i;

			if (base + l >= c->n) {
				for (unsigned s = 0; s < WG_MB_POLY_SEGS; s++) {
					g.p[s][l] = zero_block;
					g.n[s][l] = 0;
				}
				g.key[l] = zero_block;
				g.tag[l] = c->sink;
				continue;
			}
			i = c->order[base + l];
			op = c->op[i];
			g.p[0][l] = op->ad_len >= 16 ? op->ad : zero_block;
			g.n[0][l] = op->ad_len / 16;
			g.p[1][l] = c->tail_ad[i];
			g.n[1][l] = op->ad_len % 16 != 0;
			g.p[2][l] = op->len >= 16 ? op->buf : zero_block;
			g.n[2][l] = op->len / 16;
			g.p[3][l] = op->len % 16 ? c->tail_ct[i] : c->tail_ct[i] + 16;
			g.n[3][l] = 1 + (op->len % 16 != 0);
			g.key[l] = c->otk[i];
			g.tag[l] = encrypt ? op->buf + op->len : c->tag[i];
		}
		for (unsigned l = 0; l < lanes; l++)
			for (unsigned s = 0; s < WG_MB_POLY_SEGS; s++) {
				g.max[s] = g.n[s][l] > g.max[s] ? g.n[s][l] : g.max[s];
				g.min[s] = g.n[s][l] < g.min[s] ? g.n[s][l] : g.min[s];
			}
		impl->poly(&g);
	}
}

/* Gather the next chunk of ops with len below max_len; returns the index to go on from. */
static unsigned chunk_take(struct chunk *c, struct wg_aead_op *ops, unsigned n, unsigned from,
			   uint32_t max_len)
{
	c->n = 0;
	for (; from < n && c->n < CHUNK; from++)
		if (ops[from].len < max_len)
			c->op[c->n++] = &ops[from];
	return from;
}

unsigned wg_mb_encrypt(const struct wg_mb_impl *impl, struct wg_aead_op *ops, unsigned n,
		       uint32_t max_len)
{
	struct chunk c;
	struct cc_fill f;
	unsigned done = 0;

	for (unsigned next = 0; next < n;) {
		next = chunk_take(&c, ops, n, next, max_len);
		if (c.n == 0)
			break;
		chunk_init(&c);
		f.k = 0;
		for (unsigned i = 0; i < c.n; i++) {
			cc_add(impl, &c, &f, c.otk[i], i, 0, WG_MB_STORE | 32);
			cc_add_text(impl, &c, &f, i);
		}
		cc_flush(impl, &c, &f);
		chunk_mac(impl, &c, true, true);
		for (unsigned i = 0; i < c.n; i++)
			c.op[i]->ok = true;
		done += c.n;
		chunk_wipe(&c);
	}
	return done;
}

unsigned wg_mb_decrypt(const struct wg_mb_impl *impl, struct wg_aead_op *ops, unsigned n,
		       uint32_t max_len, const uint8_t *const *tags)
{
	struct chunk c;
	struct cc_fill f;
	unsigned good = 0;

	for (unsigned next = 0; next < n;) {
		next = chunk_take(&c, ops, n, next, max_len);
		if (c.n == 0)
			break;
		chunk_init(&c);
		f.k = 0;
		for (unsigned i = 0; i < c.n; i++)
			cc_add(impl, &c, &f, c.otk[i], i, 0, WG_MB_STORE | 32);
		cc_flush(impl, &c, &f);
		chunk_mac(impl, &c, false, tags == NULL);
		for (unsigned i = 0; i < c.n; i++) {
			struct wg_aead_op *op = c.op[i];
			const uint8_t *want = tags ? tags[op - ops] : op->buf + op->len;

			op->ok = tag_equal(c.tag[i], want);
			if (op->ok) {
				cc_add_text(impl, &c, &f, i);
				good++;
			}
		}
		cc_flush(impl, &c, &f);
		for (unsigned i = 0; i < c.n; i++)
			if (!c.op[i]->ok)
				wg_wipe(c.op[i]->buf, c.op[i]->len);
		chunk_wipe(&c);
	}
	return good;
}
