/* SPDX-License-Identifier: MIT */
/*
 * Masquerade (docs/nat.md) in one process (lib/sim), the LAN host standing for the
 * internet:
 *
 *   translate    UDP, TCP and ICMP echo from clients leave with the gateway's LAN address
 *                and a port of the range, every checksum right; the replies come back to
 *                the right client with its own address and port
 *   timeouts     a UDP flow idle past its timeout expires (counted), its late reply is a
 *                miss (NAT_NO_FLOW); a TCP flow that saw both FINs is freed by the
 *                transitory timeout, an established one is not
 *   exhaustion   a port range of 10 ports holds 10 flows to one remote end; the 11th is
 *                refused (NAT_PORTS_EXHAUSTED) and a flow to another remote end is not
 *   full table   past max_flows, new flows are refused (NAT_TABLE_FULL), old ones work
 *   flood        one client opening thousands of flows is held at max_flows_per_source
 *                (NAT_SOURCE_LIMIT); the table stays bounded and another client still
 *                opens flows and gets its replies
 *   icmp errors  fragmentation needed and port unreachable about a translated flow reach
 *                the client translated (the quoted packet too, the MTU kept, checksums
 *                right); one about no flow is dropped and counted
 *   rules        a peer under a set of destination rules: allowed UDP passes, ICMP and
 *                another port are refused (DST_REFUSED)
 *   table        the flow table alone: the listen port is never a UDP flow's outside
 *                port (a one-armed port would take its replies for WireGuard)
 *   workers      with two workers, a flow's packets arriving on the worker that does not
 *                own it are handed to the owner and translated all the same
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "check.h"
#include "gw_nat.h"
#include "wg_nat.h"
#include "wg_sim.h"
#include "wg_wire.h"

#define GW_LAN4 0x0a3c0001u   /* 10.60.0.1 */
#define HOST4   0x0a3c000au   /* 10.60.0.10 */
#define OTHER4  0x0a3c000bu   /* 10.60.0.11, a host the rules do not allow */

/* ---- packets ---- */

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint32_t tunnel4(unsigned k)
{
	struct wg_ip ip = wg_sim_client_tunnel_ip(k, WG_AF_INET);
	uint32_t a;

	memcpy(&a, ip.addr, 4);
	return rte_be_to_cpu_32(a);
}

/* An IPv4 packet: TCP (flags), UDP or ICMP echo (type; id in sport), payload of plen. */
static size_t build(uint8_t *b, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport,
		    uint16_t dport, uint8_t flags_or_type, size_t plen)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;
	uint8_t *l4 = b + sizeof(*ip);
	size_t l4len = (proto == 6 ? 20 : 8) + plen;

	memset(b, 0, sizeof(*ip) + l4len);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4len));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	for (size_t i = 0; i < plen; i++)
		l4[l4len - plen + i] = (uint8_t)(i * 7 + sport);
	if (proto == 1) {
		l4[0] = flags_or_type;
		wr16(l4 + 4, rte_cpu_to_be_16(sport));
		wr16(l4 + 6, rte_cpu_to_be_16(dport));
		wr16(l4 + 2, (uint16_t)~rte_raw_cksum(l4, l4len));
	} else {
		wr16(l4, rte_cpu_to_be_16(sport));
		wr16(l4 + 2, rte_cpu_to_be_16(dport));
		if (proto == 6) {
			l4[12] = 0x50;
			l4[13] = flags_or_type;
			wr16(l4 + 14, rte_cpu_to_be_16(65535));
			wr16(l4 + 16, rte_ipv4_udptcp_cksum(ip, l4));
		} else {
			wr16(l4 + 4, rte_cpu_to_be_16((uint16_t)l4len));
			wr16(l4 + 6, rte_ipv4_udptcp_cksum(ip, l4));
		}
	}
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return sizeof(*ip) + l4len;
}

/* Every checksum of an IPv4 TCP/UDP/ICMP packet verifies. */
static bool sums_ok(const uint8_t *b, size_t len)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)b;
	const uint8_t *l4 = b + 20;

	if (len < 28 || rte_raw_cksum(b, 20) != 0xffff)
		return false;
	if (ip->next_proto_id == 1)
		return rte_raw_cksum(l4, len - 20) == 0xffff;
	uint32_t sum = rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(l4, len - 20);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

