/* SPDX-License-Identifier: MIT */
/*
 * The worker's receive side: classify a burst, decrypt the data messages of it together,
 * and send what comes out to the LAN or (relay) back into the encrypt path. Packets for the
 * control lcore (handshakes, ARP, neighbour discovery, ICMP to our addresses) leave through
 * its ring. Every drop is counted under its reason.
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "gw_dp.h"
#include "gw_nat.h"
#include "wg_cookie.h"
#include "wg_crypto.h"

struct rx_burst {
	struct rte_mbuf *dec[WG_BURST];
	struct wg_pkt_info dec_pi[WG_BURST];
	uint16_t n_dec;
	struct rte_mbuf *enc[WG_BURST];
	struct wg_pkt_info enc_pi[WG_BURST];   /* their parse, at the IP header */
	uint16_t n_enc;
};

/* Queue a packet (data at its IP header) for encryption with its parse from a frame's:
 * the same but for the offsets, which move by the L2 header. */
static void queue_enc(struct rx_burst *b, struct rte_mbuf *m, const struct wg_pkt_info *pi)
{
	struct wg_pkt_info *q = &b->enc_pi[b->n_enc];

	*q = *pi;
	q->l4_off = (uint16_t)(pi->l4_off - pi->l3_off);
	q->l3_off = 0;
	q->ethertype = 0;
	b->enc[b->n_enc++] = m;
}

void wg_dp_to_ctrl(struct wg_worker *w, struct rte_mbuf *m, enum wg_ctrl_kind kind)
{
	wg_meta(m)->kind = (uint16_t)kind;
	if (rte_ring_mp_enqueue(w->gw->ctrl_ring, m) != 0)
		wg_drop(w, m, WG_DROP_CTRL_RING_FULL);
}

void wg_dp_post_event(struct wg_worker *w, const struct wg_event *ev)
{
	if (rte_ring_mp_enqueue_elem(w->gw->event_ring, (void *)(uintptr_t)ev, sizeof(*ev)) != 0)
		w->drops[WG_DROP_EVENT_RING_FULL]++;
}

/* ICMP errors are rate-limited per lcore (RFC 1812 4.3.2.8), so a storm of undeliverable
 * packets costs the control lcore a bounded amount of work: WG_ICMP_PER_SEC a second with
 * a burst of WG_ICMP_BURST. The packet itself has been counted under its drop reason. */
static bool icmp_allowed(struct wg_worker *w)
{
	const uint64_t cost = WG_NSEC_PER_SEC / WG_ICMP_PER_SEC, full = cost * WG_ICMP_BURST;
	uint64_t tokens = w->icmp_tokens + (w->now - w->icmp_last);

	w->icmp_last = w->now;
	if (tokens > full)
		tokens = full;
	if (tokens < cost) {
		w->icmp_tokens = tokens;
		return false;
	}
	w->icmp_tokens = tokens - cost;
	return true;
}

void wg_dp_icmp_error(struct wg_worker *w, struct rte_mbuf *m, enum wg_icmp_error kind,
		       uint32_t mtu)
{
	if (!icmp_allowed(w)) {
		w->icmp_suppressed++;
		rte_pktmbuf_free(m);
		return;
	}
	wg_meta(m)->arg = (uint32_t)kind | mtu << 8;
	wg_dp_to_ctrl(w, m, WG_CTRL_ICMP_ERROR);
}

/* Under load: does the message carry a mac2 made with our current cookie for its
 * source? An all-zero mac2 (no cookie held) costs nothing to refuse. */
static bool mac2_ok(struct wg_worker *w, const uint8_t *msg, size_t len,
		    const struct wg_pkt_info *pi)
{
	const struct wg_cookie_pub *pub = atomic_load_explicit(&w->gw->cookie_pub,
							      memory_order_acquire);
	uint8_t src[18];
	size_t n = pi->src.family == WG_AF_INET ? 4 : 16;

	if (pub == NULL || wg_is_zero(msg + len - WG_MAC_LEN, WG_MAC_LEN))
		return false;
	memcpy(src, pi->src.addr, n);
	src[n] = (uint8_t)(pi->sport >> 8);
	src[n + 1] = (uint8_t)pi->sport;
	return wg_cookie_verify_mac2(pub->secret, pub->birth, msg, len, src, n + 2,
				     w->now) == WG_OK;
}

