/* SPDX-License-Identifier: MIT */
/*
 * The methods of masquerade and destination rules (docs/nat.md, docs/control-api.md):
 * GetNat, SetMasquerade and SetNat (a port's masquerade, the bounds and timeouts, each
 * field optional), ListFlows (paged by position), GetRules, SetRules, RemoveRules and
 * SetPeerRules. Every parameter is read and checked here before the backend is asked; the
 * backend checks what only the gateway knows (its ports, its workers) and changes all or
 * nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_priv.h"

static int out_of_memory(struct rpc_err *e)
{
	return rpc_fail(e, WG_RPC_INTERNAL_ERROR, NULL, "out of memory");
}

static int not_served(const char *method, struct rpc_err *e)
{
	return rpc_fail(e, WG_RPC_METHOD_NOT_FOUND, NULL, "method not found: %s is not served "
			"here", method);
}

/* The backend refused: a server error with its reason and errno. */
static int refused(int rc, const char *why, struct rpc_err *e)
{
	rpc_fail(e, WG_RPC_SERVER_ERROR, NULL, "could not configure device: %s",
		 why[0] ? why : strerror(rc));
	e->sys_errno = rc;
	return -1;
}

static int ok(bool validate_only, json_t **result, struct rpc_err *e)
{
	*result = json_pack("{s:b}", "ok", !validate_only);
	return *result ? 0 : out_of_memory(e);
}

static int opt_validate(const json_t *params, bool *validate_only, struct rpc_err *e)
{
	return rpc_opt_bool(json_object_get(params, "validate_only"), "validate_only",
			    validate_only, e);
}

/* A required name as the configuration file takes it (a port's, a rule set's). */
static int name(const json_t *v, const char *path, char *out, size_t cap, struct rpc_err *e)
{
	const char *s = json_string_value(v);
	bool good;

	if (!json_is_string(v))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, v ? "must be a string, not %s" :
				"is required%s", v ? rpc_type_name(v) : "");
	good = strlen(s) == json_string_length(v) && json_string_length(v) < cap &&
	       (cap == WG_CONFIG_NAME_LEN ? wg_config_name_ok(s) : wg_config_rules_name_ok(s));
	if (!good)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "must be 1..%zu characters of "
				"A-Z a-z 0-9 _ . -", cap - 1);
	memcpy(out, s, json_string_length(v) + 1);
	return 0;
}

/* ---- GetNat ---- */

int rpc_get_nat(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		struct rpc_err *e)
{
	static const char *const names[] = { NULL };
	char why[WG_RPC_WHY_LEN] = "";
	int rc;

	if (be->nat == NULL)
		return not_served("GetNat", e);
	if (rpc_only(params, names, "", e))
		return -1;
	if ((*result = json_object()) == NULL)
		return out_of_memory(e);
	rc = be->nat(be->ctx, *result, why, sizeof(why));
	if (rc == 0)
		return 0;
	json_decref(*result);
	*result = NULL;
	return refused(rc, why, e);
}

/* ---- SetMasquerade ---- */

static int read_sources(const json_t *v, struct wg_rpc_masq *m, struct rpc_err *e)
{
	char at[RPC_PATH_LEN];
	size_t n;

	if (v == NULL)
		return 0;
	if (rpc_array(v, "sources", &n, e))
		return -1;
	if (n > WG_CONFIG_MAX_MASQ_SOURCES)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, "sources", "at most %d prefixes",
				WG_CONFIG_MAX_MASQ_SOURCES);
	for (size_t i = 0; i < n; i++) {
		rpc_path_index(at, "sources", i);
		if (rpc_prefix(json_array_get(v, i), at, &m->m.sources[i], e))
			return -1;
		if (m->m.sources[i].ip.family != WG_AF_INET)
			return rpc_fail(e, WG_RPC_INVALID_PARAMS, at, "must be an IPv4 prefix "
					"(masquerade is IPv4 only)");
	}
	m->m.n_sources = (unsigned)n;
	m->has_sources = true;
	return 0;
}

