/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the masquerade's packet half (lib/nat, wg_nat_parse and
 * wg_nat_rewrite): what a worker does to every packet it translates.
 *
 * The first byte picks a direction and a starting packet (the raw input, or a valid UDP,
 * TCP, ICMP echo, or an ICMP error quoting a UDP, TCP or echo packet), the rest is XORed
 * over it from a chosen offset, so that a short run reaches every branch. The packet lies
 * in a buffer of exactly its size, so that AddressSanitizer sees any read past its end.
 * Properties checked for a packet the parse accepts:
 *   - the offsets it gives lie inside the packet's total length, which lies inside the buffer;
 *   - after the rewrite, checksums that were right are still right (IP, TCP/UDP with the
 *     pseudo-header, ICMP; an ICMP error's is always right) and the packet parses again
 *     with the new address and port as its local end;
 *   - rewriting it back restores every byte but the checksum fields;
 *   - nothing past the total length is touched.
 * A violated property aborts (the fuzzer reports it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>

#include "wg_nat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 1600

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

/* A checksum as rte_raw_cksum computes it: in memory order. */
static void put_sum(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The one's complement sum of an L4 segment with its IPv4 pseudo-header. */
static uint16_t l4_sum(const uint8_t *ip, const uint8_t *l4, size_t n, uint8_t proto)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, (uint16_t)n);
	return fold((uint32_t)rte_raw_cksum(ph, 12) + rte_raw_cksum(l4, n));
}

static size_t ipv4(uint8_t *b, uint8_t proto, const uint8_t src[4], const uint8_t dst[4],
		   size_t l4len)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	put16(b + 2, (uint16_t)(20 + l4len));
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, src, 4);
	memcpy(b + 16, dst, 4);
	put_sum(b + 10, (uint16_t)~rte_raw_cksum(b, 20));
	return 20 + l4len;
}

static const uint8_t inside[4] = { 10, 200, 0, 11 }, remote[4] = { 198, 51, 100, 7 },
		     outside[4] = { 10, 60, 0, 1 };

/* A valid packet of the kind: 0 UDP, 1 TCP, 2 echo; going out (from inside) or coming
 * back (to the outside address). */
static size_t seed_flow(uint8_t *b, unsigned kind, bool out)
{
	const uint8_t *src = out ? inside : remote, *dst = out ? remote : outside;
	uint8_t *l4 = b + 20;
	size_t n = kind == 1 ? 24 : 16;
	uint8_t proto = kind == 0 ? 17 : kind == 1 ? 6 : 1;

	memset(l4, 0x5a, n);
	size_t len = ipv4(b, proto, src, dst, n);
	if (kind == 2) {
		l4[0] = out ? 8 : 0;
		l4[1] = 0;
		put16(l4 + 2, 0);
		put_sum(l4 + 2, (uint16_t)~rte_raw_cksum(l4, n));
		return len;
	}
	put16(l4, out ? 40000 : 53);
	put16(l4 + 2, out ? 53 : 2000);
	if (kind == 1) {
		l4[12] = 0x50;
		l4[13] = 0x12;
		put16(l4 + 16, 0);
		put_sum(l4 + 16, (uint16_t)~l4_sum(b, l4, n, 6));
	} else {
		put16(l4 + 4, (uint16_t)n);
		put16(l4 + 6, 0);
		put_sum(l4 + 6, (uint16_t)~l4_sum(b, l4, n, 17));
	}
	return len;
}

/* An ICMP error about a packet of the kind that went the other way. */
static size_t seed_error(uint8_t *b, unsigned kind, bool out)
{
	uint8_t q[64];
	size_t qlen = seed_flow(q, kind, !out), take = qlen < 28 + (kind == 1 ? 4 : 0) ? qlen :
		      28 + (kind == 1 ? 4 : 0);
	uint8_t *l4 = b + 20;
	size_t len;

	if (out)
		len = ipv4(b, 1, inside, remote, 8 + take);
	else
		len = ipv4(b, 1, remote, outside, 8 + take);
	memset(l4, 0, 8);
	l4[0] = 3;
	l4[1] = 4;
	put16(l4 + 6, 1280);
	memcpy(l4 + 8, q, take);
	if (!out) {             /* the quote is the packet as it went out: from the outside */
		memcpy(l4 + 8 + 12, outside, 4);
		if (kind == 2)
			l4[8 + 20] = 8;
	} else {                /* a packet that came in to the inside host */
		memcpy(l4 + 8 + 16, inside, 4);
		if (kind == 2)
			l4[8 + 20] = 0;
	}
	put_sum(l4 + 2, (uint16_t)~rte_raw_cksum(l4, len - 20));
	return len;
}

static bool ip_ok(const uint8_t *b)
{
	return rte_raw_cksum(b, (size_t)(b[0] & 0x0f) * 4) == 0xffff;
}

