/* SPDX-License-Identifier: MIT */
/*
 * Neighbours and routes of the gateway's own ports. No kernel stands behind a DPDK port,
 * so the gateway resolves its next hops itself (ARP, neighbour discovery) and keeps them in
 * a small open-addressed table: the control lcore inserts and updates entries, workers read
 * them without locks (an entry's address is written before it is marked used, and the MAC
 * is one atomic word). Entries are never removed; the table is sized for the next hops and
 * on-link hosts of a gateway, and refuses new ones when full.
 */
#include <string.h>

#include "gw_state.h"

#define MAC_VALID (1ull << 63)

static uint32_t hash_ip(const struct wg_ip *ip)
{
	uint32_t h = 2166136261u;
	size_t n = ip->family == WG_AF_INET ? 4 : 16;

	for (size_t i = 0; i < n; i++)
		h = (h ^ ip->addr[i]) * 16777619u;
	return h ^ ip->family;
}

static uint64_t pack_mac(const uint8_t mac[6])
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | mac[i];
	return v | MAC_VALID;
}

static void unpack_mac(uint64_t v, uint8_t mac[6])
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		mac[i] = (uint8_t)v;
}

/* The entry for ip; with create, a new one if there is room. */
struct wg_neigh *wg_neigh_get(struct wg_gw *gw, const struct wg_ip *ip, bool create)
{
	uint32_t h = hash_ip(ip);

	for (uint32_t i = 0; i < WG_NEIGH_SIZE; i++) {
		struct wg_neigh *n = &gw->neigh[(h + i) % WG_NEIGH_SIZE];

		if (!atomic_load_explicit(&n->used, memory_order_acquire)) {
			if (!create)
				return NULL;
			n->ip = *ip;
			atomic_store_explicit(&n->mac, 0, memory_order_relaxed);
			atomic_store_explicit(&n->used, 1, memory_order_release);
			return n;
		}
		if (wg_ip_equal(&n->ip, ip))
			return n;
	}
	return NULL;
}

bool wg_neigh_lookup(const struct wg_gw *gw, const struct wg_ip *ip, uint8_t mac[6])
{
	uint32_t h = hash_ip(ip);

	for (uint32_t i = 0; i < WG_NEIGH_SIZE; i++) {
		const struct wg_neigh *n = &gw->neigh[(h + i) % WG_NEIGH_SIZE];
		uint64_t v;

		if (!atomic_load_explicit(&n->used, memory_order_acquire))
			return false;
		if (!wg_ip_equal(&n->ip, ip))
			continue;
		v = atomic_load_explicit(&n->mac, memory_order_relaxed);
		if (!(v & MAC_VALID))
			return false;
		unpack_mac(v, mac);
		return true;
	}
	return false;
}

bool wg_neigh_learn(struct wg_gw *gw, unsigned port, const struct wg_ip *ip,
		    const uint8_t mac[6], bool create)
{
	struct wg_neigh *n = wg_neigh_get(gw, ip, create);
	bool was_valid;

	if (n == NULL)
		return false;
	was_valid = atomic_load_explicit(&n->mac, memory_order_relaxed) & MAC_VALID;
	n->port = (uint16_t)port;
	atomic_store_explicit(&n->mac, pack_mac(mac), memory_order_release);
	return !was_valid;
}

static bool on_link(const struct wg_port *p, const struct wg_ip *dst)
{
	for (unsigned i = 0; i < p->n_addrs; i++)
		if (wg_prefix_contains(&p->addrs[i], dst))
			return true;
	return false;
}

int wg_route_port(const struct wg_gw *gw, unsigned role, const struct wg_ip *dst)
{
	int fallback = -1;

	for (unsigned i = 0; i < gw->n_ports; i++) {
		const struct wg_port *p = &gw->ports[i];
		const struct wg_ip *g = dst->family == WG_AF_INET ? &p->gw4 : &p->gw6;

		if (!(p->role & role))
			continue;
		if (on_link(p, dst))
			return (int)i;
		if (fallback < 0 && g->family)
			fallback = (int)i;
	}
	return fallback;
}

bool wg_route_nexthop(const struct wg_gw *gw, unsigned port, const struct wg_ip *dst,
		      struct wg_ip *nexthop)
{
	const struct wg_port *p = &gw->ports[port];
	const struct wg_ip *g = dst->family == WG_AF_INET ? &p->gw4 : &p->gw6;

	if (on_link(p, dst)) {
		*nexthop = *dst;
		return true;
	}
	if (g->family == 0)
		return false;
	*nexthop = *g;
	return true;
}
