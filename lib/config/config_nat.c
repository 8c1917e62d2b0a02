/* SPDX-License-Identifier: MIT */
/*
 * The configuration of masquerade and destination rules (docs/nat.md, docs/configuration.md):
 * a port's `masquerade`, the top level's `nat` bounds and timeouts, the named sets of
 * `destination_rules` and the set a peer is under. The same all-or-nothing rules as the
 * rest of the file: every name checked, every refusal with its line.
 */
#include <stdlib.h>
#include <string.h>

#include "config_parse.h"

#define NAT_PORT_MIN_DEFAULT 1024
#define NAT_FLOWS_MIN        16
#define NAT_FLOWS_MAX        (1u << 24)
#define NAT_TIMEOUT_MAX      (30u * 24 * 3600)

static const char *const masq_keys[] = { "enabled", "sources", "pool", "port_range", NULL };
static const char *const nat_keys[] = { "max_flows", "max_flows_per_source", "timeouts", NULL };
static const char *const timeout_keys[] = { "tcp_established", "tcp_transitory", "udp", "icmp",
					    NULL };
static const char *const set_keys[] = { "name", "allow", NULL };

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

void wg_config_nat_defaults(struct wg_config_nat *n)
{
	if (n->max_flows == 0)
		n->max_flows = 65536;
	if (n->max_flows_per_source == 0)
		n->max_flows_per_source = n->max_flows < 4096 ? n->max_flows : 4096;
	if (n->tcp_established == 0)
		n->tcp_established = 7440;
	if (n->tcp_transitory == 0)
		n->tcp_transitory = 240;
	if (n->udp == 0)
		n->udp = 300;
	if (n->icmp == 0)
		n->icmp = 60;
}

bool wg_config_rules_name_ok(const char *v)
{
	size_t n = strnlen(v, WG_CONFIG_RULES_NAME_LEN);

	return n > 0 && n < WG_CONFIG_RULES_NAME_LEN && v[strspn(v, NAME_CHARS)] == '\0';
}

/* ---- masquerade ---- */

static int masq_sources(struct parse *p, const config_setting_t *g, struct wg_config_masq *m)
{
	const config_setting_t *a;
	char q[WG_CFG_QUOTE_LEN];
	int rc = wg_cfg_get_strings(p, g, "sources", &a);

	if (rc <= 0)
		return rc;
	for (int i = 0; i < config_setting_length(a); i++) {
		const config_setting_t *e = config_setting_get_elem(a, (unsigned)i);
		const char *v = config_setting_get_string(e);
		struct wg_prefix *pf = &m->sources[i];

		if (i >= WG_CONFIG_MAX_MASQ_SOURCES)
			return wg_cfg_fail(p, e, "too many masquerade sources (at most %d)",
					   WG_CONFIG_MAX_MASQ_SOURCES);
		if (wg_prefix_parse(pf, v, strlen(v), true) != 0 || pf->ip.family != WG_AF_INET)
			return wg_cfg_fail(p, e, "masquerade source '%s' is not an IPv4 prefix "
					   "(masquerade is IPv4 only)", wg_cfg_quote(q, v));
		wg_prefix_mask(pf);
		m->n_sources = (unsigned)i + 1;
	}
	return 1;
}

static bool port_has(const struct wg_config_port *port, const struct wg_ip *ip)
{
	for (unsigned i = 0; i < port->n_addrs; i++)
		if (wg_ip_equal(&port->addrs[i].ip, ip))
			return true;
	return false;
}

/* The pool's addresses are the port's own, so that it answers ARP for them. */
static int masq_pool(struct parse *p, const config_setting_t *g, struct wg_config_port *port)
{
	struct wg_config_masq *m = &port->masq;
	const config_setting_t *a;
	char q[WG_CFG_QUOTE_LEN];
	int rc = wg_cfg_get_strings(p, g, "pool", &a);

	if (rc <= 0)
		return rc;
	for (int i = 0; i < config_setting_length(a); i++) {
		const config_setting_t *e = config_setting_get_elem(a, (unsigned)i);
		const char *v = config_setting_get_string(e);
		struct wg_ip ip;

		if (i >= WG_CONFIG_MAX_MASQ_POOL)
			return wg_cfg_fail(p, e, "too many pool addresses (at most %d)",
					   WG_CONFIG_MAX_MASQ_POOL);
		if (wg_ip_parse(&ip, v, strlen(v)) != 0 || ip.family != WG_AF_INET)
			return wg_cfg_fail(p, e, "pool address '%s' is not an IPv4 address",
					   wg_cfg_quote(q, v));
		if (!port_has(port, &ip))
			return wg_cfg_fail(p, e, "pool address '%s' is not one of port '%s''s "
					   "addresses (add it there, so that the gateway answers "
					   "ARP for it)", wg_cfg_quote(q, v), port->name);
		for (unsigned j = 0; j < m->n_pool; j++)
			if (wg_ip_equal(&m->pool[j], &ip))
				return wg_cfg_fail(p, e, "pool address '%s' is given twice",
						   wg_cfg_quote(q, v));
		m->pool[m->n_pool++] = ip;
	}
	return 1;
}

