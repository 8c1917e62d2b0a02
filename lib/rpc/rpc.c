/* SPDX-License-Identifier: MIT */
/*
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification): the request envelope, the method
 * table, batches, notifications and the response line. The envelope is checked strictly
 * (unknown members refused) so that a typo is an error rather than a silent no-op; every
 * error names the problem, and never quotes a value that could be a key.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rpc_priv.h"
#include "wg_crypto.h"

struct method {
	const char *name;
	rpc_method_fn fn;
};

static const struct method METHODS[] = {
	/* jamescun/wg-api */
	{ "GetDeviceInfo", rpc_get_device_info },
	{ "ListPeers",     rpc_list_peers },
	{ "GetPeer",       rpc_get_peer },
	{ "AddPeer",       rpc_add_peer },
	{ "RemovePeer",    rpc_remove_peer },
	/* wgdp */
	{ "AddPeers",      rpc_add_peers },
	{ "RemovePeers",   rpc_remove_peers },
	{ "SetObfuscation", rpc_set_obfuscation },
	{ "GetStats",      rpc_get_stats },
	{ "GetLcores",     rpc_get_lcores },
	{ "GetEvents",     rpc_get_events },
	{ "SetPeerEnabled", rpc_set_peer_enabled },
	{ "SaveConfig",    rpc_save_config },
	/* wgdp: masquerade and destination rules (docs/nat.md) */
	{ "GetNat",        rpc_get_nat },
	{ "SetMasquerade", rpc_set_masquerade },
	{ "SetNat",        rpc_set_nat },
	{ "ListFlows",     rpc_list_flows },
	{ "GetRules",      rpc_get_rules },
	{ "SetRules",      rpc_set_rules },
	{ "RemoveRules",   rpc_remove_rules },
	{ "SetPeerRules",  rpc_set_peer_rules },
};

static rpc_method_fn find_method(const char *name)
{
	for (size_t i = 0; i < sizeof(METHODS) / sizeof(METHODS[0]); i++)
		if (strcmp(METHODS[i].name, name) == 0)
			return METHODS[i].fn;
	return NULL;
}

/* ---- the envelope ---- */

static bool valid_id(const json_t *id)
{
	return json_is_string(id) || json_is_number(id) || json_is_null(id);
}

static int check_members(const json_t *req, struct rpc_err *e)
{
	static const char *const names[] = { "jsonrpc", "method", "params", "id", NULL };
	const char *bad = rpc_unknown(req, names);

	if (bad == NULL)
		return 0;
	if (rpc_name_like(bad))
		return rpc_fail(e, WG_RPC_INVALID_REQUEST, NULL, "unknown request member \"%s\"",
				bad);
	return rpc_fail(e, WG_RPC_INVALID_REQUEST, NULL, "unknown request member");
}

static int check_envelope(const json_t *req, struct rpc_err *e)
{
	const json_t *v;

	if (!json_is_object(req))
		return rpc_fail(e, WG_RPC_INVALID_REQUEST, NULL,
				"a request must be a JSON object, not %s", rpc_type_name(req));
	if (!e->lenient && check_members(req, e))
		return -1;
	if (!valid_id(json_object_get(req, "id")) && json_object_get(req, "id"))
		return rpc_fail(e, WG_RPC_INVALID_REQUEST, NULL,
				"id must be a string, a number or null, not %s",
				rpc_type_name(json_object_get(req, "id")));
	v = json_object_get(req, "jsonrpc");
	/* wg-api never looks at "jsonrpc" */
	if (v == NULL && !e->lenient)
		return rpc_fail(e, WG_RPC_INVALID_REQUEST, NULL,
				"missing member \"jsonrpc\": it must be \"2.0\"");
	if (v && (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0))
		return rpc_fail(e, WG_RPC_INVALID_REQUEST, NULL, "jsonrpc must be \"2.0\"");
	v = json_object_get(req, "method");
	if (v == NULL)
		return rpc_fail(e, WG_RPC_INVALID_REQUEST, NULL, "missing member \"method\"");
	if (!json_is_string(v))
		return rpc_fail(e, WG_RPC_INVALID_REQUEST, NULL, "method must be a string, not %s",
				rpc_type_name(v));
	v = json_object_get(req, "params");
	if (v && !json_is_object(v) && !json_is_array(v))
		return rpc_fail(e, WG_RPC_INVALID_REQUEST, NULL,
				"params must be an object or an array, not %s", rpc_type_name(v));
	return 0;
}

