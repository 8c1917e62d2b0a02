/* SPDX-License-Identifier: MIT */
/*
 * The stock `wg` tool's socket (/var/run/wireguard/NAME.sock), served by the control lcore
 * between its other work: lib/ctl moves the bytes without ever blocking, lib/uapi frames,
 * parses and formats, wg_gw_apply changes the gateway. A `get` of many peers is written a
 * slice of peers at a time, as the client takes it, so a large listing never holds up
 * handshakes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw_ctl.h"
#include "gw_log.h"
#include "wg_crypto.h"
#include "wg_ctl.h"
#include "wg_uapi.h"

#define GET_SLICE 256                /* peers formatted per poll of a connection */
#define CTL_POLL_NS 1000000ull       /* sockets are looked at once a millisecond */

struct client {
	struct wg_uapi_conn framer;
	struct wg_uapi_buf out;
	bool in_get, broken;
	uint32_t cursor;
};

static void flush(struct wg_ctl_conn *c, struct client *u)
{
	if (u->out.len == 0)
		return;
	wg_ctl_send(c, u->out.data, u->out.len);
	wg_uapi_buf_consume(&u->out, u->out.len);
}

void wg_gw_peer_info(struct wg_gw *gw, struct wg_peer *peer, struct wg_uapi_peer_info *pi)
{
	const struct wg_peer_ep *ep = atomic_load_explicit(&peer->ep, memory_order_acquire);

	memset(pi, 0, sizeof(*pi));
	memcpy(pi->public_key, peer->noise.remote_static, WG_KEY_LEN);
	pi->has_preshared_key = !wg_is_zero(peer->noise.preshared_key, WG_KEY_LEN);
	if (pi->has_preshared_key)
		memcpy(pi->preshared_key, peer->noise.preshared_key, WG_KEY_LEN);
	pi->has_endpoint = ep != NULL || peer->conf_ep.ip.family != 0;
	pi->endpoint = ep ? ep->ep : peer->conf_ep;
	pi->last_handshake_sec = peer->last_handshake_unix_ns / WG_NSEC_PER_SEC;
	pi->last_handshake_nsec = (uint32_t)(peer->last_handshake_unix_ns % WG_NSEC_PER_SEC);
	for (unsigned i = 0; i <= gw->n_workers; i++) {
		pi->rx_bytes += gw->workers[i].peer_stats[peer->id].rx_bytes;
		pi->tx_bytes += gw->workers[i].peer_stats[peer->id].tx_bytes;
	}
	pi->rx_bytes -= peer->rx_bytes_base;
	pi->tx_bytes -= peer->tx_bytes_base;
	pi->keepalive = peer->keepalive;
	pi->allowed_ips = peer->aips;
	pi->n_allowed_ips = peer->n_aips;
	pi->disabled = peer->disabled;
}

static void get_begin(struct wg_gw *gw, struct client *u)
{
	struct wg_uapi_device d = {
		.has_private_key = gw->dev.has_identity,
		.listen_port = atomic_load_explicit(&gw->listen_port, memory_order_relaxed),
		.fwmark = gw->cfg.fwmark,
		.obfs = gw->cfg.obfs,
	};

	if (d.has_private_key)
		memcpy(d.private_key, gw->dev.static_private, WG_KEY_LEN);
	wg_uapi_format_device(&u->out, &d);
	wg_wipe(&d, sizeof(d));
	u->in_get = true;
	u->cursor = 0;
}

static void get_more(struct wg_gw *gw, struct wg_ctl_conn *c, struct client *u)
{
	struct wg_uapi_peer_info pi;

	for (unsigned n = 0; n < GET_SLICE && u->cursor < gw->max_peers; u->cursor++) {
		struct wg_peer *peer = &gw->peers[u->cursor];

		if (!atomic_load_explicit(&peer->live, memory_order_relaxed))
			continue;
		wg_gw_peer_info(gw, peer, &pi);
		wg_uapi_format_peer(&u->out, &pi);
		n++;
	}
	wg_wipe(&pi, sizeof(pi));
	if (u->cursor == gw->max_peers) {
		wg_uapi_format_errno(&u->out, WG_UAPI_GET, 0);
		u->in_get = false;
	}
	flush(c, u);
}

