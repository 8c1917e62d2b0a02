/* SPDX-License-Identifier: MIT */
/*
 * Unit test of the ChaCha20-Poly1305 engines of wg_aead.h (RFC 8439):
 *
 *  - the portable reference's primitives against RFC 8439's examples (2.3.2 block,
 *    2.4.2 encryption, 2.5.2 Poly1305, 2.8.2 AEAD; tests/vectors/rfc8439.json) and against
 *    libsodium for random lengths;
 *  - every engine this machine can run (the others are reported as SKIPPED, never
 *    counted as passed): every Wycheproof case with a 12-byte nonce through the one-buffer
 *    calls and through bursts, alone and mixed into bursts of random other ops;
 *  - a differential test of every engine against libsodium: random bursts (1..64 ops, a
 *    few larger), lengths 0..9000 with many at block (64), Poly1305 (16) and lane-count
 *    boundaries and a few up to 65535, random keys and nonces with some ops sharing a key,
 *    AD on some; then some tags, ciphertext bytes or AD bytes corrupted: exactly those
 *    fail and are wiped, every other op matches libsodium byte for byte.
 *
 * Fixed seed (WGDP_TEST_SEED=<n> picks another); WGDP_TEST_ROUNDS=<n> sets the rounds of
 * the differential test per engine.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "aead_internal.h"
#include "check.h"
#include "wg_aead.h"
#include "wg_crypto.h"

#define TAG WG_AEAD_TAG_LEN

static const char *vec_dir;

/* ------------------------------------------------------------------ helpers */

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

static json_t *load_json(const char *name)
{
	char path[4096];
	json_error_t err;
	json_t *root;

	snprintf(path, sizeof(path), "%s/%s", vec_dir, name);
	root = json_load_file(path, 0, &err);
	if (!CHECK(root != NULL))
		fprintf(stderr, "%s: %s (line %d)\n", path, err.text, err.line);
	return root;
}

static const char *jstr(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	CHECK(s != NULL);
	return s ? s : "";
}

static uint8_t *unhex_dup(const char *hex, size_t *len)
{
	size_t cap = strlen(hex) / 2;
	uint8_t *out = xmalloc(cap);
	int n = check_unhex(out, cap, hex);

	CHECK(n >= 0);
	*len = n < 0 ? 0 : (size_t)n;
	return out;
}

static bool unhex_fixed(uint8_t *out, size_t n, const char *hex)
{
	return strlen(hex) == 2 * n && check_unhex(out, n, hex) == (int)n;
}

/* ------------------------------------------------------------------ randomness */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)((rng_next() >> 11) % n);
}

static void rng_fill(void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t r = rng_next();
		memcpy(p + i, &r, len - i < 8 ? len - i : 8);
	}
}

static void rng_seed(void)
{
	const char *env = getenv("WGDP_TEST_SEED");
	uint64_t seed = env && *env ? strtoull(env, NULL, 0) : 0x5eed1234abcdull;

	printf("aead: seed %llu (WGDP_TEST_SEED to change)\n", (unsigned long long)seed);
	rng_state = seed ? seed : 1;
}

/* ------------------------------------------------------------------ engines */

struct engine {
	enum wg_aead_engine e;
	struct wg_aead *a;
	const char *name;
};

static struct engine engines[WG_AEAD_ENGINES + 2];
static unsigned n_engines;