struct seen {
	uint32_t src, dst;
	uint16_t sport, dport;    /* ICMP: the id in sport */
	uint8_t proto;
	bool sums;
	uint8_t pkt[256];         /* the first bytes */
	size_t len;
};

static void parse_seen(struct seen *o, const uint8_t *b, size_t len)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)b;

	memset(o, 0, sizeof(*o));
	o->src = rte_be_to_cpu_32(ip->src_addr);
	o->dst = rte_be_to_cpu_32(ip->dst_addr);
	o->proto = ip->next_proto_id;
	o->sport = rte_be_to_cpu_16(rd16(b + (o->proto == 1 ? 24 : 20)));
	o->dport = o->proto == 1 ? 0 : rte_be_to_cpu_16(rd16(b + 22));
	o->sums = sums_ok(b, len);
	o->len = len < sizeof(o->pkt) ? len : sizeof(o->pkt);
	memcpy(o->pkt, b, o->len);
}

/* ---- the world ---- */

struct world {
	struct wg_sim *s;
	struct wg_gw *gw;
};

static bool world_up(struct world *w, unsigned clients, unsigned workers,
		     const struct wg_config_nat *lim, const char *range)
{
	struct wg_sim_params p = { .n_clients = clients, .n_workers = workers };
	struct wg_config_masq m = { .enabled = true };
	char err[256];

	w->s = wg_sim_create(&p, err, sizeof(err));
	if (!CHECK(w->s != NULL)) {
		fprintf(stderr, "  %s\n", err);
		return false;
	}
	w->gw = wg_sim_gw(w->s);
	if (range && sscanf(range, "%hu-%hu", &m.port_min, &m.port_max) != 2)
		return false;
	if (lim && !CHECK(wg_gw_nat_set_limits(w->gw, lim, false, err, sizeof(err)) == 0))
		fprintf(stderr, "  %s\n", err);
	if (!CHECK(wg_gw_masquerade(w->gw, "lan", &m, false, err, sizeof(err)) == 0)) {
		fprintf(stderr, "  %s\n", err);
		return false;
	}
	return CHECK_EQ(wg_sim_handshake_all(w->s), clients);
}

static void world_down(struct world *w)
{
	wg_sim_destroy(w->s);
}

/* Client k sends the packet; up to max of what left on the LAN are parsed into out. */
static unsigned send_out(struct world *w, unsigned k, const uint8_t *b, size_t len,
			 struct seen *out, unsigned max)
{
	struct rte_mbuf *m = wg_sim_client_data_frame(w->s, k, b, len), *got[64];
	unsigned n, seen = 0;

	if (m == NULL || wg_sim_inject(w->s, WG_SIM_WAN, &m, 1) != 1)
		return 0;
	wg_sim_run(w->s, 4);
	while ((n = wg_sim_collect(w->s, WG_SIM_LAN, got, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *ip;
			size_t l;

			if (wg_sim_lan_receive(w->s, got[i], &ip, &l) && seen < max)
				parse_seen(&out[seen++], ip, l);
		}
		wg_sim_free(got, n);
	}
	wg_sim_discard(w->s);
	return seen;
}

/* The LAN host sends the packet (on RX queue q); what reached clients, parsed. */
static unsigned send_in_q(struct world *w, unsigned q, const uint8_t *b, size_t len,
			  struct seen *out, unsigned *client, unsigned max)
{
	struct rte_mbuf *m = wg_sim_lan_frame(w->s, b, len), *got[64];
	unsigned n, seen = 0;

	if (m == NULL || wg_sim_inject_queue(w->s, WG_SIM_LAN, q, &m, 1) != 1)
		return 0;
	wg_sim_run(w->s, 4);
	while ((n = wg_sim_collect(w->s, WG_SIM_WAN, got, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			static struct wg_sim_rx rx;

			if (wg_sim_client_receive(w->s, got[i], &rx) == WG_SIM_RX_OK && rx.len &&
			    seen < max) {
				if (client)
					client[seen] = rx.client;
				parse_seen(&out[seen++], rx.data, rx.len);
			}
		}
		wg_sim_free(got, n);
	}
	wg_sim_discard(w->s);
	return seen;
}

static unsigned send_in(struct world *w, const uint8_t *b, size_t len, struct seen *out,
			unsigned *client, unsigned max)
{
	return send_in_q(w, 0, b, len, out, client, max);
}

static struct wg_gw_stats stats(struct world *w)
{
	struct wg_gw_stats st;

