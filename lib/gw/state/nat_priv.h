/* SPDX-License-Identifier: MIT */
/* Masquerade's state in the gateway, for nat.c (the data path) and nat_ctl.c (the control
 * lcore) only. */
#ifndef WG_NAT_PRIV_H
#define WG_NAT_PRIV_H

#include "gw_nat.h"
#include "wg_nat.h"

#define NAT_RING_SIZE     2048
#define NAT_EXPIRE_BUDGET 64        /* flow slots looked at per poll */
#define NAT_KIND_OUT      0x4e01    /* meta.kind of a handed-off packet: going out ... */
#define NAT_KIND_IN       0x4e02    /* ... or coming back (a frame, meta.port its port) */

struct nat_port {
	bool on;
	uint8_t n_sources, n_pool;
	uint16_t port_min, port_max;
	struct wg_prefix sources[WG_CONFIG_MAX_MASQ_SOURCES];
	uint32_t pool[WG_CONFIG_MAX_MASQ_POOL];       /* network order */
};

/* [pub] read-only once published. */
struct nat_conf {
	uint64_t epoch;
	uint32_t per_source;
	struct wg_nat_timeouts to;
	struct nat_port port[WG_MAX_PORTS];
};

/* A worker's share: [wk] written by that worker only. */
struct nat_worker {
	struct wg_nat_table *t;
	struct rte_ring *ring;        /* packets other workers hand it; NULL with one worker */
	uint64_t epoch;               /* of its table */
	uint64_t handed_off;          /* packets it passed to other owners */
} __rte_cache_aligned;

struct wg_gw_nat {
	_Atomic(struct nat_conf *) conf;
	unsigned n_workers;
	uint64_t epoch;               /* [ctrl] */
	struct nat_worker w[WG_MAX_WORKERS];
};

#endif