static void test_engine_api(void)
{
	enum wg_aead_engine e;

	for (unsigned i = 0; i < WG_AEAD_ENGINES; i++) {
		const char *name = wg_aead_engine_name((enum wg_aead_engine)i);
		struct wg_aead *a;

		if (!CHECK(name != NULL))
			continue;
		CHECK_EQ(wg_aead_engine_parse(name, &e), 0);
		CHECK_EQ(e, i);
		a = wg_aead_create_engine((enum wg_aead_engine)i);
		CHECK_EQ(a != NULL, wg_aead_engine_supported((enum wg_aead_engine)i));
		if (a == NULL) {
			printf("aead: engine %-8s SKIPPED: this CPU or OS cannot run it\n", name);
			continue;
		}
		CHECK_EQ(wg_aead_engine(a), i);
		CHECK(strlen(wg_aead_describe(a)) > 0);
		printf("aead: engine %-8s runs as: %s\n", name, wg_aead_describe(a));
		engines[n_engines++] = (struct engine){ .e = (enum wg_aead_engine)i, .a = a,
							.name = name };
	}
	/* AUTO as it runs on a CPU without AVX-512 IFMA, and on one without AVX2. */
	for (int level = 1; level >= 0; level--) {
		struct wg_aead *a = wg_aead_create_auto_capped(level);
		const char *name = level ? "auto/avx2" : "auto/none";

		if (!CHECK(a != NULL))
			continue;
		if (level == 1 && !wg_aead_engine_supported(WG_AEAD_AVX2)) {
			printf("aead: engine %-8s SKIPPED: this CPU or OS cannot run AVX2\n", name);
			wg_aead_free(a);
			continue;
		}
		printf("aead: engine %-8s runs as: %s\n", name, wg_aead_describe(a));
		engines[n_engines++] = (struct engine){ .e = WG_AEAD_AUTO, .a = a, .name = name };
	}
	CHECK(wg_aead_engine_supported(WG_AEAD_AUTO));
	CHECK(wg_aead_engine_supported(WG_AEAD_IPSECMB));
	CHECK(wg_aead_engine_supported(WG_AEAD_REF));
	CHECK(wg_aead_engine_name((enum wg_aead_engine)WG_AEAD_ENGINES) == NULL);
	CHECK_EQ(wg_aead_engine_parse("ipsecmb", &e), 0);
	CHECK_EQ(e, WG_AEAD_IPSECMB);
	CHECK_EQ(wg_aead_engine_parse("avx1024", &e), -1);
	CHECK_EQ(wg_aead_engine_parse("", &e), -1);
	CHECK_EQ(wg_aead_engine_parse(NULL, &e), -1);
	CHECK(wg_aead_create_engine((enum wg_aead_engine)WG_AEAD_ENGINES) == NULL);
	/* wg_aead_create() is AUTO. */
	{
		struct wg_aead *a = wg_aead_create();

		if (CHECK(a != NULL))
			CHECK_EQ(wg_aead_engine(a), WG_AEAD_AUTO);
		wg_aead_free(a);
	}
}

/* ------------------------------------------------------------------ reference primitives */

