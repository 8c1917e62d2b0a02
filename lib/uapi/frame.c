/* SPDX-License-Identifier: MIT */
/*
 * Cutting requests out of a stream. A request is "get=1\n\n", or "set=1\n", key=value
 * lines and a blank line. Each byte is examined once, however the stream is split across
 * reads, so a request fed byte by byte costs what it costs in one piece. The framer checks
 * only the shape (first line, '=' in each line, no NUL, line length); the values are the
 * set parser's business.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uapi_buf.h"
#include "wg_crypto.h"
#include "wg_uapi.h"

static const char GET_LINE[] = "get=1\n";
static const char SET_LINE[] = "set=1\n";
#define FIRST_LEN (sizeof(GET_LINE) - 1)

/* A first buffer large enough for any request `wg set` sends for a handful of peers. */
#define MIN_CAP 4096

void wg_uapi_conn_init(struct wg_uapi_conn *c, size_t limit)
{
	memset(c, 0, sizeof(*c));
	c->limit = limit ? limit : WG_UAPI_DEFAULT_LIMIT;
}

void wg_uapi_conn_free(struct wg_uapi_conn *c)
{
	uapi_release(c->buf, c->cap, 1);
	memset(c, 0, sizeof(*c));
}

/* Drop the requests already returned, so that the buffer holds at most one request and
 * what follows it. The vacated tail held request text: wipe it. */
static void compact(struct wg_uapi_conn *c)
{
	size_t keep = c->len - c->head;

	if (c->head == 0)
		return;
	c->scan -= c->head;
	c->line -= c->head;
	c->len = keep;
	if (keep == 0 && c->cap >= WG_SECBUF_BIG) {
		/* A large request all served: its buffer goes (unmapped, not wiped in one go). */
		uapi_release(c->buf, c->cap, 1);
		c->buf = NULL;
		c->cap = 0;
	} else {
		memmove(c->buf, c->buf + c->head, keep);
		wg_wipe(c->buf + keep, c->head);
	}
	c->head = 0;
}

/* Room for `need` bytes, doubling but never past the limit (need <= limit). */
static int reserve(struct wg_uapi_conn *c, size_t need)
{
	size_t ncap = c->cap ? c->cap : MIN_CAP;
	void *n = c->buf;

	if (need <= c->cap)
		return 0;
	while (ncap < need)
		ncap = ncap > c->limit / 2 ? c->limit : ncap * 2;
	if (ncap < need)
		ncap = need;
	if (wg_secbuf_grow(&n, c->cap, ncap))
		return ENOMEM;
	c->buf = n;
	c->cap = ncap;
	return 0;
}

int wg_uapi_feed(struct wg_uapi_conn *c, const void *data, size_t len)
{
	if (c->err)
		return c->err;
	if (len == 0)
		return 0;
	compact(c);
	/* Past the limit the bytes are dropped; the requests already complete in the buffer
	 * are still served, then next_request reports EMSGSIZE for the one that overflowed. */
	if (len > c->limit - c->len || c->overflow) {
		c->overflow = true;
		return EMSGSIZE;
	}
	if (reserve(c, c->len + len)) {
		c->err = ENOMEM;
		return ENOMEM;
	}
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	return 0;
}

/* A byte of the first line, which must spell get=1 or set=1 (its first byte chooses). */
static int first_line(struct wg_uapi_conn *c, char ch)
{
	size_t at = c->scan - c->head;
	const char *want = c->buf[c->head] == 'g' ? GET_LINE : SET_LINE;

	if (ch != want[at])
		return EPROTO;
	if (at + 1 == FIRST_LEN) {
		c->kind = want == GET_LINE ? WG_UAPI_GET : WG_UAPI_SET;
		c->line = c->scan + 1;
		c->line_has_eq = false;
	}
	return EAGAIN;
}

/* A byte of a set body: a blank line ends the request, with *body and *len set. */
static int set_line(struct wg_uapi_conn *c, char ch, const char **body, size_t *len)
{
	if (ch == '\n') {
		if (c->scan == c->line) {
			*body = c->buf + c->head + FIRST_LEN;
			*len = c->line - (c->head + FIRST_LEN);
			return 0;
		}
		if (!c->line_has_eq)
			return EPROTO;
		c->line = c->scan + 1;
		c->line_has_eq = false;
		return EAGAIN;
	}
	if (ch == '\0' || c->scan - c->line + 1 >= WG_UAPI_LINE_MAX)
		return EPROTO;
	if (ch == '=')
		c->line_has_eq = true;
	return EAGAIN;
}

/* Examine the buffered bytes up to the end of the next request. */
static int scan(struct wg_uapi_conn *c, const char **body, size_t *len)
{
	while (c->scan < c->len) {
		char ch = c->buf[c->scan];
		int r;

		if (c->kind == WG_UAPI_NONE)
			r = first_line(c, ch);
		else if (c->kind == WG_UAPI_GET)
			r = ch == '\n' ? 0 : EINVAL;    /* wireguard-go: "trailing character" */
		else
			r = set_line(c, ch, body, len);
		if (r != EAGAIN)
			return r;
		c->scan++;
	}
	return c->overflow ? EMSGSIZE : EAGAIN;
}

int wg_uapi_next_request(struct wg_uapi_conn *c, enum wg_uapi_kind *kind,
			 const char **body, size_t *len)
{
	int r = c->err;

	*body = NULL;
	*len = 0;
	if (!r)
		r = scan(c, body, len);
	*kind = c->kind;
	if (r == EAGAIN)
		return r;
	if (r) {
		*body = NULL;
		*len = 0;
		c->err = r;
		return r;
	}
	/* Complete: the next request starts after the blank line. */
	c->scan++;
	c->head = c->scan;
	c->kind = WG_UAPI_NONE;
	return 0;
}
