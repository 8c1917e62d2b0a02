/* SPDX-License-Identifier: MIT */
/*
 * Peers on the control lcore: creation from the configuration, endpoints, the packets
 * staged while a handshake is made, and the timers, driven by the activity stamps the
 * workers leave on each peer.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "gw_internal.h"
#include "wg_crypto.h"

struct wg_peer *wg_peer_get(struct wg_gw *gw, uint32_t id, uint32_t gen)
{
	struct wg_peer *peer;

	if (id >= gw->max_peers)
		return NULL;
	peer = &gw->peers[id];
	if (!atomic_load_explicit(&peer->live, memory_order_relaxed) ||
	    atomic_load_explicit(&peer->gen, memory_order_relaxed) != gen)
		return NULL;
	return peer;
}

static void free_ep(struct wg_gw *gw, void *obj)
{
	(void)gw;
	rte_free(obj);
}

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
		wg_gw_retire(gw, old, free_ep);
}

/* Drop every published endpoint (a peer reconfigured without one, or removed). */
static void clear_endpoint(struct wg_gw *gw, struct wg_peer *peer)
{
	struct wg_peer_ep *old = atomic_exchange(&peer->ep, NULL);

	if (old)
		wg_gw_retire(gw, old, free_ep);
}

static int list_add(struct wg_peer *peer, const struct wg_prefix *p)
{
	if (peer->n_aips == peer->cap_aips) {
		unsigned cap = peer->cap_aips ? peer->cap_aips * 2 : 4;
		struct wg_prefix *a = realloc(peer->aips, cap * sizeof(*a));

		if (a == NULL)
			return -1;
		peer->aips = a;
		peer->cap_aips = cap;
	}
	peer->aips[peer->n_aips++] = *p;
	return 0;
}

static bool same_prefix(const struct wg_prefix *a, const struct wg_prefix *b)
{
	return a->len == b->len && wg_ip_equal(&a->ip, &b->ip);
}

static void list_del(struct wg_peer *peer, const struct wg_prefix *p)
{
	for (unsigned i = 0; i < peer->n_aips; i++)
		if (same_prefix(&peer->aips[i], p)) {
			peer->aips[i] = peer->aips[--peer->n_aips];
			return;
		}
}

int wg_gw_peer_add_aip(struct wg_gw *gw, struct wg_peer *peer, const struct wg_prefix *p)
{
	uint32_t owner;

	if (wg_allowedips_owner(&gw->aips, p, &owner)) {
		if (owner == peer->id)
			return 0;
		/* A prefix belongs to one peer: giving it to this one takes it from the other. */
		list_del(&gw->peers[owner], p);
	}
	if (list_add(peer, p) != 0)
		return -1;
	if (wg_allowedips_insert(&gw->aips, p, peer->id) != 0) {
		peer->n_aips--;
		return -1;
	}
	return 0;
}

void wg_gw_peer_del_aip(struct wg_gw *gw, struct wg_peer *peer, const struct wg_prefix *p)
{
	uint32_t owner;

	if (wg_allowedips_owner(&gw->aips, p, &owner) && owner == peer->id)
		wg_allowedips_remove(&gw->aips, p);
	list_del(peer, p);
}

void wg_gw_peer_clear_aips(struct wg_gw *gw, struct wg_peer *peer)
{
	for (unsigned i = 0; i < peer->n_aips; i++)
		wg_allowedips_remove(&gw->aips, &peer->aips[i]);
	peer->n_aips = 0;
}

struct wg_peer *wg_gw_peer_find(struct wg_gw *gw, const uint8_t key[WG_KEY_LEN])
{
	void *data;

	if (rte_hash_lookup_data(gw->peer_keys, key, &data) < 0)
		return NULL;
	return &gw->peers[(uintptr_t)data];
}

struct wg_peer *wg_gw_peer_create(struct wg_gw *gw, const uint8_t key[WG_KEY_LEN],
				  const uint8_t *psk, char *err, size_t errlen)
{
	struct wg_peer *peer;
	uint32_t id;

	if (gw->n_free_ids == 0 && gw->n_ids_retiring > 0) {
		/* Removed peers' slots, after a grace period, and only once the tables that
		 * may still route their prefixes to them are gone from the workers: the
		 * caller's batch so far is published first. */
		wg_allowedips_publish(&gw->aips);
		wg_allowedips_catch_up(&gw->aips, UINT32_MAX);
		wg_retire_reclaim(gw, true);
	}
	if (gw->n_free_ids == 0) {
		snprintf(err, errlen, "peer table full (%u peers)", gw->max_peers);
		return NULL;
	}
	id = gw->free_ids[gw->n_free_ids - 1];
	peer = &gw->peers[id];
	if (wg_noise_peer_init(&gw->dev, &peer->noise, key, psk, peer) != WG_OK) {
		wg_wipe(&peer->noise, sizeof(peer->noise));
		snprintf(err, errlen, "peer public key is a low-order point");
		return NULL;
	}
	if (rte_hash_add_key_data(gw->peer_keys, key, (void *)(uintptr_t)id) < 0) {
		wg_wipe(&peer->noise, sizeof(peer->noise));
		snprintf(err, errlen, "peer key table full");
		return NULL;
	}
	gw->n_free_ids--;
	peer->id = id;
	wg_timers_init(&peer->timers, 0);
	/* Workers' byte counters per slot only grow: a new peer starts from where they are. */
	for (unsigned i = 0; i <= gw->n_workers; i++) {
		peer->rx_bytes_base += gw->workers[i].peer_stats[id].rx_bytes;
		peer->tx_bytes_base += gw->workers[i].peer_stats[id].tx_bytes;
	}
	atomic_store_explicit(&peer->live, 1, memory_order_release);
	gw->n_peers++;
	return peer;
}

