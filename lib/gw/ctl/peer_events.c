/* SPDX-License-Identifier: MIT */
/*
 * Peer events (docs/operations.md): each one goes into the event ring that GetEvents
 * reads and gets a log line of its own (wgdp.peer). A request that changes many peers at
 * once (AddPeers of 10,000, wg setconf) logs the first few events and then one summary
 * line, so that the log stays readable and the control lcore does not spend its time
 * writing it; every event is in the ring all the same. Rekeys are logged at DEBUG: a
 * million peers make 8,000 of them a second.
 */
#include <inttypes.h>
#include <string.h>

#include "gw_ctl.h"
#include "gw_log.h"
#include "wg_crypto.h"

#define BULK_LINES 8    /* events logged one by one in a bulk change, then a summary */

static void log_event(struct wg_gw *gw, const struct wg_peer_event *ev)
{
	char key[WG_KEY_B64_LEN + 1], ep[WG_ADDR_STRLEN] = "", old[WG_ADDR_STRLEN] = "";
	uint32_t level = RTE_LOG_INFO;

	if (gw->bulk_depth && gw->bulk_logged++ >= BULK_LINES)
		return;
	wg_key_to_base64(key, ev->public_key);
	if (ev->endpoint.ip.family)
		wg_endpoint_format(ep, &ev->endpoint);
	if (ev->old_endpoint.ip.family)
		wg_endpoint_format(old, &ev->old_endpoint);
	switch (ev->kind) {
	case WG_PEER_EVENT_HANDSHAKE:
		if (!ev->first)
			level = RTE_LOG_DEBUG;
		rte_log(level, wg_logtype_peer, "wgdp.peer: event %" PRIu64 ": peer %s handshake "
			"completed (%s, initiated by %s) from %s\n", ev->seq, key,
			ev->first ? "first" : "rekey", ev->initiated_by_us ? "us" : "the peer",
			ep[0] ? ep : "(none)");
		break;
	case WG_PEER_EVENT_ROAMED:
		rte_log(level, wg_logtype_peer, "wgdp.peer: event %" PRIu64 ": peer %s roamed "
			"from %s to %s\n", ev->seq, key, old[0] ? old : "(none)", ep);
		break;
	case WG_PEER_EVENT_UP:
		rte_log(level, wg_logtype_peer, "wgdp.peer: event %" PRIu64 ": peer %s up at %s\n",
			ev->seq, key, ep[0] ? ep : "(none)");
		break;
	default:
		rte_log(level, wg_logtype_peer, "wgdp.peer: event %" PRIu64 ": peer %s %s\n",
			ev->seq, key, wg_peer_event_text(ev->kind));
		break;
	}
}

static void record(struct wg_gw *gw, struct wg_peer_event *ev)
{
	const struct wg_peer_event *stored;

	ev->unix_ns = wg_unix_ns();
	stored = wg_events_push(gw->events, ev);
	if (gw->bulk_depth) {
		if (gw->bulk_first_seq == 0)
			gw->bulk_first_seq = stored->seq;
		gw->bulk_counts[stored->kind]++;
	}
	log_event(gw, stored);
}

void wg_gw_event(struct wg_gw *gw, unsigned kind, const uint8_t key[WG_KEY_LEN],
		 const struct wg_endpoint *ep, const struct wg_endpoint *old_ep)
{
	struct wg_peer_event ev = { .kind = (uint8_t)kind };

	if (gw->events == NULL)
		return;
	memcpy(ev.public_key, key, WG_KEY_LEN);
	if (ep)
		ev.endpoint = *ep;
	if (old_ep)
		ev.old_endpoint = *old_ep;
	record(gw, &ev);
}

static const struct wg_endpoint *current_ep(const struct wg_peer *peer)
{
	const struct wg_peer_ep *e = atomic_load_explicit(&peer->ep, memory_order_relaxed);

	return e ? &e->ep : peer->conf_ep.ip.family ? &peer->conf_ep : NULL;
}