	wg_sim_stats(w->s, &st);
	return st;
}

/* A UDP flow from client k's sport to dst:dport; the outside port it got (0: none). */
static uint16_t udp_flow(struct world *w, unsigned k, uint16_t sport, uint32_t dst,
			 uint16_t dport)
{
	uint8_t b[128];
	struct seen o;
	size_t len = build(b, 17, tunnel4(k), dst, sport, dport, 0, 16);

	return send_out(w, k, b, len, &o, 1) == 1 && o.src == GW_LAN4 ? o.sport : 0;
}

/* The answer to it comes back to client k's sport? */
static bool udp_answer(struct world *w, unsigned k, uint16_t outside, uint16_t sport,
		       uint32_t from, uint16_t dport)
{
	uint8_t b[128];
	struct seen o;
	unsigned c = ~0u;
	size_t len = build(b, 17, from, GW_LAN4, dport, outside, 0, 24);

	return send_in(w, b, len, &o, &c, 1) == 1 && c == k && o.dst == tunnel4(k) &&
	       o.dport == sport && o.src == from && o.sums;
}

/* ---- the scenarios ---- */

static void test_translate(void)
{
	struct world w;
	uint8_t b[256];
	struct seen o, r;
	unsigned c;
	size_t len;

	if (!world_up(&w, 3, 0, NULL, NULL))
		return;
	/* UDP, TCP and an echo request from client 1, each translated. */
	len = build(b, 17, tunnel4(1), HOST4, 40000, 53, 0, 30);
	CHECK_EQ(send_out(&w, 1, b, len, &o, 1), 1);
	CHECK_EQ(o.src, GW_LAN4);
	CHECK_EQ(o.dst, HOST4);
	CHECK(o.sport >= 1024);
	CHECK_EQ(o.dport, 53);
	CHECK(o.sums);
	len = build(b, 17, HOST4, GW_LAN4, 53, o.sport, 0, 40);
	CHECK_EQ(send_in(&w, b, len, &r, &c, 1), 1);
	CHECK_EQ(c, 1);
	CHECK_EQ(r.dst, tunnel4(1));
	CHECK_EQ(r.dport, 40000);
	CHECK(r.sums);

	len = build(b, 6, tunnel4(1), HOST4, 41000, 443, WG_NAT_TCP_SYN, 0);
	CHECK_EQ(send_out(&w, 1, b, len, &o, 1), 1);
	CHECK(o.src == GW_LAN4 && o.dport == 443 && o.sums && o.sport >= 1024);
	len = build(b, 6, HOST4, GW_LAN4, 443, o.sport, WG_NAT_TCP_SYN | WG_NAT_TCP_ACK, 0);
	CHECK_EQ(send_in(&w, b, len, &r, &c, 1), 1);
	CHECK(c == 1 && r.dst == tunnel4(1) && r.dport == 41000 && r.sums);

	len = build(b, 1, tunnel4(2), HOST4, 777, 1, 8, 56);
	CHECK_EQ(send_out(&w, 2, b, len, &o, 1), 1);
	CHECK(o.src == GW_LAN4 && o.proto == 1 && o.sums);
	len = build(b, 1, HOST4, GW_LAN4, o.sport, 1, 0, 56);
	CHECK_EQ(send_in(&w, b, len, &r, &c, 1), 1);
	CHECK(c == 2 && r.dst == tunnel4(2) && r.sport == 777 && r.sums);

	/* The same inside port of two clients: two flows, two outside ports. */
	uint16_t p0 = udp_flow(&w, 0, 5000, HOST4, 53), p2 = udp_flow(&w, 2, 5000, HOST4, 53);
	CHECK(p0 && p2 && p0 != p2);
	CHECK(udp_answer(&w, 0, p0, 5000, HOST4, 53));
	CHECK(udp_answer(&w, 2, p2, 5000, HOST4, 53));
	/* A datagram to the masquerade address of no flow goes nowhere, counted. */
	uint64_t miss = stats(&w).nat.misses;
	len = build(b, 17, HOST4, GW_LAN4, 9, 60000, 0, 8);
	CHECK_EQ(send_in(&w, b, len, &r, &c, 1), 0);
	CHECK_EQ(stats(&w).nat.misses, miss + 1);
	struct wg_gw_stats st = stats(&w);
	CHECK_EQ(st.nat.flows, 5);
	CHECK_EQ(st.nat.created, 5);
	CHECK(st.nat.translated_out >= 5 && st.nat.translated_in >= 5);
	world_down(&w);
}

static void expire_all(struct world *w, uint64_t ns)
{
	wg_sim_advance(w->s, ns);
	wg_sim_run(w->s, 2048);      /* the sweep looks at 64 slots a poll */
}

static void test_timeouts(void)
{
	struct wg_config_nat lim = { .max_flows = 1024, .udp = 30, .tcp_transitory = 60,
				     .tcp_established = 600 };
	struct world w;
	uint8_t b[128];
	struct seen o;
	size_t len;

	if (!world_up(&w, 1, 0, &lim, NULL))
		return;
	uint16_t p = udp_flow(&w, 0, 6000, HOST4, 53);
	CHECK(p != 0);
	expire_all(&w, 10 * WG_NSEC_PER_SEC);
	CHECK_EQ(stats(&w).nat.flows, 1);          /* 10 s idle: kept */
	CHECK(udp_answer(&w, 0, p, 6000, HOST4, 53));
	expire_all(&w, 31 * WG_NSEC_PER_SEC);
	CHECK_EQ(stats(&w).nat.flows, 0);          /* 31 s idle: past udp = 30 */
	CHECK_EQ(stats(&w).nat.expired, 1);
	uint64_t miss = stats(&w).nat.misses;
	CHECK(!udp_answer(&w, 0, p, 6000, HOST4, 53));
	CHECK_EQ(stats(&w).nat.misses, miss + 1);

	/* TCP: one established, one closed by both FINs. */
	uint16_t est, fin;
	len = build(b, 6, tunnel4(0), HOST4, 7000, 80, WG_NAT_TCP_SYN, 0);
	CHECK_EQ(send_out(&w, 0, b, len, &o, 1), 1);
	est = o.sport;
	len = build(b, 6, HOST4, GW_LAN4, 80, est, WG_NAT_TCP_SYN | WG_NAT_TCP_ACK, 0);
	CHECK_EQ(send_in(&w, b, len, &o, NULL, 1), 1);
	len = build(b, 6, tunnel4(0), HOST4, 7000, 80, WG_NAT_TCP_ACK, 0);
	CHECK_EQ(send_out(&w, 0, b, len, &o, 1), 1);
	len = build(b, 6, tunnel4(0), HOST4, 7001, 80, WG_NAT_TCP_SYN, 0);
	CHECK_EQ(send_out(&w, 0, b, len, &o, 1), 1);
	fin = o.sport;
	len = build(b, 6, HOST4, GW_LAN4, 80, fin, WG_NAT_TCP_SYN | WG_NAT_TCP_ACK, 0);
	CHECK_EQ(send_in(&w, b, len, &o, NULL, 1), 1);
	len = build(b, 6, tunnel4(0), HOST4, 7001, 80, WG_NAT_TCP_ACK | WG_NAT_TCP_FIN, 0);
	CHECK_EQ(send_out(&w, 0, b, len, &o, 1), 1);
	len = build(b, 6, HOST4, GW_LAN4, 80, fin, WG_NAT_TCP_ACK | WG_NAT_TCP_FIN, 0);
	CHECK_EQ(send_in(&w, b, len, &o, NULL, 1), 1);
	CHECK_EQ(stats(&w).nat.flows, 2);
	expire_all(&w, 120 * WG_NSEC_PER_SEC);     /* past transitory, not established */
	CHECK_EQ(stats(&w).nat.flows, 1);
	len = build(b, 6, HOST4, GW_LAN4, 80, est, WG_NAT_TCP_ACK, 4);
	CHECK_EQ(send_in(&w, b, len, &o, NULL, 1), 1);
	expire_all(&w, 601 * WG_NSEC_PER_SEC);
	CHECK_EQ(stats(&w).nat.flows, 0);
	CHECK_EQ(stats(&w).nat.expired, 3);
	world_down(&w);
}

static void test_exhaustion(void)
{
	struct world w;
	unsigned ok = 0;

	if (!world_up(&w, 1, 0, NULL, "2000-2009"))
		return;
	for (uint16_t i = 0; i < 11; i++) {
		uint16_t p = udp_flow(&w, 0, (uint16_t)(8000 + i), HOST4, 53);

		ok += p >= 2000 && p <= 2009;
	}
	CHECK_EQ(ok, 10);
	struct wg_gw_stats st = stats(&w);
	CHECK_EQ(st.nat.ports_exhausted, 1);
	CHECK_EQ(st.drops[WG_DROP_NAT_PORTS_EXHAUSTED], 1);
	CHECK_EQ(st.nat.flows, 10);
	/* Ports are per remote end: another one still gets flows. */
	CHECK(udp_flow(&w, 0, 9000, HOST4, 54) != 0);
	world_down(&w);
}

static void test_full(void)
{
	struct wg_config_nat lim = { .max_flows = 64, .max_flows_per_source = 64 };
	struct world w;
	unsigned ok = 0;
	uint16_t first;

	if (!world_up(&w, 2, 0, &lim, NULL))
		return;
	first = udp_flow(&w, 1, 100, HOST4, 53);
	CHECK(first != 0);
	for (uint16_t i = 0; i < 70; i++)
		ok += udp_flow(&w, 0, (uint16_t)(1000 + i), HOST4, 53) != 0;
	CHECK_EQ(ok, 63);
	struct wg_gw_stats st = stats(&w);
	CHECK_EQ(st.nat.flows, 64);
	CHECK_EQ(st.nat.table_full, 7);
	CHECK_EQ(st.drops[WG_DROP_NAT_TABLE_FULL], 7);
	CHECK(udp_answer(&w, 1, first, 100, HOST4, 53));   /* flows held still work */
	world_down(&w);
}

static void test_flood(void)
{
	struct wg_config_nat lim = { .max_flows = 1024, .max_flows_per_source = 32 };
	struct world w;
	unsigned ok = 0, answered = 0;

	if (!world_up(&w, 2, 0, &lim, NULL))
		return;
	/* Client 0 sprays new flows in bursts, as a port scan or a torrent client would. */
	for (unsigned burst = 0; burst < 40; burst++) {
		struct rte_mbuf *m[50];
		unsigned n = 0;

		for (unsigned i = 0; i < 50; i++) {
			uint8_t b[128];
			size_t len = build(b, 17, tunnel4(0), HOST4 + 1 + (burst * 50 + i) % 200,
					   (uint16_t)(10000 + burst * 50 + i), 53, 0, 8);

			if ((m[n] = wg_sim_client_data_frame(w.s, 0, b, len)) != NULL)
				n++;
		}
		wg_sim_inject(w.s, WG_SIM_WAN, m, n);
		wg_sim_run(w.s, 8);
		wg_sim_discard(w.s);
	}
	struct wg_gw_stats st = stats(&w);
	CHECK_EQ(st.nat.flows, 32);
	CHECK(st.nat.source_limit >= 1900);
	CHECK_EQ(st.drops[WG_DROP_NAT_SOURCE_LIMIT], st.nat.source_limit);
	/* Client 1 is not hurt. */
	for (uint16_t i = 0; i < 20; i++) {
		uint16_t p = udp_flow(&w, 1, (uint16_t)(20000 + i), HOST4, 53);

		ok += p != 0;
		answered += p && udp_answer(&w, 1, p, (uint16_t)(20000 + i), HOST4, 53);
	}
	CHECK_EQ(ok, 20);
	CHECK_EQ(answered, 20);
	CHECK_EQ(stats(&w).nat.flows, 52);
	world_down(&w);
}

/* An ICMP error from `from` about the packet q (as the gateway sent it out). */
static size_t icmp_error(uint8_t *b, uint32_t from, uint8_t type, uint8_t code, uint16_t mtu,
			 const uint8_t *q, size_t qlen)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;
	uint8_t *l4 = b + 20;
	size_t len = 20 + 8 + qlen;