static int masq_ports(struct parse *p, const config_setting_t *g, struct wg_config_masq *m)
{
	const config_setting_t *s;
	const char *v;
	char q[WG_CFG_QUOTE_LEN], *end;
	unsigned long lo, hi;
	int rc = wg_cfg_get_string(p, g, "port_range", &s, &v);

	if (rc <= 0)
		return rc;
	lo = strtoul(v, &end, 10);
	hi = *end == '-' ? strtoul(end + 1, &end, 10) : 0;
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || lo < 1 || hi > 65535 || hi < lo ||
	    !strchr(v, '-'))
		return wg_cfg_fail(p, s, "'port_range' must be \"LOW-HIGH\" within 1..65535, not "
				   "'%s'", wg_cfg_quote(q, v));
	m->port_min = (uint16_t)lo;
	m->port_max = (uint16_t)hi;
	return 1;
}

static bool has_ipv4(const struct wg_config_port *port)
{
	for (unsigned i = 0; i < port->n_addrs; i++)
		if (port->addrs[i].ip.family == WG_AF_INET)
			return true;
	return false;
}

int wg_cfg_parse_masq(struct parse *p, const config_setting_t *g, struct wg_config_port *port)
{
	const config_setting_t *s = config_setting_get_member(g, "masquerade");
	const config_setting_t *en;
	struct wg_config_masq *m = &port->masq;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
		m->enabled = config_setting_get_bool(s);
	} else if (config_setting_is_group(s)) {
		m->enabled = true;
		en = config_setting_get_member(s, "enabled");
		if (wg_cfg_check_known(p, s, "masquerade", masq_keys) < 0)
			return -1;
		if (en && config_setting_type(en) != CONFIG_TYPE_BOOL)
			return wg_cfg_fail(p, en, "'enabled' must be true or false");
		if (en)
			m->enabled = config_setting_get_bool(en);
		if (masq_sources(p, s, m) < 0 || masq_pool(p, s, port) < 0 || masq_ports(p, s, m) < 0)
			return -1;
	} else {
		return wg_cfg_fail(p, s, "'masquerade' must be true, false or a group { ... }");
	}
	if (!(port->role & WG_ROLE_LAN))
		return wg_cfg_fail(p, s, "masquerade is for what leaves a port for the LAN: port "
				   "'%s' has no \"lan\" role", port->name);
	if (m->n_pool == 0 && !has_ipv4(port))
		return wg_cfg_fail(p, s, "port '%s' has no IPv4 address to masquerade with",
				   port->name);
	if (m->port_min == 0) {
		m->port_min = NAT_PORT_MIN_DEFAULT;
		m->port_max = 65535;
	}
	return 1;
}

/* ---- the bounds and timeouts ---- */

static int get_u32(struct parse *p, const config_setting_t *g, const char *name,
		   long long min, long long max, uint32_t *out)
{
	long long v;
	int rc = wg_cfg_get_int(p, g, name, min, max, &v);

	if (rc == 1)
		*out = (uint32_t)v;
	return rc;
}

static int parse_bounds(struct parse *p, const config_setting_t *root)
{
	const config_setting_t *g = config_setting_get_member(root, "nat"), *t;
	struct wg_config_nat *n = &p->c->nat;
	int rc;

	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g))
		return wg_cfg_fail(p, g, "'nat' must be a group { ... }");
	if (wg_cfg_check_known(p, g, "nat", nat_keys) < 0 ||
	    get_u32(p, g, "max_flows", NAT_FLOWS_MIN, NAT_FLOWS_MAX, &n->max_flows) < 0)
		return -1;
	rc = get_u32(p, g, "max_flows_per_source", 1, n->max_flows, &n->max_flows_per_source);
	if (rc < 0)
		return -1;
	if (rc == 0 && n->max_flows_per_source > n->max_flows)
		n->max_flows_per_source = n->max_flows;
	t = config_setting_get_member(g, "timeouts");
	if (t == NULL)
		return 0;
	if (!config_setting_is_group(t))
		return wg_cfg_fail(p, t, "'timeouts' must be a group { ... }");
	if (wg_cfg_check_known(p, t, "timeouts", timeout_keys) < 0 ||
	    get_u32(p, t, "tcp_established", 1, NAT_TIMEOUT_MAX, &n->tcp_established) < 0 ||
	    get_u32(p, t, "tcp_transitory", 1, NAT_TIMEOUT_MAX, &n->tcp_transitory) < 0 ||
	    get_u32(p, t, "udp", 1, NAT_TIMEOUT_MAX, &n->udp) < 0 ||
	    get_u32(p, t, "icmp", 1, NAT_TIMEOUT_MAX, &n->icmp) < 0)
		return -1;
	return 0;
}

/* ---- destination rules ---- */

