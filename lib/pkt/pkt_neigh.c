/* SPDX-License-Identifier: MIT */
/*
 * Neighbours: ARP (RFC 826) for IPv4 and neighbour solicitation / advertisement (RFC 4861)
 * for IPv6, parsed strictly and built whole, since no kernel stack behind a DPDK port does
 * either for the gateway.
 */
#include "pkt_priv.h"

#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST  1
#define ARP_OP_REPLY    2

#define ND_OPT_SRC_LL   1
#define ND_OPT_TGT_LL   2
#define ND_HLEN         24       /* type, code, checksum, flags, target */
#define ND_LEN          (ND_HLEN + 8)
#define NA_ROUTER       0x80
#define NA_SOLICITED    0x40
#define NA_OVERRIDE     0x20

void wg_pkt_write_eth(uint8_t *out, const uint8_t dst[6], const uint8_t src[6],
		      uint16_t ethertype)
{
	memcpy(out, dst, WG_ETH_ALEN);
	memcpy(out + 6, src, WG_ETH_ALEN);
	put16(out + 12, ethertype);
}

int wg_pkt_parse_arp(struct wg_arp *a, const uint8_t *frame, size_t len)
{
	const uint8_t *p = frame + WG_ETH_HLEN;

	memset(a, 0, sizeof(*a));
	if (len < WG_ETH_HLEN + ARP_LEN)
		return WG_PKT_TRUNCATED;
	if (get16(frame + 12) != WG_ETHERTYPE_ARP)
		return WG_PKT_UNSUPPORTED;
	if (get16(p) != ARP_HTYPE_ETHER || get16(p + 2) != WG_ETHERTYPE_IPV4 ||
	    p[4] != WG_ETH_ALEN || p[5] != 4)
		return WG_PKT_UNSUPPORTED;
	a->op = get16(p + 6);
	if (a->op != ARP_OP_REQUEST && a->op != ARP_OP_REPLY)
		return WG_PKT_UNSUPPORTED;
	/* A group sender MAC would have us answer, and later send, to a multicast address. */
	if (mac_is_group(p + 8))
		return WG_PKT_BAD_ADDRESS;
	memcpy(a->sha, p + 8, 6);
	memcpy(a->spa, p + 14, 4);
	memcpy(a->tha, p + 18, 6);
	memcpy(a->tpa, p + 24, 4);
	return 0;
}

static size_t build_arp(uint8_t *out, size_t cap, const uint8_t *eth_dst,
			const struct wg_arp *a)
{
	uint8_t *p = out + WG_ETH_HLEN;

	if (cap < WG_ARP_FRAME_LEN)
		return 0;
	memset(out, 0, WG_ARP_FRAME_LEN);
	wg_pkt_write_eth(out, eth_dst, a->sha, WG_ETHERTYPE_ARP);
	put16(p, ARP_HTYPE_ETHER);
	put16(p + 2, WG_ETHERTYPE_IPV4);
	p[4] = WG_ETH_ALEN;
	p[5] = 4;
	put16(p + 6, a->op);
	memcpy(p + 8, a->sha, 6);
	memcpy(p + 14, a->spa, 4);
	memcpy(p + 18, a->tha, 6);
	memcpy(p + 24, a->tpa, 4);
	return WG_ARP_FRAME_LEN;
}

size_t wg_pkt_build_arp_request(uint8_t *out, size_t cap, const uint8_t my_mac[6],
				const uint8_t my_ip[4], const uint8_t target_ip[4])
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct wg_arp a = { .op = ARP_OP_REQUEST };

	memcpy(a.sha, my_mac, 6);
	memcpy(a.spa, my_ip, 4);
	memcpy(a.tpa, target_ip, 4);     /* tha stays zero: unknown, as Linux sends it */
	return build_arp(out, cap, broadcast, &a);
}

