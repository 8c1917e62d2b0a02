/* SPDX-License-Identifier: MIT */
/*
 * wgdpctl against a real server: this program forks one that serves lib/rpc over lib/ctl
 * (as the gateway's control lcore does, with the fake gateway of rpc_fake.h) on a socket in
 * a temporary directory, then runs wgdpctl (argv[1]) with good and bad arguments and checks
 * its exit status, standard output and standard error.
 *
 *   test_wgdpctl PATH-TO-WGDPCTL      the test
 *   test_wgdpctl --serve SOCKET       only the server, until killed (for trying wgdpctl
 *                                     by hand and for the examples in docs/control-api.md)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "rpc_fake.h"
#include "wg_ctl.h"
#include "wg_rpc.h"

#define PUB2 "GEGSwyhx8WuT/igWRF+UsqPUkGe1DACyALymn3uFBjs="
#define PUB3 "whz7fJfzeMH9X34R105dGbkTgjbp1joOTjSotm4ocy4="
#define PSK  "FrrxVMzEiveQE7Abdx5FguvUbhia6vOG8duVYjZQ3wU="
#define NEWKEY "AAAAAVpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="

/* ---- the server: what the gateway's control lcore does with lib/ctl and lib/rpc ---- */

struct client {
	struct wg_rpc_conn framer;
	struct wg_uapi_buf out;
};

/* Serve a bounded number of requests per call, so that one client's pipeline cannot hold
 * the loop; the rest is served from on_writable as output drains. */
static void pump(const struct wg_rpc_backend *be, struct wg_ctl_conn *c, struct client *u)
{
	int rc = wg_rpc_serve(be, &u->framer, &u->out, 16);

	if (u->out.len) {
		wg_ctl_send(c, u->out.data, u->out.len);
		wg_uapi_buf_consume(&u->out, u->out.len);
	}
	if (rc != 0 && rc != EINPROGRESS)
		wg_ctl_close_when_sent(c);
}

static bool on_data(void *ctx, struct wg_ctl_conn *c, const uint8_t *data, size_t len)
{
	struct client *u = wg_ctl_data(c);

	if (u == NULL) {
		u = calloc(1, sizeof(*u));
		if (u == NULL)
			return false;
		wg_rpc_conn_init(&u->framer, 0);
		wg_uapi_buf_init(&u->out);
		wg_ctl_set_data(c, u);
	}
	/* A refused feed is sticky in the framer; serve answers it and says to close. */
	wg_rpc_feed(&u->framer, data, len);
	pump(ctx, c, u);
	return true;
}

static void on_writable(void *ctx, struct wg_ctl_conn *c)
{
	struct client *u = wg_ctl_data(c);

	if (u)
		pump(ctx, c, u);
}

static void on_close(void *ctx, struct wg_ctl_conn *c)
{
	struct client *u = wg_ctl_data(c);

	(void)ctx;
	if (u == NULL)
		return;
	wg_rpc_conn_free(&u->framer);
	wg_uapi_buf_free(&u->out);
	free(u);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Two peers to show: one with everything set and some traffic, one bare. */
static void seed(struct fake *f)
{
	struct wg_uapi_set s = { 0 };
	struct wg_uapi_peer p[2] = { 0 };
	struct wg_uapi_aip aips[2] = { 0 };
	char why[64];

	wg_key_from_base64(p[0].public_key, PUB2, 44);
	wg_key_from_base64(p[0].preshared_key, PSK, 44);
	p[0].has_preshared_key = p[0].has_endpoint = p[0].has_keepalive = true;
	wg_endpoint_parse(&p[0].endpoint, "198.51.100.7:51820", 18);
	p[0].keepalive = 25;
	wg_prefix_parse(&aips[0].prefix, "10.0.0.2/32", 11, false);
	wg_prefix_parse(&aips[1].prefix, "fd00::2/128", 11, false);
	p[0].aips = aips;
	p[0].n_aips = 2;
	wg_key_from_base64(p[1].public_key, PUB3, 44);
	s.peers = p;
	s.n_peers = 2;
	if (fake_change(f, &s, true, why, sizeof(why)))
		abort();
	f->list.p[0].rx = 834854756;
	f->list.p[0].tx = 3883746;
	f->list.p[0].hs_sec = 1582216512;
}

static int serve(const char *path)
{
	static const struct wg_ctl_ops ops = { on_data, on_writable, on_close };
	struct fake f;
	struct wg_rpc_backend be;
	struct wg_ctl_server *s;
	char err[256];

	wg_rpc_init();
	if (wg_crypto_init() != 0)
		return 1;
	fake_init(&f, 100000);
	seed(&f);
	be = fake_backend(&f);
	s = wg_ctl_listen(path, &ops, &be, NULL, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "serve: %s\n", err);
		return 1;
	}
	for (;;) {
		wg_ctl_poll(s, now_ns());
		usleep(500);
	}
}

