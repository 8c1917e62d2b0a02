/* SPDX-License-Identifier: MIT */
/*
 * Private to lib/rpc: the error a method reports, the typed readers of parameters, and the
 * method handlers the dispatcher in rpc.c calls.
 */
#ifndef RPC_PRIV_H
#define RPC_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "wg_addr.h"
#include "wg_rpc.h"

#define RPC_PATH_LEN 96

struct rpc_err {
	int code;                       /* WG_RPC_* */
	char message[WG_RPC_WHY_LEN + 96];
	char param[RPC_PATH_LEN];       /* "data.param": which parameter; "" if none */
	int sys_errno;                  /* "data.errno" of a server error; 0 if none */
	/* Not reset by rpc_fail: the transport's rules for the whole request. lenient (the
	 * HTTP transport, as wg-api): unknown members and parameters are ignored, durations
	 * take Go's whole syntax and plain seconds. */
	bool lenient;
};

/* The backend's pause point, if it has one (every RPC_YIELD_EVERY items of a loop). */
#define RPC_YIELD_EVERY 256
static inline void rpc_yield(const struct wg_rpc_backend *be)
{
	if (be->yield)
		be->yield(be->ctx);
}

/* Fill e (message "PARAM: text" when param is given) and return -1, so that a failing
 * reader can `return rpc_fail(...)`. */
int rpc_fail(struct rpc_err *e, int code, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "a string", "an array", ... for messages. */
const char *rpc_type_name(const json_t *v);
/* "prefix.name", or "name" when prefix is empty. */
void rpc_path(char out[RPC_PATH_LEN], const char *prefix, const char *name);
/* "prefix[i]". */
void rpc_path_index(char out[RPC_PATH_LEN], const char *prefix, size_t i);

/*
 * Typed readers. v is the member's value, NULL when it is missing; path names it in
 * messages. Each returns 0 or -1 with e filled. "Absent" (the optional readers' *given =
 * false) is a missing member, null, or for strings "" (wg-api leaves empty strings out).
 */
/* The first member of obj (an object) not in names[] (NULL-terminated), or NULL. */
const char *rpc_unknown(const json_t *obj, const char *const names[]);
/* May a name from a request be quoted back: short, letters, digits, '_' and '.' only (a
 * base64 key is 44 characters, so it never is)? */
bool rpc_name_like(const char *s);
/* Refuse any member of obj not in names[]. obj NULL: nothing to check. */
int rpc_only(const json_t *obj, const char *const names[], const char *path, struct rpc_err *e);
/* A base64 key, required. */
int rpc_key(const json_t *v, const char *path, uint8_t key[WG_KEY_LEN], struct rpc_err *e);
int rpc_opt_key(const json_t *v, const char *path, bool *given, uint8_t key[WG_KEY_LEN],
		struct rpc_err *e);
int rpc_opt_endpoint(const json_t *v, const char *path, bool *given, struct wg_endpoint *ep,
		     struct rpc_err *e);
/* "ADDRESS/LENGTH"; host bits are cleared, as wg-api, wireguard-go and the kernel do. */
int rpc_prefix(const json_t *v, const char *path, struct wg_prefix *p, struct rpc_err *e);
/* An integer 0..max. */
int rpc_opt_uint(const json_t *v, const char *path, uint64_t max, bool *given, uint64_t *out,
		 struct rpc_err *e);
int rpc_opt_bool(const json_t *v, const char *path, bool *out, struct rpc_err *e);
/* A Go duration in whole seconds ("25s", "1m30s", "0"), as wg-api's persistent_keep_alive. */
int rpc_opt_duration(const json_t *v, const char *path, uint64_t max, bool *given,
		     uint64_t *out, struct rpc_err *e);
/* An array, required; *n its length. */
int rpc_array(const json_t *v, const char *path, size_t *n, struct rpc_err *e);

/* Go's time.Duration.String() of whole seconds: "25s", "1m30s", "1h0m0s". */
void rpc_format_duration(char out[24], uint64_t sec);
/* Go's RFC 3339 (time.Time.MarshalJSON): "2020-02-20T16:35:12.5Z"; 0, 0 is Go's zero time,
 * "0001-01-01T00:00:00Z", as wg-api shows a peer that never completed a handshake. */
void rpc_format_time(char out[48], uint64_t sec, uint32_t nsec);

/* A method: params is the "params" object or NULL; on success *result is a new object. */
typedef int (*rpc_method_fn)(const struct wg_rpc_backend *be, const json_t *params,
			     json_t **result, struct rpc_err *e);

int rpc_get_device_info(const struct wg_rpc_backend *be, const json_t *params,
			json_t **result, struct rpc_err *e);
int rpc_list_peers(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		   struct rpc_err *e);
int rpc_get_peer(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		 struct rpc_err *e);
int rpc_get_stats(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		  struct rpc_err *e);
int rpc_get_lcores(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		   struct rpc_err *e);
int rpc_add_peer(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		 struct rpc_err *e);
int rpc_set_obfuscation(const struct wg_rpc_backend *be, const json_t *params,
			json_t **result, struct rpc_err *e);
int rpc_add_peers(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		  struct rpc_err *e);
int rpc_remove_peer(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		    struct rpc_err *e);
int rpc_remove_peers(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		     struct rpc_err *e);

int rpc_get_events(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		   struct rpc_err *e);
int rpc_set_peer_enabled(const struct wg_rpc_backend *be, const json_t *params,
			 json_t **result, struct rpc_err *e);
int rpc_save_config(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		    struct rpc_err *e);

/* nat.c: masquerade and destination rules */
int rpc_get_nat(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		struct rpc_err *e);
int rpc_set_masquerade(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		       struct rpc_err *e);
int rpc_set_nat(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		struct rpc_err *e);
int rpc_list_flows(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		   struct rpc_err *e);
int rpc_get_rules(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		  struct rpc_err *e);
int rpc_set_rules(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		  struct rpc_err *e);
int rpc_remove_rules(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		     struct rpc_err *e);
int rpc_set_peer_rules(const struct wg_rpc_backend *be, const json_t *params,
		       json_t **result, struct rpc_err *e);

/* Append bytes to an output buffer: 0 or ENOMEM. */
int rpc_append(struct wg_uapi_buf *b, const void *data, size_t len);

#endif
