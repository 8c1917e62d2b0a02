/* SPDX-License-Identifier: MIT */
/*
 * What a request gets, decided as jamescun/wg-api decides it (server/middleware.go,
 * server/jsonrpc/server.go), in its order: a browser's request (Referer or Origin) is
 * forbidden; then the credential (a verified client certificate under mutual TLS, the
 * token where tokens are set: 403 "forbidden" otherwise); then anything but POST is 405
 * "method not allowed" (except GET /metrics, wgdp's own); a Content-Type that is not
 * application/json is 400; a body that is not JSON is 400 "invalid request: ...";
 * everything else is a JSON-RPC answer with status 200. Plain-text refusals end in a
 * newline, as Go's http.Error writes them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "wg_crypto.h"
#include "wg_http.h"

#define TEXT "text/plain; charset=utf-8"
#define JSON "application/json"
#define PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"
#define MEDIA_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+-.;= "

static void hash_token(uint8_t out[32], const char *t, size_t n)
{
	wg_blake2s(out, 32, t, n);
}

int wg_http_auth_init(struct wg_http_auth *a, const struct wg_config_http *c)
{
	unsigned n = c->n_tokens + c->n_file_tokens;

	memset(a, 0, sizeof(*a));
	a->client_ca = c->tls_client_ca[0] != '\0';
	if (n == 0)
		return 0;
	a->hashes = calloc(n, sizeof(*a->hashes));
	if (a->hashes == NULL)
		return ENOMEM;
	for (unsigned i = 0; i < c->n_tokens; i++)
		hash_token(a->hashes[a->n++], c->tokens[i], strlen(c->tokens[i]));
	for (unsigned i = 0; i < c->n_file_tokens; i++)
		hash_token(a->hashes[a->n++], c->file_tokens[i], strlen(c->file_tokens[i]));
	return 0;
}

void wg_http_auth_free(struct wg_http_auth *a)
{
	if (a->hashes)
		wg_wipe(a->hashes, a->n * sizeof(*a->hashes));
	free(a->hashes);
	memset(a, 0, sizeof(*a));
}

void wg_http_reply_init(struct wg_http_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	wg_uapi_buf_init(&rep->body);
}

void wg_http_reply_free(struct wg_http_reply *rep)
{
	wg_uapi_buf_free(&rep->body);
	if (rep->stream.done)
		rep->stream.done(rep->stream.state);
	memset(&rep->stream, 0, sizeof(rep->stream));
}

static void text(struct wg_http_reply *rep, unsigned status, const char *msg)
{
	size_t n = strlen(msg);

	rep->status = status;
	rep->content_type = TEXT;
	rep->body.len = 0;
	if (wg_uapi_buf_append(&rep->body, msg, n) == 0)
		wg_uapi_buf_append(&rep->body, "\n", 1);
}

/* "Token T" (wg-api) or "Bearer T" (RFC 6750, Prometheus' authorization). Each hash is
 * compared, in constant time, whatever matched before. */
static bool token_ok(const struct wg_http_auth *a, const char *authz)
{
	const char *t = NULL;
	uint8_t h[32];
	bool ok = false;

	if (authz == NULL)
		return false;
	if (strncasecmp(authz, "Token ", 6) == 0)
		t = authz + 6;
	else if (strncasecmp(authz, "Bearer ", 7) == 0)
		t = authz + 7;
	if (t == NULL || *t == '\0')
		return false;
	hash_token(h, t, strlen(t));
	for (unsigned i = 0; i < a->n; i++)
		ok |= wg_equal(h, a->hashes[i], sizeof(h));
	wg_wipe(h, sizeof(h));
	return ok;
}

static bool authorized(const struct wg_http_auth *a, const struct wg_http_request *req)
{
	if (a->client_ca && !req->client_verified)
		return false;
	return a->n == 0 || token_ok(a, req->authorization);
}

/* A media type to quote back: short, of a media type's characters, and without a run of
 * base64 long enough to be a key (44 characters). */
static bool quotable(const char *s)
{
	size_t n = strlen(s), run = 0;

	if (n > 64 || strspn(s, MEDIA_CHARS) != n)
		return false;
	for (; *s; s++) {
		run = isalnum((unsigned char)*s) || *s == '+' || *s == '/' || *s == '=' ? run + 1 : 0;
		if (run >= 40)
			return false;
	}
	return true;
}

static bool is_metrics(const struct wg_http_request *req)
{
	return (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) &&
	       strcmp(req->path, "/metrics") == 0;
}

static void start_metrics(const struct wg_http_handlers *h, struct wg_http_reply *rep)
{
	int rc = h->metrics(h->ctx, &rep->stream);

	if (rc != 0 || rep->stream.more == NULL) {
		memset(&rep->stream, 0, sizeof(rep->stream));
		text(rep, 503, "metrics unavailable");
		return;
	}
	rep->status = 200;
	rep->content_type = PROMETHEUS;
}

bool wg_http_admit(const struct wg_http_handlers *h, const struct wg_http_auth *a,
		   const struct wg_http_request *req, size_t max_body, struct wg_http_reply *rep)
{
	char msg[160];

	if (req->has_referer_or_origin) {
		text(rep, 403, "forbidden");
		return false;
	}
	if (!authorized(a, req)) {
		text(rep, 403, "forbidden");
		return false;
	}
	if (h->metrics && is_metrics(req)) {
		start_metrics(h, rep);
		return false;
	}
	if (strcmp(req->method, "POST") != 0 || h->rpc == NULL) {
		text(rep, 405, "method not allowed");
		return false;
	}
	/* wg-api: strings.HasPrefix(Content-Type, "application/json"). It quotes the type
	 * back; here only one that cannot be a key pasted by mistake. */
	if (req->content_type == NULL || strncmp(req->content_type, JSON, strlen(JSON)) != 0) {
		const char *ct = req->content_type ? req->content_type : "";

		if (quotable(ct))
			snprintf(msg, sizeof(msg), "unknown content type \"%s\"", ct);
		else
			snprintf(msg, sizeof(msg), "unknown content type");
		text(rep, 400, msg);
		return false;
	}
	if (req->body_too_large) {
		snprintf(msg, sizeof(msg), "request body too large (at most %zu bytes)", max_body);
		text(rep, 413, msg);
		return false;
	}
	return true;
}

void wg_http_answer(const struct wg_http_handlers *h, const struct wg_http_request *req,
		    struct wg_http_reply *rep)
{
	static const struct wg_rpc_opts opts = { .answer_all = true, .lenient = true };
	char why[WG_RPC_WHY_LEN + 96], msg[WG_RPC_WHY_LEN + 128];
	int rc;

	rep->body.len = 0;
	rc = wg_rpc_handle_opts(h->rpc, req->body ? req->body : "", req->body_len, &rep->body,
				&opts, why, sizeof(why));
	if (rc == EBADMSG) {
		snprintf(msg, sizeof(msg), "invalid request: %s", why);
		text(rep, 400, msg);
		return;
	}
	if (rc != 0) {
		text(rep, 500, "out of memory");
		return;
	}
	rep->status = 200;
	rep->content_type = JSON;
}
