/* SPDX-License-Identifier: MIT */
/*
 * One trial: the pools made (the encrypted one on every lcore, in slices), then sent at
 * the asked rate while both ports are received and every packet of ours is accounted for,
 * then a drain, then the figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "gen.h"
#include "wg_crypto.h"
#include "wg_pkt.h"

/* ---- receiving ---- */

static void rx_lan(struct gen *g, struct rte_mbuf **m, unsigned n, uint64_t tsc)
{
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(m[i], const uint8_t *);
		size_t len = rte_pktmbuf_data_len(m[i]);

		if (gen_arp(g, GEN_LAN, f, len))
			continue;
		/* IPv4 UDP to the sink's discard port: one of ours, or a broken one */
		if (m[i]->nb_segs != 1 || len < WG_ETH_HLEN + WG_GEN_INNER_MIN || f[12] != 0x08 ||
		    f[13] != 0x00 || f[14 + 9] != WG_IPPROTO_UDP ||
		    memcmp(f + 14 + 16, g->o.sink_ip, 4) != 0) {
			g->c.not_ours++;
			continue;
		}
		gen_account(g, GEN_UP, f + WG_ETH_HLEN, len - WG_ETH_HLEN, UINT32_MAX, tsc);
	}
}

void gen_rx_poll(struct gen *g)
{
	struct rte_mbuf *m[GEN_BURST];
	uint64_t tsc = rte_rdtsc();
	uint16_t n = rte_eth_rx_burst(g->port[GEN_WAN], 0, m, GEN_BURST);

	if (n) {
		gen_rx_wan(g, m, n, tsc);
		rte_pktmbuf_free_bulk(m, n);
	}
	if (g->has_lan && (n = rte_eth_rx_burst(g->port[GEN_LAN], 0, m, GEN_BURST)) > 0) {
		rx_lan(g, m, n, tsc);
		rte_pktmbuf_free_bulk(m, n);
	}
}

/* ---- the pools ---- */

struct fill_job {
	struct gen *g;
	uint64_t from, to, done;
};

/* Lay out and encrypt a slice of the up pool, on whichever lcore runs it. */
static int fill_slice(void *arg)
{
	struct fill_job *j = arg;
	struct gen *g = j->g;
	struct gen_pool *p = &g->pool[GEN_UP];
	size_t cap = rte_pktmbuf_data_room_size(g->tx_mp) - RTE_PKTMBUF_HEADROOM;
	struct wg_aead *a = g->aead[rte_lcore_id()];

	for (uint64_t i = j->from; i < j->to; i += WG_AEAD_CHUNK) {
		uint64_t e = i + WG_AEAD_CHUNK < j->to ? i + WG_AEAD_CHUNK : j->to, got;
		uint8_t *frames[WG_AEAD_CHUNK];
		uint16_t lens[WG_AEAD_CHUNK];

		for (uint64_t k = i; k < e; k++)
			frames[k - i] = rte_pktmbuf_mtod(p->m[k], uint8_t *);
		got = wg_gen_fill_data(a, frames, cap, lens, &p->plan, g->flows[GEN_UP], g->sess, i,
				       e);
		for (uint64_t k = 0; k < got; k++)
			p->m[i + k]->data_len = p->m[i + k]->pkt_len = lens[k];
		j->done += got;
		if (got < e - i)
			break;
	}
	return 0;
}

static void flows_make(struct gen *g)
{
	for (unsigned k = 0; k < g->o.n_peers; k++) {
		struct wg_gen_flow *u = &g->flows[GEN_UP][k], *d = &g->flows[GEN_DOWN][k];
		uint8_t pip[4], tip[4];

		gen_ip_add(pip, g->o.peer_ip, k);
		gen_ip_add(tip, g->o.tun_ip, k);
		wg_gen_outer_template(u->outer, g->o.server_mac, g->mac[GEN_WAN], pip, g->o.server_ip,
				      g->o.peer_port, g->o.server_port);
		memcpy(u->src, tip, 4);
		memcpy(u->dst, g->o.sink_ip, 4);
		u->sport = (uint16_t)(1024 + k % 60000);
		u->dport = 9;
		wg_pkt_write_eth(d->outer, g->o.lan_gw_mac, g->mac[GEN_LAN], WG_ETHERTYPE_IPV4);
		memcpy(d->src, g->o.sink_ip, 4);
		memcpy(d->dst, tip, 4);
		d->sport = 9;
		d->dport = (uint16_t)(1024 + k % 60000);
	}
}

