/* SPDX-License-Identifier: MIT */
/*
 * A fake gateway behind lib/rpc's backend interface, for test_rpc, test_wgdpctl and
 * fuzz_rpc: an in-memory peer list, in creation order, that really applies wg_uapi_set
 * changes with the userspace API's meaning (create or update, update_only, remove,
 * replace_allowed_ips, allowed IPs added and removed in order), all or nothing: a change
 * is applied to a copy, which replaces the list only if every step succeeded. A capacity
 * (max_peers) gives the apply a way to fail. Statistics and lcores are canned.
 *
 * Header-only (static inline) so that each test program can include it once without
 * another build target.
 */
#ifndef WG_TEST_RPC_FAKE_H
#define WG_TEST_RPC_FAKE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wg_crypto.h"
#include "wg_rpc.h"

struct fake_peer {
	uint8_t key[WG_KEY_LEN];
	bool has_psk;
	uint8_t psk[WG_KEY_LEN];
	bool has_ep;
	struct wg_endpoint ep;
	uint16_t keepalive;
	struct wg_prefix *aips;
	size_t n_aips, cap_aips;
	uint64_t rx, tx, hs_sec;
	uint32_t hs_nsec;
};

struct fake_list {
	struct fake_peer *p;
	size_t n, cap;
};

struct fake {
	struct fake_list list;
	size_t max_peers;               /* apply fails with ENOSPC past it */
	unsigned applies, validates;    /* calls of the hooks */
	unsigned device_fields;         /* sets that touched device fields (must stay 0) */
	bool has_key;
	uint8_t pub[WG_KEY_LEN];
	uint16_t port;
	uint32_t fwmark;
	bool fail_stats;
	struct wg_obfs obfs;            /* SetObfuscation's, checked as the gateway does */
	/* Masquerade and destination rules: what the hooks were last given. */
	unsigned nat_calls;             /* setter calls that changed something */
	struct wg_rpc_masq masq;
	struct wg_rpc_nat nat;
	unsigned n_flows;               /* fake flows listed: UDP 10.200.0.2:(1000+i) */
	char set_name[WG_CONFIG_RULES_NAME_LEN], peer_set[WG_CONFIG_RULES_NAME_LEN];
	size_t n_rules;
	struct wg_dstrule rules[8];
};

static inline void fake_peer_free(struct fake_peer *p)
{
	free(p->aips);
	memset(p, 0, sizeof(*p));
}

static inline void fake_list_free(struct fake_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		fake_peer_free(&l->p[i]);
	free(l->p);
	memset(l, 0, sizeof(*l));
}

static inline int fake_list_copy(struct fake_list *dst, const struct fake_list *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->p = calloc(src->n + 1, sizeof(*dst->p));
	if (dst->p == NULL)
		return ENOMEM;
	dst->cap = src->n + 1;
	for (size_t i = 0; i < src->n; i++, dst->n++) {
		dst->p[i] = src->p[i];
		dst->p[i].aips = malloc((src->p[i].n_aips + 1) * sizeof(struct wg_prefix));
		if (dst->p[i].aips == NULL)
			return ENOMEM;
		if (src->p[i].n_aips)
			memcpy(dst->p[i].aips, src->p[i].aips,
			       src->p[i].n_aips * sizeof(struct wg_prefix));
		dst->p[i].cap_aips = src->p[i].n_aips + 1;
	}
	return 0;
}

static inline struct fake_peer *fake_find(struct fake_list *l, const uint8_t key[WG_KEY_LEN])
{
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(l->p[i].key, key, WG_KEY_LEN) == 0)
			return &l->p[i];
	return NULL;
}

static inline bool same_prefix(const struct wg_prefix *a, const struct wg_prefix *b)
{
	return a->len == b->len && wg_ip_equal(&a->ip, &b->ip);
}

static inline int fake_aip(struct fake_peer *p, const struct wg_uapi_aip *a)
{
	for (size_t i = 0; i < p->n_aips; i++) {
		if (!same_prefix(&p->aips[i], &a->prefix))
			continue;
		if (a->remove)
			p->aips[i] = p->aips[--p->n_aips];
		return 0;
	}
	if (a->remove)
		return 0;
	if (p->n_aips == p->cap_aips) {
		size_t cap = p->cap_aips ? 2 * p->cap_aips : 4;
		struct wg_prefix *n = realloc(p->aips, cap * sizeof(*n));

		if (n == NULL)
			return ENOMEM;
		p->aips = n;
		p->cap_aips = cap;
	}
	p->aips[p->n_aips++] = a->prefix;
	return 0;
}

