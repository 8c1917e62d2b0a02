/* SPDX-License-Identifier: MIT */
/*
 * The engines of wg_aead.h and the choice among them.
 *
 * intel-ipsec-mb 1.3 has no multi-buffer ChaCha20-Poly1305: each job runs to completion on
 * a wide single-buffer implementation (AVX-512 where present). Its burst path still
 * submits every job of a burst back to back through one manager, so the manager, the key
 * and the code stay hot, and collects completions generically so that a future
 * out-of-order implementation needs no change here.
 *
 * The multi-buffer engines (aead_mb.c with the kernels of chacha_*.c and poly_*.c) run
 * independent packets in SIMD lanes. AUTO takes the widest one the CPU can run and sends
 * to intel-ipsec-mb what it does faster, by the thresholds below, which come from
 * wgdp-bench's raw AEAD section on the development machine (docs/performance.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>

#include "aead_internal.h"
#include "wg_aead.h"
#include "wg_crypto.h"

/*
 * AUTO's routing, from measurement (docs/performance.md, "Raw AEAD engines", and the
 * crossovers measured there on the development machine):
 *
 *  - with avx512-mb, ops of at least AUTO512_IPSECMB_MIN_LEN bytes go to intel-ipsec-mb:
 *    its single-buffer AVX-512 code (Poly1305 vectorised within the message) is faster
 *    per byte on long packets (equal at 2560 bytes, 18% faster at 9000) and has no lanes
 *    to fill. avx2-mb is faster than intel-ipsec-mb's AVX2 code at every length measured
 *    (up to 9000 bytes), so with it no op is routed by length;
 *  - a burst goes to intel-ipsec-mb whole when it has too few ops to fill the lanes: a
 *    multi-buffer engine costs a whole batch of ChaCha20 blocks and a whole group of
 *    Poly1305 messages however few lanes are used. The crossovers, for avx512-mb and
 *    avx2-mb: about 4 ops of 64 to 128 bytes for both; 8 ops of 256 to 1024 bytes for
 *    both; 16 (avx512) or 8 (avx2) ops of more. Each op counts 16 / that, and the burst
 *    needs AUTO_MB_MIN_FILL in all.
 */
#define AUTO512_IPSECMB_MIN_LEN 2560u
#define AUTO_MB_MIN_FILL        16u

static unsigned fill_weight(const struct wg_aead *a, uint32_t len);

struct wg_aead {
	enum wg_aead_engine engine;
	IMB_MGR *mgr;                        /* ipsec-mb, and AUTO's routing; else NULL */
	IMB_ARCH arch;
	const struct wg_mb_impl *mb;         /* multi-buffer engine, or NULL */
	uint32_t mb_max_len;                 /* ops with len >= this go to ipsec-mb */
	unsigned mb_min_fill;                /* bursts filling less go to ipsec-mb (0: never) */
	unsigned fill_long;                  /* the fill of an op of more than 1024 bytes */
	char desc[160];
};

static const char *const engine_names[WG_AEAD_ENGINES] = {
	[WG_AEAD_AUTO] = "auto",
	[WG_AEAD_IPSECMB] = "ipsec-mb",
	[WG_AEAD_REF] = "ref",
	[WG_AEAD_AVX2] = "avx2",
	[WG_AEAD_AVX512] = "avx512",
};

static const uint8_t no_ad[1];

const char *wg_aead_engine_name(enum wg_aead_engine e)
{
	return (unsigned)e < WG_AEAD_ENGINES ? engine_names[e] : NULL;
}

int wg_aead_engine_parse(const char *name, enum wg_aead_engine *e)
{
	if (name == NULL)
		return -1;
	for (unsigned i = 0; i < WG_AEAD_ENGINES; i++)
		if (strcmp(name, engine_names[i]) == 0) {
			*e = (enum wg_aead_engine)i;
			return 0;
		}
	if (strcmp(name, "ipsecmb") == 0) {
		*e = WG_AEAD_IPSECMB;
		return 0;
	}
	return -1;
}

bool wg_aead_engine_supported(enum wg_aead_engine e)
{
	switch (e) {
	case WG_AEAD_AUTO:
	case WG_AEAD_IPSECMB:
	case WG_AEAD_REF:
		return true;
	case WG_AEAD_AVX2:
		return wg_mb_avx2_usable();
	case WG_AEAD_AVX512:
		return wg_mb_avx512_usable();
	}
	return false;
}

