/* SPDX-License-Identifier: MIT */
/*
 * The packet half of masquerade (wg_nat.h): which flow an IPv4 packet belongs to, and its
 * rewrite. Every length is checked against the buffer before anything is read at it, and
 * the parse refuses whatever the rewrite could not handle exactly, so the rewrite itself
 * needs no checks: it touches only fields the parse found inside the packet.
 *
 * Checksums (RFC 1624, eq. 3): HC' = ~(~HC + ~m + m'), over the 16-bit words that change,
 * taken as they lie in memory (a one's complement sum does not depend on the byte order).
 * An ICMP error's own checksum covers everything the rewrite changes inside it, so it is
 * verified first and computed afresh after (rte_raw_cksum), which cannot make a corrupt
 * error look good.
 */
#include <string.h>

#include <rte_ip.h>

#include "wg_nat.h"

#define IPV4_MIN   20
#define TCP_MIN    20
#define UDP_LEN    8
#define ICMP_LEN   8
#define PROTO_ICMP 1
#define PROTO_TCP  6
#define PROTO_UDP  17

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t raw16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t raw32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* An IPv4 header at ip in len bytes: its header length and total length, or 0. */
static size_t ipv4_header(const uint8_t *ip, size_t len, size_t *tot)
{
	size_t hl;

	if (len < IPV4_MIN || ip[0] >> 4 != 4)
		return 0;
	hl = (size_t)(ip[0] & 0x0f) * 4;
	*tot = get16(ip + 2);
	if (hl < IPV4_MIN || hl > len || *tot < hl || *tot > len)
		return 0;
	return hl;
}

static bool is_error_type(uint8_t type)
{
	return type == 3 || type == 11 || type == 12;   /* unreachable, time exceeded, param */
}

/* The ports of a TCP or UDP header, or an ICMP query's id, at l4 with `avail` bytes. */
static enum wg_nat_parse_result l4_ports(uint8_t proto, const uint8_t *l4, size_t avail,
					 uint16_t *sport, uint16_t *dport)
{
	if (proto != PROTO_TCP && proto != PROTO_UDP && proto != PROTO_ICMP)
		return WG_NAT_P_UNSUPPORTED;
	if (avail < 8)
		return WG_NAT_P_MALFORMED;
	if (proto == PROTO_ICMP) {
		*sport = raw16(l4 + 4);
		*dport = 0;
	} else {
		*sport = raw16(l4);
		*dport = raw16(l4 + 2);
	}
	return WG_NAT_P_OK;
}

/* The local end is the source going out, the destination coming in. */
static void set_key(struct wg_nat_key *k, enum wg_nat_dir dir, uint8_t proto, uint32_t src,
		    uint32_t dst, uint16_t sport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	k->proto = proto;
	if (dir == WG_NAT_OUT) {
		k->local = src;
		k->remote = dst;
		k->lport = sport;
		k->rport = dport;
	} else {
		k->local = dst;
		k->remote = src;
		k->lport = dport;
		k->rport = sport;
	}
	if (proto == PROTO_ICMP) {           /* a query: its id, whichever way it goes */
		k->lport = sport;
		k->rport = 0;
	}
}

static enum wg_nat_parse_result parse_tcp_udp(struct wg_nat_pkt *np, const uint8_t *l4,
					      size_t avail, uint8_t proto)
{
	if (proto == PROTO_TCP) {
		size_t doff;

		if (avail < TCP_MIN)
			return WG_NAT_P_MALFORMED;
		doff = (size_t)(l4[12] >> 4) * 4;
		if (doff < TCP_MIN || doff > avail)
			return WG_NAT_P_MALFORMED;
		np->kind = WG_NAT_TCP;
		np->tcp_flags = l4[13];
	} else {
		size_t ulen;

		if (avail < UDP_LEN)
			return WG_NAT_P_MALFORMED;
		ulen = get16(l4 + 4);
		if (ulen < UDP_LEN || ulen > avail)
			return WG_NAT_P_MALFORMED;
		np->kind = WG_NAT_UDP;
	}
	return WG_NAT_P_OK;
}