static void pool_free(struct gen_pool *p)
{
	if (p->m) {
		for (uint64_t i = p->next; i < p->n; i++)
			rte_pktmbuf_free(p->m[i]);
	}
	free(p->m);
	free(p->tx_tsc);
	free(p->seen);
	memset(p, 0, sizeof(*p));
}

static int pool_alloc(struct gen *g, unsigned dir, uint64_t n, const uint16_t *sizes,
		      unsigned n_sizes)
{
	struct gen_pool *p = &g->pool[dir];

	p->m = calloc(n, sizeof(*p->m));
	p->tx_tsc = calloc(n, sizeof(*p->tx_tsc));
	p->seen = calloc(n / 8 + 1, 1);
	if (!p->m || !p->tx_tsc || !p->seen)
		return -1;
	for (uint64_t i = 0; i < n; i += 256) {
		unsigned cnt = (unsigned)(n - i < 256 ? n - i : 256);

		if (rte_pktmbuf_alloc_bulk(g->tx_mp, p->m + i, cnt) != 0) {
			memset(p->m + i, 0, cnt * sizeof(*p->m));
			p->n = i;
			return -1;
		}
	}
	p->n = n;
	p->plan = (struct wg_gen_plan){ .n_peers = g->o.n_peers, .sizes = sizes,
					.n_sizes = n_sizes, .run = g->run, .dir = dir,
					.mtu = g->o.mtu };
	return 0;
}

/* The up pool on every lcore at once; a slice that stops short (a counter limit) shortens
 * the pool to what was made before it. */
static int fill_up(struct gen *g)
{
	struct gen_pool *p = &g->pool[GEN_UP];
	struct fill_job jobs[RTE_MAX_LCORE];
	unsigned n_lcores = rte_lcore_count(), i = 0, lc;
	uint64_t made = 0;

	RTE_LCORE_FOREACH(lc) {
		jobs[i] = (struct fill_job){ .g = g, .from = p->n * i / n_lcores,
					     .to = p->n * (i + 1) / n_lcores };
		if (lc != rte_get_main_lcore())
			rte_eal_remote_launch(fill_slice, &jobs[i], lc);
		i++;
	}
	i = 0;
	RTE_LCORE_FOREACH(lc) {
		if (lc == rte_get_main_lcore())
			fill_slice(&jobs[i]);
		i++;
	}
	rte_eal_mp_wait_lcore();
	for (i = 0; i < n_lcores; i++) {
		made += jobs[i].done;
		if (jobs[i].done < jobs[i].to - jobs[i].from)
			break;
	}
	if (made < p->n) {
		for (uint64_t k = made; k < p->n; k++)
			rte_pktmbuf_free(p->m[k]);
		p->n = made;
	}
	return made ? 0 : -1;
}

static int fill_down(struct gen *g)
{
	struct gen_pool *p = &g->pool[GEN_DOWN];
	size_t cap = rte_pktmbuf_data_room_size(g->tx_mp) - RTE_PKTMBUF_HEADROOM;

	for (uint64_t i = 0; i < p->n; i++) {
		size_t len = wg_gen_layout_plain(rte_pktmbuf_mtod(p->m[i], uint8_t *), cap, &p->plan,
						 g->flows[GEN_DOWN], i);

		if (len == 0)
			return -1;
		p->m[i]->data_len = p->m[i]->pkt_len = (uint32_t)len;
	}
	return 0;
}

/* ---- sending ---- */

struct tx_state {
	struct gen *g;
	uint64_t start, last, per_pkt;   /* TSC: first send, last send, between packets */
	_Atomic bool quit;
};

