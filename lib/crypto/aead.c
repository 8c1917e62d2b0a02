/* SPDX-License-Identifier: MIT */
/*
 * intel-ipsec-mb 1.3 has no multi-buffer ChaCha20-Poly1305: each job runs to completion on
 * a wide single-buffer implementation (AVX-512 where present). The burst functions still
 * submit every job of a burst back to back through one manager, so the manager, the key
 * and the code stay hot, and they collect completions generically so that a future
 * out-of-order implementation needs no change here.
 */
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>

#include "wg_aead.h"
#include "wg_crypto.h"

struct wg_aead {
	IMB_MGR *mgr;
	IMB_ARCH arch;
};

static const uint8_t no_ad[1];

struct wg_aead *wg_aead_create(void)
{
	struct wg_aead *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->mgr = alloc_mb_mgr(0);
	if (a->mgr == NULL) {
		free(a);
		return NULL;
	}
	init_mb_mgr_auto(a->mgr, &a->arch);
	if (imb_get_errno(a->mgr) != 0) {
		free_mb_mgr(a->mgr);
		free(a);
		return NULL;
	}
	return a;
}

void wg_aead_free(struct wg_aead *a)
{
	if (a == NULL)
		return;
	free_mb_mgr(a->mgr);
	free(a);
}

const char *wg_aead_arch(const struct wg_aead *a)
{
	switch (a->arch) {
	case IMB_ARCH_AVX512: return "avx512";
	case IMB_ARCH_AVX2:   return "avx2";
	case IMB_ARCH_AVX:    return "avx";
	case IMB_ARCH_SSE:    return "sse";
	default:              return "none";
	}
}

static void fill_job(IMB_JOB *job, const struct wg_aead_op *op, uint8_t *dst,
		     const uint8_t *src, uint8_t *tag, bool encrypt)
{
	job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
	job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
	job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->enc_keys = op->key;
	job->dec_keys = op->key;
	job->key_len_in_bytes = WG_KEY_LEN;
	job->iv = op->nonce;
	job->iv_len_in_bytes = WG_AEAD_NONCE_LEN;
	job->src = src;
	job->dst = dst;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = op->len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = op->len;
	job->u.CHACHA20_POLY1305.aad = op->ad_len ? op->ad : no_ad;
	job->u.CHACHA20_POLY1305.aad_len_in_bytes = op->ad_len;
	job->auth_tag_output = tag;
	job->auth_tag_output_len_in_bytes = WG_AEAD_TAG_LEN;
	job->user_data = (void *)(uintptr_t)op;
}

/* Mark a completed job's op; returns 1 if it completed well. */
static unsigned complete(IMB_JOB *job)
{
	struct wg_aead_op *op = job->user_data;

	op->ok = job->status == IMB_STATUS_COMPLETED;
	return op->ok;
}

/*
 * Run one chunk. Encrypt writes tags straight behind the text; decrypt writes the computed
 * tags to tags[] for the caller to compare. Returns the number of jobs that completed.
 */
static unsigned run_chunk(IMB_MGR *mgr, struct wg_aead_op *ops, unsigned n, bool encrypt,
			  uint8_t tags[][WG_AEAD_TAG_LEN])
{
	unsigned done = 0;
	IMB_JOB *job;

	for (unsigned i = 0; i < n; i++) {
		ops[i].ok = false;
		job = IMB_GET_NEXT_JOB(mgr);
		fill_job(job, &ops[i], ops[i].buf, ops[i].buf,
			 encrypt ? ops[i].buf + ops[i].len : tags[i], encrypt);
		job = IMB_SUBMIT_JOB(mgr);
		while (job != NULL) {
			done += complete(job);
			job = IMB_GET_COMPLETED_JOB(mgr);
		}
	}
	while ((job = IMB_FLUSH_JOB(mgr)) != NULL)
		done += complete(job);
	return done;
}

unsigned wg_aead_encrypt_burst(struct wg_aead *a, struct wg_aead_op *ops, unsigned n)
{
	unsigned done = 0;

	for (unsigned off = 0; off < n; off += WG_AEAD_CHUNK) {
		unsigned k = n - off < WG_AEAD_CHUNK ? n - off : WG_AEAD_CHUNK;
		done += run_chunk(a->mgr, ops + off, k, true, NULL);
	}
	return done;
}

unsigned wg_aead_decrypt_burst(struct wg_aead *a, struct wg_aead_op *ops, unsigned n)
{
	uint8_t tags[WG_AEAD_CHUNK][WG_AEAD_TAG_LEN];
	unsigned good = 0;

	for (unsigned off = 0; off < n; off += WG_AEAD_CHUNK) {
		unsigned k = n - off < WG_AEAD_CHUNK ? n - off : WG_AEAD_CHUNK;
		struct wg_aead_op *chunk = ops + off;

		run_chunk(a->mgr, chunk, k, false, tags);
		for (unsigned i = 0; i < k; i++) {
			struct wg_aead_op *op = &chunk[i];

			op->ok = op->ok && wg_equal(tags[i], op->buf + op->len, WG_AEAD_TAG_LEN);
			if (!op->ok)
				wg_wipe(op->buf, op->len);
			good += op->ok;
		}
	}
	return good;
}

bool wg_aead_encrypt(struct wg_aead *a, uint8_t *dst, const uint8_t *src, uint32_t len,
		     const uint8_t *ad, uint32_t ad_len, const uint8_t nonce[WG_AEAD_NONCE_LEN],
		     const uint8_t key[WG_KEY_LEN])
{
	struct wg_aead_op op = { .key = key, .ad = ad, .buf = dst, .len = len, .ad_len = ad_len };

	memcpy(op.nonce, nonce, WG_AEAD_NONCE_LEN);
	if (dst != src)
		memmove(dst, src, len);
	return wg_aead_encrypt_burst(a, &op, 1) == 1;
}

bool wg_aead_decrypt(struct wg_aead *a, uint8_t *dst, const uint8_t *src, uint32_t len,
		     const uint8_t *ad, uint32_t ad_len, const uint8_t nonce[WG_AEAD_NONCE_LEN],
		     const uint8_t key[WG_KEY_LEN])
{
	uint8_t tag[WG_AEAD_TAG_LEN], computed[WG_AEAD_TAG_LEN];
	struct wg_aead_op op = { .key = key, .ad = ad, .buf = dst, .len = len, .ad_len = ad_len };
	IMB_JOB *job;
	bool ok = false;

	memcpy(op.nonce, nonce, WG_AEAD_NONCE_LEN);
	memcpy(tag, src + len, WG_AEAD_TAG_LEN);  /* src and dst may overlap */
	job = IMB_GET_NEXT_JOB(a->mgr);
	fill_job(job, &op, dst, src, computed, false);
	job = IMB_SUBMIT_JOB(a->mgr);
	if (job == NULL)
		job = IMB_FLUSH_JOB(a->mgr);
	if (job != NULL && job->status == IMB_STATUS_COMPLETED)
		ok = wg_equal(computed, tag, WG_AEAD_TAG_LEN);
	if (!ok)
		wg_wipe(dst, len);
	return ok;
}
