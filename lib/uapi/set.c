/* SPDX-License-Identifier: MIT */
/*
 * The set request, parsed into a model before anything is applied. Keys and values are
 * checked as wireguard-go checks them (device/uapi.go), with its errno values: a line with
 * no '=' is EPROTO, everything else refused is EINVAL, unknown keys included. Where
 * wireguard-go applies line by line, the model keeps what the lines add up to: the
 * applier (the gateway) walks it in order and gets the same end state.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uapi_buf.h"
#include "wg_crypto.h"
#include "wg_uapi.h"

struct parser {
	struct wg_uapi_set *s;
	struct wg_uapi_peer *peer;  /* the section being parsed; NULL before any public_key */
	unsigned line;
	char *why;
	size_t whylen;
};

typedef int (*handler_fn)(struct parser *p, const char *v, size_t n);

struct key {
	const char *name;
	handler_fn fn;
};

/* Say why, never quoting a value: it may be a key. */
static int refuse(struct parser *p, int err, const char *key, const char *what)
{
	if (p->why && p->whylen)
		snprintf(p->why, p->whylen, "line %u: %s%s%s", p->line, key ? key : "",
			 key ? ": " : "", what);
	return err;
}

static bool is(const char *v, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(v, word, n) == 0;
}

/* Decimal digits only, as Go's strconv.ParseUint(v, 10, bits): no sign, no space; leading
 * zeros are accepted as it accepts them. */
