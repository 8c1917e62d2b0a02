/* SPDX-License-Identifier: MIT */
/*
 * The control lcore's loop and its small jobs: the gateway's own L2/L3 (ARP, neighbour
 * discovery, ICMP echo, ICMP errors), packets waiting for a next hop, and the events the
 * workers post (keypair confirmation, handshake requests, roaming).
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "gw_ctl.h"

#define ETH_LEN 14
#define TIMER_SLICE 256       /* peers whose timers are run per control iteration */

static struct rte_mbuf *alloc_frame(struct wg_gw *gw, uint8_t **data, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(gw->pool);

	if (m == NULL)
		return NULL;
	*data = (uint8_t *)rte_pktmbuf_append(m, len);
	if (*data == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

void wg_ctrl_solicit(struct wg_gw *gw, unsigned port, const struct wg_ip *ip, uint64_t now)
{
	struct wg_neigh *n = wg_neigh_get(gw, ip, true);
	const struct wg_port *p = &gw->ports[port];
	const struct wg_ip *me = wg_port_addr(p, ip->family);
	uint8_t buf[128], *data;
	size_t len;
	struct rte_mbuf *m;

	if (n == NULL || me == NULL || (n->last_request && now - n->last_request < WG_NSEC_PER_SEC))
		return;
	n->last_request = now;
	n->port = (uint16_t)port;
	len = ip->family == WG_AF_INET ?
		wg_pkt_build_arp_request(buf, sizeof(buf), p->mac, me->addr, ip->addr) :
		wg_pkt_build_ns(buf, sizeof(buf), p->mac, me, ip);
	if (len == 0 || (m = alloc_frame(gw, &data, (uint16_t)len)) == NULL)
		return;
	memcpy(data, buf, len);
	wg_dp_tx(wg_ctrl_ctx(gw), port, m);
}

/* Record a neighbour; one that just became known releases what waited for it. */
static void learn(struct wg_gw *gw, unsigned port, const struct wg_ip *ip, const uint8_t mac[6],
		  bool create, uint64_t now)
{
	if (wg_neigh_learn(gw, port, ip, mac, create))
		wg_ctrl_neigh_learned(gw, ip, now);
}

static void on_arp(struct wg_gw *gw, struct rte_mbuf *m, unsigned port, uint64_t now)
{
	const struct wg_port *p = &gw->ports[port];
	struct wg_arp a;
	struct wg_ip spa = { .family = WG_AF_INET }, tpa = { .family = WG_AF_INET };
	uint8_t *data;
	size_t len;

	if (wg_pkt_parse_arp(&a, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m)) != 0) {
		wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_BAD_FRAME);
		return;
	}
	memcpy(spa.addr, a.spa, 4);
	memcpy(tpa.addr, a.tpa, 4);
	rte_pktmbuf_free(m);
	if (!wg_port_is_ours(p, &tpa)) {
		/* Refresh what we know, but do not fill the table from others' chatter. */
		learn(gw, port, &spa, a.sha, false, now);
		wg_ctrl_ctx(gw)->drops[WG_DROP_NEIGH_NOT_FOR_US]++;
		return;
	}
	learn(gw, port, &spa, a.sha, true, now);
	gw->local_used++;
	if (a.op != 1)
		return;
	m = alloc_frame(gw, &data, 60);
	if (m == NULL)
		return;
	len = wg_pkt_build_arp_reply(data, 60, p->mac, a.tpa, a.sha, a.spa);
	if (len == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	wg_dp_tx(wg_ctrl_ctx(gw), port, m);
}

static void on_nd(struct wg_gw *gw, struct rte_mbuf *m, unsigned port, uint64_t now)
{
	const struct wg_port *p = &gw->ports[port];
	struct wg_nd nd;
	uint8_t *data, buf[128];
	size_t len;

	if (wg_pkt_parse_nd(&nd, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m)) != 0) {
		wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_LOCAL_UNHANDLED);
		return;
	}
	rte_pktmbuf_free(m);
	if (nd.type == 136) {          /* advertisement: the answer to our solicitation */
		if (nd.has_lladdr)
			learn(gw, port, &nd.target, nd.lladdr, false, now);
		gw->local_used++;
		return;
	}
	if (!wg_port_is_ours(p, &nd.target)) {
		wg_ctrl_ctx(gw)->drops[WG_DROP_NEIGH_NOT_FOR_US]++;
		return;
	}
	if (nd.has_lladdr && nd.src.family)
		learn(gw, port, &nd.src, nd.lladdr, true, now);
	/* DAD probes come from :: and are answered to all-nodes; we only answer real ones. */
	if (!nd.src.family || !nd.has_lladdr) {
		wg_ctrl_ctx(gw)->drops[WG_DROP_LOCAL_UNHANDLED]++;
		return;
	}
	gw->local_used++;
	len = wg_pkt_build_na(buf, sizeof(buf), p->mac, &nd.target, nd.lladdr, &nd.src, true);
	if (len == 0 || (m = alloc_frame(gw, &data, (uint16_t)len)) == NULL)
		return;
	memcpy(data, buf, len);
	wg_dp_tx(wg_ctrl_ctx(gw), port, m);
}

