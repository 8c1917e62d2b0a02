/* SPDX-License-Identifier: MIT */
/*
 * Peers on the control lcore: endpoints (resolved and published), the packets staged
 * while a handshake is made, and the timers, driven by the activity stamps the workers
 * leave on each peer.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_random.h>

#include "gw_ctl.h"

void wg_peer_set_endpoint(struct wg_gw *gw, struct wg_peer *peer, const struct wg_endpoint *ep,
			  unsigned port, const uint8_t *mac)
{
	struct wg_peer_ep *old = atomic_load_explicit(&peer->ep, memory_order_relaxed);
	struct wg_peer_ep *fresh;

	peer->conf_ep = *ep;
	if (old && wg_ip_equal(&old->ep.ip, &ep->ip) && old->ep.port == ep->port &&
	    old->port == port && memcmp(old->mac, mac, 6) == 0)
		return;
	fresh = rte_zmalloc("wg_peer_ep", sizeof(*fresh), 0);
	if (fresh == NULL)
		return;
	fresh->ep = *ep;
	fresh->port = (uint16_t)port;
	memcpy(fresh->mac, mac, 6);
	wg_peer_ep_template(gw, fresh);
	atomic_store_explicit(&peer->ep, fresh, memory_order_release);
	if (old)
		wg_gw_retire(gw, old, wg_peer_free_ep);
}

/* Keep a packet until the peer has a keypair; the oldest goes when the queue is full. */
void wg_peer_stage(struct wg_gw *gw, struct rte_mbuf *m, uint64_t now)
{
	struct wg_peer *peer = wg_peer_get(gw, wg_meta(m)->peer, wg_meta(m)->gen);

	if (peer == NULL) {
		/* Its peer was removed while the packet waited (the slot may be another's). */
		wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_PEER_GONE);
		return;
	}
	if (peer->disabled) {
		wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_PEER_DISABLED);
		return;
	}
	if (atomic_load_explicit(&peer->ep, memory_order_relaxed) == NULL &&
	    peer->conf_ep.ip.family == 0) {
		/* No way to reach the peer until it contacts us: say so now, as the kernel
		 * does, rather than pin the packet. */
		wg_ctrl_ctx(gw)->drops[WG_DROP_NO_ENDPOINT]++;
		wg_ctrl_icmp_error(gw, m, WG_ICMP_HOST_UNREACH, 0, now);
		return;
	}
	if (peer->staged == NULL) {
		if (gw->n_staging == WG_STAGING_PEERS ||
		    (peer->staged = calloc(1, sizeof(*peer->staged))) == NULL) {
			/* So many peers waiting at once: this one's packet is not kept, but
			 * its handshake is still started. */
			wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_NO_KEYPAIR);
			m = NULL;
		} else {
			gw->n_staging++;
		}
	}
	if (m && peer->staged->n == WG_STAGED_MAX) {
		struct wg_staged *st = peer->staged;

		wg_drop(wg_ctrl_ctx(gw), st->m[0], WG_DROP_NO_KEYPAIR);
		memmove(st->m, st->m + 1, (WG_STAGED_MAX - 1) * sizeof(st->m[0]));
		st->n--;
	}
	if (m)
		peer->staged->m[peer->staged->n++] = m;
	if (peer->noise.hs.state != WG_HS_CREATED_INITIATION ||
	    wg_timers_may_initiate(peer->last_init_sent, now))
		wg_hs_initiate(gw, peer, now);
}

void wg_peer_flush_staged(struct wg_gw *gw, struct wg_peer *peer, uint64_t now)
{
	struct rte_mbuf *pkts[WG_STAGED_MAX];
	struct wg_staged *st = peer->staged;
	unsigned n;

	if (st == NULL || atomic_load_explicit(&peer->tx_kp, memory_order_relaxed) == NULL)
		return;
	n = st->n;
	memcpy(pkts, st->m, n * sizeof(pkts[0]));
	free(st);
	peer->staged = NULL;
	gw->n_staging--;
	if (n)
		wg_dp_encrypt_burst(wg_ctrl_ctx(gw), pkts, (uint16_t)n, now);
}