static int read_pool(const json_t *v, struct wg_rpc_masq *m, struct rpc_err *e)
{
	char at[RPC_PATH_LEN];
	size_t n;

	if (v == NULL)
		return 0;
	if (rpc_array(v, "pool", &n, e))
		return -1;
	if (n > WG_CONFIG_MAX_MASQ_POOL)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, "pool", "at most %d addresses",
				WG_CONFIG_MAX_MASQ_POOL);
	for (size_t i = 0; i < n; i++) {
		const json_t *a = json_array_get(v, i);

		rpc_path_index(at, "pool", i);
		if (!json_is_string(a) ||
		    wg_ip_parse(&m->m.pool[i], json_string_value(a), json_string_length(a)) ||
		    m->m.pool[i].family != WG_AF_INET)
			return rpc_fail(e, WG_RPC_INVALID_PARAMS, at, "must be an IPv4 address");
	}
	m->m.n_pool = (unsigned)n;
	m->has_pool = true;
	return 0;
}

static int read_range(const json_t *v, struct wg_rpc_masq *m, struct rpc_err *e)
{
	unsigned lo, hi;
	char tail;

	if (v == NULL)
		return 0;
	if (!json_is_string(v) ||
	    sscanf(json_string_value(v), "%5u-%5u%c", &lo, &hi, &tail) != 2 ||
	    strspn(json_string_value(v), "0123456789-") != json_string_length(v) ||
	    lo < 1 || hi > 65535 || lo > hi)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, "port_range", "must be \"LOW-HIGH\" "
				"within 1..65535");
	m->m.port_min = (uint16_t)lo;
	m->m.port_max = (uint16_t)hi;
	m->has_port_range = true;
	return 0;
}

int rpc_set_masquerade(const struct wg_rpc_backend *be, const json_t *params,
		       json_t **result, struct rpc_err *e)
{
	static const char *const names[] = { "port", "enabled", "sources", "pool", "port_range",
					     "validate_only", NULL };
	struct wg_rpc_masq m;
	char why[WG_RPC_WHY_LEN] = "";
	bool validate_only;
	int rc;

	if (be->set_masquerade == NULL)
		return not_served("SetMasquerade", e);
	memset(&m, 0, sizeof(m));
	if (rpc_only(params, names, "", e) || opt_validate(params, &validate_only, e) ||
	    name(json_object_get(params, "port"), "port", m.port, sizeof(m.port), e) ||
	    read_sources(json_object_get(params, "sources"), &m, e) ||
	    read_pool(json_object_get(params, "pool"), &m, e) ||
	    read_range(json_object_get(params, "port_range"), &m, e))
		return -1;
	if (json_object_get(params, "enabled")) {
		if (rpc_opt_bool(json_object_get(params, "enabled"), "enabled", &m.m.enabled, e))
			return -1;
		m.has_enabled = true;
	}
	rc = be->set_masquerade(be->ctx, &m, validate_only, why, sizeof(why));
	return rc ? refused(rc, why, e) : ok(validate_only, result, e);
}

/* ---- SetNat ---- */

int rpc_set_nat(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		struct rpc_err *e)
{
	static const char *const names[] = { "max_flows", "max_flows_per_source",
		"tcp_established", "tcp_transitory", "udp", "icmp", "validate_only", NULL };
	static const uint64_t lo[] = { 16, 1, 1, 1, 1, 1 };
	static const uint64_t hi[] = { 1u << 24, 1u << 24, 2592000, 2592000, 2592000, 2592000 };
	struct wg_rpc_nat n;
	uint32_t *f[] = { &n.n.max_flows, &n.n.max_flows_per_source, &n.n.tcp_established,
			  &n.n.tcp_transitory, &n.n.udp, &n.n.icmp };
	char why[WG_RPC_WHY_LEN] = "";
	bool validate_only, given;
	uint64_t v;
	int rc;

	if (be->set_nat == NULL)
		return not_served("SetNat", e);
	memset(&n, 0, sizeof(n));
	if (rpc_only(params, names, "", e) || opt_validate(params, &validate_only, e))
		return -1;
	for (unsigned k = 0; k < 6; k++) {
		if (rpc_opt_uint(json_object_get(params, names[k]), names[k], hi[k], &given, &v, e))
			return -1;
		if (given && v < lo[k])
			return rpc_fail(e, WG_RPC_INVALID_PARAMS, names[k], "must be %llu..%llu",
					(unsigned long long)lo[k], (unsigned long long)hi[k]);
		if (given)
			*f[k] = (uint32_t)v;
	}
	rc = be->set_nat(be->ctx, &n, validate_only, why, sizeof(why));
	return rc ? refused(rc, why, e) : ok(validate_only, result, e);
}