static void test_ref_rfc(void)
{
	json_t *root = load_json("rfc8439.json"), *t;
	uint8_t key[32], nonce[12], tag[16], want_tag[16];
	size_t i, n, m;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "chacha20_block"), i, t) {
		uint32_t out[16];
		uint8_t got[64], *want = unhex_dup(jstr(t, "block"), &n);

		CHECK(unhex_fixed(key, 32, jstr(t, "key")));
		CHECK(unhex_fixed(nonce, 12, jstr(t, "nonce")));
		wg_chacha20_ref_block(out, key,
				      (uint32_t)json_integer_value(json_object_get(t, "counter")),
				      nonce);
		for (int w = 0; w < 16; w++)
			wg_mb_put_le32(got + 4 * w, out[w]);
		CHECK_EQ(n, 64);
		CHECK_MEM(got, want, 64);
		memset(got, 0, 64);             /* libsodium agrees with the transcription */
		crypto_stream_chacha20_ietf_xor_ic(got, got, 64, nonce,
			(uint32_t)json_integer_value(json_object_get(t, "counter")), key);
		CHECK_MEM(got, want, 64);
		free(want);
	}
	json_array_foreach(json_object_get(root, "chacha20_encrypt"), i, t) {
		uint8_t *pt = unhex_dup(jstr(t, "plaintext"), &n);
		uint8_t *ct = unhex_dup(jstr(t, "ciphertext"), &m);
		uint8_t *buf = xmalloc(n);
		uint32_t ctr = (uint32_t)json_integer_value(json_object_get(t, "counter"));

		CHECK(unhex_fixed(key, 32, jstr(t, "key")));
		CHECK(unhex_fixed(nonce, 12, jstr(t, "nonce")));
		CHECK_EQ(n, m);
		wg_chacha20_ref_xor(buf, pt, n, key, ctr, nonce);       /* out of place */
		CHECK_MEM(buf, ct, n);
		wg_chacha20_ref_xor(buf, buf, n, key, ctr, nonce);      /* in place, back */
		CHECK_MEM(buf, pt, n);
		crypto_stream_chacha20_ietf_xor_ic(buf, pt, n, nonce, ctr, key);
		CHECK_MEM(buf, ct, n);
		free(pt);
		free(ct);
		free(buf);
	}
	json_array_foreach(json_object_get(root, "poly1305"), i, t) {
		uint8_t *msg = unhex_dup(jstr(t, "msg"), &n);

		CHECK(unhex_fixed(key, 32, jstr(t, "key")));
		CHECK(unhex_fixed(want_tag, 16, jstr(t, "tag")));
		wg_poly1305_ref(tag, msg, n, key);
		CHECK_MEM(tag, want_tag, 16);
		crypto_onetimeauth_poly1305(tag, msg, n, key);
		CHECK_MEM(tag, want_tag, 16);
		free(msg);
	}
	json_array_foreach(json_object_get(root, "aead"), i, t) {
		size_t adlen;
		uint8_t *pt = unhex_dup(jstr(t, "plaintext"), &n);
		uint8_t *ct = unhex_dup(jstr(t, "ciphertext"), &m);
		uint8_t *ad = unhex_dup(jstr(t, "aad"), &adlen);
		uint8_t *buf = xmalloc(n + TAG);

		CHECK(unhex_fixed(key, 32, jstr(t, "key")));
		CHECK(unhex_fixed(nonce, 12, jstr(t, "nonce")));
		CHECK(unhex_fixed(want_tag, 16, jstr(t, "tag")));
		CHECK_EQ(n, m);
		memcpy(buf, pt, n);
		wg_aead_ref_seal(buf, n, tag, ad, adlen, nonce, key);
		CHECK_MEM(buf, ct, n);
		CHECK_MEM(tag, want_tag, 16);
		CHECK(wg_aead_ref_open(buf, n, tag, ad, adlen, nonce, key));
		CHECK_MEM(buf, pt, n);
		{
			unsigned long long clen;

			crypto_aead_chacha20poly1305_ietf_encrypt(buf, &clen, pt, n, ad, adlen, NULL,
								  nonce, key);
			CHECK_MEM(buf, ct, n);
			CHECK_MEM(buf + n, want_tag, 16);
		}
		/* And through every engine, one buffer and a burst of one. */
		for (unsigned e = 0; e < n_engines; e++) {
			struct wg_aead_op op = { .key = key, .ad = ad, .ad_len = (uint32_t)adlen,
						 .buf = buf, .len = (uint32_t)n };

			memcpy(op.nonce, nonce, 12);
			memcpy(buf, pt, n);
			CHECK_EQ(wg_aead_encrypt_burst(engines[e].a, &op, 1), 1);
			CHECK_MEM(buf, ct, n);
			CHECK_MEM(buf + n, want_tag, 16);
			CHECK_EQ(wg_aead_decrypt_burst(engines[e].a, &op, 1), 1);
			CHECK_MEM(buf, pt, n);
		}
		free(pt);
		free(ct);
		free(ad);
		free(buf);
	}
	json_decref(root);
	printf("aead: RFC 8439 2.3.2, 2.4.2, 2.5.2 and 2.8.2 checked\n");
}

