/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the HTTP listener (lib/http) in front of the fake gateway of the
 * unit tests, at both levels. The first byte picks one:
 *  - the decision alone (wg_http_admit, wg_http_answer): method, path, content type,
 *    authorization, Referer, body and its size taken from the input, so that every branch
 *    of wg-api's rules is reached quickly;
 *  - raw bytes over a real loopback connection to a listening libmicrohttpd, sent in
 *    fuzzer-chosen pieces with polls between them (bytes from 0xc0 stand for whole
 *    pieces of requests: request lines, headers, bodies), then read until the server is
 *    quiet.
 * Every decision must be one of the statuses the listener answers, a 200 must be one line
 * of JSON-RPC, no answer may show the preshared key, and a refused request must leave
 * the fake gateway unchanged. The server must outlive everything it is sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../unit/rpc_fake.h"
#include "wg_crypto.h"
#include "wg_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PUB2 "GEGSwyhx8WuT/igWRF+UsqPUkGe1DACyALymn3uFBjs="
#define PSK  "FrrxVMzEiveQE7Abdx5FguvUbhia6vOG8duVYjZQ3wU="
#define TOKEN "fuzz-token"

static const char *const TOKENS[] = {
	"POST / HTTP/1.1\r\n", "GET /metrics HTTP/1.1\r\n", "GET / HTTP/1.0\r\n",
	"PUT /x HTTP/1.1\r\n", "Host: x\r\n", "Content-Type: application/json\r\n",
	"Content-Type: text/plain\r\n", "Authorization: Token " TOKEN "\r\n",
	"Authorization: Bearer " TOKEN "\r\n", "Authorization: Token nope\r\n",
	"Referer: http://x/\r\n", "Content-Length: 60\r\n", "Content-Length: 99999999\r\n",
	"Transfer-Encoding: chunked\r\n", "Connection: close\r\n", "\r\n",
	"{\"method\":\"GetDeviceInfo\"}",
	"{\"jsonrpc\":\"2.0\",\"method\":\"AddPeer\",\"params\":{\"public_key\":\"" PUB2
	"\",\"preshared_key\":\"" PSK "\"}}",
	"{\"method\":\"ListPeers\",\"params\":{}}", "{\"method\":\"GetPeer\",\"params\":"
	"{\"public_key\":\"" PUB2 "\"}}", "{\"method\":\"RemovePeer\",\"params\":"
	"{\"public_key\":\"" PUB2 "\"}}", "10\r\n", "0\r\n\r\n", "{", "}", "\"",
};
#define N_TOKENS (sizeof(TOKENS) / sizeof(TOKENS[0]))

static struct fake fk;
static struct wg_rpc_backend be;
static struct wg_http_handlers handlers;
static struct wg_http_auth auth;
static struct wg_http_server *srv;
static uint16_t port;

static int lines_more(void *state, struct wg_uapi_buf *out, size_t room)
{
	unsigned *left = state;

	(void)room;
	wg_uapi_buf_printf(out, "metric %u\n", *left);
	return --*left > 0;
}

static void lines_done(void *state)
{
	free(state);
}

static int start_metrics(void *ctx, struct wg_http_stream *s)
{
	unsigned *n = malloc(sizeof(*n));

	(void)ctx;
	if (n == NULL)
		return ENOMEM;
	*n = 50;
	*s = (struct wg_http_stream){ .more = lines_more, .done = lines_done, .state = n };
	return 0;
}

static void setup(void)
{
	struct wg_config_http c = { .listen = { .ip = { .family = WG_AF_INET } },
				    .max_request_bytes = 4096, .max_connections = 8,
				    .idle_timeout = 1, .metrics = true, .n_tokens = 1 };
	char err[256];

	wg_rpc_init();
	wg_crypto_init();
	fake_init(&fk, 4);
	be = fake_backend(&fk);
	handlers = (struct wg_http_handlers){ .ctx = &fk, .rpc = &be, .metrics = start_metrics };
	snprintf(c.tokens[0], sizeof(c.tokens[0]), TOKEN);
	wg_http_auth_init(&auth, &c);
	c.listen.ip.addr[0] = 127;
	c.listen.ip.addr[3] = 1;
	srv = wg_http_listen(&c, &handlers, err, sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}
	port = wg_http_port(srv);
}

static bool known_status(unsigned s)
{
	return s == 200 || s == 400 || s == 403 || s == 405 || s == 413 || s == 500 || s == 503;
}

