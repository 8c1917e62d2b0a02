/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for lib/pkt, the parsers every frame meets: Ethernet, IPv4 (options,
 * fragments, checksum), IPv6 with extension headers, UDP/TCP ports, ARP, neighbour
 * discovery, and what is built from a parsed frame: echo replies in place, ICMP errors
 * quoting it, TTL decrements.
 *
 * The first byte picks a starting frame (raw input, or one of a few valid frames: UDP over
 * IPv4 and IPv6, an IPv6 packet with extension headers, ICMP and ICMPv6 echo requests,
 * ARP, a neighbour solicitation) and the rest is XORed over it from a chosen offset, so
 * that a short run from a fixed seed reaches deep into each parser. Properties checked:
 *   - a parsed frame's offsets and lengths lie inside it and agree with each other;
 *   - an echo reply made in place parses again, is still an echo of the same length, and
 *     carries valid checksums (the parser verifies IPv4's; ICMP's is summed here);
 *   - an ICMP error built from the frame fits its buffer and parses as IP;
 *   - a decremented TTL leaves a packet that still parses (the IPv4 checksum kept right).
 * A violated property aborts (the fuzzer reports it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wg_addr.h"
#include "wg_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 2048

static void must(int cond)
{
	if (!cond)
		abort();
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa }, mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb };

static struct wg_ip v4(uint8_t d)
{
	struct wg_ip ip = { .family = WG_AF_INET, .addr = { 192, 0, 2, d } };

	return ip;
}

static struct wg_ip v6(uint8_t d)
{
	struct wg_ip ip = { .family = WG_AF_INET6, .addr = { 0x20, 0x01, 0x0d, 0xb8 } };

	ip.addr[15] = d;
	return ip;
}

/* The starting frames. Each returns its length. */
static size_t ipv4_udp(uint8_t *f, uint8_t proto, size_t payload)
{
	uint8_t *ip = f + 14;

	wg_pkt_write_eth(f, mac_a, mac_b, 0x0800);
	memset(ip, 0, 20 + payload);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + payload));
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, v4(1).addr, 4);
	memcpy(ip + 16, v4(2).addr, 4);
	if (proto == 17) {
		put16(ip + 20, 51000);
		put16(ip + 22, 51820);
		put16(ip + 24, (uint16_t)payload);
	} else {                    /* ICMP echo request */
		ip[20] = 8;
		put16(ip + 22, wg_csum(ip + 20, payload));
	}
	put16(ip + 10, wg_csum_ipv4_header(ip, 20));
	return 14 + 20 + payload;
}

static size_t ipv6_pkt(uint8_t *f, bool ext, bool echo, size_t payload)
{
	uint8_t *ip = f + 14, *l4;
	struct wg_ip s = v6(1), d = v6(2);
	size_t hl = ext ? 16 : 0;

	wg_pkt_write_eth(f, mac_a, mac_b, 0x86dd);
	memset(ip, 0, 40 + hl + payload);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(hl + payload));
	ip[6] = ext ? 0 : (echo ? 58 : 17);     /* hop-by-hop, then destination options */
	ip[7] = 64;
	memcpy(ip + 8, s.addr, 16);
	memcpy(ip + 24, d.addr, 16);
	if (ext) {
		ip[40] = 60;
		ip[48] = echo ? 58 : 17;
	}
	l4 = ip + 40 + hl;
	if (echo) {
		l4[0] = 128;
		put16(l4 + 2, wg_csum_l4(&s, &d, 58, l4, payload));
	} else {
		put16(l4, 51000);
		put16(l4 + 2, 51820);
		put16(l4 + 4, (uint16_t)payload);
		put16(l4 + 6, wg_csum_l4(&s, &d, 17, l4, payload));
	}
	return 14 + 40 + hl + payload;
}

static size_t base_frame(uint8_t *f, unsigned which)
{
	struct wg_ip me = v6(1), target = v6(2);

	switch (which) {
	case 1: return ipv4_udp(f, 17, 8 + 148);
	case 2: return ipv4_udp(f, 1, 64);
	case 3: return ipv6_pkt(f, false, false, 8 + 32);
	case 4: return ipv6_pkt(f, true, false, 8 + 32);
	case 5: return ipv6_pkt(f, false, true, 56);
	case 6: return wg_pkt_build_arp_request(f, CAP, mac_a, v4(1).addr, v4(2).addr);
	case 7: return wg_pkt_build_ns(f, CAP, mac_a, &me, &target);
	case 8: return wg_pkt_build_na(f, CAP, mac_a, &me, mac_b, &target, true);
	default: return 0;
	}
}

