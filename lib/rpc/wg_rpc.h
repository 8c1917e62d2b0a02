/* SPDX-License-Identifier: MIT */
/*
 * The JSON-RPC 2.0 control protocol (docs/control-api.md): a framer that cuts a byte stream
 * into newline-delimited requests, and a handler that answers one request (or batch) with
 * one response line. The methods of jamescun/wg-api (GetDeviceInfo, ListPeers, GetPeer,
 * AddPeer, RemovePeer) keep their names, parameters and result shapes; wgdp adds AddPeers,
 * RemovePeers, GetStats, GetLcores, GetEvents, SetPeerEnabled and SaveConfig.
 *
 * Pure C over jansson, lib/addr, lib/crypto and lib/uapi's model: no sockets, no DPDK. The
 * module does not know the gateway: it reads and changes it through struct wg_rpc_backend.
 * Peer changes are translated into the userspace API's model (struct wg_uapi_set) so that
 * both control sockets end in the one applier.
 */
#ifndef WG_RPC_H
#define WG_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "wg_config.h"
#include "wg_dstrule.h"
#include "wg_uapi.h"
#include "wg_wire.h"

/* JSON-RPC 2.0 error codes. -32000 is what wg-api answers when the device refuses. */
#define WG_RPC_PARSE_ERROR      (-32700)
#define WG_RPC_INVALID_REQUEST  (-32600)
#define WG_RPC_METHOD_NOT_FOUND (-32601)
#define WG_RPC_INVALID_PARAMS   (-32602)
#define WG_RPC_INTERNAL_ERROR   (-32603)
#define WG_RPC_SERVER_ERROR     (-32000)

/* Default bound on the bytes a connection may hold unserved: a request line and what the
 * client sent after it. AddPeers of 100,000 peers with two allowed IPs each is ~15 MiB. */
#define WG_RPC_DEFAULT_LIMIT    (64u << 20)
/* Most peers one ListPeers answer holds, and its page when no limit is given: building a
 * page costs the control lcore ~4 us per peer (jansson's tree, its text, the wiping
 * allocator), and handshakes and timers wait meanwhile; a full page is ~4 ms. */
#define WG_RPC_PAGE_MAX         1000u
/* Most events one GetEvents answer holds, and its page when no limit is given. */
#define WG_RPC_EVENTS_MAX       1000u
#define WG_RPC_NAME_MAX         64
#define WG_RPC_WHY_LEN          256

/* ---- What the gateway provides ----------------------------------------------------- */