/* A handshake message: length and mac1 are checked here, so junk never costs the control
 * lcore anything, and nothing is checked at all when there is no room to queue it. Cookie
 * replies carry no mac1; their length is all we can check. An obfuscated message comes
 * without its padding (off bytes, which the meta tells the control lcore) and is checked
 * the same way: its MACs cover its type field as sent. */
static void handshake(struct wg_worker *w, struct rte_mbuf *m, const uint8_t *msg, size_t len,
		      unsigned type, const struct wg_pkt_info *pi, size_t off, bool obfuscated)
{
	static const uint16_t want[] = { [WG_MSG_INITIATION] = WG_MSG_INITIATION_LEN,
		[WG_MSG_RESPONSE] = WG_MSG_RESPONSE_LEN,
		[WG_MSG_COOKIE_REPLY] = WG_MSG_COOKIE_REPLY_LEN };
	struct wg_gw *gw = w->gw;
	struct rte_ring *ring = gw->hs_ring;

	if (len != want[type]) {
		wg_drop(w, m, WG_DROP_WG_BAD_LENGTH);
		return;
	}
	if (type != WG_MSG_COOKIE_REPLY) {
		if (atomic_load_explicit(&gw->under_load, memory_order_relaxed) &&
		    mac2_ok(w, msg, len, pi)) {
			ring = gw->hs_prio_ring;
		} else if (rte_ring_full(ring)) {
			wg_drop(w, m, WG_DROP_HS_QUEUE_FULL);
			return;
		}
		if (wg_cookie_check_mac1(&gw->dev.cookie, msg, len) != WG_OK) {
			wg_drop(w, m, WG_DROP_WG_BAD_MAC1);
			return;
		}
	}
	wg_meta(m)->kind = WG_CTRL_HANDSHAKE;
	wg_meta(m)->arg = (uint32_t)(w->now >> 20);
	wg_meta(m)->hs_off = (uint16_t)off;
	wg_meta(m)->hs_type = (uint8_t)type;
	wg_meta(m)->hs_obfs = obfuscated;
	if (rte_ring_mp_enqueue(ring, m) != 0)
		wg_drop(w, m, WG_DROP_HS_QUEUE_FULL);
}

static void queue_dec(struct rx_burst *b, struct rte_mbuf *m, const struct wg_pkt_info *pi)
{
	b->dec_pi[b->n_dec] = *pi;
	b->dec[b->n_dec++] = m;
}

/* With obfuscation on (docs/obfuscation.md): the form by length and type field; the padding
 * is stripped and the message goes on as a plain one would. Junk costs a few compares. */
static void obfs_message(struct wg_worker *w, struct rx_burst *b, struct rte_mbuf *m,
			 const uint8_t *msg, size_t len, const struct wg_pkt_info *pi,
			 const struct wg_obfs *o)
{
	size_t off;
	bool obfuscated;
	unsigned c = wg_obfs_classify(o, msg, len, &off, &obfuscated);

	if (c == WG_MSG_DATA && len >= WG_MSG_DATA_MIN_LEN)
		queue_dec(b, m, pi);
	else if (c >= WG_MSG_INITIATION && c <= WG_MSG_COOKIE_REPLY)
		handshake(w, m, msg + off, len - off, c, pi, off, obfuscated);
	else
		wg_drop(w, m, c == WG_MSG_DATA || c == WG_OBFS_SHORT ? WG_DROP_WG_SHORT :
			c == WG_OBFS_PLAIN ? WG_DROP_OBFS_PLAIN : WG_DROP_OBFS_JUNK);
}

