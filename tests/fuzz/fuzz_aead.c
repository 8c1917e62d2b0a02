/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the ChaCha20-Poly1305 engines of wg_aead.h. The input is decoded
 * into a burst: its size, and per op a length (0..9000, sometimes up to 65535), an AD
 * length, which key it uses (ops may share keys), its nonce, and whether and where its
 * ciphertext, tag or AD is corrupted; keys, nonces, texts and AD bytes are derived from the
 * input by libsodium's deterministic generator. Every engine this machine runs encrypts the
 * burst, which must equal libsodium's output byte for byte, and then decrypts it: exactly
 * the corrupted ops must fail, with their text wiped, and the others give the plaintext
 * back. Any difference aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wg_aead.h"
#include "wg_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 80
#define MAX_AD 64
#define TAG WG_AEAD_TAG_LEN

struct reader {
	const uint8_t *p;
	size_t left;
};

static uint8_t next(struct reader *r)
{
	if (r->left == 0)
		return 0;
	r->left--;
	return *r->p++;
}

struct fop {
	uint8_t *plain, *expect, ad[MAX_AD];
	int corrupt;             /* 0 none, 1 ciphertext, 2 tag, 3 AD */
	uint32_t where;
	uint8_t bit;
};

static struct wg_aead *engines[WG_AEAD_ENGINES];
static unsigned n_engines;

static void init_once(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	if (wg_crypto_init() != 0)
		abort();
	for (unsigned e = 0; e < WG_AEAD_ENGINES; e++) {
		struct wg_aead *a = wg_aead_create_engine((enum wg_aead_engine)e);

		if (a != NULL)
			engines[n_engines++] = a;
	}
}

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void run_engine(struct wg_aead *a, struct wg_aead_op *ops, struct fop *f, unsigned n)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < n; i++) {
		memcpy(ops[i].buf, f[i].plain, ops[i].len);
		ops[i].ok = false;
	}
	check(wg_aead_encrypt_burst(a, ops, n) == n);
	for (unsigned i = 0; i < n; i++) {
		check(ops[i].ok);
		check(memcmp(ops[i].buf, f[i].expect, ops[i].len + TAG) == 0);
		check(ops[i].buf[ops[i].len + TAG] == 0x5a);
	}
	for (unsigned i = 0; i < n; i++) {
		struct wg_aead_op *op = &ops[i];

		op->ok = (i & 1) != 0;
		if (f[i].corrupt == 1)
			op->buf[f[i].where % op->len] ^= f[i].bit;
		else if (f[i].corrupt == 2)
			op->buf[op->len + f[i].where % TAG] ^= f[i].bit;
		else if (f[i].corrupt == 3)
			f[i].ad[f[i].where % op->ad_len] ^= f[i].bit;
		bad += f[i].corrupt != 0;
	}
	check(wg_aead_decrypt_burst(a, ops, n) == n - bad);
	for (unsigned i = 0; i < n; i++) {
		struct wg_aead_op *op = &ops[i];

		check(op->ok == (f[i].corrupt == 0));
		if (f[i].corrupt == 0)
			check(memcmp(op->buf, f[i].plain, op->len) == 0);
		else
			check(wg_is_zero(op->buf, op->len));
		check(op->buf[op->len + TAG] == 0x5a);
		if (f[i].corrupt == 3)          /* undo, for the next engine */
			f[i].ad[f[i].where % op->ad_len] ^= f[i].bit;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	uint8_t seed[randombytes_SEEDBYTES] = { 0 }, keys[8][32];
	struct wg_aead_op ops[MAX_OPS];
	struct fop f[MAX_OPS];
	unsigned n;

	init_once();
	n = 1 + next(&r) % MAX_OPS;
	memcpy(seed, data, size < sizeof(seed) ? size : sizeof(seed));
	randombytes_buf_deterministic(keys, sizeof(keys), seed);
	for (unsigned i = 0; i < n; i++) {
		uint8_t b0 = next(&r), b1 = next(&r), b2 = next(&r), b3 = next(&r);
		struct wg_aead_op *op = &ops[i];
		unsigned long long clen;

		memset(op, 0, sizeof(*op));
		/* Mostly short, around the block edges; b3's top bit allows long ones. */
		op->len = (uint32_t)((b0 | b1 << 8) % (b3 & 0x80 ? 65536 : 9001));
		if (b3 & 0x40)
			op->len %= 200;
		op->ad_len = b2 & 0x80 ? (uint32_t)(b2 % (MAX_AD + 1)) : 0;
		op->key = keys[b3 & 7];
		seed[0] ^= (uint8_t)i;
		seed[1] ^= b0;
		randombytes_buf_deterministic(op->nonce, sizeof(op->nonce), seed);
		seed[2] ^= 0x55;
		randombytes_buf_deterministic(f[i].ad, sizeof(f[i].ad), seed);
		op->ad = op->ad_len || (b3 & 8) ? f[i].ad : NULL;
		f[i].plain = malloc(op->len ? op->len : 1);
		f[i].expect = malloc(op->len + TAG);
		op->buf = malloc(op->len + TAG + 1);
		if (f[i].plain == NULL || f[i].expect == NULL || op->buf == NULL)
			abort();
		seed[3] ^= 0xa5;
		randombytes_buf_deterministic(f[i].plain, op->len, seed);
		crypto_aead_chacha20poly1305_ietf_encrypt(f[i].expect, &clen, f[i].plain, op->len,
							  op->ad, op->ad_len, NULL, op->nonce,
							  op->key);
		op->buf[op->len + TAG] = 0x5a;
		f[i].corrupt = b2 & 1 ? (b3 >> 4) & 3 : 0;
		if (f[i].corrupt == 1 && op->len == 0)
			f[i].corrupt = 2;
		if (f[i].corrupt == 3 && op->ad_len == 0)
			f[i].corrupt = 2;
		f[i].where = (uint32_t)(b1 << 8 | b2);
		f[i].bit = (uint8_t)(1u << (b0 & 7));
	}
	for (unsigned e = 0; e < n_engines; e++)
		run_engine(engines[e], ops, f, n);
	for (unsigned i = 0; i < n; i++) {
		free(f[i].plain);
		free(f[i].expect);
		free(ops[i].buf);
	}
	return 0;
}
