/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_jhash.h>

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

static uint32_t host_v4(const struct wg_prefix *p)
{
	const uint8_t *b = p->ip.addr;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int wg_allowedips_init(struct wg_allowedips *a, const char *name, uint32_t max_v4,
		       uint32_t max_v6, uint32_t tbl8s_v4, uint32_t tbl8s_v6,
		       struct rte_rcu_qsbr *rcu, int socket)
{
	struct rte_lpm_config c4 = { .max_rules = max_v4, .number_tbl8s = tbl8s_v4 };
	struct rte_lpm6_config c6 = { .max_rules = max_v6, .number_tbl8s = tbl8s_v6 };
	char n[RTE_LPM_NAMESIZE];

	memset(a, 0, sizeof(*a));
	a->rcu = rcu;
	snprintf(n, sizeof(n), "%s4", name);
	a->v4 = rte_lpm_create(n, socket, &c4);
	for (int i = 0; i < 2; i++) {
		snprintf(n, sizeof(n), "%s6%c", name, 'a' + i);
		a->v6[i] = rte_lpm6_create(n, socket, &c6);
	}
	snprintf(n, sizeof(n), "%so", name);
	a->owners = rte_hash_create(&(struct rte_hash_parameters){
		.name = n, .entries = max_v4 + max_v6, .key_len = sizeof(struct owner_key),
		.hash_func = rte_jhash, .socket_id = socket });
	if (!a->v4 || !a->v6[0] || !a->v6[1] || !a->owners)
		goto fail;
	if (rcu) {
		struct rte_lpm_rcu_config rc = { .v = rcu, .mode = RTE_LPM_QSBR_MODE_DQ };

		if (rte_lpm_rcu_qsbr_add(a->v4, &rc) != 0)
			goto fail;
	}
	atomic_init(&a->v6_active, a->v6[0]);
	return 0;
fail:
	wg_allowedips_destroy(a);
	return -1;
}

void wg_allowedips_destroy(struct wg_allowedips *a)
{
	rte_lpm_free(a->v4);
	rte_lpm6_free(a->v6[0]);
	rte_lpm6_free(a->v6[1]);
	rte_hash_free(a->owners);
	free(a->pending);
	memset(a, 0, sizeof(*a));
}

static struct rte_lpm6 *inactive6(struct wg_allowedips *a)
{
	struct rte_lpm6 *active = atomic_load_explicit(&a->v6_active, memory_order_relaxed);

	return active == a->v6[0] ? a->v6[1] : a->v6[0];
}

static int apply6(struct rte_lpm6 *t, const struct wg_allowedips_change *c)
{
	if (c->remove)
		return rte_lpm6_delete(t, c->prefix.ip.addr, c->prefix.len) == 0 ? 0 : -1;
	return rte_lpm6_add(t, c->prefix.ip.addr, c->prefix.len, c->peer) == 0 ? 0 : -1;
}

/* Record an IPv6 change: made now on the inactive copy, replayed on the other at commit. */
static int change6(struct wg_allowedips *a, const struct wg_allowedips_change *c)
{
	if (a->n_pending == a->cap_pending) {
		uint32_t cap = a->cap_pending ? a->cap_pending * 2 : 64;
		struct wg_allowedips_change *p = realloc(a->pending, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		a->pending = p;
		a->cap_pending = cap;
	}
	if (apply6(inactive6(a), c) != 0)
		return -1;
	a->pending[a->n_pending++] = *c;
	return 0;
}

void wg_allowedips_begin(struct wg_allowedips *a)
{
	a->n_pending = 0;
}

int wg_allowedips_insert(struct wg_allowedips *a, const struct wg_prefix *p, uint32_t peer)
{
	struct wg_allowedips_change c = { .prefix = *p, .peer = peer };
	bool existed;
	uint32_t old;

	if (peer > WG_ALLOWEDIPS_MAX_PEER_ID)
		return -1;
	existed = wg_allowedips_owner(a, p, &old);
	if (p->ip.family == WG_AF_INET) {
		if (rte_lpm_add(a->v4, host_v4(p), p->len, peer) != 0)
			return -1;
	} else if (change6(a, &c) != 0) {
		return -1;
	}
	{
		struct owner_key k = owner_key(p);

		rte_hash_add_key_data(a->owners, &k, (void *)(uintptr_t)peer);
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

	if (!wg_allowedips_owner(a, p, &old))
		return -1;
	rte_hash_del_key(a->owners, &k);
	if (p->ip.family == WG_AF_INET) {
		if (rte_lpm_delete(a->v4, host_v4(p), p->len) != 0)
			return -1;
		a->n_v4--;
	} else {
		if (change6(a, &c) != 0)
			return -1;
		a->n_v6--;
	}
	return 0;
}

void wg_allowedips_commit(struct wg_allowedips *a)
{
	struct rte_lpm6 *fresh = inactive6(a);

	if (a->n_pending == 0)
		return;
	atomic_store_explicit(&a->v6_active, fresh, memory_order_release);
	/* No reader may still be inside the old copy when it is changed. */
	if (a->rcu)
		rte_rcu_qsbr_synchronize(a->rcu, RTE_QSBR_THRID_INVALID);
	for (uint32_t i = 0; i < a->n_pending; i++)
		apply6(inactive6(a), &a->pending[i]);
	a->n_pending = 0;
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