void wg_ctrl_handle_local(struct wg_gw *gw, struct rte_mbuf *m, uint64_t now)
{
	struct wg_pkt_info pi;
	unsigned port = wg_meta(m)->port;

	if (wg_pkt_parse_frame(&pi, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m)) != 0) {
		wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_BAD_FRAME);
		return;
	}
	if (pi.ethertype == 0x0806) {
		on_arp(gw, m, port, now);
	} else if (pi.family == WG_AF_INET6 && pi.proto == 58 &&
		   (rte_pktmbuf_mtod(m, uint8_t *)[pi.l4_off] == 135 ||
		    rte_pktmbuf_mtod(m, uint8_t *)[pi.l4_off] == 136)) {
		on_nd(gw, m, port, now);
	} else if (wg_port_is_ours(&gw->ports[port], &pi.dst) &&
		   wg_pkt_echo_reply(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m))) {
		wg_dp_tx(wg_ctrl_ctx(gw), port, m);
	} else {
		wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_LOCAL_UNHANDLED);
	}
}

/* Send an inner packet made by the control lcore where it belongs: a peer or the LAN. */
static void route_inner(struct wg_gw *gw, struct rte_mbuf *m, uint64_t now)
{
	struct wg_pkt_info pi;
	uint32_t peer;

	if (wg_pkt_parse_ip(&pi, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m)) != 0) {
		wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_BAD_INNER);
		return;
	}
	if (wg_allowedips_lookup(&gw->aips, &pi.dst, &peer)) {
		wg_meta(m)->peer = peer;
		wg_meta(m)->gen = atomic_load_explicit(&gw->peers[peer].gen, memory_order_relaxed);
		wg_dp_encrypt_burst(wg_ctrl_ctx(gw), &m, 1, now);
	} else {
		wg_dp_lan_out(wg_ctrl_ctx(gw), m, &pi);
	}
}

/* The source of ICMP errors about inner packets: an address of the inside (a LAN port),
 * where the errors go back to (RFC 1812 4.3.2.4 asks for the outgoing interface's); for
 * peers, whose tunnel has no address of its own, the same inside address. */
static const struct wg_ip *inside_addr(const struct wg_gw *gw, unsigned family)
{
	const struct wg_ip *any = NULL;

	for (unsigned i = 0; i < gw->n_ports; i++) {
		const struct wg_ip *a = wg_port_addr(&gw->ports[i], family);

		if (a && (gw->ports[i].role & WG_ROLE_LAN))
			return a;
		if (a && any == NULL)
			any = a;
	}
	return any;
}

/* The ICMP error a worker asked for, from the gateway's inside address. */
static void icmp_error(struct wg_gw *gw, struct rte_mbuf *m, uint64_t now)
{
	struct wg_meta *meta = wg_meta(m);

	wg_ctrl_icmp_error(gw, m, (enum wg_icmp_error)(meta->arg & 0xff), meta->arg >> 8, now);
}

/* A peer's packet for the gateway itself: answer pings (so an operator can ping the
 * gateway's inside address through the tunnel); anything else is counted and dropped. */
static void inner_local(struct wg_gw *gw, struct rte_mbuf *m, uint64_t now)
{
	uint8_t *frame = (uint8_t *)rte_pktmbuf_prepend(m, ETH_LEN);

	/* The echo code works on frames: a header of zeros stands in for the missing L2. */
	if (frame != NULL) {
		memset(frame, 0, ETH_LEN);
		frame[12] = (rte_pktmbuf_mtod_offset(m, uint8_t *, ETH_LEN)[0] >> 4) == 4 ? 0x08 : 0x86;
		frame[13] = frame[12] == 0x08 ? 0x00 : 0xdd;
	}
	if (frame == NULL || !wg_pkt_echo_reply(frame, rte_pktmbuf_data_len(m))) {
		wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_LOCAL_UNHANDLED);
		return;
	}
	rte_pktmbuf_adj(m, ETH_LEN);
	route_inner(gw, m, now);
}

