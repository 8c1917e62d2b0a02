/* SPDX-License-Identifier: MIT */
/*
 * Control sockets: a small non-blocking Unix-socket server that the control lcore polls
 * between its other work. It never blocks and never waits on a client: reads and writes
 * happen as far as the socket allows each poll; output is queued per connection up to a
 * bound; a connection that exceeds a bound, or makes no progress for `idle_ns`, is closed.
 * The protocol on top (framing, requests, replies) is the caller's, through two callbacks.
 *
 * The socket is created with mode 0600 (and its directory 0700 if it has to be made), so
 * only root can connect.
 */
#ifndef WG_CTL_H
#define WG_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_ctl_server;
struct wg_ctl_conn;

struct wg_ctl_ops {
	/* New bytes from a client. Return false to close the connection now. */
	bool (*on_data)(void *ctx, struct wg_ctl_conn *c, const uint8_t *data, size_t len);
	/* Once per poll while the connection has room to send (less than a low-water mark
	 * queued): for replies produced piece by piece. May be NULL. */
	void (*on_writable)(void *ctx, struct wg_ctl_conn *c);
	/* The connection is going away; free what the caller attached to it. */
	void (*on_close)(void *ctx, struct wg_ctl_conn *c);
};

struct wg_ctl_limits {
	unsigned max_conns;       /* default 64 */
	size_t max_output;        /* bytes queued per connection, default 256 MiB */
	uint64_t idle_ns;         /* no progress for this long closes, default 30 s */
};

/* Listen on path (an existing socket file is replaced). NULL with a reason in err. */
struct wg_ctl_server *wg_ctl_listen(const char *path, const struct wg_ctl_ops *ops, void *ctx,
				    const struct wg_ctl_limits *limits, char *err, size_t errlen);
/* Accept, read, write and expire, without blocking. */
void wg_ctl_poll(struct wg_ctl_server *s, uint64_t now);
/* Close every connection, remove the socket file. */
void wg_ctl_destroy(struct wg_ctl_server *s);

/* Queue bytes for a client; false (and the connection closes) past max_output. */
bool wg_ctl_send(struct wg_ctl_conn *c, const void *data, size_t len);
/* Close once everything queued has been sent. */
void wg_ctl_close_when_sent(struct wg_ctl_conn *c);
size_t wg_ctl_queued(const struct wg_ctl_conn *c);
void wg_ctl_set_data(struct wg_ctl_conn *c, void *data);
void *wg_ctl_data(const struct wg_ctl_conn *c);
unsigned wg_ctl_conns(const struct wg_ctl_server *s);

/* For tests of the rule that no request or reply outlives its use (keys travel in both):
 * does any buffer the server holds (its read buffer, every connection's output buffer,
 * sent or not) contain these bytes? And a hook called with every buffer the server frees
 * or abandons for a larger one, just before it goes (after it was wiped). */
bool wg_ctl_holds(const struct wg_ctl_server *s, const void *needle, size_t len);
void wg_ctl_set_release_hook(void (*hook)(const void *buf, size_t len));

#endif
