/* SPDX-License-Identifier: MIT */
/*
 * Live configuration changes: a parsed `set` request (struct wg_uapi_set, from `wg` or
 * translated from JSON-RPC) applied to the running gateway on the control lcore. The
 * request is checked as a whole first, so one that cannot be applied changes nothing;
 * then device fields, then peers in order, as wireguard-go does. Peers that are changed
 * keep their sessions and counters; peers that are not touched are not disturbed at all
 * (workers read published pointers and never wait).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_ctl.h"
#include "wg_crypto.h"
#include "wg_uapi.h"

/* Peers the request would create: an upper bound (a key named twice counts twice).
 * *gone: the allowed IPs its removals and replace_allowed_ips clear (an upper bound). */
static size_t new_peers(struct wg_gw *gw, const struct wg_uapi_set *s, size_t *gone)
{
	size_t n = 0;

	*gone = 0;
	for (size_t i = 0; i < s->n_peers; i++) {
		const struct wg_uapi_peer *p = &s->peers[i];
		bool clears = p->remove || p->replace_allowed_ips;
		const struct wg_peer *peer;

		wg_gw_yield(gw);
		if (!clears && s->replace_peers) {
			n += !p->remove && !p->update_only;
			continue;
		}
		peer = wg_gw_peer_find(gw, p->public_key);
		if (peer && clears)
			*gone += peer->n_aips;
		if (!p->remove && !p->update_only && (s->replace_peers || peer == NULL))
			n++;
	}
	return n;
}

/* Allowed IPs the request adds, per family (an upper bound: one already there counts),
 * and the ones it names for removal. */
static void added_aips(struct wg_gw *gw, const struct wg_uapi_set *s, size_t *v4, size_t *v6,
		       size_t *removed)
{
	*v4 = *v6 = *removed = 0;
	for (size_t i = 0; i < s->n_peers; i++) {
		if (i % 64 == 0)
			wg_gw_yield(gw);
		for (size_t j = 0; j < s->peers[i].n_aips; j++) {
			const struct wg_uapi_aip *a = &s->peers[i].aips[j];

			if (a->remove)
				*removed += 1;
			else
				*(a->prefix.ip.family == WG_AF_INET ? v4 : v6) += 1;
		}
	}
}

/* *changes: the allowed-IP changes the request makes at most, beyond a replace_peers'
 * removals (for the caller's reservation). */
static int check(struct wg_gw *gw, const struct wg_uapi_set *s, char *why, size_t whylen,
		 size_t *changes)
{
	/* Slots of removed peers still retiring count: wg_gw_peer_create reclaims them. */
	size_t room = s->replace_peers ? gw->max_peers : gw->n_free_ids + gw->n_ids_retiring;
	size_t v4, v6, removed, gone, fresh;

	added_aips(gw, s, &v4, &v6, &removed);
	fresh = new_peers(gw, s, &gone);
	*changes = v4 + v6 + removed + gone;

	if (fresh > room) {
		snprintf(why, whylen, "peer table full: %zu new peers, room for %zu (--max-peers)",
			 fresh, room);
		return ENOSPC;
	}
	if (gw->aips.n_v4 + v4 > gw->aips_max || gw->aips.n_v6 + v6 > gw->aips_max) {
		snprintf(why, whylen, "allowed-IPs table full (%u per family)", gw->aips_max);
		return ENOSPC;
	}
	if (s->obfs_has) {
		struct wg_obfs o;
		char rule[96];

		wg_uapi_obfs_merge(&o, &gw->cfg.obfs, s);
		if (wg_obfs_check(&o, gw->mtu, rule, sizeof(rule)) != 0) {
			snprintf(why, whylen, "obfuscation: %s", rule);
			return EINVAL;
		}
	}
	if (s->has_private_key && !wg_is_zero(s->private_key, WG_KEY_LEN)) {
		uint8_t pub[WG_KEY_LEN];

		if (wg_x25519_public(pub, s->private_key) != 0) {
			snprintf(why, whylen, "unusable private key");
			return EINVAL;
		}
	}
	return 0;
}

