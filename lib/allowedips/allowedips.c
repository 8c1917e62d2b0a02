/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_jhash.h>
#include <rte_rib.h>

#include "wg_allowedips.h"


/* 20 bytes: rte_jhash reads whole 32-bit words, so the key is a multiple of four. */
struct owner_key {
	uint8_t family, len;
	uint8_t pad[2];
	uint8_t addr[16];
};

static struct owner_key owner_key(const struct wg_prefix *p)
{
	struct owner_key k = { .family = p->ip.family, .len = p->len };

	memcpy(k.addr, p->ip.addr, p->ip.family == WG_AF_INET ? 4 : 16);
	return k;
}

static uint32_t host_v4(const uint8_t b[4])
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int wg_allowedips_init(struct wg_allowedips *a, const char *name, uint32_t peers,
		       uint32_t max_v4, uint32_t max_v6, uint32_t tbl8s_v4, uint32_t tbl8s_v6,
		       struct rte_rcu_qsbr *rcu, int socket)
{
	/* DIR24_8's next hops keep one bit for itself: 2-byte entries (a 32 MiB first
	 * level) hold ids below 2^15 - 1, 4-byte ones (64 MiB) the rest. The largest value
	 * is the answer for an address no prefix covers. */
	bool small = peers < 0x7fff;
	struct rte_fib_conf c4 = {
		.type = RTE_FIB_DIR24_8, .default_nh = small ? 0x7fff : 0x7fffffff,
		.max_routes = (int)max_v4,
		.dir24_8 = { .nh_sz = small ? RTE_FIB_DIR24_8_2B : RTE_FIB_DIR24_8_4B,
			     .num_tbl8 = tbl8s_v4 },
	};
	struct rte_lpm6_config c6 = { .max_rules = max_v6, .number_tbl8s = tbl8s_v6 };
	char n[RTE_HASH_NAMESIZE];

	memset(a, 0, sizeof(*a));
	if (peers > WG_ALLOWEDIPS_MAX_PEER_ID + 1) {
		rte_errno = EINVAL;
		return -1;
	}
	a->rcu = rcu;
	a->none4 = c4.default_nh;
	for (int i = 0; i < 2; i++) {
		snprintf(n, sizeof(n), "%s4%c", name, 'a' + i);
		a->v4[i] = rte_fib_create(n, socket, &c4);
		snprintf(n, sizeof(n), "%s6%c", name, 'a' + i);
		a->v6[i] = rte_lpm6_create(n, socket, &c6);
	}
	snprintf(n, sizeof(n), "%so", name);
	a->owners = rte_hash_create(&(struct rte_hash_parameters){
		.name = n, .entries = max_v4 + max_v6, .key_len = sizeof(struct owner_key),
		.hash_func = rte_jhash, .socket_id = socket,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE });
	if (!a->v4[0] || !a->v4[1] || !a->v6[0] || !a->v6[1] || !a->owners) {
		wg_allowedips_destroy(a);
		return -1;
	}
	a->default6[0] = a->default6[1] = WG_ALLOWEDIPS_NONE;
	atomic_init(&a->active, 0);
	return 0;
}

void wg_allowedips_destroy(struct wg_allowedips *a)
{
	for (int i = 0; i < 2; i++) {
		rte_fib_free(a->v4[i]);
		rte_lpm6_free(a->v6[i]);
	}
	rte_hash_free(a->owners);
	free(a->pending);
	memset(a, 0, sizeof(*a));
}

