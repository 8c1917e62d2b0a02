/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the gateway's control sockets as a client meets them: the `wg`
 * (UAPI) socket and the JSON-RPC socket of an in-process gateway (lib/sim), served by the
 * control loop through lib/ctl. A fuzzed byte stream is written over a real Unix socket
 * in fuzzer-chosen pieces, with control polls between them, optionally half-closed, and
 * whatever comes back is read. The servers' framing, the parsers and the appliers all
 * meet it, as do partial reads and writes and early closes.
 *
 * The first byte picks the socket, the number of pieces and the half-close; after it, bytes
 * from 0xc0 stand for whole tokens (request headers, keys, valid values), so that a short
 * run from a fixed seed reaches the handlers. Properties:
 *   - UAPI: every reply the server finishes (ends in a blank line) ends in an errno line;
 *   - JSON-RPC: every line the server sends is a JSON-RPC 2.0 object with a result or an
 *     error;
 *   - every 64 inputs, a fresh connection still gets an answer to `get=1` (errno=0) and
 *     to GetDeviceInfo: nothing a client sent broke the servers.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dpdk_roots.h"
#include "wg_sim.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wg_sim *sim;
static char dir[] = "/tmp/wgdp-fuzz-sockets-XXXXXX", uapi_path[128], rpc_path[128];
static unsigned inputs;

#define HEXKEY "ea0ce7839c355efa8d3f2b587b891d4855f79c6cba8ab005cdc5341faca94267"

static const char *const TOKENS[] = {
	"get=1\n\n", "set=1\n", "\n", "public_key=" HEXKEY "\n", "allowed_ip=10.9.0.0/16\n",
	"endpoint=192.0.2.1:51820\n", "persistent_keepalive_interval=25\n", "remove=true\n",
	"replace_peers=true\n", "listen_port=51820\n", "update_only=true\n",
	"preshared_key=" HEXKEY "\n", "replace_allowed_ips=true\n", "protocol_version=1\n",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"", "GetDeviceInfo", "ListPeers", "GetPeer",
	"AddPeer", "RemovePeer", "GetStats", "GetLcores", "AddPeers", "RemovePeers",
	"\",\"params\":{", "\"public_key\":\"6gznmNw1Xvn9OyuYe4kdSFX3nGy6irAFzcU0H6ypQmc=\"",
	",\"allowed_ips\":[\"10.8.0.1/32\"]", ",\"limit\":2", "}}\n", "\"", ",", "[", "]", "{",
	"}", "null", "true", "12345678901234567890",
};
#define N_TOKENS (sizeof(TOKENS) / sizeof(TOKENS[0]))

static void must(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_sockets: violated: %s\n", what);
		abort();
	}
}