/* ---- running wgdpctl ---- */

#define SUN_PATH_LEN sizeof(((struct sockaddr_un *)0)->sun_path)

static const char *ctl_path;
static char sock[SUN_PATH_LEN];

struct run {
	int status;             /* exit status, or -1 if it did not exit normally */
	char out[1 << 20], err[4096];
};

/* Read both pipes to their end. */
static void drain(int out_fd, int err_fd, struct run *r)
{
	size_t n_out = 0, n_err = 0;
	struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN }, { .fd = err_fd, .events = POLLIN } };

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, 10000) <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			char *buf = i ? r->err : r->out;
			size_t *n = i ? &n_err : &n_out, cap = i ? sizeof(r->err) : sizeof(r->out);
			ssize_t k;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			k = read(p[i].fd, buf + *n, cap - 1 - *n);
			if (k <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				continue;
			}
			*n += (size_t)k;
		}
	}
	r->out[n_out] = '\0';
	r->err[n_err] = '\0';
}

/* Run wgdpctl with argv (after argv[0]) and `input` on stdin. */
static void run_ctl(struct run *r, const char *input, char *const args[])
{
	int in[2], out[2], err[2], status;
	char *argv[16] = { (char *)"wgdpctl" };
	pid_t pid;

	for (int i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	if (pipe(in) || pipe(out) || pipe(err))
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[1]);
		close(out[0]);
		close(err[0]);
		execv(ctl_path, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (input && write(in[1], input, strlen(input)) != (ssize_t)strlen(input))
		abort();
	close(in[1]);
	drain(out[0], err[0], r);
	waitpid(pid, &status, 0);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define CTL(r, input, ...) run_ctl((r), (input), (char *const[]){ __VA_ARGS__, NULL })

static void expect(const struct run *r, int status, const char *in_out, const char *in_err)
{
	bool ok = CHECK_EQ(r->status, status);

	ok &= CHECK(in_out ? strstr(r->out, in_out) != NULL : r->out[0] == '\0');
	ok &= CHECK(in_err ? strstr(r->err, in_err) != NULL : r->err[0] == '\0');
	/* No answer ever shows the preshared key. */
	ok &= CHECK(strstr(r->out, PSK) == NULL && strstr(r->err, PSK) == NULL);
	if (!ok)
		fprintf(stderr, "  status %d\n  stdout: %s\n  stderr: %s\n", r->status, r->out,
			r->err);
}

static unsigned count(const char *s, const char *what)
{
	unsigned n = 0;

	for (; (s = strstr(s, what)) != NULL; s++)
		n++;
	return n;
}

static unsigned lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_reads(struct run *r)
{
	CTL(r, NULL, "-s", sock, "GetDeviceInfo");
	expect(r, 0, "\"name\": \"wgdp0\"", NULL);
	CHECK(strstr(r->out, "\"num_peers\": 2") != NULL);
	CHECK(lines(r->out) > 5);
	CTL(r, NULL, "--socket", sock, "--raw", "GetDeviceInfo");
	expect(r, 0, "{\"device\":{\"name\":\"wgdp0\"", NULL);
	CHECK_EQ(lines(r->out), 1);
	CTL(r, NULL, "-s", sock, "ListPeers", "limit=1");
	expect(r, 0, "\"next_offset\": 1", NULL);
	CHECK(strstr(r->out, "\"receive_bytes\": 834854756") != NULL);
	CTL(r, NULL, "-s", sock, "-r", "GetPeer", "public_key=" PUB2);
	expect(r, 0, "\"has_preshared_key\":true", NULL);
	CHECK(strstr(r->out, "\"last_handshake\":\"2020-02-20T16:35:12Z\"") != NULL);
	CTL(r, NULL, "-s", sock, "GetStats");
	expect(r, 0, "\"DECRYPT\": 8", NULL);
	CTL(r, NULL, "-s", sock, "-r", "GetLcores");
	expect(r, 0, "{\"single_lcore\":false,\"lcores\":[{\"lcore\":1,\"role\":\"worker\"", NULL);
}

static void test_changes(struct run *r)
{
	CTL(r, NULL, "-s", sock, "AddPeer", "public_key=" NEWKEY,
	    "allowed_ips=10.9.0.0/24,fd00:9::/64", "endpoint=192.0.2.7:51820",
	    "persistent_keep_alive=25s");
	expect(r, 0, "\"ok\": true", NULL);
	CTL(r, NULL, "-s", sock, "-r", "GetPeer", "public_key=" NEWKEY);
	expect(r, 0, "\"allowed_ips\":[\"10.9.0.0/24\",\"fd00:9::/64\"]", NULL);
	CHECK(strstr(r->out, "\"endpoint\":\"192.0.2.7:51820\"") != NULL);
	/* A JSON object as the parameters; a one-element list by key=value. */
	CTL(r, NULL, "-s", sock, "AddPeer", "{\"public_key\": \"" NEWKEY "\", "
	    "\"allowed_ips\": [], \"validate_only\": true}");
	expect(r, 0, "\"ok\": false", NULL);
	CTL(r, NULL, "-s", sock, "AddPeer", "public_key=" NEWKEY,
	    "allowed_ips=10.8.0.0/16");
	expect(r, 0, "\"ok\": true", NULL);
	CTL(r, NULL, "-s", sock, "-r", "GetPeer", "public_key=" NEWKEY);
	expect(r, 0, "\"allowed_ips\":[\"10.8.0.0/16\"]", NULL);
	CTL(r, NULL, "-s", sock, "RemovePeers", "public_keys=" NEWKEY);
	expect(r, 0, "\"count\": 1", NULL);
	CTL(r, NULL, "-s", sock, "-r", "GetPeer", "public_key=" NEWKEY);
	expect(r, 0, "{\"peer\":null}", NULL);
}

/* AddPeers and RemovePeers of 200 peers, the parameters on stdin. */
static void test_bulk(struct run *r)
{
	char *add = NULL, *rm = NULL, key[WG_KEY_B64_LEN + 1];
	size_t n;
	FILE *a = open_memstream(&add, &n), *d = open_memstream(&rm, &n);
	uint8_t k[WG_KEY_LEN];

	fputs("{\"peers\": [", a);
	fputs("{\"public_keys\": [", d);
	for (unsigned i = 0; i < 200; i++) {
		memset(k, 0x11, sizeof(k));
		k[0] = (uint8_t)i;
		wg_key_to_base64(key, k);
		fprintf(a, "%s{\"public_key\": \"%s\", \"allowed_ips\": [\"10.7.0.%u/32\"]}",
			i ? "," : "", key, i);
		fprintf(d, "%s\"%s\"", i ? "," : "", key);
	}
	fputs("]}", a);
	fputs("]}", d);
	fclose(a);
	fclose(d);
	CTL(r, add, "-s", sock, "AddPeers", "-");
	expect(r, 0, "\"count\": 200", NULL);
	CTL(r, NULL, "-s", sock, "-r", "ListPeers", "offset=200", "limit=5");
	expect(r, 0, "\"total\":202", NULL);
	/* Every page, 50 peers at a time, as one result. */
	CTL(r, NULL, "-s", sock, "-r", "--all", "ListPeers", "limit=50");
	expect(r, 0, "\"total\":202,\"next_offset\":null}", NULL);
	CHECK_EQ(count(r->out, "\"public_key\""), 202);
	CTL(r, NULL, "-s", sock, "-r", "--all", "ListPeers", "offset=190", "limit=7");
	CHECK_EQ(count(r->out, "\"public_key\""), 12);
	CTL(r, rm, "-s", sock, "--raw", "RemovePeers", "-");
	expect(r, 0, "{\"ok\":true,\"count\":200}", NULL);
	free(add);
	free(rm);
}

static void test_errors(struct run *r)
{
	CTL(r, NULL, "-s", sock, "AddPeer", "public_key=abc");
	expect(r, 1, NULL, "wgdpctl: AddPeer: public_key: malformed key: 3 characters");
	CHECK(strstr(r->err, "(JSON-RPC error -32602)") != NULL);
	CTL(r, NULL, "-s", sock, "AddPeer", "public_key=" PUB2, "preshared_key=" PSK "x");
	expect(r, 1, NULL, "preshared_key: malformed key");
	CTL(r, NULL, "-s", sock, "Frobnicate");
	expect(r, 1, NULL, "method not found: \"Frobnicate\" (JSON-RPC error -32601)");
	CTL(r, NULL, "-s", sock, "ListPeers", "limit=-1");
	expect(r, 1, NULL, "limit: must not be negative");
}

/* A socket that accepts but never answers. */
static int silent_server(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4))
		abort();
	return fd;
}