/* Quote an unknown method's name only if it looks like one. */
static int method_not_found(const char *name, struct rpc_err *e)
{
	if (rpc_name_like(name))
		return rpc_fail(e, WG_RPC_METHOD_NOT_FOUND, NULL, "method not found: \"%s\"",
				name);
	return rpc_fail(e, WG_RPC_METHOD_NOT_FOUND, NULL, "method not found");
}

static int call(const struct wg_rpc_backend *be, const json_t *req, json_t **result,
		struct rpc_err *e)
{
	const json_t *params = json_object_get(req, "params");
	rpc_method_fn fn = find_method(json_string_value(json_object_get(req, "method")));

	if (fn == NULL)
		return method_not_found(json_string_value(json_object_get(req, "method")), e);
	/* Some clients always send "params": [] when there are none. */
	if (json_is_array(params) && json_array_size(params) == 0)
		params = NULL;
	if (json_is_array(params))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, NULL,
				"params must be an object: parameters are passed by name");
	return fn(be, params, result, e);
}

/* ---- responses ---- */

static json_t *error_json(const struct rpc_err *e)
{
	json_t *data = NULL;

	if (e->param[0] || e->sys_errno) {
		data = json_object();
		if (data && e->param[0])
			json_object_set_new(data, "param", json_string(e->param));
		if (data && e->sys_errno)
			json_object_set_new(data, "errno", json_integer(e->sys_errno));
	}
	return json_pack("{s:i, s:s, s:o*}", "code", e->code, "message", e->message, "data",
			 data);
}

/* The response object; id NULL (unknown) is written as null. */
static json_t *response(const json_t *id, json_t *result, const struct rpc_err *e)
{
	json_t *id_copy = id ? json_deep_copy(id) : json_null();

	if (result)
		return json_pack("{s:s, s:o, s:o}", "jsonrpc", "2.0", "id", id_copy, "result",
				 result);
	return json_pack("{s:s, s:o, s:o}", "jsonrpc", "2.0", "id", id_copy, "error",
			 error_json(e));
}

static const struct wg_rpc_opts STRICT = { .answer_all = false, .lenient = false };

/* One request: its response in *resp, or NULL for a notification. ENOMEM or 0. */
static int handle_one(const struct wg_rpc_backend *be, const json_t *req, json_t **resp,
		      const struct wg_rpc_opts *o)
{
	const json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
	json_t *result = NULL;
	struct rpc_err e = { .lenient = o->lenient };
	bool notification;

	*resp = NULL;
	if (check_envelope(req, &e)) {
		/* Answered even without an id: it may not have been meant as a notification. */
		*resp = response(valid_id(id) ? id : NULL, NULL, &e);
		return *resp ? 0 : ENOMEM;
	}
	notification = id == NULL && !o->answer_all;
	if (call(be, req, &result, &e) != 0)
		result = NULL;
	if (notification) {
		json_decref(result);
		return 0;
	}
	*resp = response(id, result, &e);
	return *resp ? 0 : ENOMEM;
}

/* A batch answers with an array of the responses to its requests, in order, leaving out
 * notifications; none at all when every one was a notification. */
static int handle_batch(const struct wg_rpc_backend *be, const json_t *batch, json_t **resp,
			const struct wg_rpc_opts *o)
{
	json_t *all = json_array(), *one;
	size_t i;

	*resp = NULL;
	if (all == NULL)
		return ENOMEM;
	for (i = 0; i < json_array_size(batch); i++) {
		if (handle_one(be, json_array_get(batch, i), &one, o) ||
		    (one && json_array_append_new(all, one))) {
			json_decref(all);
			return ENOMEM;
		}
	}
	if (json_array_size(all) > 0)
		*resp = all;
	else
		json_decref(all);
	return 0;
}

struct dump {
	struct wg_uapi_buf *out;
	const struct wg_rpc_backend *be;   /* its pause point every DUMP_YIELD_BYTES */
	size_t mark;
};

#define DUMP_YIELD_BYTES 32768   /* a page of 1,000 peers is about 300 KB */

static int dump_cb(const char *buffer, size_t size, void *data)
{
	struct dump *d = data;

	if (rpc_append(d->out, buffer, size))
		return -1;
	if (d->be && d->out->len - d->mark >= DUMP_YIELD_BYTES) {
		d->mark = d->out->len;
		rpc_yield(d->be);
	}
	return 0;
}

