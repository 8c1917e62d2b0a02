/* SPDX-License-Identifier: MIT */
/*
 * Reaching into the gateway for tests of particular paths: make its control lcore start a
 * handshake, read a peer's published endpoint, apply a `wg` set request as the UAPI
 * socket would. Everything here runs on the harness's thread, which is the control lcore.
 */
#include <errno.h>
#include <string.h>

#include "gw_internal.h"
#include "sim_priv.h"
#include "wg_uapi.h"

static struct wg_peer *peer_of(struct wg_sim *s, unsigned k)
{
	return k < s->n_clients ? wg_gw_peer_find(s->gw, s->clients[k].public_key) : NULL;
}

void wg_sim_gw_initiate(struct wg_sim *s, unsigned k)
{
	struct wg_peer *peer = peer_of(s, k);

	if (peer) {
		peer->last_init_sent = 0;   /* as if no initiation had been sent lately */
		wg_hs_initiate(s->gw, peer, s->now);
		wg_dp_tx_flush(wg_ctrl_ctx(s->gw));
	}
}

bool wg_sim_gw_peer_endpoint(struct wg_sim *s, unsigned k, struct wg_endpoint *ep)
{
	struct wg_peer *peer = peer_of(s, k);
	const struct wg_peer_ep *e = peer ? atomic_load(&peer->ep) : NULL;

	if (e == NULL)
		return false;
	*ep = e->ep;
	return true;
}

int wg_sim_uapi_set_sliced(struct wg_sim *s, const char *body, uint64_t slice_ns,
			   char *why, size_t whylen)
{
	struct wg_gw *gw = s->gw;
	struct wg_yield y = { .fn = wg_gw_yield, .arg = gw };
	struct wg_uapi_set set;
	uint64_t was = gw->pace.slice_ns;
	int rc;

	gw->pace.slice_ns = slice_ns;
	wg_pace_sockets_begin(gw, "sim");
	rc = wg_uapi_parse_set_yield(&set, body, strlen(body), why, whylen, &y);
	if (rc == 0) {
		rc = wg_gw_apply(gw, &set, why, whylen);
		wg_uapi_set_free(&set);
	}
	wg_pace_sockets_end(gw);
	gw->pace.slice_ns = was;
	return rc;
}

int wg_sim_uapi_set(struct wg_sim *s, const char *body, char *why, size_t whylen)
{
	struct wg_uapi_set set;
	int rc = wg_uapi_parse_set(&set, body, strlen(body), why, whylen);

	if (rc != 0)
		return rc;
	rc = wg_gw_apply(s->gw, &set, why, whylen);
	wg_uapi_set_free(&set);
	return rc;
}

bool wg_sim_gw_peer_bytes(struct wg_sim *s, unsigned k, uint64_t *rx, uint64_t *tx)
{
	struct wg_peer *peer = peer_of(s, k);
	struct wg_uapi_peer_info pi;

	if (peer == NULL)
		return false;
	wg_gw_peer_info(s->gw, peer, &pi);
	*rx = pi.rx_bytes;
	*tx = pi.tx_bytes;
	return true;
}