void wg_ctrl_icmp_error(struct wg_gw *gw, struct rte_mbuf *m, enum wg_icmp_error kind,
			uint32_t mtu, uint64_t now)
{
	struct wg_pkt_info pi;
	const struct wg_ip *src = NULL;
	uint8_t buf[1280];
	size_t len = 0;
	struct rte_mbuf *out;
	uint8_t *data;

	if (wg_pkt_parse_ip(&pi, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m)) == 0)
		src = inside_addr(gw, pi.family);
	if (src)
		len = wg_pkt_build_icmp_error(buf, sizeof(buf), kind, mtu, src,
					      rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m));
	rte_pktmbuf_free(m);
	if (len == 0 || (out = alloc_frame(gw, &data, (uint16_t)len)) == NULL)
		return;
	memcpy(data, buf, len);
	route_inner(gw, out, now);
}

/* A frame whose next hop has no MAC yet: hold it (bounded) and ask. */
void wg_ctrl_resolve(struct wg_gw *gw, struct rte_mbuf *m, uint64_t now)
{
	struct wg_pkt_info pi;
	struct wg_ip nexthop;
	unsigned port = wg_meta(m)->port;

	if (wg_pkt_parse_frame(&pi, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m)) != 0 ||
	    !wg_route_nexthop(gw, port, &pi.dst, &nexthop)) {
		wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_NO_ROUTE);
		return;
	}
	if (gw->n_pending == WG_PENDING_MAX) {
		wg_drop(wg_ctrl_ctx(gw), gw->pending[0], WG_DROP_NEIGH_UNRESOLVED);
		memmove(gw->pending, gw->pending + 1, (WG_PENDING_MAX - 1) * sizeof(gw->pending[0]));
		gw->n_pending--;
	}
	wg_meta(m)->arg = (uint32_t)(now >> 20);
	gw->pending[gw->n_pending++] = m;
	wg_ctrl_solicit(gw, port, &nexthop, now);
}

/* What has waited for its next hop for WG_PENDING_MAX_AGE_NS gives up (oldest first). */
static void expire_pending(struct wg_gw *gw, uint64_t now)
{
	uint32_t stamp = (uint32_t)(now >> 20), max_age = (uint32_t)(WG_PENDING_MAX_AGE_NS >> 20);
	unsigned n = 0;

	while (n < gw->n_pending && stamp - wg_meta(gw->pending[n])->arg > max_age)
		wg_drop(wg_ctrl_ctx(gw), gw->pending[n++], WG_DROP_NEIGH_UNRESOLVED);
	if (n) {
		memmove(gw->pending, gw->pending + n, (gw->n_pending - n) * sizeof(gw->pending[0]));
		gw->n_pending -= n;
	}
}

/* A next hop just became known: send what waited for it, and initiations that waited. */
void wg_ctrl_neigh_learned(struct wg_gw *gw, const struct wg_ip *ip, uint64_t now)
{
	unsigned keep = 0;

	for (unsigned i = 0; i < gw->n_pending; i++) {
		struct rte_mbuf *m = gw->pending[i];
		unsigned port = wg_meta(m)->port;
		struct wg_pkt_info pi;
		struct wg_ip nh;
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

		if (wg_pkt_parse_frame(&pi, frame, rte_pktmbuf_data_len(m)) == 0 &&
		    wg_route_nexthop(gw, port, &pi.dst, &nh) && wg_ip_equal(&nh, ip) &&
		    wg_neigh_lookup(gw, ip, frame)) {
			wg_dp_tx(wg_ctrl_ctx(gw), port, m);
			continue;
		}
		gw->pending[keep++] = m;
	}
	gw->n_pending = keep;
	/* Only as far as the last peer waiting: a million-peer table is not walked for every
	 * neighbour learned. */
	for (uint32_t id = 0, waiting = gw->n_resolving; id < gw->max_peers && waiting; id++) {
		struct wg_peer *peer = &gw->peers[id];

		if (!atomic_load_explicit(&peer->live, memory_order_relaxed) || !peer->ep_resolving)
			continue;
		waiting--;
		wg_peer_use_endpoint(gw, peer, &peer->conf_ep, now);
		/* An initiation or packets may have been waiting for this next hop. */
		if (peer->init_waiting) {
			peer->init_waiting = false;
			peer->last_init_sent = 0;
			wg_hs_initiate(gw, peer, now);
		}
	}
}