static void wg_message(struct wg_worker *w, struct rx_burst *b, struct rte_mbuf *m,
		       const struct wg_pkt_info *pi)
{
	const struct wg_obfs *o = atomic_load_explicit(&w->gw->obfs, memory_order_acquire);
	const uint8_t *udp = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi->l4_off);
	size_t len = (size_t)(udp[4] << 8 | udp[5]);
	size_t avail = pi->l3_off + pi->l3_len - pi->l4_off;
	unsigned type;

	if (len < 8 || len > avail) {
		wg_drop(w, m, WG_DROP_BAD_FRAME);
		return;
	}
	len -= 8;
	if (unlikely(o != NULL)) {
		obfs_message(w, b, m, udp + 8, len, pi, o);
		return;
	}
	type = wg_msg_type(udp + 8, len);
	if (type == WG_MSG_DATA) {
		if (len < WG_MSG_DATA_MIN_LEN) {
			wg_drop(w, m, WG_DROP_WG_SHORT);
			return;
		}
		queue_dec(b, m, pi);
	} else if (type >= WG_MSG_INITIATION && type <= WG_MSG_COOKIE_REPLY) {
		handshake(w, m, udp + 8, len, type, pi, 0, false);
	} else {
		wg_drop(w, m, len < sizeof(struct wg_msg_header) ? WG_DROP_WG_SHORT :
			WG_DROP_WG_BAD_TYPE);
	}
}

static bool is_multicast(const struct wg_ip *ip)
{
	return ip->family == WG_AF_INET6 ? ip->addr[0] == 0xff :
		(ip->addr[0] & 0xf0) == 0xe0 || memcmp(ip->addr, "\xff\xff\xff\xff", 4) == 0;
}

/* A plaintext packet from the LAN: strip L2 and queue it for encryption. */
static void from_lan(struct wg_worker *w, struct rx_burst *b, struct rte_mbuf *m,
		     const struct wg_pkt_info *pi)
{
	uint8_t *ip;

	if (is_multicast(&pi->dst)) {
		wg_drop(w, m, WG_DROP_NOT_FOR_US);
		return;
	}
	rte_pktmbuf_adj(m, pi->l3_off);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - pi->l3_len));
	ip = rte_pktmbuf_mtod(m, uint8_t *);
	if (!wg_pkt_dec_ttl(ip, pi->l3_len)) {
		w->drops[WG_DROP_TTL_EXCEEDED]++;
		wg_dp_icmp_error(w, m, WG_ICMP_TTL_EXCEEDED, 0);
		return;
	}
	wg_meta(m)->peer = UINT32_MAX;
	queue_enc(b, m, pi);
}

static void classify(struct wg_worker *w, struct rx_burst *b, unsigned port, struct rte_mbuf *m)
{
	struct wg_gw *gw = w->gw;
	const struct wg_port *p = &gw->ports[port];
	struct wg_meta *meta = wg_meta(m);
	struct wg_pkt_info pi;
	int nat;

	meta->port = (uint16_t)port;
	if (m->nb_segs != 1) {
		wg_drop(w, m, WG_DROP_MULTI_SEGMENT);
		return;
	}
	if (wg_pkt_parse_frame(&pi, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m)) != 0) {
		wg_drop(w, m, pi.ethertype && pi.ethertype != 0x0800 && pi.ethertype != 0x86dd &&
			pi.ethertype != 0x0806 ? WG_DROP_NOT_IP : WG_DROP_BAD_FRAME);
		return;
	}
	meta->l3_off = pi.l3_off;
	meta->l4_off = pi.l4_off;
	if (pi.family == 0) {
		if (pi.ethertype == 0x0806)
			wg_dp_to_ctrl(w, m, WG_CTRL_LOCAL);
		else
			wg_drop(w, m, WG_DROP_NOT_IP);
	} else if (wg_port_is_ours(p, &pi.dst)) {
		if ((p->role & WG_ROLE_WAN) && pi.proto == 17 && pi.fragment && w->frag) {
			/* Once whole, it is classified like any datagram (and is no fragment). */
			m = wg_frag_reassemble(w, m, &pi);
			if (m)
				classify(w, b, port, m);
		} else if ((p->role & WG_ROLE_WAN) && pi.proto == 17 && !pi.fragment &&
		    pi.dport == atomic_load_explicit(&gw->listen_port, memory_order_relaxed)) {
			wg_message(w, b, m, &pi);
		} else if ((nat = wg_gw_nat_in(w, port, m, &pi)) != WG_NAT_PASS) {
			if (nat == WG_NAT_DONE)      /* a reply, to the inside address now */
				from_lan(w, b, m, &pi);
		} else {
			wg_dp_to_ctrl(w, m, WG_CTRL_LOCAL);
		}
	} else if (pi.family == WG_AF_INET6 && pi.proto == 58 && is_multicast(&pi.dst)) {
		wg_dp_to_ctrl(w, m, WG_CTRL_LOCAL);   /* neighbour discovery */
	} else if (p->role & WG_ROLE_LAN) {
		from_lan(w, b, m, &pi);
	} else {
		wg_drop(w, m, WG_DROP_NOT_FOR_US);
	}
}

