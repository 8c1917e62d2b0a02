/* SPDX-License-Identifier: MIT */
/*
 * Frame and IP parsing: what the classifier and the control lcore need to know about a
 * packet, with every length checked against both the headers and the buffer. The rule for
 * errors: the buffer ending before what the headers promise is TRUNCATED; headers that
 * contradict each other (a total length below the header length, an extension header past
 * the payload length) are BAD_*.
 */
#include "pkt_priv.h"

const char *wg_pkt_strerror(int err)
{
	switch (err) {
	case WG_PKT_OK:
		return "ok";
#define WG_PKT_CASE(name, num, text) case WG_PKT_##name: return text;
	WG_PKT_ERRORS(WG_PKT_CASE)
#undef WG_PKT_CASE
	}
	return "unknown";
}

/* Ports of UDP and TCP, whose header must then be whole: a first fragment too short for
 * it is the tiny-fragment attack of RFC 1858, and nothing legitimate. */
static int parse_ports(struct wg_pkt_info *pi, const uint8_t *buf)
{
	size_t need, avail = (size_t)pi->l3_off + pi->l3_len - pi->l4_off;

	if (pi->frag_offset)
		return 0;
	if (pi->proto == WG_IPPROTO_UDP)
		need = 8;
	else if (pi->proto == WG_IPPROTO_TCP)
		need = 20;
	else
		return 0;
	if (avail < need)
		return WG_PKT_TRUNCATED;
	pi->sport = get16(buf + pi->l4_off);
	pi->dport = get16(buf + pi->l4_off + 2);
	return 0;
}

static int parse_v4(struct wg_pkt_info *pi, const uint8_t *ip, size_t len)
{
	size_t hlen, tlen;
	uint16_t frag;

	if (len < WG_IPV4_HLEN)
		return WG_PKT_TRUNCATED;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < WG_IPV4_HLEN)
		return WG_PKT_BAD_HEADER_LEN;
	if (hlen > len)
		return WG_PKT_TRUNCATED;
	tlen = get16(ip + 2);
	if (tlen < hlen)
		return WG_PKT_BAD_TOTAL_LEN;
	if (tlen > len)
		return WG_PKT_TRUNCATED;
	if (wg_csum(ip, hlen) != 0)
		return WG_PKT_BAD_CHECKSUM;
	frag = get16(ip + 6);
	pi->family = WG_AF_INET;
	pi->l3_len = (uint16_t)tlen;
	pi->l4_off = (uint16_t)hlen;
	pi->df = frag & 0x4000;
	pi->frag_offset = (uint16_t)((frag & 0x1fff) * 8);
	pi->fragment = (frag & 0x2000) || pi->frag_offset;
	pi->ttl = ip[8];
	pi->proto = ip[9];
	ip_set(&pi->src, WG_AF_INET, ip + 12);
	ip_set(&pi->dst, WG_AF_INET, ip + 16);
	return 0;
}

static bool is_ext(uint8_t nh)
{
	return nh == WG_IPPROTO_HOPOPTS || nh == WG_IPPROTO_ROUTING ||
	       nh == WG_IPPROTO_DSTOPTS || nh == WG_IPPROTO_FRAGMENT;
}

/* One extension header at off: its length, or 0 if it is malformed. Hop-by-hop must come
 * first (RFC 8200 4.1) and a packet is fragmented once. */
static size_t ext_len(struct wg_pkt_info *pi, const uint8_t *ip, uint8_t nh, size_t off)
{
	if (nh == WG_IPPROTO_HOPOPTS && off != WG_IPV6_HLEN)
		return 0;
	if (nh != WG_IPPROTO_FRAGMENT)
		return ((size_t)ip[off + 1] + 1) * 8;
	if (pi->fragment)
		return 0;
	pi->fragment = true;
	pi->frag_offset = get16(ip + off + 2) & 0xfff8;
	return 8;
}

/* Walk the extension headers inside the payload length. Past a non-first fragment's
 * header the rest belongs to the reassembled packet, so the walk stops there and proto is
 * whatever that header names. */