size_t wg_pkt_build_arp_reply(uint8_t *out, size_t cap, const uint8_t my_mac[6],
			      const uint8_t my_ip[4], const uint8_t to_mac[6],
			      const uint8_t to_ip[4])
{
	struct wg_arp a = { .op = ARP_OP_REPLY };

	memcpy(a.sha, my_mac, 6);
	memcpy(a.spa, my_ip, 4);
	memcpy(a.tha, to_mac, 6);
	memcpy(a.tpa, to_ip, 4);
	return build_arp(out, cap, to_mac, &a);
}

/* The options of an NS or NA: only the LL address option matters here, and must be 8
 * bytes on Ethernet (RFC 2464 8); a zero length would loop forever, so it is refused. */
static int parse_opts(struct wg_nd *nd, const uint8_t *o, size_t len)
{
	uint8_t want = nd->type == WG_ND_NS ? ND_OPT_SRC_LL : ND_OPT_TGT_LL;

	while (len > 0) {
		size_t olen;

		if (len < 2)
			return WG_PKT_BAD_OPTION;
		olen = (size_t)o[1] * 8;
		if (olen == 0 || olen > len)
			return WG_PKT_BAD_OPTION;
		if (o[0] == want) {
			if (olen != 8)
				return WG_PKT_BAD_OPTION;
			nd->has_lladdr = true;
			memcpy(nd->lladdr, o + 2, 6);
		}
		o += olen;
		len -= olen;
	}
	return 0;
}

static bool is_solicited_node(const uint8_t *a)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* RFC 4861 7.1.1 and 7.1.2, beyond what the message layout already checked. */
static int check_nd(const struct wg_nd *nd, const struct wg_pkt_info *pi)
{
	const uint8_t *src = pi->src.addr, *dst = pi->dst.addr;

	if (ip6_is_multicast(nd->target.addr) || ip6_is_multicast(src))
		return WG_PKT_BAD_ADDRESS;
	if (nd->type == WG_ND_NA) {
		if (ip6_is_unspecified(src))
			return WG_PKT_BAD_ADDRESS;
		return ip6_is_multicast(dst) && nd->solicited ? WG_PKT_BAD_ICMP : 0;
	}
	if (!ip6_is_unspecified(src))
		return 0;
	/* A DAD probe: it has no address to be answered at, so no LL option either. */
	if (!is_solicited_node(dst))
		return WG_PKT_BAD_ADDRESS;
	return nd->has_lladdr ? WG_PKT_BAD_OPTION : 0;
}

/* The ND message of a parsed frame: type first, so other ICMPv6 is UNSUPPORTED. */
static int check_icmp(const struct wg_pkt_info *pi, const uint8_t *icmp, size_t ilen)
{
	if (pi->family != WG_AF_INET6 || pi->proto != WG_IPPROTO_ICMPV6 || ilen < 1)
		return WG_PKT_UNSUPPORTED;
	if (icmp[0] != WG_ND_NS && icmp[0] != WG_ND_NA)
		return WG_PKT_UNSUPPORTED;
	/* RFC 6980: ND is never fragmented; reassembly is what an attacker would hide in. */
	if (pi->fragment)
		return WG_PKT_UNSUPPORTED;
	/* 255 proves the sender is on-link: a router would have decremented it. */
	if (pi->ttl != 255)
		return WG_PKT_BAD_HOP_LIMIT;
	if (ilen < ND_HLEN || icmp[1] != 0)
		return WG_PKT_BAD_ICMP;
	if (wg_csum_l4(&pi->src, &pi->dst, WG_IPPROTO_ICMPV6, icmp, ilen) != 0)
		return WG_PKT_BAD_CHECKSUM;
	return 0;
}

int wg_pkt_parse_nd(struct wg_nd *nd, const uint8_t *frame, size_t len)
{
	struct wg_pkt_info pi;
	const uint8_t *icmp;
	size_t ilen;
	int err;

	memset(nd, 0, sizeof(*nd));
	err = wg_pkt_parse_frame(&pi, frame, len);
	if (err)
		return err;
	icmp = frame + pi.l4_off;
	ilen = (size_t)pi.l3_off + pi.l3_len - pi.l4_off;
	err = check_icmp(&pi, icmp, ilen);
	if (err)
		return err;
	nd->type = icmp[0];
	ip_set(&nd->target, WG_AF_INET6, icmp + 8);
	if (nd->type == WG_ND_NA) {
		nd->router = icmp[4] & NA_ROUTER;
		nd->solicited = icmp[4] & NA_SOLICITED;
		nd->override_flag = icmp[4] & NA_OVERRIDE;
	}
	nd->src = pi.src;
	memcpy(nd->src_mac, frame + 6, 6);
	err = parse_opts(nd, icmp + ND_HLEN, ilen - ND_HLEN);
	return err ? err : check_nd(nd, &pi);
}

