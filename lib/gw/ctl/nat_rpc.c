/* SPDX-License-Identifier: MIT */
/*
 * Masquerade and destination rules over the JSON-RPC socket (lib/rpc's hooks) and the
 * gateway's public calls for them (wg_gw.h): names to ports and peers, partial changes
 * merged into what the gateway has, and the views GetNat, GetRules and GetStats show.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gw_ctl.h"
#include "gw_nat.h"
#include "wg_nat.h"
#include "wg_rpc.h"

static int port_index(const struct wg_gw *gw, const char *name)
{
	for (unsigned i = 0; i < gw->n_ports; i++)
		if (strcmp(gw->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int no_port(const char *name, char *why, size_t whylen)
{
	snprintf(why, whylen, "no port named '%.16s'", name);
	return ENOENT;
}

int wg_gw_masquerade(struct wg_gw *gw, const char *port, const struct wg_config_masq *m,
		     bool validate_only, char *why, size_t whylen)
{
	int i = port_index(gw, port);

	return i < 0 ? no_port(port, why, whylen) :
	       wg_gw_nat_set_masq(gw, (unsigned)i, m, validate_only, why, whylen);
}

int wg_gw_rule_set(struct wg_gw *gw, const char *name, const struct wg_dstrule *rules,
		   size_t n, bool validate_only, char *why, size_t whylen)
{
	return wg_gw_rules_set(gw, name, rules, n, validate_only, why, whylen);
}

int wg_gw_peer_rule_set(struct wg_gw *gw, const uint8_t key[32], const char *name,
			bool validate_only, char *why, size_t whylen)
{
	struct wg_peer *peer = wg_gw_peer_find(gw, key);

	if (peer == NULL) {
		snprintf(why, whylen, "no such peer");
		return ENOENT;
	}
	return wg_gw_rules_assign(gw, peer, name, validate_only, why, whylen);
}

/* ---- the backend's hooks ---- */

static json_t *prefixes(const struct wg_prefix *p, unsigned n)
{
	char t[WG_ADDR_STRLEN];
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++) {
		wg_prefix_format(t, &p[i]);
		json_array_append_new(a, json_string(t));
	}
	return a;
}

static json_t *addresses(const struct wg_ip *ip, unsigned n)
{
	char t[WG_ADDR_STRLEN];
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++) {
		wg_ip_format(t, &ip[i]);
		json_array_append_new(a, json_string(t));
	}
	return a;
}

static int be_nat(void *ctx, json_t *result, char *why, size_t whylen)
{
	struct wg_gw *gw = ctx;
	const struct wg_config_nat *n = &gw->cfg.nat;
	json_t *ports = json_array();
	char range[16];

	(void)why;
	(void)whylen;
	for (unsigned i = 0; i < gw->n_ports; i++) {
		const struct wg_config_masq *m = &gw->cfg.ports[i].masq;

		if (!(gw->ports[i].role & WG_ROLE_LAN))
			continue;
		snprintf(range, sizeof(range), "%u-%u", (unsigned)m->port_min, (unsigned)m->port_max);
		json_array_append_new(ports, json_pack("{s:s, s:b, s:o, s:o, s:s}",
			"port", gw->ports[i].name, "enabled", m->enabled,
			"sources", prefixes(m->sources, m->n_sources),
			"pool", addresses(m->pool, m->n_pool), "port_range", range));
	}
	json_object_set_new(result, "masquerade", ports);
	json_object_set_new(result, "max_flows", json_integer(n->max_flows));
	json_object_set_new(result, "max_flows_per_source", json_integer(n->max_flows_per_source));
	json_object_set_new(result, "timeouts", json_pack("{s:i, s:i, s:i, s:i}",
		"tcp_established", (int)n->tcp_established, "tcp_transitory", (int)n->tcp_transitory,
		"udp", (int)n->udp, "icmp", (int)n->icmp));
	json_object_set_new(result, "flows", json_integer((json_int_t)wg_gw_nat_flows(gw)));
	return 0;
}

static int be_set_masquerade(void *ctx, const struct wg_rpc_masq *rm, bool validate_only,
			     char *why, size_t whylen)
{
	struct wg_gw *gw = ctx;
	int i = port_index(gw, rm->port);
	struct wg_config_masq m;

	if (i < 0)
		return no_port(rm->port, why, whylen);
	m = gw->cfg.ports[i].masq;
	if (rm->has_enabled)
		m.enabled = rm->m.enabled;
	if (rm->has_sources) {
		m.n_sources = rm->m.n_sources;
		memcpy(m.sources, rm->m.sources, sizeof(m.sources));
	}
	if (rm->has_pool) {
		m.n_pool = rm->m.n_pool;
		memcpy(m.pool, rm->m.pool, sizeof(m.pool));
	}
	if (rm->has_port_range) {
		m.port_min = rm->m.port_min;
		m.port_max = rm->m.port_max;
	}
	return wg_gw_nat_set_masq(gw, (unsigned)i, &m, validate_only, why, whylen);
}

