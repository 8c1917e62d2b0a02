/* SPDX-License-Identifier: MIT */
/*
 * Deferred freeing: an object the control lcore unpublishes (a keypair, an endpoint) may
 * still be in a worker's hands until that worker's next quiescent state. Each retired
 * object waits in a FIFO with the RCU token taken when it was retired, and is freed once
 * every worker has reported past that token. With one lcore there are no concurrent
 * readers, and objects are freed at once.
 *
 * The rule every caller keeps: unpublish first (store the replacement or NULL in every
 * place a worker could load the object from), retire after. With one lcore a retired
 * object is freed (and wiped) inside wg_gw_retire, so an object still published at that
 * moment is a use-after-free waiting for the next worker poll; tests install a
 * retire_hook that checks the rule at every release.
 */
#include <limits.h>
#include <stdlib.h>

#include <rte_rcu_qsbr.h>

#include "gw_state.h"

struct retired {
	void *obj;
	wg_retire_fn free_fn;
	uint64_t token;
};

struct wg_retire_q {
	struct retired *items;
	size_t head, tail, cap;   /* ring: head = oldest */
};

struct wg_retire_q *wg_retire_create(void)
{
	struct wg_retire_q *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->cap = 1024;
	q->items = calloc(q->cap, sizeof(*q->items));
	if (q->items == NULL) {
		free(q);
		return NULL;
	}
	return q;
}

void wg_retire_destroy(struct wg_retire_q *q)
{
	if (q == NULL)
		return;
	free(q->items);
	free(q);
}

static size_t count(const struct wg_retire_q *q)
{
	return q->tail - q->head;
}

static int grow(struct wg_retire_q *q)
{
	size_t n = count(q), cap = q->cap * 2;
	struct retired *items = calloc(cap, sizeof(*items));

	if (items == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		items[i] = q->items[(q->head + i) % q->cap];
	free(q->items);
	q->items = items;
	q->cap = cap;
	q->head = 0;
	q->tail = n;
	return 0;
}

static void release(struct wg_gw *gw, void *obj, wg_retire_fn free_fn)
{
	if (gw->retire_hook)
		gw->retire_hook(gw, obj);
	free_fn(gw, obj);
}

void wg_gw_retire(struct wg_gw *gw, void *obj, wg_retire_fn free_fn)
{
	struct wg_retire_q *q = gw->retire;
	struct retired *r;

	/* With one lcore no worker runs while the control loop does, except in a long
	 * request's pauses (slice.c): what the request retires waits for its end, when the
	 * tables that may still name it have been published. */
	if (gw->rcu == NULL && !gw->pace.in_sockets) {
		release(gw, obj, free_fn);
		return;
	}
	if (count(q) == q->cap && grow(q) != 0) {
		/* Out of memory: waiting here is the only safe way to free it. */
		rte_rcu_qsbr_synchronize(gw->rcu, RTE_QSBR_THRID_INVALID);
		release(gw, obj, free_fn);
		return;
	}
	r = &q->items[q->tail % q->cap];
	r->obj = obj;
	r->free_fn = free_fn;
	r->token = gw->rcu ? rte_rcu_qsbr_start(gw->rcu) : 0;
	q->tail++;
}

void wg_retire_reclaim(struct wg_gw *gw, bool all)
{
	struct wg_retire_q *q = gw->retire;
	unsigned budget = all ? UINT_MAX : WG_RECLAIM_PER_POLL;

	if (all && gw->rcu && count(q))
		rte_rcu_qsbr_synchronize(gw->rcu, RTE_QSBR_THRID_INVALID);
	while (count(q) && budget--) {
		struct retired *r = &q->items[q->head % q->cap];

		if (!all && gw->rcu && rte_rcu_qsbr_check(gw->rcu, r->token, false) != 1)
			break;
		q->head++;
		release(gw, r->obj, r->free_fn);
	}
}