static void check_info(const struct wg_pkt_info *pi, size_t len, bool framed)
{
	if (pi->family == 0)
		return;
	must(pi->family == WG_AF_INET || pi->family == WG_AF_INET6);
	must(!framed || pi->l3_off == 14);
	must((size_t)pi->l3_off + pi->l3_len <= len);
	must(pi->l4_off >= pi->l3_off && pi->l4_off <= pi->l3_off + pi->l3_len);
	must(!pi->frag_offset || pi->fragment);
	must(pi->frag_offset == 0 || (pi->sport == 0 && pi->dport == 0));
}

static uint16_t icmp_sum(const struct wg_pkt_info *pi, const uint8_t *f)
{
	const uint8_t *l4 = f + pi->l4_off;
	size_t n = (size_t)pi->l3_off + pi->l3_len - pi->l4_off;

	return pi->family == WG_AF_INET ? wg_csum(l4, n) :
		wg_csum_l4(&pi->src, &pi->dst, 58, l4, n);
}

static void exercise(uint8_t *f, size_t len)
{
	static uint8_t copy[CAP], out[CAP];
	struct wg_pkt_info pi, pj;
	struct wg_arp arp;
	struct wg_nd nd;
	struct wg_ip src;

	(void)wg_pkt_parse_arp(&arp, f, len);
	(void)wg_pkt_parse_nd(&nd, f, len);
	if (len > 14 && wg_pkt_parse_ip(&pi, f + 14, len - 14) == 0)
		check_info(&pi, len - 14, false);
	if (wg_pkt_parse_frame(&pi, f, len) != 0)
		return;
	check_info(&pi, len, true);
	if (pi.family == 0)
		return;

	/* An echo reply made in place is a valid echo reply of the same length. */
	memcpy(copy, f, len);
	if (wg_pkt_echo_reply(copy, len)) {
		must(wg_pkt_parse_frame(&pj, copy, len) == 0);
		must(pj.family == pi.family && pj.l3_len == pi.l3_len && pj.proto == pi.proto);
		must(copy[pj.l4_off] == (pi.family == WG_AF_INET ? 0 : 129));
		must(icmp_sum(&pj, copy) == 0);
	}

	/* An ICMP error quoting it fits and parses. */
	src = pi.family == WG_AF_INET ? v4(9) : v6(9);
	for (unsigned k = WG_ICMP_FRAG_NEEDED; k <= WG_ICMP_TTL_EXCEEDED; k++) {
		size_t n = wg_pkt_build_icmp_error(out, sizeof(out), (enum wg_icmp_error)k, 1280,
						   &src, f + pi.l3_off, pi.l3_len);

		must(n <= sizeof(out));
		if (n) {
			must(wg_pkt_parse_ip(&pj, out, n) == 0 && pj.l3_len == n);
			must(wg_ip_equal(&pj.dst, &pi.src));
		}
	}

	/* One TTL less leaves a packet the parser still takes. */
	memcpy(copy, f, len);
	if (wg_pkt_dec_ttl(copy + pi.l3_off, pi.l3_len)) {
		must(wg_pkt_parse_frame(&pj, copy, len) == 0);
		must(pj.ttl == pi.ttl - 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t f[CAP];
	size_t len;
	unsigned which;

	if (size < 1)
		return 0;
	which = data[0] % 9;
	data++;
	size--;
	if (which == 0) {
		if (size > CAP)
			size = CAP;
		memcpy(f, data, size);
		exercise(f, size);
		return 0;
	}
	memset(f, 0, sizeof(f));
	len = base_frame(f, which);
	if (size >= 2) {
		/* [cut: where to truncate or extend][offset][xor bytes...] */
		size_t cut = data[0], off = data[1] % (len ? len : 1);

		if (cut >= 0xf0)
			len += cut - 0xf0;          /* a few bytes more than the packet */
		else if (cut >= 0xe0 && len > (size_t)(cut - 0xe0))
			len -= cut - 0xe0;          /* a few bytes short */
		for (size_t i = 2; i < size && off + i - 2 < CAP; i++)
			f[off + i - 2] ^= data[i];
	}
	exercise(f, len);
	return 0;
}