void wg_gw_event_handshake(struct wg_gw *gw, struct wg_peer *peer, bool initiated_by_us,
			   uint64_t now)
{
	struct wg_peer_event ev = { .kind = WG_PEER_EVENT_HANDSHAKE,
				    .initiated_by_us = initiated_by_us,
				    .first = peer->n_handshakes == 0 };
	const struct wg_endpoint *ep = current_ep(peer);

	gw->hs_completed++;
	peer->n_handshakes++;
	peer->last_hs_mono = now;
	if (gw->events == NULL)
		return;
	memcpy(ev.public_key, peer->noise.remote_static, WG_KEY_LEN);
	if (ep)
		ev.endpoint = *ep;
	record(gw, &ev);
	if (!peer->up) {
		peer->up = true;
		wg_gw_event(gw, WG_PEER_EVENT_UP, peer->noise.remote_static, ep, NULL);
	}
}

void wg_gw_peer_learn_endpoint(struct wg_gw *gw, struct wg_peer *peer,
			       const struct wg_endpoint *ep, unsigned port, const uint8_t *mac)
{
	const struct wg_endpoint *old = current_ep(peer);
	struct wg_endpoint before;
	bool moved = old && (!wg_ip_equal(&old->ip, &ep->ip) || old->port != ep->port);

	if (old)
		before = *old;
	wg_peer_set_endpoint(gw, peer, ep, port, mac);
	/* The first address a peer without one is heard from is no move. */
	if (moved)
		wg_gw_event(gw, WG_PEER_EVENT_ROAMED, peer->noise.remote_static, ep, &before);
}

void wg_gw_peer_check_quiet(struct wg_gw *gw, struct wg_peer *peer, uint64_t now)
{
	uint64_t after = ((uint64_t)WG_REJECT_AFTER_TIME + gw->cfg.events.quiet_margin) *
			 WG_NSEC_PER_SEC;

	if (peer->up && now - peer->last_hs_mono > after) {
		peer->up = false;
		wg_gw_event(gw, WG_PEER_EVENT_QUIET, peer->noise.remote_static, NULL, NULL);
	}
}

void wg_gw_events_begin(struct wg_gw *gw)
{
	if (gw->bulk_depth++ == 0) {
		gw->bulk_logged = 0;
		gw->bulk_first_seq = 0;
		memset(gw->bulk_counts, 0, sizeof(gw->bulk_counts));
	}
}

void wg_gw_events_end(struct wg_gw *gw)
{
	uint32_t total = 0;

	if (gw->bulk_depth == 0 || --gw->bulk_depth)
		return;
	for (unsigned k = 0; k < WG_PEER_EVENT_COUNT; k++)
		total += gw->bulk_counts[k];
	if (gw->bulk_logged <= BULK_LINES)
		return;
	WG_LOG(INFO, peer, "events %" PRIu64 "..%" PRIu64 ": %" PRIu32 " peers added, %" PRIu32
	       " changed, %" PRIu32 " removed, %" PRIu32 " disabled, %" PRIu32 " enabled "
	       "(the first %u logged above; GetEvents has all of them the ring still holds)", gw->bulk_first_seq,
	       gw->bulk_first_seq + total - 1, gw->bulk_counts[WG_PEER_EVENT_ADDED],
	       gw->bulk_counts[WG_PEER_EVENT_CHANGED], gw->bulk_counts[WG_PEER_EVENT_REMOVED],
	       gw->bulk_counts[WG_PEER_EVENT_DISABLED], gw->bulk_counts[WG_PEER_EVENT_ENABLED],
	       BULK_LINES);
}

static void drop_staged(struct wg_gw *gw, struct wg_peer *peer)
{
	wg_peer_drop_staged(gw, peer, WG_DROP_PEER_DISABLED);
}

/* Disabled: no keypair is published, so the workers stage what they would encrypt for it
 * and the control lcore drops it; its keypairs leave the index, so its data messages find
 * nothing; a handshake from it is refused after the core has identified it (hs.c). */
void wg_gw_peer_set_disabled(struct wg_gw *gw, struct wg_peer *peer, bool disabled)
{
	if (peer->disabled == disabled)
		return;
	peer->disabled = disabled;
	if (disabled) {
		gw->n_disabled++;
		wg_peer_zero_keys(gw, peer);
		drop_staged(gw, peer);
		peer->up = false;
		wg_gw_event(gw, WG_PEER_EVENT_DISABLED, peer->noise.remote_static, NULL, NULL);
	} else {
		gw->n_disabled--;
		wg_gw_event(gw, WG_PEER_EVENT_ENABLED, peer->noise.remote_static, NULL, NULL);
	}
}