struct wg_rpc_device {
	char name[WG_RPC_NAME_MAX];     /* the interface name, e.g. "wgdp0" */
	bool has_public_key;            /* false until a private key is set */
	uint8_t public_key[WG_KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;                /* 0: off */
	uint64_t n_peers;
	struct wg_obfs obfs;            /* AmneziaWG's parameters (all zero: plain) */
};

/* SetMasquerade: a port's masquerade, the fields given changed (docs/nat.md). */
struct wg_rpc_masq {
	char port[WG_CONFIG_NAME_LEN];
	bool has_enabled, has_sources, has_pool, has_port_range;
	struct wg_config_masq m;
};

/* SetNat: the masquerade's bounds and timeouts, the fields given (non-zero) changed. */
struct wg_rpc_nat {
	struct wg_config_nat n;
};

/* A masqueraded flow, for ListFlows. */
struct wg_rpc_flow {
	unsigned worker;
	uint8_t proto;
	const char *state;              /* "established", "closing", "transitory", "active" */
	char port[WG_CONFIG_NAME_LEN];  /* the gateway's port it leaves by */
	struct wg_endpoint inside, outside, remote;   /* ICMP: the port is the query id */
	uint64_t idle_ms, expires_ms;
	uint64_t packets_out, packets_in;
};

/*
 * Every hook runs on the caller's thread (the control lcore) inside wg_rpc_handle and may
 * not be re-entered. Peer info filled by a hook (allowed_ips included) need stay valid only
 * until the next hook call; the module never prints its preshared key, only whether there
 * is one, and wipes the struct after use.
 */
struct wg_rpc_backend {
	void *ctx;
	/* The device as GetDeviceInfo shows it. */
	void (*device)(void *ctx, struct wg_rpc_device *d);
	/* The peer at 0-based position `index` in a stable order (peer id order is fine):
	 * 0, or ENOENT past the last. ListPeers calls it with consecutive indices, so a
	 * backend whose peers have holes can resume from where the last call stopped. */
	int (*peer_at)(void *ctx, uint64_t index, struct wg_uapi_peer_info *pi);
	/* The peer with this public key: 0, or ENOENT. */
	int (*peer_get)(void *ctx, const uint8_t key[WG_KEY_LEN], struct wg_uapi_peer_info *pi);
	/* Apply a change all or nothing (peers, or SetObfuscation's obfs_has keys; no other
	 * device fields, no replace_peers).
	 * 0, or a positive errno with a reason in why[] and nothing changed. */
	int (*apply)(void *ctx, const struct wg_uapi_set *s, char *why, size_t whylen);
	/* Would apply succeed (room in the tables, ...)? For validate_only; NULL: the
	 * request's own checks are all there is. Same returns as apply, changes nothing. */
	int (*validate)(void *ctx, const struct wg_uapi_set *s, char *why, size_t whylen);
	/* Fill `result` (an empty object) for GetStats / GetLcores: 0, or a positive errno
	 * with a reason. NULL: the method answers "method not found". */
	int (*stats)(void *ctx, json_t *result, char *why, size_t whylen);
	int (*lcores)(void *ctx, json_t *result, char *why, size_t whylen);
	/* GetEvents: fill `result` with at most `limit` events from sequence number `cursor`
	 * on (0: the oldest held) as "events", "next_cursor" and "lost" (events between the
	 * cursor and the oldest held, which the ring dropped). NULL: method not found. */
	int (*events)(void *ctx, uint64_t cursor, uint64_t limit, json_t *result, char *why,
		      size_t whylen);
	/* SetPeerEnabled: 0, ENOENT (no such peer) or another errno with a reason. */
	int (*set_enabled)(void *ctx, const uint8_t key[WG_KEY_LEN], bool enabled, char *why,
			   size_t whylen);
	/* SaveConfig: write the running configuration where the gateway keeps it, and fill
	 * `result` (path, peers). NULL: method not found. */
	int (*save_config)(void *ctx, json_t *result, char *why, size_t whylen);
	/* A pause point in a long request (parsing a large one, reading its peers): the
	 * backend may do other work there that does not touch its peers. NULL: none. */
	void (*yield)(void *ctx);

