/* SPDX-License-Identifier: MIT */
/*
 * The configuration file. libconfig reads the syntax into a tree; this file walks the tree
 * one section at a time (interface, ports, peers) into a scratch struct wg_config, and
 * hands the scratch to the caller only when every check has passed, so a refused file
 * changes nothing. Every refusal names the file and the line of the setting at fault;
 * every setting name is checked against the known ones, so a typo is an error, not a
 * silently ignored line. docs/configuration.md is the reference.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config_file.h"
#include "config_parse.h"
#include "config_scan.h"
#include "wg_aead.h"
#include "wg_config.h"
#include "wg_crypto.h"

#define DEFAULT_NAME        "wgdp0"
#define DEFAULT_LISTEN_PORT 51820
#define DEFAULT_TUNNEL_MTU  1420
#define DEFAULT_PORT_MTU    1500
/* 1280 is IPv6's minimum link MTU; the tunnel carries IPv6, and a port may. The tops are
 * common jumbo frame sizes, the tunnel's leaving room for the outer headers. */
#define TUNNEL_MTU_MIN      1280
#define TUNNEL_MTU_MAX      9000
#define PORT_MTU_MIN        1280
#define PORT_MTU_MAX        9216
/* A million peers take about 250 MB of text; a file past 1 GiB is a mistake. */
#define FILE_MAX            ((size_t)1 << 30)
/* A key file holds 44 characters and perhaps a newline; reading a little more tells a
 * longer file from a key. */
#define KEY_FILE_MAX        64
/* User text quoted in a message: 96 characters, "..." and the NUL. */
#define QUOTE_LEN           WG_CFG_QUOTE_LEN

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

static const char *const root_keys[] = {
	"interface", "ports", "peers", "http", "metrics", "events", "nat",
	"destination_rules", NULL,
};
static const char *const interface_keys[] = {
	"name", "private_key", "private_key_file", "listen_port", "mtu", "fwmark",
	"uapi_socket", "jsonrpc_socket", "aead_engine", "obfuscation", "save_path", NULL,
};
static const char *const obfs_keys[] = {
	"jc", "jmin", "jmax", "s1", "s2", "h1", "h2", "h3", "h4", "accept_plain", NULL,
};
static const char *const http_keys[] = {
	"listen", "tokens", "tokens_file", "tls_certificate", "tls_key", "tls_client_ca",
	"max_request_bytes", "max_connections", "idle_timeout", "metrics", NULL,
};
static const char *const metrics_keys[] = { "listen", "per_peer", NULL };
static const char *const events_keys[] = { "ring_size", "quiet_margin", NULL };
static const char *const port_keys[] = {
	"name", "device", "role", "addresses", "gateway4", "gateway6", "mtu", "masquerade", NULL,
};
static const char *const peer_keys[] = {
	"public_key", "preshared_key", "endpoint", "allowed_ips", "persistent_keepalive",
	"enabled", "destination_rules", NULL,
};

/* ---- messages ---- */

static int vreport(struct parse *p, unsigned line, const char *fmt, va_list ap)
{
	char reason[WG_CONFIG_ERR_LEN];

	if (!p->err || p->errlen == 0)
		return -1;
	vsnprintf(reason, sizeof(reason), fmt, ap);
	if (line)
		snprintf(p->err, p->errlen, "%s:%u: %s", p->origin, line, reason);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->origin, reason);
	return -1;
}

__attribute__((format(printf, 3, 4)))
static int fail_line(struct parse *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, line, fmt, ap);
	va_end(ap);
	return -1;
}

/* The line of a setting. libconfig records one for every setting it creates; climbing to
 * the parent is only a safeguard for one it did not. */
static unsigned line_of(const config_setting_t *s)
{
	while (s && config_setting_source_line(s) == 0)
		s = config_setting_parent(s);
	return s ? config_setting_source_line(s) : 0;
}

/* The line of a setting, for a message. For a scalar element of an array or list,
 * libconfig records the line only after reading the token that follows it (for the last
 * element, the closing bracket, perhaps lines later): the text tells the true one. */
static unsigned line_at(const struct parse *p, const config_setting_t *s)
{
	const config_setting_t *parent = s ? config_setting_parent(s) : NULL;
	unsigned line = line_of(s), from, found;

	if (!parent || !p->text || config_setting_is_aggregate(s) ||
	    !config_setting_name(parent) ||
	    (!config_setting_is_array(parent) && !config_setting_is_list(parent)))
		return line;
	from = line_of(parent);
	found = wg_config_element_line(p->text, from, config_setting_name(parent),
				       (unsigned)config_setting_index(s));
	return found && found >= from && found <= line ? found : line;
}

/* Refuse at setting s; always -1, so callers can `return fail(...)`. */
__attribute__((format(printf, 3, 4)))
static int fail(struct parse *p, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, line_at(p, s), fmt, ap);
	va_end(ap);
	return -1;
}

/* User text for a message: cut short and with anything unprintable as '?', so that a
 * message stays one short line whatever the input holds. */
static const char *quote(char out[QUOTE_LEN], const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < QUOTE_LEN - 4; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
	if (s[i])
		strcat(out, "...");
	return out;
}

/* ---- typed access to the tree; each returns 1 (found), 0 (absent) or -1 (refused) ---- */

/* Refuse any member of group g whose name is not in known. */
static int check_known(struct parse *p, const config_setting_t *g, const char *where,
		       const char *const known[])
{
	char list[256] = "";

	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		size_t k;

		for (k = 0; known[k] && strcmp(known[k], name); k++)
			;
		if (known[k])
			continue;
		for (k = 0; known[k]; k++) {
			strcat(list, k ? ", " : "");
			strcat(list, known[k]);
		}
		return fail(p, m, "unknown setting '%s' in %s (known: %s)", name, where, list);
	}
	return 0;
}