static int be_set_nat(void *ctx, const struct wg_rpc_nat *rn, bool validate_only, char *why,
		      size_t whylen)
{
	struct wg_gw *gw = ctx;
	struct wg_config_nat n = gw->cfg.nat;
	const uint32_t *from = &rn->n.max_flows;
	uint32_t *to = &n.max_flows;

	/* Every field is a uint32_t in the same order; 0 means not given. */
	for (size_t k = 0; k < sizeof(n) / sizeof(uint32_t); k++)
		if (from[k])
			to[k] = from[k];
	return wg_gw_nat_set_limits(gw, &n, validate_only, why, whylen);
}

static const char *state_name(const struct wg_gw_flow *f)
{
	if (f->proto != 6)
		return "active";
	if (f->state & WG_NAT_ST_RST)
		return "transitory";
	if (f->state & (WG_NAT_ST_FIN_IN | WG_NAT_ST_FIN_OUT))
		return "closing";
	return f->state & WG_NAT_ST_EST ? "established" : "transitory";
}

static int be_flow_next(void *ctx, uint64_t *pos, struct wg_rpc_flow *rf)
{
	struct wg_gw *gw = ctx;
	struct wg_gw_flow f;
	int rc = wg_gw_flow_next(gw, pos, &f);

	if (rc)
		return rc;
	rf->worker = f.worker;
	rf->proto = f.proto;
	rf->state = state_name(&f);
	snprintf(rf->port, sizeof(rf->port), "%s", f.port < gw->n_ports ? gw->ports[f.port].name : "?");
	rf->inside = f.inside;
	rf->outside = f.outside;
	rf->remote = f.remote;
	rf->idle_ms = f.idle_ns / 1000000;
	rf->expires_ms = f.timeout_ns > f.idle_ns ? (f.timeout_ns - f.idle_ns) / 1000000 : 0;
	rf->packets_out = f.pkts_out;
	rf->packets_in = f.pkts_in;
	return 0;
}

static uint64_t be_n_flows(void *ctx)
{
	return wg_gw_nat_flows(ctx);
}

static int be_rules(void *ctx, json_t *result, char *why, size_t whylen)
{
	struct wg_gw *gw = ctx;
	json_t *sets = json_array();
	const struct wg_dstrule *rules;
	const char *name;
	unsigned peers;
	size_t n;

	(void)why;
	(void)whylen;
	for (unsigned i = 0; wg_gw_rules_at(gw, i, &name, &rules, &n, &peers); i++) {
		json_t *allow = json_array();
		char t[WG_DSTRULE_STRLEN];

		for (size_t k = 0; k < n; k++) {
			wg_dstrule_format(t, &rules[k]);
			json_array_append_new(allow, json_string(t));
		}
		json_array_append_new(sets, json_pack("{s:s, s:o, s:i}", "name", name, "allow",
						      allow, "peers", (int)peers));
	}
	json_object_set_new(result, "rule_sets", sets);
	return 0;
}

static int be_peer_rules(void *ctx, const uint8_t key[WG_KEY_LEN], const char **name)
{
	struct wg_gw *gw = ctx;
	struct wg_peer *peer = wg_gw_peer_find(gw, key);

	if (peer == NULL)
		return ENOENT;
	*name = wg_gw_rules_of(gw, peer);
	return 0;
}

static int be_set_rules(void *ctx, const char *name, const struct wg_dstrule *rules, size_t n,
			bool validate_only, char *why, size_t whylen)
{
	return wg_gw_rules_set(ctx, name, rules, n, validate_only, why, whylen);
}

static int be_remove_rules(void *ctx, const char *name, bool validate_only, char *why,
			   size_t whylen)
{
	return wg_gw_rules_remove(ctx, name, validate_only, why, whylen);
}

static int be_set_peer_rules(void *ctx, const uint8_t key[WG_KEY_LEN], const char *name,
			     bool validate_only, char *why, size_t whylen)
{
	return wg_gw_peer_rule_set(ctx, key, name, validate_only, why, whylen);
}

void wg_gw_nat_rpc_backend(struct wg_rpc_backend *be)
{
	be->nat = be_nat;
	be->set_masquerade = be_set_masquerade;
	be->set_nat = be_set_nat;
	be->flow_next = be_flow_next;
	be->n_flows = be_n_flows;
	be->rules = be_rules;
	be->peer_rules = be_peer_rules;
	be->set_rules = be_set_rules;
	be->remove_rules = be_remove_rules;
	be->set_peer_rules = be_set_peer_rules;
}

json_t *wg_gw_nat_stats_json(struct wg_gw *gw)
{
	struct wg_gw_stats st;

	wg_gw_get_stats(gw, &st);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "flows", (json_int_t)st.nat.flows, "created", (json_int_t)st.nat.created,
			 "expired", (json_int_t)st.nat.expired, "flushed", (json_int_t)st.nat.flushed,
			 "translated_out", (json_int_t)st.nat.translated_out,
			 "translated_in", (json_int_t)st.nat.translated_in,
			 "misses", (json_int_t)st.nat.misses,
			 "ports_exhausted", (json_int_t)st.nat.ports_exhausted,
			 "table_full", (json_int_t)st.nat.table_full,
			 "source_limit", (json_int_t)st.nat.source_limit,
			 "handed_off", (json_int_t)st.nat.handed_off);
}