enum wg_aead_engine wg_aead_engine(const struct wg_aead *a)
{
	return a->engine;
}

const char *wg_aead_describe(const struct wg_aead *a)
{
	return a->desc;
}

const char *wg_aead_arch(const struct wg_aead *a)
{
	if (a->mgr == NULL)
		return "none";
	switch (a->arch) {
	case IMB_ARCH_AVX512: return "avx512";
	case IMB_ARCH_AVX2:   return "avx2";
	case IMB_ARCH_AVX:    return "avx";
	case IMB_ARCH_SSE:    return "sse";
	default:              return "none";
	}
}

static int open_ipsecmb(struct wg_aead *a)
{
	a->mgr = alloc_mb_mgr(0);
	if (a->mgr == NULL)
		return -1;
	init_mb_mgr_auto(a->mgr, &a->arch);
	if (imb_get_errno(a->mgr) != 0) {
		free_mb_mgr(a->mgr);
		a->mgr = NULL;
		return -1;
	}
	return 0;
}

static void describe(struct wg_aead *a)
{
	size_t n = sizeof(a->desc);

	if (a->mb == NULL) {
		if (a->mgr != NULL)
			snprintf(a->desc, n, "ipsec-mb %s", wg_aead_arch(a));
		else
			snprintf(a->desc, n, "ref (portable C)");
		return;
	}
	if (a->mgr == NULL) {
		snprintf(a->desc, n, "%s-mb", a->mb->name);
		return;
	}
	if (a->mb_min_fill > 0 && a->mb_max_len != UINT32_MAX)
		snprintf(a->desc, n, "%s-mb (ipsec-mb %s for >= %u bytes and for bursts too "
			 "small to fill the lanes)", a->mb->name, wg_aead_arch(a),
			 (unsigned)a->mb_max_len);
	else if (a->mb_min_fill > 0)
		snprintf(a->desc, n, "%s-mb (ipsec-mb %s for bursts too small to fill the "
			 "lanes)", a->mb->name, wg_aead_arch(a));
	else
		snprintf(a->desc, n, "%s-mb (ipsec-mb %s for >= %u bytes)", a->mb->name,
			 wg_aead_arch(a), (unsigned)a->mb_max_len);
}

/* Create a context; for AUTO, max_level caps the multi-buffer engine it may choose
 * (2 avx512, 1 avx2, 0 none), so tests can run AUTO as a smaller CPU would. */
static struct wg_aead *create(enum wg_aead_engine e, int max_level)
{
	struct wg_aead *a;

	if (!wg_aead_engine_supported(e))
		return NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->engine = e;
	a->mb_max_len = UINT32_MAX;
	a->mb_min_fill = 0;
	switch (e) {
	case WG_AEAD_AUTO:
		if (max_level >= 2 && wg_mb_avx512_usable())
			a->mb = &wg_mb_avx512;
		else if (max_level >= 1 && wg_mb_avx2_usable())
			a->mb = &wg_mb_avx2;
		if (open_ipsecmb(a) != 0)
			goto fail;
		if (a->mb == &wg_mb_avx512) {
			a->mb_max_len = AUTO512_IPSECMB_MIN_LEN;
			a->mb_min_fill = AUTO_MB_MIN_FILL;
			a->fill_long = 1;
		} else if (a->mb != NULL) {
			a->mb_min_fill = AUTO_MB_MIN_FILL;
			a->fill_long = 2;
		}
		break;
	case WG_AEAD_IPSECMB:
		if (open_ipsecmb(a) != 0)
			goto fail;
		break;
	case WG_AEAD_REF:
		break;
	case WG_AEAD_AVX2:
		a->mb = &wg_mb_avx2;
		break;
	case WG_AEAD_AVX512:
		a->mb = &wg_mb_avx512;
		break;
	}
	describe(a);
	return a;
fail:
	free(a);
	return NULL;
}

struct wg_aead *wg_aead_create_engine(enum wg_aead_engine e)
{
	return create(e, 2);
}

struct wg_aead *wg_aead_create_auto_capped(int max_level)
{
	return create(WG_AEAD_AUTO, max_level);
}