static int get_string(struct parse *p, const config_setting_t *g, const char *name,
		      const config_setting_t **at, const char **out)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	*at = s;
	*out = "";
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(p, s, "'%s' must be a string in double quotes", name);
	*out = config_setting_get_string(s);
	return 1;
}

static int get_int(struct parse *p, const config_setting_t *g, const char *name,
		   long long min, long long max, long long *out)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	int type = s ? config_setting_type(s) : CONFIG_TYPE_NONE;
	long long v;

	if (!s)
		return 0;
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return fail(p, s, "'%s' must be an integer", name);
	v = config_setting_get_int64(s);
	/* libconfig keeps hex 0x80000000..0xffffffff in an int, as a negative number: take
	 * the 32 bits as written. */
	if (type == CONFIG_TYPE_INT && config_setting_get_format(s) == CONFIG_FORMAT_HEX)
		v = (uint32_t)config_setting_get_int(s);
	if (v < min || v > max)
		return fail(p, s, "'%s' must be %lld..%lld, not %lld", name, min, max, v);
	*out = v;
	return 1;
}

/* Integers straight into their field, which keeps its default when the setting is absent. */
static int get_u16(struct parse *p, const config_setting_t *g, const char *name,
		   long long min, long long max, uint16_t *out)
{
	long long v;
	int rc = get_int(p, g, name, min, max, &v);

	if (rc == 1)
		*out = (uint16_t)v;
	return rc;
}

static int get_bool(struct parse *p, const config_setting_t *g, const char *name, bool *out)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(p, s, "'%s' must be true or false", name);
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

/* An array [ "a", "b" ] or a list ( "a", "b" ) of strings. */
static int get_strings(struct parse *p, const config_setting_t *g, const char *name,
		       const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	*out = s;
	if (!s)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return fail(p, s, "'%s' must be an array of strings [ \"...\", ... ]", name);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(p, e, "'%s' must hold only strings", name);
	}
	return 1;
}

/* The readers for config_nat.c (config_parse.h). */
int wg_cfg_fail(struct parse *p, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, line_at(p, s), fmt, ap);
	va_end(ap);
	return -1;
}

const char *wg_cfg_quote(char out[WG_CFG_QUOTE_LEN], const char *s)
{
	return quote(out, s);
}

int wg_cfg_check_known(struct parse *p, const config_setting_t *g, const char *where,
		       const char *const known[])
{
	return check_known(p, g, where, known);
}

int wg_cfg_get_string(struct parse *p, const config_setting_t *g, const char *name,
		      const config_setting_t **at, const char **out)
{
	return get_string(p, g, name, at, out);
}

int wg_cfg_get_int(struct parse *p, const config_setting_t *g, const char *name,
		   long long min, long long max, long long *out)
{
	return get_int(p, g, name, min, max, out);
}

int wg_cfg_get_strings(struct parse *p, const config_setting_t *g, const char *name,
		       const config_setting_t **out)
{
	return get_strings(p, g, name, out);
}

/* Interface and port names: what Linux takes for an interface name, as wg would show it
 * and as it goes into the socket paths. */
bool wg_config_name_ok(const char *v)
{
	size_t n = strnlen(v, WG_CONFIG_NAME_LEN);

	return n > 0 && n < WG_CONFIG_NAME_LEN && v[strspn(v, NAME_CHARS)] == '\0' &&
	       strcmp(v, ".") != 0 && strcmp(v, "..") != 0;
}

static int get_name(struct parse *p, const config_setting_t *g, const char *name,
		    char out[WG_CONFIG_NAME_LEN])
{
	const config_setting_t *s;
	const char *v;
	char q[QUOTE_LEN];
	size_t n;
	int rc = get_string(p, g, name, &s, &v);

	if (rc <= 0)
		return rc;
	n = strlen(v);
	if (!wg_config_name_ok(v))
		return fail(p, s, "'%s' must be 1..%d characters of A-Z a-z 0-9 _ . -, not '%s'",
			    name, WG_CONFIG_NAME_LEN - 1, quote(q, v));
	memcpy(out, v, n + 1);
	return 1;
}

/* A string of 1..cap-1 characters copied into out. */
static int get_bounded(struct parse *p, const config_setting_t *g, const char *name,
		       char *out, size_t cap)
{
	const config_setting_t *s;
	const char *v;
	size_t n;
	int rc = get_string(p, g, name, &s, &v);

	if (rc <= 0)
		return rc;
	n = strlen(v);
	if (n == 0 || n >= cap)
		return fail(p, s, "'%s' must be 1..%zu characters, not %zu", name, cap - 1, n);
	memcpy(out, v, n + 1);
	return 1;
}

/* The ChaCha20-Poly1305 engine by name (wg_aead.h); whether this CPU runs it is for the
 * gateway to say when it starts. */
static int get_engine(struct parse *p, const config_setting_t *g, int *out)
{
	const config_setting_t *s;
	const char *v;
	char q[QUOTE_LEN];
	enum wg_aead_engine e;
	int rc = get_string(p, g, "aead_engine", &s, &v);

	if (rc <= 0)
		return rc;
	if (wg_aead_engine_parse(v, &e) != 0)
		return fail(p, s, "unknown aead_engine '%s' (auto, ipsec-mb, ref, avx2, avx512)",
			    quote(q, v));
	*out = (int)e;
	return 1;
}

/* libconfig frees its strings without wiping them: wipe the text of a secret ourselves. */
static void wipe_text(const char *s)
{
	wg_wipe((char *)s, strlen(s));
}