static bool tx_step(struct gen *g, struct tx_state *t, unsigned dir, uint64_t now)
{
	struct gen_pool *p = &g->pool[dir];
	unsigned side = dir == GEN_UP ? GEN_WAN : GEN_LAN;
	uint64_t n = p->n - p->next;
	uint16_t sent;

	if (n == 0)
		return false;
	if (t->per_pkt) {
		uint64_t due = (now - t->start) / t->per_pkt + 1;

		if (due <= p->next)
			return true;
		if (due - p->next < n)
			n = due - p->next;
	}
	if (n > GEN_BURST)
		n = GEN_BURST;
	for (uint64_t i = 0; i < n; i++)
		__atomic_store_n(&p->tx_tsc[p->next + i], now, __ATOMIC_RELEASE);
	sent = rte_eth_tx_burst(g->port[side], 0, p->m + p->next, (uint16_t)n);
	p->next += sent;
	if (sent)
		t->last = now;
	return true;
}

static bool tx_round(struct gen *g, struct tx_state *t)
{
	uint64_t now = rte_rdtsc();
	bool more = false;

	for (unsigned d = 0; d < 2; d++)
		if (g->o.dir[d])
			more |= tx_step(g, t, d, now);
	/* a port that takes nothing for twice the trial's time (and a second) gives up */
	if (more && now - t->start > (uint64_t)((2 * g->o.duration + 1) * (double)g->tsc_hz) &&
	    now - t->last > g->tsc_hz)
		more = false;
	return more;
}

static int tx_lcore_main(void *arg)
{
	struct tx_state *t = arg;
	struct gen *g = t->g;

	while (!atomic_load_explicit(&t->quit, memory_order_relaxed)) {
		if (!atomic_load_explicit(&g->tx_done, memory_order_relaxed) && !tx_round(g, t))
			atomic_store_explicit(&g->tx_done, true, memory_order_release);
		gen_ctl_drain(g);
	}
	gen_ctl_drain(g);
	return 0;
}

static void run(struct gen *g, double rate)
{
	struct tx_state t = { .g = g };
	uint64_t drain;

	t.per_pkt = rate > 0 ? (uint64_t)((double)g->tsc_hz / rate) : 0;
	t.start = t.last = rte_rdtsc();
	atomic_store(&g->tx_done, false);
	if (g->tx_lcore < RTE_MAX_LCORE) {
		atomic_store_explicit(&g->tx_lcore_busy, true, memory_order_release);
		rte_eal_remote_launch(tx_lcore_main, &t, g->tx_lcore);
		while (!atomic_load_explicit(&g->tx_done, memory_order_acquire))
			gen_rx_poll(g);
	} else {
		while (tx_round(g, &t) && !atomic_load(&g->stop))
			gen_rx_poll(g);
	}
	g->tx_seconds = (double)(t.last - t.start) / (double)g->tsc_hz;
	drain = rte_rdtsc() + g->tsc_hz * g->o.drain_ms / 1000;
	while (rte_rdtsc() < drain)
		gen_rx_poll(g);
	if (g->tx_lcore < RTE_MAX_LCORE) {
		atomic_store(&t.quit, true);
		rte_eal_wait_lcore(g->tx_lcore);
		atomic_store_explicit(&g->tx_lcore_busy, false, memory_order_release);
	}
}

/* ---- the figures ---- */

static void result_dir(const struct gen *g, unsigned d, struct gen_dir_result *r)
{
	const struct gen_dir_stats *st = &g->st[d];
	double secs = g->tx_seconds > 0 ? g->tx_seconds : 1e-9;

	*r = (struct gen_dir_result){ .on = true, .sent = st->sent, .received = st->received,
				      .dup = st->dup, .stale = st->stale, .bad = st->bad,
				      .wrong_peer = st->wrong_peer, .bytes = st->bytes };
	r->lost = st->sent > st->received ? st->sent - st->received : 0;
	r->loss_pct = st->sent ? 100.0 * (double)r->lost / (double)st->sent : 0;
	r->offered_pps = (double)st->sent / secs;
	r->received_pps = (double)st->received / secs;
	r->gbps = (double)st->bytes * 8 / secs / 1e9;
	r->p50 = wg_gen_hist_quantile(&st->lat, 0.5);
	r->p90 = wg_gen_hist_quantile(&st->lat, 0.9);
	r->p99 = wg_gen_hist_quantile(&st->lat, 0.99);
	r->p999 = wg_gen_hist_quantile(&st->lat, 0.999);
	r->max_ns = st->lat.max_ns;
	r->min_ns = st->lat.min_ns;
}