struct wg_aead *wg_aead_create(void)
{
	return wg_aead_create_engine(WG_AEAD_AUTO);
}

void wg_aead_free(struct wg_aead *a)
{
	if (a == NULL)
		return;
	if (a->mgr != NULL)
		free_mb_mgr(a->mgr);
	free(a);
}

/* ------------------------------------------------------------------ intel-ipsec-mb */

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
 * Run up to WG_AEAD_CHUNK of the ops from *from on whose len is at least min_len; chunk[]
 * gets them. Encrypt writes tags straight behind the text; decrypt writes the computed
 * tags to tags[] for the caller to compare. Returns how many ops were taken.
 */
static unsigned ipsecmb_chunk(IMB_MGR *mgr, struct wg_aead_op *ops, unsigned n,
			      unsigned *from, uint32_t min_len, bool encrypt,
			      struct wg_aead_op **chunk, uint8_t tags[][WG_AEAD_TAG_LEN])
{
	unsigned k = 0;
	IMB_JOB *job;

	for (; *from < n && k < WG_AEAD_CHUNK; (*from)++) {
		struct wg_aead_op *op = &ops[*from];

		if (op->len < min_len)
			continue;
		op->ok = false;
		chunk[k] = op;
		job = IMB_GET_NEXT_JOB(mgr);
		fill_job(job, op, op->buf, op->buf, encrypt ? op->buf + op->len : tags[k],
			 encrypt);
		k++;
		job = IMB_SUBMIT_JOB(mgr);
		while (job != NULL) {
			complete(job);
			job = IMB_GET_COMPLETED_JOB(mgr);
		}
	}
	while ((job = IMB_FLUSH_JOB(mgr)) != NULL)
		complete(job);
	return k;
}

static unsigned ipsecmb_encrypt(IMB_MGR *mgr, struct wg_aead_op *ops, unsigned n,
				uint32_t min_len)
{
	struct wg_aead_op *chunk[WG_AEAD_CHUNK];
	unsigned done = 0, from = 0, k;

	while ((k = ipsecmb_chunk(mgr, ops, n, &from, min_len, true, chunk, NULL)) > 0)
		for (unsigned i = 0; i < k; i++)
			done += chunk[i]->ok;
	return done;
}

static unsigned ipsecmb_decrypt(IMB_MGR *mgr, struct wg_aead_op *ops, unsigned n,
				uint32_t min_len)
{
	uint8_t tags[WG_AEAD_CHUNK][WG_AEAD_TAG_LEN];
	struct wg_aead_op *chunk[WG_AEAD_CHUNK];
	unsigned good = 0, from = 0, k;

	while ((k = ipsecmb_chunk(mgr, ops, n, &from, min_len, false, chunk, tags)) > 0) {
		for (unsigned i = 0; i < k; i++) {
			struct wg_aead_op *op = chunk[i];

			op->ok = op->ok && wg_equal(tags[i], op->buf + op->len, WG_AEAD_TAG_LEN);
			if (!op->ok)
				wg_wipe(op->buf, op->len);
			good += op->ok;
		}
		wg_wipe(tags, k * sizeof(tags[0]));
	}
	return good;
}

/* ------------------------------------------------------------------ dispatch */

static unsigned fill_weight(const struct wg_aead *a, uint32_t len)
{
	return len <= 128 ? 4 : len <= 1024 ? 2 : a->fill_long;
}

/* Where a burst goes: all to intel-ipsec-mb, all to the multi-buffer engine (or the
 * reference), or split by length. Lengths are public, and so is this. */
enum route { TO_IPSECMB, TO_MB, SPLIT };

static enum route route(const struct wg_aead *a, const struct wg_aead_op *ops, unsigned n)
{
	unsigned fill = 0, long_ops = 0;

	if (a->mgr == NULL)
		return TO_MB;
	if (a->mb == NULL)
		return TO_IPSECMB;
	if (a->mb_max_len == UINT32_MAX && a->mb_min_fill == 0)
		return TO_MB;
	for (unsigned i = 0; i < n; i++) {
		if (ops[i].len >= a->mb_max_len)
			long_ops++;
		else
			fill += fill_weight(a, ops[i].len);
	}
	if (fill < a->mb_min_fill)
		return TO_IPSECMB;
	return long_ops ? SPLIT : TO_MB;
}

