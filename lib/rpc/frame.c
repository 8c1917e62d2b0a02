/* SPDX-License-Identifier: MIT */
/*
 * The stream side: newline-delimited requests cut out of a connection's bytes, the serve
 * loop a server calls after each read, output appending, and jansson's wiping allocator.
 * Request bytes may hold a preshared key, so every block that held them is wiped before it
 * is freed or reused, which is why nothing here reallocs the input buffer.
 */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_priv.h"
#include "wg_crypto.h"

/* ---- jansson's allocations, wiped when freed ---- */

/* The header keeps malloc's alignment for what jansson stores after it. */
#define HDR alignof(max_align_t)
_Static_assert(HDR >= sizeof(size_t), "allocation header holds the size");

static void *wiping_malloc(size_t n)
{
	unsigned char *p;

	if (n > SIZE_MAX - HDR)
		return NULL;
	p = malloc(n + HDR);
	if (p == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + HDR;
}

static void wiping_free(void *ptr)
{
	unsigned char *p;
	size_t n;

	if (ptr == NULL)
		return;
	p = (unsigned char *)ptr - HDR;
	memcpy(&n, p, sizeof(n));
	wg_wipe(p, n + HDR);
	free(p);
}

void wg_rpc_init(void)
{
	/* Set once at startup, before any thread or jansson call, never changed again. */
	static bool done;

	if (done)
		return;
	done = true;
	json_set_alloc_funcs(wiping_malloc, wiping_free);
}

/* ---- output ---- */

/* The buffer is a wg_uapi_buf, freed by wg_uapi_buf_free: grown the same way (large
 * listings move by mremap, not copied). */
int rpc_append(struct wg_uapi_buf *b, const void *data, size_t len)
{
	if (len > SIZE_MAX / 2 - b->len)
		return ENOMEM;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		void *d = b->data;

		while (cap < b->len + len)
			cap *= 2;
		if (wg_secbuf_grow(&d, b->cap, cap))
			return ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

/* ---- framing ---- */

void wg_rpc_conn_init(struct wg_rpc_conn *c, size_t limit)
{
	memset(c, 0, sizeof(*c));
	c->limit = limit ? limit : WG_RPC_DEFAULT_LIMIT;
}

void wg_rpc_conn_free(struct wg_rpc_conn *c)
{
	wg_secbuf_free(c->buf, c->cap);
	memset(c, 0, sizeof(*c));
}

/* Drop the lines already returned, wiping the bytes they leave behind. */
static void compact(struct wg_rpc_conn *c)
{
	if (c->head == 0)
		return;
	if (c->len == c->head && c->cap >= WG_SECBUF_BIG) {
		/* A large request all served: its buffer goes (unmapped, not wiped in one go). */
		wg_secbuf_free(c->buf, c->cap);
		c->buf = NULL;
		c->cap = 0;
	} else {
		memmove(c->buf, c->buf + c->head, c->len - c->head);
		wg_wipe(c->buf + c->len - c->head, c->head);
	}
	c->len -= c->head;
	c->head = 0;
}

static int grow(struct wg_rpc_conn *c, size_t need)
{
	size_t cap = c->cap ? c->cap : 4096;
	void *n = c->buf;

	while (cap < need)
		cap = cap > c->limit / 2 ? c->limit : cap * 2;
	if (wg_secbuf_grow(&n, c->cap, cap))
		return ENOMEM;
	c->buf = n;
	c->cap = cap;
	return 0;
}

int wg_rpc_feed(struct wg_rpc_conn *c, const void *data, size_t len)
{
	if (c->err)
		return c->err;
	compact(c);
	if (len > c->limit - c->len)
		return c->err = EMSGSIZE;
	if (c->len + len > c->cap && grow(c, c->len + len))
		return c->err = ENOMEM;
	if (len)
		memcpy(c->buf + c->len, data, len);
	c->len += len;
	return 0;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* The end of the next line ('\n'), or NULL; remembers how far it looked. */
static const char *find_newline(struct wg_rpc_conn *c)
{
	size_t avail = c->len - c->head;
	const char *nl;

	if (c->scan >= avail)
		return NULL;
	nl = memchr(c->buf + c->head + c->scan, '\n', avail - c->scan);
	if (nl == NULL)
		c->scan = avail;
	return nl;
}

int wg_rpc_next_line(struct wg_rpc_conn *c, const char **line, size_t *len)
{
	const char *nl;

	if (c->err)
		return c->err;
	while ((nl = find_newline(c)) != NULL) {
		const char *start = c->buf + c->head;
		size_t n = (size_t)(nl - start);

		c->head += n + 1;
		c->scan = 0;
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (blank(start, n))
			continue;
		*line = start;
		*len = n;
		return 0;
	}
	return EAGAIN;
}

/* The one answer a lost stream gets. */
static int stream_error(struct wg_rpc_conn *c, struct wg_uapi_buf *out)
{
	char msg[128];

	if (c->err_answered)
		return c->err;
	c->err_answered = true;
	if (c->err == EMSGSIZE) {
		snprintf(msg, sizeof(msg), "request over the size limit of %zu bytes; "
			 "closing the connection", c->limit);
		wg_rpc_format_error(out, WG_RPC_INVALID_REQUEST, msg);
	} else {
		wg_rpc_format_error(out, WG_RPC_INTERNAL_ERROR,
				    "out of memory; closing the connection");
	}
	return c->err;
}

int wg_rpc_serve(const struct wg_rpc_backend *be, struct wg_rpc_conn *c,
		 struct wg_uapi_buf *out, unsigned max_requests)
{
	const char *line;
	size_t len;

	for (unsigned i = 0; !c->err; i++) {
		if (i == max_requests)
			return find_newline(c) ? EINPROGRESS : 0;
		if (wg_rpc_next_line(c, &line, &len) == EAGAIN)
			return 0;
		if (wg_rpc_handle(be, line, len, out) != 0)
			c->err = ENOMEM;
	}
	return stream_error(c, out);
}