	memset(b, 0, 28);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)len);
	ip->time_to_live = 64;
	ip->next_proto_id = 1;
	ip->src_addr = rte_cpu_to_be_32(from);
	ip->dst_addr = rte_cpu_to_be_32(GW_LAN4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	l4[0] = type;
	l4[1] = code;
	wr16(l4 + 6, rte_cpu_to_be_16(mtu));
	memcpy(l4 + 8, q, qlen);
	wr16(l4 + 2, (uint16_t)~rte_raw_cksum(l4, len - 20));
	return len;
}

static void check_error_back(struct world *w, unsigned k, const struct seen *sent,
			     uint16_t inside_port, uint8_t code, size_t qlen)
{
	uint8_t b[512];
	struct seen r;
	unsigned c = ~0u;
	size_t len = icmp_error(b, HOST4, 3, code, code == 4 ? 1280 : 0, sent->pkt, qlen);

	if (!CHECK_EQ(send_in(w, b, len, &r, &c, 1), 1))
		return;
	const uint8_t *q = r.pkt + 28;
	CHECK_EQ(c, k);
	CHECK_EQ(r.proto, 1);
	CHECK_EQ(r.dst, tunnel4(k));
	CHECK_EQ(r.pkt[20], 3);
	CHECK_EQ(r.pkt[21], code);
	CHECK_EQ(rte_be_to_cpu_16(rd16(r.pkt + 26)), code == 4 ? 1280 : 0);
	CHECK(r.sums);                                          /* IP and ICMP */
	CHECK_EQ(rte_be_to_cpu_32(rd32(q + 12)), tunnel4(k));
	CHECK_EQ(rte_be_to_cpu_16(rd16(q + 20)), inside_port);
	CHECK_EQ(rte_raw_cksum(q, 20), 0xffff);                 /* the quoted header's */
}

