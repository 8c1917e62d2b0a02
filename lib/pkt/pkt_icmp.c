/* SPDX-License-Identifier: MIT */
/*
 * ICMP for the gateway's own addresses: echo replies made in place from the request, and
 * the errors a router owes (RFC 792/1812 for IPv4, RFC 4443 for IPv6), with the rules that
 * keep errors from multiplying: none about errors, fragments past the first, or packets
 * to or from a group.
 */
#include "pkt_priv.h"

#define ICMP4_ECHO_REPLY    0
#define ICMP4_ECHO_REQUEST  8
#define ICMP6_ECHO_REQUEST  128
#define ICMP6_ECHO_REPLY    129
#define ICMP6_REDIRECT      137
#define IPOPT_EOL           0
#define IPOPT_NOP           1
#define IPOPT_RR            7
#define IPOPT_LSRR          131
#define IPOPT_SSRR          137
#define REPLY_TTL           64
#define ERROR_TTL           64
#define TOS_INTERNETWORK    0xc0   /* RFC 1812 4.3.2.5: precedence 6 for ICMP errors */

/* Types and codes per enum wg_icmp_error: [kind][0] is the type, [kind][1] the code. */
static const uint8_t v4_type_code[][2] = {
	[WG_ICMP_FRAG_NEEDED] = { 3, 4 },
	[WG_ICMP_NO_ROUTE] = { 3, 0 },
	[WG_ICMP_HOST_UNREACH] = { 3, 1 },
	[WG_ICMP_TTL_EXCEEDED] = { 11, 0 },
};
static const uint8_t v6_type_code[][2] = {
	[WG_ICMP_FRAG_NEEDED] = { 2, 0 },
	[WG_ICMP_NO_ROUTE] = { 1, 0 },
	[WG_ICMP_HOST_UNREACH] = { 1, 3 },
	[WG_ICMP_TTL_EXCEEDED] = { 3, 0 },
};

static void swap(uint8_t *a, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
}

/*
 * IPv4 options of an echo request: false if malformed or a source route (reversing one is
 * not worth it for ping, and RFC 7126 has routers drop them anyway). *rr is the offset of
 * a Record Route option, or len.
 */
static bool scan_options(const uint8_t *o, size_t len, size_t *rr)
{
	size_t i = 0;

	*rr = len;
	while (i < len && o[i] != IPOPT_EOL) {
		if (o[i] == IPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 2 > len || o[i + 1] < 2 || i + o[i + 1] > len)
			return false;
		if (o[i] == IPOPT_LSRR || o[i] == IPOPT_SSRR)
			return false;
		if (o[i] == IPOPT_RR) {
			if (o[i + 1] < 3)
				return false;
			*rr = i;
		}
		i += o[i + 1];
	}
	return true;
}

/* Add our address to a Record Route option if a slot is left; a full one stays as is. */
static void record_route(uint8_t *opt, const uint8_t *addr)
{
	uint8_t olen = opt[1], ptr = opt[2];

	if (ptr < 4 || ptr + 3 > olen)
		return;
	memcpy(opt + ptr - 1, addr, 4);
	opt[2] = (uint8_t)(ptr + 4);
}

static bool echo4(uint8_t *ip, uint8_t *icmp, size_t ilen)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4, rr;

	if (ip[9] != WG_IPPROTO_ICMP || ilen < ICMP_HLEN || icmp[0] != ICMP4_ECHO_REQUEST ||
	    icmp[1] != 0 || wg_csum(icmp, ilen) != 0)
		return false;
	if (!ip4_is_unicast(ip + 12) || !ip4_is_unicast(ip + 16))
		return false;
	if (!scan_options(ip + WG_IPV4_HLEN, hlen - WG_IPV4_HLEN, &rr))
		return false;
	/* Checked everything: from here on the frame changes. */
	if (rr < hlen - WG_IPV4_HLEN)
		record_route(ip + WG_IPV4_HLEN + rr, ip + 16);
	swap(ip + 12, ip + 16, 4);
	ip[8] = REPLY_TTL;
	put16(ip + 10, wg_csum_ipv4_header(ip, hlen));
	icmp[0] = ICMP4_ECHO_REPLY;
	put16(icmp + 2, 0);
	put16(icmp + 2, wg_csum(icmp, ilen));
	return true;
}