static bool number(const char *v, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(v[i] - '0');

		if (d > 9 || x > (max - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*out = x;
	return true;
}

/* Flags take exactly "true": wireguard-go refuses "false" and everything else. */
static int flag(struct parser *p, const char *v, size_t n, const char *key, bool *out)
{
	if (!is(v, n, "true"))
		return refuse(p, EINVAL, key, "the only value is true");
	*out = true;
	return 0;
}

static int key_hex(struct parser *p, const char *v, size_t n, const char *key,
		   uint8_t out[WG_KEY_LEN])
{
	if (wg_key_from_hex(out, v, n))
		return refuse(p, EINVAL, key, "not 64 hex digits");
	return 0;
}

/* ---- device keys ---- */

static int private_key(struct parser *p, const char *v, size_t n)
{
	struct wg_uapi_set *s = p->s;

	if (key_hex(p, v, n, "private_key", s->private_key))
		return EINVAL;
	/* Clamped on the way in, as the kernel and wireguard-go do, so a get shows the key
	 * that is used; all zero stays zero and means "no key". */
	if (!wg_is_zero(s->private_key, WG_KEY_LEN))
		wg_x25519_clamp(s->private_key);
	s->has_private_key = true;
	return 0;
}

static int listen_port(struct parser *p, const char *v, size_t n)
{
	uint64_t x;

	if (!number(v, n, UINT16_MAX, &x))
		return refuse(p, EINVAL, "listen_port", "not a number 0..65535");
	p->s->listen_port = (uint16_t)x;
	p->s->has_listen_port = true;
	return 0;
}

static int fwmark(struct parser *p, const char *v, size_t n)
{
	uint64_t x;

	if (!number(v, n, UINT32_MAX, &x))
		return refuse(p, EINVAL, "fwmark", "not a number 0..4294967295");
	p->s->fwmark = (uint32_t)x;
	p->s->has_fwmark = true;
	return 0;
}

/* AmneziaWG's keys. amneziawg-go reads jc..s2 as signed ints and h1..h4 as 32-bit unsigned;
 * we read all as digits (a negative size means nothing) and leave the rules between them to
 * the applier, which knows the MTU (lib/obfs). */
static const char *const obfs_names[WG_UAPI_OBFS_KEYS] = {
	"jc", "jmin", "jmax", "s1", "s2", "h1", "h2", "h3", "h4", "accept_plain",
};

static int obfs_value(struct parser *p, const char *v, size_t n, enum wg_uapi_obfs_key k)
{
	struct wg_obfs *o = &p->s->obfs;
	uint64_t max = k >= WG_UAPI_H1 ? UINT32_MAX : k == WG_UAPI_JC ? WG_OBFS_JC_MAX : UINT16_MAX;
	uint64_t x;

	if (k == WG_UAPI_ACCEPT_PLAIN) {
		if (!is(v, n, "true") && !is(v, n, "false"))
			return refuse(p, EINVAL, obfs_names[k], "true or false");
		o->accept_plain = is(v, n, "true");
	} else if (!number(v, n, max, &x)) {
		return refuse(p, EINVAL, obfs_names[k], k >= WG_UAPI_H1 ? "not a number 0..4294967295" :
			      k == WG_UAPI_JC ? "not a number 0..128" : "not a number 0..65535");
	} else if (k >= WG_UAPI_H1) {
		o->h[k - WG_UAPI_H1] = (uint32_t)x;
	} else {
		uint16_t *f[] = { &o->jc, &o->jmin, &o->jmax, &o->s1, &o->s2 };

		*f[k] = (uint16_t)x;
	}
	p->s->obfs_has |= 1u << k;
	return 0;
}

#define OBFS_KEY(fn, k) \
	static int fn(struct parser *p, const char *v, size_t n) { return obfs_value(p, v, n, k); }
OBFS_KEY(obfs_jc, WG_UAPI_JC)
OBFS_KEY(obfs_jmin, WG_UAPI_JMIN)
OBFS_KEY(obfs_jmax, WG_UAPI_JMAX)
OBFS_KEY(obfs_s1, WG_UAPI_S1)
OBFS_KEY(obfs_s2, WG_UAPI_S2)
OBFS_KEY(obfs_h1, WG_UAPI_H1)
OBFS_KEY(obfs_h2, WG_UAPI_H2)
OBFS_KEY(obfs_h3, WG_UAPI_H3)
OBFS_KEY(obfs_h4, WG_UAPI_H4)
OBFS_KEY(obfs_accept_plain, WG_UAPI_ACCEPT_PLAIN)
#undef OBFS_KEY

void wg_uapi_obfs_merge(struct wg_obfs *out, const struct wg_obfs *cur,
			const struct wg_uapi_set *s)
{
	const struct wg_obfs *n = &s->obfs;

	*out = *cur;
	if (s->obfs_has & 1u << WG_UAPI_JC)
		out->jc = n->jc;
	if (s->obfs_has & 1u << WG_UAPI_JMIN)
		out->jmin = n->jmin;
	if (s->obfs_has & 1u << WG_UAPI_JMAX)
		out->jmax = n->jmax;
	if (s->obfs_has & 1u << WG_UAPI_S1)
		out->s1 = n->s1;
	if (s->obfs_has & 1u << WG_UAPI_S2)
		out->s2 = n->s2;
	for (unsigned i = 0; i < 4; i++)
		if (s->obfs_has & 1u << (WG_UAPI_H1 + i))
			out->h[i] = n->h[i];
	if (s->obfs_has & 1u << WG_UAPI_ACCEPT_PLAIN)
		out->accept_plain = n->accept_plain;
	wg_obfs_normalize(out);
}

static int replace_peers(struct parser *p, const char *v, size_t n)
{
	return flag(p, v, n, "replace_peers", &p->s->replace_peers);
}

/* ---- peer keys ---- */

static int public_key(struct parser *p, const char *v, size_t n)
{
	struct wg_uapi_set *s = p->s;

	if (uapi_grow((void **)&s->peers, &s->cap_peers, sizeof(*s->peers), s->n_peers + 1))
		return refuse(p, ENOMEM, NULL, "out of memory");
	p->peer = &s->peers[s->n_peers++];
	memset(p->peer, 0, sizeof(*p->peer));
	return key_hex(p, v, n, "public_key", p->peer->public_key);
}

static int remove_peer(struct parser *p, const char *v, size_t n)
{
	return flag(p, v, n, "remove", &p->peer->remove);
}

static int update_only(struct parser *p, const char *v, size_t n)
{
	return flag(p, v, n, "update_only", &p->peer->update_only);
}

static int preshared_key(struct parser *p, const char *v, size_t n)
{
	if (key_hex(p, v, n, "preshared_key", p->peer->preshared_key))
		return EINVAL;
	p->peer->has_preshared_key = true;
	return 0;
}

static int endpoint(struct parser *p, const char *v, size_t n)
{
	if (wg_endpoint_parse(&p->peer->endpoint, v, n))
		return refuse(p, EINVAL, "endpoint", "not a.b.c.d:port or [ipv6]:port");
	p->peer->has_endpoint = true;
	return 0;
}

static int keepalive(struct parser *p, const char *v, size_t n)
{
	uint64_t x;

	if (!number(v, n, UINT16_MAX, &x))
		return refuse(p, EINVAL, "persistent_keepalive_interval",
			      "not a number 0..65535");
	p->peer->keepalive = (uint16_t)x;
	p->peer->has_keepalive = true;
	return 0;
}

/* The replacement clears the peer's allowed IPs when it is met, so the changes listed
 * before it in the same section are void: drop them, and aips[] applies after the clear. */
static int replace_allowed_ips(struct parser *p, const char *v, size_t n)
{
	if (flag(p, v, n, "replace_allowed_ips", &p->peer->replace_allowed_ips))
		return EINVAL;
	p->peer->n_aips = 0;
	return 0;
}

/* "PREFIX" adds, "-PREFIX" removes (wireguard-tools 1.0.20250521 and later send it for
 * `allowed-ips -10.0.0.0/8`). The length is required, as netip.ParsePrefix requires it;
 * host bits are accepted and cleared, as wireguard-go and the kernel clear them. */
static int allowed_ip(struct parser *p, const char *v, size_t n)
{
	struct wg_uapi_peer *peer = p->peer;
	struct wg_uapi_aip a = { .remove = n > 0 && v[0] == '-' };

	if (a.remove) {
		v++;
		n--;
	}
	if (!memchr(v, '/', n) || wg_prefix_parse(&a.prefix, v, n, true))
		return refuse(p, EINVAL, "allowed_ip", "not an address/length prefix");
	wg_prefix_mask(&a.prefix);
	if (uapi_grow((void **)&peer->aips, &peer->cap_aips, sizeof(*peer->aips),
		      peer->n_aips + 1))
		return refuse(p, ENOMEM, NULL, "out of memory");
	peer->aips[peer->n_aips++] = a;
	return 0;
}

static int protocol_version(struct parser *p, const char *v, size_t n)
{
	if (!is(v, n, "1"))
		return refuse(p, EINVAL, "protocol_version", "only version 1 exists");
	return 0;
}

static const struct key DEVICE_KEYS[] = {
	{ "private_key", private_key },
	{ "listen_port", listen_port },
	{ "fwmark", fwmark },
	{ "replace_peers", replace_peers },
	{ "jc", obfs_jc },
	{ "jmin", obfs_jmin },
	{ "jmax", obfs_jmax },
	{ "s1", obfs_s1 },
	{ "s2", obfs_s2 },
	{ "h1", obfs_h1 },
	{ "h2", obfs_h2 },
	{ "h3", obfs_h3 },
	{ "h4", obfs_h4 },
	{ "accept_plain", obfs_accept_plain },
	{ NULL, NULL },
};

static const struct key PEER_KEYS[] = {
	{ "remove", remove_peer },
	{ "update_only", update_only },
	{ "preshared_key", preshared_key },
	{ "endpoint", endpoint },
	{ "persistent_keepalive_interval", keepalive },
	{ "replace_allowed_ips", replace_allowed_ips },
	{ "allowed_ip", allowed_ip },
	{ "protocol_version", protocol_version },
	{ NULL, NULL },
};

static const struct key *lookup(const struct key *table, const char *k, size_t n)
{
	for (; table->name; table++)
		if (is(k, n, table->name))
			return table;
	return NULL;
}

/* An unknown key, named in the reason only if it looks like a key name (the line could be
 * a mangled key=value whose "key" is a secret). k ends at the '=', which stops strspn. */
static int unknown(struct parser *p, const char *k, size_t n)
{
	const struct key *other = lookup(p->peer ? DEVICE_KEYS : PEER_KEYS, k, n);
	char name[33];

	if (other)
		return refuse(p, EINVAL, other->name,
			      p->peer ? "a device key after the first public_key"
				      : "a peer key before any public_key");
	if (n == 0 || n >= sizeof(name) || strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") < n)
		return refuse(p, EINVAL, NULL, "unknown key");
	memcpy(name, k, n);
	name[n] = '\0';
	return refuse(p, EINVAL, name, "unknown key");
}

static int parse_line(struct parser *p, const char *line, size_t n)
{
	const char *eq = memchr(line, '=', n);
	const struct key *k;
	size_t klen;

	if (memchr(line, '\0', n))
		return refuse(p, EPROTO, NULL, "NUL byte");
	if (!eq)
		return refuse(p, EPROTO, NULL, "not key=value");
	klen = (size_t)(eq - line);
	if (is(line, klen, "public_key"))
		return public_key(p, eq + 1, n - klen - 1);
	k = lookup(p->peer ? PEER_KEYS : DEVICE_KEYS, line, klen);
	if (!k)
		return unknown(p, line, klen);
	return k->fn(p, eq + 1, n - klen - 1);
}

/* A request parsed with pause points is a large one: its peers are counted first and
 * their array allocated once, so that it never grows (a copy and a wipe of the whole
 * array in one go, tens of milliseconds at a million peers). */
static int reserve_peers(struct wg_uapi_set *s, const char *body, size_t len,
			 const struct wg_yield *y)
{
	static const char key[] = "public_key=";
	size_t n = 0, lines = 0;

	for (const char *at = body, *end = body + len; at < end; lines++) {
		const char *nl = memchr(at, '\n', (size_t)(end - at));

		if ((size_t)(end - at) >= sizeof(key) - 1 && memcmp(at, key, sizeof(key) - 1) == 0)
			n++;
		if (lines % (16 * WG_YIELD_LINES) == 0)
			y->fn(y->arg);
		at = nl ? nl + 1 : end;
	}
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / sizeof(*s->peers) ||
	    (s->peers = wg_secbuf_zalloc(n * sizeof(*s->peers))) == NULL)
		return -1;
	s->cap_peers = n;
	return 0;
}

int wg_uapi_parse_set(struct wg_uapi_set *s, const char *body, size_t len,
		      char *why, size_t whylen)
{
	return wg_uapi_parse_set_yield(s, body, len, why, whylen, NULL);
}

int wg_uapi_parse_set_yield(struct wg_uapi_set *s, const char *body, size_t len,
			    char *why, size_t whylen, const struct wg_yield *y)
{
	struct parser p = { .s = s, .why = why, .whylen = whylen };
	size_t at = 0;
	int err = 0;

	memset(s, 0, sizeof(*s));
	if (why && whylen)
		why[0] = '\0';
	if (y && y->fn && reserve_peers(s, body, len, y) != 0)
		return refuse(&p, ENOMEM, NULL, "out of memory");
	while (at < len && !err) {
		const char *line = body + at;
		const char *nl = memchr(line, '\n', len - at);
		size_t n = nl ? (size_t)(nl - line) : len - at;

		p.line++;
		if (y && y->fn && p.line % WG_YIELD_LINES == 0)
			y->fn(y->arg);
		at += n + (nl ? 1 : 0);
		if (n == 0) {
			/* The blank line ends a request; a caller may pass it along. */
			if (at < len)
				err = refuse(&p, EPROTO, NULL, "data after the blank line");
			break;
		}
		err = parse_line(&p, line, n);
	}
	if (err)
		wg_uapi_set_free(s);
	return err;
}

void wg_uapi_set_free(struct wg_uapi_set *s)
{
	wg_uapi_set_free_yield(s, NULL);
}

/* The peers' array of a large request is a mapping of its own (wg_secbuf_zalloc):
 * unmapped, not wiped in one go. */
void wg_uapi_set_free_yield(struct wg_uapi_set *s, const struct wg_yield *y)
{
	for (size_t i = 0; i < s->n_peers; i++) {
		if (y && y->fn && i % WG_YIELD_LINES == WG_YIELD_LINES - 1)
			y->fn(y->arg);
		uapi_release(s->peers[i].aips, s->peers[i].cap_aips, sizeof(struct wg_uapi_aip));
	}
	uapi_release(s->peers, s->cap_peers, sizeof(*s->peers));
	wg_wipe(s, sizeof(*s));
}

/* ---- the request text back from the model ---- */

static int format_aips(struct wg_uapi_buf *b, const struct wg_uapi_peer *peer)
{
	char text[WG_ADDR_STRLEN];
	int err = 0;

	for (size_t i = 0; i < peer->n_aips && !err; i++) {
		wg_prefix_format(text, &peer->aips[i].prefix);
		err = uapi_printf(b, "allowed_ip=%s%s\n", peer->aips[i].remove ? "-" : "", text);
	}
	return err;
}

static int format_set_peer(struct wg_uapi_buf *b, const struct wg_uapi_peer *peer)
{
	char text[WG_ADDR_STRLEN];
	int err = uapi_put_key(b, "public_key", peer->public_key);

	if (!err && peer->remove)
		err = uapi_printf(b, "remove=true\n");
	if (!err && peer->update_only)
		err = uapi_printf(b, "update_only=true\n");
	if (!err && peer->has_preshared_key)
		err = uapi_put_key(b, "preshared_key", peer->preshared_key);
	if (!err && peer->has_endpoint) {
		wg_endpoint_format(text, &peer->endpoint);
		err = uapi_printf(b, "endpoint=%s\n", text);
	}
	if (!err && peer->has_keepalive)
		err = uapi_printf(b, "persistent_keepalive_interval=%u\n",
				  (unsigned)peer->keepalive);
	if (!err && peer->replace_allowed_ips)
		err = uapi_printf(b, "replace_allowed_ips=true\n");
	return err ? err : format_aips(b, peer);
}

int wg_uapi_format_set(struct wg_uapi_buf *b, const struct wg_uapi_set *s)
{
	int err = uapi_printf(b, "set=1\n");

	if (!err && s->has_private_key)
		err = uapi_put_key(b, "private_key", s->private_key);
	if (!err && s->has_listen_port)
		err = uapi_printf(b, "listen_port=%u\n", (unsigned)s->listen_port);
	if (!err && s->has_fwmark)
		err = uapi_printf(b, "fwmark=%" PRIu32 "\n", s->fwmark);
	for (unsigned k = 0; k < WG_UAPI_OBFS_KEYS && !err; k++) {
		const struct wg_obfs *o = &s->obfs;
		const uint16_t v16[] = { o->jc, o->jmin, o->jmax, o->s1, o->s2 };

		if (!(s->obfs_has & 1u << k))
			continue;
		if (k == WG_UAPI_ACCEPT_PLAIN)
			err = uapi_printf(b, "accept_plain=%s\n", o->accept_plain ? "true" : "false");
		else if (k >= WG_UAPI_H1)
			err = uapi_printf(b, "%s=%" PRIu32 "\n", obfs_names[k], o->h[k - WG_UAPI_H1]);
		else
			err = uapi_printf(b, "%s=%u\n", obfs_names[k], (unsigned)v16[k]);
	}
	if (!err && s->replace_peers)
		err = uapi_printf(b, "replace_peers=true\n");
	for (size_t i = 0; i < s->n_peers && !err; i++)
		err = format_set_peer(b, &s->peers[i]);
	return err ? err : uapi_printf(b, "\n");
}
