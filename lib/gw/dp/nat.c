/* SPDX-License-Identifier: MIT */
/*
 * Masquerade in the gateway (gw_nat.h, docs/nat.md): the published configuration, the
 * workers' flow tables and handoff rings, the data path's two hooks and the owner's poll.
 *
 * Who writes what: the control lcore builds a `struct nat_conf` for every change and
 * publishes it (atomic pointer, the old one retired through RCU); each worker's table is
 * written by that worker only. A flow's owner is a hash of its inside address, so every
 * flow of a client is on one worker (the per-source bound is exact); its outside port is
 * taken from the owner's slice of the port's range, so a packet coming back names its
 * owner. Packets reaching another worker go to the owner's ring. A change of a port's pool
 * or range moves the epoch, and each owner empties its table when it sees it: a flow whose
 * outside end no longer fits the configuration could not be found by its replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "gw_dp.h"
#include "nat_priv.h"

/* ---- who owns what ---- */

static unsigned owner_of_source(const struct wg_gw_nat *nat, uint32_t inside)
{
	uint32_t h = rte_hash_crc_4byte(inside, 0x9e3779b9u);

	return (unsigned)(((uint64_t)h * nat->n_workers) >> 32);
}

/* The worker whose slice holds an outside port (host order), or -1. */
static int owner_of_port(const struct nat_port *pc, unsigned n, uint16_t port)
{
	uint32_t span = ((uint32_t)pc->port_max - pc->port_min + 1) / n, i;

	if (port < pc->port_min || port > pc->port_max || span == 0)
		return -1;
	i = (uint32_t)(port - pc->port_min) / span;
	return i < n ? (int)i : -1;
}

static void slice(const struct nat_port *pc, unsigned n, unsigned idx, uint16_t *lo, uint16_t *hi)
{
	uint32_t span = ((uint32_t)pc->port_max - pc->port_min + 1) / n;

	*lo = (uint16_t)(pc->port_min + idx * span);
	*hi = (uint16_t)(*lo + span - 1);
}

static bool selected(const struct nat_port *pc, const struct wg_ip *src)
{
	if (pc->n_sources == 0)
		return true;     /* every peer's allowed IPs: the packet came from a peer */
	for (unsigned i = 0; i < pc->n_sources; i++)
		if (wg_prefix_contains(&pc->sources[i], src))
			return true;
	return false;
}

static bool is_outside_addr(const struct nat_port *pc, const struct wg_ip *dst)
{
	uint32_t a;

	memcpy(&a, dst->addr, 4);
	for (unsigned i = 0; i < pc->n_pool; i++)
		if (pc->pool[i] == a)
			return true;
	return false;
}

static uint32_t outside_for(const struct nat_port *pc, uint32_t inside)
{
	/* "Paired" pooling (RFC 4787, REQ-2): an inside address always gets the same one. */
	return pc->pool[rte_hash_crc_4byte(inside, 0x7f4a7c15u) % pc->n_pool];
}

static enum wg_drop parse_drop(enum wg_nat_parse_result r)
{
	return r == WG_NAT_P_FRAGMENT ? WG_DROP_NAT_FRAGMENT :
	       r == WG_NAT_P_UNSUPPORTED ? WG_DROP_NAT_UNSUPPORTED :
	       r == WG_NAT_P_NOT_IPV4 ? WG_DROP_BAD_INNER : WG_DROP_NAT_MALFORMED;
}

static int handoff(struct wg_worker *w, struct wg_gw_nat *nat, unsigned owner,
		   struct rte_mbuf *m, uint16_t kind)
{
	wg_meta(m)->kind = kind;
	if (rte_ring_mp_enqueue(nat->w[owner].ring, m) != 0)
		wg_drop(w, m, WG_DROP_NAT_HANDOFF_FULL);
	else
		nat->w[w->idx].handed_off++;
	return WG_NAT_TAKEN;
}

static int dropped(struct wg_worker *w, struct rte_mbuf *m, enum wg_drop why)
{
	wg_drop(w, m, why);
	return WG_NAT_TAKEN;
}

