/* SPDX-License-Identifier: MIT */
/*
 * The listener: libmicrohttpd in external-select mode with epoll, polled by the owner
 * (MHD_run never blocks there: one epoll_wait with a zero timeout, then what is ready).
 * Its bounds are libmicrohttpd's: connections, an idle timeout, memory per connection
 * (which bounds the request line and headers); the body is bounded here. A body is
 * gathered, then answered in one go on the owner's thread; a streamed body is produced a
 * piece per write, so a large page never holds the owner up.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "config_file.h"
#include "wg_crypto.h"
#include "wg_http.h"

#define STREAM_BLOCK   (64u << 10)     /* bytes asked of a stream per write */
#define CONN_MEMORY    (256u << 10)    /* per connection: request headers, write buffer */
#define PEM_MAX        (1u << 20)

struct wg_http_server {
	struct MHD_Daemon *d;
	struct wg_http_handlers h;
	struct wg_http_auth auth;
	size_t max_body;
	char *pem_cert, *pem_key, *pem_ca;
	size_t key_len;
	uint16_t port;
	unsigned conns;
};

/* Per request: the body as it arrives. */
struct req_state {
	struct wg_http_request req;
	char *body;
	size_t len, cap;
	bool refused;
};

/* A streamed body with what did not fit the last write. */
struct stream_state {
	struct wg_http_stream s;
	struct wg_uapi_buf pending;
	bool finished;
};

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	/* libmicrohttpd's own complaints about clients (bad requests, timeouts) are the
	 * clients' business; they reach the log only when debugging. */
	if (getenv("WGDP_HTTP_DEBUG"))
		vfprintf(stderr, fmt, ap);
}

static void body_free(struct req_state *r)
{
	if (r->body) {
		wg_wipe(r->body, r->cap);   /* a request may carry a preshared key */
		free(r->body);
	}
	free(r);
}