static void set_private_key(struct wg_gw *gw, const uint8_t key[WG_KEY_LEN])
{
	uint8_t clamped[WG_KEY_LEN];
	struct wg_peer *self;
	bool same;

	/* The same key again (wg setconf repeats it) changes nothing and ends no session. */
	memcpy(clamped, key, WG_KEY_LEN);
	wg_x25519_clamp(clamped);
	same = gw->dev.has_identity && wg_equal(clamped, gw->dev.static_private, WG_KEY_LEN);
	wg_wipe(clamped, sizeof(clamped));
	if (same)
		return;

	wg_noise_device_set_key(&gw->dev, key);
	wg_hs_identity_publish(gw);
	/* Sessions made with the old identity end; the static DH is redone lazily. A
	 * handshake served in a pause already uses the new identity (a job prepared with the
	 * old one is refused: identity_gen); a peer it reaches before this loop does loses
	 * that fresh session and makes another. */
	for (uint32_t id = 0; id < gw->max_peers; id++) {
		struct wg_peer *peer = &gw->peers[id];

		if (id % 64 == 0)
			wg_gw_yield(gw);
		if (!atomic_load_explicit(&peer->live, memory_order_relaxed))
			continue;
		wg_noise_peer_rekey_static(&gw->dev, &peer->noise);
		wg_peer_zero_keys(gw, peer);
	}
	/* A peer with our own new public key makes no sense (wireguard-go drops it too). */
	self = gw->dev.has_identity ? wg_gw_peer_find(gw, gw->dev.static_public) : NULL;
	if (self)
		wg_gw_peer_remove(gw, self);
}

/*
 * replace_peers (wg setconf): the peer set becomes the request's. wireguard-go and the
 * kernel remove every peer and add them again, which ends every session; here a peer that
 * the request names again keeps its session and counters, and only its settings start
 * afresh (no preshared key, no keepalive, no allowed IPs, before the request's own lines
 * apply). What the peers can do afterwards is exactly what the request says.
 *
 * Peers the request does not name are removed here; those it names are reset when their
 * own lines are applied (reset_named), so that a pause point between peers never shows a
 * handshake a peer that has lost its preshared key and not got it back yet.
 */
static void reset_named(struct wg_gw *gw, struct wg_peer *peer)
{
	if (peer->reset_gen == gw->apply_gen)
		return;
	peer->reset_gen = gw->apply_gen;
	wg_noise_peer_set_psk(&peer->noise, NULL);
	peer->keepalive = 0;
	wg_timers_set_persistent(&peer->timers, 0, wg_gw_now());
	wg_gw_peer_clear_aips(gw, peer);
}

static void replace_peers(struct wg_gw *gw, const struct wg_uapi_set *s)
{
	/* The named peers are marked with this request's generation (no sort: each key is
	 * one look-up, and the loops have pause points), then the unmarked ones go. */
	for (size_t i = 0; i < s->n_peers; i++) {
		struct wg_peer *peer;

		if (i % 64 == 0)
			wg_gw_yield(gw);
		if (!s->peers[i].remove && (peer = wg_gw_peer_find(gw, s->peers[i].public_key)))
			peer->named_gen = gw->apply_gen;
	}
	for (uint32_t id = 0; id < gw->max_peers; id++) {
		struct wg_peer *peer = &gw->peers[id];
		uint8_t key[WG_KEY_LEN];

		if (id % 64 == 0)
			wg_gw_yield(gw);
		if (!atomic_load_explicit(&peer->live, memory_order_relaxed) ||
		    peer->named_gen == gw->apply_gen)
			continue;
		memcpy(key, peer->noise.remote_static, WG_KEY_LEN);
		wg_gw_peer_remove(gw, peer);
		wg_gw_event(gw, WG_PEER_EVENT_REMOVED, key, NULL, NULL);
	}
}

static uint16_t pick_port(void)
{
	return (uint16_t)(49152 + wg_random_u32() % 16384);
}

/* AmneziaWG's parameters first: the one device change that can fail (memory for the
 * published copy), so that a failure changes nothing. */
static int apply_obfs(struct wg_gw *gw, const struct wg_uapi_set *s, char *why, size_t whylen)
{
	struct wg_obfs o;

	if (!s->obfs_has)
		return 0;
	wg_uapi_obfs_merge(&o, &gw->cfg.obfs, s);
	if (wg_gw_obfs_set(gw, &o) != 0) {
		snprintf(why, whylen, "out of memory for the obfuscation parameters");
		return ENOMEM;
	}
	return 0;
}