static uint32_t mask4(unsigned len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/*
 * DPDK 22.11's DIR24_8 rewrites a prefix's range as the gaps between the prefixes inside
 * it; when the last of those ends at 255.255.255.255 its end wraps to 0, and a prefix
 * that also ends there (0.0.0.0/0, 128.0.0.0/1, 254.0.0.0/7, ...) is then written over the
 * whole address space. Measured, not guessed: test_allowedips found it against its
 * reference (128.0.0.0/2 + 192.0.0.0/2, then 128.0.0.0/1, sends 0.0.0.0 to the /1). So
 * a change to such a prefix first takes out the deeper prefixes that end at the top too
 * (deepest first, so none of those removals meets the case either), makes the change,
 * and puts them back (shallowest first). This happens on the copy no reader sees.
 */
static int apply4(struct rte_fib *fib, uint32_t ip, uint8_t len, uint32_t peer, bool remove)
{
	struct rte_rib *rib = rte_fib_get_rib(fib);
	uint64_t nh[33];
	uint8_t depth[33];
	unsigned n = 0;
	int r;

	if ((ip | ~mask4(len)) == UINT32_MAX)
		for (unsigned d = 32; d > len; d--) {
			struct rte_rib_node *node = rte_rib_lookup_exact(rib, mask4(d), (uint8_t)d);

			if (node && rte_rib_get_nh(node, &nh[n]) == 0 &&
			    rte_fib_delete(fib, mask4(d), (uint8_t)d) == 0)
				depth[n++] = (uint8_t)d;
		}
	r = remove ? rte_fib_delete(fib, ip, len) : rte_fib_add(fib, ip, len, peer);
	while (n > 0) {
		n--;
		rte_fib_add(fib, mask4(depth[n]), depth[n], nh[n]);
	}
	return r;
}

static int apply(struct wg_allowedips *a, unsigned copy, const struct wg_allowedips_change *c)
{
	const struct wg_prefix *p = &c->prefix;
	int r;

	if (p->ip.family == WG_AF_INET)
		r = apply4(a->v4[copy], host_v4(p->ip.addr), p->len, c->peer, c->remove);
	else if (p->len == 0) {
		a->default6[copy] = c->remove ? WG_ALLOWEDIPS_NONE : c->peer;
		r = 0;
	} else
		r = c->remove ? rte_lpm6_delete(a->v6[copy], p->ip.addr, p->len) :
			rte_lpm6_add(a->v6[copy], p->ip.addr, p->len, c->peer);
	return r == 0 ? 0 : -1;
}

static unsigned inactive(const struct wg_allowedips *a)
{
	return atomic_load_explicit(&a->active, memory_order_relaxed) ^ 1;
}

/* Make a change on the copy no reader sees and remember it for the other. */
static int change(struct wg_allowedips *a, const struct wg_allowedips_change *c)
{
	if (a->n_pending == a->cap_pending) {
		uint32_t cap = a->cap_pending ? a->cap_pending * 2 : 64;
		struct wg_allowedips_change *p = realloc(a->pending, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		a->pending = p;
		a->cap_pending = cap;
	}
	if (apply(a, inactive(a), c) != 0)
		return -1;
	a->pending[a->n_pending++] = *c;
	return 0;
}

int wg_allowedips_reserve(struct wg_allowedips *a, size_t n)
{
	size_t need = a->n_pending + n;
	struct wg_allowedips_change *p;

	if (need <= a->cap_pending)
		return 0;
	if (need > UINT32_MAX)
		return -1;
	if (a->n_pending == 0) {
		/* Nothing to keep: a fresh block, not a copy of the old one. */
		p = malloc(need * sizeof(*p));
		if (p == NULL)
			return -1;
		free(a->pending);
	} else {
		p = realloc(a->pending, need * sizeof(*p));
		if (p == NULL)
			return -1;
	}
	a->pending = p;
	a->cap_pending = (uint32_t)need;
	return 0;
}

void wg_allowedips_begin(struct wg_allowedips *a)
{
	if (a->replaying)
		wg_allowedips_catch_up(a, UINT32_MAX);
	a->n_pending = 0;
}

int wg_allowedips_insert(struct wg_allowedips *a, const struct wg_prefix *p, uint32_t peer)
{
	struct wg_allowedips_change c = { .prefix = *p, .peer = peer };
	struct owner_key k = owner_key(p);
	uint32_t old;
	bool existed;

	if (peer > WG_ALLOWEDIPS_MAX_PEER_ID || peer >= a->none4)
		return -1;
	if (a->replaying)
		wg_allowedips_catch_up(a, UINT32_MAX);
	existed = wg_allowedips_owner(a, p, &old);
	if (rte_hash_add_key_data(a->owners, &k, (void *)(uintptr_t)peer) != 0)
		return -1;
	if (change(a, &c) != 0) {
		if (existed)
			rte_hash_add_key_data(a->owners, &k, (void *)(uintptr_t)old);
		else
			rte_hash_del_key(a->owners, &k);
		return -1;
	}
	if (!existed) {
		if (p->ip.family == WG_AF_INET)
			a->n_v4++;
		else
			a->n_v6++;
	}
	return 0;
}

int wg_allowedips_remove(struct wg_allowedips *a, const struct wg_prefix *p)
{
	struct wg_allowedips_change c = { .prefix = *p, .remove = true };
	struct owner_key k = owner_key(p);
	uint32_t old;

	if (a->replaying)
		wg_allowedips_catch_up(a, UINT32_MAX);
	if (!wg_allowedips_owner(a, p, &old) || change(a, &c) != 0)
		return -1;
	rte_hash_del_key(a->owners, &k);
	if (p->ip.family == WG_AF_INET)
		a->n_v4--;
	else
		a->n_v6--;
	return 0;
}

void wg_allowedips_publish(struct wg_allowedips *a)
{
	if (a->n_pending == 0 || a->replaying)
		return;
	atomic_store_explicit(&a->active, inactive(a), memory_order_release);
	/* No reader may still be inside the old copy when it is changed. */
	if (a->rcu)
		rte_rcu_qsbr_synchronize(a->rcu, RTE_QSBR_THRID_INVALID);
	a->replaying = true;
	a->replayed = 0;
}

bool wg_allowedips_catch_up(struct wg_allowedips *a, uint32_t max)
{
	unsigned copy = inactive(a);

	if (!a->replaying)
		return true;
	for (; a->replayed < a->n_pending && max > 0; a->replayed++, max--)
		/* The same changes in the same order on an identical copy: each succeeds as
		 * it did the first time. */
		apply(a, copy, &a->pending[a->replayed]);
	if (a->replayed < a->n_pending)
		return false;
	a->replaying = false;
	a->n_pending = 0;
	return true;
}

void wg_allowedips_commit(struct wg_allowedips *a)
{
	wg_allowedips_publish(a);
	wg_allowedips_catch_up(a, UINT32_MAX);
}

bool wg_allowedips_owner(const struct wg_allowedips *a, const struct wg_prefix *p,
			 uint32_t *peer)
{
	struct owner_key k = owner_key(p);
	void *data;

	if (rte_hash_lookup_data(a->owners, &k, &data) < 0)
		return false;
	*peer = (uint32_t)(uintptr_t)data;
	return true;
}

bool wg_allowedips_lookup(const struct wg_allowedips *a, const struct wg_ip *ip,
			  uint32_t *peer)
{
	uint32_t r;

	wg_allowedips_lookup_burst(a, &ip, &r, 1);
	*peer = r;
	return r != WG_ALLOWEDIPS_NONE;
}

void wg_allowedips_lookup_burst(const struct wg_allowedips *a, const struct wg_ip *const *ips,
				uint32_t *peers, unsigned n)
{
	unsigned copy = atomic_load_explicit(&a->active, memory_order_acquire);
	uint32_t v4[WG_ALLOWEDIPS_BURST];
	uint8_t v6[WG_ALLOWEDIPS_BURST][16];
	uint64_t nh4[WG_ALLOWEDIPS_BURST];
	int32_t nh6[WG_ALLOWEDIPS_BURST];
	uint8_t at4[WG_ALLOWEDIPS_BURST], at6[WG_ALLOWEDIPS_BURST];
	unsigned n4 = 0, n6 = 0;

	if (n > WG_ALLOWEDIPS_BURST) {
		wg_allowedips_lookup_burst(a, ips + WG_ALLOWEDIPS_BURST,
					   peers + WG_ALLOWEDIPS_BURST, n - WG_ALLOWEDIPS_BURST);
		n = WG_ALLOWEDIPS_BURST;
	}
	for (unsigned i = 0; i < n; i++) {
		peers[i] = WG_ALLOWEDIPS_NONE;
		if (ips[i]->family == WG_AF_INET) {
			v4[n4] = host_v4(ips[i]->addr);
			at4[n4++] = (uint8_t)i;
		} else if (ips[i]->family == WG_AF_INET6) {
			memcpy(v6[n6], ips[i]->addr, 16);
			at6[n6++] = (uint8_t)i;
		}
	}
	if (n4) {
		rte_fib_lookup_bulk(a->v4[copy], v4, nh4, (int)n4);
		for (unsigned j = 0; j < n4; j++)
			if (nh4[j] != a->none4)
				peers[at4[j]] = (uint32_t)nh4[j];
	}
	if (n6) {
		rte_lpm6_lookup_bulk_func(a->v6[copy], v6, nh6, n6);
		for (unsigned j = 0; j < n6; j++)
			peers[at6[j]] = nh6[j] >= 0 ? (uint32_t)nh6[j] : a->default6[copy];
	}
}