/* ---- going out ---- */

static int create(struct wg_worker *w, struct wg_gw_nat *nat, const struct nat_conf *conf,
		  unsigned port, const struct wg_nat_pkt *np, struct rte_mbuf *m, int32_t *idx)
{
	static const enum wg_drop why[] = {
		[WG_NAT_C_TABLE_FULL] = WG_DROP_NAT_TABLE_FULL,
		[WG_NAT_C_SOURCE_LIMIT] = WG_DROP_NAT_SOURCE_LIMIT,
		[WG_NAT_C_PORTS_EXHAUSTED] = WG_DROP_NAT_PORTS_EXHAUSTED,
	};
	const struct nat_port *pc = &conf->port[port];
	uint16_t lo, hi, listen = 0;
	enum wg_nat_create_result r;

	/* A reset or an ICMP error opens nothing. */
	if (np->kind == WG_NAT_ICMP_ERROR ||
	    (np->kind == WG_NAT_TCP && (np->tcp_flags & WG_NAT_TCP_RST)))
		return dropped(w, m, WG_DROP_NAT_NO_FLOW);
	slice(pc, nat->n_workers, w->idx, &lo, &hi);
	/* On a port that is also the WAN, replies to the listen port would be taken for
	 * WireGuard: UDP flows never get it. */
	if (w->gw->ports[port].role & WG_ROLE_WAN)
		listen = rte_cpu_to_be_16(atomic_load_explicit(&w->gw->listen_port,
							       memory_order_relaxed));
	r = wg_nat_create(nat->w[w->idx].t, &np->key, outside_for(pc, np->key.local), lo, hi,
			  listen, conf->per_source, (uint16_t)port, w->now, idx);
	return r == WG_NAT_C_OK ? WG_NAT_DONE : dropped(w, m, why[r]);
}

static int translate_out(struct wg_worker *w, struct wg_gw_nat *nat, const struct nat_conf *conf,
			 unsigned port, struct rte_mbuf *m, struct wg_pkt_info *pi)
{
	struct wg_nat_table *t = nat->w[w->idx].t;
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	struct wg_nat_pkt np;
	enum wg_nat_parse_result r = wg_nat_parse(&np, ip, pi->l3_len, WG_NAT_OUT);
	struct wg_nat_flow *f;
	int32_t idx;

	if (r != WG_NAT_P_OK)
		return dropped(w, m, parse_drop(r));
	idx = wg_nat_lookup_out(t, &np.key);
	if (idx < 0 && create(w, nat, conf, port, &np, m, &idx) != WG_NAT_DONE)
		return WG_NAT_TAKEN;
	f = wg_nat_flow(t, idx);
	wg_nat_rewrite(ip, &np, WG_NAT_OUT, f->outside, f->outside_port);
	if (np.kind != WG_NAT_ICMP_ERROR)     /* errors are related, they keep no flow alive */
		wg_nat_seen(t, idx, WG_NAT_OUT, np.tcp_flags, w->now);
	memcpy(pi->src.addr, &f->outside, 4);
	if (np.kind == WG_NAT_TCP || np.kind == WG_NAT_UDP)
		pi->sport = rte_be_to_cpu_16(f->outside_port);
	return WG_NAT_DONE;
}

int wg_gw_nat_out_slow(struct wg_worker *w, struct wg_gw_nat *nat, struct rte_mbuf *m,
		       struct wg_pkt_info *pi)
{
	const struct nat_conf *conf = atomic_load_explicit(&nat->conf, memory_order_acquire);
	int port;
	uint32_t src;
	unsigned owner;

	if (pi->family != WG_AF_INET || w->is_ctrl)
		return WG_NAT_PASS;
	port = wg_route_port(w->gw, WG_ROLE_LAN, &pi->dst);
	if (port < 0 || !conf->port[port].on || !selected(&conf->port[port], &pi->src))
		return WG_NAT_PASS;
	/* The TTL runs out here: the time-exceeded error goes back untranslated. */
	if (pi->ttl <= 1)
		return WG_NAT_PASS;
	memcpy(&src, pi->src.addr, 4);
	owner = owner_of_source(nat, src);
	if (owner != w->idx)
		return handoff(w, nat, owner, m, NAT_KIND_OUT);
	return translate_out(w, nat, conf, (unsigned)port, m, pi);
}