void wg_dp_request_handshake(struct wg_worker *w, struct wg_peer *peer)
{
	struct wg_event ev = { .type = WG_EV_HANDSHAKE, .peer = peer->id };

	if (atomic_exchange_explicit(&peer->want_handshake, 1, memory_order_relaxed) == 0) {
		ev.gen = atomic_load_explicit(&peer->gen, memory_order_relaxed);
		wg_dp_post_event(w, &ev);
	}
}

/* Bookkeeping for an authenticated message: stamps, confirmation, rekey, roaming. Events
 * carry the generation of the keypair's peer, so the control lcore ignores them if the
 * peer has gone meanwhile. */
static void authenticated(struct wg_worker *w, struct wg_gw_keypair *gkp, struct rte_mbuf *m,
			  const struct wg_pkt_info *pi, uint64_t now)
{
	struct wg_peer *peer = gkp->peer;
	struct wg_peer_ep *ep = atomic_load_explicit(&peer->ep, memory_order_acquire);
	struct wg_event ev = { .peer = peer->id, .gen = gkp->peer_gen };

	wg_stamp(&peer->last_rx, now);
	w->peer_stats[peer->id].rx_bytes += rte_pktmbuf_pkt_len(m) - pi->l4_off - 8;
	if (!gkp->kp.initiator &&
	    atomic_load_explicit(&gkp->confirmed, memory_order_relaxed) == 0 &&
	    atomic_exchange_explicit(&gkp->confirmed, 1, memory_order_relaxed) == 0) {
		ev.type = WG_EV_CONFIRM;
		ev.index = gkp->kp.local_index;
		wg_dp_post_event(w, &ev);
	}
	if (wg_timers_rekey_on_receive(gkp->kp.birth, gkp->kp.initiator, now))
		wg_dp_request_handshake(w, peer);
	if ((ep == NULL || !wg_ip_equal(&ep->ep.ip, &pi->src) || ep->ep.port != pi->sport ||
	     memcmp(ep->mac, rte_pktmbuf_mtod_offset(m, uint8_t *, 6), 6) != 0) &&
	    atomic_exchange_explicit(&peer->roam_pending, 1, memory_order_relaxed) == 0) {
		ev.type = WG_EV_ROAM;
		ev.port = wg_meta(m)->port;
		ev.ep.ip = pi->src;
		ev.ep.port = pi->sport;
		memcpy(ev.mac, rte_pktmbuf_mtod_offset(m, uint8_t *, 6), 6);
		wg_dp_post_event(w, &ev);
	}
}

static bool is_ours(const struct wg_gw *gw, const struct wg_ip *ip)
{
	for (unsigned i = 0; i < gw->n_ports; i++)
		if (wg_port_is_ours(&gw->ports[i], ip))
			return true;
	return false;
}