static inline struct fake_peer *fake_create(struct fake *f, struct fake_list *l,
					    const uint8_t key[WG_KEY_LEN])
{
	if (l->n >= f->max_peers)
		return NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct fake_peer *n = realloc(l->p, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		l->p = n;
		l->cap = cap;
	}
	memset(&l->p[l->n], 0, sizeof(l->p[0]));
	memcpy(l->p[l->n].key, key, WG_KEY_LEN);
	return &l->p[l->n++];
}

static inline void fake_remove(struct fake_list *l, struct fake_peer *p)
{
	size_t i = (size_t)(p - l->p);

	fake_peer_free(p);
	memmove(&l->p[i], &l->p[i + 1], (l->n - i - 1) * sizeof(*p));
	l->n--;
}

static inline int fake_apply_peer(struct fake *f, struct fake_list *l,
				  const struct wg_uapi_peer *u, char *why, size_t whylen)
{
	struct fake_peer *p = fake_find(l, u->public_key);

	if (u->remove) {
		if (p)
			fake_remove(l, p);
		return 0;
	}
	if (p == NULL && u->update_only)
		return 0;
	if (p == NULL && (p = fake_create(f, l, u->public_key)) == NULL) {
		snprintf(why, whylen, "peer table full (%zu peers)", f->max_peers);
		return ENOSPC;
	}
	if (u->has_preshared_key) {
		p->has_psk = !wg_is_zero(u->preshared_key, WG_KEY_LEN);
		memcpy(p->psk, u->preshared_key, WG_KEY_LEN);
	}
	if (u->has_endpoint) {
		p->has_ep = true;
		p->ep = u->endpoint;
	}
	if (u->has_keepalive)
		p->keepalive = u->keepalive;
	if (u->replace_allowed_ips)
		p->n_aips = 0;
	for (size_t i = 0; i < u->n_aips; i++)
		if (fake_aip(p, &u->aips[i]))
			return ENOMEM;
	return 0;
}

/* Apply s to a copy of the list; the copy replaces it only when keep and all went well. */
static inline int fake_change(struct fake *f, const struct wg_uapi_set *s, bool keep,
			      char *why, size_t whylen)
{
	struct fake_list copy;
	int rc = fake_list_copy(&copy, &f->list);

	if (s->has_private_key || s->has_listen_port || s->has_fwmark || s->replace_peers)
		f->device_fields++;
	if (s->obfs_has) {
		struct wg_obfs o;
		char rule[96];

		wg_uapi_obfs_merge(&o, &f->obfs, s);
		if (wg_obfs_check(&o, 1420, rule, sizeof(rule)) != 0) {
			snprintf(why, whylen, "obfuscation: %s", rule);
			fake_list_free(&copy);
			return EINVAL;
		}
		if (keep)
			f->obfs = o;
	}
	for (size_t i = 0; i < s->n_peers && rc == 0; i++)
		rc = fake_apply_peer(f, &copy, &s->peers[i], why, whylen);
	if (rc == 0 && keep) {
		fake_list_free(&f->list);
		f->list = copy;
	} else {
		fake_list_free(&copy);
	}
	return rc;
}

static inline int fake_apply(void *ctx, const struct wg_uapi_set *s, char *why, size_t whylen)
{
	struct fake *f = ctx;

	f->applies++;
	return fake_change(f, s, true, why, whylen);
}

static inline int fake_validate(void *ctx, const struct wg_uapi_set *s, char *why,
				size_t whylen)
{
	struct fake *f = ctx;

	f->validates++;
	return fake_change(f, s, false, why, whylen);
}

static inline void fake_device(void *ctx, struct wg_rpc_device *d)
{
	struct fake *f = ctx;

	snprintf(d->name, sizeof(d->name), "wgdp0");
	d->has_public_key = f->has_key;
	memcpy(d->public_key, f->pub, WG_KEY_LEN);
	d->listen_port = f->port;
	d->fwmark = f->fwmark;
	d->n_peers = f->list.n;
	d->obfs = f->obfs;
}

static inline void fake_info(const struct fake_peer *p, struct wg_uapi_peer_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	memcpy(pi->public_key, p->key, WG_KEY_LEN);
	/* Filled as the gateway fills it for the `wg` socket: the module must not show it. */
	pi->has_preshared_key = p->has_psk;
	memcpy(pi->preshared_key, p->psk, WG_KEY_LEN);
	pi->has_endpoint = p->has_ep;
	pi->endpoint = p->ep;
	pi->last_handshake_sec = p->hs_sec;
	pi->last_handshake_nsec = p->hs_nsec;
	pi->rx_bytes = p->rx;
	pi->tx_bytes = p->tx;
	pi->keepalive = p->keepalive;
	pi->allowed_ips = p->aips;
	pi->n_allowed_ips = p->n_aips;
}