/*
 * An ICMP error: its key is the flow of the packet it quotes, which went the other way. In
 * one coming in, the quoted packet is one we sent out: its source is our address (the
 * error's destination), its source port ours. In one going out (a peer's host reporting
 * on a packet it received from outside), the quoted packet came in to the host: its
 * destination is the error's source.
 */
static enum wg_nat_parse_result parse_error(struct wg_nat_pkt *np, const uint8_t *ip,
					    size_t hl, size_t tot, enum wg_nat_dir dir)
{
	const uint8_t *q = ip + hl + ICMP_LEN;
	size_t qavail = tot - hl - ICMP_LEN, qhl;
	uint16_t sport, dport;
	enum wg_nat_parse_result r;
	uint8_t qproto;

	if (rte_raw_cksum(ip + hl, tot - hl) != 0xffff)
		return WG_NAT_P_MALFORMED;
	/* The quote is usually cut short: its total length may pass the buffer, its header
	 * and the first 8 bytes of its L4 header (RFC 792) may not. */
	if (qavail < IPV4_MIN || q[0] >> 4 != 4)
		return WG_NAT_P_MALFORMED;
	qhl = (size_t)(q[0] & 0x0f) * 4;
	if (qhl < IPV4_MIN || qhl + 8 > qavail || (get16(q + 6) & 0x1fff) != 0)
		return WG_NAT_P_MALFORMED;
	qproto = q[9];
	r = l4_ports(qproto, q + qhl, qavail - qhl, &sport, &dport);
	if (r != WG_NAT_P_OK)
		return r;
	if (qproto == PROTO_ICMP && q[qhl] != (dir == WG_NAT_IN ? 8 : 0))
		return WG_NAT_P_UNSUPPORTED;     /* errors about errors, or about other ICMP */
	/* The quoted packet's local end must be the error's own. */
	if (raw32(dir == WG_NAT_IN ? q + 12 : q + 16) != raw32(dir == WG_NAT_IN ? ip + 16 : ip + 12))
		return WG_NAT_P_MALFORMED;
	set_key(&np->key, dir == WG_NAT_IN ? WG_NAT_OUT : WG_NAT_IN, qproto, raw32(q + 12),
		raw32(q + 16), sport, dport);
	np->kind = WG_NAT_ICMP_ERROR;
	np->q_off = (uint16_t)(hl + ICMP_LEN);
	np->q_l4_off = (uint16_t)(hl + ICMP_LEN + qhl);
	np->q_proto = qproto;
	return WG_NAT_P_OK;
}

enum wg_nat_parse_result wg_nat_parse(struct wg_nat_pkt *np, const uint8_t *ip, size_t len,
				      enum wg_nat_dir dir)
{
	size_t tot, hl = ipv4_header(ip, len, &tot);
	const uint8_t *l4 = ip + hl;
	uint8_t proto;
	uint16_t sport, dport;
	enum wg_nat_parse_result r;

	memset(np, 0, sizeof(*np));
	if (hl == 0)
		return WG_NAT_P_NOT_IPV4;
	if (get16(ip + 6) & 0x3fff)          /* MF or an offset */
		return WG_NAT_P_FRAGMENT;
	proto = ip[9];
	np->len = (uint16_t)tot;
	np->l4_off = (uint16_t)hl;
	r = l4_ports(proto, l4, tot - hl, &sport, &dport);
	if (r != WG_NAT_P_OK)
		return r;
	if (proto != PROTO_ICMP) {
		r = parse_tcp_udp(np, l4, tot - hl, proto);
	} else if (l4[0] == (dir == WG_NAT_OUT ? 8 : 0) && l4[1] == 0) {
		np->kind = WG_NAT_ICMP_QUERY;
	} else if (is_error_type(l4[0])) {
		return parse_error(np, ip, hl, tot, dir);
	} else {
		return WG_NAT_P_UNSUPPORTED;
	}
	if (r != WG_NAT_P_OK)
		return r;
	set_key(&np->key, dir, proto, raw32(ip + 12), raw32(ip + 16), sport, dport);
	return WG_NAT_P_OK;
}

