/* SPDX-License-Identifier: MIT */
/*
 * Inner packets for the simulation: IPv4 or IPv6, UDP or an ICMP echo request, of an exact
 * total size, with every checksum right, so that the gateway's parsers accept them and a
 * test can compare what comes out byte for byte.
 */
#include <string.h>

#include "wg_pkt.h"
#include "wg_sim.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Payload bytes follow from the tag, so two packets with different tags differ. */
static void fill_payload(uint8_t *p, size_t len, uint32_t tag)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(tag * 131u + i * 7u + (tag >> 8));
}

static size_t ip_header(uint8_t *ip, const struct wg_sim_pkt *p, uint8_t proto)
{
	uint8_t ttl = p->ttl ? p->ttl : 64;

	if (p->src.family == WG_AF_INET) {
		memset(ip, 0, WG_IPV4_HLEN);
		ip[0] = 0x45;
		put16(ip + 2, p->size);
		put16(ip + 4, (uint16_t)p->tag);
		ip[6] = p->df ? 0x40 : 0;
		ip[8] = ttl;
		ip[9] = proto;
		memcpy(ip + 12, p->src.addr, 4);
		memcpy(ip + 16, p->dst.addr, 4);
		put16(ip + 10, wg_csum_ipv4_header(ip, WG_IPV4_HLEN));
		return WG_IPV4_HLEN;
	}
	memset(ip, 0, WG_IPV6_HLEN);
	ip[0] = 0x60;
	ip[1] = (uint8_t)((p->tag >> 16) & 0x0f);   /* flow label: the tag's low 20 bits */
	put16(ip + 2, (uint16_t)p->tag);
	put16(ip + 4, (uint16_t)(p->size - WG_IPV6_HLEN));
	ip[6] = proto;
	ip[7] = ttl;
	memcpy(ip + 8, p->src.addr, 16);
	memcpy(ip + 24, p->dst.addr, 16);
	return WG_IPV6_HLEN;
}

static void udp(uint8_t *l4, size_t len, const struct wg_sim_pkt *p)
{
	uint16_t c;

	put16(l4, (uint16_t)(40000 + (p->tag >> 16) % 20000));
	put16(l4 + 2, (uint16_t)(1 + p->tag % 65535));
	put16(l4 + 4, (uint16_t)len);
	put16(l4 + 6, 0);
	fill_payload(l4 + 8, len - 8, p->tag);
	c = wg_csum_l4(&p->src, &p->dst, WG_IPPROTO_UDP, l4, len);
	put16(l4 + 6, c ? c : 0xffff);   /* RFC 768: a computed zero is sent as all ones */
}

static void echo(uint8_t *l4, size_t len, const struct wg_sim_pkt *p)
{
	bool v6 = p->src.family == WG_AF_INET6;

	l4[0] = v6 ? 128 : 8;
	l4[1] = 0;
	put16(l4 + 2, 0);
	put16(l4 + 4, (uint16_t)(p->tag >> 16));
	put16(l4 + 6, (uint16_t)p->tag);
	fill_payload(l4 + 8, len - 8, p->tag);
	put16(l4 + 2, v6 ? wg_csum_l4(&p->src, &p->dst, WG_IPPROTO_ICMPV6, l4, len) :
	      wg_csum(l4, len));
}

size_t wg_sim_build_pkt(uint8_t *buf, size_t cap, const struct wg_sim_pkt *p)
{
	bool v6 = p->src.family == WG_AF_INET6;
	size_t hlen = v6 ? WG_IPV6_HLEN : WG_IPV4_HLEN;
	uint8_t want_icmp = v6 ? WG_IPPROTO_ICMPV6 : WG_IPPROTO_ICMP;

	if (p->src.family != p->dst.family || (p->src.family != WG_AF_INET && !v6) ||
	    p->size < hlen + 8 || p->size > cap ||
	    (p->proto != WG_IPPROTO_UDP && p->proto != want_icmp))
		return 0;
	ip_header(buf, p, p->proto);
	if (p->proto == WG_IPPROTO_UDP)
		udp(buf + hlen, p->size - hlen, p);
	else
		echo(buf + hlen, p->size - hlen, p);
	return p->size;
}
