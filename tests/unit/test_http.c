/* SPDX-License-Identifier: MIT */
/*
 * The HTTP listener (lib/http) on a loopback port in this process, in front of the fake
 * gateway of test_rpc: every answer of wg-api's transport (the JSON-RPC methods without
 * an id, tokens as Token and Bearer, a browser's Referer, the wrong method, a missing
 * content type, a body that is not JSON, one over the limit declared and undeclared),
 * nothing changed by a refused request, a streamed page in pieces, a partial request
 * closed after the idle timeout while others are served, and malformed HTTP.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"
#include "rpc_fake.h"
#include "wg_http.h"

#define PUB2 "GEGSwyhx8WuT/igWRF+UsqPUkGe1DACyALymn3uFBjs="
#define PUB3 "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="

static struct wg_http_server *srv;
static uint16_t port;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Read what the server sends until it closes or `secs` pass, polling it meanwhile. */
static size_t drain(int fd, char *out, size_t cap, double secs)
{
	double end = now_s() + secs;
	size_t len = 0;

	while (now_s() < end) {
		ssize_t n;

		wg_http_poll(srv);
		n = recv(fd, out + len, cap - 1 - len, 0);
		if (n == 0)
			break;
		if (n > 0) {
			len += (size_t)n;
			if (len == cap - 1)
				break;
			continue;
		}
		if (errno != EAGAIN)
			break;
		usleep(500);
	}
	out[len] = '\0';
	return len;
}

/* One request on its own connection; the response in out. */
static size_t exchange(const char *req, size_t len, char *out, size_t cap)
{
	int fd = dial();
	size_t off = 0, n;

	if (fd < 0)
		return 0;
	while (off < len) {
		ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);

		if (w > 0)
			off += (size_t)w;
		else if (errno != EAGAIN)
			break;
		wg_http_poll(srv);
	}
	n = drain(fd, out, cap, 5);
	close(fd);
	return n;
}

static char resp[1 << 20];

/* POST body with these extra headers. */
static const char *post(const char *headers, const char *body)
{
	static char req[1 << 16];
	int n = snprintf(req, sizeof(req), "POST /any/path HTTP/1.1\r\nHost: x\r\n"
			 "Connection: close\r\n%sContent-Length: %zu\r\n\r\n%s", headers,
			 strlen(body), body);

	exchange(req, (size_t)n, resp, sizeof(resp));
	return resp;
}

static unsigned status_of(const char *r)
{
	unsigned s = 0;

	return sscanf(r, "HTTP/1.%*c %u", &s) == 1 ? s : 0;
}

static const char *body_of(const char *r)
{
	const char *b = strstr(r, "\r\n\r\n");

	return b ? b + 4 : "";
}

#define JSON_CT "Content-Type: application/json\r\n"

static struct fake fk;
static struct wg_rpc_backend be;

/* wg-api's README requests, as they are: no id, params {}. */
static void test_wg_api_requests(void)
{
	const char *r;

	r = post(JSON_CT, "{\"jsonrpc\": \"2.0\", \"method\": \"GetDeviceInfo\", \"params\": {}}");
	CHECK_EQ(status_of(r), 200);
	CHECK(strstr(r, "Content-Type: application/json") != NULL);
	CHECK(strstr(body_of(r), "\"id\":null") != NULL);
	CHECK(strstr(body_of(r), "\"device\":{\"name\":\"wgdp0\"") != NULL);

	r = post("Content-Type: application/json; charset=utf-8\r\n",
		 "{\"jsonrpc\": \"2.0\", \"method\": \"ListPeers\", \"params\": {}}");
	CHECK_EQ(status_of(r), 200);
	CHECK(strstr(body_of(r), "\"peers\":[") != NULL);

	r = post(JSON_CT, "{\"jsonrpc\": \"2.0\", \"method\": \"AddPeer\", \"params\": "
		 "{\"public_key\": \"" PUB3 "\",\"allowed_ips\": [ \"10.1.1.0/24\" ], "
		 "\"persistent_keep_alive\": \"1m30.5s\", \"something_else\": 1}}");
	CHECK_EQ(status_of(r), 200);
	CHECK(strstr(body_of(r), "\"result\":{\"ok\":true}") != NULL);
	r = post(JSON_CT, "{\"method\": \"GetPeer\", \"params\": {\"public_key\": \"" PUB3 "\"}, "
		 "\"id\": 7}");
	CHECK(strstr(body_of(r), "\"id\":7") != NULL);
	CHECK(strstr(body_of(r), "\"persistent_keep_alive\":\"1m30s\"") != NULL);
	r = post(JSON_CT, "{\"method\": \"AddPeer\", \"params\": {\"public_key\": \"" PUB3 "\", "
		 "\"persistent_keep_alive\": 25}}");
	CHECK(strstr(body_of(r), "\"ok\":true") != NULL);
	r = post(JSON_CT, "{\"method\": \"GetPeer\", \"params\": {\"public_key\": \"" PUB3 "\"}}");
	CHECK(strstr(body_of(r), "\"persistent_keep_alive\":\"25s\"") != NULL);
	r = post(JSON_CT, "{\"method\": \"RemovePeer\", \"params\": {\"public_key\": \"" PUB3 "\"}}");
	CHECK(strstr(body_of(r), "\"ok\":true") != NULL);
	r = post(JSON_CT, "{\"method\": \"GetPeer\", \"params\": {\"public_key\": \"" PUB3 "\"}}");
	CHECK(strstr(body_of(r), "\"peer\":null") != NULL);
	/* A JSON-RPC error is still HTTP 200, as wg-api answers it. */
	r = post(JSON_CT, "{\"method\": \"Nope\"}");
	CHECK_EQ(status_of(r), 200);
	CHECK(strstr(body_of(r), "-32601") != NULL);
}

