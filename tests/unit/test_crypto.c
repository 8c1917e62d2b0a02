/* SPDX-License-Identifier: MIT */
/*
 * Unit test of lib/crypto: the primitives of wg_crypto.h and the ChaCha20-Poly1305 of
 * wg_aead.h, against the vectors in tests/vectors (argv[1]; see SOURCES.md there), a few
 * constants computed with Python, and libsodium as an independent ChaCha20-Poly1305 for
 * random bursts. The random part prints its seed; WGDP_TEST_SEED=<n> replays it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

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

static bool has_flag(const json_t *t, const char *flag)
{
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(t, "flags"), i, f) {
		if (strcmp(json_string_value(f), flag) == 0)
			return true;
	}
	return false;
}

/* A hex string into a fresh buffer; *len gets its length. */
static uint8_t *unhex_dup(const char *hex, size_t *len)
{
	size_t cap = strlen(hex) / 2;
	uint8_t *out = xmalloc(cap);
	int n = check_unhex(out, cap, hex);

	CHECK(n >= 0);
	*len = n < 0 ? 0 : (size_t)n;
	return out;
}

/* A hex string of exactly n bytes. */
static bool unhex_fixed(uint8_t *out, size_t n, const char *hex)
{
	return strlen(hex) == 2 * n && check_unhex(out, n, hex) == (int)n;
}

static void unhex_const(uint8_t *out, size_t n, const char *hex)
{
	if (!CHECK(unhex_fixed(out, n, hex)))
		memset(out, 0, n);
}

/* ------------------------------------------------------------------ deterministic randomness */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* xorshift64* */
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
	uint8_t seed[randombytes_SEEDBYTES];

	for (size_t i = 0; i < sizeof(seed); i += 8) {
		uint64_t r = rng_next();
		memcpy(seed + i, &r, 8);
	}
	randombytes_buf_deterministic(buf, len, seed);
}

static void rng_seed(void)
{
	const char *env = getenv("WGDP_TEST_SEED");
	uint64_t seed;

	if (env != NULL && *env != '\0')
		seed = strtoull(env, NULL, 0);
	else
		seed = ((uint64_t)wg_random_u32() << 32) | wg_random_u32();
	printf("crypto: random seed %llu (WGDP_TEST_SEED to replay)\n", (unsigned long long)seed);
	rng_state = seed ? seed : 1;
}

/* ------------------------------------------------------------------ utilities */

static void test_util(void)
{
	uint8_t a[64], b[64], z[64] = { 0 };

	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (uint8_t)(i * 7 + 1);
	CHECK(wg_equal(a, b, sizeof(a)));
	CHECK(wg_equal(a, b, 0));
	b[63] ^= 0x80;
	CHECK(!wg_equal(a, b, sizeof(a)));
	CHECK(wg_equal(a, b, 63));
	b[0] ^= 1;
	CHECK(!wg_equal(a, b, 1));

	CHECK(wg_is_zero(z, sizeof(z)));
	CHECK(wg_is_zero(a, 0));
	z[40] = 0x10;
	CHECK(!wg_is_zero(z, sizeof(z)));
	CHECK(wg_is_zero(z, 40));

	memset(a, 0xff, sizeof(a));
	wg_wipe(a, sizeof(a));
	CHECK(wg_is_zero(a, sizeof(a)));

	wg_random(a, sizeof(a));
	wg_random(b, sizeof(b));
	CHECK(!wg_equal(a, b, sizeof(a)));
}

/* ------------------------------------------------------------------ AEAD vector files */

struct aead_case {
	long long tcid;
	bool valid;
	bool modified_tag;
	size_t adlen, len;                 /* len: plaintext length */
	uint8_t key[WG_KEY_LEN];
	uint8_t iv[WG_COOKIE_NONCE_LEN];
	uint8_t *ad;                       /* NULL when adlen is 0 */
	uint8_t *msg;
	uint8_t *sealed;                   /* ct || tag: len + 16 bytes */
};

struct aead_set {
	struct aead_case *c;
	size_t n, cap, skipped, valid, invalid;
};

static void parse_aead_case(struct aead_case *c, const json_t *t, size_t ivlen)
{
	const char *result = jstr(t, "result");
	size_t ctlen, taglen;
	uint8_t *ct, *tag;

	c->tcid = json_integer_value(json_object_get(t, "tcId"));
	c->valid = strcmp(result, "valid") == 0;
	/* These files only have valid and invalid (no "acceptable"): anything else needs a look. */
	CHECK(c->valid || strcmp(result, "invalid") == 0);
	c->modified_tag = has_flag(t, "ModifiedTag");
	CHECK(unhex_fixed(c->key, WG_KEY_LEN, jstr(t, "key")));
	CHECK(unhex_fixed(c->iv, ivlen, jstr(t, "iv")));
	c->ad = unhex_dup(jstr(t, "aad"), &c->adlen);
	if (c->adlen == 0) {
		free(c->ad);
		c->ad = NULL;
	}
	c->msg = unhex_dup(jstr(t, "msg"), &c->len);
	ct = unhex_dup(jstr(t, "ct"), &ctlen);
	tag = unhex_dup(jstr(t, "tag"), &taglen);
	CHECK_EQ(ctlen, c->len);
	CHECK_EQ(taglen, TAG);
	c->sealed = xmalloc(c->len + TAG);
	memset(c->sealed, 0, c->len + TAG);
	memcpy(c->sealed, ct, ctlen < c->len ? ctlen : c->len);
	memcpy(c->sealed + c->len, tag, taglen < TAG ? taglen : TAG);
	free(ct);
	free(tag);
}

