/* SPDX-License-Identifier: MIT */
/*
 * The worker's send side: encrypt a burst of inner packets to their peers in place and
 * wrap them in Ethernet/IP/UDP to each peer's endpoint; frame decrypted packets for the
 * LAN; buffer and send per port.
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "gw_dp.h"

#define ETH_LEN 14
#define UDP_LEN 8

void wg_dp_tx(struct wg_worker *w, unsigned port, struct rte_mbuf *m)
{
	struct wg_txq *q = &w->tx[port];

	if (q->n == RTE_DIM(q->pkts))
		wg_dp_tx_flush(w);
	q->pkts[q->n++] = m;
	w->tx_pkts++;
	w->tx_bytes += rte_pktmbuf_pkt_len(m);
}

void wg_dp_tx_flush(struct wg_worker *w)
{
	struct wg_gw *gw = w->gw;

	for (unsigned p = 0; p < gw->n_ports; p++) {
		struct wg_txq *q = &w->tx[p];
		uint16_t sent;

		if (q->n == 0)
			continue;
		if (w->is_ctrl && !gw->single_lcore)
			/* The control lcore has no queue of its own: worker 0 sends for it. */
			sent = (uint16_t)rte_ring_mp_enqueue_burst(gw->ctrl_tx[p], (void **)q->pkts,
								   q->n, NULL);
		else
			sent = rte_eth_tx_burst(gw->ports[p].dpdk_id, (uint16_t)w->idx, q->pkts, q->n);
		for (uint16_t i = sent; i < q->n; i++)
			wg_drop(w, q->pkts[i], WG_DROP_TX_FULL);
		q->n = 0;
	}
}

static void write_eth(struct rte_mbuf *m, const uint8_t dst[6], const uint8_t src[6],
		      unsigned family)
{
	wg_pkt_write_eth(rte_pktmbuf_mtod(m, uint8_t *), dst, src,
			 family == WG_AF_INET ? 0x0800 : 0x86dd);
}

void wg_dp_lan_out(struct wg_worker *w, struct rte_mbuf *m, const struct wg_pkt_info *pi)
{
	struct wg_gw *gw = w->gw;
	bool memo = w->lan_memo.valid && wg_ip_equal(&w->lan_memo.dst, &pi->dst);
	int port = memo ? w->lan_memo.port : wg_route_port(gw, WG_ROLE_LAN, &pi->dst);
	struct wg_ip nexthop;
	uint8_t mac[6];
	const struct wg_port *p;

	if (!memo && (port < 0 || !wg_route_nexthop(gw, (unsigned)port, &pi->dst, &nexthop))) {
		w->drops[WG_DROP_NO_ROUTE]++;
		wg_dp_icmp_error(w, m, WG_ICMP_NO_ROUTE, 0);
		return;
	}
	p = &gw->ports[port];
	if (pi->l3_len > p->mtu) {
		wg_drop(w, m, WG_DROP_TOO_BIG);
		return;
	}
	if (!wg_pkt_dec_ttl(rte_pktmbuf_mtod(m, uint8_t *), pi->l3_len)) {
		w->drops[WG_DROP_TTL_EXCEEDED]++;
		wg_dp_icmp_error(w, m, WG_ICMP_TTL_EXCEEDED, 0);
		return;
	}
	if (rte_pktmbuf_prepend(m, ETH_LEN) == NULL) {
		wg_drop(w, m, WG_DROP_NO_TAILROOM);
		return;
	}
	wg_meta(m)->port = (uint16_t)port;
	if (memo) {
		memcpy(mac, w->lan_memo.mac, 6);
	} else if (!wg_neigh_lookup(gw, &nexthop, mac)) {
		write_eth(m, (const uint8_t *)"\0\0\0\0\0\0", p->mac, pi->family);
		wg_dp_to_ctrl(w, m, WG_CTRL_RESOLVE);
		return;
	} else {
		w->lan_memo.dst = pi->dst;
		w->lan_memo.port = port;
		memcpy(w->lan_memo.mac, mac, 6);
		w->lan_memo.valid = true;
	}
	write_eth(m, mac, p->mac, pi->family);
	wg_dp_tx(w, (unsigned)port, m);
}

