/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "wg_crypto.h"
#include "wg_ctl.h"

#define READ_CHUNK 65536
#define LOW_WATER  (1u << 20)   /* ask for more output below this much queued */

/*
 * Requests carry private and preshared keys (`set`), and so do replies (`get`): every
 * buffer that held either is wiped before it is freed, grown, compacted or reused, so no
 * key is left in memory the allocator hands to someone else.
 */
static void (*release_hook)(const void *buf, size_t len);

void wg_ctl_set_release_hook(void (*hook)(const void *buf, size_t len))
{
	release_hook = hook;
}

static void wipe(void *p, size_t n)
{
	if (p && n)
		wg_wipe(p, n);
}

static void release(void *p, size_t n)
{
	wipe(p, n);
	if (release_hook && p)
		release_hook(p, n);
	free(p);
}

struct wg_ctl_conn {
	int fd;
	struct wg_ctl_server *srv;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	uint64_t last_progress;
	bool closing, dead;
	void *data;
};

struct wg_ctl_server {
	int fd;
	uint8_t *rbuf;                  /* READ_CHUNK bytes; wiped after every read */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct wg_ctl_ops *ops;
	void *ctx;
	struct wg_ctl_limits lim;
	struct wg_ctl_conn **conns;
	unsigned n_conns;
	uint64_t now;
};

