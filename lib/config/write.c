/* SPDX-License-Identifier: MIT */
/*
 * Writing a configuration back (SaveConfig): the struct wg_config built into libconfig's
 * tree and written with config_write, in the syntax config.c reads, atomically: temporary
 * file beside the target, fsync, rename, fsync of the directory. A setting that has its
 * default is left out, so the file stays as short as one written by hand. libconfig frees
 * its strings without wiping them, so every key's text is wiped before the tree goes.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "wg_aead.h"
#include "wg_config.h"
#include "wg_crypto.h"
#include "wg_obfs.h"

/* The strings holding keys and tokens, wiped before config_destroy. */
struct secrets {
	config_setting_t **s;
	size_t n, cap;
	bool oom;
};

static void remember(struct secrets *sec, config_setting_t *s)
{
	if (sec->n == sec->cap) {
		size_t cap = sec->cap ? sec->cap * 2 : 64;
		config_setting_t **n = realloc(sec->s, cap * sizeof(*n));

		if (n == NULL) {
			sec->oom = true;
			return;
		}
		sec->s = n;
		sec->cap = cap;
	}
	sec->s[sec->n++] = s;
}

static void wipe_secrets(struct secrets *sec)
{
	for (size_t i = 0; i < sec->n; i++) {
		const char *v = config_setting_get_string(sec->s[i]);

		if (v)
			wg_wipe((char *)v, strlen(v));
	}
	free(sec->s);
}

static config_setting_t *add(config_setting_t *parent, const char *name, int type)
{
	return config_setting_add(parent, name, type);
}

static bool add_string(config_setting_t *g, const char *name, const char *v)
{
	config_setting_t *s = add(g, name, CONFIG_TYPE_STRING);

	return s && config_setting_set_string(s, v);
}

static bool add_int(config_setting_t *g, const char *name, long long v)
{
	config_setting_t *s = add(g, name, v > INT32_MAX ? CONFIG_TYPE_INT64 : CONFIG_TYPE_INT);

	if (s == NULL)
		return false;
	return v > INT32_MAX ? config_setting_set_int64(s, v) : config_setting_set_int(s, (int)v);
}

static bool add_bool(config_setting_t *g, const char *name, bool v)
{
	config_setting_t *s = add(g, name, CONFIG_TYPE_BOOL);

	return s && config_setting_set_bool(s, v);
}

static bool add_key(config_setting_t *g, const char *name, const uint8_t key[WG_KEY_LEN],
		    struct secrets *sec)
{
	char b64[WG_KEY_B64_LEN + 1];
	config_setting_t *s = add(g, name, CONFIG_TYPE_STRING);
	bool ok;

	wg_key_to_base64(b64, key);
	ok = s && config_setting_set_string(s, b64);
	wg_wipe(b64, sizeof(b64));
	if (ok)
		remember(sec, s);
	return ok;
}

static bool add_endpoint(config_setting_t *g, const char *name, const struct wg_endpoint *ep)
{
	char text[WG_ADDR_STRLEN];

	wg_endpoint_format(text, ep);
	return add_string(g, name, text);
}

static bool add_prefixes(config_setting_t *g, const char *name, const struct wg_prefix *p,
			 unsigned n)
{
	config_setting_t *a = add(g, name, CONFIG_TYPE_ARRAY);
	char text[WG_ADDR_STRLEN];

	for (unsigned i = 0; a && i < n; i++) {
		config_setting_t *e = config_setting_add(a, NULL, CONFIG_TYPE_STRING);

		wg_prefix_format(text, &p[i]);
		if (e == NULL || !config_setting_set_string(e, text))
			return false;
	}
	return a != NULL;
}

static bool default_socket(const struct wg_config *c, const char *path, const char *fmt)
{
	char want[WG_CONFIG_PATH_LEN];

	snprintf(want, sizeof(want), fmt, c->name);
	return strcmp(want, path) == 0;
}

