/* SPDX-License-Identifier: MIT */
/*
 * lib/ctl, the control sockets' server, driven in one thread with a fake clock: answers
 * reach a client that half-closes after its request, a client that reads nothing cannot
 * make the server queue more than its bound, an idle client is closed, clients past the
 * connection limit are refused while the others keep working, the socket is created
 * root-only and removed on destroy, and no request or reply (keys travel in both) is left
 * in a buffer after use, freed or grown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "wg_ctl.h"

#define SEC 1000000000ull

struct echo {
	unsigned closes;
	size_t amplify;     /* answer each byte with this many */
};

static bool on_data(void *ctx, struct wg_ctl_conn *c, const uint8_t *data, size_t len)
{
	struct echo *e = ctx;
	static uint8_t big[1 << 16];

	if (e->amplify == 0)
		return wg_ctl_send(c, data, len);
	memset(big, 'x', sizeof(big));
	for (size_t i = 0; i < len * e->amplify; i += sizeof(big))
		if (!wg_ctl_send(c, big, sizeof(big)))
			return true;   /* the server closes it itself */
	return true;
}

static void on_close(void *ctx, struct wg_ctl_conn *c)
{
	(void)c;
	((struct echo *)ctx)->closes++;
}

static const struct wg_ctl_ops ops = { .on_data = on_data, .on_close = on_close };

static int client(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd;

	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -1;   /* too long for sun_path: no connection, as connect(2) would say */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void poll_n(struct wg_ctl_server *s, uint64_t *now, int n)
{
	for (int i = 0; i < n; i++) {
		*now += 1000;
		wg_ctl_poll(s, *now);
	}
}

/* Read what is there; -1 when the server has closed and nothing is left. */
static ssize_t drain(int fd, char *buf, size_t cap)
{
	ssize_t n = read(fd, buf, cap);

	if (n == 0)
		return -1;
	return n < 0 ? (errno == EAGAIN ? 0 : -1) : n;
}

static void test_echo_and_half_close(const char *path)
{
	struct echo e = { 0 };
	char err[256], buf[64];
	uint64_t now = SEC;
	struct wg_ctl_server *s = wg_ctl_listen(path, &ops, &e, NULL, err, sizeof(err));
	struct stat st;
	int fd;

	if (!CHECK(s != NULL))
		return;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	fd = client(path);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "hello\n", 6), 6);
	shutdown(fd, SHUT_WR);           /* done sending, still listening */
	poll_n(s, &now, 5);
	CHECK_EQ(drain(fd, buf, sizeof(buf)), 6);
	CHECK_MEM(buf, "hello\n", 6);
	CHECK_EQ(drain(fd, buf, sizeof(buf)), -1);   /* then the server hangs up */
	CHECK_EQ(e.closes, 1);
	CHECK_EQ(wg_ctl_conns(s), 0);
	close(fd);
	wg_ctl_destroy(s);
	CHECK(stat(path, &st) != 0);
}

static void test_output_bound(const char *path)
{
	struct echo e = { .amplify = 1 << 20 };   /* 1 MiB per byte asked */
	struct wg_ctl_limits lim = { .max_output = 4u << 20 };
	char err[256];
	uint64_t now = SEC;
	struct wg_ctl_server *s = wg_ctl_listen(path, &ops, &e, &lim, err, sizeof(err));
	int fd;

	if (!CHECK(s != NULL))
		return;
	fd = client(path);
	CHECK_EQ(write(fd, "0123456789", 10), 10);   /* asks for 10 MiB, never reads */
	poll_n(s, &now, 5);
	CHECK_EQ(e.closes, 1);
	CHECK_EQ(wg_ctl_conns(s), 0);
	close(fd);
	wg_ctl_destroy(s);
}