static void test_icmp_errors(void)
{
	struct world w;
	uint8_t b[1500];
	struct seen o;
	size_t len;

	if (!world_up(&w, 2, 0, NULL, NULL))
		return;
	/* A large datagram with DF: fragmentation needed quotes its first 28 bytes. */
	len = build(b, 17, tunnel4(1), HOST4, 33000, 4000, 0, 1300);
	CHECK_EQ(send_out(&w, 1, b, len, &o, 1), 1);
	check_error_back(&w, 1, &o, 33000, 4, 28);
	/* Port unreachable, quoting the whole datagram (as Linux does, up to 576 bytes). */
	len = build(b, 17, tunnel4(1), HOST4, 33001, 4001, 0, 100);
	CHECK_EQ(send_out(&w, 1, b, len, &o, 1), 1);
	check_error_back(&w, 1, &o, 33001, 3, o.len);
	/* A TCP segment's error, quoting only 8 bytes of TCP (no checksum field). */
	len = build(b, 6, tunnel4(0), HOST4, 34000, 4002, WG_NAT_TCP_SYN, 0);
	CHECK_EQ(send_out(&w, 0, b, len, &o, 1), 1);
	check_error_back(&w, 0, &o, 34000, 4, 28);
	/* About no flow: dropped, counted. An error with a bad checksum: dropped. */
	uint8_t fake[28];
	struct seen r;
	memcpy(fake, o.pkt, 28);
	fake[20] ^= 0x55;                          /* another outside port */
	len = icmp_error(b, HOST4, 3, 3, 0, fake, 28);
	uint64_t miss = stats(&w).nat.misses;
	CHECK_EQ(send_in(&w, b, len, &r, NULL, 1), 0);
	CHECK_EQ(stats(&w).nat.misses, miss + 1);
	len = icmp_error(b, HOST4, 3, 3, 0, o.pkt, 28);
	b[30] ^= 1;
	uint64_t bad = stats(&w).drops[WG_DROP_NAT_MALFORMED];
	CHECK_EQ(send_in(&w, b, len, &r, NULL, 1), 0);
	CHECK_EQ(stats(&w).drops[WG_DROP_NAT_MALFORMED], bad + 1);
	world_down(&w);
}