static void apply_device(struct wg_gw *gw, const struct wg_uapi_set *s)
{
	if (s->has_private_key)
		set_private_key(gw, s->private_key);
	if (s->has_listen_port)
		atomic_store_explicit(&gw->listen_port,
				      s->listen_port ? s->listen_port : pick_port(),
				      memory_order_relaxed);
	if (s->has_fwmark)
		gw->cfg.fwmark = s->fwmark;
	if (s->replace_peers)
		replace_peers(gw, s);
}

static int apply_aips(struct wg_gw *gw, struct wg_peer *peer, const struct wg_uapi_peer *p)
{
	if (p->replace_allowed_ips)
		wg_gw_peer_clear_aips(gw, peer);
	for (size_t i = 0; i < p->n_aips; i++) {
		if (p->aips[i].remove)
			wg_gw_peer_del_aip(gw, peer, &p->aips[i].prefix);
		else if (wg_gw_peer_add_aip(gw, peer, &p->aips[i].prefix) != 0)
			return -1;
	}
	return 0;
}

static int apply_peer(struct wg_gw *gw, const struct wg_uapi_set *s,
		      const struct wg_uapi_peer *p, uint64_t now, char *why, size_t whylen)
{
	struct wg_peer *peer = wg_gw_peer_find(gw, p->public_key);

	if (p->remove) {
		if (peer) {
			wg_gw_peer_remove(gw, peer);
			wg_gw_event(gw, WG_PEER_EVENT_REMOVED, p->public_key, NULL, NULL);
		}
		return 0;
	}
	if (peer == NULL) {
		if (p->update_only || (gw->dev.has_identity &&
				       memcmp(p->public_key, gw->dev.static_public, WG_KEY_LEN) == 0))
			return 0;
		peer = wg_gw_peer_create(gw, p->public_key, NULL, why, whylen);
		if (peer == NULL)
			return ENOSPC;
		peer->reset_gen = gw->apply_gen;   /* new: nothing to reset */
	} else if (s->replace_peers) {
		reset_named(gw, peer);
	}
	if (p->has_preshared_key)
		wg_noise_peer_set_psk(&peer->noise, wg_is_zero(p->preshared_key, WG_KEY_LEN) ?
				      NULL : p->preshared_key);
	if (p->has_endpoint)
		wg_peer_use_endpoint(gw, peer, &p->endpoint, now);
	if (p->has_keepalive) {
		peer->keepalive = p->keepalive;
		wg_timers_set_persistent(&peer->timers, p->keepalive, now);
	}
	if (apply_aips(gw, peer, p) != 0) {
		snprintf(why, whylen, "allowed-IPs table full (second-level tables exhausted); "
			 "the request was applied up to this peer");
		return ENOSPC;
	}
	return 0;
}

int wg_gw_validate(struct wg_gw *gw, const struct wg_uapi_set *s, char *why, size_t whylen)
{
	size_t added;

	return check(gw, s, why, whylen, &added);
}

/* What a peer's settings are, to tell a change from a request that repeats them (wg
 * syncconf sends every peer). Allowed IPs count in any order. */
static uint64_t fingerprint(const struct wg_peer *peer)
{
	struct {
		uint64_t keepalive, port, n_aips, aips;
		struct wg_ip ip;
		uint8_t psk[WG_KEY_LEN];
	} in;
	uint64_t one, out;

	memset(&in, 0, sizeof(in));
	in.keepalive = peer->keepalive;
	in.port = peer->conf_ep.port;
	in.n_aips = peer->n_aips;
	for (unsigned i = 0; i < peer->n_aips; i++) {
		uint8_t b[18];

		b[0] = peer->aips[i].ip.family;
		b[1] = peer->aips[i].len;
		memcpy(b + 2, peer->aips[i].ip.addr, 16);
		wg_blake2s((uint8_t *)&one, sizeof(one), b, sizeof(b));
		in.aips += one;   /* a sum: the same set in any order */
	}
	in.ip.family = peer->conf_ep.ip.family;
	memcpy(in.ip.addr, peer->conf_ep.ip.addr, sizeof(in.ip.addr));
	memcpy(in.psk, peer->noise.preshared_key, WG_KEY_LEN);
	wg_blake2s((uint8_t *)&out, sizeof(out), &in, sizeof(in));
	wg_wipe(&in, sizeof(in));
	return out;
}

/* The peers' fingerprints before the request, and which of the request's peers existed.
 * replace_peers resets every peer before the request's lines apply, so then every peer's
 * fingerprint is taken, by id; otherwise only the request's, by position. */