/* The reference primitives against libsodium's for random keys, nonces and lengths. */
static void test_ref_sodium(void)
{
	uint8_t key[32], nonce[12], a[16], b[16];
	static uint8_t msg[2100], x[2100], y[2100];

	for (int i = 0; i < 400; i++) {
		size_t len = i < 150 ? (size_t)i : rng_below(sizeof(msg) + 1);
		uint32_t ctr = rng_below(4) == 0 ? 0xfffffff0u + rng_below(15) : rng_below(1000);

		rng_fill(key, 32);
		rng_fill(nonce, 12);
		rng_fill(msg, len);
		if (ctr > 0xffffffffu - (len + 63) / 64)
			ctr = 0;     /* libsodium refuses a counter that would wrap */
		wg_chacha20_ref_xor(x, msg, len, key, ctr, nonce);
		crypto_stream_chacha20_ietf_xor_ic(y, msg, len, nonce, ctr, key);
		CHECK_MEM(x, y, len);
		wg_poly1305_ref(a, msg, len, key);
		crypto_onetimeauth_poly1305(b, msg, len, key);
		CHECK_MEM(a, b, 16);
	}
	/* Poly1305 at the edges of the field: all-ones keys and messages. */
	memset(key, 0xff, 32);
	memset(msg, 0xff, 256);
	for (size_t len = 0; len <= 256; len += 16) {
		wg_poly1305_ref(a, msg, len, key);
		crypto_onetimeauth_poly1305(b, msg, len, key);
		CHECK_MEM(a, b, 16);
	}
}

/* ------------------------------------------------------------------ Wycheproof */

struct vcase {
	bool valid;
	size_t adlen, len;
	uint8_t key[32], iv[12];
	uint8_t *ad, *msg, *sealed;      /* sealed: ct || tag */
};

struct vset {
	struct vcase *c;
	size_t n, skipped;
};

static bool vset_load(struct vset *s)
{
	json_t *root = load_json("chacha20_poly1305_test.json"), *g, *t;
	size_t i, j;

	memset(s, 0, sizeof(*s));
	if (root == NULL)
		return false;
	s->c = xmalloc((size_t)json_integer_value(json_object_get(root, "numberOfTests")) *
		       sizeof(*s->c));
	json_array_foreach(json_object_get(root, "testGroups"), i, g) {
		json_array_foreach(json_object_get(g, "tests"), j, t) {
			struct vcase *c = &s->c[s->n];
			size_t ctlen, taglen;
			uint8_t *ct, *tag;

			if (strlen(jstr(t, "iv")) != 24 ||
			    json_integer_value(json_object_get(g, "tagSize")) != 128) {
				s->skipped++;
				continue;
			}
			memset(c, 0, sizeof(*c));
			c->valid = strcmp(jstr(t, "result"), "valid") == 0;
			CHECK(unhex_fixed(c->key, 32, jstr(t, "key")));
			CHECK(unhex_fixed(c->iv, 12, jstr(t, "iv")));
			c->ad = unhex_dup(jstr(t, "aad"), &c->adlen);
			c->msg = unhex_dup(jstr(t, "msg"), &c->len);
			ct = unhex_dup(jstr(t, "ct"), &ctlen);
			tag = unhex_dup(jstr(t, "tag"), &taglen);
			CHECK_EQ(ctlen, c->len);
			CHECK_EQ(taglen, TAG);
			c->sealed = xmalloc(c->len + TAG);
			memcpy(c->sealed, ct, c->len);
			memcpy(c->sealed + c->len, tag, TAG);
			free(ct);
			free(tag);
			s->n++;
		}
	}
	json_decref(root);
	return CHECK(s->n > 0);
}

static void vset_free(struct vset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->c[i].ad);
		free(s->c[i].msg);
		free(s->c[i].sealed);
	}
	free(s->c);
}