static inline int fake_peer_at(void *ctx, uint64_t index, struct wg_uapi_peer_info *pi)
{
	struct fake *f = ctx;

	if (index >= f->list.n)
		return ENOENT;
	fake_info(&f->list.p[index], pi);
	return 0;
}

static inline int fake_peer_get(void *ctx, const uint8_t key[WG_KEY_LEN],
				struct wg_uapi_peer_info *pi)
{
	struct fake *f = ctx;
	struct fake_peer *p = fake_find(&f->list, key);

	if (p == NULL)
		return ENOENT;
	fake_info(p, pi);
	return 0;
}

/* Canned counters in the shape lib/gw/ctl/rpc_srv.c gives them: every drop reason by name,
 * zero or not (here a shortened list of reasons). */
static inline json_t *fake_drops(uint64_t base)
{
	static const char *const drops[] = { "BAD_FRAME", "NOT_FOR_US", "UNKNOWN_INDEX",
					     "REPLAY", "DECRYPT", "NO_ROUTE" };
	json_t *d = json_object();

	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		json_object_set_new(d, drops[i], json_integer((json_int_t)(base * i)));
	return d;
}

static inline json_t *fake_worker(const char *role, int lcore, uint64_t base)
{
	return json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:o}", "role", role, "lcore", lcore,
			 "rx_packets", (json_int_t)(1000 * base), "rx_bytes",
			 (json_int_t)(1200000 * base), "tx_packets", (json_int_t)(990 * base),
			 "tx_bytes", (json_int_t)(1180000 * base), "drops", fake_drops(base));
}

static inline int fake_stats(void *ctx, json_t *result, char *why, size_t whylen)
{
	struct fake *f = ctx;

	if (f->fail_stats) {
		snprintf(why, whylen, "statistics are being reset");
		return EBUSY;
	}
	json_object_set_new(result, "rx_packets", json_integer(2000));
	json_object_set_new(result, "tx_packets", json_integer(1980));
	json_object_set_new(result, "peers", json_integer((json_int_t)f->list.n));
	json_object_set_new(result, "drops", fake_drops(2));
	json_object_set_new(result, "workers",
			    json_pack("[o, o, o]", fake_worker("worker", 1, 1),
				      fake_worker("worker", 2, 1), fake_worker("control", 0, 0)));
	json_object_set_new(result, "ports",
			    json_pack("[{s:s, s:i, s:s, s:I, s:I}]", "name", "net_tap0",
				      "dpdk_port", 0, "role", "both", "ipackets", (json_int_t)2000,
				      "opackets", (json_int_t)1980));
	return 0;
}

static inline int fake_lcores(void *ctx, json_t *result, char *why, size_t whylen)
{
	(void)ctx;
	(void)why;
	(void)whylen;
	json_object_set_new(result, "single_lcore", json_false());
	json_object_set_new(result, "lcores",
			    json_pack("[{s:i, s:s, s:i}, {s:i, s:s, s:i}, {s:i, s:s}]",
				      "lcore", 1, "role", "worker", "queue", 0,
				      "lcore", 2, "role", "worker", "queue", 1,
				      "lcore", 0, "role", "control"));
	return 0;
}

static inline int fake_set_masq(void *ctx, const struct wg_rpc_masq *m, bool validate_only,
				char *why, size_t whylen)
{
	struct fake *f = ctx;

	if (strcmp(m->port, "lan") != 0) {
		snprintf(why, whylen, "no port named '%s'", m->port);
		return ENOENT;
	}
	if (!validate_only) {
		f->masq = *m;
		f->nat_calls++;
	}
	return 0;
}

static inline int fake_set_nat(void *ctx, const struct wg_rpc_nat *n, bool validate_only,
			       char *why, size_t whylen)
{
	struct fake *f = ctx;

	(void)why;
	(void)whylen;
	if (!validate_only) {
		f->nat = *n;
		f->nat_calls++;
	}
	return 0;
}

static inline int fake_flow_next(void *ctx, uint64_t *pos, struct wg_rpc_flow *fl)
{
	struct fake *f = ctx;

	if (*pos >= f->n_flows)
		return ENOENT;
	memset(fl, 0, sizeof(*fl));
	fl->proto = 17;
	fl->state = "active";
	snprintf(fl->port, sizeof(fl->port), "lan");
	wg_endpoint_parse(&fl->inside, "10.200.0.2:1000", 15);
	fl->inside.port = (uint16_t)(1000 + *pos);
	wg_endpoint_parse(&fl->outside, "10.60.0.1:40000", 15);
	fl->outside.port = (uint16_t)(40000 + *pos);
	wg_endpoint_parse(&fl->remote, "10.60.0.2:53", 12);
	(*pos)++;
	return 0;
}