static bool echo6(uint8_t *ip, uint8_t *icmp, size_t ilen, const struct wg_pkt_info *pi)
{
	const uint8_t *src = pi->src.addr, *dst = pi->dst.addr;

	/* Extension headers would have to be turned around too (a routing header reversed);
	 * ping does not send them. */
	if (ip[6] != WG_IPPROTO_ICMPV6 || ilen < ICMP_HLEN || icmp[0] != ICMP6_ECHO_REQUEST ||
	    icmp[1] != 0)
		return false;
	if (ip6_is_multicast(src) || ip6_is_unspecified(src) || ip6_is_multicast(dst) ||
	    ip6_is_unspecified(dst))
		return false;
	if (wg_csum_l4(&pi->src, &pi->dst, WG_IPPROTO_ICMPV6, icmp, ilen) != 0)
		return false;
	swap(ip + 8, ip + 24, 16);
	ip[7] = REPLY_TTL;
	icmp[0] = ICMP6_ECHO_REPLY;
	put16(icmp + 2, 0);
	/* The pseudo-header sums the same with source and destination swapped. */
	put16(icmp + 2, wg_csum_l4(&pi->dst, &pi->src, WG_IPPROTO_ICMPV6, icmp, ilen));
	return true;
}

bool wg_pkt_echo_reply(uint8_t *frame, size_t len)
{
	struct wg_pkt_info pi;
	uint8_t *ip, *icmp;
	size_t ilen;
	bool ok;

	if (wg_pkt_parse_frame(&pi, frame, len) != 0 || pi.family == 0 || pi.fragment)
		return false;
	/* A group destination MAC means we were not asked alone; a group source cannot be
	 * answered. */
	if (mac_is_group(frame) || mac_is_group(frame + 6))
		return false;
	ip = frame + pi.l3_off;
	icmp = frame + pi.l4_off;
	ilen = (size_t)pi.l3_off + pi.l3_len - pi.l4_off;
	ok = pi.family == WG_AF_INET ? echo4(ip, icmp, ilen) : echo6(ip, icmp, ilen, &pi);
	if (ok)
		swap(frame, frame + 6, 6);
	return ok;
}

/* RFC 1122 3.2.2 / RFC 1812 4.3.2.7: only queries and replies may be answered with an
 * error; every other type, unknown ones included, is treated as an error message. */
static bool icmp4_is_query(uint8_t type)
{
	return type == 0 || type == 8 || type == 9 || type == 10 || (type >= 13 && type <= 18);
}

/* What both families refuse, then each family's own rules. */
static bool may_send(const struct wg_pkt_info *pi, const uint8_t *off,
		     enum wg_icmp_error kind)
{
	size_t ilen = (size_t)pi->l3_len - pi->l4_off;
	const uint8_t *s = pi->src.addr, *d = pi->dst.addr;
	static const uint8_t loopback6[16] = { [15] = 1 };

	if (pi->frag_offset)
		return false;
	if (pi->family == WG_AF_INET) {
		if (!ip4_is_unicast(s) || !ip4_is_unicast(d))
			return false;
		return pi->proto != WG_IPPROTO_ICMP ||
		       (ilen >= 1 && icmp4_is_query(off[pi->l4_off]));
	}
	if (ip6_is_multicast(s) || ip6_is_unspecified(s) || !memcmp(s, loopback6, 16))
		return false;
	/* RFC 4443 2.4(e.3): packet too big goes even to multicast, for path MTU discovery. */
	if (ip6_is_multicast(d) && kind != WG_ICMP_FRAG_NEEDED)
		return false;
	/* Types below 128 are errors; a redirect is refused as well (2.4(e.2)). */
	return pi->proto != WG_IPPROTO_ICMPV6 ||
	       (ilen >= 1 && off[pi->l4_off] >= 128 && off[pi->l4_off] != ICMP6_REDIRECT);
}