static bool aead_group_usable(const json_t *g, size_t ivlen)
{
	return json_integer_value(json_object_get(g, "ivSize")) == (json_int_t)(ivlen * 8) &&
	       json_integer_value(json_object_get(g, "keySize")) == 256 &&
	       json_integer_value(json_object_get(g, "tagSize")) == 128;
}

static void aead_set_add(struct aead_set *s, const json_t *t, size_t ivlen)
{
	struct aead_case *c;

	if (strlen(jstr(t, "iv")) != 2 * ivlen) {
		s->skipped++;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->c = realloc(s->c, s->cap * sizeof(*s->c));
		if (s->c == NULL)
			exit(2);
	}
	c = &s->c[s->n++];
	memset(c, 0, sizeof(*c));
	parse_aead_case(c, t, ivlen);
	if (c->valid)
		s->valid++;
	else
		s->invalid++;
}

/* All cases of a Wycheproof AEAD file whose iv has ivlen bytes; the others are counted. */
static bool aead_set_load(struct aead_set *s, const char *file, size_t ivlen)
{
	json_t *root = load_json(file), *g, *t;
	size_t i, j;

	memset(s, 0, sizeof(*s));
	if (root == NULL)
		return false;
	json_array_foreach(json_object_get(root, "testGroups"), i, g) {
		bool usable = aead_group_usable(g, ivlen);

		json_array_foreach(json_object_get(g, "tests"), j, t) {
			if (usable)
				aead_set_add(s, t, ivlen);
			else
				s->skipped++;
		}
	}
	CHECK_EQ(s->n + s->skipped, json_integer_value(json_object_get(root, "numberOfTests")));
	json_decref(root);
	return CHECK(s->n > 0);
}

static void aead_set_free(struct aead_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->c[i].ad);
		free(s->c[i].msg);
		free(s->c[i].sealed);
	}
	free(s->c);
}

/* What encrypting a case's msg must give: ct||tag when valid; for a modified tag, the same
 * ciphertext with another tag; otherwise just something else. */
static void check_sealed(const struct aead_case *c, const uint8_t *out)
{
	if (c->valid) {
		CHECK_MEM(out, c->sealed, c->len + TAG);
		return;
	}
	if (c->modified_tag)
		CHECK_MEM(out, c->sealed, c->len);
	CHECK(memcmp(out, c->sealed, c->len + TAG) != 0);
}

/* What decrypting a case's ct||tag must give: msg, or a refusal with the text wiped. */
static void check_opened(const struct aead_case *c, bool ok, const uint8_t *out)
{
	CHECK_EQ(ok, c->valid);
	if (c->valid)
		CHECK_MEM(out, c->msg, c->len);
	else
		CHECK(wg_is_zero(out, c->len));
}

/* ------------------------------------------------------------------ ChaCha20-Poly1305 */

static void chacha_single_case(struct wg_aead *a, const struct aead_case *c)
{
	uint8_t *out = xmalloc(c->len + TAG), *plain = xmalloc(c->len);
	bool ok;

	/* Encrypt out of place, then in place. */
	CHECK(wg_aead_encrypt(a, out, c->msg, (uint32_t)c->len, c->ad, (uint32_t)c->adlen,
			      c->iv, c->key));
	check_sealed(c, out);
	memcpy(out, c->msg, c->len);
	memset(out + c->len, 0xa5, TAG);
	CHECK(wg_aead_encrypt(a, out, out, (uint32_t)c->len, c->ad, (uint32_t)c->adlen, c->iv,
			      c->key));
	check_sealed(c, out);

	/* Decrypt out of place into a dirty buffer, then in place. */
	memset(plain, 0xa5, c->len);
	ok = wg_aead_decrypt(a, plain, c->sealed, (uint32_t)c->len, c->ad, (uint32_t)c->adlen,
			     c->iv, c->key);
	check_opened(c, ok, plain);
	memcpy(out, c->sealed, c->len + TAG);
	ok = wg_aead_decrypt(a, out, out, (uint32_t)c->len, c->ad, (uint32_t)c->adlen, c->iv,
			     c->key);
	check_opened(c, ok, out);

	free(out);
	free(plain);
}