/* Is the L4 checksum of an accepted packet right (true for a UDP checksum of 0)? */
static bool l4_ok(const uint8_t *b, const struct wg_nat_pkt *np)
{
	const uint8_t *l4 = b + np->l4_off;
	size_t n = (size_t)np->len - np->l4_off;

	switch (np->kind) {
	case WG_NAT_TCP:
		return l4_sum(b, l4, n, 6) == 0xffff;
	case WG_NAT_UDP:
		return (l4[6] == 0 && l4[7] == 0) || l4_sum(b, l4, n, 17) == 0xffff;
	default:
		return rte_raw_cksum(l4, n) == 0xffff;
	}
}

static void check_offsets(const struct wg_nat_pkt *np, size_t size)
{
	must(np->len <= size && np->l4_off >= 20 && (size_t)np->l4_off + 8 <= np->len);
	if (np->kind == WG_NAT_TCP)
		must((size_t)np->l4_off + 20 <= np->len);
	if (np->kind == WG_NAT_ICMP_ERROR) {
		must(np->q_off == np->l4_off + 8 && np->q_l4_off >= np->q_off + 20);
		must((size_t)np->q_l4_off + 8 <= np->len);
	}
}

/* Bytes that are checksums, which a round trip may leave as the other zero. */
static void mask_sums(uint8_t *b, const struct wg_nat_pkt *np)
{
	static const uint8_t off[] = { [WG_NAT_TCP] = 16, [WG_NAT_UDP] = 6,
				       [WG_NAT_ICMP_QUERY] = 2, [WG_NAT_ICMP_ERROR] = 2 };

	memset(b + 10, 0, 2);
	memset(b + np->l4_off + off[np->kind], 0, 2);
	if (np->kind == WG_NAT_ICMP_ERROR) {
		uint8_t qo = np->q_proto == 6 ? 16 : np->q_proto == 17 ? 6 : 2;

		memset(b + np->q_off + 10, 0, 2);
		if ((size_t)np->q_l4_off + qo + 2 <= np->len)
			memset(b + np->q_l4_off + qo, 0, 2);
	}
}

static void exercise(uint8_t *pkt, size_t size, enum wg_nat_dir dir, uint32_t addr,
		     uint16_t port)
{
	struct wg_nat_pkt np, np2;
	uint8_t *orig = malloc(size ? size : 1), *a = malloc(size ? size : 1);
	bool ip_was, l4_was;
	uint32_t old_addr;
	uint16_t old_port;

	must(orig && a);
	if (wg_nat_parse(&np, pkt, size, dir) != WG_NAT_P_OK)
		goto out;
	check_offsets(&np, size);
	memcpy(orig, pkt, size);
	ip_was = ip_ok(pkt);
	l4_was = l4_ok(pkt, &np);
	/* The local end as the parse saw it, to write back. */
	old_addr = np.key.local;
	old_port = np.key.lport;
	if (np.kind == WG_NAT_ICMP_ERROR)
		memcpy(&old_addr, pkt + (dir == WG_NAT_OUT ? 12 : 16), 4);
	wg_nat_rewrite(pkt, &np, dir, addr, port);
	must(memcmp(pkt + np.len, orig + np.len, size - np.len) == 0);
	must(!ip_was || ip_ok(pkt));
	must(!l4_was || l4_ok(pkt, &np));
	must(wg_nat_parse(&np2, pkt, size, dir) == WG_NAT_P_OK);
	if (np.kind != WG_NAT_ICMP_ERROR) {
		must(np2.key.local == addr && np2.key.lport == port);
	} else {
		/* The error's own end and the quoted packet's are the new one. */
		must(memcmp(pkt + (dir == WG_NAT_OUT ? 12 : 16), &addr, 4) == 0);
		must(np2.key.lport == port);
	}
	wg_nat_rewrite(pkt, &np2, dir, old_addr, old_port);
	memcpy(a, pkt, size);
	mask_sums(a, &np);
	mask_sums(orig, &np);
	must(memcmp(a, orig, size) == 0);
out:
	free(orig);
	free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t base[CAP];
	size_t len;
	unsigned pick;
	enum wg_nat_dir dir;
	uint8_t *pkt;

	if (size < 4)
		return 0;
	memset(base, 0, sizeof(base));
	pick = data[0] % 8;
	dir = data[0] & 0x80 ? WG_NAT_IN : WG_NAT_OUT;
	if (pick == 0) {
		len = size - 4 < CAP ? size - 4 : CAP;
		memcpy(base, data + 4, len);
	} else {
		size_t at = data[1] % 64;

		len = pick <= 3 ? seed_flow(base, pick - 1, dir == WG_NAT_OUT) :
		      pick <= 6 ? seed_error(base, pick - 4, dir == WG_NAT_OUT) : 0;
		if (pick == 7)                 /* valid, then cut short or padded */
			len = seed_flow(base, data[1] % 3, dir == WG_NAT_OUT) - data[2] % 24 + 12;
		for (size_t i = 4; i < size && at + i - 4 < len; i++)
			base[at + i - 4] ^= data[i];
	}
	pkt = malloc(len ? len : 1);
	must(pkt != NULL);
	memcpy(pkt, base, len);
	exercise(pkt, len, dir, 0x0101a8c0u ^ ((uint32_t)data[2] << 24), (uint16_t)(data[3] * 257 + 1));
	free(pkt);
	return 0;
}
