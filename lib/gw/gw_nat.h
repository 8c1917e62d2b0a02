/* SPDX-License-Identifier: MIT */
/*
 * Masquerade (nat.c) and destination rules (dstrules.c) in the gateway: the hooks the data
 * path calls and what the control lcore changes (docs/nat.md). For the files of lib/gw.
 *
 * The hooks cost one load and a branch while neither is in use. A flow belongs to one
 * worker, chosen by its inside address; its outside port (or ICMP id) lies in that
 * worker's slice of the port range, so a packet coming back names its owner too. A packet
 * on another worker is handed to the owner's ring (multi-producer, single consumer), which
 * translates it with its own traffic: no flow table has two writers.
 */
#ifndef WG_GW_NAT_H
#define WG_GW_NAT_H

#include <jansson.h>

#include "gw_state.h"

/* What a hook did with a packet. */
enum wg_nat_verdict {
	WG_NAT_PASS,           /* not masquerade's: go on as without it */
	WG_NAT_DONE,           /* translated in place (the parse updated): go on with it */
	WG_NAT_TAKEN,          /* handed to its owner, or dropped and counted */
};

struct wg_gw_nat;
struct wg_rules_pub;

int wg_gw_nat_out_slow(struct wg_worker *w, struct wg_gw_nat *nat, struct rte_mbuf *m,
		       struct wg_pkt_info *pi);
int wg_gw_nat_in_slow(struct wg_worker *w, struct wg_gw_nat *nat, unsigned port,
		      struct rte_mbuf *m, struct wg_pkt_info *pi);
void wg_gw_nat_poll_slow(struct wg_worker *w, struct wg_gw_nat *nat, uint64_t now);
bool wg_gw_dst_check(struct wg_worker *w, _Atomic uint64_t *peer_rules,
		     const struct wg_peer *peer, const struct wg_pkt_info *pi);

/* A decrypted packet (data at its IP header, `pi` its parse) about to leave for the LAN:
 * masqueraded if its port says so. Before the TTL is decremented. */
static inline int wg_gw_nat_out(struct wg_worker *w, struct rte_mbuf *m, struct wg_pkt_info *pi)
{
	struct wg_gw_nat *nat = atomic_load_explicit(&w->gw->nat, memory_order_acquire);

	return likely(nat == NULL) ? WG_NAT_PASS : wg_gw_nat_out_slow(w, nat, m, pi);
}

/* A frame that arrived on `port` for one of its addresses: a reply to a masqueraded flow?
 * DONE: its destination is the inside one now, to go on as a packet from the LAN. */
static inline int wg_gw_nat_in(struct wg_worker *w, unsigned port, struct rte_mbuf *m,
			       struct wg_pkt_info *pi)
{
	struct wg_gw_nat *nat = atomic_load_explicit(&w->gw->nat, memory_order_acquire);

	return likely(nat == NULL) ? WG_NAT_PASS : wg_gw_nat_in_slow(w, nat, port, m, pi);
}

/* Once per worker poll: packets handed to this worker, flushes, expiry. */
static inline void wg_gw_nat_poll(struct wg_worker *w, uint64_t now)
{
	struct wg_gw_nat *nat = atomic_load_explicit(&w->gw->nat, memory_order_acquire);

	if (unlikely(nat != NULL))
		wg_gw_nat_poll_slow(w, nat, now);
}

/* May the peer send this decrypted packet where it goes? */
static inline bool wg_gw_dst_allowed(struct wg_worker *w, const struct wg_peer *peer,
				     const struct wg_pkt_info *pi)
{
	_Atomic uint64_t *pr = atomic_load_explicit(&w->gw->peer_rules, memory_order_acquire);

	return likely(pr == NULL) || wg_gw_dst_check(w, pr, peer, pi);
}

/* ---- the control lcore ---- */

/* From the configuration at creation (after the peers): 0, or -1 with a reason. */
int wg_gw_nat_init(struct wg_gw *gw, char *err, size_t errlen);
void wg_gw_nat_destroy(struct wg_gw *gw);
/* Masquerade on a port changed (m checked here first: all or nothing). 0 or an errno. */
int wg_gw_nat_set_masq(struct wg_gw *gw, unsigned port, const struct wg_config_masq *m,
		       bool validate_only, char *why, size_t whylen);
/* The bounds and timeouts (max_flows only before the tables exist). 0 or an errno. */
int wg_gw_nat_set_limits(struct wg_gw *gw, const struct wg_config_nat *n, bool validate_only,
			 char *why, size_t whylen);

uint64_t wg_gw_nat_flows(struct wg_gw *gw);
/* Counters summed over the workers. */
void wg_gw_nat_stats(struct wg_gw *gw, struct wg_gw_stats *st);

/* nat_rpc.c: the JSON-RPC backend's hooks for masquerade and rules; GetStats' part. */
struct wg_rpc_backend;
void wg_gw_nat_rpc_backend(struct wg_rpc_backend *be);
json_t *wg_gw_nat_stats_json(struct wg_gw *gw);

/* Destination rules: from the configuration at creation (after the peers). */
int wg_gw_rules_init(struct wg_gw *gw, const struct wg_config *cfg, char *err, size_t errlen);
void wg_gw_rules_destroy(struct wg_gw *gw);
/* Define or replace a set (n may be 0: it allows nothing). 0 or an errno. */
int wg_gw_rules_set(struct wg_gw *gw, const char *name, const struct wg_dstrule *rules,
		    size_t n, bool validate_only, char *why, size_t whylen);
int wg_gw_rules_remove(struct wg_gw *gw, const char *name, bool validate_only, char *why,
		       size_t whylen);
/* Put a peer under a set (NULL: none). 0 or an errno. */
int wg_gw_rules_assign(struct wg_gw *gw, struct wg_peer *peer, const char *name,
		       bool validate_only, char *why, size_t whylen);
/* The name of the set a peer is under, or NULL. */
const char *wg_gw_rules_of(struct wg_gw *gw, const struct wg_peer *peer);
/* The sets, for listings: the i-th defined one (false past the last). */
bool wg_gw_rules_at(struct wg_gw *gw, unsigned i, const char **name,
		    const struct wg_dstrule **rules, size_t *n, unsigned *peers);

#endif