static void drop_staged(struct wg_gw *gw, struct wg_peer *peer)
{
	wg_peer_drop_staged(gw, peer, WG_DROP_NO_KEYPAIR);
}

/* Timer jitter needs no secrecy: DPDK's PRNG, not a system call per peer per sweep. */
static uint64_t jitter(void)
{
	return rte_rand_max(WG_REKEY_TIMEOUT_JITTER_MAX_MS * 1000000ull);
}

struct activity {
	uint64_t at;
	int kind;
};

/* Turn the workers' activity stamps into the timer module's events, oldest first. */
static void feed_activity(struct wg_peer *peer)
{
	struct activity ev[4];
	uint64_t rx = atomic_load_explicit(&peer->last_rx, memory_order_relaxed);
	uint64_t rxd = atomic_load_explicit(&peer->last_rx_data, memory_order_relaxed);
	uint64_t tx = atomic_load_explicit(&peer->last_tx, memory_order_relaxed);
	uint64_t txd = atomic_load_explicit(&peer->last_tx_data, memory_order_relaxed);
	int n = 0;

	if (txd != peer->seen_tx_data) ev[n++] = (struct activity){ txd, 0 };
	if (tx != peer->seen_tx) ev[n++] = (struct activity){ tx, 1 };
	if (rxd != peer->seen_rx_data) ev[n++] = (struct activity){ rxd, 2 };
	if (rx != peer->seen_rx) ev[n++] = (struct activity){ rx, 3 };
	peer->seen_tx_data = txd;
	peer->seen_tx = tx;
	peer->seen_rx_data = rxd;
	peer->seen_rx = rx;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && ev[j].at < ev[j - 1].at; j--) {
			struct activity t = ev[j];
			ev[j] = ev[j - 1];
			ev[j - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		struct wg_timers *t = &peer->timers;

		switch (ev[i].kind) {
		case 0: wg_timers_data_sent(t, ev[i].at, jitter()); break;
		case 1: wg_timers_any_authenticated_sent(t, ev[i].at); break;
		case 2: wg_timers_data_received(t, ev[i].at); break;
		case 3: wg_timers_any_authenticated_received(t, ev[i].at); break;
		}
		wg_timers_any_authenticated_traversal(t, ev[i].at);
	}
}

void wg_peer_timers_run(struct wg_gw *gw, struct wg_peer *peer, uint64_t now)
{
	unsigned due;

	feed_activity(peer);
	if (wg_timers_next(&peer->timers) > now || wg_timers_next(&peer->timers) == 0)
		return;
	due = wg_timers_poll(&peer->timers, now, 0);
	if (due & WG_TIMER_SEND_INITIATION)
		wg_hs_initiate(gw, peer, now);
	if (due & WG_TIMER_SEND_KEEPALIVE)
		wg_hs_send_keepalive(gw, peer, now);
	if (due & WG_TIMER_GIVE_UP)
		drop_staged(gw, peer);
	if (due & WG_TIMER_ZERO_KEYS)
		wg_peer_zero_keys(gw, peer);
}

void wg_peer_use_endpoint(struct wg_gw *gw, struct wg_peer *peer, const struct wg_endpoint *ep,
			  uint64_t now)
{
	struct wg_ip nexthop;
	uint8_t mac[6];
	int port = wg_route_port(gw, WG_ROLE_WAN, &ep->ip);

	peer->conf_ep = *ep;
	wg_peer_set_resolving(gw, peer, false);
	if (port < 0 || !wg_route_nexthop(gw, (unsigned)port, &ep->ip, &nexthop)) {
		wg_peer_clear_endpoint(gw, peer);   /* unreachable: nothing is sent until it changes */
		return;
	}
	if (wg_neigh_lookup(gw, &nexthop, mac)) {
		wg_peer_set_endpoint(gw, peer, ep, (unsigned)port, mac);
		return;
	}
	/* Published when the next hop answers (wg_ctrl_neigh_learned). */
	wg_peer_clear_endpoint(gw, peer);
	wg_peer_set_resolving(gw, peer, true);
	wg_ctrl_solicit(gw, (unsigned)port, &nexthop, now);
}