int wg_gw_peer_add(struct wg_gw *gw, const struct wg_config_peer *cp, char *err, size_t errlen)
{
	struct wg_peer *peer = wg_gw_peer_create(gw, cp->public_key,
						 cp->has_preshared_key ? cp->preshared_key : NULL,
						 err, errlen);
	int rc = 0;

	if (peer == NULL)
		return -1;
	peer->keepalive = cp->persistent_keepalive;
	wg_timers_init(&peer->timers, cp->persistent_keepalive);
	peer->conf_ep = cp->endpoint;
	peer->disabled = cp->disabled;
	gw->n_disabled += cp->disabled;
	wg_allowedips_begin(&gw->aips);
	for (unsigned i = 0; i < cp->n_allowed_ips && rc == 0; i++)
		rc = wg_gw_peer_add_aip(gw, peer, &cp->allowed_ips[i]);
	wg_allowedips_commit(&gw->aips);
	if (rc != 0)
		snprintf(err, errlen, "allowed-IPs table full");
	return rc;
}

/* A removed peer's slot is reused only once no worker can be inside a poll that found it
 * (through the allowed-IPs tables or a keypair): such a worker sees the slot dead, never
 * another peer in it. References that outlive a poll carry the slot's generation. */
static void free_slot(struct wg_gw *gw, void *obj)
{
	struct wg_peer *peer = obj;

	gw->free_ids[gw->n_free_ids++] = peer->id;
	gw->n_ids_retiring--;
}

void wg_peer_drop_staged(struct wg_gw *gw, struct wg_peer *peer, enum wg_drop why)
{
	struct wg_staged *st = peer->staged;

	if (st == NULL)
		return;
	for (unsigned i = 0; i < st->n; i++) {
		if (why == WG_DROP_COUNT)
			rte_pktmbuf_free(st->m[i]);
		else
			wg_drop(wg_ctrl_ctx(gw), st->m[i], why);
	}
	free(st);
	peer->staged = NULL;
	gw->n_staging--;
}

/* Remove a peer; inside an allowed-IPs batch of the caller's (begin ... commit). */
void wg_gw_peer_remove(struct wg_gw *gw, struct wg_peer *peer)
{
	struct wg_keypair *retired[3];

	atomic_store_explicit(&peer->live, 0, memory_order_release);
	gw->n_disabled -= peer->disabled;
	/* Before anything else changes: a worker that sees the new generation treats every
	 * reference it carries for the old one as gone. */
	atomic_fetch_add_explicit(&peer->gen, 1, memory_order_release);
	atomic_store_explicit(&peer->tx_kp, NULL, memory_order_release);
	wg_gw_peer_clear_aips(gw, peer);
	wg_noise_handshake_clear(&gw->dev, &peer->noise);
	wg_peer_retire_keypairs(gw, retired, wg_keypairs_clear(&peer->noise.keypairs, retired));
	clear_endpoint(gw, peer);
	rte_hash_del_key(gw->peer_keys, peer->noise.remote_static);
	wg_peer_drop_staged(gw, peer, WG_DROP_COUNT);
	free(peer->aips);
	wg_wipe(&peer->noise, sizeof(peer->noise));
	memset(&peer->timers, 0, sizeof(*peer) - offsetof(struct wg_peer, timers));
	gw->n_peers--;
	gw->n_ids_retiring++;
	wg_gw_retire(gw, peer, free_slot);
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

void wg_peer_zero_keys(struct wg_gw *gw, struct wg_peer *peer)
{
	struct wg_keypair *retired[3];

	atomic_store_explicit(&peer->tx_kp, NULL, memory_order_release);
	wg_peer_retire_keypairs(gw, retired, wg_keypairs_clear(&peer->noise.keypairs, retired));
	wg_noise_handshake_clear(&gw->dev, &peer->noise);
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
	peer->ep_resolving = false;
	if (port < 0 || !wg_route_nexthop(gw, (unsigned)port, &ep->ip, &nexthop)) {
		clear_endpoint(gw, peer);   /* unreachable: nothing is sent until it changes */
		return;
	}
	if (wg_neigh_lookup(gw, &nexthop, mac)) {
		wg_peer_set_endpoint(gw, peer, ep, (unsigned)port, mac);
		return;
	}
	/* Published when the next hop answers (wg_ctrl_neigh_learned). */
	clear_endpoint(gw, peer);
	peer->ep_resolving = true;
	wg_ctrl_solicit(gw, (unsigned)port, &nexthop, now);
}