static void test_idle_and_limit(const char *path)
{
	struct echo e = { 0 };
	struct wg_ctl_limits lim = { .max_conns = 3, .idle_ns = 5 * SEC };
	char err[256], buf[16];
	uint64_t now = SEC;
	struct wg_ctl_server *s = wg_ctl_listen(path, &ops, &e, &lim, err, sizeof(err));
	int fds[5];

	if (!CHECK(s != NULL))
		return;
	for (int i = 0; i < 5; i++)
		fds[i] = client(path);
	poll_n(s, &now, 2);
	CHECK_EQ(wg_ctl_conns(s), 3);    /* two refused, closed at once */
	CHECK_EQ(drain(fds[4], buf, sizeof(buf)), -1);
	CHECK_EQ(write(fds[0], "ping", 4), 4);
	poll_n(s, &now, 2);
	CHECK_EQ(drain(fds[0], buf, sizeof(buf)), 4);
	/* Six seconds on, the two that said nothing are gone; the talker lives on. */
	now += 3 * SEC;
	CHECK_EQ(write(fds[0], "ping", 4), 4);
	poll_n(s, &now, 1);
	now += 3 * SEC;
	poll_n(s, &now, 1);
	CHECK_EQ(wg_ctl_conns(s), 1);
	CHECK_EQ(drain(fds[1], buf, sizeof(buf)), -1);
	CHECK_EQ(drain(fds[0], buf, sizeof(buf)), 4);
	for (int i = 0; i < 5; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	wg_ctl_destroy(s);
	CHECK_EQ(e.closes, 3);
}

/* ---- no key left behind: requests and replies are wiped after use ---- */

#define SECRET_REQ "private_key=5d1e0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"
#define SECRET_REP "preshared_key=9a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8"

static unsigned released, released_dirty;

static void on_release(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i = 0;

	released++;
	while (i < len && p[i] == 0)
		i++;
	released_dirty += i != len;
}

/* Each request byte is answered with a reply line holding a key, in pieces, so that the
 * output buffer grows several times and is compacted while the client reads. */
static bool on_data_secret(void *ctx, struct wg_ctl_conn *c, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)data;
	for (size_t i = 0; i < len; i++)
		if (!wg_ctl_send(c, SECRET_REP "\n", sizeof(SECRET_REP)))
			return false;
	return true;
}

static const struct wg_ctl_ops secret_ops = { .on_data = on_data_secret };

static void test_no_key_left_behind(const char *path)
{
	char err[256], buf[4096];
	uint64_t now = SEC;
	struct wg_ctl_server *s = wg_ctl_listen(path, &secret_ops, NULL, NULL, err, sizeof(err));
	size_t got = 0, want;
	int fd;

	if (!CHECK(s != NULL))
		return;
	released = released_dirty = 0;
	wg_ctl_set_release_hook(on_release);
	fd = client(path);
	CHECK(fd >= 0);
	/* A 4 KiB request with a private key in it: ~4,000 replies, ~340 KiB of output. */
	memset(buf, '\n', sizeof(buf));
	memcpy(buf, SECRET_REQ, sizeof(SECRET_REQ) - 1);
	CHECK_EQ(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	want = sizeof(buf) * sizeof(SECRET_REP);
	poll_n(s, &now, 2);
	/* The request was consumed: no copy of it stays in the read buffer. */
	CHECK(!wg_ctl_holds(s, SECRET_REQ, sizeof(SECRET_REQ) - 1));
	for (int i = 0; i < 100000 && got < want; i++) {
		ssize_t n = drain(fd, buf, sizeof(buf));

		if (n < 0)
			break;
		got += (size_t)n;
		poll_n(s, &now, 1);
	}
	CHECK_EQ(got, want);
	/* Every reply has left: neither the sent part nor a grown-out buffer keeps one. */
	CHECK(!wg_ctl_holds(s, SECRET_REP, sizeof(SECRET_REP) - 1));
	CHECK(released > 0);             /* the output buffer grew at least once */
	close(fd);
	poll_n(s, &now, 2);
	wg_ctl_destroy(s);
	CHECK(released >= 2);            /* and was freed with the read buffer */
	CHECK_EQ(released_dirty, 0);
	wg_ctl_set_release_hook(NULL);
}

static void test_bad_paths(const char *dir)
{
	struct echo e = { 0 };
	char err[256], path[512];
	struct stat st;
	struct wg_ctl_server *s;

	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	CHECK(wg_ctl_listen(path, &ops, &e, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "too long") != NULL);
	/* A missing directory is made, root-only. */
	snprintf(path, sizeof(path), "%s/sub/dir/x.sock", dir);
	s = wg_ctl_listen(path, &ops, &e, NULL, err, sizeof(err));
	CHECK(s != NULL);
	snprintf(path, sizeof(path), "%s/sub/dir", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700);
	wg_ctl_destroy(s);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/wgdp-test-ctl-XXXXXX", path[256];

	(void)argc;
	(void)argv;
	if (!CHECK(mkdtemp(dir) != NULL))
		return check_report("ctl");
	snprintf(path, sizeof(path), "%s/t.sock", dir);
	test_echo_and_half_close(path);
	test_output_bound(path);
	test_idle_and_limit(path);
	test_no_key_left_behind(path);
	test_bad_paths(dir);
	rmdir(dir);
	return check_report("ctl");
}