/* One packet bound for a peer, ready to encrypt. */
struct seal {
	struct rte_mbuf *m;
	struct wg_peer *peer;
	struct wg_gw_keypair *gkp;
	struct wg_peer_ep *ep;
	uint64_t counter;
	uint32_t inner_len;
	bool looked_up;        /* the peer came from the allowed-IPs tables (not given) */
};

/* Route, size-check and key one inner packet (parsed unless `parsed` gives its parse, in
 * which case `routed` is its destination's peer from the burst's lookup); false if it was
 * dropped or handed off. */
static bool pick_peer(struct wg_worker *w, struct rte_mbuf *m, const struct wg_pkt_info *parsed,
		      uint32_t routed, struct wg_pkt_info *pi, struct wg_peer **peer_out,
		      bool *looked_up)
{
	struct wg_gw *gw = w->gw;
	uint32_t id = wg_meta(m)->peer;

	if (parsed) {
		*pi = *parsed;
	} else if (wg_pkt_parse_ip(pi, rte_pktmbuf_mtod(m, uint8_t *),
				   rte_pktmbuf_data_len(m)) != 0) {
		wg_drop(w, m, WG_DROP_BAD_INNER);
		return false;
	}
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - pi->l3_len));
	/* The peer's generation is taken (looked up) or checked (given) in the next stage,
	 * once the peer's line is on its way. */
	*looked_up = id == UINT32_MAX;
	if (*looked_up) {
		if (parsed)
			id = routed;
		else
			wg_allowedips_lookup(&gw->aips, &pi->dst, &id);
		if (id == WG_ALLOWEDIPS_NONE) {
			w->drops[WG_DROP_NO_ROUTE]++;
			wg_dp_icmp_error(w, m, WG_ICMP_NO_ROUTE, 0);
			return false;
		}
	}
	if (pi->l3_len > gw->mtu) {
		w->drops[WG_DROP_TOO_BIG]++;
		if (pi->df)
			wg_dp_icmp_error(w, m, WG_ICMP_FRAG_NEEDED, gw->mtu);
		else
			rte_pktmbuf_free(m);   /* no fragmentation (yet): counted above */
		return false;
	}
	wg_meta(m)->peer = id;
	*peer_out = &gw->peers[id];
	return true;
}

/*
 * Nonces for the burst: one atomic claim per run of packets on the same keypair (a range,
 * as DESIGN.md allows), in a loop of their own after the keypairs' lines were prefetched,
 * so that the locked instructions neither wait for a cache miss nor for the stores of a
 * packet's layout. A counter past REJECT_AFTER_MESSAGES leaves its packet unkeyed.
 */
static void claim_counters(struct seal *seals, unsigned n)
{
	for (unsigned i = 0; i < n;) {
		struct wg_gw_keypair *gkp = seals[i].gkp;
		unsigned run = 1;
		uint64_t c;

		if (gkp == NULL) {
			i++;
			continue;
		}
		while (i + run < n && seals[i + run].gkp == gkp)
			run++;
		c = atomic_fetch_add_explicit(&gkp->kp.send_counter, run, memory_order_relaxed);
		for (unsigned j = 0; j < run; j++)
			seals[i + j].counter = c + j;
		i += run;
	}
}

/* Lay out the message around a packet with its claimed nonce; false if the packet was
 * staged for a handshake or dropped. */