/* One case through the one-buffer calls, in and out of place. */
static void vcase_single(struct wg_aead *a, const struct vcase *c)
{
	uint8_t *out = xmalloc(c->len + TAG), *plain = xmalloc(c->len + 1);
	bool ok;

	if (c->valid) {
		CHECK(wg_aead_encrypt(a, out, c->msg, (uint32_t)c->len, c->ad,
				      (uint32_t)c->adlen, c->iv, c->key));
		CHECK_MEM(out, c->sealed, c->len + TAG);
		memcpy(out, c->msg, c->len);
		CHECK(wg_aead_encrypt(a, out, out, (uint32_t)c->len, c->ad, (uint32_t)c->adlen,
				      c->iv, c->key));
		CHECK_MEM(out, c->sealed, c->len + TAG);
	}
	memset(plain, 0xa5, c->len + 1);
	ok = wg_aead_decrypt(a, plain, c->sealed, (uint32_t)c->len, c->ad, (uint32_t)c->adlen,
			     c->iv, c->key);
	CHECK_EQ(ok, c->valid);
	CHECK(c->valid ? memcmp(plain, c->msg, c->len) == 0 : wg_is_zero(plain, c->len));
	CHECK_EQ(plain[c->len], 0xa5);           /* nothing written past len */
	memcpy(out, c->sealed, c->len + TAG);
	ok = wg_aead_decrypt(a, out, out, (uint32_t)c->len, c->ad, (uint32_t)c->adlen, c->iv,
			     c->key);
	CHECK_EQ(ok, c->valid);
	CHECK(c->valid ? memcmp(out, c->msg, c->len) == 0 : wg_is_zero(out, c->len));
	free(out);
	free(plain);
}

/* A random op for filling bursts around the vectors: its plaintext and libsodium's
 * ciphertext and tag. */
struct filler {
	uint8_t key[32], ad[40];
	uint8_t *plain, *sealed;
};

static void filler_make(struct filler *f, struct wg_aead_op *op)
{
	unsigned long long clen;

	memset(op, 0, sizeof(*op));
	op->len = rng_below(4) ? rng_below(200) : rng_below(3000);
	op->ad_len = rng_below(3) ? 0 : rng_below(sizeof(f->ad) + 1);
	rng_fill(f->key, 32);
	rng_fill(f->ad, sizeof(f->ad));
	rng_fill(op->nonce, 12);
	op->key = f->key;
	op->ad = f->ad;
	f->plain = xmalloc(op->len);
	f->sealed = xmalloc(op->len + TAG);
	rng_fill(f->plain, op->len);
	crypto_aead_chacha20poly1305_ietf_encrypt(f->sealed, &clen, f->plain, op->len, op->ad,
						  op->ad_len, NULL, op->nonce, op->key);
	op->buf = xmalloc(op->len + TAG);
}

/*
 * Every case in bursts: burst sizes cycle through sizes[]; with mix, each case sits among
 * random filler ops (a third of the burst). Encrypt the valid ones, decrypt all.
 */