/* AmneziaWG's parameters (docs/obfuscation.md), when they are not plain WireGuard's. */
static bool write_obfuscation(config_setting_t *iface, const struct wg_obfs *o)
{
	static const char *const h_names[4] = { "h1", "h2", "h3", "h4" };
	struct wg_obfs plain;
	config_setting_t *g;
	bool ok;

	wg_obfs_default(&plain);
	if (memcmp(o->h, plain.h, sizeof(plain.h)) == 0 && !o->s1 && !o->s2 && !o->jc &&
	    !o->jmin && !o->jmax && !o->accept_plain)
		return true;
	g = add(iface, "obfuscation", CONFIG_TYPE_GROUP);
	ok = g && add_int(g, "jc", o->jc) && add_int(g, "jmin", o->jmin) &&
	     add_int(g, "jmax", o->jmax) && add_int(g, "s1", o->s1) && add_int(g, "s2", o->s2);
	for (unsigned i = 0; ok && i < 4; i++)
		ok = add_int(g, h_names[i], o->h[i]);
	return ok && add_bool(g, "accept_plain", o->accept_plain);
}

static bool write_interface(config_setting_t *root, const struct wg_config *c,
			    struct secrets *sec)
{
	config_setting_t *g = add(root, "interface", CONFIG_TYPE_GROUP);
	bool ok = g && add_string(g, "name", c->name);

	if (ok && c->private_key_file[0])
		ok = add_string(g, "private_key_file", c->private_key_file);
	else if (ok && c->has_private_key)
		ok = add_key(g, "private_key", c->private_key, sec);
	ok = ok && add_int(g, "listen_port", c->listen_port) && add_int(g, "mtu", c->mtu);
	if (ok && c->fwmark)
		ok = add_int(g, "fwmark", c->fwmark);
	if (ok && !default_socket(c, c->uapi_socket, "/var/run/wireguard/%s.sock"))
		ok = add_string(g, "uapi_socket", c->uapi_socket);
	if (ok && !default_socket(c, c->jsonrpc_socket, "/var/run/wgdp/%s.json.sock"))
		ok = add_string(g, "jsonrpc_socket", c->jsonrpc_socket);
	if (ok && c->aead_engine != WG_AEAD_AUTO)
		ok = add_string(g, "aead_engine",
				wg_aead_engine_name((enum wg_aead_engine)c->aead_engine));
	if (ok && c->save_path[0])
		ok = add_string(g, "save_path", c->save_path);
	return ok && write_obfuscation(g, &c->obfs);
}

/* A port's masquerade (docs/nat.md): `true` when it takes every default, else a group. */
static bool write_masq(config_setting_t *port, const struct wg_config_masq *m)
{
	bool range = m->port_min != 0 && (m->port_min != 1024 || m->port_max != 65535);
	config_setting_t *g, *a;
	char text[WG_ADDR_STRLEN];
	bool ok;

	if (!m->enabled && !m->n_sources && !m->n_pool && !range)
		return true;
	if (m->enabled && !m->n_sources && !m->n_pool && !range)
		return add_bool(port, "masquerade", true);
	g = add(port, "masquerade", CONFIG_TYPE_GROUP);
	ok = g && (m->enabled || add_bool(g, "enabled", false));
	if (ok && m->n_sources)
		ok = add_prefixes(g, "sources", m->sources, m->n_sources);
	if (ok && m->n_pool) {
		a = add(g, "pool", CONFIG_TYPE_ARRAY);
		for (unsigned i = 0; a && ok && i < m->n_pool; i++) {
			config_setting_t *e = config_setting_add(a, NULL, CONFIG_TYPE_STRING);

			wg_ip_format(text, &m->pool[i]);
			ok = e && config_setting_set_string(e, text);
		}
		ok = ok && a;
	}
	if (ok && range) {
		snprintf(text, sizeof(text), "%u-%u", (unsigned)m->port_min, (unsigned)m->port_max);
		ok = add_string(g, "port_range", text);
	}
	return ok;
}