/* ---- coming back ---- */

static int translate_in(struct wg_worker *w, struct wg_gw_nat *nat, struct rte_mbuf *m,
			struct wg_pkt_info *pi, const struct wg_nat_pkt *np)
{
	struct wg_nat_table *t = nat->w[w->idx].t;
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->l3_off);
	int32_t idx = wg_nat_lookup_in(t, &np->key);
	struct wg_nat_flow *f;

	if (idx < 0)
		return dropped(w, m, WG_DROP_NAT_NO_FLOW);
	/* Time exceeded would quote the translated packet: counted, not answered. */
	if (pi->ttl <= 1)
		return dropped(w, m, WG_DROP_TTL_EXCEEDED);
	f = wg_nat_flow(t, idx);
	wg_nat_rewrite(ip, np, WG_NAT_IN, f->inside, f->inside_port);
	if (np->kind != WG_NAT_ICMP_ERROR)
		wg_nat_seen(t, idx, WG_NAT_IN, np->tcp_flags, w->now);
	memcpy(pi->dst.addr, &f->inside, 4);
	if (np->kind == WG_NAT_TCP || np->kind == WG_NAT_UDP)
		pi->dport = rte_be_to_cpu_16(f->inside_port);
	return WG_NAT_DONE;
}

/* Which packets for a masquerade address are masquerade's: TCP, UDP and ICMP that parse
 * as a flow's (an echo request, say, is the gateway's own to answer). */
static int classify_in(struct wg_worker *w, struct wg_gw_nat *nat, const struct nat_port *pc,
		       struct rte_mbuf *m, struct wg_pkt_info *pi, struct wg_nat_pkt *np,
		       int *owner)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi->l3_off);
	enum wg_nat_parse_result r;

	if (pi->proto != WG_IPPROTO_TCP && pi->proto != WG_IPPROTO_UDP &&
	    pi->proto != WG_IPPROTO_ICMP)
		return WG_NAT_PASS;
	r = wg_nat_parse(np, ip, pi->l3_len, WG_NAT_IN);
	if (r == WG_NAT_P_UNSUPPORTED)
		return WG_NAT_PASS;
	if (r != WG_NAT_P_OK)
		return dropped(w, m, parse_drop(r));
	*owner = owner_of_port(pc, nat->n_workers, rte_be_to_cpu_16(np->key.lport));
	if (*owner < 0)
		return np->kind == WG_NAT_TCP || np->kind == WG_NAT_UDP ? WG_NAT_PASS :
		       dropped(w, m, WG_DROP_NAT_NO_FLOW);
	return WG_NAT_DONE;
}

int wg_gw_nat_in_slow(struct wg_worker *w, struct wg_gw_nat *nat, unsigned port,
		      struct rte_mbuf *m, struct wg_pkt_info *pi)
{
	const struct nat_conf *conf = atomic_load_explicit(&nat->conf, memory_order_acquire);
	const struct nat_port *pc = &conf->port[port];
	struct wg_nat_pkt np;
	int owner = -1, v;

	if (!pc->on || pi->family != WG_AF_INET || w->is_ctrl || !is_outside_addr(pc, &pi->dst))
		return WG_NAT_PASS;
	v = classify_in(w, nat, pc, m, pi, &np, &owner);
	if (v != WG_NAT_DONE)
		return v;
	if ((unsigned)owner != w->idx)
		return handoff(w, nat, (unsigned)owner, m, NAT_KIND_IN);
	return translate_in(w, nat, m, pi, &np);
}

/* ---- the owner's poll ---- */