static void vset_bursts(struct wg_aead *a, const struct vset *s, const unsigned *sizes,
			size_t nsizes, bool mix)
{
	size_t k = 0;

	for (size_t off = 0; off < s->n;) {
		unsigned b = sizes[k++ % nsizes], nc = 0, nf, n, want = 0;
		struct wg_aead_op *ops;
		struct filler *f;
		size_t *which;

		if (b > s->n - off)
			b = (unsigned)(s->n - off);
		nc = b;
		nf = mix ? 1 + b / 2 : 0;
		n = nc + nf;
		ops = xmalloc(n * sizeof(*ops));
		f = xmalloc(n * sizeof(*f));
		which = xmalloc(n * sizeof(*which));
		/* Interleave: position i holds a case or a filler, in a random order. */
		for (unsigned i = 0, ci = 0, fi = 0; i < n; i++) {
			bool take_case = fi == nf || (ci < nc && rng_below(n) < nc);

			which[i] = take_case ? off + ci++ : SIZE_MAX;
			if (!take_case)
				fi++;
		}
		/* Encrypt: valid cases' plaintexts, fillers' plaintexts. */
		for (unsigned i = 0; i < n; i++) {
			if (which[i] == SIZE_MAX) {
				filler_make(&f[i], &ops[i]);
				memcpy(ops[i].buf, f[i].plain, ops[i].len);
				continue;
			}
			const struct vcase *c = &s->c[which[i]];

			ops[i] = (struct wg_aead_op){ .key = c->key, .ad = c->adlen ? c->ad : NULL,
				.ad_len = (uint32_t)c->adlen, .len = (uint32_t)c->len };
			memcpy(ops[i].nonce, c->iv, 12);
			ops[i].buf = xmalloc(c->len + TAG);
			memcpy(ops[i].buf, c->msg, c->len);
		}
		CHECK_EQ(wg_aead_encrypt_burst(a, ops, n), n);
		for (unsigned i = 0; i < n; i++) {
			CHECK(ops[i].ok);
			if (which[i] == SIZE_MAX) {
				CHECK_MEM(ops[i].buf, f[i].sealed, ops[i].len + TAG);
			} else {
				const struct vcase *c = &s->c[which[i]];

				if (c->valid)
					CHECK_MEM(ops[i].buf, c->sealed, c->len + TAG);
				else    /* a modified tag: same ciphertext, other tag */
					CHECK(memcmp(ops[i].buf, c->sealed, c->len + TAG) != 0);
			}
		}
		/* Decrypt: the cases' sealed texts, the fillers' sealed texts. */
		for (unsigned i = 0; i < n; i++) {
			if (which[i] == SIZE_MAX) {
				memcpy(ops[i].buf, f[i].sealed, ops[i].len + TAG);
				ops[i].ok = false;
				want++;
			} else {
				const struct vcase *c = &s->c[which[i]];

				memcpy(ops[i].buf, c->sealed, c->len + TAG);
				ops[i].ok = !c->valid;
				want += c->valid;
			}
		}
		CHECK_EQ(wg_aead_decrypt_burst(a, ops, n), want);
		for (unsigned i = 0; i < n; i++) {
			if (which[i] == SIZE_MAX) {
				CHECK(ops[i].ok);
				CHECK_MEM(ops[i].buf, f[i].plain, ops[i].len);
				free(f[i].plain);
				free(f[i].sealed);
			} else {
				const struct vcase *c = &s->c[which[i]];

				CHECK_EQ(ops[i].ok, c->valid);
				CHECK(c->valid ? memcmp(ops[i].buf, c->msg, c->len) == 0
					       : wg_is_zero(ops[i].buf, c->len));
			}
			free(ops[i].buf);
		}
		free(ops);
		free(f);
		free(which);
		off += nc;
	}
}

static void test_wycheproof(void)
{
	static const unsigned uniform[] = { 1, 2, 7, 8, 9, 15, 16, 17, 32, 64, 65, 1000 };
	static const unsigned mixed[] = { 1, 7, 64, 100, 3, 65, 2, 16, 33 };
	struct vset s;

	if (!vset_load(&s))
		return;
	for (unsigned e = 0; e < n_engines; e++) {
		struct wg_aead *a = engines[e].a;
		unsigned before = check_failed;

		for (size_t i = 0; i < s.n; i++)
			vcase_single(a, &s.c[i]);
		for (size_t i = 0; i < sizeof(uniform) / sizeof(uniform[0]); i++)
			vset_bursts(a, &s, &uniform[i], 1, false);
		vset_bursts(a, &s, mixed, sizeof(mixed) / sizeof(mixed[0]), false);
		vset_bursts(a, &s, mixed, sizeof(mixed) / sizeof(mixed[0]), true);
		vset_bursts(a, &s, &uniform[2], 1, true);
		printf("aead: engine %-8s Wycheproof: %zu cases (12-byte nonce; %zu others "
		       "skipped), one-buffer, bursts, mixed bursts: %s\n",
		       engines[e].name, s.n, s.skipped,
		       check_failed == before ? "ok" : "FAILED");
	}
	vset_free(&s);
}