/* Refusals, each as wg-api writes it, and nothing changed by any of them. */
static void test_refusals(void)
{
	static const char add[] = "{\"jsonrpc\":\"2.0\",\"method\":\"AddPeer\",\"params\":"
				  "{\"public_key\":\"" PUB3 "\"}}";
	char *before = fake_snapshot(&fk), *after;
	char big[4096];
	const char *r;

	r = post("", add);
	CHECK_EQ(status_of(r), 400);
	CHECK(strcmp(body_of(r), "unknown content type \"\"\n") == 0);
	r = post("Content-Type: text/plain\r\n", add);
	CHECK(strcmp(body_of(r), "unknown content type \"text/plain\"\n") == 0);
	r = post(JSON_CT "Referer: http://evil.example/\r\n", add);
	CHECK_EQ(status_of(r), 403);
	CHECK(strcmp(body_of(r), "forbidden\n") == 0);
	r = post(JSON_CT "Origin: http://evil.example\r\n", add);
	CHECK_EQ(status_of(r), 403);
	r = post(JSON_CT, "{\"jsonrpc\":\"2.0\",\"method\":\"AddPeer\"");
	CHECK_EQ(status_of(r), 400);
	CHECK(strncmp(body_of(r), "invalid request: ", 17) == 0);
	snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	exchange(big, strlen(big), resp, sizeof(resp));
	CHECK_EQ(status_of(resp), 405);
	CHECK(strcmp(body_of(resp), "method not allowed\n") == 0);
	snprintf(big, sizeof(big), "PUT / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 JSON_CT "Content-Length: 2\r\n\r\n{}");
	exchange(big, strlen(big), resp, sizeof(resp));
	CHECK_EQ(status_of(resp), 405);
	/* Over the limit (4096 here), declared: 413 before the body is read. */
	snprintf(big, sizeof(big), "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 JSON_CT "Content-Length: 100000\r\n\r\n{");
	exchange(big, strlen(big), resp, sizeof(resp));
	CHECK_EQ(status_of(resp), 413);
	/* ... and undeclared (chunked): the connection is cut. */
	{
		char req[16384];
		int n = snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: x\r\n" JSON_CT
				 "Transfer-Encoding: chunked\r\n\r\n2000\r\n");

		memset(req + n, ' ', 0x2000);
		memcpy(req + n + 0x2000, "\r\n0\r\n\r\n", 7);
		exchange(req, (size_t)n + 0x2000 + 7, resp, sizeof(resp));
		CHECK_EQ(status_of(resp), 0);
	}
	/* Malformed HTTP: libmicrohttpd answers 400 itself. */
	r = "NOT-HTTP\r\n\r\n";
	exchange(r, strlen(r), resp, sizeof(resp));
	CHECK(status_of(resp) == 400 || resp[0] == '\0');
	r = "POST / HTTP/1.1\r\nBroken header line\r\n\r\n";
	exchange(r, strlen(r), resp, sizeof(resp));
	CHECK_EQ(status_of(resp), 400);
	after = fake_snapshot(&fk);
	CHECK(strcmp(before, after) == 0);
	free(before);
	free(after);
}

/* A client that sends half a request and stops: closed after the idle timeout, while
 * others are answered meanwhile. */
static void test_slow_client(void)
{
	static const char part[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Le";
	int fd = dial();
	double t0 = now_s();
	char buf[256];
	const char *r;

	if (!CHECK(fd >= 0))
		return;
	CHECK_EQ(send(fd, part, sizeof(part) - 1, 0), (ssize_t)sizeof(part) - 1);
	for (int i = 0; i < 3; i++) {
		r = post(JSON_CT, "{\"method\": \"GetDeviceInfo\"}");
		CHECK_EQ(status_of(r), 200);
	}
	CHECK(wg_http_connections(srv) >= 1);
	drain(fd, buf, sizeof(buf), 4);
	CHECK(now_s() - t0 >= 0.9);
	CHECK(now_s() - t0 < 4);
	for (int i = 0; i < 10; i++)
		wg_http_poll(srv);   /* the last connections' ends are noted on later polls */
	CHECK_EQ(wg_http_connections(srv), 0);
	close(fd);
}

/* A stream: many pieces, each produced when there is room. */
struct pages {
	unsigned next, total, calls, done;
};

static int pages_more(void *state, struct wg_uapi_buf *out, size_t room)
{
	struct pages *p = state;
	size_t start = out->len;

	p->calls++;
	for (; p->next < p->total && out->len - start < room; p->next++)
		wg_uapi_buf_printf(out, "line_%u %u\n", p->next, p->next);
	return p->next < p->total;
}

static void pages_done(void *state)
{
	((struct pages *)state)->done++;
}

static struct pages pages;

static int start_pages(void *ctx, struct wg_http_stream *s)
{
	(void)ctx;
	pages = (struct pages){ .total = 50000 };
	*s = (struct wg_http_stream){ .more = pages_more, .done = pages_done, .state = &pages };
	return 0;
}

static void test_stream(void)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	const char *b;
	unsigned n = 0;

	exchange(req, sizeof(req) - 1, resp, sizeof(resp));
	CHECK_EQ(status_of(resp), 200);
	CHECK(strstr(resp, "Content-Type: text/plain; version=0.0.4") != NULL);
	for (b = body_of(resp); *b; b = strchr(b, '\n') + 1) {
		unsigned a, c;

		if (sscanf(b, "line_%u %u", &a, &c) != 2 || a != n || c != n)
			break;
		n++;
	}
	CHECK_EQ(n, 50000);
	CHECK(pages.calls > 10);       /* in pieces, not one page */
	CHECK_EQ(pages.done, 1);
}

/* Tokens: required where set, as Token or Bearer; the rest as before. */
static void test_tokens(void)
{
	struct wg_config_http c = { .listen = { .ip = { .family = WG_AF_INET }, .port = 0 },
				    .max_request_bytes = 4096, .max_connections = 8,
				    .idle_timeout = 1, .metrics = true, .n_tokens = 1 };
	struct wg_http_handlers h = { .ctx = &fk, .rpc = &be, .metrics = start_pages };
	char err[256];
	const char *r;

	c.listen.ip.addr[0] = 127;
	c.listen.ip.addr[3] = 1;
	snprintf(c.tokens[0], sizeof(c.tokens[0]), "s3cret-token");
	wg_http_close(srv);
	srv = wg_http_listen(&c, &h, err, sizeof(err));
	if (!CHECK(srv != NULL)) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	port = wg_http_port(srv);
	r = post(JSON_CT, "{\"method\": \"GetDeviceInfo\"}");
	CHECK_EQ(status_of(r), 403);
	CHECK(strcmp(body_of(r), "forbidden\n") == 0);
	r = post(JSON_CT "Authorization: Token wrong\r\n", "{\"method\": \"GetDeviceInfo\"}");
	CHECK_EQ(status_of(r), 403);
	r = post(JSON_CT "Authorization: s3cret-token\r\n", "{\"method\": \"GetDeviceInfo\"}");
	CHECK_EQ(status_of(r), 403);
	r = post(JSON_CT "Authorization: Token s3cret-token\r\n", "{\"method\": \"GetDeviceInfo\"}");
	CHECK_EQ(status_of(r), 200);
	r = post(JSON_CT "Authorization: Bearer s3cret-token\r\n", "{\"method\": \"GetDeviceInfo\"}");
	CHECK_EQ(status_of(r), 200);
	/* Without the token even the wrong method is forbidden first (wg-api's order). */
	exchange("GET / HTTP/1.0\r\n\r\n", 18, resp, sizeof(resp));
	CHECK_EQ(status_of(resp), 403);
	r = "GET /metrics HTTP/1.0\r\nAuthorization: Bearer s3cret-token\r\n\r\n";
	exchange(r, strlen(r), resp, sizeof(resp));
	CHECK_EQ(status_of(resp), 200);
}

int main(void)
{
	struct wg_config_http c = { .listen = { .ip = { .family = WG_AF_INET }, .port = 0 },
				    .max_request_bytes = 4096, .max_connections = 8,
				    .idle_timeout = 1, .metrics = true };
	struct wg_http_handlers h;
	char err[256];

	wg_rpc_init();
	CHECK_EQ(wg_crypto_init(), 0);
	fake_init(&fk, 100);
	be = fake_backend(&fk);
	h = (struct wg_http_handlers){ .ctx = &fk, .rpc = &be, .metrics = start_pages };
	c.listen.ip.addr[0] = 127;
	c.listen.ip.addr[3] = 1;
	srv = wg_http_listen(&c, &h, err, sizeof(err));
	if (!CHECK(srv != NULL)) {
		fprintf(stderr, "  %s\n", err);
		return check_report("http");
	}
	port = wg_http_port(srv);
	CHECK(port != 0);
	test_wg_api_requests();
	test_refusals();
	test_slow_client();
	test_stream();
	test_tokens();
	wg_http_close(srv);
	fake_free(&fk);
	return check_report("http");
}