static void done(void)
{
	wg_sim_destroy(sim);
	wg_sim_eal_cleanup();
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct wg_sim_params p = { .n_clients = 2, .max_peers = 64 };
	char err[256];

	(void)argc;
	if (mkdtemp(dir) == NULL || wg_sim_eal_init((*argv)[0], 512, 0) != 0)
		abort();
	p.socket_dir = dir;
	snprintf(uapi_path, sizeof(uapi_path), "%s/uapi.sock", dir);
	snprintf(rpc_path, sizeof(rpc_path), "%s/rpc.sock", dir);
	sim = wg_sim_create(&p, err, sizeof(err));
	if (sim == NULL) {
		fprintf(stderr, "fuzz_sockets: %s\n", err);
		abort();
	}
	dpdk_register_roots();
	atexit(done);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	must(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect");
	return fd;
}

/* A control poll (lib/ctl is polled once a simulated millisecond). */
static void poll_once(void)
{
	wg_sim_advance(sim, 1000000);
	wg_sim_run(sim, 1);
	wg_sim_discard(sim);
}

struct reply {
	char *b;
	size_t n, cap;
	bool closed;
};

static void take(int fd, struct reply *r)
{
	for (;;) {
		ssize_t n;

		if (r->cap - r->n < 4096) {
			r->cap = r->cap ? r->cap * 2 : 65536;
			r->b = realloc(r->b, r->cap + 1);
			must(r->b != NULL, "memory");
		}
		n = read(fd, r->b + r->n, r->cap - r->n);
		if (n > 0) {
			r->n += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			r->closed = true;
		return;
	}
}

/* Write all of it in `pieces` pieces with a server poll between them (so the server's
 * reads split where the pieces do, or wherever the socket fills), then maybe half-close,
 * and read until the server closes or makes no progress for three polls. */
static void converse(const char *path, const uint8_t *msg, size_t len, unsigned pieces,
		     bool half_close, struct reply *r)
{
	int fd = connect_to(path);
	size_t off = 0, piece = len / pieces + 1;
	unsigned quiet = 0;

	for (int spins = 0; off < len && spins < 256 && !r->closed; spins++) {
		size_t n = len - off < piece ? len - off : piece;
		ssize_t w = write(fd, msg + off, n);

		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			break;
		poll_once();
		take(fd, r);
	}
	if (half_close)
		shutdown(fd, SHUT_WR);
	for (int i = 0; i < 256 && !r->closed && quiet < 3; i++) {
		size_t before = r->n;

		poll_once();
		take(fd, r);
		quiet = r->n == before ? quiet + 1 : 0;
	}
	close(fd);
	if (r->b == NULL)
		take(-1, r);          /* an empty reply still gets its buffer */
	r->b[r->n] = '\0';
}

static void check_uapi(const struct reply *r)
{
	const char *p = r->b, *end;

	/* Each finished reply ends "errno=N\n\n". */
	while ((end = strstr(p, "\n\n")) != NULL) {
		const char *line = end;

		while (line > p && line[-1] != '\n')
			line--;
		must(strncmp(line, "errno=", 6) == 0, "a UAPI reply ends in errno=");
		p = end + 2;
	}
}

static void check_rpc(const struct reply *r)
{
	char *p = r->b, *nl;

	while ((nl = strchr(p, '\n')) != NULL) {
		json_error_t e;
		json_t *o;

		*nl = '\0';
		o = json_loads(p, 0, &e);
		must(o && json_is_object(o), "a JSON-RPC line is a JSON object");
		must(json_is_string(json_object_get(o, "jsonrpc")) &&
		     strcmp(json_string_value(json_object_get(o, "jsonrpc")), "2.0") == 0,
		     "a JSON-RPC reply says jsonrpc 2.0");
		must((json_object_get(o, "result") != NULL) != (json_object_get(o, "error") != NULL),
		     "a JSON-RPC reply has a result or an error");
		json_decref(o);
		p = nl + 1;
	}
}

static void check_alive(void)
{
	static const char get[] = "get=1\n\n";
	static const char info[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"GetDeviceInfo\"}\n";
	struct reply r = { 0 };

	converse(uapi_path, (const uint8_t *)get, sizeof(get) - 1, 1, false, &r);
	must(strstr(r.b, "errno=0\n\n") != NULL, "the UAPI socket answers get=1");
	free(r.b);
	memset(&r, 0, sizeof(r));
	converse(rpc_path, (const uint8_t *)info, sizeof(info) - 1, 1, false, &r);
	must(strstr(r.b, "\"result\"") != NULL, "the JSON-RPC socket answers GetDeviceInfo");
	free(r.b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[65536];
	struct reply r = { 0 };
	size_t n = 0;
	unsigned pieces;
	bool rpc, half_close;

	if (size < 1)
		return 0;
	rpc = data[0] & 1;
	half_close = data[0] & 2;
	pieces = 1 + (data[0] >> 2 & 7);                   /* written in 1 .. 8 pieces */
	for (size_t i = 1; i < size; i++) {
		const char *t = data[i] >= 0xc0 ? TOKENS[(data[i] - 0xc0) % N_TOKENS] : NULL;
		size_t tl = t ? strlen(t) : 1;

		if (n + tl > sizeof(msg))
			break;
		if (t)
			memcpy(msg + n, t, tl);
		else
			msg[n] = data[i];
		n += tl;
	}
	converse(rpc ? rpc_path : uapi_path, msg, n, pieces, half_close, &r);
	if (rpc)
		check_rpc(&r);
	else
		check_uapi(&r);
	free(r.b);
	if (++inputs % 64 == 0)
		check_alive();
	return 0;
}