/* One NS or NA frame with our LL address option, from nd->src to dst. */
static size_t build_nd(uint8_t *out, const uint8_t *eth_dst, const struct wg_nd *nd,
		       const struct wg_ip *dst)
{
	uint8_t *ip = out + WG_ETH_HLEN, *icmp = ip + WG_IPV6_HLEN;
	uint8_t flags = (uint8_t)((nd->router ? NA_ROUTER : 0) |
				  (nd->solicited ? NA_SOLICITED : 0) |
				  (nd->override_flag ? NA_OVERRIDE : 0));

	memset(out, 0, WG_ND_FRAME_LEN);
	wg_pkt_write_eth(out, eth_dst, nd->lladdr, WG_ETHERTYPE_IPV6);
	ip6_write(ip, ND_LEN, WG_IPPROTO_ICMPV6, 255, nd->src.addr, dst->addr);
	icmp[0] = nd->type;
	icmp[4] = flags;
	memcpy(icmp + 8, nd->target.addr, 16);
	icmp[ND_HLEN] = nd->type == WG_ND_NS ? ND_OPT_SRC_LL : ND_OPT_TGT_LL;
	icmp[ND_HLEN + 1] = 1;
	memcpy(icmp + ND_HLEN + 2, nd->lladdr, 6);
	put16(icmp + 2, wg_csum_l4(&nd->src, dst, WG_IPPROTO_ICMPV6, icmp, ND_LEN));
	return WG_ND_FRAME_LEN;
}

size_t wg_pkt_build_ns(uint8_t *out, size_t cap, const uint8_t my_mac[6],
		       const struct wg_ip *my_ip, const struct wg_ip *target)
{
	struct wg_nd nd = { .type = WG_ND_NS, .src = *my_ip, .target = *target };
	struct wg_ip dst = { .family = WG_AF_INET6,
			     .addr = { 0xff, 0x02, [11] = 1, [12] = 0xff } };
	uint8_t eth_dst[6] = { 0x33, 0x33, 0xff };

	if (cap < WG_ND_FRAME_LEN || my_ip->family != WG_AF_INET6 ||
	    target->family != WG_AF_INET6)
		return 0;
	/* The solicited-node group and its MAC both end in the target's low 24 bits. */
	memcpy(dst.addr + 13, target->addr + 13, 3);
	memcpy(eth_dst + 3, target->addr + 13, 3);
	memcpy(nd.lladdr, my_mac, 6);
	return build_nd(out, eth_dst, &nd, &dst);
}

size_t wg_pkt_build_na(uint8_t *out, size_t cap, const uint8_t my_mac[6],
		       const struct wg_ip *my_ip, const uint8_t to_mac[6],
		       const struct wg_ip *to_ip, bool solicited)
{
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const struct wg_ip all_nodes = { .family = WG_AF_INET6,
						.addr = { 0xff, 0x02, [15] = 1 } };
	/* Override: the address is ours, not anycast or proxied. Router: we forward. */
	struct wg_nd nd = { .type = WG_ND_NA, .src = *my_ip, .target = *my_ip,
			    .router = true, .override_flag = true, .solicited = solicited };

	if (cap < WG_ND_FRAME_LEN || my_ip->family != WG_AF_INET6 ||
	    to_ip->family != WG_AF_INET6)
		return 0;
	memcpy(nd.lladdr, my_mac, 6);
	if (ip6_is_unspecified(to_ip->addr)) {
		nd.solicited = false;
		return build_nd(out, all_nodes_mac, &nd, &all_nodes);
	}
	return build_nd(out, to_mac, &nd, to_ip);
}