static void op_from_case(struct wg_aead_op *op, const struct aead_case *c, bool encrypt)
{
	memset(op, 0, sizeof(*op));
	op->key = c->key;
	op->ad = c->ad;
	op->ad_len = (uint32_t)c->adlen;
	op->len = (uint32_t)c->len;
	memcpy(op->nonce, c->iv, WG_AEAD_NONCE_LEN);
	op->buf = xmalloc(c->len + TAG);
	memcpy(op->buf, encrypt ? c->msg : c->sealed, encrypt ? c->len : c->len + TAG);
	if (encrypt)
		memset(op->buf + c->len, 0xa5, TAG);
	/* The opposite of the expected outcome, so that the burst has to set it. */
	op->ok = encrypt ? false : !c->valid;
}

static unsigned next_burst(const unsigned *sizes, size_t nsizes, size_t *k)
{
	unsigned b = sizes[*k % nsizes];

	(*k)++;
	return b;
}

/* All cases in one array, processed in bursts whose sizes cycle through sizes[]. */
static void chacha_burst_pass(struct wg_aead *a, const struct aead_set *s, bool encrypt,
			      const unsigned *sizes, size_t nsizes)
{
	struct wg_aead_op *ops = xmalloc(s->n * sizeof(*ops));
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++)
		op_from_case(&ops[i], &s->c[i], encrypt);
	for (size_t off = 0; off < s->n;) {
		unsigned b = next_burst(sizes, nsizes, &k), want = 0, got;

		if (b > s->n - off)
			b = (unsigned)(s->n - off);
		for (unsigned i = 0; i < b; i++)
			want += encrypt || s->c[off + i].valid;
		got = encrypt ? wg_aead_encrypt_burst(a, ops + off, b)
			      : wg_aead_decrypt_burst(a, ops + off, b);
		CHECK_EQ(got, want);
		off += b;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (encrypt) {
			CHECK(ops[i].ok);
			check_sealed(&s->c[i], ops[i].buf);
		} else {
			check_opened(&s->c[i], ops[i].ok, ops[i].buf);
		}
		free(ops[i].buf);
	}
	free(ops);
}

static void test_chacha_vectors(struct wg_aead *a)
{
	static const unsigned uniform[] = { 1, 7, 64, 65, 100, 128, 100000 };
	static const unsigned mixed[] = { 1, 7, 64, 100, 3, 65, 2 };
	struct aead_set s;

	if (!aead_set_load(&s, "chacha20_poly1305_test.json", WG_AEAD_NONCE_LEN))
		return;
	for (size_t i = 0; i < s.n; i++)
		chacha_single_case(a, &s.c[i]);
	for (size_t i = 0; i < sizeof(uniform) / sizeof(uniform[0]); i++) {
		chacha_burst_pass(a, &s, true, &uniform[i], 1);
		chacha_burst_pass(a, &s, false, &uniform[i], 1);
	}
	chacha_burst_pass(a, &s, true, mixed, sizeof(mixed) / sizeof(mixed[0]));
	chacha_burst_pass(a, &s, false, mixed, sizeof(mixed) / sizeof(mixed[0]));
	printf("crypto: chacha20_poly1305_test.json: %zu tested (%zu valid, %zu invalid), "
	       "%zu skipped (iv not 12 bytes)\n", s.n, s.valid, s.invalid, s.skipped);
	aead_set_free(&s);
}

/* ------------------------------------------------------------------ XChaCha20-Poly1305 */

static void xchacha_case(const struct aead_case *c)
{
	uint8_t *out = xmalloc(c->len + TAG), *plain = xmalloc(c->len);
	int ret;

	wg_xaead_encrypt(out, c->msg, c->len, c->ad, c->adlen, c->iv, c->key);
	check_sealed(c, out);
	memset(plain, 0xa5, c->len);
	ret = wg_xaead_decrypt(plain, c->sealed, c->len + TAG, c->ad, c->adlen, c->iv, c->key);
	CHECK_EQ(ret, c->valid ? 0 : -1);
	check_opened(c, ret == 0, plain);
	free(out);
	free(plain);
}

static void test_xchacha_vectors(void)
{
	uint8_t buf[TAG];
	struct aead_set s;

	if (!aead_set_load(&s, "xchacha20_poly1305_test.json", WG_COOKIE_NONCE_LEN))
		return;
	for (size_t i = 0; i < s.n; i++)
		xchacha_case(&s.c[i]);
	/* Shorter than a tag. */
	CHECK_EQ(wg_xaead_decrypt(buf, s.c[0].sealed, TAG - 1, NULL, 0, s.c[0].iv, s.c[0].key),
		 -1);
	printf("crypto: xchacha20_poly1305_test.json: %zu tested (%zu valid, %zu invalid), "
	       "%zu skipped (iv not 24 bytes)\n", s.n, s.valid, s.invalid, s.skipped);
	aead_set_free(&s);
}

/* ------------------------------------------------------------------ X25519 */