/* A key in base64, as `wg genkey` and `wg pubkey` print it. */
static int get_key(struct parse *p, const config_setting_t *g, const char *name,
		   uint8_t key[WG_KEY_LEN])
{
	const config_setting_t *s;
	const char *v;
	int rc = get_string(p, g, name, &s, &v);

	if (rc <= 0)
		return rc;
	rc = wg_key_from_base64(key, v, strlen(v));
	wipe_text(v);
	if (rc)
		return fail(p, s, "'%s' is not a key in base64 (44 characters, as wg genkey "
			    "prints)", name);
	return 1;
}

/* ---- files ---- */

/* The private key from a file holding it in base64, with or without the newline that
 * `wg genkey > file` leaves. */
static int read_key_file(struct parse *p, const config_setting_t *s, const char *path)
{
	char full[PATH_MAX], buf[KEY_FILE_MAX], q[QUOTE_LEN];
	const char *why = "cannot read";
	ssize_t n;
	int rc;

	if (path[0] == '\0')
		return fail(p, s, "'private_key_file' is empty");
	if (snprintf(full, sizeof(full), "%.*s%s", path[0] == '/' ? 0 : (int)p->dir_len,
		     p->dir ? p->dir : "", path) >= (int)sizeof(full))
		return fail(p, s, "'private_key_file' is too long");
	n = wg_config_read_small(full, buf, sizeof(buf), &why);
	if (n < 0)
		return fail(p, s, "private_key_file '%s': %s", quote(q, full), why);
	if (n == WG_KEY_B64_LEN + 1 && buf[WG_KEY_B64_LEN] == '\n')
		n--;
	rc = wg_key_from_base64(p->c->private_key, buf, (size_t)n);
	wg_wipe(buf, sizeof(buf));
	if (rc)
		return fail(p, s, "private_key_file '%s' does not hold one key in base64 (as "
			    "wg genkey writes it)", quote(q, full));
	return 1;
}

/* ---- interface ---- */

/* private_key or private_key_file, or neither (a gateway without identity yet). */
static int parse_private_key(struct parse *p, const config_setting_t *g)
{
	const config_setting_t *file = config_setting_get_member(g, "private_key_file");
	const config_setting_t *key = config_setting_get_member(g, "private_key");
	struct wg_config *c = p->c;
	uint8_t priv[WG_KEY_LEN];
	const char *path;
	int rc = get_key(p, g, "private_key", c->private_key);

	if (rc < 0)
		return -1;
	if (rc && file)
		return fail(p, file, "give 'private_key' or 'private_key_file', not both");
	if (file && get_string(p, g, "private_key_file", &file, &path) < 0)
		return -1;
	if (file && strlen(path) < WG_CONFIG_FILE_LEN)
		memcpy(c->private_key_file, path, strlen(path) + 1);
	if (file && read_key_file(p, file, path) < 0)
		return -1;
	if (!rc && !file)
		return 0;
	/* All zero is how wg says "no key"; in a file it can only be a mistake. */
	if (wg_is_zero(c->private_key, WG_KEY_LEN))
		return fail(p, key ? key : file, "the private key is all zero");
	c->has_private_key = true;
	memcpy(priv, c->private_key, WG_KEY_LEN);
	wg_x25519_clamp(priv);
	rc = wg_x25519_public(p->own_public, priv);
	wg_wipe(priv, sizeof(priv));
	return rc ? fail(p, key ? key : file, "the private key is unusable") : 0;
}

static int parse_obfuscation(struct parse *p, const config_setting_t *g);

static int parse_interface(struct parse *p, const config_setting_t *g)
{
	struct wg_config *c = p->c;
	long long v;
	int rc;

	if (check_known(p, g, "interface", interface_keys) < 0)
		return -1;
	rc = get_name(p, g, "name", c->name);
	if (rc < 0)
		return -1;
	/* Started as NAME (the service wgdp@NAME), the file may name the interface only NAME:
	 * otherwise `wg show NAME` and the sockets would not be where the name says. */
	if (rc == 1 && p->name && strcmp(c->name, p->name) != 0)
		return fail(p, config_setting_get_member(g, "name"),
			    "interface name '%s' is not '%s', the name wgdp is started as "
			    "(--name): leave 'name' out or make it '%s'", c->name, p->name,
			    p->name);
	if (parse_private_key(p, g) < 0 ||
	    get_u16(p, g, "listen_port", 1, 65535, &c->listen_port) < 0 ||
	    get_u16(p, g, "mtu", TUNNEL_MTU_MIN, TUNNEL_MTU_MAX, &c->mtu) < 0 ||
	    get_bounded(p, g, "uapi_socket", c->uapi_socket, WG_CONFIG_PATH_LEN) < 0 ||
	    get_bounded(p, g, "jsonrpc_socket", c->jsonrpc_socket, WG_CONFIG_PATH_LEN) < 0 ||
	    get_engine(p, g, &c->aead_engine) < 0 ||
	    get_bounded(p, g, "save_path", c->save_path, WG_CONFIG_FILE_LEN) < 0)
		return -1;
	rc = get_int(p, g, "fwmark", 0, UINT32_MAX, &v);
	if (rc == 1)
		c->fwmark = (uint32_t)v;
	if (rc < 0)
		return -1;
	return parse_obfuscation(p, g);
}

/* The AmneziaWG group (docs/obfuscation.md): every value optional, h1..h4 default to the
 * plain types; checked by lib/obfs's rules against the tunnel MTU. */