static void test_usage(struct run *r, const char *dir)
{
	char silent[SUN_PATH_LEN];
	int fd;

	CTL(r, NULL, "--help");
	expect(r, 0, "RemovePeers", NULL);
	CTL(r, NULL, "-s", sock);
	expect(r, 2, NULL, "usage: wgdpctl");
	CTL(r, NULL, "-s");
	expect(r, 2, NULL, "usage: wgdpctl");
	CTL(r, NULL, "-s", sock, "GetPeer", "public_key");
	expect(r, 2, NULL, "parameter not key=value: public_key");
	CTL(r, NULL, "-s", sock, "AddPeer", "a=1", "a=2");
	expect(r, 2, NULL, "parameter given twice: a");
	CTL(r, NULL, "-s", sock, "AddPeer", "{bad");
	expect(r, 2, NULL, "params are not JSON");
	CTL(r, "[1]", "-s", sock, "AddPeers", "-");
	expect(r, 2, NULL, "params must be a JSON object");
	CTL(r, NULL, "-s", sock, "--all", "GetPeer", "public_key=" PUB2);
	expect(r, 2, NULL, "--all is for ListPeers, not GetPeer");
	CTL(r, NULL, "-s", sock, "--all", "ListPeers", "limit=-1");
	expect(r, 1, NULL, "limit: must not be negative");
	CTL(r, NULL, "-t", "0", "-s", sock, "GetLcores");
	expect(r, 2, NULL, "bad timeout");
	CTL(r, NULL, "-s", "/nonexistent/wgdp-test.sock", "GetDeviceInfo");
	expect(r, 2, NULL, "cannot connect to /nonexistent/wgdp-test.sock");
	CTL(r, NULL, "-i", "wgdp-no-such-gateway", "GetDeviceInfo");
	expect(r, 2, NULL, "cannot connect to /var/run/wgdp/wgdp-no-such-gateway.json.sock");
	CTL(r, NULL, "-i", "../etc", "GetDeviceInfo");
	expect(r, 2, NULL, "bad interface name");
	snprintf(silent, sizeof(silent), "%s/silent.sock", dir);
	fd = silent_server(silent);
	CTL(r, NULL, "-t", "1", "-s", silent, "GetDeviceInfo");
	expect(r, 2, NULL, "no response before the timeout");
	close(fd);
	unlink(silent);
}

/* Wait for the server's socket to accept. */
static bool wait_ready(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	for (int i = 0; i < 500; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		close(fd);
		if (ok)
			return true;
		usleep(10000);
	}
	return false;
}

int main(int argc, char **argv)
{
	static struct run r;
	char dir[] = "/tmp/wgdpctl-test.XXXXXX";
	pid_t server;

	if (argc == 3 && strcmp(argv[1], "--serve") == 0)
		return serve(argv[2]);
	if (argc != 2 || access(argv[1], X_OK) != 0) {
		fprintf(stderr, "usage: test_wgdpctl PATH-TO-WGDPCTL | --serve SOCKET\n");
		return 1;
	}
	ctl_path = argv[1];
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sock, sizeof(sock), "%s/wgdp0.json.sock", dir);
	server = fork();
	if (server == 0)
		_exit(serve(sock));
	if (CHECK(wait_ready())) {
		test_reads(&r);
		test_changes(&r);
		test_bulk(&r);
		test_errors(&r);
		test_usage(&r, dir);
	}
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	unlink(sock);
	rmdir(dir);
	return check_report("wgdpctl");
}