struct x25519_counts {
	unsigned valid, acceptable, invalid, zero, skipped;
};

static void x25519_case(const json_t *t, struct x25519_counts *n)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN], shared[WG_KEY_LEN], out[WG_KEY_LEN];
	const char *result = jstr(t, "result");
	bool have_shared, zero;
	int ret;

	CHECK(unhex_fixed(priv, WG_KEY_LEN, jstr(t, "private")));
	CHECK(unhex_fixed(pub, WG_KEY_LEN, jstr(t, "public")));
	have_shared = unhex_fixed(shared, WG_KEY_LEN, jstr(t, "shared"));
	zero = have_shared && wg_is_zero(shared, WG_KEY_LEN);
	ret = wg_x25519(out, priv, pub);
	if (strcmp(result, "invalid") == 0) {
		/* None in this file; an invalid case must not yield its "shared" as a success. */
		n->invalid++;
		CHECK(ret != 0 || !have_shared || memcmp(out, shared, WG_KEY_LEN) != 0);
		return;
	}
	CHECK(strcmp(result, "valid") == 0 || strcmp(result, "acceptable") == 0);
	n->valid += strcmp(result, "valid") == 0;
	n->acceptable += strcmp(result, "acceptable") == 0;
	n->zero += zero;
	CHECK(have_shared);
	CHECK_MEM(out, shared, WG_KEY_LEN);
	/* An all-zero product is reported, with the zero output, so that callers refuse it. */
	CHECK_EQ(ret, zero ? -1 : 0);
	if (has_flag(t, "ZeroSharedSecret"))
		CHECK(zero);
	/* The list of small-order points must agree with the DH on every case: the product
	 * with a clamped scalar is zero exactly for them. */
	CHECK_EQ(wg_x25519_is_low_order(pub), zero);
}

static void test_x25519_vectors(void)
{
	json_t *root = load_json("x25519_test.json"), *g, *t;
	struct x25519_counts n = { 0 };
	size_t i, j;

	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), i, g) {
		const char *curve = json_string_value(json_object_get(g, "curve"));
		bool ours = curve != NULL && strcmp(curve, "curve25519") == 0;

		json_array_foreach(json_object_get(g, "tests"), j, t) {
			if (ours)
				x25519_case(t, &n);
			else
				n.skipped++;
		}
	}
	CHECK_EQ(n.valid + n.acceptable + n.invalid + n.skipped,
		 json_integer_value(json_object_get(root, "numberOfTests")));
	CHECK(n.valid + n.acceptable > 0);
	printf("crypto: x25519_test.json: %u tested (%u valid, %u acceptable, %u invalid; "
	       "%u with an all-zero shared secret), %u skipped (other curve)\n",
	       n.valid + n.acceptable + n.invalid, n.valid, n.acceptable, n.invalid, n.zero,
	       n.skipped);
	json_decref(root);
}