/* ---- ListFlows ---- */

static const char *proto_name(uint8_t p)
{
	return p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : "other";
}

static void end(char out[WG_ADDR_STRLEN + 8], const struct wg_endpoint *ep)
{
	char ip[WG_ADDR_STRLEN];

	wg_ip_format(ip, &ep->ip);
	snprintf(out, WG_ADDR_STRLEN + 8, "%s:%u", ip, (unsigned)ep->port);
}

static json_t *flow_json(const struct wg_rpc_flow *f)
{
	char in[WG_ADDR_STRLEN + 8], out[WG_ADDR_STRLEN + 8], re[WG_ADDR_STRLEN + 8];

	end(in, &f->inside);
	end(out, &f->outside);
	end(re, &f->remote);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:i}",
			 "protocol", proto_name(f->proto), "inside", in, "outside", out,
			 "remote", re, "port", f->port, "state", f->state ? f->state : "active",
			 "idle_ms", (json_int_t)f->idle_ms, "expires_ms", (json_int_t)f->expires_ms,
			 "packets_out", (json_int_t)f->packets_out,
			 "packets_in", (json_int_t)f->packets_in, "worker", (int)f->worker);
}

/* limit (at most WG_RPC_PAGE_MAX, the default) and offset: a position in the flow tables
 * (next_offset of the page before), not a count, so that flows coming and going between
 * pages neither repeat nor skip the ones that stay. */
int rpc_list_flows(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		   struct rpc_err *e)
{
	static const char *const names[] = { "limit", "offset", NULL };
	uint64_t limit = 0, pos = 0;
	struct wg_rpc_flow f;
	bool given, more = false;
	json_t *flows;

	if (be->flow_next == NULL || be->n_flows == NULL)
		return not_served("ListFlows", e);
	if (rpc_only(params, names, "", e) ||
	    rpc_opt_uint(json_object_get(params, "limit"), "limit", WG_RPC_PAGE_MAX, &given,
			 &limit, e) ||
	    rpc_opt_uint(json_object_get(params, "offset"), "offset", INT64_MAX, &given, &pos, e))
		return -1;
	if (limit == 0)
		limit = WG_RPC_PAGE_MAX;
	if ((flows = json_array()) == NULL)
		return out_of_memory(e);
	while (json_array_size(flows) < limit) {
		memset(&f, 0, sizeof(f));
		if (be->flow_next(be->ctx, &pos, &f) != 0)
			break;
		if (json_array_append_new(flows, flow_json(&f))) {
			json_decref(flows);
			return out_of_memory(e);
		}
	}
	if (json_array_size(flows) == limit) {
		uint64_t probe = pos;

		memset(&f, 0, sizeof(f));
		more = be->flow_next(be->ctx, &probe, &f) == 0;
	}
	*result = json_pack("{s:o, s:I, s:o}", "flows", flows, "total",
			    (json_int_t)be->n_flows(be->ctx),
			    "next_offset", more ? json_integer((json_int_t)pos) : json_null());
	return *result ? 0 : out_of_memory(e);
}

/* ---- destination rules ---- */

int rpc_get_rules(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		  struct rpc_err *e)
{
	static const char *const names[] = { "public_key", NULL };
	const json_t *key = json_object_get(params, "public_key");
	char why[WG_RPC_WHY_LEN] = "";
	uint8_t k[WG_KEY_LEN];
	const char *set = NULL;
	int rc;

	if (be->rules == NULL || be->peer_rules == NULL)
		return not_served("GetRules", e);
	if (rpc_only(params, names, "", e))
		return -1;
	if (key) {
		if (rpc_key(key, "public_key", k, e))
			return -1;
		if (be->peer_rules(be->ctx, k, &set) != 0)
			return rpc_fail(e, WG_RPC_SERVER_ERROR, "public_key", "no such peer");
		*result = json_pack("{s:s?}", "rule_set", set);
		return *result ? 0 : out_of_memory(e);
	}
	if ((*result = json_object()) == NULL)
		return out_of_memory(e);
	rc = be->rules(be->ctx, *result, why, sizeof(why));
	if (rc == 0)
		return 0;
	json_decref(*result);
	*result = NULL;
	return refused(rc, why, e);
}