static inline uint64_t fake_n_flows(void *ctx)
{
	return ((struct fake *)ctx)->n_flows;
}

static inline int fake_rules(void *ctx, json_t *result, char *why, size_t whylen)
{
	struct fake *f = ctx;

	(void)why;
	(void)whylen;
	json_object_set_new(result, "rule_sets", f->set_name[0] ?
		json_pack("[{s:s, s:[], s:i}]", "name", f->set_name, "allow", "peers", 0) :
		json_array());
	return 0;
}

static inline int fake_peer_rules(void *ctx, const uint8_t key[WG_KEY_LEN], const char **name)
{
	struct fake *f = ctx;

	if (fake_find(&f->list, key) == NULL)
		return ENOENT;
	*name = f->peer_set[0] ? f->peer_set : NULL;
	return 0;
}

static inline int fake_set_rules(void *ctx, const char *name, const struct wg_dstrule *rules,
				 size_t n, bool validate_only, char *why, size_t whylen)
{
	struct fake *f = ctx;

	if (n > 8) {
		snprintf(why, whylen, "the fake holds 8 rules");
		return ENOSPC;
	}
	if (!validate_only) {
		snprintf(f->set_name, sizeof(f->set_name), "%s", name);
		memcpy(f->rules, rules, n * sizeof(*rules));
		f->n_rules = n;
		f->nat_calls++;
	}
	return 0;
}

static inline int fake_remove_rules(void *ctx, const char *name, bool validate_only, char *why,
				    size_t whylen)
{
	struct fake *f = ctx;

	if (strcmp(name, f->set_name) != 0) {
		snprintf(why, whylen, "no such rule set");
		return ENOENT;
	}
	if (!validate_only) {
		f->set_name[0] = '\0';
		f->nat_calls++;
	}
	return 0;
}

static inline int fake_set_peer_rules(void *ctx, const uint8_t key[WG_KEY_LEN], const char *name,
				      bool validate_only, char *why, size_t whylen)
{
	struct fake *f = ctx;

	if (fake_find(&f->list, key) == NULL || (name && strcmp(name, f->set_name) != 0)) {
		snprintf(why, whylen, "no such peer or rule set");
		return ENOENT;
	}
	if (!validate_only) {
		snprintf(f->peer_set, sizeof(f->peer_set), "%s", name ? name : "");
		f->nat_calls++;
	}
	return 0;
}

static inline void fake_init(struct fake *f, size_t max_peers)
{
	memset(f, 0, sizeof(*f));
	f->max_peers = max_peers;
	f->has_key = true;
	/* wg pubkey of the test private key used across the unit tests. */
	if (wg_key_from_base64(f->pub, "6gzng5w1XvqNPytYe4kdSFX3nGy6irAFzcU0H6ypQmc=", 44))
		abort();
	f->port = 51820;
}

static inline void fake_free(struct fake *f)
{
	fake_list_free(&f->list);
}

static inline struct wg_rpc_backend fake_backend(struct fake *f)
{
	return (struct wg_rpc_backend){
		.ctx = f, .device = fake_device, .peer_at = fake_peer_at,
		.peer_get = fake_peer_get, .apply = fake_apply, .validate = fake_validate,
		.stats = fake_stats, .lcores = fake_lcores,
		.set_masquerade = fake_set_masq, .set_nat = fake_set_nat,
		.flow_next = fake_flow_next, .n_flows = fake_n_flows, .rules = fake_rules,
		.peer_rules = fake_peer_rules, .set_rules = fake_set_rules,
		.remove_rules = fake_remove_rules, .set_peer_rules = fake_set_peer_rules,
	};
}

/* The whole state as text, to see that a refused request changed nothing. */
static inline char *fake_snapshot(const struct fake *f)
{
	char *s = NULL, hex[WG_KEY_HEX_LEN + 1], text[WG_ADDR_STRLEN];
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);

	if (m == NULL)
		abort();
	for (size_t i = 0; i < f->list.n; i++) {
		const struct fake_peer *p = &f->list.p[i];

		wg_key_to_hex(hex, p->key);
		fprintf(m, "%s psk=%d", hex, p->has_psk);
		wg_key_to_hex(hex, p->psk);
		wg_endpoint_format(text, &p->ep);
		fprintf(m, ":%s ep=%d:%s ka=%u", hex, p->has_ep, text, p->keepalive);
		for (size_t k = 0; k < p->n_aips; k++) {
			wg_prefix_format(text, &p->aips[k]);
			fprintf(m, " %s", text);
		}
		fputc('\n', m);
	}
	fprintf(m, "nat=%u\n", f->nat_calls);
	if (fclose(m) != 0)
		abort();
	return s;
}

#endif