/* The decrypted inner packet of an authenticated message: check it and route it. Its
 * source's and destination's owners were looked up with the burst's (inner_addrs). */
static void inner(struct wg_worker *w, struct rx_burst *b, struct rte_mbuf *m,
		  struct wg_peer *peer, uint32_t plain_len, uint32_t src_owner,
		  uint32_t dst_owner, uint64_t now)
{
	struct wg_pkt_info ipi;
	uint8_t *ip;

	wg_stamp(&peer->last_rx_data, now);
	rte_pktmbuf_adj(m, (uint16_t)(wg_meta(m)->l4_off + 8 + WG_MSG_DATA_HEADER_LEN));
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - plain_len));
	ip = rte_pktmbuf_mtod(m, uint8_t *);
	if (wg_pkt_parse_ip(&ipi, ip, plain_len) != 0) {
		wg_drop(w, m, WG_DROP_BAD_INNER);
		return;
	}
	rte_pktmbuf_trim(m, (uint16_t)(plain_len - ipi.l3_len));   /* the padding */
	if (src_owner != peer->id) {
		wg_drop(w, m, WG_DROP_DISALLOWED_SRC);
		return;
	}
	w->decrypted++;
	if (is_ours(w->gw, &ipi.dst)) {
		wg_dp_to_ctrl(w, m, WG_CTRL_INNER_LOCAL);
		return;
	}
	if (!wg_gw_dst_allowed(w, peer, &ipi)) {
		wg_drop(w, m, WG_DROP_DST_REFUSED);
		return;
	}
	if (dst_owner != WG_ALLOWEDIPS_NONE) {
		uint32_t owner = dst_owner;

		/* To another peer: the gateway relays, as a router would. */
		if (!wg_pkt_dec_ttl(ip, ipi.l3_len)) {
			w->drops[WG_DROP_TTL_EXCEEDED]++;
			wg_dp_icmp_error(w, m, WG_ICMP_TTL_EXCEEDED, 0);
			return;
		}
		wg_meta(m)->peer = owner;
		wg_meta(m)->gen = atomic_load_explicit(&w->gw->peers[owner].gen,
						       memory_order_acquire);
		queue_enc(b, m, &ipi);
		return;
	}
	if (wg_gw_nat_out(w, m, &ipi) == WG_NAT_TAKEN)   /* masqueraded by another worker */
		return;
	wg_dp_lan_out(w, m, &ipi);
}

/*
 * A keypair's receive side has one owner: the first worker a data message on it reaches
 * claims it, and any other worker hands the keypair's messages to the owner's ring
 * without touching the replay window. So a window has one writer however the NIC spreads
 * the peer's packets (RSS hashes outer ports, which anyone can change on a copy), and a
 * replayed copy landing on another queue meets the same window as the original. true if
 * this worker owns it; false if the message was handed off (or dropped).
 */
static bool owned(struct wg_worker *w, struct wg_gw_keypair *gkp, struct rte_mbuf *m)
{
	uint32_t owner;

	if (wg_replay_claim(&gkp->kp.replay, w->idx + 1, &owner))
		return true;
	/* The control lcore's context never decrypts, so owner - 1 is a worker. */
	if (rte_ring_mp_enqueue(w->gw->workers[owner - 1].handoff, m) != 0)
		wg_drop(w, m, WG_DROP_HANDOFF_FULL);
	else
		w->handed_off++;
	return false;
}

/* Look up, check and queue one data message for decryption; false if dropped or handed
 * to the keypair's owner. */