/* The response as one line. All or nothing: a failure leaves out as it was. */
static int emit(const struct wg_rpc_backend *be, struct wg_uapi_buf *out, const json_t *resp)
{
	struct dump d = { .out = out, .be = be, .mark = out->len };
	size_t before = out->len;

	if (json_dump_callback(resp, dump_cb, &d, JSON_COMPACT) == 0 &&
	    rpc_append(out, "\n", 1) == 0)
		return 0;
	out->len = before;
	return ENOMEM;
}

static int emit_error(struct wg_uapi_buf *out, const struct rpc_err *e)
{
	json_t *resp = response(NULL, NULL, e);
	int rc = resp ? emit(NULL, out, resp) : ENOMEM;

	json_decref(resp);
	return rc;
}

/* jansson says "invalid token near 'TEXT'": the text may be a key, so it is cut off. */
static void parse_error(struct rpc_err *e, json_error_t *jerr)
{
	char *near = strstr(jerr->text, " near ");

	if (near)
		*near = '\0';
	rpc_fail(e, WG_RPC_PARSE_ERROR, NULL, "parse error at byte %d: %s", jerr->position,
		 jerr->text);
	wg_wipe(jerr, sizeof(*jerr));
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* jansson reads a large request through this, a buffer at a time, so the backend gets a
 * pause point every few kilobytes of parsing. */
struct reader {
	const struct wg_rpc_backend *be;
	const char *at;
	size_t left, since;
};

#define RPC_YIELD_BYTES 16384   /* about 100 peers: 3 ms of parsing at a million peers */

static size_t read_more(void *buf, size_t buflen, void *arg)
{
	struct reader *r = arg;
	size_t n = r->left < buflen ? r->left : buflen;

	if (r->since >= RPC_YIELD_BYTES) {
		r->since = 0;
		rpc_yield(r->be);
	}
	memcpy(buf, r->at, n);
	r->at += n;
	r->left -= n;
	r->since += n;
	return n;
}

/* The request parsed, or NULL with e filled. */
static json_t *parse(const struct wg_rpc_backend *be, const char *req, size_t len,
		     struct rpc_err *e)
{
	struct reader r = { .be = be, .at = req, .left = len };
	const char *nul = memchr(req, '\0', len);
	json_error_t jerr;
	json_t *root;

	if (nul) {
		rpc_fail(e, WG_RPC_PARSE_ERROR, NULL, "NUL byte at byte %zu", (size_t)(nul - req));
		return NULL;
	}
	if (blank(req, len)) {
		rpc_fail(e, WG_RPC_PARSE_ERROR, NULL, "empty request");
		return NULL;
	}
	/* Any value, so that `5` is an invalid request rather than a parse error; a key
	 * given twice is refused, not silently resolved. */
	if (be->yield && len > RPC_YIELD_BYTES)
		root = json_load_callback(read_more, &r, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
					  &jerr);
	else
		root = json_loadb(req, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		parse_error(e, &jerr);
	return root;
}

int wg_rpc_handle(const struct wg_rpc_backend *be, const char *req, size_t len,
		  struct wg_uapi_buf *out)
{
	return wg_rpc_handle_opts(be, req, len, out, &STRICT, NULL, 0);
}

int wg_rpc_handle_opts(const struct wg_rpc_backend *be, const char *req, size_t len,
		       struct wg_uapi_buf *out, const struct wg_rpc_opts *opts, char *why,
		       size_t whylen)
{
	static const char oom[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
				  "\"message\":\"out of memory\"}}\n";
	const struct wg_rpc_opts *o = opts ? opts : &STRICT;
	struct rpc_err e = { .lenient = o->lenient };
	json_t *root = parse(be, req, len, &e), *resp = NULL;
	int rc;

	if (root == NULL && why) {
		snprintf(why, whylen, "%s", e.message);
		return EBADMSG;
	}
	if (root == NULL) {
		rc = emit_error(out, &e);
	} else if (json_is_array(root) && json_array_size(root) == 0) {
		rpc_fail(&e, WG_RPC_INVALID_REQUEST, NULL, "empty batch");
		rc = emit_error(out, &e);
	} else {
		rc = json_is_array(root) ? handle_batch(be, root, &resp, o)
					 : handle_one(be, root, &resp, o);
		if (rc == 0 && resp)
			rc = emit(be, out, resp);
	}
	json_decref(root);
	json_decref(resp);
	/* The fixed answer needs no allocation but the line's own room. */
	return rc == 0 ? 0 : rpc_append(out, oom, sizeof(oom) - 1);
}

int wg_rpc_format_error(struct wg_uapi_buf *out, int code, const char *message)
{
	struct rpc_err e = { .lenient = false };

	rpc_fail(&e, code, NULL, "%s", message);
	return emit_error(out, &e);
}