static int parse_obfuscation(struct parse *p, const config_setting_t *g)
{
	static const char *const h_names[4] = { "h1", "h2", "h3", "h4" };
	struct wg_obfs *o = &p->c->obfs;
	const config_setting_t *s = config_setting_get_member(g, "obfuscation");
	const config_setting_t *ap;
	char why[160];
	long long v;
	int rc;

	if (!s)
		return 0;
	if (!config_setting_is_group(s))
		return fail(p, s, "'obfuscation' must be a group { ... }");
	if (check_known(p, s, "obfuscation", obfs_keys) < 0 ||
	    get_u16(p, s, "jc", 0, WG_OBFS_JC_MAX, &o->jc) < 0 ||
	    get_u16(p, s, "jmin", 0, 65535, &o->jmin) < 0 ||
	    get_u16(p, s, "jmax", 0, 65535, &o->jmax) < 0 ||
	    get_u16(p, s, "s1", 0, 65535, &o->s1) < 0 ||
	    get_u16(p, s, "s2", 0, 65535, &o->s2) < 0)
		return -1;
	for (unsigned i = 0; i < 4; i++) {
		rc = get_int(p, s, h_names[i], 0, UINT32_MAX, &v);
		if (rc < 0)
			return -1;
		if (rc == 1)
			o->h[i] = (uint32_t)v;
	}
	ap = config_setting_get_member(s, "accept_plain");
	if (ap) {
		if (config_setting_type(ap) != CONFIG_TYPE_BOOL)
			return fail(p, ap, "'accept_plain' must be true or false");
		o->accept_plain = config_setting_get_bool(ap);
	}
	wg_obfs_normalize(o);
	if (wg_obfs_check(o, p->c->mtu, why, sizeof(why)) != 0)
		return fail(p, s, "obfuscation: %s", why);
	return 0;
}

/* The sockets' defaults follow the name: /var/run/wireguard/NAME.sock is where wg looks. */
static void default_sockets(struct wg_config *c)
{
	if (c->uapi_socket[0] == '\0')
		snprintf(c->uapi_socket, sizeof(c->uapi_socket), "/var/run/wireguard/%s.sock",
			 c->name);
	if (c->jsonrpc_socket[0] == '\0')
		snprintf(c->jsonrpc_socket, sizeof(c->jsonrpc_socket),
			 "/var/run/wgdp/%s.json.sock", c->name);
}

/* ---- ports ---- */

static int get_device(struct parse *p, const config_setting_t *g, struct wg_config_port *port)
{
	const config_setting_t *s = config_setting_get_member(g, "device");
	int rc = get_bounded(p, g, "device", port->device, WG_CONFIG_DEVICE_LEN);

	if (rc <= 0)
		return rc;
	/* EAL device arguments have no spaces; one here is a typo that DPDK would refuse
	 * later with a vaguer message. */
	for (const char *ch = port->device; *ch; ch++)
		if (*ch <= 0x20 || *ch >= 0x7f)
			return fail(p, s, "'device' may not hold spaces or control characters");
	return 1;
}

static int get_role(struct parse *p, const config_setting_t *g, struct wg_config_port *port)
{
	const config_setting_t *s;
	const char *v;
	char q[QUOTE_LEN];
	int rc = get_string(p, g, "role", &s, &v);

	if (rc <= 0)
		return rc;
	if (!strcmp(v, "wan"))
		port->role = WG_ROLE_WAN;
	else if (!strcmp(v, "lan"))
		port->role = WG_ROLE_LAN;
	else if (!strcmp(v, "both"))
		port->role = WG_ROLE_BOTH;
	else
		return fail(p, s, "'role' must be \"wan\", \"lan\" or \"both\", not '%s'",
			    quote(q, v));
	return 1;
}

static int parse_addresses(struct parse *p, const config_setting_t *g,
			   struct wg_config_port *port)
{
	const config_setting_t *a;
	char q[QUOTE_LEN];
	int rc = get_strings(p, g, "addresses", &a);

	if (rc <= 0)
		return rc;
	for (int i = 0; i < config_setting_length(a); i++) {
		const config_setting_t *e = config_setting_get_elem(a, (unsigned)i);
		const char *v = config_setting_get_string(e);

		if (i >= WG_CONFIG_MAX_PORT_ADDRS)
			return fail(p, e, "too many addresses (at most %d per port)",
				    WG_CONFIG_MAX_PORT_ADDRS);
		if (wg_prefix_parse(&port->addrs[i], v, strlen(v), true))
			return fail(p, e, "'%s' is not an address with a prefix length, like "
				    "192.0.2.1/24 or 2001:db8::1/64", quote(q, v));
		port->n_addrs = (unsigned)i + 1;
	}
	return 1;
}

static int get_gateway(struct parse *p, const config_setting_t *g, const char *name,
		       uint8_t family, struct wg_ip *out)
{
	const config_setting_t *s;
	const char *v;
	char q[QUOTE_LEN];
	int rc = get_string(p, g, name, &s, &v);

	if (rc <= 0)
		return rc;
	if (wg_ip_parse(out, v, strlen(v)) || out->family != family)
		return fail(p, s, "'%s' must be an IPv%u address, not '%s'", name,
			    (unsigned)family, quote(q, v));
	return 1;
}

static int parse_port(struct parse *p, const config_setting_t *g, struct wg_config_port *port)
{
	int rc;

	port->mtu = DEFAULT_PORT_MTU;
	if (check_known(p, g, "port", port_keys) < 0)
		return -1;
	if ((rc = get_name(p, g, "name", port->name)) <= 0)
		return rc < 0 ? -1 : fail(p, g, "port without 'name'");
	if ((rc = get_device(p, g, port)) <= 0)
		return rc < 0 ? -1 : fail(p, g, "port '%s' without 'device'", port->name);
	if ((rc = get_role(p, g, port)) <= 0)
		return rc < 0 ? -1 : fail(p, g, "port '%s' without 'role'", port->name);
	if (parse_addresses(p, g, port) < 0 ||
	    get_gateway(p, g, "gateway4", WG_AF_INET, &port->gateway4) < 0 ||
	    get_gateway(p, g, "gateway6", WG_AF_INET6, &port->gateway6) < 0 ||
	    get_u16(p, g, "mtu", PORT_MTU_MIN, PORT_MTU_MAX, &port->mtu) < 0 ||
	    wg_cfg_parse_masq(p, g, port) < 0)
		return -1;
	return 0;
}

