/* SPDX-License-Identifier: MIT */
/*
 * The peer table: slots, the key hash, allowed IPs, creation and removal (the slot reused
 * only after an RCU grace period), and what workers read of a peer that goes with it.
 * Written by the control lcore; what is per handshake or per timer is in ctl/.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_malloc.h>

#include "gw_state.h"
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

void wg_peer_free_ep(struct wg_gw *gw, void *obj)
{
	(void)gw;
	rte_free(obj);
}

/* Drop every published endpoint (a peer reconfigured without one, or removed). */
void wg_peer_clear_endpoint(struct wg_gw *gw, struct wg_peer *peer)
{
	struct wg_peer_ep *old = atomic_exchange(&peer->ep, NULL);

	if (old)
		wg_gw_retire(gw, old, wg_peer_free_ep);
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
	wg_peer_set_tx(gw, peer, NULL);
	wg_gw_peer_clear_aips(gw, peer);
	wg_noise_handshake_clear(&gw->dev, &peer->noise);
	wg_peer_retire_keypairs(gw, retired, wg_keypairs_clear(&peer->noise.keypairs, retired));
	wg_peer_clear_endpoint(gw, peer);
	rte_hash_del_key(gw->peer_keys, peer->noise.remote_static);
	wg_peer_drop_staged(gw, peer, WG_DROP_COUNT);
	free(peer->aips);
	wg_peer_set_resolving(gw, peer, false);
	wg_wipe(&peer->noise, sizeof(peer->noise));
	memset(&peer->timers, 0, sizeof(*peer) - offsetof(struct wg_peer, timers));
	gw->n_peers--;
	gw->n_ids_retiring++;
	wg_gw_retire(gw, peer, free_slot);
}

void wg_peer_zero_keys(struct wg_gw *gw, struct wg_peer *peer)
{
	struct wg_keypair *retired[3];

	wg_peer_set_tx(gw, peer, NULL);
	wg_peer_retire_keypairs(gw, retired, wg_keypairs_clear(&peer->noise.keypairs, retired));
	wg_noise_handshake_clear(&gw->dev, &peer->noise);
}