static int fake_sessions(struct gen *g)
{
	if (g->sess[0].key)
		return 0;
	for (unsigned k = 0; k < g->o.n_peers; k++) {
		wg_random(g->peers[k].kps[0].send_key, WG_KEY_LEN);
		g->sess[k] = (struct wg_gen_session){ .key = g->peers[k].kps[0].send_key,
						      .remote_index = k + 1 };
	}
	return 0;
}

static int sessions(struct gen *g)
{
	unsigned up;

	if (g->o.fake_sessions)
		return fake_sessions(g);
	/* a new session well before the server's REKEY_AFTER_TIME (120 s), outside the timing */
	if (!gen_sessions_young(g, 90 * WG_NSEC_PER_SEC)) {
		up = gen_handshake_all(g);
		if (up < g->o.n_peers) {
			fprintf(stderr, "wgdp-gen: only %u of %u sessions came up (cookies %lu, "
				"refused %lu)\n", up, g->o.n_peers, (unsigned long)g->c.cookies,
				(unsigned long)g->c.hs_refused);
			return -1;
		}
	}
	gen_sessions_snapshot(g);
	return 0;
}

int gen_trial(struct gen *g, const uint16_t *sizes, unsigned n_sizes, double rate,
	      struct gen_result *r)
{
	uint64_t n = g->o.pool;

	if (sessions(g) != 0)
		return -1;
	if (rate > 0 && rate * g->o.duration < (double)n)
		n = (uint64_t)(rate * g->o.duration) + 1;
	g->run++;
	flows_make(g);
	for (unsigned d = 0; d < 2; d++) {
		if (!g->o.dir[d])
			continue;
		if (pool_alloc(g, d, n, sizes, n_sizes) != 0) {
			fprintf(stderr, "wgdp-gen: no memory for a pool of %lu packets (--pool, -m)\n",
				(unsigned long)n);
			pool_free(&g->pool[0]);
			pool_free(&g->pool[1]);
			return -1;
		}
	}
	if ((g->o.dir[GEN_UP] && fill_up(g) != 0) || (g->o.dir[GEN_DOWN] && fill_down(g) != 0)) {
		fprintf(stderr, "wgdp-gen: cannot lay out the pools\n");
		pool_free(&g->pool[0]);
		pool_free(&g->pool[1]);
		return -1;
	}
	if (g->o.dir[GEN_UP]) {
		if (g->o.fake_sessions)
			for (unsigned k = 0; k < g->o.n_peers; k++)
				g->sess[k].first_counter +=
					wg_gen_peer_count(&g->pool[GEN_UP].plan, g->pool[GEN_UP].n, k);
		else
			gen_sessions_advance(g, &g->pool[GEN_UP].plan, g->pool[GEN_UP].n);
	}
	memset(g->st, 0, sizeof(g->st));
	memset(g->pst, 0, (size_t)g->o.n_peers * sizeof(*g->pst));
	for (unsigned s = 0; s < (g->has_lan ? 2u : 1u); s++)
		gen_port_missed(g, s);
	run(g, rate);
	memset(r, 0, sizeof(*r));
	for (unsigned s = 0; s < (g->has_lan ? 2u : 1u); s++)
		r->missed[s] = gen_port_missed(g, s);
	r->rate = rate;
	r->seconds = g->tx_seconds;
	for (unsigned d = 0; d < 2; d++) {
		if (!g->o.dir[d])
			continue;
		g->st[d].sent = g->pool[d].next;
		for (uint64_t i = 0; i < g->pool[d].next; i++)
			g->pst[i % g->o.n_peers].sent[d]++;
		result_dir(g, d, &r->d[d]);
		pool_free(&g->pool[d]);
	}
	return 0;
}
