/* SPDX-License-Identifier: MIT */
/*
 * Destination rules in the gateway (gw_nat.h, docs/nat.md): the named sets the control
 * lcore keeps, and one rte_acl classifier per address family over all of them that the
 * workers ask, keyed by (protocol, set, destination, destination port).
 *
 * Lock-free for the workers the way the allowed-IPs tables are: a change builds new
 * classifiers on the control lcore (rte_acl contexts are read-only once built), publishes
 * them by one atomic store and retires the old ones through RCU. A peer's set is one
 * 64-bit word per peer id, stamped with the generation of the slot, so a removed peer's
 * successor in the slot starts unrestricted without anyone clearing the word.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_malloc.h>

#include "gw_nat.h"

#define MAX_SETS      WG_CONFIG_MAX_RULE_SETS
#define MAX_ALL_RULES 65536

/* The classifiers' input: network order, a 1-byte first field, then groups of 4 bytes. */
struct key4 {
	uint8_t proto, pad[3];
	uint32_t set;
	uint32_t dst;
	uint16_t dport, zero;
};

struct key6 {
	uint8_t proto, pad[3];
	uint32_t set;
	uint32_t dst[4];
	uint16_t dport, zero;
};

#define FIELDS4 5
#define FIELDS6 8
RTE_ACL_RULE_DEF(rule4, FIELDS4);
RTE_ACL_RULE_DEF(rule6, FIELDS6);

struct rule_set {
	char name[WG_CONFIG_RULES_NAME_LEN];
	struct wg_dstrule *rules;
	size_t n;
	bool used;
};

struct wg_gw_rules {
	struct rule_set sets[MAX_SETS];
	unsigned builds;              /* rte_acl contexts need names unique in the process */
};

/* [pub] */
struct wg_rules_pub {
	struct rte_acl_ctx *v4, *v6;  /* NULL: no rule of that family */
};

static _Atomic unsigned acl_names;

static int refuse(char *why, size_t whylen, int err, const char *text)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", text);
	return err;
}

/* ---- building the classifiers ---- */

static void defs4(struct rte_acl_config *c)
{
	const struct rte_acl_field_def d[FIELDS4] = {
		{ RTE_ACL_FIELD_TYPE_BITMASK, 1, 0, 0, offsetof(struct key4, proto) },
		{ RTE_ACL_FIELD_TYPE_BITMASK, 4, 1, 1, offsetof(struct key4, set) },
		{ RTE_ACL_FIELD_TYPE_MASK, 4, 2, 2, offsetof(struct key4, dst) },
		{ RTE_ACL_FIELD_TYPE_RANGE, 2, 3, 3, offsetof(struct key4, dport) },
		{ RTE_ACL_FIELD_TYPE_RANGE, 2, 4, 3, offsetof(struct key4, zero) },
	};

	memset(c, 0, sizeof(*c));
	c->num_categories = 1;
	c->num_fields = FIELDS4;
	memcpy(c->defs, d, sizeof(d));
}

static void defs6(struct rte_acl_config *c)
{
	memset(c, 0, sizeof(*c));
	c->num_categories = 1;
	c->num_fields = FIELDS6;
	c->defs[0] = (struct rte_acl_field_def){ RTE_ACL_FIELD_TYPE_BITMASK, 1, 0, 0,
						 offsetof(struct key6, proto) };
	c->defs[1] = (struct rte_acl_field_def){ RTE_ACL_FIELD_TYPE_BITMASK, 4, 1, 1,
						 offsetof(struct key6, set) };
	for (uint8_t i = 0; i < 4; i++)
		c->defs[2 + i] = (struct rte_acl_field_def){ RTE_ACL_FIELD_TYPE_MASK, 4,
			(uint8_t)(2 + i), (uint8_t)(2 + i),
			(uint32_t)(offsetof(struct key6, dst) + 4 * i) };
	c->defs[6] = (struct rte_acl_field_def){ RTE_ACL_FIELD_TYPE_RANGE, 2, 6, 6,
						 offsetof(struct key6, dport) };
	c->defs[7] = (struct rte_acl_field_def){ RTE_ACL_FIELD_TYPE_RANGE, 2, 7, 6,
						 offsetof(struct key6, zero) };
}