/* The EAL's name of a device: what comes before its arguments. Two ports on one device
 * would be refused by DPDK at start, whatever the arguments. */
static size_t device_name_len(const char *device)
{
	return strcspn(device, ",");
}

/* Port i against the ports before it. */
static int check_unique(struct parse *p, const config_setting_t *list, unsigned i)
{
	const struct wg_config_port *a = &p->c->ports[i];
	const config_setting_t *g = config_setting_get_elem(list, i);
	size_t alen = device_name_len(a->device);

	for (unsigned j = 0; j < i; j++) {
		const struct wg_config_port *b = &p->c->ports[j];
		unsigned line = line_of(config_setting_get_elem(list, j));

		if (!strcmp(a->name, b->name))
			return fail(p, config_setting_get_member(g, "name"),
				    "port name '%s' is already used at line %u", a->name, line);
		if (alen == device_name_len(b->device) && !memcmp(a->device, b->device, alen))
			return fail(p, config_setting_get_member(g, "device"),
				    "device '%.*s' is already used by port '%s' at line %u",
				    (int)alen, a->device, b->name, line);
	}
	return 0;
}

static int parse_ports(struct parse *p, const config_setting_t *list)
{
	struct wg_config *c = p->c;
	unsigned roles = 0;
	int n = config_setting_length(list);

	if (n == 0)
		return fail(p, list, "'ports' is empty: at least one port is required");
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);

		if (i >= WG_CONFIG_MAX_PORTS)
			return fail(p, g, "too many ports (at most %d)", WG_CONFIG_MAX_PORTS);
		if (!config_setting_is_group(g))
			return fail(p, g, "each port must be a group { name = ...; device = ...; "
				    "role = ...; }");
		if (parse_port(p, g, &c->ports[i]) < 0 || check_unique(p, list, (unsigned)i) < 0)
			return -1;
		c->n_ports = (unsigned)i + 1;
		roles |= c->ports[i].role;
	}
	if (!(roles & WG_ROLE_WAN))
		return fail(p, list, "no port has role \"wan\" or \"both\": peers could not reach "
			    "the gateway");
	if (!(roles & WG_ROLE_LAN))
		return fail(p, list, "no port has role \"lan\" or \"both\": decrypted traffic "
			    "would have nowhere to go");
	return 0;
}

/* ---- peers ---- */

static int parse_endpoint(struct parse *p, const config_setting_t *g, struct wg_config_peer *peer)
{
	const config_setting_t *s;
	const char *v;
	char q[QUOTE_LEN];
	int rc = get_string(p, g, "endpoint", &s, &v);

	if (rc <= 0)
		return rc;
	if (wg_endpoint_parse(&peer->endpoint, v, strlen(v)))
		return fail(p, s, "'endpoint' must be IPv4:port or [IPv6]:port with port 1..65535 "
			    "(host names are not resolved), not '%s'", quote(q, v));
	return 1;
}

static int parse_allowed_ips(struct parse *p, const config_setting_t *g,
			     struct wg_config_peer *peer)
{
	const config_setting_t *a;
	char q[QUOTE_LEN], fixed[WG_ADDR_STRLEN];
	int n, rc = get_strings(p, g, "allowed_ips", &a);

	if (rc <= 0 || (n = config_setting_length(a)) == 0)
		return rc;
	peer->allowed_ips = calloc((size_t)n, sizeof(*peer->allowed_ips));
	if (!peer->allowed_ips)
		return fail(p, a, "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(a, (unsigned)i);
		const char *v = config_setting_get_string(e);
		struct wg_prefix *pfx = &peer->allowed_ips[i], masked;

		if (wg_prefix_parse(pfx, v, strlen(v), true))
			return fail(p, e, "'%s' is not an IP prefix, like 10.0.0.2/32 or "
				    "fd00::/64", quote(q, v));
		/* Said apart from the syntax error: the fix is to write the network. */
		masked = *pfx;
		wg_prefix_mask(&masked);
		wg_prefix_format(fixed, &masked);
		if (!wg_ip_equal(&masked.ip, &pfx->ip))
			return fail(p, e, "allowed IP '%s' has bits set past its prefix length "
				    "(the network is %s)", quote(q, v), fixed);
		peer->n_allowed_ips = (unsigned)i + 1;
	}
	return 1;
}

static int parse_peer(struct parse *p, const config_setting_t *g, struct wg_config_peer *peer)
{
	bool enabled;
	int rc;

	peer->line = line_of(g);
	if (check_known(p, g, "peer", peer_keys) < 0)
		return -1;
	if ((rc = get_key(p, g, "public_key", peer->public_key)) <= 0)
		return rc < 0 ? -1 : fail(p, g, "peer without 'public_key'");
	if (p->c->has_private_key && !memcmp(peer->public_key, p->own_public, WG_KEY_LEN))
		return fail(p, config_setting_get_member(g, "public_key"),
			    "peer's public_key is the interface's own public key");
	if ((rc = get_key(p, g, "preshared_key", peer->preshared_key)) < 0)
		return -1;
	peer->has_preshared_key = rc == 1;
	if (parse_endpoint(p, g, peer) < 0 || parse_allowed_ips(p, g, peer) < 0 ||
	    get_u16(p, g, "persistent_keepalive", 0, 65535, &peer->persistent_keepalive) < 0 ||
	    wg_cfg_peer_rules(p, g, peer) < 0)
		return -1;
	enabled = true;
	if (get_bool(p, g, "enabled", &enabled) < 0)
		return -1;
	peer->disabled = !enabled;
	return 0;
}

