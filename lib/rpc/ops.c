/* SPDX-License-Identifier: MIT */
/*
 * wgdp's operator methods: GetEvents (a cursor over the gateway's bounded ring of peer
 * events), SetPeerEnabled (a peer disabled and enabled again without removing it) and
 * SaveConfig (the running configuration written back to its file). The gateway does the
 * work through its backend hooks; this file reads the parameters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rpc_priv.h"

static const char *const NO_PARAMS[] = { NULL };

static int out_of_memory(struct rpc_err *e)
{
	return rpc_fail(e, WG_RPC_INTERNAL_ERROR, NULL, "out of memory");
}

static int not_served(const char *method, struct rpc_err *e)
{
	return rpc_fail(e, WG_RPC_METHOD_NOT_FOUND, NULL,
			"method not found: %s is not served here", method);
}

static int server_error(int rc, const char *what, const char *why, struct rpc_err *e)
{
	rpc_fail(e, WG_RPC_SERVER_ERROR, NULL, "%s: %s", what, why[0] ? why : strerror(rc));
	e->sys_errno = rc;
	return -1;
}

int rpc_get_events(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		   struct rpc_err *e)
{
	static const char *const names[] = { "cursor", "limit", NULL };
	char why[WG_RPC_WHY_LEN] = "";
	uint64_t cursor = 0, limit = 0;
	bool given;
	int rc;

	if (be->events == NULL)
		return not_served("GetEvents", e);
	if (rpc_only(params, names, "", e) ||
	    rpc_opt_uint(json_object_get(params, "cursor"), "cursor", INT64_MAX, &given, &cursor,
			 e) ||
	    rpc_opt_uint(json_object_get(params, "limit"), "limit", WG_RPC_EVENTS_MAX, &given,
			 &limit, e))
		return -1;
	if (limit == 0)
		limit = WG_RPC_EVENTS_MAX;
	*result = json_object();
	if (*result == NULL)
		return out_of_memory(e);
	rc = be->events(be->ctx, cursor, limit, *result, why, sizeof(why));
	if (rc == 0)
		return 0;
	json_decref(*result);
	*result = NULL;
	return server_error(rc, "could not read events", why, e);
}

int rpc_set_peer_enabled(const struct wg_rpc_backend *be, const json_t *params,
			 json_t **result, struct rpc_err *e)
{
	static const char *const names[] = { "public_key", "enabled", NULL };
	const json_t *en = json_object_get(params, "enabled");
	char why[WG_RPC_WHY_LEN] = "";
	uint8_t key[WG_KEY_LEN];
	bool enabled;
	int rc;

	if (be->set_enabled == NULL)
		return not_served("SetPeerEnabled", e);
	if (rpc_only(params, names, "", e) ||
	    rpc_key(json_object_get(params, "public_key"), "public_key", key, e))
		return -1;
	if (en == NULL || json_is_null(en))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, "enabled", "required");
	if (rpc_opt_bool(en, "enabled", &enabled, e))
		return -1;
	rc = be->set_enabled(be->ctx, key, enabled, why, sizeof(why));
	if (rc == ENOENT)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, "public_key",
				"no peer has this public key");
	if (rc != 0)
		return server_error(rc, "could not configure device", why, e);
	*result = json_pack("{s:b}", "ok", 1);
	return *result ? 0 : out_of_memory(e);
}

int rpc_save_config(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		    struct rpc_err *e)
{
	char why[WG_RPC_WHY_LEN] = "";
	int rc;

	if (be->save_config == NULL)
		return not_served("SaveConfig", e);
	if (rpc_only(params, NO_PARAMS, "", e))
		return -1;
	*result = json_object();
	if (*result == NULL)
		return out_of_memory(e);
	rc = be->save_config(be->ctx, *result, why, sizeof(why));
	if (rc == 0) {
		json_object_set_new(*result, "ok", json_true());
		return 0;
	}
	json_decref(*result);
	*result = NULL;
	return server_error(rc, "could not save the configuration", why, e);
}
