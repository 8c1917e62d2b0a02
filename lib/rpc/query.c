/* SPDX-License-Identifier: MIT */
/*
 * The read-only methods: GetDeviceInfo, ListPeers and GetPeer in wg-api's result shapes
 * (client/client.go: Device, Peer), and GetStats and GetLcores, whose contents the
 * backend fills. A peer's preshared key is never shown, only whether it has one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rpc_priv.h"
#include "wg_crypto.h"

static const char *const NO_PARAMS[] = { NULL };

static int out_of_memory(struct rpc_err *e)
{
	return rpc_fail(e, WG_RPC_INTERNAL_ERROR, NULL, "out of memory");
}

/* jansson integers are signed 64-bit; a byte counter reaches 2^63 only in theory. */
static json_int_t count(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v;
}

static json_t *allowed_ips_json(const struct wg_uapi_peer_info *pi)
{
	json_t *a = json_array();
	char text[WG_ADDR_STRLEN];

	for (size_t i = 0; a && i < pi->n_allowed_ips; i++) {
		wg_prefix_format(text, &pi->allowed_ips[i]);
		if (json_array_append_new(a, json_string(text))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* wg-api's Peer, in its member order, with persistent_keepalive_interval (seconds, the
 * UAPI's name) beside its Go-duration persistent_keep_alive. NULL when out of memory. */
static json_t *peer_json(const struct wg_uapi_peer_info *pi)
{
	char key[WG_KEY_B64_LEN + 1], ep[WG_ADDR_STRLEN] = "", ka[24], hs[48];
	json_t *aips = allowed_ips_json(pi);

	if (aips == NULL)
		return NULL;
	wg_key_to_base64(key, pi->public_key);
	if (pi->has_endpoint)
		wg_endpoint_format(ep, &pi->endpoint);
	rpc_format_duration(ka, pi->keepalive);
	rpc_format_time(hs, pi->last_handshake_sec, pi->last_handshake_nsec);
	/* "s*": the member is left out when NULL, as Go's omitempty leaves it out. "enabled"
	 * is wgdp's own (SetPeerEnabled); wg-api clients ignore a member they do not know. */
	return json_pack("{s:s, s:b, s:s, s:s*, s:i, s:s, s:I, s:I, s:o, s:i, s:b}",
			 "public_key", key,
			 "has_preshared_key", pi->has_preshared_key,
			 "endpoint", ep,
			 "persistent_keep_alive", pi->keepalive ? ka : NULL,
			 "persistent_keepalive_interval", (int)pi->keepalive,
			 "last_handshake", hs,
			 "receive_bytes", count(pi->rx_bytes),
			 "transmit_bytes", count(pi->tx_bytes),
			 "allowed_ips", aips,
			 "protocol_version", 1,
			 "enabled", !pi->disabled);
}

static json_t *obfs_json(const struct wg_obfs *o)
{
	return json_pack("{s:b, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:b}",
			 "enabled", wg_obfs_enabled(o), "jc", o->jc, "jmin", o->jmin,
			 "jmax", o->jmax, "s1", o->s1, "s2", o->s2,
			 "h1", (json_int_t)o->h[0], "h2", (json_int_t)o->h[1],
			 "h3", (json_int_t)o->h[2], "h4", (json_int_t)o->h[3],
			 "accept_plain", o->accept_plain);
}

int rpc_get_device_info(const struct wg_rpc_backend *be, const json_t *params,
			json_t **result, struct rpc_err *e)
{
	struct wg_rpc_device d;
	char key[WG_KEY_B64_LEN + 1];

	if (rpc_only(params, NO_PARAMS, "", e))
		return -1;
	memset(&d, 0, sizeof(d));
	be->device(be->ctx, &d);
	d.name[sizeof(d.name) - 1] = '\0';
	if (d.has_public_key)
		wg_key_to_base64(key, d.public_key);
	wg_obfs_normalize(&d.obfs);
	/* wg-api's Device; firewall_mark is omitempty there too. "type" says which
	 * implementation answers, as wgctrl's "Linux kernel" / "userspace" do. "obfuscation"
	 * is wgdp's: AmneziaWG's parameters under amneziawg-go's names. */
	*result = json_pack("{s:{s:s, s:s, s:s?, s:i, s:o*, s:I, s:o}}", "device",
			    "name", d.name,
			    "type", "wgdp",
			    "public_key", d.has_public_key ? key : NULL,
			    "listen_port", (int)d.listen_port,
			    "firewall_mark", d.fwmark ? json_integer(d.fwmark) : NULL,
			    "num_peers", count(d.n_peers),
			    "obfuscation", obfs_json(&d.obfs));
	return *result ? 0 : out_of_memory(e);
}

/* limit and offset: wg-api's names, and its rule that a limit of 0 (or none) means no
 * limit, except that one answer stops at WG_RPC_PAGE_MAX and says where to go on. */
static int page_params(const json_t *params, uint64_t *limit, uint64_t *offset,
		       struct rpc_err *e)
{
	static const char *const names[] = { "limit", "offset", NULL };
	bool given;

	*limit = 0;
	*offset = 0;
	if (rpc_only(params, names, "", e) ||
	    rpc_opt_uint(json_object_get(params, "limit"), "limit", WG_RPC_PAGE_MAX, &given,
			 limit, e) ||
	    rpc_opt_uint(json_object_get(params, "offset"), "offset", INT64_MAX, &given,
			 offset, e))
		return -1;
	if (*limit == 0)
		*limit = WG_RPC_PAGE_MAX;
	return 0;
}

static int list_page(const struct wg_rpc_backend *be, json_t *peers, uint64_t offset,
		     uint64_t limit, uint64_t total)
{
	struct wg_uapi_peer_info pi;
	int err = 0;

	for (uint64_t i = offset; i < total && i - offset < limit && !err; i++) {
		/* A page of 1,000 takes the control lcore 10-20 ms: pause points in it too. */
		if ((i - offset) % 64 == 63)
			rpc_yield(be);
		if (be->peer_at(be->ctx, i, &pi) != 0)
			break;
		err = json_array_append_new(peers, peer_json(&pi));
	}
	wg_wipe(&pi, sizeof(pi));
	return err;
}

int rpc_list_peers(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		   struct rpc_err *e)
{
	struct wg_rpc_device d;
	uint64_t limit, offset, next;
	json_t *peers;

	if (page_params(params, &limit, &offset, e))
		return -1;
	memset(&d, 0, sizeof(d));
	be->device(be->ctx, &d);
	peers = json_array();
	if (peers == NULL || list_page(be, peers, offset, limit, d.n_peers)) {
		json_decref(peers);
		return out_of_memory(e);
	}
	/* Beyond wg-api: the total and where the next page starts (null: this was the last),
	 * so that a client can walk a table of any size. */
	next = offset + json_array_size(peers);
	*result = json_pack("{s:o, s:I, s:o}", "peers", peers, "total", count(d.n_peers),
			    "next_offset", next < d.n_peers ? json_integer(count(next)) : json_null());
	return *result ? 0 : out_of_memory(e);
}

int rpc_get_peer(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		 struct rpc_err *e)
{
	static const char *const names[] = { "public_key", NULL };
	uint8_t key[WG_KEY_LEN];
	struct wg_uapi_peer_info pi;
	json_t *peer = NULL;

	if (rpc_only(params, names, "", e) ||
	    rpc_key(json_object_get(params, "public_key"), "public_key", key, e))
		return -1;
	/* An unknown key is not an error: wg-api answers {"peer": null}. */
	if (be->peer_get(be->ctx, key, &pi) == 0) {
		peer = peer_json(&pi);
		wg_wipe(&pi, sizeof(pi));
		if (peer == NULL)
			return out_of_memory(e);
	}
	*result = json_pack("{s:o}", "peer", peer ? peer : json_null());
	return *result ? 0 : out_of_memory(e);
}

typedef int (*fill_fn)(void *ctx, json_t *result, char *why, size_t whylen);

static int filled(const struct wg_rpc_backend *be, fill_fn fill, const char *method,
		  const char *what, const json_t *params, json_t **result, struct rpc_err *e)
{
	char why[WG_RPC_WHY_LEN] = "";
	int rc;

	if (fill == NULL)
		return rpc_fail(e, WG_RPC_METHOD_NOT_FOUND, NULL,
				"method not found: %s is not served here", method);
	if (rpc_only(params, NO_PARAMS, "", e))
		return -1;
	*result = json_object();
	if (*result == NULL)
		return out_of_memory(e);
	rc = fill(be->ctx, *result, why, sizeof(why));
	if (rc == 0)
		return 0;
	json_decref(*result);
	*result = NULL;
	rpc_fail(e, WG_RPC_SERVER_ERROR, NULL, "could not read %s: %s", what,
		 why[0] ? why : strerror(rc));
	e->sys_errno = rc;
	return -1;
}

int rpc_get_stats(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		  struct rpc_err *e)
{
	return filled(be, be->stats, "GetStats", "statistics", params, result, e);
}

int rpc_get_lcores(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		   struct rpc_err *e)
{
	return filled(be, be->lcores, "GetLcores", "lcores", params, result, e);
}