/* By key, then by line, so that duplicates end up side by side, the first one first. */
static int compare_peers(const void *a, const void *b)
{
	const struct wg_config_peer *x = *(const struct wg_config_peer *const *)a;
	const struct wg_config_peer *y = *(const struct wg_config_peer *const *)b;
	int r = memcmp(x->public_key, y->public_key, WG_KEY_LEN);

	return r ? r : (x->line > y->line) - (x->line < y->line);
}

/* Sorting keeps this O(n log n) for a million peers. Of all duplicates, the one defined
 * earliest in the file is reported, as a scan from the top would have found it. */
static int check_duplicates(struct parse *p, const config_setting_t *list)
{
	struct wg_config *c = p->c;
	const struct wg_config_peer **v, *dup = NULL, *first = NULL;

	if (c->n_peers < 2)
		return 0;
	v = malloc(c->n_peers * sizeof(*v));
	if (!v)
		return fail(p, list, "out of memory");
	for (unsigned i = 0; i < c->n_peers; i++)
		v[i] = &c->peers[i];
	qsort(v, c->n_peers, sizeof(*v), compare_peers);
	for (unsigned i = 1; i < c->n_peers; i++) {
		if (memcmp(v[i - 1]->public_key, v[i]->public_key, WG_KEY_LEN))
			continue;
		if (!dup || v[i]->line < dup->line)
			dup = v[i], first = v[i - 1];
	}
	free(v);
	if (dup)
		return fail_line(p, dup->line, "peer has the same public_key as the peer at line %u",
				 first->line);
	return 0;
}

static int parse_peers(struct parse *p, const config_setting_t *list)
{
	struct wg_config *c = p->c;
	int n = config_setting_length(list);

	if (n == 0)
		return 0;
	/* Zeroed, and counted in full at once, so that wg_config_free can release a
	 * half-filled array. */
	c->peers = calloc((size_t)n, sizeof(*c->peers));
	if (!c->peers)
		return fail(p, list, "out of memory for %d peers", n);
	c->n_peers = (unsigned)n;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);

		if (!config_setting_is_group(g))
			return fail(p, g, "each peer must be a group { public_key = ...; }");
		if (parse_peer(p, g, &c->peers[i]) < 0)
			return -1;
	}
	return check_duplicates(p, list);
}

/* ---- http, metrics, events ---- */

/* "IPv4:port" or "[IPv6]:port", the address a listener binds. */
static int get_listen(struct parse *p, const config_setting_t *g, const char *where,
		      struct wg_endpoint *ep)
{
	const config_setting_t *s;
	const char *v;
	char q[QUOTE_LEN];
	int rc = get_string(p, g, "listen", &s, &v);

	if (rc <= 0)
		return rc;
	if (wg_endpoint_parse(ep, v, strlen(v)))
		return fail(p, s, "%s.listen must be IPv4:port or [IPv6]:port with port 1..65535, "
			    "like \"127.0.0.1:8182\", not '%s'", where, quote(q, v));
	return 1;
}

/* A token as an Authorization header carries it: printable, no spaces. */
static bool token_ok(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n >= WG_CONFIG_TOKEN_LEN)
		return false;
	for (; *t; t++)
		if (*t <= 0x20 || *t >= 0x7f)
			return false;
	return true;
}

static int parse_tokens(struct parse *p, const config_setting_t *g, struct wg_config_http *h)
{
	const config_setting_t *a;
	int rc = get_strings(p, g, "tokens", &a);

	if (rc <= 0)
		return rc;
	for (int i = 0; i < config_setting_length(a); i++) {
		const config_setting_t *e = config_setting_get_elem(a, (unsigned)i);
		const char *v = config_setting_get_string(e);

		if (i >= WG_CONFIG_MAX_TOKENS)
			return fail(p, e, "too many tokens (at most %d)", WG_CONFIG_MAX_TOKENS);
		/* A token is a secret: never quoted back. */
		if (!token_ok(v))
			return fail(p, e, "a token must be 1..%d printable characters without "
				    "spaces", WG_CONFIG_TOKEN_LEN - 1);
		memcpy(h->tokens[i], v, strlen(v) + 1);
		wipe_text(v);
		h->n_tokens = (unsigned)i + 1;
	}
	return 1;
}

/* One token a line; blank lines and lines starting with '#' are skipped. */
static int read_tokens_file(struct parse *p, const config_setting_t *s,
			    struct wg_config_http *h)
{
	char full[PATH_MAX], q[QUOTE_LEN];
	const char *why = "cannot read";
	size_t len = 0;
	char *text, *line, *save = NULL;
	int rc = 1;

	if (snprintf(full, sizeof(full), "%.*s%s", h->tokens_file[0] == '/' ? 0 :
		     (int)p->dir_len, p->dir ? p->dir : "", h->tokens_file) >= (int)sizeof(full))
		return fail(p, s, "'tokens_file' is too long");
	text = wg_config_read_file(full, 1u << 20, &len, &why);
	if (text == NULL)
		return fail(p, s, "tokens_file '%s': %s", quote(q, full), why);
	for (line = strtok_r(text, "\r\n", &save); line && rc > 0;
	     line = strtok_r(NULL, "\r\n", &save)) {
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (h->n_file_tokens == WG_CONFIG_MAX_TOKENS)
			rc = fail(p, s, "tokens_file '%s' holds more than %d tokens", quote(q, full),
				  WG_CONFIG_MAX_TOKENS);
		else if (!token_ok(line))
			rc = fail(p, s, "tokens_file '%s': a token must be 1..%d printable "
				  "characters without spaces", quote(q, full), WG_CONFIG_TOKEN_LEN - 1);
		else
			memcpy(h->file_tokens[h->n_file_tokens++], line, strlen(line) + 1);
	}
	wg_wipe(text, len);
	free(text);
	if (rc > 0 && h->n_file_tokens == 0)
		return fail(p, s, "tokens_file '%s' holds no token", quote(q, full));
	return rc;
}