/* ------------------------------------------------------------------ against libsodium */

#define DIFF_MAX_LEN 9000u
#define DIFF_MAX_AD 80u

struct dop {
	uint8_t *plain, *expect;     /* libsodium's ct || tag */
	uint8_t ad[DIFF_MAX_AD];
	int corrupt;                 /* 0 none, 1 ciphertext, 2 tag, 3 AD */
};

/* Lengths that sit on the edges the engines care about. */
static uint32_t diff_len(unsigned lanes16)
{
	static const uint32_t edges[] = { 0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65,
		127, 128, 129, 191, 192, 193, 255, 256, 257, 511, 512, 513, 575, 576, 577, 1023,
		1024, 1025, 1419, 1420, 1421, 1439, 1440, 1441, 2047, 2048, 8191, 8192, 8999,
		9000 };
	uint32_t r = rng_below(16);

	if (r < 5)
		return edges[rng_below(sizeof(edges) / sizeof(edges[0]))];
	if (r < 8) {        /* one below, at or one above a multiple of 64 or 16 */
		uint32_t base = rng_below(DIFF_MAX_LEN / 64) * (rng_below(2) ? 64 : 16);
		uint32_t v = base + rng_below(3);

		return v > 0 ? v - 1 : 0;
	}
	if (r < 10)         /* a number of blocks around the lane counts (8, 16) */
		return (lanes16 ? 16u : 8u) * 64u * (1 + rng_below(3)) + rng_below(3) * 64u -
		       64u + rng_below(2) * rng_below(64);
	if (r < 13)
		return rng_below(600);
	return rng_below(DIFF_MAX_LEN + 1);
}