	/* Masquerade and destination rules (docs/nat.md); a NULL hook: its method answers
	 * "method not found". The setters: 0, or a positive errno with a reason, nothing
	 * changed; validate_only: only the checks. */
	int (*nat)(void *ctx, json_t *result, char *why, size_t whylen);        /* GetNat */
	int (*set_masquerade)(void *ctx, const struct wg_rpc_masq *m, bool validate_only,
			      char *why, size_t whylen);
	int (*set_nat)(void *ctx, const struct wg_rpc_nat *n, bool validate_only, char *why,
		       size_t whylen);
	/* The first flow at or after position *pos, *pos then past it: 0, or ENOENT. */
	int (*flow_next)(void *ctx, uint64_t *pos, struct wg_rpc_flow *f);
	uint64_t (*n_flows)(void *ctx);
	int (*rules)(void *ctx, json_t *result, char *why, size_t whylen);      /* GetRules */
	int (*peer_rules)(void *ctx, const uint8_t key[WG_KEY_LEN], const char **name);
	int (*set_rules)(void *ctx, const char *name, const struct wg_dstrule *rules, size_t n,
			 bool validate_only, char *why, size_t whylen);
	int (*remove_rules)(void *ctx, const char *name, bool validate_only, char *why,
			    size_t whylen);
	int (*set_peer_rules)(void *ctx, const uint8_t key[WG_KEY_LEN], const char *name,
			      bool validate_only, char *why, size_t whylen);
};

/* ---- Setup ------------------------------------------------------------------------- */

/*
 * Make jansson wipe every block it frees: a request's text and its parsed strings may hold
 * a preshared key. Process-wide (json_set_alloc_funcs): call it once at startup, before any
 * other jansson call in the process; a second call does nothing. Without it everything
 * works, only freed memory keeps what it held.
 */
void wg_rpc_init(void);

/* ---- Requests and responses -------------------------------------------------------- */

/*
 * Answer one request line (without its '\n'): a request object or a batch array. Appends
 * the response (one JSON value and '\n') to out, or nothing when every request in it was a
 * notification (no "id" member). A request that is invalid in any part changes nothing.
 * Returns 0, or ENOMEM when no response could be written.
 */
int wg_rpc_handle(const struct wg_rpc_backend *be, const char *req, size_t len,
		  struct wg_uapi_buf *out);

/*
 * The transports differ in what they accept (docs/control-api.md). The Unix socket is
 * strict: unknown members and parameters are refused, a request without "id" is a
 * notification. Over HTTP wgdp behaves as jamescun/wg-api does, so that a request written
 * for wg-api works unchanged.
 */
struct wg_rpc_opts {
	bool answer_all;        /* a request without "id" is answered, with "id": null */
	bool lenient;           /* "jsonrpc" may be missing; unknown envelope members and
	                         * parameters are ignored; persistent_keep_alive takes any Go
	                         * duration ("1m30s", "2.5s": whole seconds kept) or seconds */
};

/*
 * wg_rpc_handle with a transport's options. Returns 0, ENOMEM, or EBADMSG when the text is
 * not JSON at all: nothing is appended then, and why[] says what is wrong (wg-api answers
 * that with HTTP 400 rather than a JSON-RPC error).
 */
int wg_rpc_handle_opts(const struct wg_rpc_backend *be, const char *req, size_t len,
		       struct wg_uapi_buf *out, const struct wg_rpc_opts *opts, char *why,
		       size_t whylen);

/* An error response with "id": null, for what wg_rpc_handle never sees (the stream
 * framing): code is one of WG_RPC_*. 0 or ENOMEM. */
int wg_rpc_format_error(struct wg_uapi_buf *out, int code, const char *message);

/* ---- Framing a byte stream: one JSON value per line -------------------------------- */

struct wg_rpc_conn {
	char *buf;
	size_t len, cap;        /* bytes held, bytes allocated */
	size_t limit;           /* most bytes held at once */
	size_t head;            /* first byte not yet returned as a line */
	size_t scan;            /* bytes after head known to hold no '\n' */
	int err;                /* sticky: EMSGSIZE or ENOMEM; the stream is then lost */
	bool err_answered;      /* wg_rpc_serve has written the error response */
};

/* limit: most bytes held at once (0: WG_RPC_DEFAULT_LIMIT). */
void wg_rpc_conn_init(struct wg_rpc_conn *c, size_t limit);
/* Wipe (requests may carry keys) and free. */
void wg_rpc_conn_free(struct wg_rpc_conn *c);
/* Append bytes read from the socket: 0, or EMSGSIZE when the bytes held unserved would
 * pass the limit, ENOMEM, or the error the stream already had. Invalidates lines returned
 * before. */
int wg_rpc_feed(struct wg_rpc_conn *c, const void *data, size_t len);
/* The next complete line, without its "\n" or "\r\n"; blank lines are skipped. 0 with
 * *line and *len (valid until the next feed), EAGAIN when more bytes are needed, or the
 * stream's sticky error. */
int wg_rpc_next_line(struct wg_rpc_conn *c, const char **line, size_t *len);

/*
 * The server's loop body: answer up to max_requests complete lines held by c, appending
 * the responses to out. Returns 0 when no complete line is left, EINPROGRESS when some
 * are (call again, e.g. once out has drained), or a positive errno when the stream is lost
 * (over the limit, out of memory): the error response is then in out, to be sent before
 * the connection is closed.
 */
int wg_rpc_serve(const struct wg_rpc_backend *be, struct wg_rpc_conn *c,
		 struct wg_uapi_buf *out, unsigned max_requests);

#endif