/* RFC 7748 section 6.1. */
static void test_x25519_rfc7748(void)
{
	uint8_t a[WG_KEY_LEN], b[WG_KEY_LEN], ap[WG_KEY_LEN], bp[WG_KEY_LEN], k[WG_KEY_LEN];
	uint8_t out[WG_KEY_LEN];

	unhex_const(a, WG_KEY_LEN, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex_const(ap, WG_KEY_LEN, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	unhex_const(b, WG_KEY_LEN, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex_const(bp, WG_KEY_LEN, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	unhex_const(k, WG_KEY_LEN, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

	CHECK_EQ(wg_x25519_public(out, a), 0);
	CHECK_MEM(out, ap, WG_KEY_LEN);
	CHECK_EQ(wg_x25519_public(out, b), 0);
	CHECK_MEM(out, bp, WG_KEY_LEN);
	CHECK_EQ(wg_x25519(out, a, bp), 0);
	CHECK_MEM(out, k, WG_KEY_LEN);
	CHECK_EQ(wg_x25519(out, b, ap), 0);
	CHECK_MEM(out, k, WG_KEY_LEN);
}

static bool is_clamped(const uint8_t k[WG_KEY_LEN])
{
	return (k[0] & 7) == 0 && (k[31] & 0x80) == 0 && (k[31] & 0x40) != 0;
}

static void test_x25519_keys(void)
{
	uint8_t p1[WG_KEY_LEN], q1[WG_KEY_LEN], p2[WG_KEY_LEN], q2[WG_KEY_LEN];
	uint8_t out[WG_KEY_LEN], s1[WG_KEY_LEN], s2[WG_KEY_LEN], k[WG_KEY_LEN];

	test_x25519_rfc7748();

	memset(k, 0xff, sizeof(k));
	wg_x25519_clamp(k);
	CHECK(is_clamped(k));
	CHECK_EQ(k[0], 0xf8);
	CHECK_EQ(k[31], 0x7f);
	CHECK_EQ(k[15], 0xff);

	for (int i = 0; i < 16; i++) {
		wg_x25519_generate(p1, q1);
		wg_x25519_generate(p2, q2);
		CHECK(is_clamped(p1) && is_clamped(p2));
		CHECK(!wg_equal(p1, p2, WG_KEY_LEN));
		CHECK_EQ(wg_x25519_public(out, p1), 0);
		CHECK_MEM(out, q1, WG_KEY_LEN);
		CHECK_EQ(wg_x25519(s1, p1, q2), 0);
		CHECK_EQ(wg_x25519(s2, p2, q1), 0);
		CHECK_MEM(s1, s2, WG_KEY_LEN);
	}
}

/* ------------------------------------------------------------------ BLAKE2s, HMAC, KDF */

static void blake2s_kat_entry(const json_t *e, unsigned *keyed, unsigned *unkeyed)
{
	uint8_t want[32], out[32], *in, *key;
	size_t inlen, keylen;

	CHECK(unhex_fixed(want, sizeof(want), jstr(e, "out")));
	in = unhex_dup(jstr(e, "in"), &inlen);
	key = unhex_dup(jstr(e, "key"), &keylen);
	memset(out, 0, sizeof(out));
	if (keylen) {
		wg_blake2s_keyed(out, sizeof(out), key, keylen, in, inlen);
		(*keyed)++;
	} else {
		wg_blake2s(out, sizeof(out), in, inlen);
		(*unkeyed)++;
	}
	CHECK_MEM(out, want, sizeof(out));
	free(in);
	free(key);
}

static void test_blake2s_kat(void)
{
	json_t *root = load_json("blake2s-kat.json"), *e;
	unsigned keyed = 0, unkeyed = 0, other = 0;
	size_t i;

	if (root == NULL)
		return;
	json_array_foreach(root, i, e) {
		if (strcmp(jstr(e, "hash"), "blake2s") == 0)
			blake2s_kat_entry(e, &keyed, &unkeyed);
		else
			other++;
	}
	CHECK_EQ(keyed, 256);
	CHECK_EQ(unkeyed, 256);
	CHECK_EQ(other, 0);
	printf("crypto: blake2s-kat.json: %u tested (%u keyed, %u unkeyed), %u skipped\n",
	       keyed + unkeyed, keyed, unkeyed, other);
	json_decref(root);
}

static void test_blake2s_misc(void)
{
	static const size_t splits[] = { 0, 1, 31, 32, 63, 64, 65, 128, 199, 200 };
	uint8_t m[200], want[32], out[32], key[32];

	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)(i * 13 + 5);
	wg_blake2s(want, sizeof(want), m, sizeof(m));
	for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		size_t s = splits[i];

		wg_blake2s_2(out, m, s, m + s, sizeof(m) - s);
		CHECK_MEM(out, want, sizeof(out));
	}

	/* Empty input given as NULL: the first unkeyed KAT vector. */
	unhex_const(want, 32, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
	wg_blake2s(out, 32, NULL, 0);
	CHECK_MEM(out, want, 32);

	/* 16-byte outputs (mac1, mac2) are their own parameter set, not a truncation.
	 * From Python: hashlib.blake2s(b"wgdp mac1 input", digest_size=16[, key=bytes(range(32))]) */
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	unhex_const(want, 16, "cc0a7dc7b79df09f914d7666348202c8");
	wg_blake2s_keyed(out, 16, key, sizeof(key), "wgdp mac1 input", 15);
	CHECK_MEM(out, want, 16);
	unhex_const(want, 16, "7bc86f47c0c893163a3ab7af0ce1521b");
	wg_blake2s(out, 16, "wgdp mac1 input", 15);
	CHECK_MEM(out, want, 16);
}

/*
 * HMAC-BLAKE2s constants, produced with Python 3:
 *   hmac.new(key, msg, hashlib.blake2s).hexdigest()
 * key "key"; key and msg empty; key bytes(range(32)); bytes(range(64)) (one block exactly);
 * bytes(range(100)) (longer than a block: hashed first).
 */
struct hmac_vector {
	size_t keylen;      /* key is bytes(range(keylen)), or "key" when keylen is 3 */
	const char *msg;
	const char *mac;
};

static const struct hmac_vector hmac_vectors[] = {
	{ 3, "The quick brown fox jumps over the lazy dog",
	  "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0" },
	{ 0, "", "eaf4bb25938f4d20e72656bbbc7a9bf63c0c18537333c35bdb67db1402661acd" },
	{ 32, "wgdp hmac-blake2s",
	  "e7b70fb817c896fb9ac317e77f29f29ed514e6ca97a5dcb0d56b54b3c40255c2" },
	{ 64, "block-sized key",
	  "f5a90847fec307f2b05b5f6457ff6ca0fdba2c5523d0ecbf493dd28c2e02c942" },
	{ 100, "Test Using Larger Than Block-Size Key - Hash Key First",
	  "c46ad3379b536bbc91e93e33fa0a1d292913ad21d84d0c62dd64502f02c59e0f" },
};

static void test_hmac(void)
{
	uint8_t key[100], want[32], out[32];

	for (size_t i = 0; i < sizeof(hmac_vectors) / sizeof(hmac_vectors[0]); i++) {
		const struct hmac_vector *v = &hmac_vectors[i];

		for (size_t j = 0; j < v->keylen; j++)
			key[j] = (uint8_t)j;
		if (v->keylen == 3)
			memcpy(key, "key", 3);
		unhex_const(want, sizeof(want), v->mac);
		wg_hmac_blake2s(out, key, v->keylen, v->msg, strlen(v->msg));
		CHECK_MEM(out, want, sizeof(out));
	}
}

static void kdf_vector(const json_t *v)
{
	uint8_t key[WG_HASH_LEN] = { 0 }, t[3][32], o[3][32], *k, *in;
	size_t keylen, inlen;

	/* The vectors' keys are shorter than 32 bytes; HMAC zero-pads its key to the block
	 * size, so the same key zero-padded to 32 bytes gives the same outputs. */
	k = unhex_dup(jstr(v, "key"), &keylen);
	CHECK(keylen <= sizeof(key));
	memcpy(key, k, keylen <= sizeof(key) ? keylen : sizeof(key));
	in = unhex_dup(jstr(v, "input"), &inlen);
	CHECK(unhex_fixed(t[0], 32, jstr(v, "t0")));
	CHECK(unhex_fixed(t[1], 32, jstr(v, "t1")));
	CHECK(unhex_fixed(t[2], 32, jstr(v, "t2")));

	memset(o, 0, sizeof(o));
	wg_kdf(o[0], NULL, NULL, key, inlen ? in : NULL, inlen);
	CHECK_MEM(o[0], t[0], 32);
	memset(o, 0, sizeof(o));
	wg_kdf(o[0], o[1], NULL, key, in, inlen);
	CHECK_MEM(o[0], t[0], 32);
	CHECK_MEM(o[1], t[1], 32);
	memset(o, 0, sizeof(o));
	wg_kdf(o[0], o[1], o[2], key, in, inlen);
	CHECK_MEM(o, t, sizeof(t));

	/* The handshake derives in place: t0 may be the key. */
	memcpy(o[0], key, sizeof(key));
	wg_kdf(o[0], o[1], o[2], o[0], in, inlen);
	CHECK_MEM(o, t, sizeof(t));
	free(k);
	free(in);
}

static void test_kdf(void)
{
	json_t *root = load_json("wg-kdf.json"), *v;
	size_t i;

	if (root == NULL)
		return;
	json_array_foreach(root, i, v)
		kdf_vector(v);
	CHECK(json_array_size(root) > 0);
	printf("crypto: wg-kdf.json: %zu tested (KDF1, KDF2, KDF3 each)\n", json_array_size(root));
	json_decref(root);
}

/* ------------------------------------------------------------------ key encodings */

static const char zero_b64[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
/* RFC 7748 section 6.1, Alice's public key; base64 from Python's base64.b64encode. */
static const char alice_hex[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char alice_b64[] = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

static void b64_refused(const char *s, size_t len)
{
	uint8_t key[WG_KEY_LEN];

	memset(key, 0xa5, sizeof(key));
	CHECK_EQ(wg_key_from_base64(key, s, len), -1);
	CHECK(wg_is_zero(key, sizeof(key)));
}

static void hex_refused(const char *s, size_t len)
{
	uint8_t key[WG_KEY_LEN];

	memset(key, 0xa5, sizeof(key));
	CHECK_EQ(wg_key_from_hex(key, s, len), -1);
	CHECK(wg_is_zero(key, sizeof(key)));
}

/* A copy of base with character i replaced by c, refused. */
static void b64_refused_with(const char *base, size_t i, char c)
{
	char s[WG_KEY_B64_LEN + 1];

	memcpy(s, base, sizeof(s));
	s[i] = c;
	b64_refused(s, WG_KEY_B64_LEN);
}

static void hex_refused_with(const char *base, size_t i, char c)
{
	char s[WG_KEY_HEX_LEN + 1];

	memcpy(s, base, sizeof(s));
	s[i] = c;
	hex_refused(s, WG_KEY_HEX_LEN);
}

static void test_key_roundtrips(void)
{
	uint8_t key[WG_KEY_LEN], back[WG_KEY_LEN];
	char b64[WG_KEY_B64_LEN + 1], hex[WG_KEY_HEX_LEN + 1];

	for (int i = 0; i < 64; i++) {
		wg_random(key, sizeof(key));
		if (i == 0)
			memset(key, 0xff, sizeof(key));
		wg_key_to_base64(b64, key);
		CHECK_EQ(strlen(b64), WG_KEY_B64_LEN);
		CHECK_EQ(wg_key_from_base64(back, b64, strlen(b64)), 0);
		CHECK_MEM(back, key, sizeof(key));
		wg_key_to_hex(hex, key);
		CHECK_EQ(strlen(hex), WG_KEY_HEX_LEN);
		CHECK_EQ(wg_key_from_hex(back, hex, strlen(hex)), 0);
		CHECK_MEM(back, key, sizeof(key));
	}
}

static void test_key_known(void)
{
	uint8_t key[WG_KEY_LEN] = { 0 }, back[WG_KEY_LEN];
	char b64[WG_KEY_B64_LEN + 1], hex[WG_KEY_HEX_LEN + 1];

	wg_key_to_base64(b64, key);
	CHECK(strcmp(b64, zero_b64) == 0);
	wg_key_to_hex(hex, key);
	CHECK(strspn(hex, "0") == WG_KEY_HEX_LEN && hex[WG_KEY_HEX_LEN] == '\0');

	unhex_const(key, sizeof(key), alice_hex);
	wg_key_to_base64(b64, key);
	CHECK(strcmp(b64, alice_b64) == 0);
	wg_key_to_hex(hex, key);
	CHECK(strcmp(hex, alice_hex) == 0);
	CHECK_EQ(wg_key_from_base64(back, alice_b64, WG_KEY_B64_LEN), 0);
	CHECK_MEM(back, key, sizeof(key));
	CHECK_EQ(wg_key_from_hex(back, alice_hex, WG_KEY_HEX_LEN), 0);
	CHECK_MEM(back, key, sizeof(key));
	/* The length is what counts, not a terminator: a longer buffer's prefix parses. */
	CHECK_EQ(wg_key_from_base64(back, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=xyz",
				    WG_KEY_B64_LEN), 0);
	CHECK_MEM(back, key, sizeof(key));
}

static void test_key_b64_refusals(void)
{
	char s[WG_KEY_B64_LEN + 2];

	b64_refused(zero_b64, WG_KEY_B64_LEN - 1);             /* '=' cut off */
	b64_refused("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", WG_KEY_B64_LEN); /* no '=' */
	b64_refused("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", WG_KEY_B64_LEN); /* 31 bytes */
	b64_refused("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", WG_KEY_B64_LEN); /* low bits */
	b64_refused("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0);
	b64_refused("", 0);
	memcpy(s, zero_b64, WG_KEY_B64_LEN);
	s[WG_KEY_B64_LEN] = 'A';
	s[WG_KEY_B64_LEN + 1] = '\0';
	b64_refused(s, WG_KEY_B64_LEN + 1);                   /* one too many */
	b64_refused_with(alice_b64, 42, 'n');                 /* trailing bits of the last char */
	b64_refused_with(alice_b64, 3, '*');
	b64_refused_with(alice_b64, 3, '-');                  /* URL-safe alphabet */
	b64_refused_with(alice_b64, 3, '_');
	b64_refused_with(alice_b64, 3, ' ');
	b64_refused_with(alice_b64, 3, '\0');
	b64_refused_with(alice_b64, 10, '=');
}

static void test_key_hex_refusals(void)
{
	char s[WG_KEY_HEX_LEN + 2];

	hex_refused(alice_hex, WG_KEY_HEX_LEN - 1);           /* odd */
	hex_refused(alice_hex, WG_KEY_HEX_LEN - 2);           /* short */
	hex_refused(alice_hex, 0);
	memcpy(s, alice_hex, WG_KEY_HEX_LEN);
	s[WG_KEY_HEX_LEN] = '0';
	s[WG_KEY_HEX_LEN + 1] = '\0';
	hex_refused(s, WG_KEY_HEX_LEN + 1);                   /* odd and long */
	hex_refused_with(alice_hex, 0, 'g');
	hex_refused_with(alice_hex, 63, 'x');
	hex_refused_with(alice_hex, 20, ' ');
	hex_refused_with(alice_hex, 21, ':');
	hex_refused_with(alice_hex, 30, '\0');
}

/* ------------------------------------------------------------------ bursts against libsodium */

#define RAND_ROUNDS 3000
#define RAND_MAX_LEN 9000
#define RAND_MAX_AD 300

struct rand_op {
	uint8_t key[WG_KEY_LEN];
	uint8_t ad[RAND_MAX_AD];
	uint8_t *plain;
	uint8_t *expect;                 /* libsodium's ct || tag */
	bool corrupt;
};

static uint32_t rand_len(void)
{
	static const uint32_t edges[] = { 0, 1, 15, 16, 17, 63, 64, 65, 255, 256, 1420, 8999,
					  RAND_MAX_LEN };

	if (rng_below(8) == 0)
		return edges[rng_below(sizeof(edges) / sizeof(edges[0]))];
	return rng_below(RAND_MAX_LEN + 1);
}

static unsigned rand_burst(void)
{
	static const unsigned big[] = { 65, 100, 128, 129, 200 };

	if (rng_below(8) == 0)
		return big[rng_below(sizeof(big) / sizeof(big[0]))];
	return 1 + rng_below(WG_AEAD_CHUNK);
}

static void rand_op_init(struct rand_op *r, struct wg_aead_op *op)
{
	unsigned long long clen = 0;

	memset(op, 0, sizeof(*op));
	op->len = rand_len();
	op->ad_len = rng_below(3) == 0 ? 0 : rng_below(RAND_MAX_AD + 1);
	rng_fill(r->key, sizeof(r->key));
	rng_fill(r->ad, op->ad_len);
	rng_fill(op->nonce, sizeof(op->nonce));
	op->key = r->key;
	op->ad = op->ad_len == 0 && rng_below(2) ? NULL : r->ad;
	r->plain = xmalloc(op->len);
	rng_fill(r->plain, op->len);
	op->buf = xmalloc(op->len + TAG);
	memcpy(op->buf, r->plain, op->len);
	r->expect = xmalloc(op->len + TAG);
	crypto_aead_chacha20poly1305_ietf_encrypt(r->expect, &clen, r->plain, op->len, op->ad,
						  op->ad_len, NULL, op->nonce, op->key);
	CHECK_EQ(clen, op->len + TAG);
	r->corrupt = false;
}

/* Flip one bit of the ciphertext or the tag of about a third of the ops. */
static unsigned rand_corrupt(struct rand_op *r, struct wg_aead_op *ops, unsigned n)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < n; i++) {
		uint32_t pos;

		if (rng_below(3) != 0)
			continue;
		if (ops[i].len > 0 && rng_below(2))
			pos = rng_below(ops[i].len);
		else
			pos = ops[i].len + rng_below(TAG);
		ops[i].buf[pos] ^= (uint8_t)(1u << rng_below(8));
		r[i].corrupt = true;
		bad++;
	}
	return bad;
}

/* The single-buffer API, out of place, against the same expectation. */
static void rand_single(struct wg_aead *a, const struct rand_op *r, const struct wg_aead_op *op)
{
	uint8_t *sealed = xmalloc(op->len + TAG), *plain = xmalloc(op->len);

	CHECK(wg_aead_encrypt(a, sealed, r->plain, op->len, op->ad, op->ad_len, op->nonce,
			      op->key));
	CHECK_MEM(sealed, r->expect, op->len + TAG);
	CHECK(wg_aead_decrypt(a, plain, sealed, op->len, op->ad, op->ad_len, op->nonce,
			      op->key));
	CHECK_MEM(plain, r->plain, op->len);
	free(sealed);
	free(plain);
}

static void rand_round(struct wg_aead *a)
{
	unsigned n = rand_burst(), bad;
	struct wg_aead_op *ops = xmalloc(n * sizeof(*ops));
	struct rand_op *r = xmalloc(n * sizeof(*r));

	for (unsigned i = 0; i < n; i++)
		rand_op_init(&r[i], &ops[i]);
	CHECK_EQ(wg_aead_encrypt_burst(a, ops, n), n);
	for (unsigned i = 0; i < n; i++) {
		CHECK(ops[i].ok);
		CHECK_MEM(ops[i].buf, r[i].expect, ops[i].len + TAG);
	}
	rand_single(a, &r[0], &ops[0]);

	bad = rand_corrupt(r, ops, n);
	CHECK_EQ(wg_aead_decrypt_burst(a, ops, n), n - bad);
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(ops[i].ok, !r[i].corrupt);
		if (r[i].corrupt)
			CHECK(wg_is_zero(ops[i].buf, ops[i].len));
		else
			CHECK_MEM(ops[i].buf, r[i].plain, ops[i].len);
		free(ops[i].buf);
		free(r[i].plain);
		free(r[i].expect);
	}
	free(ops);
	free(r);
}

static void test_burst_random(struct wg_aead *a)
{
	struct timespec t0, t1;

	rng_seed();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < RAND_ROUNDS; i++)
		rand_round(a);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("crypto: %d random bursts against libsodium in %.2f s\n", RAND_ROUNDS,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct wg_aead *a;

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	vec_dir = argv[1];
	CHECK_EQ(wg_crypto_init(), 0);
	CHECK_EQ(wg_crypto_init(), 0);
	a = wg_aead_create();
	if (!CHECK(a != NULL))
		return check_report("crypto");
	printf("crypto: ChaCha20-Poly1305 over intel-ipsec-mb, %s\n", wg_aead_arch(a));

	test_util();
	test_chacha_vectors(a);
	test_xchacha_vectors();
	test_x25519_vectors();
	test_x25519_keys();
	test_blake2s_kat();
	test_blake2s_misc();
	test_hmac();
	test_kdf();
	test_key_known();
	test_key_roundtrips();
	test_key_b64_refusals();
	test_key_hex_refusals();
	test_burst_random(a);

	wg_aead_free(a);
	return check_report("crypto");
}