/* mkdir -p for the socket's directory, 0700 for what it creates. */
static int make_dirs(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(dir, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int open_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long (%zu bytes, at most %zu)", strlen(path),
			 sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (make_dirs(path) != 0) {
		snprintf(err, errlen, "%s: cannot create its directory: %s", path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return -1;
	}
	unlink(path);
	old = umask(0177);   /* the file is created 0600 */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0) {
		umask(old);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

struct wg_ctl_server *wg_ctl_listen(const char *path, const struct wg_ctl_ops *ops, void *ctx,
				    const struct wg_ctl_limits *limits, char *err, size_t errlen)
{
	struct wg_ctl_server *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ops = ops;
	s->ctx = ctx;
	s->lim = limits ? *limits : (struct wg_ctl_limits){ 0 };
	if (!s->lim.max_conns)
		s->lim.max_conns = 64;
	if (!s->lim.max_output)
		s->lim.max_output = 256u << 20;
	if (!s->lim.idle_ns)
		s->lim.idle_ns = 30ull * 1000000000ull;
	s->conns = calloc(s->lim.max_conns, sizeof(*s->conns));
	s->rbuf = calloc(1, READ_CHUNK);
	if (s->conns == NULL || s->rbuf == NULL)
		snprintf(err, errlen, "out of memory");
	s->fd = s->conns && s->rbuf ? open_socket(path, err, errlen) : -1;
	if (s->fd < 0) {
		free(s->conns);
		free(s->rbuf);
		free(s);
		return NULL;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	return s;
}

static void conn_free(struct wg_ctl_server *s, unsigned i)
{
	struct wg_ctl_conn *c = s->conns[i];

	if (s->ops->on_close)
		s->ops->on_close(s->ctx, c);
	close(c->fd);
	release(c->out, c->out_cap);
	free(c);
	s->conns[i] = s->conns[--s->n_conns];
}

static void accept_new(struct wg_ctl_server *s)
{
	for (;;) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct wg_ctl_conn *c;

		if (fd < 0)
			return;
		c = s->n_conns < s->lim.max_conns ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {      /* too many clients: refuse this one, keep the others */
			close(fd);
			continue;
		}
		c->fd = fd;
		c->srv = s;
		c->last_progress = s->now;
		s->conns[s->n_conns++] = c;
	}
}

static void read_some(struct wg_ctl_server *s, struct wg_ctl_conn *c)
{
	uint8_t *buf = s->rbuf;
	ssize_t n;
	bool ok;

	/* A bounded amount per poll, so one busy client cannot hold the control lcore. */
	for (int i = 0; i < 16 && !c->dead && !c->closing; i++) {
		n = read(c->fd, buf, READ_CHUNK);
		if (n == 0) {
			/* The client is done sending; it may still be waiting for the answers. */
			c->closing = true;
			return;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			c->dead = true;
			return;
		}
		if (n < 0)
			return;
		c->last_progress = s->now;
		ok = s->ops->on_data(s->ctx, c, buf, (size_t)n);
		/* Not wipe(): its NULL test let gcc -O3 thread a path with buf NULL into the
		 * next read() (-Wnonnull); rbuf is never NULL while the server exists. */
		wg_wipe(buf, (size_t)n);
		if (!ok)
			c->dead = true;
	}
}

static void write_some(struct wg_ctl_server *s, struct wg_ctl_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->dead = true;
			return;
		}
		wipe(c->out + c->out_off, (size_t)n);   /* sent: no need to keep it */
		c->out_off += (size_t)n;
		c->last_progress = s->now;
	}
	c->out_len = c->out_off = 0;
}

void wg_ctl_poll(struct wg_ctl_server *s, uint64_t now)
{
	s->now = now;
	accept_new(s);
	for (unsigned i = 0; i < s->n_conns;) {
		struct wg_ctl_conn *c = s->conns[i];

		read_some(s, c);
		if (!c->dead && s->ops->on_writable && wg_ctl_queued(c) < LOW_WATER)
			s->ops->on_writable(s->ctx, c);
		if (!c->dead)
			write_some(s, c);
		if (c->dead || (c->closing && wg_ctl_queued(c) == 0) ||
		    now - c->last_progress > s->lim.idle_ns)
			conn_free(s, i);
		else
			i++;
	}
}

void wg_ctl_destroy(struct wg_ctl_server *s)
{
	if (s == NULL)
		return;
	while (s->n_conns)
		conn_free(s, 0);
	close(s->fd);
	unlink(s->path);
	free(s->conns);
	release(s->rbuf, READ_CHUNK);
	free(s);
}

bool wg_ctl_send(struct wg_ctl_conn *c, const void *data, size_t len)
{
	size_t need = c->out_len + len;

	if (c->dead)
		return false;
	if (need - c->out_off > c->srv->lim.max_output) {
		c->dead = true;
		return false;
	}
	if (need > c->out_cap && c->out_off) {
		/* Reuse what the client has already taken before growing (the sent part
		 * is wiped as it goes; the tail left behind by the move is wiped here). */
		size_t keep = c->out_len - c->out_off;

		memmove(c->out, c->out + c->out_off, keep);
		wipe(c->out + keep, c->out_len - keep);
		c->out_len = keep;
		c->out_off = 0;
		need = c->out_len + len;
	}
	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		uint8_t *p;

		while (cap < need)
			cap *= 2;
		/* Not realloc: the old block would be freed with the reply still in it. */
		p = malloc(cap);
		if (p == NULL) {
			c->dead = true;
			return false;
		}
		if (c->out_len)
			memcpy(p, c->out, c->out_len);
		release(c->out, c->out_cap);
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return true;
}

void wg_ctl_close_when_sent(struct wg_ctl_conn *c)
{
	c->closing = true;
}

size_t wg_ctl_queued(const struct wg_ctl_conn *c)
{
	return c->out_len - c->out_off;
}

void wg_ctl_set_data(struct wg_ctl_conn *c, void *data)
{
	c->data = data;
}

void *wg_ctl_data(const struct wg_ctl_conn *c)
{
	return c->data;
}

unsigned wg_ctl_conns(const struct wg_ctl_server *s)
{
	return s->n_conns;
}

bool wg_ctl_holds(const struct wg_ctl_server *s, const void *needle, size_t len)
{
	if (len == 0)
		return false;
	if (memmem(s->rbuf, READ_CHUNK, needle, len))
		return true;
	for (unsigned i = 0; i < s->n_conns; i++) {
		const struct wg_ctl_conn *c = s->conns[i];

		if (c->out && memmem(c->out, c->out_cap, needle, len))
			return true;
	}
	return false;
}