static void on_confirm(struct wg_gw *gw, struct wg_peer *peer, uint32_t index, uint64_t now)
{
	struct wg_gw_keypair *gkp = wg_index_lookup(&gw->index, index, WG_INDEX_KEYPAIR);
	struct wg_keypair *retired[3];
	unsigned n;

	if (gkp == NULL || gkp->kp.local_index != index || gkp->peer != peer)
		return;
	n = wg_keypairs_received(&peer->noise.keypairs, &gkp->kp, retired);
	if (peer->noise.keypairs.current != &gkp->kp)
		return;
	wg_peer_publish_keypair(gw, peer);   /* publish, then retire what it displaced */
	wg_peer_retire_keypairs(gw, retired, n);
	wg_timers_handshake_complete(&peer->timers, now);
	peer->last_handshake_unix_ns = wg_unix_ns();
	wg_gw_event_handshake(gw, peer, false, now);
	wg_peer_flush_staged(gw, peer, now);
}

static void on_event(struct wg_gw *gw, const struct wg_event *ev, uint64_t now)
{
	struct wg_peer *peer = wg_peer_get(gw, ev->peer, ev->gen);

	if (peer == NULL)
		return;
	switch (ev->type) {
	case WG_EV_CONFIRM:
		on_confirm(gw, peer, ev->index, now);
		break;
	case WG_EV_HANDSHAKE:
		atomic_store_explicit(&peer->want_handshake, 0, memory_order_relaxed);
		wg_hs_initiate(gw, peer, now);
		break;
	case WG_EV_ROAM:
		atomic_store_explicit(&peer->roam_pending, 0, memory_order_relaxed);
		wg_gw_peer_learn_endpoint(gw, peer, &ev->ep, ev->port, ev->mac);
		break;
	}
}

static void drain_ctrl_ring(struct wg_gw *gw, uint64_t now)
{
	struct rte_mbuf *pkts[WG_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(gw->ctrl_ring, (void **)pkts, WG_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		switch (wg_meta(m)->kind) {
		case WG_CTRL_LOCAL: wg_ctrl_handle_local(gw, m, now); break;
		case WG_CTRL_STAGE: wg_peer_stage(gw, m, now); break;
		case WG_CTRL_ICMP_ERROR: icmp_error(gw, m, now); break;
		case WG_CTRL_RESOLVE: wg_ctrl_resolve(gw, m, now); break;
		case WG_CTRL_INNER_LOCAL: inner_local(gw, m, now); break;
		default: rte_pktmbuf_free(m); break;
		}
	}
}

static void drain_events(struct wg_gw *gw, uint64_t now)
{
	struct wg_event ev[WG_BURST];
	unsigned n = rte_ring_sc_dequeue_burst_elem(gw->event_ring, ev, sizeof(ev[0]), WG_BURST,
						    NULL);

	for (unsigned i = 0; i < n; i++)
		on_event(gw, &ev[i], now);
}

static void run_timers(struct wg_gw *gw, uint64_t now)
{
	for (unsigned i = 0; i < TIMER_SLICE && i < gw->max_peers; i++) {
		struct wg_peer *peer = &gw->peers[gw->timer_cursor];

		gw->timer_cursor = (gw->timer_cursor + 1) % gw->max_peers;
		if (atomic_load_explicit(&peer->live, memory_order_relaxed)) {
			wg_peer_timers_run(gw, peer, now);
			wg_gw_peer_check_quiet(gw, peer, now);
		}
	}
}

/* Everything but the sockets, telemetry and reclaiming: also what a long request's
 * pause points run (slice.c). */
void wg_ctrl_service(struct wg_gw *gw, uint64_t now)
{
	wg_ctrl_ctx(gw)->now = now;
	wg_pace_mark(gw);
	wg_hs_drain(gw, now);
	drain_ctrl_ring(gw, now);
	expire_pending(gw, now);
	if (now - gw->last_port_poll >= WG_NSEC_PER_SEC) {
		gw->last_port_poll = now;
		for (unsigned p = 0; p < gw->n_ports; p++)
			wg_port_poll_kernel_drops(&gw->ports[p]);
	}
	drain_events(gw, now);
	run_timers(gw, now);
	wg_dp_tx_flush(wg_ctrl_ctx(gw));
}

static void longest(uint64_t *max, uint64_t *t)
{
	uint64_t t1 = wg_gw_now();

	if (t1 - *t > *max)
		*max = t1 - *t;
	*t = t1;
}

void wg_gw_control_poll(struct wg_gw *gw, uint64_t now)
{
	struct wg_pace *p = &gw->pace;
	uint64_t t = wg_gw_now();

	wg_ctrl_service(gw, now);
	longest(&p->longest_service_ns, &t);
	wg_gw_ctl_poll(gw, now);
	longest(&p->longest_sockets_ns, &t);
	wg_gw_telemetry_poll(gw);
	longest(&p->longest_telemetry_ns, &t);
	wg_retire_reclaim(gw, false);
	longest(&p->longest_reclaim_ns, &t);
	wg_dp_tx_flush(wg_ctrl_ctx(gw));
}
