/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the userspace API. The first byte picks how the rest is cut into
 * reads, the framer's limit, and whether the rest is the raw stream or a set body written
 * in tokens: bytes from 0xc0 stand for whole keys and values ("public_key=", a valid hex
 * key, "10.0.0.0/8", ...), so that a short run from a fixed seed, without a corpus or a
 * dictionary, reaches every handler of the parser. Each request the framer returns
 * goes through the set parser; a parsed set is formatted back, which must parse again to
 * the same model (the round trip), and its peers are formatted as a get reply would show
 * them. Every error must be a positive errno with a reason, and every reply must end in
 * an errno line.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wg_crypto.h"
#include "wg_uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEXKEY "ea0ce7839c355efa8d3f2b587b891d4855f79c6cba8ab005cdc5341faca94267"

static const char *const TOKENS[] = {
	"private_key=", "listen_port=", "fwmark=", "replace_peers=", "public_key=",
	"remove=", "update_only=", "preshared_key=", "endpoint=",
	"persistent_keepalive_interval=", "replace_allowed_ips=", "allowed_ip=",
	"protocol_version=", "true", HEXKEY, "0000000000000000000000000000000000000000000000000000000000000000",
	"192.0.2.1:51820", "[2001:db8::1]:1", "[::ffff:192.0.2.1]:65535", "10.0.0.0/8",
	"fd00::/64", "10.1.2.3/24", "::/0", "-", "\n", "65535", "4294967295", "1",
	"public_key=" HEXKEY "\n", "allowed_ip=", "set=1\n", "get=1\n\n",
	/* AmneziaWG's keys */
	"jc=", "jmin=", "jmax=", "s1=", "s2=", "h1=", "h2=", "h3=", "h4=", "accept_plain=",
	"false", "128", "1020325451",
};
#define N_TOKENS (sizeof(TOKENS) / sizeof(TOKENS[0]))

static bool same_peer(const struct wg_uapi_peer *a, const struct wg_uapi_peer *b)
{
	if (memcmp(a->public_key, b->public_key, WG_KEY_LEN) || a->remove != b->remove ||
	    a->update_only != b->update_only || a->replace_allowed_ips != b->replace_allowed_ips ||
	    a->has_preshared_key != b->has_preshared_key || a->has_endpoint != b->has_endpoint ||
	    a->has_keepalive != b->has_keepalive || a->keepalive != b->keepalive ||
	    a->n_aips != b->n_aips)
		return false;
	if (a->has_preshared_key && memcmp(a->preshared_key, b->preshared_key, WG_KEY_LEN))
		return false;
	if (a->has_endpoint && (!wg_ip_equal(&a->endpoint.ip, &b->endpoint.ip) ||
				a->endpoint.port != b->endpoint.port))
		return false;
	for (size_t i = 0; i < a->n_aips; i++)
		if (!wg_ip_equal(&a->aips[i].prefix.ip, &b->aips[i].prefix.ip) ||
		    a->aips[i].prefix.len != b->aips[i].prefix.len ||
		    a->aips[i].remove != b->aips[i].remove)
			return false;
	return true;
}

static bool same_set(const struct wg_uapi_set *a, const struct wg_uapi_set *b)
{
	if (a->has_private_key != b->has_private_key || a->has_listen_port != b->has_listen_port ||
	    a->has_fwmark != b->has_fwmark || a->replace_peers != b->replace_peers ||
	    a->listen_port != b->listen_port || a->fwmark != b->fwmark ||
	    a->n_peers != b->n_peers ||
	    memcmp(a->private_key, b->private_key, WG_KEY_LEN))
		return false;
	if (a->obfs_has != b->obfs_has || a->obfs.jc != b->obfs.jc ||
	    a->obfs.jmin != b->obfs.jmin || a->obfs.jmax != b->obfs.jmax ||
	    a->obfs.s1 != b->obfs.s1 || a->obfs.s2 != b->obfs.s2 ||
	    a->obfs.accept_plain != b->obfs.accept_plain ||
	    memcmp(a->obfs.h, b->obfs.h, sizeof(a->obfs.h)))
		return false;
	for (size_t i = 0; i < a->n_peers; i++)
		if (!same_peer(&a->peers[i], &b->peers[i]))
			return false;
	return true;
}

