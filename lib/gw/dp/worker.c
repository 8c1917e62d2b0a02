/* SPDX-License-Identifier: MIT */
/* A worker's poll: a burst per port, the hand-offs between workers, and what it sends. */
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

#include "gw_dp.h"
#include "gw_nat.h"

struct wg_worker *wg_gw_worker(struct wg_gw *gw, unsigned i)
{
	return i < gw->n_workers ? &gw->workers[i] : NULL;
}

void wg_gw_worker_register(struct wg_worker *w)
{
	w->gw->lcore_of[w->rcu_id] = rte_lcore_id();
	if (w->gw->rcu) {
		rte_rcu_qsbr_thread_register(w->gw->rcu, w->rcu_id);
		rte_rcu_qsbr_thread_online(w->gw->rcu, w->rcu_id);
	}
}

void wg_gw_worker_offline(struct wg_worker *w)
{
	if (w->gw->rcu)
		rte_rcu_qsbr_thread_offline(w->gw->rcu, w->rcu_id);
}

void wg_gw_worker_online(struct wg_worker *w)
{
	if (w->gw->rcu)
		rte_rcu_qsbr_thread_online(w->gw->rcu, w->rcu_id);
}

void wg_gw_worker_unregister(struct wg_worker *w)
{
	if (w->gw->rcu) {
		rte_rcu_qsbr_thread_offline(w->gw->rcu, w->rcu_id);
		rte_rcu_qsbr_thread_unregister(w->gw->rcu, w->rcu_id);
	}
}

/* Worker 0 also sends what the control lcore queued for each port. */
static void send_for_ctrl(struct wg_worker *w)
{
	struct wg_gw *gw = w->gw;
	struct rte_mbuf *pkts[WG_BURST];

	for (unsigned p = 0; p < gw->n_ports; p++) {
		unsigned n = rte_ring_sc_dequeue_burst(gw->ctrl_tx[p], (void **)pkts, WG_BURST, NULL);

		for (unsigned i = 0; i < n; i++) {
			w->tx_pkts--;   /* counted once, by the control lcore */
			w->tx_bytes -= rte_pktmbuf_pkt_len(pkts[i]);
			wg_dp_tx(w, p, pkts[i]);
		}
	}
}

/* One burst per port and poll; on a lcore shared with the control loop, a few more while
 * they come back full, so that data keeps its share of the lcore whatever the control
 * loop has to do (its handshake work is bounded by a slice). */
void wg_gw_worker_poll(struct wg_worker *w, uint64_t now)
{
	struct wg_gw *gw = w->gw;
	struct rte_mbuf *pkts[WG_BURST];
	unsigned bursts = gw->single_lcore ? WG_RX_BURSTS_SHARED : 1;
	uint64_t before = w->rx_pkts;

	w->now = now;
	w->polls++;
	w->rx_backlogged = false;
	for (unsigned p = 0; p < gw->n_ports; p++) {
		for (unsigned b = 0; b < bursts; b++) {
			uint16_t n = rte_eth_rx_burst(gw->ports[p].dpdk_id, (uint16_t)w->idx, pkts,
						      WG_BURST);

			if (n)
				wg_dp_rx_burst(w, p, pkts, n, now);
			if (n < WG_BURST)
				break;
			w->full_bursts++;
			w->rx_backlogged |= b == bursts - 1;
		}
	}
	w->idle_polls += w->rx_pkts == before;
	wg_frag_expire(w, now);
	if (w->handoff)
		wg_dp_rx_handoff(w, now);
	wg_gw_nat_poll(w, now);
	if (w->idx == 0 && !gw->single_lcore)
		send_for_ctrl(w);
	wg_dp_tx_flush(w);
	if (gw->rcu)
		rte_rcu_qsbr_quiescent(gw->rcu, w->rcu_id);
}