/* The reply as the listener would send it: checked, then freed. */
static void check_reply(struct wg_http_reply *rep, bool answered)
{
	if (!known_status(rep->status))
		abort();
	if (rep->body.len && memmem(rep->body.data, rep->body.len, PSK, strlen(PSK)))
		abort();
	if (answered && rep->status == 200 && !rep->stream.more) {
		json_t *j = json_loadb(rep->body.data, rep->body.len, 0, NULL);

		if (j == NULL || rep->body.data[rep->body.len - 1] != '\n')
			abort();
		json_decref(j);
	}
	/* A stream is drained in pieces, as the server would. */
	while (rep->stream.more && rep->stream.more(rep->stream.state, &rep->body, 64) > 0)
		wg_uapi_buf_consume(&rep->body, rep->body.len);
	wg_http_reply_free(rep);
}

/* The decision: fields cut from the input at NUL bytes. */
static void decide(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "POST", "GET", "HEAD", "PUT", "" };
	char *copy = malloc(size + 1), *f[5] = { 0 };
	struct wg_http_request req = { 0 };
	struct wg_http_reply rep;
	char *before = NULL, *after;
	size_t nf = 0, used = 0;

	if (copy == NULL || size < 2)
		goto out;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy + 1; nf < 5 && used < size;) {
		f[nf++] = p;
		p += strlen(p) + 1;
		used = (size_t)(p - copy);
	}
	req.method = methods[data[0] % 5];
	req.path = nf > 0 && f[0][0] == 'm' ? "/metrics" : nf > 0 ? f[0] : "/";
	req.content_type = nf > 1 && f[1][0] ? f[1] : (data[0] & 0x20 ? "application/json" : NULL);
	req.authorization = nf > 2 && f[2][0] ? f[2] : (data[0] & 0x40 ? "Token " TOKEN : NULL);
	req.has_referer_or_origin = (data[0] & 0x80) && (data[0] & 0x08);
	req.body_too_large = (data[0] & 0x10) && (data[0] & 0x04);
	req.body = nf > 3 ? f[3] : "";
	req.body_len = nf > 3 ? size - (size_t)(f[3] - copy) : 0;
	before = fake_snapshot(&fk);
	wg_http_reply_init(&rep);
	if (!wg_http_admit(&handlers, &auth, &req, 4096, &rep)) {
		after = fake_snapshot(&fk);
		if (strcmp(before, after) != 0)
			abort();          /* a refusal changed the gateway */
		free(after);
		check_reply(&rep, false);
		goto out;
	}
	wg_http_reply_free(&rep);
	wg_http_reply_init(&rep);
	wg_http_answer(&handlers, &req, &rep);
	check_reply(&rep, true);
out:
	free(before);
	free(copy);
}

static int dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read what the server sends; false once it closed. */
static bool drain(int fd)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN;
		if (memmem(buf, (size_t)n, PSK, strlen(PSK)))
			abort();
	}
}

static void stream(const uint8_t *data, size_t size)
{
	int fd = dial();
	size_t i = 1;

	if (fd < 0)
		return;
	for (int k = 0; k < 20; k++)
		wg_http_poll(srv);   /* accept */
	/* A request line and a Host to start with, so most inputs are requests. */
	if (data[0] & 2) {
		const char *line = TOKENS[(data[0] >> 2) % 4];

		if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 ||
		    send(fd, TOKENS[4], strlen(TOKENS[4]), MSG_NOSIGNAL) < 0) {
			close(fd);
			return;
		}
	}
	while (i < size) {
		const char *piece;
		size_t len;

		if (data[i] >= 0xc0) {
			piece = TOKENS[(data[i] - 0xc0) % N_TOKENS];
			len = strlen(piece);
			i++;
		} else {
			piece = (const char *)data + i;
			len = 1 + data[i] % 16;
			if (len > size - i)
				len = size - i;
			i += len;
		}
		if (send(fd, piece, len, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
			break;
		wg_http_poll(srv);
		if (!drain(fd))
			break;
	}
	/* Until the server is quiet: a few polls with nothing more to read. */
	for (int quiet = 0, k = 0; quiet < 3 && k < 200; k++) {
		wg_http_poll(srv);
		quiet = drain(fd) ? quiet + 1 : 3;
	}
	close(fd);
	for (int k = 0; k < 5; k++)
		wg_http_poll(srv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (srv == NULL)
		setup();
	if (size == 0)
		return 0;
	if (data[0] & 1)
		stream(data, size);
	else
		decide(data, size);
	return 0;
}