static bool is_loopback(const struct wg_ip *ip)
{
	static const uint8_t v6_lo[16] = { [15] = 1 };

	return ip->family == WG_AF_INET ? ip->addr[0] == 127 :
		memcmp(ip->addr, v6_lo, 16) == 0;
}

static int http_files(struct parse *p, const config_setting_t *g, struct wg_config_http *h)
{
	const config_setting_t *s;
	int rc = get_bounded(p, g, "tokens_file", h->tokens_file, WG_CONFIG_FILE_LEN);

	if (rc < 0 || (rc == 1 && read_tokens_file(p, config_setting_get_member(g,
						   "tokens_file"), h) < 0))
		return -1;
	if (get_bounded(p, g, "tls_certificate", h->tls_certificate, WG_CONFIG_FILE_LEN) < 0 ||
	    get_bounded(p, g, "tls_key", h->tls_key, WG_CONFIG_FILE_LEN) < 0 ||
	    get_bounded(p, g, "tls_client_ca", h->tls_client_ca, WG_CONFIG_FILE_LEN) < 0)
		return -1;
	s = config_setting_get_member(g, "tls_key");
	if (!h->tls_certificate[0] != !h->tls_key[0])
		return fail(p, s ? s : config_setting_get_member(g, "tls_certificate"),
			    "give both 'tls_certificate' and 'tls_key' for TLS, or neither");
	if (h->tls_client_ca[0] && !h->tls_certificate[0])
		return fail(p, config_setting_get_member(g, "tls_client_ca"),
			    "'tls_client_ca' (mutual TLS) needs 'tls_certificate' and 'tls_key'");
	return 0;
}

static int parse_http(struct parse *p, const config_setting_t *g)
{
	struct wg_config_http *h = &p->c->http;
	const config_setting_t *at;
	char ep[WG_ADDR_STRLEN];
	long long v = 0;
	int rc;

	if (check_known(p, g, "http", http_keys) < 0)
		return -1;
	if ((rc = get_listen(p, g, "http", &h->listen)) < 0 || parse_tokens(p, g, h) < 0 ||
	    http_files(p, g, h) < 0 || get_bool(p, g, "metrics", &h->metrics) < 0)
		return -1;
	h->enabled = rc == 1;
	if ((rc = get_int(p, g, "max_request_bytes", 1024, 1ll << 30, &v)) < 0)
		return -1;
	if (rc == 1)
		h->max_request_bytes = (uint32_t)v;
	if ((rc = get_int(p, g, "max_connections", 1, 1024, &v)) < 0)
		return -1;
	if (rc == 1)
		h->max_connections = (uint32_t)v;
	if ((rc = get_int(p, g, "idle_timeout", 1, 3600, &v)) < 0)
		return -1;
	if (rc == 1)
		h->idle_timeout = (uint32_t)v;
	/* Anyone who reaches the listener can change the peers: off loopback, only with a
	 * credential. TLS alone authenticates the server, not the client. */
	at = config_setting_get_member(g, "listen");
	if (h->enabled && !is_loopback(&h->listen.ip) && h->n_tokens + h->n_file_tokens == 0 &&
	    !h->tls_client_ca[0]) {
		wg_endpoint_format(ep, &h->listen);
		return fail(p, at, "http.listen %s is not a loopback address, and anyone who can "
			    "reach it could change the peers: set 'tokens' or 'tokens_file', or "
			    "'tls_client_ca' for mutual TLS", ep);
	}
	return 0;
}

static int parse_metrics(struct parse *p, const config_setting_t *g)
{
	struct wg_config_metrics *m = &p->c->metrics;
	int rc;

	if (check_known(p, g, "metrics", metrics_keys) < 0)
		return -1;
	if ((rc = get_listen(p, g, "metrics", &m->listen)) < 0 ||
	    get_bool(p, g, "per_peer", &m->per_peer) < 0)
		return -1;
	m->has_listen = rc == 1;
	return 0;
}

static int parse_events(struct parse *p, const config_setting_t *g)
{
	struct wg_config_events *ev = &p->c->events;
	long long v = 0;
	int rc;

	if (check_known(p, g, "events", events_keys) < 0)
		return -1;
	if ((rc = get_int(p, g, "ring_size", 16, 1 << 20, &v)) < 0)
		return -1;
	if (rc == 1)
		ev->ring_size = (uint32_t)v;
	if ((rc = get_int(p, g, "quiet_margin", 0, 86400, &v)) < 0)
		return -1;
	if (rc == 1)
		ev->quiet_margin = (uint32_t)v;
	return 0;
}

/* A group setting that may be absent: 0 absent or parsed, -1 refused. */
static int parse_group(struct parse *p, const config_setting_t *root, const char *name,
		       int (*fn)(struct parse *, const config_setting_t *))
{
	const config_setting_t *g = config_setting_get_member(root, name);

	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g))
		return fail(p, g, "'%s' must be a group { ... }", name);
	return fn(p, g);
}

/* ---- the whole file ---- */