static void diff_round(struct wg_aead *a, unsigned n, bool big_lengths)
{
	struct wg_aead_op *ops = xmalloc(n * sizeof(*ops));
	struct dop *d = xmalloc(n * sizeof(*d));
	uint8_t (*keys)[32] = xmalloc(n * 32);
	unsigned bad = 0;

	for (unsigned i = 0; i < n; i++) {
		struct wg_aead_op *op = &ops[i];
		unsigned long long clen;

		memset(op, 0, sizeof(*op));
		op->len = big_lengths && rng_below(4) == 0 ? rng_below(65536)
							  : diff_len(rng_below(2));
		if (op->len > 65535)
			op->len = 65535;
		op->ad_len = rng_below(3) == 0 ? rng_below(DIFF_MAX_AD + 1) : 0;
		rng_fill(keys[i], 32);
		/* About a third share the key of an earlier op (as one peer's packets). */
		op->key = i > 0 && rng_below(3) == 0 ? keys[rng_below(i)] : keys[i];
		rng_fill(op->nonce, 12);
		rng_fill(d[i].ad, op->ad_len);
		op->ad = op->ad_len || rng_below(2) ? d[i].ad : NULL;
		d[i].plain = xmalloc(op->len);
		rng_fill(d[i].plain, op->len);
		d[i].expect = xmalloc(op->len + TAG);
		crypto_aead_chacha20poly1305_ietf_encrypt(d[i].expect, &clen, d[i].plain, op->len,
							  op->ad, op->ad_len, NULL, op->nonce,
							  op->key);
		op->buf = xmalloc(op->len + TAG + 1);
		memcpy(op->buf, d[i].plain, op->len);
		op->buf[op->len + TAG] = 0x5a;         /* a guard byte */
		d[i].corrupt = 0;
	}
	CHECK_EQ(wg_aead_encrypt_burst(a, ops, n), n);
	for (unsigned i = 0; i < n; i++) {
		CHECK(ops[i].ok);
		CHECK_MEM(ops[i].buf, d[i].expect, ops[i].len + TAG);
		CHECK_EQ(ops[i].buf[ops[i].len + TAG], 0x5a);
	}
	/* The first op through the one-buffer calls too, out of place, into buffers of
	 * exactly the size the API promises (len + 16 to encrypt into, len to decrypt into). */
	{
		uint8_t *sealed = xmalloc(ops[0].len + TAG), *plain = xmalloc(ops[0].len);

		CHECK(wg_aead_encrypt(a, sealed, d[0].plain, ops[0].len, ops[0].ad, ops[0].ad_len,
				      ops[0].nonce, ops[0].key));
		CHECK_MEM(sealed, d[0].expect, ops[0].len + TAG);
		CHECK(wg_aead_decrypt(a, plain, sealed, ops[0].len, ops[0].ad, ops[0].ad_len,
				      ops[0].nonce, ops[0].key));
		CHECK_MEM(plain, d[0].plain, ops[0].len);
		sealed[ops[0].len + rng_below(TAG)] ^= 1;
		CHECK(!wg_aead_decrypt(a, plain, sealed, ops[0].len, ops[0].ad, ops[0].ad_len,
				       ops[0].nonce, ops[0].key));
		CHECK(wg_is_zero(plain, ops[0].len));
		free(sealed);
		free(plain);
	}

	/* Corrupt about a quarter: a ciphertext bit, a tag bit or an AD bit. */
	for (unsigned i = 0; i < n; i++) {
		struct wg_aead_op *op = &ops[i];
		int kind;

		op->ok = rng_below(2);
		if (rng_below(4) != 0)
			continue;
		kind = 1 + (int)rng_below(3);
		if (kind == 1 && op->len == 0)
			kind = 2;
		if (kind == 3 && op->ad_len == 0)
			kind = 2;
		if (kind == 1)
			op->buf[rng_below(op->len)] ^= (uint8_t)(1u << rng_below(8));
		else if (kind == 2)
			op->buf[op->len + rng_below(TAG)] ^= (uint8_t)(1u << rng_below(8));
		else
			d[i].ad[rng_below(op->ad_len)] ^= (uint8_t)(1u << rng_below(8));
		d[i].corrupt = kind;
		bad++;
	}
	CHECK_EQ(wg_aead_decrypt_burst(a, ops, n), n - bad);
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(ops[i].ok, d[i].corrupt == 0);
		if (d[i].corrupt)
			CHECK(wg_is_zero(ops[i].buf, ops[i].len));
		else
			CHECK_MEM(ops[i].buf, d[i].plain, ops[i].len);
		CHECK_EQ(ops[i].buf[ops[i].len + TAG], 0x5a);
		free(ops[i].buf);
		free(d[i].plain);
		free(d[i].expect);
	}
	free(ops);
	free(d);
	free(keys);
}

static void test_differential(void)
{
	const char *env = getenv("WGDP_TEST_ROUNDS");
	unsigned rounds = env && *env ? (unsigned)strtoul(env, NULL, 0) : 10000;

	for (unsigned e = 0; e < n_engines; e++) {
		struct timespec t0, t1;
		unsigned before = check_failed, ops = 0;
		/* The reference is slow; it gets a quarter of the rounds. */
		unsigned r_max = engines[e].e == WG_AEAD_REF ? rounds / 4 + 1 : rounds;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (unsigned r = 0; r < r_max; r++) {
			unsigned n;

			if (r % 50 == 49)
				n = 65 + rng_below(100);        /* several chunks */
			else if (r % 10 == 0)
				n = 1;
			else
				n = 1 + rng_below(64);
			diff_round(engines[e].a, n, r % 25 == 24);
			ops += n;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("aead: engine %-8s against libsodium: %u bursts, %u ops in %.2f s: %s\n",
		       engines[e].name, r_max, ops,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		       check_failed == before ? "ok" : "FAILED");
	}
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	vec_dir = argv[1];
	CHECK_EQ(wg_crypto_init(), 0);
	rng_seed();

	test_engine_api();
	test_ref_rfc();
	test_ref_sodium();
	test_wycheproof();
	test_differential();

	for (unsigned e = 0; e < n_engines; e++)
		wg_aead_free(engines[e].a);
	return check_report("aead");
}