static void test_rules(void)
{
	struct world w;
	struct wg_dstrule r;
	uint8_t key[32], b[128];
	char why[128];
	struct seen o;
	size_t len;

	if (!world_up(&w, 2, 0, NULL, NULL))
		return;
	CHECK_EQ(wg_dstrule_parse(&r, "10.60.0.10 udp 53", 17, why, sizeof(why)), 0);
	CHECK_EQ(wg_gw_rule_set(w.gw, "dns", &r, 1, false, why, sizeof(why)), 0);
	wg_sim_client_public_key(w.s, 1, key);
	CHECK_EQ(wg_gw_peer_rule_set(w.gw, key, "dns", false, why, sizeof(why)), 0);
	CHECK(udp_flow(&w, 1, 1000, HOST4, 53) != 0);          /* allowed */
	CHECK(udp_flow(&w, 1, 1001, HOST4, 54) == 0);          /* another port */
	len = build(b, 1, tunnel4(1), HOST4, 9, 1, 8, 8);
	CHECK_EQ(send_out(&w, 1, b, len, &o, 1), 0);           /* ICMP */
	CHECK(udp_flow(&w, 1, 1002, OTHER4, 53) == 0);         /* another host */
	CHECK_EQ(stats(&w).drops[WG_DROP_DST_REFUSED], 3);
	CHECK(udp_flow(&w, 0, 1003, HOST4, 54) != 0);          /* client 0: under no set */
	CHECK_EQ(wg_gw_peer_rule_set(w.gw, key, NULL, false, why, sizeof(why)), 0);
	CHECK(udp_flow(&w, 1, 1004, HOST4, 54) != 0);          /* released */
	world_down(&w);
}