/* ---- the rewrite ---- */

/* The checksum at `field` after n bytes (even) changed from old to new. */
static void csum_replace(uint8_t *field, const uint8_t *old, const uint8_t *new, size_t n)
{
	uint32_t s = (uint16_t)~raw16(field);
	uint16_t v;

	for (size_t i = 0; i < n; i += 2)
		s += (uint16_t)~raw16(old + i) + (uint32_t)raw16(new + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	v = (uint16_t)~s;
	memcpy(field, &v, 2);
}

/* One end of an L4 header: its port (or ICMP id) at port_off, its checksum at csum_off,
 * which covers the pseudo-header's address too unless it is ICMP. UDP's 0 means none. */
static void rewrite_l4(uint8_t *l4, uint8_t proto, size_t port_off, const uint8_t old_addr[4],
		       const uint8_t new_addr[4], uint16_t port, bool has_csum)
{
	size_t csum_off = proto == PROTO_TCP ? 16 : proto == PROTO_UDP ? 6 : 2;
	uint8_t old_port[2];

	memcpy(old_port, l4 + port_off, 2);
	memcpy(l4 + port_off, &port, 2);
	if (!has_csum || (proto == PROTO_UDP && raw16(l4 + 6) == 0))
		return;
	csum_replace(l4 + csum_off, old_port, l4 + port_off, 2);
	if (proto != PROTO_ICMP)
		csum_replace(l4 + csum_off, old_addr, new_addr, 4);
	if (proto == PROTO_UDP && raw16(l4 + 6) == 0)
		memset(l4 + 6, 0xff, 2);     /* RFC 768: a computed zero goes as all ones */
}

/* An address of an IP header (at off: 12 source, 16 destination), its checksum fixed;
 * the old address is left in old[]. */
static void rewrite_addr(uint8_t *hdr, size_t off, uint32_t addr, uint8_t old[4])
{
	memcpy(old, hdr + off, 4);
	memcpy(hdr + off, &addr, 4);
	csum_replace(hdr + 10, old, hdr + off, 4);
}

static void rewrite_error(uint8_t *ip, const struct wg_nat_pkt *np, enum wg_nat_dir dir,
			  uint32_t addr, uint16_t port)
{
	uint8_t *q = ip + np->q_off, *ql4 = ip + np->q_l4_off, old[4], qold[4];
	bool in = dir == WG_NAT_IN;
	size_t port_off = np->q_proto == PROTO_ICMP ? 4 : in ? 0 : 2;
	/* The quoted L4 checksum is updated where the quote holds it. */
	bool has_csum = np->q_proto != PROTO_TCP || np->q_l4_off + 18u <= np->len;
	uint16_t c;

	rewrite_addr(ip, in ? 16 : 12, addr, old);
	rewrite_addr(q, in ? 12 : 16, addr, qold);
	rewrite_l4(ql4, np->q_proto, port_off, qold, q + (in ? 12 : 16), port, has_csum);
	memset(ip + np->l4_off + 2, 0, 2);
	c = (uint16_t)~rte_raw_cksum(ip + np->l4_off, (size_t)np->len - np->l4_off);
	memcpy(ip + np->l4_off + 2, &c, 2);
}

void wg_nat_rewrite(uint8_t *ip, const struct wg_nat_pkt *np, enum wg_nat_dir dir,
		    uint32_t addr, uint16_t port)
{
	uint8_t *l4 = ip + np->l4_off, old[4];
	uint8_t proto = np->kind == WG_NAT_TCP ? PROTO_TCP : np->kind == WG_NAT_UDP ? PROTO_UDP :
			PROTO_ICMP;
	bool out = dir == WG_NAT_OUT;

	if (np->kind == WG_NAT_ICMP_ERROR) {
		rewrite_error(ip, np, dir, addr, port);
		return;
	}
	rewrite_addr(ip, out ? 12 : 16, addr, old);
	rewrite_l4(l4, proto, proto == PROTO_ICMP ? 4 : out ? 0 : 2, old, ip + (out ? 12 : 16),
		   port, true);
}