static int body_add(struct req_state *r, const char *data, size_t n, size_t max)
{
	if (n > max - r->len) {
		r->req.body_too_large = true;
		return -1;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *b;

		while (cap < r->len + n + 1)
			cap *= 2;
		b = malloc(cap);
		if (b == NULL)
			return -1;
		if (r->body) {
			memcpy(b, r->body, r->len);
			wg_wipe(r->body, r->cap);
			free(r->body);
		}
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_state *st = cls;
	size_t n;
	int rc = 1;

	(void)pos;
	while (st->pending.len < max && !st->finished) {
		rc = st->s.more(st->s.state, &st->pending, max - st->pending.len);
		if (rc <= 0)
			st->finished = true;
		if (rc < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (st->pending.len == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = st->pending.len < max ? st->pending.len : max;
	memcpy(buf, st->pending.data, n);
	wg_uapi_buf_consume(&st->pending, n);
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream_state *st = cls;

	if (st->s.done)
		st->s.done(st->s.state);
	wg_uapi_buf_free(&st->pending);
	free(st);
}

static enum MHD_Result queue(struct MHD_Connection *c, struct wg_http_reply *rep)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	if (rep->stream.more) {
		struct stream_state *st = calloc(1, sizeof(*st));

		if (st == NULL)
			return MHD_NO;
		st->s = rep->stream;
		memset(&rep->stream, 0, sizeof(rep->stream));   /* the response owns it now */
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
							 stream_read, st, stream_free);
		if (resp == NULL) {
			stream_free(st);
			return MHD_NO;
		}
	} else {
		resp = MHD_create_response_from_buffer(rep->body.len, rep->body.data,
						       MHD_RESPMEM_MUST_COPY);
		if (resp == NULL)
			return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep->content_type);
	if (rep->content_type && strncmp(rep->content_type, "text/plain; charset", 19) == 0)
		MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	rc = MHD_queue_response(c, rep->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* Mutual TLS: the client's certificate must verify against the configured CA. */
static bool client_verified(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	unsigned status = 1, n = 0;
	gnutls_session_t s;

	if (ci == NULL || ci->tls_session == NULL)
		return false;
	s = ci->tls_session;
	if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509 ||
	    gnutls_certificate_get_peers(s, &n) == NULL || n == 0)
		return false;
	return gnutls_certificate_verify_peers2(s, &status) == 0 && status == 0;
}

static struct req_state *begin(struct wg_http_server *s, struct MHD_Connection *c,
			       const char *url, const char *method)
{
	struct req_state *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->req.method = method;
	r->req.path = url;
	r->req.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							  MHD_HTTP_HEADER_CONTENT_TYPE);
	r->req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							   MHD_HTTP_HEADER_AUTHORIZATION);
	r->req.has_referer_or_origin =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Referer") != NULL ||
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin") != NULL;
	r->req.client_verified = s->auth.client_ca && client_verified(c);
	/* A declared length over the limit is refused before a byte of it is read. */
	{
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		if (cl && strtoull(cl, NULL, 10) > s->max_body)
			r->req.body_too_large = true;
	}
	return r;
}

static enum MHD_Result refuse(struct MHD_Connection *c, struct req_state *r,
			      struct wg_http_reply *rep)
{
	enum MHD_Result rc = queue(c, rep);

	r->refused = true;
	wg_http_reply_free(rep);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_len, void **con_cls)
{
	struct wg_http_server *s = cls;
	struct req_state *r = *con_cls;
	struct wg_http_reply rep;
	enum MHD_Result rc;

	(void)version;
	if (r == NULL) {
		r = begin(s, c, url, method);
		if (r == NULL)
			return MHD_NO;
		*con_cls = r;
		wg_http_reply_init(&rep);
		if (!wg_http_admit(&s->h, &s->auth, &r->req, s->max_body, &rep))
			return refuse(c, r, &rep);
		wg_http_reply_free(&rep);
		return MHD_YES;
	}
	if (r->refused) {
		*upload_len = 0;   /* what follows a refusal is read and dropped */
		return MHD_YES;
	}
	if (*upload_len) {
		/* Past the limit without a Content-Length saying so (chunked): no answer can
		 * be queued in the middle of a body, so the connection is closed. */
		if (body_add(r, upload, *upload_len, s->max_body) != 0)
			return MHD_NO;
		*upload_len = 0;
		return MHD_YES;
	}
	r->req.body = r->body;
	r->req.body_len = r->len;
	wg_http_reply_init(&rep);
	wg_http_answer(&s->h, &r->req, &rep);
	rc = queue(c, &rep);
	wg_http_reply_free(&rep);
	r->refused = true;
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	if (*con_cls)
		body_free(*con_cls);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct wg_http_server *s = cls;

	(void)c;
	(void)socket_ctx;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		s->conns++;
	else if (s->conns)
		s->conns--;
}

static char *read_pem(const char *path, size_t *len, char *err, size_t errlen)
{
	const char *why = "cannot read";
	char *t = wg_config_read_file(path, PEM_MAX, len, &why);

	if (t == NULL)
		snprintf(err, errlen, "%s: %s", path, why);
	return t;
}

static void pem_free(char *p, size_t len)
{
	if (p) {
		wg_wipe(p, len);
		free(p);
	}
}

static int load_tls(struct wg_http_server *s, const struct wg_config_http *c, char *err,
		    size_t errlen)
{
	size_t n;

	if (!c->tls_certificate[0])
		return 0;
	if ((s->pem_cert = read_pem(c->tls_certificate, &n, err, errlen)) == NULL ||
	    (s->pem_key = read_pem(c->tls_key, &s->key_len, err, errlen)) == NULL)
		return -1;
	if (c->tls_client_ca[0] &&
	    (s->pem_ca = read_pem(c->tls_client_ca, &n, err, errlen)) == NULL)
		return -1;
	return 0;
}

static struct MHD_Daemon *start(struct wg_http_server *s, const struct wg_config_http *c)
{
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sa4 = { .sin_family = AF_INET };
	struct sockaddr *sa;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (c->listen.ip.family == WG_AF_INET6) {
		memcpy(&sa6.sin6_addr, c->listen.ip.addr, 16);
		sa6.sin6_port = htons(c->listen.port);
		sa = (struct sockaddr *)&sa6;
		flags |= MHD_USE_IPv6;
	} else {
		memcpy(&sa4.sin_addr, c->listen.ip.addr, 4);
		sa4.sin_port = htons(c->listen.port);
		sa = (struct sockaddr *)&sa4;
	}
	if (s->pem_cert)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(flags, c->listen.port, NULL, NULL, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, s,
		MHD_OPTION_SOCK_ADDR, sa,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->idle_timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_STRICT_FOR_CLIENT, 1,
		s->pem_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->pem_cert,
		MHD_OPTION_HTTPS_MEM_KEY, s->pem_key,
		s->pem_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, s->pem_ca,
		MHD_OPTION_END);
}

struct wg_http_server *wg_http_listen(const struct wg_config_http *c,
				      const struct wg_http_handlers *h, char *err,
				      size_t errlen)
{
	struct wg_http_server *s = calloc(1, sizeof(*s));
	char ep[WG_ADDR_STRLEN];
	const union MHD_DaemonInfo *di;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->h = *h;
	s->max_body = c->max_request_bytes;
	if (wg_http_auth_init(&s->auth, c) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (load_tls(s, c, err, errlen) != 0)
		goto fail;
	s->d = start(s, c);
	if (s->d == NULL) {
		wg_endpoint_format(ep, &c->listen);
		snprintf(err, errlen, "cannot listen on %s%s (address in use, not one of this "
			 "host's, or a bad TLS certificate or key)", ep, s->pem_cert ? " with TLS" : "");
		goto fail;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : c->listen.port;
	return s;
fail:
	wg_http_close(s);
	return NULL;
}

void wg_http_poll(struct wg_http_server *s)
{
	if (s)
		MHD_run(s->d);
}

void wg_http_close(struct wg_http_server *s)
{
	if (s == NULL)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);
	pem_free(s->pem_cert, s->pem_cert ? strlen(s->pem_cert) : 0);
	pem_free(s->pem_key, s->key_len);
	pem_free(s->pem_ca, s->pem_ca ? strlen(s->pem_ca) : 0);
	wg_http_auth_free(&s->auth);
	free(s);
}

uint16_t wg_http_port(const struct wg_http_server *s)
{
	return s->port;
}

unsigned wg_http_connections(const struct wg_http_server *s)
{
	return s->conns;
}