static void test_table(void)
{
	struct wg_nat_table_params tp = { .name = "tnat", .capacity = 64, .socket = SOCKET_ID_ANY };
	struct wg_nat_table *t = wg_nat_table_create(&tp);
	struct wg_nat_key k = { .local = 1, .remote = 2, .lport = 3, .rport = 4, .proto = 17 };
	uint16_t listen = rte_cpu_to_be_16(51820);
	int32_t idx;

	if (!CHECK(t != NULL))
		return;
	CHECK_EQ(wg_nat_create(t, &k, 9, 51820, 51820, listen, 64, 0, 0, &idx),
		 WG_NAT_C_PORTS_EXHAUSTED);
	CHECK_EQ(wg_nat_create(t, &k, 9, 51819, 51820, listen, 64, 0, 0, &idx), WG_NAT_C_OK);
	CHECK_EQ(wg_nat_flow(t, idx)->outside_port, rte_cpu_to_be_16(51819));
	k.proto = 6;                                 /* TCP may have it */
	CHECK_EQ(wg_nat_create(t, &k, 9, 51820, 51820, listen, 64, 0, 0, &idx), WG_NAT_C_OK);
	CHECK_EQ(wg_nat_count(t), 2);
	CHECK_EQ(wg_nat_counters(t)->ports_exhausted, 1);
	wg_nat_table_free(t);
}

static void test_workers(void)
{
	struct world w;
	unsigned ok = 0;

	if (!world_up(&w, 4, 2, NULL, NULL))
		return;
	/* Replies arrive on both queues, whoever owns the flow. */
	for (unsigned k = 0; k < 4; k++)
		for (uint16_t i = 0; i < 4; i++) {
			uint16_t p = udp_flow(&w, k, (uint16_t)(3000 + i), HOST4, 53);
			uint8_t b[128];
			struct seen r;
			unsigned c = ~0u;
			size_t len = build(b, 17, HOST4, GW_LAN4, 53, p, 0, 24);

			ok += p && send_in_q(&w, i % 2, b, len, &r, &c, 1) == 1 && c == k &&
			      r.dport == 3000 + i && r.sums;
		}
	CHECK_EQ(ok, 16);
	struct wg_gw_stats st = stats(&w);
	CHECK_EQ(st.nat.flows, 16);
	CHECK(st.nat.handed_off > 0);
	world_down(&w);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (wg_sim_eal_init(argv[0], 512, 0) != 0)
		return 1;
	test_translate();
	test_timeouts();
	test_exhaustion();
	test_full();
	test_flood();
	test_icmp_errors();
	test_rules();
	test_table();
	test_workers();
	wg_sim_eal_cleanup();
	return check_report("test_nat");
}