/* A translated frame from the LAN, as the receive path would queue it for encryption. */
static bool lan_packet(struct wg_worker *w, struct rte_mbuf *m, struct wg_pkt_info *pi)
{
	rte_pktmbuf_adj(m, pi->l3_off);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - pi->l3_len));
	if (!wg_pkt_dec_ttl(rte_pktmbuf_mtod(m, uint8_t *), pi->l3_len)) {
		wg_drop(w, m, WG_DROP_TTL_EXCEEDED);
		return false;
	}
	pi->l4_off = (uint16_t)(pi->l4_off - pi->l3_off);
	pi->l3_off = 0;
	pi->ethertype = 0;
	wg_meta(m)->peer = UINT32_MAX;
	return true;
}

static void handed_in(struct wg_worker *w, struct wg_gw_nat *nat, const struct nat_conf *conf,
		      struct rte_mbuf *m, struct rte_mbuf **enc, struct wg_pkt_info *pis,
		      unsigned *n_enc)
{
	unsigned port = wg_meta(m)->port;
	struct wg_pkt_info pi;
	struct wg_nat_pkt np;
	int owner = -1, v;

	if (wg_pkt_parse_frame(&pi, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m)) != 0 ||
	    port >= WG_MAX_PORTS) {
		wg_drop(w, m, WG_DROP_BAD_FRAME);
		return;
	}
	v = conf->port[port].on ? classify_in(w, nat, &conf->port[port], m, &pi, &np, &owner) :
	    WG_NAT_PASS;
	if (v == WG_NAT_TAKEN)
		return;
	/* Not masquerade's any more, or another worker's: the configuration changed. */
	if (v == WG_NAT_PASS || (unsigned)owner != w->idx) {
		wg_drop(w, m, WG_DROP_NAT_NO_FLOW);
		return;
	}
	if (translate_in(w, nat, m, &pi, &np) == WG_NAT_DONE && lan_packet(w, m, &pi)) {
		enc[*n_enc] = m;
		pis[(*n_enc)++] = pi;
	}
}

static void handed_out(struct wg_worker *w, struct wg_gw_nat *nat, const struct nat_conf *conf,
		       struct rte_mbuf *m)
{
	struct wg_pkt_info pi;
	int port;

	if (wg_pkt_parse_ip(&pi, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m)) != 0) {
		wg_drop(w, m, WG_DROP_BAD_INNER);
		return;
	}
	port = wg_route_port(w->gw, WG_ROLE_LAN, &pi.dst);
	if (port >= 0 && conf->port[port].on && selected(&conf->port[port], &pi.src) &&
	    translate_out(w, nat, conf, (unsigned)port, m, &pi) != WG_NAT_DONE)
		return;
	wg_dp_lan_out(w, m, &pi);
}

static void drain(struct wg_worker *w, struct wg_gw_nat *nat, const struct nat_conf *conf,
		  uint64_t now)
{
	struct rte_mbuf *pkts[WG_BURST], *enc[WG_BURST];
	struct wg_pkt_info pis[WG_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(nat->w[w->idx].ring, (void **)pkts, WG_BURST, NULL);
	unsigned n_enc = 0;

	if (n == 0)
		return;
	w->lan_memo.valid = false;
	for (unsigned i = 0; i < n; i++) {
		if (wg_meta(pkts[i])->kind == NAT_KIND_IN)
			handed_in(w, nat, conf, pkts[i], enc, pis, &n_enc);
		else
			handed_out(w, nat, conf, pkts[i]);
	}
	if (n_enc)
		wg_dp_encrypt_parsed(w, enc, pis, (uint16_t)n_enc, now);
}

void wg_gw_nat_poll_slow(struct wg_worker *w, struct wg_gw_nat *nat, uint64_t now)
{
	const struct nat_conf *conf = atomic_load_explicit(&nat->conf, memory_order_acquire);
	struct nat_worker *nw = &nat->w[w->idx];

	if (w->is_ctrl)
		return;
	if (nw->epoch != conf->epoch) {
		wg_nat_flush(nw->t);
		nw->epoch = conf->epoch;
	}
	if (nw->ring)
		drain(w, nat, conf, now);
	wg_nat_expire(nw->t, now, &conf->to, NAT_EXPIRE_BUDGET);
}
