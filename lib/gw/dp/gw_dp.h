/* SPDX-License-Identifier: MIT */
/*
 * The workers' data path (lib/gw/dp): what a worker does with a burst, and what the
 * control lcore may ask of it (encrypt, frame, send). Calls only the shared state
 * (gw_state.h); nothing here calls the control layer, which hears from the workers only
 * through rings (wg_dp_to_ctrl) and stamps on the peers.
 */
#ifndef WG_GW_DP_H
#define WG_GW_DP_H

#include "gw_state.h"

/* dp_rx.c / dp_tx.c */
void wg_dp_rx_burst(struct wg_worker *w, unsigned port, struct rte_mbuf **pkts, uint16_t n,
		    uint64_t now);
/* What other workers handed to this one (keypairs it owns). */
void wg_dp_rx_handoff(struct wg_worker *w, uint64_t now);
/* Encrypt inner IP packets (data at the IP header); meta.peer set, or UINT32_MAX to look
 * the destination up. */
void wg_dp_encrypt_burst(struct wg_worker *w, struct rte_mbuf **pkts, uint16_t n,
			 uint64_t now);
/* The same with each packet's parse already done (pis[i] of the packet at its IP header,
 * as wg_pkt_parse_ip gives it), so it is not parsed again. */
void wg_dp_encrypt_parsed(struct wg_worker *w, struct rte_mbuf **pkts,
			  const struct wg_pkt_info *pis, uint16_t n, uint64_t now);
void wg_dp_tx(struct wg_worker *w, unsigned port, struct rte_mbuf *m);
/* Ethernet, IP and UDP headers in front of a WireGuard message in a frame. */
bool wg_dp_write_outer(struct wg_gw *gw, uint8_t *frame, uint32_t frame_len,
		       const struct wg_peer_ep *ep);
void wg_dp_tx_flush(struct wg_worker *w);
void wg_dp_to_ctrl(struct wg_worker *w, struct rte_mbuf *m, enum wg_ctrl_kind kind);
void wg_dp_post_event(struct wg_worker *w, const struct wg_event *ev);
/* Ask the control lcore for a handshake with the peer, once until it has acted on it. */
void wg_dp_request_handshake(struct wg_worker *w, struct wg_peer *peer);
/* Hand an inner packet (data at its IP header) to the control lcore, which answers it
 * with an ICMP error of that kind (mtu for fragmentation needed / packet too big). */
void wg_dp_icmp_error(struct wg_worker *w, struct rte_mbuf *m, enum wg_icmp_error kind,
		      uint32_t mtu);
/* Frame an inner packet for a LAN port: route, TTL, L2. */
void wg_dp_lan_out(struct wg_worker *w, struct rte_mbuf *m, const struct wg_pkt_info *pi);

/* frag.c: outer fragments */
struct wg_frag;
struct wg_frag *wg_frag_create(void);
void wg_frag_free(struct wg_frag *f);
/* Mbufs a table may hold at most. */
unsigned wg_frag_mbufs_max(void);
/* Take a UDP fragment for us: the whole datagram as one frame (to classify again) once
 * the last fragment arrives, else NULL (held, or dropped and counted). */
struct rte_mbuf *wg_frag_reassemble(struct wg_worker *w, struct rte_mbuf *m,
				    const struct wg_pkt_info *pi);
/* Drop what timed out (at most every 10 ms). */
void wg_frag_expire(struct wg_worker *w, uint64_t now);

/* dp_tx.c: fill in ep's header template (control lcore, before ep is published). */
void wg_peer_ep_template(struct wg_gw *gw, struct wg_peer_ep *ep);

#endif