static bool prepare(struct wg_worker *w, struct rte_mbuf *m, const struct wg_pkt_info *pi,
		    struct wg_gw_keypair *gkp, struct wg_aead_op *op, uint64_t *counter,
		    uint64_t now)
{
	uint8_t *msg = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->l4_off + 8);
	const struct wg_msg_data *d = (const struct wg_msg_data *)msg;
	uint32_t len = (uint32_t)(msg[-4] << 8 | msg[-3]) - 8;
	uint32_t idx = wg_get_le32(d->receiver_index);

	if (gkp == NULL || gkp->kp.local_index != idx) {
		wg_drop(w, m, WG_DROP_UNKNOWN_INDEX);
		return false;
	}
	if (w->handoff && !owned(w, gkp, m))
		return false;
	*counter = wg_get_le64(d->counter);
	if (!wg_timers_keypair_usable(gkp->kp.birth, *counter, now)) {
		wg_drop(w, m, WG_DROP_KEY_EXPIRED);
		return false;
	}
	if (!wg_replay_check(&gkp->kp.replay, *counter)) {
		wg_drop(w, m, WG_DROP_REPLAY);
		return false;
	}
	*op = (struct wg_aead_op){ .key = gkp->kp.recv_key, .buf = msg + WG_MSG_DATA_HEADER_LEN,
				   .len = len - WG_MSG_DATA_MIN_LEN };
	wg_aead_nonce(op->nonce, *counter);
	return true;
}

/* An IPv4 packet's source, for fetching its allowed-IPs entry ahead (family 0 for
 * anything else: IPv6 is looked up without it, and the packet is parsed properly later). */
/* A decrypted packet's source and destination as wg_pkt_parse_ip will find them (no
 * family if it will refuse the packet), for the burst's allowed-IPs lookup. */
static void inner_addrs(const uint8_t *ip, uint32_t len, struct wg_ip *src, struct wg_ip *dst)
{
	src->family = dst->family = 0;
	if (len >= 20 && ip[0] >> 4 == 4) {
		src->family = dst->family = WG_AF_INET;
		memcpy(src->addr, ip + 12, 4);
		memcpy(dst->addr, ip + 16, 4);
	} else if (len >= 40 && ip[0] >> 4 == 6) {
		src->family = dst->family = WG_AF_INET6;
		memcpy(src->addr, ip + 8, 16);
		memcpy(dst->addr, ip + 24, 16);
	}
}

/* The receive side of a keypair: its keys and indices, and the replay window around a
 * counter (the word with its bit, and the window's top). */
static void prefetch_rx(const struct wg_gw_keypair *gkp, uint64_t counter)
{
	const struct wg_replay *r = &gkp->kp.replay;

	rte_prefetch0(gkp->kp.recv_key);
	rte_prefetch0(r);
	rte_prefetch0(&r->ring[(counter / 64) % (WG_REPLAY_RING_BITS / 64)]);
}

/*
 * The burst's data messages in stages, so that each stage's memory (the index table's
 * entries, the keypairs, the peers) is fetched for the whole burst before anything waits
 * for it: with many peers each of those is a cache miss per packet.
 */