/* The parsed peers as a get reply would show them. */
static void format_get(struct wg_uapi_buf *b, const struct wg_uapi_set *s)
{
	struct wg_uapi_device d = { .has_private_key = s->has_private_key,
				    .listen_port = s->listen_port, .fwmark = s->fwmark };

	memcpy(d.private_key, s->private_key, WG_KEY_LEN);
	if (wg_uapi_format_device(b, &d))
		abort();
	for (size_t i = 0; i < s->n_peers; i++) {
		const struct wg_uapi_peer *p = &s->peers[i];
		struct wg_uapi_peer_info info = { .has_preshared_key = p->has_preshared_key,
						  .has_endpoint = p->has_endpoint,
						  .endpoint = p->endpoint, .keepalive = p->keepalive };
		struct wg_prefix aips[4];

		for (size_t k = 0; k < p->n_aips && k < 4; k++)
			aips[k] = p->aips[k].prefix;
		info.allowed_ips = aips;
		info.n_allowed_ips = p->n_aips < 4 ? p->n_aips : 4;
		memcpy(info.public_key, p->public_key, WG_KEY_LEN);
		memcpy(info.preshared_key, p->preshared_key, WG_KEY_LEN);
		if (wg_uapi_format_peer(b, &info))
			abort();
	}
	wg_uapi_buf_consume(b, b->len / 2);
}

static void check_set(const char *body, size_t len)
{
	struct wg_uapi_set s, again;
	struct wg_uapi_buf out;
	char why[WG_UAPI_WHY_LEN];
	int err = wg_uapi_parse_set(&s, body, len, why, sizeof(why));

	if (err) {
		if ((err != EINVAL && err != EPROTO && err != ENOMEM) || why[0] != 'l' ||
		    s.peers || s.n_peers)
			abort();
		return;
	}
	wg_uapi_buf_init(&out);
	if (wg_uapi_format_set(&out, &s) || out.len < 7 || memcmp(out.data, "set=1\n", 6))
		abort();
	if (wg_uapi_parse_set(&again, out.data + 6, out.len - 6, why, sizeof(why)))
		abort();
	if (!same_set(&s, &again))
		abort();
	format_get(&out, &s);
	wg_uapi_buf_free(&out);
	wg_uapi_set_free(&again);
	wg_uapi_set_free(&s);
}

/* Bytes from 0xc0 become tokens, the others stay. The text is "set=1\n", the expansion
 * and a blank line. */
static void expand(struct wg_uapi_buf *t, const uint8_t *data, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < size; i++)
		n += data[i] >= 0xc0 ? strlen(TOKENS[(data[i] - 0xc0) % N_TOKENS]) : 1;
	t->data = wg_secbuf_zalloc(n + 8);   /* freed by wg_uapi_buf_free, as the library's */
	if (!t->data)
		abort();
	memcpy(t->data, "set=1\n", 6);
	t->len = 6;
	for (size_t i = 0; i < size; i++) {
		const char *tok = (const char *)&data[i];
		size_t k = 1;

		if (data[i] >= 0xc0) {
			tok = TOKENS[(data[i] - 0xc0) % N_TOKENS];
			k = strlen(tok);
		}
		memcpy(t->data + t->len, tok, k);
		t->len += k;
	}
	if (t->data[t->len - 1] != '\n')
		t->data[t->len++] = '\n';
	t->data[t->len++] = '\n';
	t->cap = n + 8;
}

/* The stream in reads of `chunk` bytes, every request checked; a broken stream gets its
 * errno line and ends. */
static void run_stream(const uint8_t *data, size_t size, size_t chunk, size_t limit)
{
	struct wg_uapi_conn c;
	struct wg_uapi_buf out;
	size_t at = 0;
	int r = EAGAIN;

	wg_uapi_conn_init(&c, limit);
	wg_uapi_buf_init(&out);
	while (r == EAGAIN && at < size) {
		size_t k = chunk < size - at ? chunk : size - at;
		enum wg_uapi_kind kind;
		const char *body;
		size_t len;

		wg_uapi_feed(&c, data + at, k);
		at += k;
		while ((r = wg_uapi_next_request(&c, &kind, &body, &len)) == 0)
			if (kind == WG_UAPI_SET)
				check_set(body, len);
			else if (kind != WG_UAPI_GET || body || len)
				abort();
		if (r != EAGAIN && (r <= 0 || wg_uapi_format_errno(&out, kind, r) ||
				    out.data[out.len - 1] != '\n'))
			abort();
	}
	wg_uapi_buf_free(&out);
	wg_uapi_conn_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct wg_uapi_buf text;
	size_t chunk, limit;

	if (!ready) {
		if (wg_crypto_init() != 0)
			abort();
		ready = true;
	}
	if (size < 1)
		return 0;
	chunk = 1 + (data[0] & 15);
	limit = data[0] & 0x80 ? 64 : 0;
	if (!(data[0] & 0x40)) {
		run_stream(data + 1, size - 1, chunk, limit);
		return 0;
	}
	expand(&text, data + 1, size - 1);
	/* The body straight to the parser too: a blank line or NUL inside reaches it. */
	check_set(text.data + 6, text.len - 6);
	run_stream((const uint8_t *)text.data, text.len, chunk * 64, limit);
	wg_uapi_buf_free(&text);
	return 0;
}