static bool prepare(struct wg_worker *w, struct seal *s, struct wg_aead_op *op, uint64_t now)
{
	struct wg_gw *gw = w->gw;
	struct rte_mbuf *m = s->m;
	struct wg_gw_keypair *gkp = s->gkp;
	uint32_t padded = RTE_ALIGN_CEIL(s->inner_len, WG_DATA_PADDING);
	uint64_t counter = s->counter;
	struct wg_msg_data *d;
	unsigned outer;

	if (padded > gw->mtu)
		padded = RTE_MAX(s->inner_len, (uint32_t)gw->mtu);
	if (gkp == NULL || counter >= WG_REJECT_AFTER_MESSAGES) {
		wg_dp_to_ctrl(w, m, WG_CTRL_STAGE);   /* the control lcore makes a handshake */
		return false;
	}
	if (wg_timers_rekey_on_send(gkp->kp.send_birth, counter, gkp->kp.send_initiator, now))
		wg_dp_request_handshake(w, s->peer);
	if (s->ep == NULL) {
		wg_drop(w, m, WG_DROP_NO_ENDPOINT);
		return false;
	}
	outer = ETH_LEN + (s->ep->ep.ip.family == WG_AF_INET ? 20 : 40) + UDP_LEN +
		WG_MSG_DATA_HEADER_LEN;
	if (rte_pktmbuf_append(m, (uint16_t)(padded - s->inner_len + WG_AEAD_TAG_LEN)) == NULL ||
	    rte_pktmbuf_prepend(m, (uint16_t)outer) == NULL) {
		wg_drop(w, m, WG_DROP_NO_TAILROOM);
		return false;
	}
	d = rte_pktmbuf_mtod_offset(m, struct wg_msg_data *, outer - WG_MSG_DATA_HEADER_LEN);
	memset(d->encrypted_packet + s->inner_len, 0, padded - s->inner_len);
	/* 4, or h4 for a session made by an obfuscated handshake (AmneziaWG) */
	wg_put_le32((uint8_t *)&d->header,
		    atomic_load_explicit(&gkp->kp.send_type, memory_order_relaxed));
	wg_put_le32(d->receiver_index, gkp->kp.remote_index);
	wg_put_le64(d->counter, counter);
	*op = (struct wg_aead_op){ .key = gkp->kp.send_key, .buf = d->encrypted_packet,
				   .len = padded };
	wg_aead_nonce(op->nonce, counter);
	return true;
}

/* Outer IPv4 or IPv6 and UDP from our WAN address to the endpoint, around the message
 * that follows them in `frame`. IPv4 leaves the UDP checksum zero (allowed, and it saves a
 * pass over the payload); IPv6 requires one. false if the port has no address of the
 * endpoint's family. */
bool wg_dp_write_outer(struct wg_gw *gw, uint8_t *frame, uint32_t frame_len,
		       const struct wg_peer_ep *ep)
{
	const struct wg_port *p = &gw->ports[ep->port];
	const struct wg_ip *src = wg_port_addr(p, ep->ep.ip.family);
	uint8_t *ip = frame + ETH_LEN;
	bool v4 = ep->ep.ip.family == WG_AF_INET;
	uint8_t *udp = ip + (v4 ? 20 : 40);
	uint32_t udp_len = frame_len - (uint32_t)(udp - frame);
	uint16_t sport = atomic_load_explicit(&gw->listen_port, memory_order_relaxed), c;

	if (src == NULL)
		return false;
	wg_pkt_write_eth(frame, ep->mac, p->mac, v4 ? 0x0800 : 0x86dd);
	if (v4) {
		uint32_t tot = udp_len + 20;

		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (uint8_t)(tot >> 8);
		ip[3] = (uint8_t)tot;
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, src->addr, 4);
		memcpy(ip + 16, ep->ep.ip.addr, 4);
		c = wg_csum_ipv4_header(ip, 20);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
	} else {
		memset(ip, 0, 8);
		ip[0] = 0x60;
		ip[4] = (uint8_t)(udp_len >> 8);
		ip[5] = (uint8_t)udp_len;
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, src->addr, 16);
		memcpy(ip + 24, ep->ep.ip.addr, 16);
	}
	udp[0] = (uint8_t)(sport >> 8);
	udp[1] = (uint8_t)sport;
	udp[2] = (uint8_t)(ep->ep.port >> 8);
	udp[3] = (uint8_t)ep->ep.port;
	udp[4] = (uint8_t)(udp_len >> 8);
	udp[5] = (uint8_t)udp_len;
	udp[6] = udp[7] = 0;
	if (!v4) {
		c = wg_csum_l4(src, &ep->ep.ip, 17, udp, udp_len);
		udp[6] = (uint8_t)(c >> 8);
		udp[7] = (uint8_t)c;
	}
	return true;
}