static void do_set(struct wg_gw *gw, struct client *u, const char *body, size_t len)
{
	struct wg_uapi_set s;
	char why[WG_UAPI_WHY_LEN + 64];
	struct wg_yield y = { .fn = wg_gw_yield, .arg = gw };
	int rc = wg_uapi_parse_set_yield(&s, body, len, why, sizeof(why), &y);

	if (rc == 0) {
		rc = wg_gw_apply(gw, &s, why, sizeof(why));
		wg_uapi_set_free_yield(&s, &y);
	}
	if (rc != 0)
		WG_LOG(NOTICE, ctl, "uapi: set refused: %s", why);
	wg_uapi_format_errno(&u->out, WG_UAPI_SET, rc);
}

/* Serve the requests buffered on a connection, one at a time. */
static void pump(struct wg_gw *gw, struct wg_ctl_conn *c, struct client *u)
{
	while (!u->in_get && !u->broken) {
		enum wg_uapi_kind kind = WG_UAPI_NONE;
		const char *body;
		size_t len;
		int rc = wg_uapi_next_request(&u->framer, &kind, &body, &len);

		if (rc == EAGAIN)
			break;
		if (rc != 0) {
			/* The framing is lost: answer and hang up. */
			wg_uapi_format_errno(&u->out, kind ? kind : WG_UAPI_SET, rc);
			u->broken = true;
			wg_ctl_close_when_sent(c);
		} else if (kind == WG_UAPI_GET) {
			get_begin(gw, u);
			get_more(gw, c, u);
		} else {
			do_set(gw, u, body, len);
		}
		flush(c, u);
	}
}

static bool on_data(void *ctx, struct wg_ctl_conn *c, const uint8_t *data, size_t len)
{
	struct wg_gw *gw = ctx;
	struct client *u = wg_ctl_data(c);
	int rc;

	if (u == NULL) {
		u = calloc(1, sizeof(*u));
		if (u == NULL)
			return false;
		wg_uapi_conn_init(&u->framer, wg_gw_request_limit(gw, WG_UAPI_DEFAULT_LIMIT));
		wg_uapi_buf_init(&u->out);
		wg_ctl_set_data(c, u);
	}
	if (u->broken)
		return true;
	rc = wg_uapi_feed(&u->framer, data, len);
	if (rc != 0) {
		wg_uapi_format_errno(&u->out, WG_UAPI_SET, rc);
		flush(c, u);
		u->broken = true;
		wg_ctl_close_when_sent(c);
		return true;
	}
	pump(gw, c, u);
	return true;
}

static void on_writable(void *ctx, struct wg_ctl_conn *c)
{
	struct wg_gw *gw = ctx;
	struct client *u = wg_ctl_data(c);

	if (u == NULL || !u->in_get)
		return;
	get_more(gw, c, u);
	pump(gw, c, u);
}

static void on_close(void *ctx, struct wg_ctl_conn *c)
{
	struct client *u = wg_ctl_data(c);

	(void)ctx;
	if (u == NULL)
		return;
	wg_uapi_conn_free(&u->framer);
	wg_uapi_buf_free(&u->out);
	free(u);
}

static const struct wg_ctl_ops uapi_ops = {
	.on_data = on_data,
	.on_writable = on_writable,
	.on_close = on_close,
};

int wg_gw_uapi_listen(struct wg_gw *gw, char *err, size_t errlen)
{
	gw->uapi = wg_ctl_listen(gw->cfg.uapi_socket, &uapi_ops, gw, NULL, err, errlen);
	return gw->uapi ? 0 : -1;
}

void wg_gw_ctl_poll(struct wg_gw *gw, uint64_t now)
{
	if (now - gw->last_ctl_poll < CTL_POLL_NS)
		return;
	gw->last_ctl_poll = now;
	/* Each server's poll is one job as far as slices go (slice.c). */
	if (gw->uapi) {
		wg_pace_sockets_begin(gw, "uapi");
		wg_ctl_poll(gw->uapi, now);
		wg_pace_sockets_end(gw);
	}
	if (gw->rpc) {
		wg_pace_sockets_begin(gw, "json-rpc");
		wg_ctl_poll(gw->rpc, now);
		wg_pace_sockets_end(gw);
	}
	wg_pace_sockets_begin(gw, "http");
	wg_http_poll(gw->http);
	wg_http_poll(gw->metrics_http);
	wg_pace_sockets_end(gw);
}