static int parse_allow(struct parse *p, const config_setting_t *g, struct wg_config_rule_set *rs)
{
	const config_setting_t *a;
	char q[WG_CFG_QUOTE_LEN], why[128];
	int n, rc = wg_cfg_get_strings(p, g, "allow", &a);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return wg_cfg_fail(p, g, "rule set '%s' without 'allow' (an empty [] allows "
				   "nothing)", rs->name);
	n = config_setting_length(a);
	if (n > WG_CONFIG_MAX_RULES)
		return wg_cfg_fail(p, a, "too many rules in set '%s' (at most %d)", rs->name,
				   WG_CONFIG_MAX_RULES);
	if (n == 0)
		return 0;
	rs->rules = calloc((size_t)n, sizeof(*rs->rules));
	if (rs->rules == NULL)
		return wg_cfg_fail(p, a, "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(a, (unsigned)i);
		const char *v = config_setting_get_string(e);

		if (wg_dstrule_parse(&rs->rules[i], v, strlen(v), why, sizeof(why)) != 0)
			return wg_cfg_fail(p, e, "rule '%s': %s", wg_cfg_quote(q, v), why);
		rs->n_rules = (unsigned)i + 1;
	}
	return 0;
}

static int parse_set(struct parse *p, const config_setting_t *g, unsigned i)
{
	struct wg_config_rule_set *rs = &p->c->rule_sets[i];
	const config_setting_t *s;
	const char *v;
	char q[WG_CFG_QUOTE_LEN];
	int rc;

	rs->line = (unsigned)config_setting_source_line(g);
	if (!config_setting_is_group(g))
		return wg_cfg_fail(p, g, "each rule set must be a group { name = ...; allow = "
				   "[ ... ]; }");
	if (wg_cfg_check_known(p, g, "rule set", set_keys) < 0)
		return -1;
	rc = wg_cfg_get_string(p, g, "name", &s, &v);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return wg_cfg_fail(p, g, "rule set without 'name'");
	if (!wg_config_rules_name_ok(v))
		return wg_cfg_fail(p, s, "rule set name '%s' must be 1..%d characters of A-Z a-z "
				   "0-9 _ . -", wg_cfg_quote(q, v), WG_CONFIG_RULES_NAME_LEN - 1);
	for (unsigned j = 0; j < i; j++)
		if (strcmp(p->c->rule_sets[j].name, v) == 0)
			return wg_cfg_fail(p, s, "rule set '%s' is already defined at line %u", v,
					   p->c->rule_sets[j].line);
	memcpy(rs->name, v, strlen(v) + 1);
	return parse_allow(p, g, rs);
}

static int parse_sets(struct parse *p, const config_setting_t *root)
{
	const config_setting_t *list = config_setting_get_member(root, "destination_rules");
	struct wg_config *c = p->c;
	int n;

	if (list == NULL)
		return 0;
	if (!config_setting_is_list(list) &&
	    !(config_setting_is_array(list) && config_setting_length(list) == 0))
		return wg_cfg_fail(p, list, "'destination_rules' must be a list ( { name = ...; "
				   "allow = [ ... ]; }, ... )");
	n = config_setting_length(list);
	if (n > WG_CONFIG_MAX_RULE_SETS)
		return wg_cfg_fail(p, list, "too many rule sets (at most %d)",
				   WG_CONFIG_MAX_RULE_SETS);
	if (n == 0)
		return 0;
	c->rule_sets = calloc((size_t)n, sizeof(*c->rule_sets));
	if (c->rule_sets == NULL)
		return wg_cfg_fail(p, list, "out of memory");
	c->n_rule_sets = (unsigned)n;
	for (int i = 0; i < n; i++)
		if (parse_set(p, config_setting_get_elem(list, (unsigned)i), (unsigned)i) < 0)
			return -1;
	return 0;
}

int wg_cfg_parse_nat(struct parse *p, const config_setting_t *root)
{
	return parse_bounds(p, root) < 0 || parse_sets(p, root) < 0 ? -1 : 0;
}

int wg_cfg_peer_rules(struct parse *p, const config_setting_t *g, struct wg_config_peer *peer)
{
	const config_setting_t *s;
	const char *v;
	char q[WG_CFG_QUOTE_LEN];
	int rc = wg_cfg_get_string(p, g, "destination_rules", &s, &v);

	if (rc <= 0)
		return rc;
	for (unsigned i = 0; i < p->c->n_rule_sets; i++)
		if (strcmp(p->c->rule_sets[i].name, v) == 0) {
			peer->rule_set = i + 1;
			return 1;
		}
	return wg_cfg_fail(p, s, "no rule set named '%s' in 'destination_rules'",
			   wg_cfg_quote(q, v));
}

void wg_cfg_free_rule_sets(struct wg_config *c)
{
	for (unsigned i = 0; c->rule_sets && i < c->n_rule_sets; i++)
		free(c->rule_sets[i].rules);
	free(c->rule_sets);
	c->rule_sets = NULL;
	c->n_rule_sets = 0;
}
