/* SPDX-License-Identifier: MIT */
/*
 * Deferred freeing: an object the control lcore unpublishes (a keypair, an endpoint) may
 * still be in a worker's hands until that worker's next quiescent state. Each retired
 * object waits in a FIFO with the RCU token taken when it was retired, and is freed once
 * every worker has reported past that token. With one lcore there are no concurrent
 * readers, and objects are freed at the next reclaim.
 */
#include <stdlib.h>

#include <rte_rcu_qsbr.h>

#include "gw_internal.h"

struct retired {
	void *obj;
	void (*free_fn)(void *);
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

void wg_gw_retire(struct wg_gw *gw, void *obj, void (*free_fn)(void *))
{
	struct wg_retire_q *q = gw->retire;
	struct retired *r;

	if (gw->rcu == NULL) {
		free_fn(obj);
		return;
	}
	if (count(q) == q->cap && grow(q) != 0) {
		/* Out of memory: waiting here is the only safe way to free it. */
		rte_rcu_qsbr_synchronize(gw->rcu, RTE_QSBR_THRID_INVALID);
		free_fn(obj);
		return;
	}
	r = &q->items[q->tail % q->cap];
	r->obj = obj;
	r->free_fn = free_fn;
	r->token = rte_rcu_qsbr_start(gw->rcu);
	q->tail++;
}

void wg_retire_reclaim(struct wg_gw *gw, bool all)
{
	struct wg_retire_q *q = gw->retire;

	if (all && gw->rcu && count(q))
		rte_rcu_qsbr_synchronize(gw->rcu, RTE_QSBR_THRID_INVALID);
	while (count(q)) {
		struct retired *r = &q->items[q->head % q->cap];

		if (!all && rte_rcu_qsbr_check(gw->rcu, r->token, false) != 1)
			break;
		r->free_fn(r->obj);
		q->head++;
	}
}