/* A list ( ... ), or an empty array [] which reads the same to a person. */
static bool is_list(const config_setting_t *s)
{
	return config_setting_is_list(s) ||
	       (config_setting_is_array(s) && config_setting_length(s) == 0);
}

static int parse_root(struct parse *p, const config_setting_t *root)
{
	const config_setting_t *iface = config_setting_get_member(root, "interface");
	const config_setting_t *ports = config_setting_get_member(root, "ports");
	const config_setting_t *peers = config_setting_get_member(root, "peers");

	if (check_known(p, root, "the top level", root_keys) < 0)
		return -1;
	if (iface && !config_setting_is_group(iface))
		return fail(p, iface, "'interface' must be a group { ... }");
	if (!ports)
		return fail_line(p, 0, "no 'ports': at least one port is required");
	if (!is_list(ports))
		return fail(p, ports, "'ports' must be a list ( { ... }, ... )");
	if (peers && !is_list(peers))
		return fail(p, peers, "'peers' must be a list ( { ... }, ... )");
	if (iface && parse_interface(p, iface) < 0)
		return -1;
	default_sockets(p->c);
	if (parse_group(p, root, "http", parse_http) < 0 ||
	    parse_group(p, root, "metrics", parse_metrics) < 0 ||
	    parse_group(p, root, "events", parse_events) < 0)
		return -1;
	if (parse_ports(p, ports) < 0 || wg_cfg_parse_nat(p, root) < 0)
		return -1;
	return peers ? parse_peers(p, peers) : 0;
}

static void defaults(struct wg_config *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	if (name)
		snprintf(c->name, sizeof(c->name), "%s", name);
	else
		memcpy(c->name, DEFAULT_NAME, sizeof(DEFAULT_NAME));
	c->listen_port = DEFAULT_LISTEN_PORT;
	c->mtu = DEFAULT_TUNNEL_MTU;
	c->http.max_request_bytes = 16u << 20;
	c->http.max_connections = 64;
	c->http.idle_timeout = 10;
	c->http.metrics = true;
	c->metrics.per_peer = true;
	c->events.ring_size = 4096;
	c->events.quiet_margin = 30;
	wg_obfs_default(&c->obfs);
	wg_config_nat_defaults(&c->nat);
}

static int parse_text(struct parse *p, struct wg_config *out, const char *text)
{
	struct wg_config c;
	config_t cfg;
	unsigned line;
	const char *why;
	int rc;

	defaults(&c, p->name);
	p->c = &c;
	p->text = text;
	why = wg_config_guard(text, &line);
	if (why)
		return fail_line(p, line, "%s", why);
	config_init(&cfg);
	if (!config_read_string(&cfg, text))
		rc = fail_line(p, (unsigned)config_error_line(&cfg), "%s",
			       config_error_text(&cfg) ? config_error_text(&cfg) : "syntax error");
	else
		rc = parse_root(p, config_root_setting(&cfg));
	config_destroy(&cfg);
	if (rc < 0) {
		wg_config_free(&c);
		return -1;
	}
	*out = c;
	wg_wipe(&c, sizeof(c));
	return 0;
}

int wg_config_parse(struct wg_config *c, const char *text, const char *origin,
		    char *err, size_t errlen)
{
	struct parse p = {
		.origin = origin ? origin : "(config)",
		.err = err,
		.errlen = errlen,
	};

	if (!text)
		return fail_line(&p, 0, "no text");
	return parse_text(&p, c, text);
}

/* A NUL inside the file would end libconfig's reading there and hide the rest, so it is
 * refused, with its line. */
static int check_nul(struct parse *p, const char *text, size_t len)
{
	const char *nul = memchr(text, '\0', len);
	unsigned line = 1;

	if (!nul)
		return 0;
	for (const char *ch = text; ch < nul; ch++)
		line += *ch == '\n';
	return fail_line(p, line, "a NUL byte in the file");
}

int wg_config_load(struct wg_config *c, const char *path, char *err, size_t errlen)
{
	return wg_config_load_as(c, path, NULL, err, errlen);
}

int wg_config_load_as(struct wg_config *c, const char *path, const char *name, char *err,
		      size_t errlen)
{
	struct parse p = { .origin = path, .err = err, .errlen = errlen, .name = name };
	const char *slash = strrchr(path, '/'), *why = "cannot read";
	size_t len = 0;
	char *text;
	int rc;

	if (name && !wg_config_name_ok(name))
		return fail_line(&p, 0, "the name to start as must be 1..%d characters of "
				 "A-Z a-z 0-9 _ . -", WG_CONFIG_NAME_LEN - 1);
	/* A relative private_key_file lives beside the configuration file. */
	if (slash) {
		p.dir = path;
		p.dir_len = (size_t)(slash - path) + 1;
	}
	text = wg_config_read_file(path, FILE_MAX, &len, &why);
	if (!text)
		return fail_line(&p, 0, "%s", why);
	rc = check_nul(&p, text, len);
	if (rc == 0)
		rc = parse_text(&p, c, text);
	/* The text may hold the private key. */
	wg_wipe(text, len);
	free(text);
	return rc;
}

void wg_config_free(struct wg_config *c)
{
	if (!c)
		return;
	for (unsigned i = 0; c->peers && i < c->n_peers; i++)
		free(c->peers[i].allowed_ips);
	if (c->peers)
		wg_wipe(c->peers, c->n_peers * sizeof(*c->peers));
	free(c->peers);
	c->peers = NULL;
	c->n_peers = 0;
	wg_cfg_free_rule_sets(c);
	wg_wipe(c->private_key, sizeof(c->private_key));
	c->has_private_key = false;
	wg_wipe(c->http.tokens, sizeof(c->http.tokens));
	wg_wipe(c->http.file_tokens, sizeof(c->http.file_tokens));
}