static size_t error4(uint8_t *out, size_t cap, enum wg_icmp_error kind, uint32_t mtu,
		     const struct wg_ip *src, const struct wg_pkt_info *pi, const uint8_t *off)
{
	size_t hdrs = WG_IPV4_HLEN + ICMP_HLEN;
	size_t quote = pi->l3_len < WG_ICMP4_ERROR_MAX - hdrs ? pi->l3_len :
							       WG_ICMP4_ERROR_MAX - hdrs;
	uint8_t *icmp = out + WG_IPV4_HLEN;

	if (cap < hdrs + quote)
		return 0;
	/* The quote first: out may be the offending packet's own buffer. */
	memmove(out + hdrs, off, quote);
	memset(out, 0, hdrs);
	out[0] = 0x45;
	out[1] = TOS_INTERNETWORK;
	put16(out + 2, (uint16_t)(hdrs + quote));
	out[8] = ERROR_TTL;
	out[9] = WG_IPPROTO_ICMP;
	memcpy(out + 12, src->addr, 4);
	memcpy(out + 16, pi->src.addr, 4);
	put16(out + 10, wg_csum_ipv4_header(out, WG_IPV4_HLEN));
	icmp[0] = v4_type_code[kind][0];
	icmp[1] = v4_type_code[kind][1];
	if (kind == WG_ICMP_FRAG_NEEDED)        /* RFC 1191: next-hop MTU in the low half */
		put16(icmp + 6, mtu > UINT16_MAX ? UINT16_MAX : (uint16_t)mtu);
	put16(icmp + 2, wg_csum(icmp, ICMP_HLEN + quote));
	return hdrs + quote;
}

static size_t error6(uint8_t *out, size_t cap, enum wg_icmp_error kind, uint32_t mtu,
		     const struct wg_ip *src, const struct wg_pkt_info *pi, const uint8_t *off)
{
	size_t hdrs = WG_IPV6_HLEN + ICMP_HLEN;
	size_t quote = pi->l3_len < WG_ICMP6_ERROR_MAX - hdrs ? pi->l3_len :
							       WG_ICMP6_ERROR_MAX - hdrs;
	uint8_t *icmp = out + WG_IPV6_HLEN;

	if (cap < hdrs + quote)
		return 0;
	memmove(out + hdrs, off, quote);
	ip6_write(out, (uint16_t)(ICMP_HLEN + quote), WG_IPPROTO_ICMPV6, ERROR_TTL,
		  src->addr, pi->src.addr);
	icmp[0] = v6_type_code[kind][0];
	icmp[1] = v6_type_code[kind][1];
	put16(icmp + 2, 0);
	put32(icmp + 4, kind == WG_ICMP_FRAG_NEEDED ? mtu : 0);
	put16(icmp + 2, wg_csum_l4(src, &pi->src, WG_IPPROTO_ICMPV6, icmp, ICMP_HLEN + quote));
	return hdrs + quote;
}

size_t wg_pkt_build_icmp_error(uint8_t *out, size_t cap, enum wg_icmp_error kind,
			       uint32_t mtu, const struct wg_ip *src,
			       const uint8_t *offending_ip, size_t offending_len)
{
	struct wg_pkt_info pi;

	if ((unsigned)kind > WG_ICMP_TTL_EXCEEDED)
		return 0;
	if (wg_pkt_parse_ip(&pi, offending_ip, offending_len) != 0 || pi.family != src->family)
		return 0;
	if (!may_send(&pi, offending_ip, kind))
		return 0;
	if (pi.family == WG_AF_INET)
		return error4(out, cap, kind, mtu, src, &pi, offending_ip);
	return error6(out, cap, kind, mtu, src, &pi, offending_ip);
}