/* The masquerade's bounds and timeouts, those that are not the defaults. */
static bool write_nat(config_setting_t *root, const struct wg_config_nat *n)
{
	struct wg_config_nat d = { 0 };
	config_setting_t *g, *t;
	bool ok;

	wg_config_nat_defaults(&d);
	if (n->max_flows == 0 || memcmp(n, &d, sizeof(d)) == 0)
		return true;
	g = add(root, "nat", CONFIG_TYPE_GROUP);
	ok = g && add_int(g, "max_flows", n->max_flows) &&
	     add_int(g, "max_flows_per_source", n->max_flows_per_source);
	t = ok ? add(g, "timeouts", CONFIG_TYPE_GROUP) : NULL;
	return t && add_int(t, "tcp_established", n->tcp_established) &&
	       add_int(t, "tcp_transitory", n->tcp_transitory) && add_int(t, "udp", n->udp) &&
	       add_int(t, "icmp", n->icmp);
}

static bool write_rule_sets(config_setting_t *root, const struct wg_config *c)
{
	config_setting_t *list;
	char text[WG_DSTRULE_STRLEN];

	if (c->n_rule_sets == 0)
		return true;
	list = add(root, "destination_rules", CONFIG_TYPE_LIST);
	for (unsigned i = 0; list && i < c->n_rule_sets; i++) {
		const struct wg_config_rule_set *rs = &c->rule_sets[i];
		config_setting_t *g = config_setting_add(list, NULL, CONFIG_TYPE_GROUP), *a;

		if (g == NULL || !add_string(g, "name", rs->name) ||
		    (a = add(g, "allow", CONFIG_TYPE_ARRAY)) == NULL)
			return false;
		for (unsigned k = 0; k < rs->n_rules; k++) {
			config_setting_t *e = config_setting_add(a, NULL, CONFIG_TYPE_STRING);

			wg_dstrule_format(text, &rs->rules[k]);
			if (e == NULL || !config_setting_set_string(e, text))
				return false;
		}
	}
	return list != NULL;
}

static bool write_port(config_setting_t *list, const struct wg_config_port *p)
{
	config_setting_t *g = config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
	bool ok = g && add_string(g, "name", p->name) && add_string(g, "device", p->device) &&
		  add_string(g, "role", p->role == WG_ROLE_BOTH ? "both" :
			     p->role == WG_ROLE_WAN ? "wan" : "lan");
	char ip[WG_ADDR_STRLEN];

	if (ok && p->n_addrs)
		ok = add_prefixes(g, "addresses", p->addrs, p->n_addrs);
	if (ok && p->gateway4.family) {
		wg_ip_format(ip, &p->gateway4);
		ok = add_string(g, "gateway4", ip);
	}
	if (ok && p->gateway6.family) {
		wg_ip_format(ip, &p->gateway6);
		ok = add_string(g, "gateway6", ip);
	}
	if (ok && p->mtu != 1500)
		ok = add_int(g, "mtu", p->mtu);
	return ok && write_masq(g, &p->masq);
}

static bool write_peer(config_setting_t *list, const struct wg_config *c,
		       const struct wg_config_peer *p, struct secrets *sec)
{
	config_setting_t *g = config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
	bool ok = g && add_key(g, "public_key", p->public_key, sec);

	if (ok && p->has_preshared_key)
		ok = add_key(g, "preshared_key", p->preshared_key, sec);
	if (ok && p->endpoint.ip.family)
		ok = add_endpoint(g, "endpoint", &p->endpoint);
	if (ok && p->n_allowed_ips)
		ok = add_prefixes(g, "allowed_ips", p->allowed_ips, p->n_allowed_ips);
	if (ok && p->persistent_keepalive)
		ok = add_int(g, "persistent_keepalive", p->persistent_keepalive);
	if (ok && p->disabled)
		ok = add_bool(g, "enabled", false);
	if (ok && p->rule_set && p->rule_set <= c->n_rule_sets)
		ok = add_string(g, "destination_rules", c->rule_sets[p->rule_set - 1].name);
	return ok;
}

static bool write_http(config_setting_t *root, const struct wg_config_http *h,
		       struct secrets *sec)
{
	config_setting_t *g, *a;
	bool ok;

