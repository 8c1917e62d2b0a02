/* SPDX-License-Identifier: MIT */
/*
 * Allowed IPs: the cryptokey routing table. A longest-prefix match from an inner address
 * to the peer that owns it, used twice per packet: on encrypt to pick the peer for a
 * destination, on decrypt to check that the source belongs to the peer that sent it.
 *
 * IPv4 is one rte_lpm whose freed tbl8 groups are reclaimed through RCU, so workers look
 * it up while the control lcore changes it. rte_lpm6 has no such support (a deleted tbl8
 * may be reused under a reader's feet), so IPv6 keeps two copies: a change is made to the
 * copy no worker reads, the copies are swapped, and once every worker has passed a
 * quiescent state the change is made to the other copy too. Changes are batched between
 * wg_allowedips_begin and wg_allowedips_commit so a bulk update pays for one swap.
 *
 * The value stored is a peer id (< 2^21, rte_lpm6's limit). Writers: the control lcore.
 */
#ifndef WG_ALLOWEDIPS_H
#define WG_ALLOWEDIPS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <string.h>

#include <rte_lpm.h>
#include <rte_prefetch.h>
#include <rte_hash.h>
#include <rte_lpm6.h>
#include <rte_rcu_qsbr.h>

#include "wg_addr.h"

#define WG_ALLOWEDIPS_MAX_PEER_ID ((1u << 21) - 1)

struct wg_allowedips_change {
	struct wg_prefix prefix;
	uint32_t peer;
	bool remove;
};

struct wg_allowedips {
	struct rte_lpm *v4;
	struct rte_lpm6 *v6[2];
	_Atomic(struct rte_lpm6 *) v6_active;
	struct rte_rcu_qsbr *rcu;           /* NULL: no concurrent readers (one lcore) */
	/* Exact prefix -> owner, for the writer: rte_lpm keeps its rules in a list per depth
	 * that rte_lpm_is_rule_present walks, which made adding 100,000 /32s quadratic. */
	struct rte_hash *owners;
	struct wg_allowedips_change *pending;   /* IPv6 changes to replay on the other copy */
	uint32_t n_pending, cap_pending;
	uint32_t n_v4, n_v6;
};

/* max_* are rule counts; tbl8s size the second-level tables. 0, or -1 (rte_errno set). */
int wg_allowedips_init(struct wg_allowedips *a, const char *name, uint32_t max_v4,
		       uint32_t max_v6, uint32_t tbl8s_v4, uint32_t tbl8s_v6,
		       struct rte_rcu_qsbr *rcu, int socket);
void wg_allowedips_destroy(struct wg_allowedips *a);

/* Start a batch; changes take effect for readers at commit. */
void wg_allowedips_begin(struct wg_allowedips *a);
/* Add or move a prefix to `peer` (replacing any owner). 0, or -1 (table full: the change
 * is not made). The prefix must have no host bits. */
int wg_allowedips_insert(struct wg_allowedips *a, const struct wg_prefix *p, uint32_t peer);
/* Remove a prefix; 0, or -1 if absent. */
int wg_allowedips_remove(struct wg_allowedips *a, const struct wg_prefix *p);
/* Publish the batch (IPv6: swap and wait for readers). */
void wg_allowedips_commit(struct wg_allowedips *a);

/* The peer owning exactly this prefix (not a longest match), for moves and listings. */
bool wg_allowedips_owner(const struct wg_allowedips *a, const struct wg_prefix *p,
			 uint32_t *peer);

/* Readers (workers): longest-prefix match. */
static inline bool wg_allowedips_lookup4(const struct wg_allowedips *a, const uint8_t ip[4],
					 uint32_t *peer)
{
	uint32_t host = (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | (uint32_t)ip[2] << 8 | ip[3];

	return rte_lpm_lookup(a->v4, host, peer) == 0;
}

static inline bool wg_allowedips_lookup6(struct wg_allowedips *a, const uint8_t ip[16],
					 uint32_t *peer)
{
	const struct rte_lpm6 *t = atomic_load_explicit(&a->v6_active, memory_order_acquire);

	return rte_lpm6_lookup(t, ip, peer) == 0;
}

static inline bool wg_allowedips_lookup(struct wg_allowedips *a, const struct wg_ip *ip,
					uint32_t *peer)
{
	return ip->family == WG_AF_INET ? wg_allowedips_lookup4(a, ip->addr, peer) :
		wg_allowedips_lookup6(a, ip->addr, peer);
}

/* Fetching ahead for a burst's IPv4 lookups, which with many peers miss the cache twice
 * each (rte_lpm's first-level entry, then the second-level one it points to): stage 1
 * fetches the first, stage 2 (once the first is in) the second. IPv6 is not fetched
 * ahead (rte_lpm6's tables are walked several levels deep). */
static inline void wg_allowedips_prefetch(const struct wg_allowedips *a, const struct wg_ip *ip,
					  int stage)
{
	uint32_t host;
	uint32_t e;

	if (ip->family != WG_AF_INET)
		return;
	host = (uint32_t)ip->addr[0] << 24 | (uint32_t)ip->addr[1] << 16 |
	       (uint32_t)ip->addr[2] << 8 | ip->addr[3];
	if (stage == 1) {
		rte_prefetch0(&a->v4->tbl24[host >> 8]);
		return;
	}
	memcpy(&e, &a->v4->tbl24[host >> 8], sizeof(e));
	if ((e & RTE_LPM_VALID_EXT_ENTRY_BITMASK) == RTE_LPM_VALID_EXT_ENTRY_BITMASK)
		rte_prefetch0(&a->v4->tbl8[(uint8_t)host +
					   (e & 0x00ffffff) * RTE_LPM_TBL8_GROUP_NUM_ENTRIES]);
}

#endif