struct before {
	uint64_t *by_id;             /* replace_peers: [max_peers] */
	uint64_t *by_pos;            /* otherwise: [n_peers] */
	bool *existed;               /* [n_peers] */
};

static bool before_take(struct wg_gw *gw, const struct wg_uapi_set *s, struct before *b)
{
	memset(b, 0, sizeof(*b));
	b->existed = calloc(s->n_peers + 1, sizeof(*b->existed));
	if (s->replace_peers)
		b->by_id = calloc(gw->max_peers, sizeof(*b->by_id));
	else
		b->by_pos = calloc(s->n_peers + 1, sizeof(*b->by_pos));
	if (b->existed == NULL || (b->by_id == NULL && b->by_pos == NULL))
		return false;
	for (size_t i = 0; i < s->n_peers; i++) {
		struct wg_peer *peer = wg_gw_peer_find(gw, s->peers[i].public_key);

		wg_gw_yield(gw);
		b->existed[i] = peer != NULL;
		if (peer && b->by_pos)
			b->by_pos[i] = fingerprint(peer);
	}
	for (uint32_t id = 0; b->by_id && id < gw->max_peers; id++) {
		if (id % 64 == 0)
			wg_gw_yield(gw);
		if (atomic_load_explicit(&gw->peers[id].live, memory_order_relaxed))
			b->by_id[id] = fingerprint(&gw->peers[id]);
	}
	return true;
}

static void before_free(struct before *b)
{
	free(b->by_id);
	free(b->by_pos);
	free(b->existed);
}

/* One event per peer the request added or changed (removals are reported as they go).
 * Without the fingerprints (no memory), every touched peer counts as changed. */
static void report(struct wg_gw *gw, const struct wg_uapi_set *s, const struct before *b,
		   bool have)
{
	for (size_t i = 0; i < s->n_peers; i++) {
		struct wg_peer *peer = s->peers[i].remove ? NULL :
			wg_gw_peer_find(gw, s->peers[i].public_key);
		uint64_t was;

		wg_gw_yield(gw);
		if (peer == NULL || peer->event_mark == gw->apply_gen)
			continue;
		peer->event_mark = gw->apply_gen;
		if (have && !b->existed[i]) {
			wg_gw_event(gw, WG_PEER_EVENT_ADDED, peer->noise.remote_static, NULL, NULL);
			continue;
		}
		was = !have ? 0 : b->by_id ? b->by_id[peer->id] : b->by_pos[i];
		if (!have || was != fingerprint(peer))
			wg_gw_event(gw, WG_PEER_EVENT_CHANGED, peer->noise.remote_static, NULL,
				    NULL);
	}
}

int wg_gw_apply(struct wg_gw *gw, const struct wg_uapi_set *s, char *why, size_t whylen)
{
	uint64_t now = wg_gw_now();
	size_t added;
	int rc = check(gw, s, why, whylen, &added);
	struct before b;
	bool have;

	if (rc != 0)
		return rc;
	rc = apply_obfs(gw, s, why, whylen);
	if (rc != 0)
		return rc;
	have = before_take(gw, s, &b);
	gw->apply_gen++;
	gw->rpc_cursor_valid = false;   /* ListPeers positions move when peers come and go */
	wg_gw_events_begin(gw);
	wg_allowedips_begin(&gw->aips);
	/* The changes' list grown once, not doubled (and copied) under a peer's change: the
	 * request's own, and with replace_peers at most every allowed IP there is now. */
	wg_allowedips_reserve(&gw->aips, added + (s->replace_peers ?
				   (size_t)gw->aips.n_v4 + gw->aips.n_v6 : 0));
	wg_pace_peers(gw, s->n_peers);
	apply_device(gw, s);
	for (size_t i = 0; i < s->n_peers && rc == 0; i++) {
		wg_gw_yield(gw);
		rc = apply_peer(gw, s, &s->peers[i], now, why, whylen);
	}
	/* The new copy of the tables for the workers, then the old one brought level with
	 * it, a piece at a time: 128 changes, since an rte_lpm6 change costs 1-30 us (a
	 * piece of 1,024 once took 35 ms at a million peers). */
	wg_allowedips_publish(&gw->aips);
	while (!wg_allowedips_catch_up(&gw->aips, 128))
		wg_gw_yield(gw);
	report(gw, s, &b, have);
	wg_gw_events_end(gw);
	before_free(&b);
	return rc;
}
