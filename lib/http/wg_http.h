/* SPDX-License-Identifier: MIT */
/*
 * The HTTP listener (docs/control-api.md, docs/operations.md): JSON-RPC over HTTP exactly
 * as jamescun/wg-api serves it (POST to any path, Content-Type: application/json,
 * Authorization: Token T or Bearer T), and GET /metrics for Prometheus, streamed in
 * pieces. libmicrohttpd in its external-select mode (epoll) does the HTTP and, through
 * GnuTLS, TLS and mutual TLS; the owner polls it without blocking (wg_http_poll), so every
 * callback runs on the owner's thread (the control lcore) and a slow or malicious client
 * costs only what it sends.
 *
 * The decision about a request (wg_http_answer) is apart from the sockets, so that it can
 * be tested and fuzzed on its own.
 */
#ifndef WG_HTTP_H
#define WG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_config.h"
#include "wg_rpc.h"
#include "wg_uapi.h"

/* A response body produced piece by piece (GET /metrics): `more` appends the next piece
 * (whole lines, about `room` bytes) and returns 1 while more follows, 0 after the last
 * piece, -1 to cut the response short. `done` is called once, when the response is over
 * or abandoned (the client went away). */
struct wg_http_stream {
	int (*more)(void *state, struct wg_uapi_buf *out, size_t room);
	void (*done)(void *state);
	void *state;
};

struct wg_http_handlers {
	void *ctx;
	/* JSON-RPC over POST; NULL: no JSON-RPC on this listener (405). */
	const struct wg_rpc_backend *rpc;
	/* GET /metrics: fill *s; 0, or an errno (503). NULL: not served here (405). */
	int (*metrics)(void *ctx, struct wg_http_stream *s);
};

/* Tokens are kept only as their BLAKE2s hashes, compared in constant time. */
struct wg_http_auth {
	uint8_t (*hashes)[32];
	unsigned n;
	bool client_ca;                 /* mutual TLS: a verified client certificate needed */
};

/* Fill auth from a configuration's tokens (inline and from the file). 0 or ENOMEM. */
int wg_http_auth_init(struct wg_http_auth *a, const struct wg_config_http *c);
void wg_http_auth_free(struct wg_http_auth *a);

/* ---- One request, decided ------------------------------------------------------------ */

struct wg_http_request {
	const char *method;             /* "POST" */
	const char *path;               /* "/" */
	const char *content_type;       /* NULL: none */
	const char *authorization;      /* NULL: none */
	bool has_referer_or_origin;     /* a browser sent it */
	bool client_verified;           /* TLS client certificate verified against the CA */
	bool body_too_large;            /* more than the limit was sent */
	const char *body;
	size_t body_len;
};

struct wg_http_reply {
	unsigned status;                /* 200, 400, 403, 405, 413, 500, 503 */
	const char *content_type;
	struct wg_uapi_buf body;        /* the whole body, unless stream.more is set */
	struct wg_http_stream stream;
};

/*
 * Stage 1, once the headers are in: may the request go on to its body? false with *rep
 * filled (refused: forbidden, wrong method, wrong content type, too large; or GET /metrics,
 * answered at once with a stream). Stage 2, with the body: wg_http_answer fills *rep.
 * Both take the request as it is; neither changes anything when they refuse.
 */
bool wg_http_admit(const struct wg_http_handlers *h, const struct wg_http_auth *a,
		   const struct wg_http_request *req, size_t max_body, struct wg_http_reply *rep);
void wg_http_answer(const struct wg_http_handlers *h, const struct wg_http_request *req,
		    struct wg_http_reply *rep);
void wg_http_reply_init(struct wg_http_reply *rep);
void wg_http_reply_free(struct wg_http_reply *rep);

/* ---- The listener ---------------------------------------------------------------------- */

struct wg_http_server;

struct wg_http_limits {
	size_t max_request;             /* body bytes */
	unsigned max_conns;
	unsigned idle_s;
};

/*
 * Listen as the configuration says (its listen address; TLS files are read here). NULL
 * with a reason in err. The handlers must outlive the server.
 */
struct wg_http_server *wg_http_listen(const struct wg_config_http *c,
				      const struct wg_http_handlers *h, char *err,
				      size_t errlen);
/* Accept, read, answer and write what is ready, without blocking. */
void wg_http_poll(struct wg_http_server *s);
void wg_http_close(struct wg_http_server *s);
/* The port bound (for a listen port of 0 in tests). */
uint16_t wg_http_port(const struct wg_http_server *s);
unsigned wg_http_connections(const struct wg_http_server *s);

#endif