static uint32_t word(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* The fields every rule shares: protocol, set, ports (at index `ports`). */
static void common(struct rte_acl_field *f, const struct wg_dstrule *r, unsigned set,
		   unsigned ports)
{
	bool any = r->proto == WG_DSTRULE_ANY_PROTO;

	f[0].value.u8 = any ? 0 : (uint8_t)r->proto;
	f[0].mask_range.u8 = any ? 0 : 0xff;
	f[1].value.u32 = set;
	f[1].mask_range.u32 = UINT32_MAX;
	f[ports].value.u16 = r->port_min;
	f[ports].mask_range.u16 = r->port_max;
	f[ports + 1].value.u16 = 0;
	f[ports + 1].mask_range.u16 = UINT16_MAX;
}

static struct rte_acl_ctx *make_ctx(unsigned family, uint32_t n, unsigned seq)
{
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_param prm = { .name = name, .socket_id = SOCKET_ID_ANY,
		.rule_size = RTE_ACL_RULE_SZ(family == WG_AF_INET ? FIELDS4 : FIELDS6),
		.max_rule_num = n };

	snprintf(name, sizeof(name), "wgacl%u_%u", seq % 1000000, family);
	return rte_acl_create(&prm);
}

static int add_rule(struct rte_acl_ctx *ctx, const struct wg_dstrule *r, unsigned set)
{
	const uint8_t *a = r->dst.ip.addr;

	if (r->dst.ip.family == WG_AF_INET) {
		struct rule4 x;

		memset(&x, 0, sizeof(x));
		x.data = (struct rte_acl_rule_data){ .category_mask = 1, .priority = 1,
						     .userdata = 1 };
		common(x.field, r, set, 3);
		x.field[2].value.u32 = word(a);
		x.field[2].mask_range.u32 = r->dst.len;
		return rte_acl_add_rules(ctx, (const struct rte_acl_rule *)&x, 1);
	} else {
		struct rule6 x;

		memset(&x, 0, sizeof(x));
		x.data = (struct rte_acl_rule_data){ .category_mask = 1, .priority = 1,
						     .userdata = 1 };
		common(x.field, r, set, 6);
		for (unsigned i = 0; i < 4; i++) {
			int len = (int)r->dst.len - 32 * (int)i;

			x.field[2 + i].value.u32 = word(a + 4 * i);
			x.field[2 + i].mask_range.u32 = len <= 0 ? 0 : len >= 32 ? 32 : (uint32_t)len;
		}
		return rte_acl_add_rules(ctx, (const struct rte_acl_rule *)&x, 1);
	}
}

/* One family's classifier over every set, or NULL (none of its rules, or out of memory:
 * *err then). */
static struct rte_acl_ctx *build_family(const struct wg_gw_rules *rs, unsigned family,
					unsigned seq, int *err)
{
	struct rte_acl_config cfg;
	struct rte_acl_ctx *ctx;
	uint32_t n = 0;

	for (unsigned s = 0; s < MAX_SETS; s++)
		for (size_t i = 0; rs->sets[s].used && i < rs->sets[s].n; i++)
			n += rs->sets[s].rules[i].dst.ip.family == family;
	if (n == 0)
		return NULL;
	ctx = make_ctx(family, n, seq);
	if (ctx == NULL) {
		*err = ENOMEM;
		return NULL;
	}
	for (unsigned s = 0; s < MAX_SETS; s++)
		for (size_t i = 0; rs->sets[s].used && i < rs->sets[s].n; i++)
			if (rs->sets[s].rules[i].dst.ip.family == family &&
			    add_rule(ctx, &rs->sets[s].rules[i], s) != 0)
				*err = ENOMEM;
	if (family == WG_AF_INET)
		defs4(&cfg);
	else
		defs6(&cfg);
	if (*err || rte_acl_build(ctx, &cfg) != 0) {
		*err = ENOMEM;
		rte_acl_free(ctx);
		return NULL;
	}
	return ctx;
}

static void free_pub(struct wg_gw *gw, void *obj)
{
	struct wg_rules_pub *p = obj;

	(void)gw;
	rte_acl_free(p->v4);
	rte_acl_free(p->v6);
	rte_free(p);
}

/* New classifiers for what the sets say now, published; the old ones retired. */
static int publish(struct wg_gw *gw, char *why, size_t whylen)
{
	struct wg_rules_pub *p = rte_zmalloc("wg_rules_pub", sizeof(*p), 0), *old;
	unsigned seq = atomic_fetch_add(&acl_names, 2);
	int err = 0;

	if (p == NULL)
		return refuse(why, whylen, ENOMEM, "out of memory");
	p->v4 = build_family(gw->rules, WG_AF_INET, seq, &err);
	if (err == 0)
		p->v6 = build_family(gw->rules, WG_AF_INET6, seq + 1, &err);
	if (err) {
		free_pub(gw, p);
		return refuse(why, whylen, ENOMEM, "out of memory building the rules' classifier");
	}
	old = atomic_exchange_explicit(&gw->rules_pub, p, memory_order_release);
	if (old)
		wg_gw_retire(gw, old, free_pub);
	return 0;
}

/* ---- the workers' question ---- */

bool wg_gw_dst_check(struct wg_worker *w, _Atomic uint64_t *peer_rules,
		     const struct wg_peer *peer, const struct wg_pkt_info *pi)
{
	uint64_t v = atomic_load_explicit(&peer_rules[peer->id], memory_order_acquire);
	const struct wg_rules_pub *pub;
	uint32_t res = 0, set;
	const uint8_t *data;

	if ((uint32_t)v == 0 ||
	    (uint32_t)(v >> 32) != atomic_load_explicit(&peer->gen, memory_order_relaxed))
		return true;
	pub = atomic_load_explicit(&w->gw->rules_pub, memory_order_acquire);
	set = rte_cpu_to_be_32((uint32_t)v - 1);
	if (pi->family == WG_AF_INET && pub && pub->v4) {
		struct key4 k = { .proto = pi->proto, .set = set,
				  .dport = rte_cpu_to_be_16(pi->dport) };

		memcpy(&k.dst, pi->dst.addr, 4);
		data = (const uint8_t *)&k;
		rte_acl_classify(pub->v4, &data, &res, 1, 1);
	} else if (pi->family == WG_AF_INET6 && pub && pub->v6) {
		struct key6 k = { .proto = pi->proto, .set = set,
				  .dport = rte_cpu_to_be_16(pi->dport) };

		memcpy(k.dst, pi->dst.addr, 16);
		data = (const uint8_t *)&k;
		rte_acl_classify(pub->v6, &data, &res, 1, 1);
	}
	return res != 0;
}

/* ---- the control lcore ---- */

static int find(const struct wg_gw_rules *rs, const char *name)
{
	for (int s = 0; s < MAX_SETS; s++)
		if (rs->sets[s].used && strcmp(rs->sets[s].name, name) == 0)
			return s;
	return -1;
}

static unsigned users(struct wg_gw *gw, unsigned set)
{
	_Atomic uint64_t *pr = atomic_load(&gw->peer_rules);
	unsigned n = 0;

	for (uint32_t id = 0; pr && id < gw->max_peers; id++) {
		uint64_t v = atomic_load_explicit(&pr[id], memory_order_relaxed);

		n += (uint32_t)v == set + 1 && atomic_load(&gw->peers[id].live) &&
		     (uint32_t)(v >> 32) == atomic_load(&gw->peers[id].gen);
	}
	return n;
}

static size_t total_rules(const struct wg_gw_rules *rs, int except)
{
	size_t n = 0;

	for (int s = 0; s < MAX_SETS; s++)
		if (rs->sets[s].used && s != except)
			n += rs->sets[s].n;
	return n;
}

static int ensure(struct wg_gw *gw)
{
	if (gw->rules == NULL)
		gw->rules = calloc(1, sizeof(*gw->rules));
	return gw->rules ? 0 : ENOMEM;
}

int wg_gw_rules_set(struct wg_gw *gw, const char *name, const struct wg_dstrule *rules,
		    size_t n, bool validate_only, char *why, size_t whylen)
{
	struct rule_set before;
	struct wg_dstrule *copy;
	int s, rc;

	if (!wg_config_rules_name_ok(name))
		return refuse(why, whylen, EINVAL, "a rule set's name is 1..31 characters of "
			      "A-Z a-z 0-9 _ . -");
	if (n > WG_CONFIG_MAX_RULES)
		return refuse(why, whylen, EINVAL, "too many rules in one set (at most 4096)");
	if (ensure(gw))
		return refuse(why, whylen, ENOMEM, "out of memory");
	s = find(gw->rules, name);
	if (total_rules(gw->rules, s) + n > MAX_ALL_RULES)
		return refuse(why, whylen, ENOSPC, "too many rules over all sets (at most 65536)");
	for (s = s >= 0 ? s : 0; s < MAX_SETS && gw->rules->sets[s].used &&
	     strcmp(gw->rules->sets[s].name, name) != 0; s++)
		;
	if (s == MAX_SETS)
		return refuse(why, whylen, ENOSPC, "too many rule sets (at most 256)");
	if (validate_only)
		return 0;
	copy = malloc((n ? n : 1) * sizeof(*copy));
	if (copy == NULL)
		return refuse(why, whylen, ENOMEM, "out of memory");
	memcpy(copy, rules, n * sizeof(*copy));
	for (size_t i = 0; i < n; i++)
		wg_prefix_mask(&copy[i].dst);
	before = gw->rules->sets[s];
	gw->rules->sets[s] = (struct rule_set){ .rules = copy, .n = n, .used = true };
	snprintf(gw->rules->sets[s].name, sizeof(gw->rules->sets[s].name), "%s", name);
	rc = publish(gw, why, whylen);
	if (rc) {
		free(copy);
		gw->rules->sets[s] = before;
		return rc;
	}
	if (before.used)
		free(before.rules);
	return 0;
}

int wg_gw_rules_remove(struct wg_gw *gw, const char *name, bool validate_only, char *why,
		       size_t whylen)
{
	int s = gw->rules ? find(gw->rules, name) : -1;
	unsigned n;
	struct rule_set before;
	int rc;

	if (s < 0)
		return refuse(why, whylen, ENOENT, "no such rule set");
	n = users(gw, (unsigned)s);
	if (n) {
		if (why && whylen)
			snprintf(why, whylen, "rule set is in use by %u peer%s", n, n == 1 ? "" : "s");
		return EBUSY;
	}
	if (validate_only)
		return 0;
	before = gw->rules->sets[s];
	gw->rules->sets[s].used = false;
	rc = publish(gw, why, whylen);
	if (rc) {
		gw->rules->sets[s] = before;
		return rc;
	}
	free(before.rules);
	return 0;
}

static _Atomic uint64_t *peer_words(struct wg_gw *gw)
{
	_Atomic uint64_t *pr = atomic_load(&gw->peer_rules);

	if (pr == NULL) {
		pr = rte_zmalloc("wg_peer_rules", gw->max_peers * sizeof(*pr), RTE_CACHE_LINE_SIZE);
		if (pr)
			atomic_store_explicit(&gw->peer_rules, pr, memory_order_release);
	}
	return pr;
}

int wg_gw_rules_assign(struct wg_gw *gw, struct wg_peer *peer, const char *name,
		       bool validate_only, char *why, size_t whylen)
{
	int s = name && gw->rules ? find(gw->rules, name) : -1;
	_Atomic uint64_t *pr;
	uint64_t gen;

	if (name && s < 0)
		return refuse(why, whylen, ENOENT, "no such rule set");
	if (validate_only)
		return 0;
	if (name == NULL && atomic_load(&gw->peer_rules) == NULL)
		return 0;
	pr = peer_words(gw);
	if (pr == NULL)
		return refuse(why, whylen, ENOMEM, "out of memory");
	gen = atomic_load(&peer->gen);
	atomic_store_explicit(&pr[peer->id], name ? gen << 32 | (uint32_t)(s + 1) : 0,
			      memory_order_release);
	return 0;
}

const char *wg_gw_rules_of(struct wg_gw *gw, const struct wg_peer *peer)
{
	_Atomic uint64_t *pr = atomic_load(&gw->peer_rules);
	uint64_t v = pr ? atomic_load(&pr[peer->id]) : 0;
	uint32_t s = (uint32_t)v;

	if (s == 0 || s > MAX_SETS || (uint32_t)(v >> 32) != atomic_load(&peer->gen) ||
	    gw->rules == NULL || !gw->rules->sets[s - 1].used)
		return NULL;
	return gw->rules->sets[s - 1].name;
}

bool wg_gw_rules_at(struct wg_gw *gw, unsigned i, const char **name,
		    const struct wg_dstrule **rules, size_t *n, unsigned *peers)
{
	unsigned seen = 0;

	for (unsigned s = 0; gw->rules && s < MAX_SETS; s++) {
		if (!gw->rules->sets[s].used || seen++ != i)
			continue;
		*name = gw->rules->sets[s].name;
		*rules = gw->rules->sets[s].rules;
		*n = gw->rules->sets[s].n;
		*peers = users(gw, s);
		return true;
	}
	return false;
}

int wg_gw_rules_init(struct wg_gw *gw, const struct wg_config *cfg, char *err, size_t errlen)
{
	for (unsigned i = 0; i < cfg->n_rule_sets; i++)
		if (wg_gw_rules_set(gw, cfg->rule_sets[i].name, cfg->rule_sets[i].rules,
				    cfg->rule_sets[i].n_rules, false, err, errlen) != 0)
			return -1;
	for (unsigned i = 0; i < cfg->n_peers; i++) {
		const struct wg_config_peer *cp = &cfg->peers[i];
		struct wg_peer *peer;

		if (cp->rule_set == 0 || cp->rule_set > cfg->n_rule_sets)
			continue;
		peer = wg_gw_peer_find(gw, cp->public_key);
		if (peer && wg_gw_rules_assign(gw, peer, cfg->rule_sets[cp->rule_set - 1].name,
					       false, err, errlen) != 0)
			return -1;
	}
	return 0;
}

void wg_gw_rules_destroy(struct wg_gw *gw)
{
	struct wg_rules_pub *p = atomic_exchange(&gw->rules_pub, NULL);

	if (p)
		free_pub(gw, p);
	rte_free(atomic_exchange(&gw->peer_rules, NULL));
	for (unsigned s = 0; gw->rules && s < MAX_SETS; s++)
		if (gw->rules->sets[s].used)
			free(gw->rules->sets[s].rules);
	free(gw->rules);
	gw->rules = NULL;
}