static int read_allow(const json_t *v, struct wg_dstrule **out, size_t *n, struct rpc_err *e)
{
	char at[RPC_PATH_LEN], why[128];

	*out = NULL;
	if (rpc_array(v, "allow", n, e))
		return -1;
	if (*n > WG_CONFIG_MAX_RULES)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, "allow", "at most %d rules",
				WG_CONFIG_MAX_RULES);
	if (*n && (*out = calloc(*n, sizeof(**out))) == NULL)
		return out_of_memory(e);
	for (size_t i = 0; i < *n; i++) {
		const json_t *r = json_array_get(v, i);

		rpc_path_index(at, "allow", i);
		if (!json_is_string(r) ||
		    wg_dstrule_parse(&(*out)[i], json_string_value(r), json_string_length(r), why,
				     sizeof(why))) {
			free(*out);
			*out = NULL;
			return rpc_fail(e, WG_RPC_INVALID_PARAMS, at, "%s", json_is_string(r) ?
					why : "must be a string");
		}
	}
	return 0;
}

int rpc_set_rules(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		  struct rpc_err *e)
{
	static const char *const names[] = { "name", "allow", "validate_only", NULL };
	char set[WG_CONFIG_RULES_NAME_LEN], why[WG_RPC_WHY_LEN] = "";
	struct wg_dstrule *rules;
	bool validate_only;
	size_t n;
	int rc;

	if (be->set_rules == NULL)
		return not_served("SetRules", e);
	if (rpc_only(params, names, "", e) || opt_validate(params, &validate_only, e) ||
	    name(json_object_get(params, "name"), "name", set, sizeof(set), e) ||
	    read_allow(json_object_get(params, "allow"), &rules, &n, e))
		return -1;
	rc = be->set_rules(be->ctx, set, rules, n, validate_only, why, sizeof(why));
	free(rules);
	return rc ? refused(rc, why, e) : ok(validate_only, result, e);
}

int rpc_remove_rules(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		     struct rpc_err *e)
{
	static const char *const names[] = { "name", "validate_only", NULL };
	char set[WG_CONFIG_RULES_NAME_LEN], why[WG_RPC_WHY_LEN] = "";
	bool validate_only;
	int rc;

	if (be->remove_rules == NULL)
		return not_served("RemoveRules", e);
	if (rpc_only(params, names, "", e) || opt_validate(params, &validate_only, e) ||
	    name(json_object_get(params, "name"), "name", set, sizeof(set), e))
		return -1;
	rc = be->remove_rules(be->ctx, set, validate_only, why, sizeof(why));
	return rc ? refused(rc, why, e) : ok(validate_only, result, e);
}

/* rule_set: a set's name, or null for none. */
int rpc_set_peer_rules(const struct wg_rpc_backend *be, const json_t *params,
		       json_t **result, struct rpc_err *e)
{
	static const char *const names[] = { "public_key", "rule_set", "validate_only", NULL };
	const json_t *rs = json_object_get(params, "rule_set");
	char set[WG_CONFIG_RULES_NAME_LEN], why[WG_RPC_WHY_LEN] = "";
	uint8_t key[WG_KEY_LEN];
	bool validate_only;
	int rc;

	if (be->set_peer_rules == NULL)
		return not_served("SetPeerRules", e);
	if (rpc_only(params, names, "", e) || opt_validate(params, &validate_only, e) ||
	    rpc_key(json_object_get(params, "public_key"), "public_key", key, e))
		return -1;
	if (rs == NULL)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, "rule_set", "is required (a set's name, "
				"or null for none)");
	if (!json_is_null(rs) && name(rs, "rule_set", set, sizeof(set), e))
		return -1;
	rc = be->set_peer_rules(be->ctx, key, json_is_null(rs) ? NULL : set, validate_only, why,
				sizeof(why));
	return rc ? refused(rc, why, e) : ok(validate_only, result, e);
}