static void decrypt(struct wg_worker *w, struct rx_burst *b, uint64_t now)
{
	const struct wg_index_table *index = &w->gw->index;
	struct wg_aead_op ops[WG_BURST];
	struct wg_gw_keypair *gkps[WG_BURST], *found[WG_BURST];
	struct rte_mbuf *ms[WG_BURST];
	struct wg_pkt_info *pis[WG_BURST];
	uint64_t counters[WG_BURST];
	uint32_t slots[WG_BURST];
	struct wg_ip addrs[2 * WG_BURST];          /* the sources, then the destinations */
	const struct wg_ip *look[2 * WG_BURST];
	uint32_t owners[2 * WG_BURST];
	unsigned k = 0, ok[WG_BURST], n_ok = 0;

	for (unsigned i = 0; i < b->n_dec; i++) {
		const uint8_t *msg = rte_pktmbuf_mtod_offset(b->dec[i], const uint8_t *,
							     b->dec_pi[i].l4_off + 8);

		slots[i] = wg_index_slot(index, wg_get_le32(msg + 4));
		rte_prefetch0(&index->entries[slots[i]]);
	}
	for (unsigned i = 0; i < b->n_dec; i++) {
		const uint8_t *msg = rte_pktmbuf_mtod_offset(b->dec[i], const uint8_t *,
							     b->dec_pi[i].l4_off + 8);

		found[i] = wg_index_at(index, slots[i], WG_INDEX_KEYPAIR);
		if (found[i])
			prefetch_rx(found[i], wg_get_le64(msg + 8));
	}
	for (unsigned i = 0; i < b->n_dec; i++)
		if (prepare(w, b->dec[i], &b->dec_pi[i], found[i], &ops[k], &counters[k], now)) {
			gkps[k] = found[i];
			rte_prefetch0(gkps[k]->peer);
			rte_prefetch0_write(&gkps[k]->peer->last_rx);
			ms[k] = b->dec[i];
			pis[k++] = &b->dec_pi[i];
		}
	wg_aead_decrypt_burst(w->aead, ops, k);
	for (unsigned i = 0; i < k; i++) {
		if (!ops[i].ok) {
			wg_drop(w, ms[i], WG_DROP_DECRYPT);
			continue;
		}
		/* This worker owns the keypair's receive side (see owned()): the only writer. */
		if (!wg_replay_update(&gkps[i]->kp.replay, counters[i])) {
			wg_drop(w, ms[i], WG_DROP_REPLAY);
			continue;
		}
		/* The peer was removed while this poll held its keypair: nothing it says
		 * counts any more (its slot is not reused before this poll ends). */
		if (atomic_load_explicit(&gkps[i]->peer->gen, memory_order_acquire) !=
		    gkps[i]->peer_gen) {
			wg_drop(w, ms[i], WG_DROP_PEER_GONE);
			continue;
		}
		authenticated(w, gkps[i], ms[i], pis[i], now);
		if (ops[i].len == 0) {
			w->keepalives_rx++;
			rte_pktmbuf_free(ms[i]);
			continue;
		}
		inner_addrs(ops[i].buf, ops[i].len, &addrs[n_ok], &addrs[WG_BURST + n_ok]);
		ok[n_ok++] = i;
	}
	/* The inner packets' sources (checked: does the sender own them?) and destinations
	 * (relayed to another peer, or out to the LAN) in one walk of the tables. */
	for (unsigned j = 0; j < n_ok; j++) {
		look[j] = &addrs[j];
		look[n_ok + j] = &addrs[WG_BURST + j];
	}
	wg_allowedips_lookup_burst(&w->gw->aips, look, owners, 2 * n_ok);
	for (unsigned j = 0; j < n_ok; j++)
		inner(w, b, ms[ok[j]], gkps[ok[j]]->peer, ops[ok[j]].len, owners[j],
		      owners[n_ok + j], now);
}

void wg_dp_rx_burst(struct wg_worker *w, unsigned port, struct rte_mbuf **pkts, uint16_t n,
		    uint64_t now)
{
	struct rx_burst b;

	b.n_dec = b.n_enc = 0;
	w->lan_memo.valid = false;
	for (uint16_t i = 0; i < n; i++) {
		w->rx_pkts++;
		w->rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
		if (i + 2 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 2], void *));
		classify(w, &b, port, pkts[i]);
	}
	if (b.n_dec)
		decrypt(w, &b, now);
	if (b.n_enc)
		wg_dp_encrypt_parsed(w, b.enc, b.enc_pi, b.n_enc, now);
}

/* Data messages other workers handed to this one: counted as received already, they are
 * classified again (on the port they came in by) and decrypted here. */
void wg_dp_rx_handoff(struct wg_worker *w, uint64_t now)
{
	struct rte_mbuf *pkts[WG_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->handoff, (void **)pkts, WG_BURST, NULL);
	struct rx_burst b;

	if (n == 0)
		return;
	b.n_dec = b.n_enc = 0;
	w->lan_memo.valid = false;
	for (unsigned i = 0; i < n; i++)
		classify(w, &b, wg_meta(pkts[i])->port, pkts[i]);
	if (b.n_dec)
		decrypt(w, &b, now);
	if (b.n_enc)
		wg_dp_encrypt_parsed(w, b.enc, b.enc_pi, b.n_enc, now);
}