static int skip_ext(struct wg_pkt_info *pi, const uint8_t *ip, size_t end)
{
	uint8_t nh = ip[6];
	size_t off = WG_IPV6_HLEN;

	while (is_ext(nh) && !pi->frag_offset) {
		size_t hl;

		if (off + 8 > end)
			return WG_PKT_BAD_HEADER_LEN;
		hl = ext_len(pi, ip, nh, off);
		if (hl == 0 || off + hl > end)
			return WG_PKT_BAD_HEADER_LEN;
		nh = ip[off];
		off += hl;
	}
	pi->proto = nh;
	pi->l4_off = (uint16_t)off;
	return 0;
}

static int parse_v6(struct wg_pkt_info *pi, const uint8_t *ip, size_t len)
{
	size_t end;

	if (len < WG_IPV6_HLEN)
		return WG_PKT_TRUNCATED;
	end = WG_IPV6_HLEN + (size_t)get16(ip + 4);
	if (end > len)
		return WG_PKT_TRUNCATED;
	/* l3_len is 16 bits; such a packet exceeds every MTU this gateway serves. */
	if (end > UINT16_MAX)
		return WG_PKT_UNSUPPORTED;
	pi->family = WG_AF_INET6;
	pi->l3_len = (uint16_t)end;
	pi->df = true;
	pi->ttl = ip[7];
	ip_set(&pi->src, WG_AF_INET6, ip + 8);
	ip_set(&pi->dst, WG_AF_INET6, ip + 24);
	return skip_ext(pi, ip, end);
}

/* The IP packet into a zeroed *pi. */
static int parse_ip_into(struct wg_pkt_info *pi, const uint8_t *ip, size_t len)
{
	int err;

	if (len < 1)
		return WG_PKT_TRUNCATED;
	switch (ip[0] >> 4) {
	case 4:
		err = parse_v4(pi, ip, len);
		break;
	case 6:
		err = parse_v6(pi, ip, len);
		break;
	default:
		return WG_PKT_BAD_VERSION;
	}
	return err ? err : parse_ports(pi, ip);
}

int wg_pkt_parse_ip(struct wg_pkt_info *pi, const uint8_t *ip, size_t len)
{
	memset(pi, 0, sizeof(*pi));
	return parse_ip_into(pi, ip, len);
}

static int parse_arp_frame(struct wg_pkt_info *pi, size_t len)
{
	pi->l3_off = WG_ETH_HLEN;
	pi->l3_len = ARP_LEN;          /* the padding after it is not ARP */
	pi->l4_off = (uint16_t)(pi->l3_off + pi->l3_len);
	return len < pi->l4_off ? WG_PKT_TRUNCATED : 0;
}

int wg_pkt_parse_frame(struct wg_pkt_info *pi, const uint8_t *frame, size_t len)
{
	uint16_t et;
	int err;

	memset(pi, 0, sizeof(*pi));
	if (len < WG_ETH_HLEN)
		return WG_PKT_TRUNCATED;
	et = get16(frame + 12);
	if (et == WG_ETHERTYPE_ARP) {
		pi->ethertype = et;
		return parse_arp_frame(pi, len);
	}
	if (et != WG_ETHERTYPE_IPV4 && et != WG_ETHERTYPE_IPV6) {
		pi->ethertype = et;
		return WG_PKT_UNSUPPORTED;
	}
	err = parse_ip_into(pi, frame + WG_ETH_HLEN, len - WG_ETH_HLEN);
	pi->ethertype = et;
	if (err)
		return err;
	if ((et == WG_ETHERTYPE_IPV4) != (pi->family == WG_AF_INET))
		return WG_PKT_BAD_VERSION;
	if (pi->l3_len > UINT16_MAX - WG_ETH_HLEN)
		return WG_PKT_UNSUPPORTED;
	pi->l3_off = WG_ETH_HLEN;
	pi->l4_off += WG_ETH_HLEN;
	return 0;
}
