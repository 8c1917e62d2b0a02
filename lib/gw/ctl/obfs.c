/* SPDX-License-Identifier: MIT */
/*
 * AmneziaWG's obfuscation on the gateway (docs/obfuscation.md). The parameters live in
 * cfg.obfs on the control lcore; workers read a published copy (NULL while they are
 * plain WireGuard's, so the plain path costs one load and a branch). Which form a message
 * takes belongs to the session: a keypair is obfuscated when the handshake that made it
 * was, and its data messages carry kp.send_type (h4 or 4); the handshakes a peer gets
 * from us are in the form it last used.
 */
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "gw_ctl.h"
#include "wg_crypto.h"

#define ETH_LEN 14

static void free_obfs(struct wg_gw *gw, void *obj)
{
	(void)gw;
	rte_free(obj);
}

int wg_gw_obfs_publish(struct wg_gw *gw)
{
	struct wg_obfs *pub = NULL, *old;

	if (wg_obfs_enabled(&gw->cfg.obfs)) {
		pub = rte_malloc("wg_obfs", sizeof(*pub), RTE_CACHE_LINE_SIZE);
		if (pub == NULL)
			return -1;
		*pub = gw->cfg.obfs;
	}
	old = atomic_exchange_explicit(&gw->obfs, pub, memory_order_acq_rel);
	if (old)
		wg_gw_retire(gw, old, free_obfs);
	return 0;
}

/* The data messages of obfuscated sessions follow a new h4 at once: the peer that was
 * reconfigured with it would drop the old one. In a request's pauses, sessions made
 * meanwhile already take the new parameters. */
static void retype_sessions(struct wg_gw *gw, uint32_t h4)
{
	for (uint32_t id = 0; id < gw->max_peers; id++) {
		struct wg_peer *peer = &gw->peers[id];
		struct wg_keypair *kps[3];

		if (id % 64 == 0)
			wg_gw_yield(gw);
		if (!atomic_load_explicit(&peer->live, memory_order_relaxed))
			continue;
		kps[0] = peer->noise.keypairs.next;
		kps[1] = peer->noise.keypairs.current;
		kps[2] = peer->noise.keypairs.previous;
		for (unsigned i = 0; i < 3; i++) {
			struct wg_gw_keypair *gkp;

			if (kps[i] == NULL)
				continue;
			gkp = container_of(kps[i], struct wg_gw_keypair, kp);
			if (gkp->obfuscated)
				atomic_store_explicit(&gkp->kp.send_type, h4, memory_order_relaxed);
		}
	}
}

int wg_gw_obfs_set(struct wg_gw *gw, const struct wg_obfs *o)
{
	struct wg_obfs old = gw->cfg.obfs;

	gw->cfg.obfs = *o;
	if (wg_gw_obfs_publish(gw) != 0) {
		gw->cfg.obfs = old;
		return -1;
	}
	if (o->h[3] != old.h[3])
		retype_sessions(gw, o->h[3]);
	return 0;
}

uint32_t wg_gw_obfs_type(const struct wg_gw *gw, unsigned t, bool obfuscated)
{
	return wg_obfs_type(&gw->cfg.obfs, t, obfuscated);
}

bool wg_gw_obfs_peer_form(const struct wg_gw *gw, const struct wg_peer *peer)
{
	return peer->form_known ? peer->obfuscated : wg_obfs_enabled(&gw->cfg.obfs);
}

struct rte_mbuf *wg_gw_frame_alloc(struct wg_gw *gw, const struct wg_peer_ep *ep, size_t len,
				   uint8_t **payload)
{
	unsigned hdr = ETH_LEN + (ep->ep.ip.family == WG_AF_INET ? 20 : 40) + 8;
	struct rte_mbuf *m = rte_pktmbuf_alloc(gw->pool);
	uint8_t *frame;

	if (m == NULL)
		return NULL;
	frame = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hdr + len));
	if (frame == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	*payload = frame + hdr;
	return m;
}

bool wg_gw_frame_send(struct wg_gw *gw, const struct wg_peer_ep *ep, struct rte_mbuf *m)
{
	if (!wg_dp_write_outer(gw, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_pkt_len(m), ep)) {
		rte_pktmbuf_free(m);
		return false;
	}
	wg_dp_tx(wg_ctrl_ctx(gw), ep->port, m);
	return true;
}

/* Random bytes of random sizes in [jmin, jmax], from our listen port like every message:
 * to a watcher, datagrams that precede a handshake and say nothing. */
void wg_gw_obfs_send_junk(struct wg_gw *gw, const struct wg_peer_ep *ep)
{
	const struct wg_obfs *o = &gw->cfg.obfs;

	for (unsigned i = 0; i < o->jc; i++) {
		size_t len = wg_obfs_junk_len(o, (uint32_t)rte_rand());
		uint8_t *payload;
		struct rte_mbuf *m = wg_gw_frame_alloc(gw, ep, len, &payload);

		if (m == NULL)
			return;
		wg_random(payload, len);
		if (wg_gw_frame_send(gw, ep, m))
			gw->junk_sent++;
	}
}