	if (!h->enabled)
		return true;
	g = add(root, "http", CONFIG_TYPE_GROUP);
	ok = g && add_endpoint(g, "listen", &h->listen);
	if (ok && h->n_tokens) {
		a = add(g, "tokens", CONFIG_TYPE_ARRAY);
		for (unsigned i = 0; a && ok && i < h->n_tokens; i++) {
			config_setting_t *e = config_setting_add(a, NULL, CONFIG_TYPE_STRING);

			ok = e && config_setting_set_string(e, h->tokens[i]);
			if (ok)
				remember(sec, e);
		}
		ok = ok && a;
	}
	if (ok && h->tokens_file[0])
		ok = add_string(g, "tokens_file", h->tokens_file);
	if (ok && h->tls_certificate[0])
		ok = add_string(g, "tls_certificate", h->tls_certificate) &&
		     add_string(g, "tls_key", h->tls_key);
	if (ok && h->tls_client_ca[0])
		ok = add_string(g, "tls_client_ca", h->tls_client_ca);
	if (ok && h->max_request_bytes != 16u << 20)
		ok = add_int(g, "max_request_bytes", h->max_request_bytes);
	if (ok && h->max_connections != 64)
		ok = add_int(g, "max_connections", h->max_connections);
	if (ok && h->idle_timeout != 10)
		ok = add_int(g, "idle_timeout", h->idle_timeout);
	if (ok && !h->metrics)
		ok = add_bool(g, "metrics", false);
	return ok;
}

static bool write_extras(config_setting_t *root, const struct wg_config *c)
{
	config_setting_t *g;
	bool ok = true;

	if (c->metrics.has_listen || !c->metrics.per_peer) {
		g = add(root, "metrics", CONFIG_TYPE_GROUP);
		ok = g != NULL;
		if (ok && c->metrics.has_listen)
			ok = add_endpoint(g, "listen", &c->metrics.listen);
		if (ok && !c->metrics.per_peer)
			ok = add_bool(g, "per_peer", false);
	}
	if (ok && (c->events.ring_size != 4096 || c->events.quiet_margin != 30)) {
		g = add(root, "events", CONFIG_TYPE_GROUP);
		ok = g && add_int(g, "ring_size", c->events.ring_size) &&
		     add_int(g, "quiet_margin", c->events.quiet_margin);
	}
	return ok;
}

static bool build(config_t *cfg, const struct wg_config *c, struct secrets *sec)
{
	config_setting_t *root = config_root_setting(cfg), *list;
	bool ok = write_interface(root, c, sec);

	list = ok ? add(root, "ports", CONFIG_TYPE_LIST) : NULL;
	ok = list != NULL;
	for (unsigned i = 0; ok && i < c->n_ports; i++)
		ok = write_port(list, &c->ports[i]);
	list = ok ? add(root, "peers", CONFIG_TYPE_LIST) : NULL;
	ok = list != NULL;
	for (unsigned i = 0; ok && i < c->n_peers; i++)
		ok = write_peer(list, c, &c->peers[i], sec);
	ok = ok && write_http(root, &c->http, sec) && write_extras(root, c) &&
	     write_nat(root, &c->nat) && write_rule_sets(root, c);
	return ok && !sec->oom;
}

/* The file through a stream, flushed and synced; 0 or an errno. */
static int write_stream(config_t *cfg, int fd)
{
	FILE *f = fdopen(fd, "w");
	int rc = 0;

	if (f == NULL)
		return errno;
	fputs("# wgdp configuration, written by SaveConfig (docs/operations.md)\n", f);
	config_write(cfg, f);
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
		rc = errno ? errno : EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = errno;
	return rc;
}

static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int wg_config_save(const struct wg_config *c, const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	struct secrets sec = { 0 };
	config_t cfg;
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	config_init(&cfg);
	config_set_tab_width(&cfg, 2);
	if (!build(&cfg, c, &sec)) {
		wipe_secrets(&sec);
		config_destroy(&cfg);
		snprintf(err, errlen, "out of memory building the configuration");
		return -1;
	}
	fd = mkstemp(tmp);   /* mode 0600: the file holds keys */
	rc = fd < 0 ? errno : write_stream(&cfg, fd);
	wipe_secrets(&sec);
	config_destroy(&cfg);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = errno;
	if (rc != 0) {
		if (fd >= 0)
			unlink(tmp);
		snprintf(err, errlen, "%s: %s", fd < 0 ? tmp : path, strerror(rc));
		return -1;
	}
	sync_dir(path);
	return 0;
}