void wg_peer_ep_template(struct wg_gw *gw, struct wg_peer_ep *ep)
{
	bool v4 = ep->ep.ip.family == WG_AF_INET;
	unsigned len = ETH_LEN + (v4 ? 20 : 40) + UDP_LEN;
	const struct wg_ip *src;

	ep->tmpl_len = 0;
	/* The generic writer makes the template: a frame of headers only, lengths zero. */
	if (!wg_dp_write_outer(gw, ep->tmpl, len, ep))
		return;
	ep->tmpl[ETH_LEN + (v4 ? 2 : 4)] = ep->tmpl[ETH_LEN + (v4 ? 3 : 5)] = 0;
	ep->tmpl[len - 4] = ep->tmpl[len - 3] = 0;            /* UDP length */
	ep->tmpl[len - 2] = ep->tmpl[len - 1] = 0;            /* UDP checksum */
	src = wg_port_addr(&gw->ports[ep->port], ep->ep.ip.family);
	if (v4) {
		ep->tmpl[ETH_LEN + 10] = ep->tmpl[ETH_LEN + 11] = 0;
		ep->tmpl_sum = wg_csum_partial(ep->tmpl + ETH_LEN, 20, 0);
	} else {
		/* Pseudo-header: addresses and next header (the length goes in per packet). */
		ep->tmpl_sum = wg_csum_partial(src->addr, 16, 0);
		ep->tmpl_sum = wg_csum_partial(ep->ep.ip.addr, 16, ep->tmpl_sum);
		ep->tmpl_sum = wg_csum_partial((const uint8_t *)"\0\x11", 2, ep->tmpl_sum);
	}
	ep->tmpl_sport = atomic_load_explicit(&gw->listen_port, memory_order_relaxed);
	ep->tmpl_len = (uint8_t)len;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The outer headers from the endpoint's template: copied, lengths and checksums filled
 * in. Without a template (or after the listen port changed) from scratch. */
static bool write_outer(struct wg_gw *gw, uint8_t *frame, uint32_t frame_len,
			const struct wg_peer_ep *ep)
{
	uint32_t l3 = frame_len - ETH_LEN;

	if (ep->tmpl_len == 0 ||
	    ep->tmpl_sport != atomic_load_explicit(&gw->listen_port, memory_order_relaxed))
		return wg_dp_write_outer(gw, frame, frame_len, ep);
	memcpy(frame, ep->tmpl, ep->tmpl_len);
	if (ep->ep.ip.family == WG_AF_INET) {
		uint8_t *ip = frame + ETH_LEN;

		put16(ip + 2, (uint16_t)l3);
		put16(ip + 10, wg_csum_fold(ep->tmpl_sum + l3));
		put16(ip + 20 + 4, (uint16_t)(l3 - 20));
	} else {
		uint8_t *ip = frame + ETH_LEN, *udp = ip + 40;
		uint32_t udp_len = l3 - 40;
		uint16_t c;

		put16(ip + 4, (uint16_t)udp_len);
		put16(udp + 4, (uint16_t)udp_len);
		c = wg_csum_fold(wg_csum_partial(udp, udp_len, ep->tmpl_sum + udp_len));
		put16(udp + 6, c ? c : 0xffff);
	}
	return true;
}

static void finish(struct wg_worker *w, struct seal *s, uint64_t now)
{
	if (!write_outer(w->gw, rte_pktmbuf_mtod(s->m, uint8_t *), rte_pktmbuf_pkt_len(s->m),
			 s->ep)) {
		wg_drop(w, s->m, WG_DROP_NO_ROUTE);
		return;
	}
	wg_stamp(&s->peer->last_tx, now);
	if (s->inner_len)
		wg_stamp(&s->peer->last_tx_data, now);
	w->peer_stats[s->peer->id].tx_bytes += rte_pktmbuf_pkt_len(s->m) - ETH_LEN -
		(s->ep->ep.ip.family == WG_AF_INET ? 20 : 40) - UDP_LEN;
	w->encrypted++;
	wg_dp_tx(w, s->ep->port, s->m);
}

void wg_dp_encrypt_burst(struct wg_worker *w, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	wg_dp_encrypt_parsed(w, pkts, NULL, n, now);
}

void wg_dp_encrypt_parsed(struct wg_worker *w, struct rte_mbuf **pkts,
			  const struct wg_pkt_info *pis, uint16_t n, uint64_t now)
{
	struct wg_aead_op ops[WG_BURST];
	struct seal seals[WG_BURST], *ready[WG_BURST];
	unsigned n_seals = 0, k = 0;

	uint32_t routed[WG_BURST];

	/* Stage 0: the destinations' peers, looked up for the whole burst at once. */
	if (pis) {
		const struct wg_ip *dsts[WG_BURST];
		uint32_t found[WG_BURST];
		uint8_t at[WG_BURST];
		unsigned n_look = 0;

		for (uint16_t i = 0; i < n; i++) {
			routed[i] = WG_ALLOWEDIPS_NONE;
			if (wg_meta(pkts[i])->peer == UINT32_MAX) {
				dsts[n_look] = &pis[i].dst;
				at[n_look++] = (uint8_t)i;
			}
		}
		if (n_look)
			wg_allowedips_lookup_burst(&w->gw->aips, dsts, found, n_look);
		for (unsigned j = 0; j < n_look; j++)
			routed[at[j]] = found[j];
	}
	/* Stage 1: route each packet to its peer (and fetch the peer's lines). */
	for (uint16_t i = 0; i < n; i++) {
		struct wg_pkt_info pi;
		struct seal *s = &seals[n_seals];

		s->m = pkts[i];
		if (rte_pktmbuf_data_len(s->m) == 0) {   /* a keepalive from the control lcore */
			s->peer = &w->gw->peers[wg_meta(s->m)->peer];
			s->inner_len = 0;
			s->looked_up = false;
		} else if (pick_peer(w, s->m, pis ? &pis[i] : NULL,
				     pis ? routed[i] : WG_ALLOWEDIPS_NONE, &pi, &s->peer,
				     &s->looked_up)) {
			s->inner_len = pi.l3_len;
		} else {
			continue;
		}
		rte_prefetch0(s->peer);
		rte_prefetch0_write(&s->peer->last_tx);
		rte_prefetch0_write(&w->peer_stats[s->peer - w->gw->peers]);   /* = its id */
		n_seals++;
	}
	/* Stage 2: the peer's generation, published keypair and endpoint (and fetch the
	 * keypair's and the endpoint's lines). */
	for (unsigned i = 0; i < n_seals; i++) {
		struct seal *s = &seals[i];
		uint32_t gen = atomic_load_explicit(&s->peer->gen, memory_order_acquire);

		if (s->looked_up) {
			wg_meta(s->m)->gen = gen;
		} else if (wg_meta(s->m)->gen != gen) {
			wg_drop(w, s->m, WG_DROP_PEER_GONE);   /* for a peer removed meanwhile */
			s->m = NULL;
			s->gkp = NULL;
			continue;
		}
		s->gkp = atomic_load_explicit(&s->peer->tx_kp, memory_order_acquire);
		s->ep = atomic_load_explicit(&s->peer->ep, memory_order_acquire);
		if (s->gkp)
			rte_prefetch0_write(&s->gkp->kp.send_counter);
		if (s->ep) {
			rte_prefetch0(s->ep);
			rte_prefetch0((const uint8_t *)s->ep + RTE_CACHE_LINE_SIZE);
		}
	}
	for (unsigned i = 0; i < n_seals; i++)
		if (seals[i].m && seals[i].gkp &&
		    !wg_timers_keypair_usable(seals[i].gkp->kp.send_birth, 0, now))
			seals[i].gkp = NULL;
	/* Stage 3: nonces; stage 4: the messages' layout; then the burst's AEAD. */
	claim_counters(seals, n_seals);
	for (unsigned i = 0; i < n_seals; i++)
		if (seals[i].m && prepare(w, &seals[i], &ops[k], now))
			ready[k++] = &seals[i];
	wg_aead_encrypt_burst(w->aead, ops, k);
	for (unsigned i = 0; i < k; i++) {
		if (!ops[i].ok) {
			wg_drop(w, ready[i]->m, WG_DROP_NO_KEYPAIR);
			continue;
		}
		finish(w, ready[i], now);
	}
}