unsigned wg_aead_encrypt_burst(struct wg_aead *a, struct wg_aead_op *ops, unsigned n)
{
	enum route r = route(a, ops, n);
	unsigned done;

	if (r == TO_IPSECMB)
		return ipsecmb_encrypt(a->mgr, ops, n, 0);
	if (a->mb == NULL) {
		for (unsigned i = 0; i < n; i++) {
			struct wg_aead_op *op = &ops[i];

			wg_aead_ref_seal(op->buf, op->len, op->buf + op->len, op->ad, op->ad_len,
					 op->nonce, op->key);
			op->ok = true;
		}
		return n;
	}
	done = wg_mb_encrypt(a->mb, ops, n, a->mb_max_len);
	if (r == SPLIT)
		done += ipsecmb_encrypt(a->mgr, ops, n, a->mb_max_len);
	return done;
}

/* Decrypt with the tags at buf + len, or at tags[i] (single-buffer calls). */
static unsigned decrypt_ops(struct wg_aead *a, struct wg_aead_op *ops, unsigned n,
			    const uint8_t *const *tags, enum route r)
{
	unsigned good;

	if (a->mb == NULL) {
		good = 0;
		for (unsigned i = 0; i < n; i++) {
			struct wg_aead_op *op = &ops[i];

			op->ok = wg_aead_ref_open(op->buf, op->len,
						  tags ? tags[i] : op->buf + op->len, op->ad,
						  op->ad_len, op->nonce, op->key);
			good += op->ok;
		}
		return good;
	}
	good = wg_mb_decrypt(a->mb, ops, n, a->mb_max_len, tags);
	if (r == SPLIT)
		good += ipsecmb_decrypt(a->mgr, ops, n, a->mb_max_len);
	return good;
}

unsigned wg_aead_decrypt_burst(struct wg_aead *a, struct wg_aead_op *ops, unsigned n)
{
	enum route r = route(a, ops, n);

	if (r == TO_IPSECMB)
		return ipsecmb_decrypt(a->mgr, ops, n, 0);
	return decrypt_ops(a, ops, n, NULL, r);
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

/* intel-ipsec-mb for one buffer, out of place. */
static bool ipsecmb_decrypt_one(IMB_MGR *mgr, struct wg_aead_op *op, const uint8_t *src,
				const uint8_t tag[WG_AEAD_TAG_LEN])
{
	uint8_t computed[WG_AEAD_TAG_LEN];
	IMB_JOB *job;
	bool ok = false;

	job = IMB_GET_NEXT_JOB(mgr);
	fill_job(job, op, op->buf, src, computed, false);
	job = IMB_SUBMIT_JOB(mgr);
	if (job == NULL)
		job = IMB_FLUSH_JOB(mgr);
	if (job != NULL && job->status == IMB_STATUS_COMPLETED)
		ok = wg_equal(computed, tag, WG_AEAD_TAG_LEN);
	wg_wipe(computed, sizeof(computed));
	return ok;
}

bool wg_aead_decrypt(struct wg_aead *a, uint8_t *dst, const uint8_t *src, uint32_t len,
		     const uint8_t *ad, uint32_t ad_len, const uint8_t nonce[WG_AEAD_NONCE_LEN],
		     const uint8_t key[WG_KEY_LEN])
{
	uint8_t tag[WG_AEAD_TAG_LEN];
	const uint8_t *tags[1] = { tag };
	struct wg_aead_op op = { .key = key, .ad = ad, .buf = dst, .len = len, .ad_len = ad_len };
	bool ok;

	memcpy(op.nonce, nonce, WG_AEAD_NONCE_LEN);
	memcpy(tag, src + len, WG_AEAD_TAG_LEN);  /* src and dst may overlap */
	if (route(a, &op, 1) != TO_MB) {
		ok = ipsecmb_decrypt_one(a->mgr, &op, src, tag);
	} else {
		if (dst != src)
			memmove(dst, src, len);
		ok = decrypt_ops(a, &op, 1, tags, TO_MB) == 1;
	}
	if (!ok)
		wg_wipe(dst, len);
	return ok;
}
