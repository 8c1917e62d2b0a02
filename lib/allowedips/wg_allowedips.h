/* SPDX-License-Identifier: MIT */
/*
 * Allowed IPs: the cryptokey routing table. A longest-prefix match from an inner address
 * to the peer that owns it, used twice per packet: on encrypt to pick the peer for a
 * destination, on decrypt to check that the source belongs to the peer that sent it.
 *
 * IPv4 is rte_fib (DIR24_8), IPv6 rte_lpm6. Both add a prefix in constant time (rte_lpm
 * walks a rule list per depth, which made a million /32s take minutes: measured by
 * wgdp-bench-tables, docs/performance.md). Neither reclaims its second-level groups
 * through RCU in DPDK 22.11 (a group freed by one change can be reused by the next while a
 * worker is still reading it), so each family keeps two copies: changes are made to the
 * copy no worker reads, the copies are swapped, and once every worker has passed a
 * quiescent state the same changes are replayed on the other copy. Changes are batched
 * between wg_allowedips_begin and wg_allowedips_publish (or _commit), so a bulk update pays
 * for one swap; the replay can be spread over several calls (wg_allowedips_catch_up) so no
 * single step holds the control lcore for long.
 *
 * The value stored is a peer id (< 2^21, rte_lpm6's limit). Writers: the control lcore.
 */
#ifndef WG_ALLOWEDIPS_H
#define WG_ALLOWEDIPS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_fib.h>
#include <rte_hash.h>
#include <rte_lpm6.h>
#include <rte_rcu_qsbr.h>

#include "wg_addr.h"

#define WG_ALLOWEDIPS_MAX_PEER_ID ((1u << 21) - 1)
#define WG_ALLOWEDIPS_NONE        UINT32_MAX   /* a lookup that matched nothing */
#define WG_ALLOWEDIPS_BURST       64           /* addresses walked together */

struct wg_allowedips_change {
	struct wg_prefix prefix;
	uint32_t peer;
	bool remove;
};

struct wg_allowedips {
	struct rte_fib *v4[2];
	struct rte_lpm6 *v6[2];
	_Atomic(unsigned) active;           /* the copy (of both families) workers read */
	struct rte_rcu_qsbr *rcu;           /* NULL: no concurrent readers (one lcore) */
	/* Exact prefix -> owner, for the writer (moves, listings, counts). */
	struct rte_hash *owners;
	/* The batch's changes: made on the inactive copy as they come, replayed on the other
	 * copy after the swap (pending[replayed..n_pending) are still to do). */
	struct wg_allowedips_change *pending;
	uint32_t n_pending, cap_pending, replayed;
	bool replaying;
	uint32_t none4;                     /* rte_fib's answer for no match */
	uint32_t default6[2];               /* ::/0's owner per copy (rte_lpm6 has no /0) */
	uint32_t n_v4, n_v6;
};

/* Peer ids are below `peers`; max_* are route counts per family; tbl8s size the
 * second-level tables (IPv4: a group of 256 entries for each /24 holding longer prefixes;
 * IPv6: one for each distinct 8 bits of depth beyond 24). 0, or -1 (rte_errno set). */
int wg_allowedips_init(struct wg_allowedips *a, const char *name, uint32_t peers,
		       uint32_t max_v4, uint32_t max_v6, uint32_t tbl8s_v4, uint32_t tbl8s_v6,
		       struct rte_rcu_qsbr *rcu, int socket);
void wg_allowedips_destroy(struct wg_allowedips *a);

/* Start a batch (finishing the replay of the previous one first); changes take effect
 * for readers when the batch is published. */
void wg_allowedips_begin(struct wg_allowedips *a);
/* Add or move a prefix to `peer` (replacing any owner). 0, or -1 (table full: the change
 * is not made). The prefix must have no host bits. */
int wg_allowedips_insert(struct wg_allowedips *a, const struct wg_prefix *p, uint32_t peer);
/* Remove a prefix; 0, or -1 if absent. */
int wg_allowedips_remove(struct wg_allowedips *a, const struct wg_prefix *p);
/* Make the batch what readers see: swap the copies and wait until no reader is in the old
 * one. The old copy is brought up to date by wg_allowedips_catch_up. */
void wg_allowedips_publish(struct wg_allowedips *a);
/* Replay at most `max` of the published batch's changes on the copy readers left; true
 * once none are left. */
bool wg_allowedips_catch_up(struct wg_allowedips *a, uint32_t max);
/* Room for n more changes in this batch, so that none of them has to grow the list (a
 * copy of millions of changes, tens of milliseconds in one go). 0, or -1 out of memory
 * (the changes then grow it as they come). */
int wg_allowedips_reserve(struct wg_allowedips *a, size_t n);
/* Publish and catch up completely. */
void wg_allowedips_commit(struct wg_allowedips *a);

/* The peer owning exactly this prefix (not a longest match), for moves and listings. */
bool wg_allowedips_owner(const struct wg_allowedips *a, const struct wg_prefix *p,
			 uint32_t *peer);

/* Readers. One longest-prefix match: the owner, or false. */
bool wg_allowedips_lookup(const struct wg_allowedips *a, const struct wg_ip *ip,
			  uint32_t *peer);
/* A burst's matches at once (the data path's way: the tables are walked for all of them
 * together, which hides their cache misses behind each other). peers[i] is the owner of
 * *ips[i], or WG_ALLOWEDIPS_NONE (also for an address of no family). */
void wg_allowedips_lookup_burst(const struct wg_allowedips *a, const struct wg_ip *const *ips,
				uint32_t *peers, unsigned n);

#endif
