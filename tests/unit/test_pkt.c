/* SPDX-License-Identifier: MIT */
/*
 * Packet parsing and building, against frames captured from Linux: parsed fields, frames we
 * build compared with what Linux sent, checksums against the kernel's and against a naive
 * oracle, the TTL decrement against full recomputation, IPv4 options and IPv6 extension
 * headers, the RFC rules on echo replies and ICMP errors, and every parser fed each
 * truncation and many random corruptions of every frame (in heap copies of exactly that
 * length, so that ASan sees a read one byte past the end).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wg_pkt.h"

/*
 * Captured from Linux 6.18 with a Python AF_PACKET socket on the ends of a veth pair
 * between two throwaway network namespaces:
 *   A: vpa 02:00:00:00:00:0a, 192.0.2.1/24, fd00::1/64
 *   B: vpb 02:00:00:00:00:0b, 192.0.2.2/24, fd00::2/64
 * Traffic: `ping`, `ping -6`, `ping -R`, `ping -s 2000` (both families, so fragments), a
 * UDP datagram "hello wgdp" to the closed port 9 (both families, so Linux's own port
 * unreachable errors), an address added with DAD on, an IGMP join of 239.1.2.4. veth does
 * not pad, so the ARP frames are 42 bytes. The fragments end in ping's byte pattern, which
 * is generated rather than spelled out: `fill` is the first byte, counting up to `len`.
 * The UDP checksums are as veth leaves them with checksum offload: only the pseudo-header
 * sum (CHECKSUM_PARTIAL); test_udp_offload uses that, and full values from Python.
 */
enum {
	V_ARP_REQ, V_ARP_REP, V_ECHO4, V_ECHO4_REP, V_NS, V_NA, V_ECHO6, V_ECHO6_REP,
	V_RR, V_RR_REP, V_FRAG4_FIRST, V_FRAG4_REST, V_FRAG6_FIRST, V_FRAG6_REST, V_RS,
	V_UDP4, V_UNREACH4, V_UDP6, V_UNREACH6, V_MLD, V_IGMP, V_DAD_NS, V_COUNT
};

struct vec {
	const char *name;
	const char *hex;
	uint8_t fill;
	size_t len;
};

static const struct vec vecs[V_COUNT] = {
	[V_ARP_REQ] = { "arp who-has 192.0.2.2 tell 192.0.2.1",
		"ffffffffffff02000000000a0806000108000604000102000000000ac0000201"
		"000000000000c0000202" },
	[V_ARP_REP] = { "arp 192.0.2.2 is-at 02:00:00:00:00:0b",
		"02000000000a02000000000b0806000108000604000202000000000bc0000202"
		"02000000000ac0000201" },
	[V_ECHO4] = { "icmp echo request 192.0.2.1 > 192.0.2.2",
		"02000000000b02000000000a080045000054a4b34000400111f2c0000201c0000202"
		"0800287735c90001ba82026b000000001bfe020000000000101112131415161718191a1b"
		"1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637" },
	[V_ECHO4_REP] = { "icmp echo reply from Linux",
		"02000000000a02000000000b080045000054d2c90000400123dcc0000202c0000201"
		"0000307735c90001ba82026b000000001bfe020000000000101112131415161718191a1b"
		"1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637" },
	[V_NS] = { "ns fd00::1 > ff02::1:ff00:2 who has fd00::2",
		"3333ff00000202000000000a86dd6000000000203afffd000000000000000000000000"
		"000001ff0200000000000000000001ff00000287007d8e00000000fd00000000000000"
		"0000000000000002010102000000000a" },
	[V_NA] = { "na fd00::2 > fd00::1 tgt fd00::2 S O",
		"02000000000a02000000000b86dd6000000000203afffd000000000000000000000000"
		"000002fd00000000000000000000000000000188001c9160000000fd00000000000000"
		"0000000000000002020102000000000b" },
	[V_ECHO6] = { "icmp6 echo request fd00::1 > fd00::2",
		"02000000000b02000000000a86dd6009b00400403a40fd000000000000000000000000"
		"000001fd00000000000000000000000000000280004de435ca0001ba82026b00000000"
		"8310030000000000101112131415161718191a1b1c1d1e1f202122232425262728292a"
		"2b2c2d2e2f3031323334353637" },
	[V_ECHO6_REP] = { "icmp6 echo reply from Linux",
		"02000000000a02000000000b86dd6009421800403a40fd000000000000000000000000"
		"000002fd00000000000000000000000000000181004ce435ca0001ba82026b00000000"
		"8310030000000000101112131415161718191a1b1c1d1e1f202122232425262728292a"
		"2b2c2d2e2f3031323334353637" },
	[V_RR] = { "ping -R: IHL 15, NOP + record route",
		"02000000000b02000000000a08004f00007ca4b4400040011db8c0000201c0000202"
		"01072708c0000201000000000000000000000000000000000000000000000000000000"
		"00000000000800e55235cb0001ba82026b000000005e20030000000000101112131415"
		"161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637" },
	[V_RR_REP] = { "ping -R reply from Linux",
		"02000000000a02000000000b08004f00007cd2ca00004001fb45c0000202c0000201"
		"072710c0000201c0000202c00002020000000000000000000000000000000000000000"
		"00000000000000ed5235cb0001ba82026b000000005e20030000000000101112131415"
		"161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637" },
	[V_FRAG4_FIRST] = { "ping -s 2000: first IPv4 fragment (MF)",
		"02000000000b02000000000a0800450005dca4b5200040012c68c0000201c0000202"
		"08001f2e35cc0001ba82026b00000000d72e030000000000", 0x10, 1514 },
	[V_FRAG4_REST] = { "ping -s 2000: last IPv4 fragment, offset 1480",
		"02000000000b02000000000a080045000224a4b500b940014f67c0000201c0000202",
		0xc0, 562 },
	[V_FRAG6_FIRST] = { "ping -6 -s 2000: first fragment",
		"02000000000b02000000000a86dd6009b00405b02c40fd000000000000000000000000"
		"000001fd0000000000000000000000000000023a0000018e3f9bd380000c0635cd0001"
		"ba82026b00000000703e030000000000", 0x10, 1510 },
	[V_FRAG6_REST] = { "ping -6 -s 2000: last fragment, offset 1448",
		"02000000000b02000000000a86dd6009b00402382c40fd000000000000000000000000"
		"000001fd0000000000000000000000000000023a0005a88e3f9bd3", 0xa0, 622 },
	[V_RS] = { "router solicitation fe80::ff:fe00:b > ff02::2",
		"33330000000202000000000b86dd6000000000103afffe80000000000000000000fffe"
		"00000bff02000000000000000000000000000285007b1800000000010102000000000b" },
	[V_UDP4] = { "udp 192.0.2.1.47676 > 192.0.2.2.9",
		"02000000000b02000000000a0800450000260d4440004011a97fc0000201c0000202"
		"ba3c00090012842768656c6c6f2077676470" },
	[V_UNREACH4] = { "icmp port unreachable from Linux, quoting V_UDP4",
		"02000000000a02000000000b080045c00042d2e900004001230ec0000202c0000201"
		"03039eb300000000450000260d4440004011a97fc0000201c0000202ba3c0009001284"
		"2768656c6c6f2077676470" },
	[V_UDP6] = { "udp fd00::1.51569 > fd00::2.9",
		"02000000000b02000000000a86dd60051a9700121140fd000000000000000000000000"
		"000001fd000000000000000000000000000002c97100090012fa2768656c6c6f207767"
		"6470" },
	[V_UNREACH6] = { "icmp6 port unreachable from Linux, quoting V_UDP6",
		"02000000000a02000000000b86dd600f8fd100423a40fd000000000000000000000000"
		"000002fd00000000000000000000000000000101049b080000000060051a9700121140"
		"fd000000000000000000000000000001fd000000000000000000000000000002c97100"
		"090012fa2768656c6c6f2077676470" },
	[V_MLD] = { "MLDv2 report fe80::ff:fe00:a > ff02::16, hop-by-hop router alert",
		"33330000001602000000000a86dd6000000000600001fe80000000000000000000fffe"
		"00000aff0200000000000000000000000000163a000502000001008f006b9f00000004"
		"04000000ff0200000000000000000001ff00000404000000ff02000000000000000000"
		"01ff00000304000000ff0200000000000000000001ff00000a04000000ff0200000000"
		"000000000001ff000001" },
	[V_IGMP] = { "IGMPv3 report 192.0.2.1 > 224.0.0.22, IHL 6 router alert",
		"01005e00001602000000000a080046c0002800004000010241f8c0000201e0000016"
		"940400002200e8f80000000104000000ef010204" },
	[V_DAD_NS] = { "DAD ns :: > ff02::1:ff00:5 who has fd00::5, nonce option",
		"3333ff00000502000000000a86dd6000000000203aff00000000000000000000000000"
		"000000ff0200000000000000000001ff000005870010e300000000fd00000000000000"
		"00000000000000050e015ee60b38f492" },
};

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 0x0b };
static const uint8_t ip4_a[4] = { 192, 0, 2, 1 };
static const uint8_t ip4_b[4] = { 192, 0, 2, 2 };

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t load(uint8_t *out, size_t cap, int id)
{
	const struct vec *v = &vecs[id];
	int n = check_unhex(out, cap, v->hex);
	size_t len;

	if (!CHECK(n > 0))
		return 0;
	for (len = (size_t)n; len < v->len && len < cap; len++)
		out[len] = (uint8_t)(v->fill + (len - (size_t)n));
	return len;
}

static struct wg_ip v4(const uint8_t a[4])
{
	struct wg_ip ip = { .family = WG_AF_INET };

	memcpy(ip.addr, a, 4);
	return ip;
}

/* fd00::<last> */
static struct wg_ip fd00(uint8_t last)
{
	struct wg_ip ip = { .family = WG_AF_INET6, .addr = { 0xfd, 0x00, [15] = 0 } };

	ip.addr[15] = last;
	return ip;
}

static struct wg_ip v6_at(const uint8_t *p)
{
	struct wg_ip ip = { .family = WG_AF_INET6 };

	memcpy(ip.addr, p, 16);
	return ip;
}

/* The oracle: RFC 1071 read literally, one byte at a time, folded at the end. */
static uint16_t naive_csum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += (i % 2) ? p[i] : (uint64_t)p[i] << 8;
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)(~s & 0xffff);
}

/* The pseudo-header laid out as RFC 768 / RFC 8200 8.1 draw it, then the oracle. */
static uint16_t naive_l4(const struct wg_ip *s, const struct wg_ip *d, uint8_t proto,
			 const uint8_t *l4, size_t len)
{
	static uint8_t tmp[70000];
	size_t n;

	if (s->family == WG_AF_INET) {
		memcpy(tmp, s->addr, 4);
		memcpy(tmp + 4, d->addr, 4);
		tmp[8] = 0;
		tmp[9] = proto;
		wr16(tmp + 10, (uint16_t)len);
		n = 12;
	} else {
		memcpy(tmp, s->addr, 16);
		memcpy(tmp + 16, d->addr, 16);
		wr16(tmp + 32, (uint16_t)(len >> 16));
		wr16(tmp + 34, (uint16_t)len);
		tmp[36] = tmp[37] = tmp[38] = 0;
		tmp[39] = proto;
		n = 40;
	}
	memcpy(tmp + n, l4, len);
	return naive_csum(tmp, n + len);
}

static void fix_ip4(uint8_t *ip)
{
	wr16(ip + 10, 0);
	wr16(ip + 10, naive_csum(ip, (size_t)(ip[0] & 15) * 4));
}

/* ICMPv6 right after the IPv6 header of a frame. */
static void fix_icmp6(uint8_t *f)
{
	struct wg_ip s = v6_at(f + 22), d = v6_at(f + 38);
	size_t plen = rd16(f + 18);

	wr16(f + 56, 0);
	wr16(f + 56, naive_l4(&s, &d, 58, f + 54, plen));
}

/* Insert an extension header right after the IPv6 header; ext[0] gets the old next
 * header. Upper-layer checksums do not cover extension headers, so they stay valid. */
static size_t insert_ext6(uint8_t *f, size_t len, uint8_t type, const uint8_t *ext,
			  size_t elen)
{
	memmove(f + 54 + elen, f + 54, len - 54);
	memcpy(f + 54, ext, elen);
	f[54] = f[20];
	f[20] = type;
	wr16(f + 18, (uint16_t)(rd16(f + 18) + elen));
	return len + elen;
}

/* Add options (a multiple of 4 bytes) to a frame's IHL-5 IPv4 header. */
static size_t add_opts4(uint8_t *f, size_t len, const uint8_t *opt, size_t olen)
{
	uint8_t *ip = f + 14;

	memmove(ip + 20 + olen, ip + 20, len - 34);
	memcpy(ip + 20, opt, olen);
	ip[0] = (uint8_t)(0x45 + olen / 4);
	wr16(ip + 2, (uint16_t)(rd16(ip + 2) + olen));
	fix_ip4(ip);
	return len + olen;
}

static void test_checksum_known(void)
{
	/* RFC 1071 section 3's example: the sum is ddf2, so the checksum is 220d. */
	static const uint8_t rfc1071[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const uint8_t one[] = { 0x01 };
	static const int v4s[] = { V_ECHO4, V_ECHO4_REP, V_RR, V_RR_REP, V_FRAG4_FIRST,
				   V_FRAG4_REST, V_UDP4, V_UNREACH4, V_IGMP };
	uint8_t f[2048];

	CHECK_EQ(wg_csum(rfc1071, sizeof(rfc1071)), 0x220d);
	CHECK_EQ(wg_csum_fold(wg_csum_partial(rfc1071, sizeof(rfc1071), 0)), 0x220d);
	CHECK_EQ(wg_csum(one, 1), 0xfeff);
	CHECK_EQ(wg_csum(one, 0), 0xffff);
	/* Header checksums as the kernel stored them. */
	for (size_t i = 0; i < sizeof(v4s) / sizeof(v4s[0]); i++) {
		size_t hl;

		load(f, sizeof(f), v4s[i]);
		hl = (size_t)(f[14] & 15) * 4;
		CHECK_EQ(wg_csum_ipv4_header(f + 14, hl), rd16(f + 24));
		CHECK_EQ(wg_csum(f + 14, hl), 0);
	}
}

/* L4 checksums the kernel computed, verified in place and recomputed with the field 0. */
static void check_l4(int id, size_t l4_off, uint8_t proto, size_t csum_at)
{
	uint8_t f[2048];
	size_t len = load(f, sizeof(f), id);
	bool six = rd16(f + 12) == WG_ETHERTYPE_IPV6;
	struct wg_ip s = six ? v6_at(f + 22) : v4(f + 26), d = six ? v6_at(f + 38) : v4(f + 30);
	size_t l4len = len - l4_off;
	uint16_t stored = rd16(f + l4_off + csum_at);

	CHECK_EQ(wg_csum_l4(&s, &d, proto, f + l4_off, l4len), 0);
	wr16(f + l4_off + csum_at, 0);
	CHECK_EQ(wg_csum_l4(&s, &d, proto, f + l4_off, l4len), stored);
}

static void test_checksum_captured(void)
{
	uint8_t f[256];

	check_l4(V_ECHO6, 54, 58, 2);
	check_l4(V_ECHO6_REP, 54, 58, 2);
	check_l4(V_NS, 54, 58, 2);
	check_l4(V_NA, 54, 58, 2);
	check_l4(V_UNREACH6, 54, 58, 2);
	check_l4(V_MLD, 62, 58, 2);
	check_l4(V_DAD_NS, 54, 58, 2);
	/* ICMPv4 has no pseudo-header. */
	load(f, sizeof(f), V_ECHO4);
	CHECK_EQ(wg_csum(f + 34, 64), 0);
	load(f, sizeof(f), V_UNREACH4);
	CHECK_EQ(wg_csum(f + 34, 46), 0);
}

/*
 * UDP from veth carries only the folded pseudo-header sum, the kernel's own computation of
 * it: summing zeros of the same length through wg_csum_l4 must give its complement. The
 * full checksums were computed with Python's sum of 16-bit words:
 *   UDP4 0xa1b6, UDP6 0x1c81.
 */
static void test_udp_offload(void)
{
	static const uint8_t zeros[18];
	uint8_t f[128];
	struct wg_ip s, d;
	struct wg_pkt_info pi;
	size_t len;

	for (int six = 0; six < 2; six++) {
		len = load(f, sizeof(f), six ? V_UDP6 : V_UDP4);
		CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
		s = pi.src;
		d = pi.dst;
		CHECK_EQ((uint16_t)~wg_csum_l4(&s, &d, 17, zeros, 18), rd16(f + pi.l4_off + 6));
		wr16(f + pi.l4_off + 6, 0);
		CHECK_EQ(wg_csum_l4(&s, &d, 17, f + pi.l4_off, 18), six ? 0x1c81 : 0xa1b6);
	}
}

/* Complete a captured UDP checksum, as the receiving NIC would have checked it. */
static void fix_udp(uint8_t *f, const struct wg_pkt_info *pi)
{
	uint8_t *udp = f + pi->l4_off;

	wr16(udp + 6, 0);
	wr16(udp + 6, naive_l4(&pi->src, &pi->dst, 17, udp, rd16(udp + 4)));
}

static void test_checksum_random(void)
{
	static uint8_t buf[1700];

	for (int it = 0; it < 3000; it++) {
		size_t len = rnd() % sizeof(buf), cut = (rnd() % (len + 1)) & ~(size_t)1;
		struct wg_ip s = { .family = (it & 1) ? WG_AF_INET6 : WG_AF_INET }, d = s;
		uint8_t proto = (uint8_t)rnd();
		uint32_t acc;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		for (size_t i = 0; i < 16; i++) {
			s.addr[i] = (uint8_t)rnd();
			d.addr[i] = (uint8_t)rnd();
		}
		CHECK_EQ(wg_csum(buf, len), naive_csum(buf, len));
		acc = wg_csum_partial(buf, cut, 0);
		CHECK_EQ(wg_csum_fold(wg_csum_partial(buf + cut, len - cut, acc)),
			 naive_csum(buf, len));
		CHECK_EQ(wg_csum_l4(&s, &d, proto, buf, len), naive_l4(&s, &d, proto, buf, len));
	}
	/* The sum never overflows: 64 KiB of 0xff, in one call and through the pseudo-header. */
	uint8_t *big = malloc(65535);
	struct wg_ip ones = { .family = WG_AF_INET6 };

	memset(big, 0xff, 65535);
	memset(ones.addr, 0xff, 16);
	CHECK_EQ(wg_csum(big, 65535), naive_csum(big, 65535));
	CHECK_EQ(wg_csum_l4(&ones, &ones, 0xff, big, 65535),
		 naive_l4(&ones, &ones, 0xff, big, 65535));
	free(big);
}

struct expect {
	int id;
	uint16_t ethertype, l4_off, l3_len;
	uint8_t family, proto, ttl;
	bool df, fragment;
	uint16_t frag_offset, sport, dport;
};

static const struct expect expects[] = {
	{ V_ECHO4, 0x0800, 34, 84, 4, 1, 64, true, false, 0, 0, 0 },
	{ V_ECHO4_REP, 0x0800, 34, 84, 4, 1, 64, false, false, 0, 0, 0 },
	{ V_ECHO6, 0x86dd, 54, 104, 6, 58, 64, true, false, 0, 0, 0 },
	{ V_RR, 0x0800, 74, 124, 4, 1, 64, true, false, 0, 0, 0 },
	{ V_IGMP, 0x0800, 38, 40, 4, 2, 1, true, false, 0, 0, 0 },
	{ V_MLD, 0x86dd, 62, 136, 6, 58, 1, true, false, 0, 0, 0 },
	{ V_UDP4, 0x0800, 34, 38, 4, 17, 64, true, false, 0, 47676, 9 },
	{ V_UDP6, 0x86dd, 54, 58, 6, 17, 64, true, false, 0, 51569, 9 },
	{ V_FRAG4_FIRST, 0x0800, 34, 1500, 4, 1, 64, false, true, 0, 0, 0 },
	{ V_FRAG4_REST, 0x0800, 34, 548, 4, 1, 64, false, true, 1480, 0, 0 },
	{ V_FRAG6_FIRST, 0x86dd, 62, 1496, 6, 58, 64, true, true, 0, 0, 0 },
	{ V_FRAG6_REST, 0x86dd, 62, 608, 6, 58, 64, true, true, 1448, 0, 0 },
	{ V_UNREACH4, 0x0800, 34, 66, 4, 1, 64, false, false, 0, 0, 0 },
	{ V_UNREACH6, 0x86dd, 54, 106, 6, 58, 64, true, false, 0, 0, 0 },
	{ V_NS, 0x86dd, 54, 72, 6, 58, 255, true, false, 0, 0, 0 },
};

static void test_parse_captured(void)
{
	uint8_t f[2048];

	for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		const struct expect *e = &expects[i];
		struct wg_pkt_info pi, bare;
		size_t len = load(f, sizeof(f), e->id);

		CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
		CHECK_EQ(pi.ethertype, e->ethertype);
		CHECK_EQ(pi.l3_off, 14);
		CHECK_EQ(pi.l4_off, e->l4_off);
		CHECK_EQ(pi.l3_len, e->l3_len);
		CHECK_EQ(pi.family, e->family);
		CHECK_EQ(pi.proto, e->proto);
		CHECK_EQ(pi.ttl, e->ttl);
		CHECK_EQ(pi.df, e->df);
		CHECK_EQ(pi.fragment, e->fragment);
		CHECK_EQ(pi.frag_offset, e->frag_offset);
		CHECK_EQ(pi.sport, e->sport);
		CHECK_EQ(pi.dport, e->dport);
		CHECK_EQ(pi.src.family, e->family);
		CHECK_MEM(pi.src.addr, f + (e->family == 4 ? 26 : 22), e->family == 4 ? 4 : 16);
		CHECK_MEM(pi.dst.addr, f + (e->family == 4 ? 30 : 38), e->family == 4 ? 4 : 16);
		/* The same packet bare: offsets 14 less, no ethertype. */
		CHECK_EQ(wg_pkt_parse_ip(&bare, f + 14, len - 14), 0);
		CHECK_EQ(bare.ethertype, 0);
		CHECK_EQ(bare.l3_off, 0);
		CHECK_EQ(bare.l4_off, e->l4_off - 14);
		CHECK_EQ(bare.l3_len, e->l3_len);
		CHECK_EQ(bare.proto, e->proto);
		CHECK_EQ(bare.dport, e->dport);
	}
}

static void test_parse_refusals(void)
{
	uint8_t f[2048], *ip = f + 14;
	struct wg_pkt_info pi;
	size_t len;

	len = load(f, sizeof(f), V_UDP4);
	/* Ethernet padding past the IP length is fine: a 60-byte frame. */
	memset(f + len, 0xee, 60 - len);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, 60), 0);
	CHECK_EQ(pi.l3_len, 38);
	CHECK_EQ(pi.dport, 9);
	f[24] ^= 1;                                  /* header checksum */
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_BAD_CHECKSUM);
	f[24] ^= 1;
	ip[0] = 0x44;                                /* IHL 4 */
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_BAD_HEADER_LEN);
	ip[0] = 0x55;                                /* version 5 */
	CHECK_EQ(wg_pkt_parse_ip(&pi, ip, len - 14), WG_PKT_BAD_VERSION);
	ip[0] = 0x45;
	wr16(ip + 2, 19);                            /* total below the header */
	fix_ip4(ip);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_BAD_TOTAL_LEN);
	wr16(ip + 2, 39);                            /* one past the buffer */
	fix_ip4(ip);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_TRUNCATED);
	wr16(ip + 2, 27);                            /* UDP header cut short */
	fix_ip4(ip);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_TRUNCATED);
	wr16(ip + 2, 28);
	fix_ip4(ip);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
	/* An IPv6 packet under the IPv4 ethertype, and the reverse. */
	len = load(f, sizeof(f), V_UDP6);
	wr16(f + 12, WG_ETHERTYPE_IPV4);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_BAD_VERSION);
	len = load(f, sizeof(f), V_UDP4);
	wr16(f + 12, WG_ETHERTYPE_IPV6);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_BAD_VERSION);
	/* VLAN tags and other ethertypes are not ours. */
	wr16(f + 12, WG_ETHERTYPE_VLAN);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_UNSUPPORTED);
	CHECK_EQ(pi.ethertype, WG_ETHERTYPE_VLAN);
	wr16(f + 12, WG_ETHERTYPE_QINQ);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_UNSUPPORTED);
	wr16(f + 12, 0x88cc);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_UNSUPPORTED);
	/* A TCP header must be whole (20 bytes), ports read from it. */
	len = load(f, sizeof(f), V_UDP4);
	ip[9] = 6;
	fix_ip4(ip);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_TRUNCATED);
	memset(f + len, 0, 2);
	wr16(ip + 2, 40);
	fix_ip4(ip);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len + 2), 0);
	CHECK_EQ(pi.sport, 47676);
	/* ARP parses as a frame of family 0. */
	len = load(f, sizeof(f), V_ARP_REQ);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
	CHECK_EQ(pi.ethertype, WG_ETHERTYPE_ARP);
	CHECK_EQ(pi.family, 0);
	CHECK_EQ(pi.l3_off, 14);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, 41), WG_PKT_TRUNCATED);
}

/* IHL 6..15: NOPs and a record route option; the UDP header is found after them. */
static void test_ipv4_options(void)
{
	for (size_t words = 1; words <= 10; words++) {
		uint8_t f[256], opt[40];
		struct wg_pkt_info pi;
		size_t len = load(f, sizeof(f), V_UDP4);

		memset(opt, 1, sizeof(opt));             /* NOPs */
		if (words >= 2) {                        /* an empty record route at the end */
			size_t at = words * 4 - 7;

			opt[at] = 7;
			opt[at + 1] = 7;
			opt[at + 2] = 4;
			memset(opt + at + 3, 0, 4);
		}
		len = add_opts4(f, len, opt, words * 4);
		CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
		CHECK_EQ(pi.l4_off, 34 + words * 4);
		CHECK_EQ(pi.l3_len, 38 + words * 4);
		CHECK_EQ(pi.sport, 47676);
		CHECK_EQ(pi.dport, 9);
		wr16(f + 16, (uint16_t)(20 + words * 4 + 7));     /* UDP one byte short */
		fix_ip4(f + 14);
		CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_TRUNCATED);
		f[23] = 1;                                        /* ICMP: no ports needed */
		fix_ip4(f + 14);
		CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
		CHECK_EQ(pi.l4_off, 34 + words * 4);
	}
}

/* Extension headers on the captured UDP6 packet, added one by one in front. */
static void test_ipv6_ext(void)
{
	static const uint8_t dst_opts[16] = { 0, 1, 1, 12 };         /* PadN fills it */
	static const uint8_t routing[24] = { 0, 2, 4, 0 };           /* type 4, 0 left */
	static const uint8_t hbh[8] = { 0, 0, 5, 2, 0, 0, 1, 0 };    /* router alert */
	static const uint8_t frag_first[8] = { 0, 0, 0x00, 0x01, 1, 2, 3, 4 };
	static const uint8_t frag_rest[8] = { 0, 0, 0x05, 0xa8, 1, 2, 3, 4 };
	uint8_t f[512], g[512];
	struct wg_pkt_info pi;
	size_t len = load(f, sizeof(f), V_UDP6), glen;

	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
	fix_udp(f, &pi);
	len = insert_ext6(f, len, 60, dst_opts, sizeof(dst_opts));
	len = insert_ext6(f, len, 44, frag_first, sizeof(frag_first));
	len = insert_ext6(f, len, 43, routing, sizeof(routing));
	len = insert_ext6(f, len, 60, dst_opts, sizeof(dst_opts));
	memcpy(g, f, len);
	glen = len;
	len = insert_ext6(f, len, 0, hbh, sizeof(hbh));
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
	CHECK_EQ(pi.proto, 17);
	CHECK_EQ(pi.l4_off, 54 + 8 + 16 + 24 + 8 + 16);
	CHECK_EQ(pi.l3_len, len - 14);
	CHECK(pi.fragment);
	CHECK_EQ(pi.frag_offset, 0);
	CHECK_EQ(pi.sport, 51569);
	CHECK_EQ(pi.dport, 9);
	/* The UDP checksum still holds: extension headers are not in the pseudo-header. */
	CHECK_EQ(wg_csum_l4(&pi.src, &pi.dst, 17, f + pi.l4_off, 18), 0);
	/* Hop-by-hop anywhere but first is refused (RFC 8200 4.1). */
	len = insert_ext6(g, glen, 0, hbh, sizeof(hbh));
	len = insert_ext6(g, len, 60, dst_opts, sizeof(dst_opts));
	CHECK_EQ(wg_pkt_parse_frame(&pi, g, len), WG_PKT_BAD_HEADER_LEN);
	/* A second fragment header is refused. */
	len = load(f, sizeof(f), V_UDP6);
	len = insert_ext6(f, len, 44, frag_first, 8);
	len = insert_ext6(f, len, 44, frag_first, 8);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_BAD_HEADER_LEN);
	/* A non-first fragment: the walk stops at its header, no ports. */
	len = load(f, sizeof(f), V_UDP6);
	len = insert_ext6(f, len, 60, dst_opts, sizeof(dst_opts));
	len = insert_ext6(f, len, 44, frag_rest, 8);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
	CHECK_EQ(pi.proto, 60);
	CHECK_EQ(pi.l4_off, 62);
	CHECK_EQ(pi.frag_offset, 1448);
	CHECK_EQ(pi.sport, 0);
	/* An extension header longer than the payload length says. */
	len = load(f, sizeof(f), V_UDP6);
	len = insert_ext6(f, len, 60, dst_opts, sizeof(dst_opts));
	f[55] = 4;                                   /* 40 bytes of a 34-byte payload */
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_BAD_HEADER_LEN);
	f[55] = 3;                                   /* 32: 2 bytes left for UDP */
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_TRUNCATED);
	/* The chain names one more header where the payload ends: exactly as long a heap
	 * buffer, so reading the missing header would be caught. */
	for (int last = 0; last < 2; last++) {
		static const uint8_t hbh_pad[8] = { 0, 0, 1, 4 };
		uint8_t *heap;

		len = load(f, sizeof(f), V_UDP6);
		len = insert_ext6(f, len, 0, hbh_pad, 8);
		f[54] = last ? 44 : 60;
		wr16(f + 18, 8);
		heap = malloc(62);
		memcpy(heap, f, 62);
		CHECK_EQ(wg_pkt_parse_frame(&pi, heap, 62), WG_PKT_BAD_HEADER_LEN);
		free(heap);
	}
	/* No next header: the walk ends there, proto 59. */
	len = load(f, sizeof(f), V_UDP6);
	f[20] = 59;
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
	CHECK_EQ(pi.proto, 59);
	CHECK_EQ(pi.l4_off, 54);
	/* A payload length past the buffer. */
	len = load(f, sizeof(f), V_UDP6);
	wr16(f + 18, 19);
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), WG_PKT_TRUNCATED);
}

static void test_arp(void)
{
	uint8_t f[128], out[128];
	struct wg_arp a;
	size_t len = load(f, sizeof(f), V_ARP_REQ);
	uint8_t *heap;

	CHECK_EQ(wg_pkt_parse_arp(&a, f, len), 0);
	CHECK_EQ(a.op, 1);
	CHECK_MEM(a.sha, mac_a, 6);
	CHECK_MEM(a.spa, ip4_a, 4);
	CHECK_MEM(a.tpa, ip4_b, 4);
	CHECK_MEM(a.tha, "\0\0\0\0\0\0", 6);
	/* What A sent is what we build in its place, plus the padding to 60. */
	memset(out, 0xaa, sizeof(out));
	CHECK_EQ(wg_pkt_build_arp_request(out, sizeof(out), mac_a, ip4_a, ip4_b), 60);
	CHECK_MEM(out, f, 42);
	CHECK_MEM(out + 42, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 18);
	CHECK_EQ(out[60], 0xaa);
	CHECK_EQ(wg_pkt_parse_arp(&a, out, 60), 0);
	/* B's reply, the same way. */
	len = load(f, sizeof(f), V_ARP_REP);
	CHECK_EQ(wg_pkt_parse_arp(&a, f, len), 0);
	CHECK_EQ(a.op, 2);
	CHECK_MEM(a.sha, mac_b, 6);
	CHECK_MEM(a.tha, mac_a, 6);
	CHECK_EQ(wg_pkt_build_arp_reply(out, sizeof(out), mac_b, ip4_b, mac_a, ip4_a), 60);
	CHECK_MEM(out, f, 42);
	/* Refusals: other ops, hardware, protocol, a group sender, VLAN, short. */
	f[21] = 3;
	CHECK_EQ(wg_pkt_parse_arp(&a, f, len), WG_PKT_UNSUPPORTED);
	f[21] = 2;
	f[15] = 6;
	CHECK_EQ(wg_pkt_parse_arp(&a, f, len), WG_PKT_UNSUPPORTED);
	f[15] = 1;
	f[18] = 8;
	CHECK_EQ(wg_pkt_parse_arp(&a, f, len), WG_PKT_UNSUPPORTED);
	f[18] = 6;
	f[22] = 1;
	CHECK_EQ(wg_pkt_parse_arp(&a, f, len), WG_PKT_BAD_ADDRESS);
	f[22] = 2;
	wr16(f + 12, WG_ETHERTYPE_VLAN);
	CHECK_EQ(wg_pkt_parse_arp(&a, f, len), WG_PKT_UNSUPPORTED);
	wr16(f + 12, WG_ETHERTYPE_ARP);
	CHECK_EQ(wg_pkt_parse_arp(&a, f, len), 0);
	CHECK_EQ(wg_pkt_parse_arp(&a, f, 41), WG_PKT_TRUNCATED);
	/* Too small a buffer: nothing written, and ASan watches the edge. */
	heap = malloc(59);
	CHECK_EQ(wg_pkt_build_arp_request(heap, 59, mac_a, ip4_a, ip4_b), 0);
	CHECK_EQ(wg_pkt_build_arp_reply(heap, 59, mac_b, ip4_b, mac_a, ip4_a), 0);
	free(heap);
	heap = malloc(60);
	CHECK_EQ(wg_pkt_build_arp_request(heap, 60, mac_a, ip4_a, ip4_b), 60);
	free(heap);
}

static void test_nd_captured(void)
{
	uint8_t f[256], out[256];
	struct wg_nd nd;
	struct wg_ip a = fd00(1), b = fd00(2), unspec = { .family = WG_AF_INET6 };
	size_t len = load(f, sizeof(f), V_NS);

	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), 0);
	CHECK_EQ(nd.type, WG_ND_NS);
	CHECK_MEM(nd.target.addr, b.addr, 16);
	CHECK(nd.has_lladdr);
	CHECK_MEM(nd.lladdr, mac_a, 6);
	CHECK_MEM(nd.src.addr, a.addr, 16);
	CHECK_MEM(nd.src_mac, mac_a, 6);
	/* Our NS is Linux's, byte for byte. */
	CHECK_EQ(wg_pkt_build_ns(out, sizeof(out), mac_a, &a, &b), WG_ND_FRAME_LEN);
	CHECK_EQ(len, WG_ND_FRAME_LEN);
	CHECK_MEM(out, f, WG_ND_FRAME_LEN);

	len = load(f, sizeof(f), V_NA);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), 0);
	CHECK_EQ(nd.type, WG_ND_NA);
	CHECK(nd.solicited);
	CHECK(nd.override_flag);
	CHECK(!nd.router);
	CHECK(nd.has_lladdr);
	CHECK_MEM(nd.lladdr, mac_b, 6);
	CHECK_MEM(nd.target.addr, b.addr, 16);
	/* Ours differs from Linux's in the R flag (we forward) and so in the checksum. */
	CHECK_EQ(wg_pkt_build_na(out, sizeof(out), mac_b, &b, mac_a, &a, true), WG_ND_FRAME_LEN);
	CHECK_MEM(out, f, 56);
	CHECK_EQ(out[58], 0xe0);
	CHECK_MEM(out + 59, f + 59, WG_ND_FRAME_LEN - 59);
	CHECK_EQ(naive_l4(&b, &a, 58, out + 54, 32), 0);
	out[58] = 0x60;
	fix_icmp6(out);
	CHECK_MEM(out, f, WG_ND_FRAME_LEN);

	/* The DAD probe: unspecified source, no LL option, a nonce option skipped. */
	len = load(f, sizeof(f), V_DAD_NS);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), 0);
	CHECK_EQ(nd.type, WG_ND_NS);
	CHECK(!nd.has_lladdr);
	CHECK_MEM(nd.src.addr, unspec.addr, 16);
	CHECK_EQ(nd.target.addr[15], 5);
	/* Answered to all-nodes, unsolicited. */
	a = fd00(5);
	CHECK_EQ(wg_pkt_build_na(out, sizeof(out), mac_b, &a, mac_a, &unspec, true),
		 WG_ND_FRAME_LEN);
	CHECK_MEM(out, "\x33\x33\0\0\0\x01", 6);
	CHECK_MEM(out + 38, "\xff\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	CHECK_EQ(wg_pkt_parse_nd(&nd, out, WG_ND_FRAME_LEN), 0);
	CHECK(!nd.solicited);
	CHECK(nd.router);

	/* Not NS or NA: a router solicitation, an MLD report (hop limit 1 too). */
	len = load(f, sizeof(f), V_RS);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_UNSUPPORTED);
	len = load(f, sizeof(f), V_MLD);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_UNSUPPORTED);
	len = load(f, sizeof(f), V_ARP_REQ);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_UNSUPPORTED);
	len = load(f, sizeof(f), V_UDP6);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_UNSUPPORTED);
}

static void test_nd_round_trip(void)
{
	for (int i = 0; i < 200; i++) {
		uint8_t out[WG_ND_FRAME_LEN], mac[6], to_mac[6];
		struct wg_ip me = { .family = WG_AF_INET6 }, to = me, tgt = me;
		struct wg_nd nd;
		bool sol = i & 1;

		for (int j = 0; j < 16; j++) {
			me.addr[j] = (uint8_t)rnd();
			to.addr[j] = (uint8_t)rnd();
			tgt.addr[j] = (uint8_t)rnd();
		}
		me.addr[0] = to.addr[0] = tgt.addr[0] = 0x20;   /* unicast */
		for (int j = 0; j < 6; j++) {
			mac[j] = (uint8_t)rnd();
			to_mac[j] = (uint8_t)rnd();
		}
		CHECK_EQ(wg_pkt_build_ns(out, sizeof(out), mac, &me, &tgt), WG_ND_FRAME_LEN);
		CHECK_EQ(wg_pkt_parse_nd(&nd, out, sizeof(out)), 0);
		CHECK_EQ(nd.type, WG_ND_NS);
		CHECK_MEM(nd.target.addr, tgt.addr, 16);
		CHECK_MEM(nd.lladdr, mac, 6);
		CHECK_MEM(nd.src.addr, me.addr, 16);
		CHECK_MEM(out + 3, tgt.addr + 13, 3);     /* 33:33:ff + low 24 bits */
		CHECK_MEM(out + 38 + 13, tgt.addr + 13, 3);
		CHECK_EQ(wg_pkt_build_na(out, sizeof(out), mac, &me, to_mac, &to, sol),
			 WG_ND_FRAME_LEN);
		CHECK_EQ(wg_pkt_parse_nd(&nd, out, sizeof(out)), 0);
		CHECK_EQ(nd.type, WG_ND_NA);
		CHECK_EQ(nd.solicited, sol);
		CHECK(nd.override_flag);
		CHECK_MEM(nd.target.addr, me.addr, 16);
		CHECK_MEM(nd.lladdr, mac, 6);
		CHECK_MEM(out, to_mac, 6);
		CHECK_MEM(out + 38, to.addr, 16);
	}
}

static void test_nd_refusals(void)
{
	uint8_t f[256], *heap;
	struct wg_nd nd;
	struct wg_ip a = fd00(1), b = fd00(2), unspec = { .family = WG_AF_INET6 };
	struct wg_ip four = v4(ip4_a);
	static const uint8_t frag[8] = { 0, 0, 0, 0, 1, 2, 3, 4 };
	size_t len = load(f, sizeof(f), V_NS);

	f[21] = 254;                      /* hop limit: not in the checksum */
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_BAD_HOP_LIMIT);
	f[21] = 255;
	f[57] ^= 1;
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_BAD_CHECKSUM);
	f[57] ^= 1;
	f[55] = 1;                        /* code 1 */
	fix_icmp6(f);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_BAD_ICMP);
	len = load(f, sizeof(f), V_NS);
	f[79] = 0;                        /* a zero-length option */
	fix_icmp6(f);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_BAD_OPTION);
	f[78] = 14;                       /* an option past the end, one we would skip */
	f[79] = 2;
	fix_icmp6(f);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_BAD_OPTION);
	len = load(f, sizeof(f), V_NS);
	f[62] = 0xff;                     /* a multicast target */
	fix_icmp6(f);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_BAD_ADDRESS);
	/* Shorter than an NS: the IPv6 length says 20 bytes of ICMPv6. */
	len = load(f, sizeof(f), V_NS);
	wr16(f + 18, 20);
	fix_icmp6(f);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_BAD_ICMP);
	/* A solicited NA to a multicast group (RFC 4861 7.1.2). */
	len = load(f, sizeof(f), V_NA);
	memcpy(f + 38, "\xff\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	fix_icmp6(f);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_BAD_ICMP);
	f[58] = 0x20;                     /* unsolicited: fine */
	fix_icmp6(f);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), 0);
	/* A DAD probe with an LL option, or not to a solicited-node group. */
	CHECK_EQ(wg_pkt_build_ns(f, sizeof(f), mac_a, &unspec, &b), WG_ND_FRAME_LEN);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, WG_ND_FRAME_LEN), WG_PKT_BAD_OPTION);
	len = load(f, sizeof(f), V_DAD_NS);
	memcpy(f + 38, b.addr, 16);
	fix_icmp6(f);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_BAD_ADDRESS);
	/* Fragmented ND (RFC 6980). */
	len = load(f, sizeof(f), V_NS);
	len = insert_ext6(f, len, 44, frag, 8);
	CHECK_EQ(wg_pkt_parse_nd(&nd, f, len), WG_PKT_UNSUPPORTED);
	/* Builders refuse a small buffer or an IPv4 address. */
	heap = malloc(WG_ND_FRAME_LEN - 1);
	CHECK_EQ(wg_pkt_build_ns(heap, WG_ND_FRAME_LEN - 1, mac_a, &a, &b), 0);
	CHECK_EQ(wg_pkt_build_na(heap, WG_ND_FRAME_LEN - 1, mac_a, &a, mac_b, &b, true), 0);
	free(heap);
	CHECK_EQ(wg_pkt_build_ns(f, sizeof(f), mac_a, &four, &b), 0);
	CHECK_EQ(wg_pkt_build_na(f, sizeof(f), mac_a, &a, mac_b, &four, true), 0);
}

static void test_echo4(void)
{
	uint8_t f[256], linux_reply[256], copy[256];
	size_t len = load(f, sizeof(f), V_ECHO4);
	struct wg_pkt_info pi;
	static const uint8_t lsrr[8] = { 1, 131, 7, 4, 192, 0, 2, 9 };
	static const uint8_t bad_opt[4] = { 68, 9, 5, 0 };      /* timestamp past the end */

	load(linux_reply, sizeof(linux_reply), V_ECHO4_REP);
	CHECK(wg_pkt_echo_reply(f, len));
	/* Linux clears DF and picks its own IP ID; the rest matches. */
	CHECK_MEM(f, linux_reply, 14);
	CHECK_MEM(f + 22, linux_reply + 22, 2);            /* TTL 64, ICMP */
	CHECK_MEM(f + 26, linux_reply + 26, len - 26);     /* addresses, ICMP whole */
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);      /* header checksum verified */
	CHECK_EQ(naive_csum(f + 34, 64), 0);
	CHECK(!wg_pkt_echo_reply(f, len));                 /* a reply is not a request */

	/* Ping -R: our address goes into the record route, the reply's ICMP is Linux's. */
	len = load(f, sizeof(f), V_RR);
	load(linux_reply, sizeof(linux_reply), V_RR_REP);
	CHECK(wg_pkt_echo_reply(f, len));
	CHECK_MEM(f + 34, "\x01\x07\x27\x0c\xc0\x00\x02\x01\xc0\x00\x02\x02\0\0\0\0", 16);
	CHECK_MEM(f + 74, linux_reply + 74, len - 74);
	CHECK_EQ(naive_csum(f + 14, 60), 0);
	/* A full record route stays as it is. */
	len = load(f, sizeof(f), V_RR);
	f[37] = 40;
	fix_ip4(f + 14);
	memcpy(copy, f, len);
	CHECK(wg_pkt_echo_reply(f, len));
	CHECK_MEM(f + 34, copy + 34, 40);

	/* Padding after the IP packet: the reply keeps the length, padding untouched. */
	len = load(f, sizeof(f), V_ECHO4);
	memset(f + len, 0x5a, 20);
	CHECK(wg_pkt_echo_reply(f, len + 20));
	CHECK_EQ(f[len + 19], 0x5a);

	/* Refusals leave the frame as it was. */
	struct { const char *what; size_t at; uint8_t val; bool fix; } bad[] = {
		{ "icmp checksum", 36, 0x00, false },
		{ "broadcast mac", 0, 0xff, false },
		{ "multicast dst", 30, 224, true },
		{ "zero src", 26, 0, true },
		{ "loopback src", 26, 127, true },
		{ "fragment", 20, 0x20, true },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = load(f, sizeof(f), V_ECHO4);
		f[bad[i].at] = bad[i].val;
		if (bad[i].fix)
			fix_ip4(f + 14);
		memcpy(copy, f, len);
		if (!CHECK(!wg_pkt_echo_reply(f, len)))
			fprintf(stderr, "  accepted: %s\n", bad[i].what);
		CHECK_MEM(f, copy, len);
	}
	/* A code other than 0, with a good checksum. */
	len = load(f, sizeof(f), V_ECHO4);
	f[35] = 1;
	wr16(f + 36, 0);
	wr16(f + 36, naive_csum(f + 34, 64));
	CHECK(!wg_pkt_echo_reply(f, len));
	/* A source route, and malformed options. */
	len = load(f, sizeof(f), V_ECHO4);
	len = add_opts4(f, len, lsrr, sizeof(lsrr));
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
	CHECK(!wg_pkt_echo_reply(f, len));
	len = load(f, sizeof(f), V_ECHO4);
	len = add_opts4(f, len, bad_opt, sizeof(bad_opt));
	CHECK(!wg_pkt_echo_reply(f, len));
}

static void test_echo6(void)
{
	uint8_t f[256], linux_reply[256], copy[256];
	size_t len = load(f, sizeof(f), V_ECHO6);
	struct wg_ip a = fd00(1), b = fd00(2);
	static const uint8_t dst_opts[8] = { 0, 0, 1, 4 };

	load(linux_reply, sizeof(linux_reply), V_ECHO6_REP);
	CHECK(wg_pkt_echo_reply(f, len));
	/* Linux picks a new flow label; the rest, checksum included, matches. */
	CHECK_MEM(f, linux_reply, 15);
	CHECK_MEM(f + 18, linux_reply + 18, len - 18);
	CHECK_EQ(naive_l4(&b, &a, 58, f + 54, 64), 0);
	CHECK(!wg_pkt_echo_reply(f, len));

	len = load(f, sizeof(f), V_ECHO6);
	f[56] ^= 0x40;
	memcpy(copy, f, len);
	CHECK(!wg_pkt_echo_reply(f, len));
	CHECK_MEM(f, copy, len);
	len = load(f, sizeof(f), V_ECHO6);
	f[38] = 0xff;                                  /* to a multicast group */
	fix_icmp6(f);
	CHECK(!wg_pkt_echo_reply(f, len));
	len = load(f, sizeof(f), V_ECHO6);
	len = insert_ext6(f, len, 60, dst_opts, 8);   /* with an extension header */
	CHECK(!wg_pkt_echo_reply(f, len));
	len = load(f, sizeof(f), V_FRAG6_FIRST);
	CHECK(!wg_pkt_echo_reply(f, len));
	len = load(f, sizeof(f), V_NS);
	CHECK(!wg_pkt_echo_reply(f, len));
	len = load(f, sizeof(f), V_ARP_REQ);
	CHECK(!wg_pkt_echo_reply(f, len));
}

/* An error's own checks: it parses, is ICMP to the offender's source, checksums hold,
 * and it quotes the offender's first bytes. */
static void check_error(const uint8_t *out, size_t n, const uint8_t *off, size_t off_len,
			const struct wg_ip *src, uint8_t type, uint8_t code, uint32_t word)
{
	struct wg_pkt_info pi, opi;
	size_t hdrs, quote;

	if (!CHECK(n >= (src->family == WG_AF_INET ? 28u : 48u)))
		return;
	CHECK_EQ(wg_pkt_parse_ip(&opi, off, off_len), 0);
	CHECK_EQ(wg_pkt_parse_ip(&pi, out, n), 0);
	CHECK_EQ(pi.l3_len, n);
	CHECK_EQ(pi.proto, src->family == WG_AF_INET ? 1 : 58);
	CHECK_MEM(pi.src.addr, src->addr, 16);
	CHECK_MEM(pi.dst.addr, opi.src.addr, 16);
	hdrs = pi.l4_off + 8;
	quote = n - hdrs;
	CHECK_EQ(out[pi.l4_off], type);
	CHECK_EQ(out[pi.l4_off + 1], code);
	CHECK_EQ(((uint32_t)rd16(out + pi.l4_off + 4) << 16) | rd16(out + pi.l4_off + 6), word);
	if (src->family == WG_AF_INET) {
		CHECK_EQ(naive_csum(out + 20, n - 20), 0);
		CHECK_EQ(out[1], 0xc0);
		CHECK(n <= 576);
	} else {
		CHECK_EQ(naive_l4(&pi.src, &pi.dst, 58, out + 40, n - 40), 0);
		CHECK(n <= 1280);
	}
	CHECK(quote <= opi.l3_len);
	CHECK_MEM(out + hdrs, off, quote);
}

static const uint8_t gw4[4] = { 198, 51, 100, 1 };

static void test_icmp_error4(void)
{
	static uint8_t f[2048], out[2048];
	struct wg_ip src = v4(gw4);
	size_t len = load(f, sizeof(f), V_UDP4), n;
	static const uint8_t tc[4][2] = { { 3, 4 }, { 3, 0 }, { 3, 1 }, { 11, 0 } };

	for (int k = 0; k < 4; k++) {
		n = wg_pkt_build_icmp_error(out, sizeof(out), (enum wg_icmp_error)k, 1420, &src,
					    f + 14, len - 14);
		CHECK_EQ(n, 28 + 38);                       /* small: quoted whole */
		check_error(out, n, f + 14, len - 14, &src, tc[k][0], tc[k][1], k ? 0 : 1420);
	}
	/* The whole error fits 576 bytes: a 1500-byte first fragment is quoted 548. */
	len = load(f, sizeof(f), V_FRAG4_FIRST);
	n = wg_pkt_build_icmp_error(out, sizeof(out), WG_ICMP_FRAG_NEEDED, 70000, &src,
				    f + 14, len - 14);
	CHECK_EQ(n, 576);
	check_error(out, n, f + 14, len - 14, &src, 3, 4, 65535);
	/* Exactly enough room, then one byte less (in a heap buffer of that size). */
	uint8_t *heap = malloc(575);
	CHECK_EQ(wg_pkt_build_icmp_error(heap, 575, WG_ICMP_TTL_EXCEEDED, 0, &src, f + 14,
					 len - 14), 0);
	free(heap);
	heap = malloc(576);
	CHECK_EQ(wg_pkt_build_icmp_error(heap, 576, WG_ICMP_TTL_EXCEEDED, 0, &src, f + 14,
					 len - 14), 576);
	free(heap);
	/* In place: the offending packet's own buffer, big enough for the result. */
	len = load(f, sizeof(f), V_UDP4);
	n = wg_pkt_build_icmp_error(out, sizeof(out), WG_ICMP_HOST_UNREACH, 0, &src, f + 14,
				    len - 14);
	CHECK_EQ(wg_pkt_build_icmp_error(f + 14, sizeof(f) - 14, WG_ICMP_HOST_UNREACH, 0, &src,
					 f + 14, len - 14), n);
	CHECK_MEM(f + 14, out, n);
}

static void test_icmp_error6(void)
{
	static uint8_t f[2048], out[2048];
	struct wg_ip src = fd00(0x99), four = v4(gw4);
	size_t len = load(f, sizeof(f), V_UDP6), n;
	static const uint8_t tc[4][2] = { { 2, 0 }, { 1, 0 }, { 1, 3 }, { 3, 0 } };

	for (int k = 0; k < 4; k++) {
		n = wg_pkt_build_icmp_error(out, sizeof(out), (enum wg_icmp_error)k, 1420, &src,
					    f + 14, len - 14);
		CHECK_EQ(n, 48 + 58);
		check_error(out, n, f + 14, len - 14, &src, tc[k][0], tc[k][1], k ? 0 : 1420);
	}
	/* The family of src must match. */
	CHECK_EQ(wg_pkt_build_icmp_error(out, sizeof(out), WG_ICMP_NO_ROUTE, 0, &four, f + 14,
					 len - 14), 0);
	/* 1280 at most: the first fragment of a 2000-byte ping is quoted 1232 bytes. */
	len = load(f, sizeof(f), V_FRAG6_FIRST);
	n = wg_pkt_build_icmp_error(out, sizeof(out), WG_ICMP_FRAG_NEEDED, 1280, &src, f + 14,
				    len - 14);
	CHECK_EQ(n, 1280);
	check_error(out, n, f + 14, len - 14, &src, 2, 0, 1280);
	CHECK_EQ(wg_pkt_build_icmp_error(out, 1279, WG_ICMP_FRAG_NEEDED, 1280, &src, f + 14,
					 len - 14), 0);
	/* Echo requests are queries: they may get errors. */
	len = load(f, sizeof(f), V_ECHO6);
	CHECK(wg_pkt_build_icmp_error(out, sizeof(out), WG_ICMP_NO_ROUTE, 0, &src, f + 14,
				      len - 14) > 0);
	/* To a multicast group only packet too big goes (RFC 4443 2.4(e.3)). */
	len = load(f, sizeof(f), V_MLD);
	n = wg_pkt_build_icmp_error(out, sizeof(out), WG_ICMP_FRAG_NEEDED, 1280, &src, f + 14,
				    len - 14);
	CHECK_EQ(n, 48 + 136);
	check_error(out, n, f + 14, len - 14, &src, 2, 0, 1280);
	for (int k = 1; k < 4; k++)
		CHECK_EQ(wg_pkt_build_icmp_error(out, sizeof(out), (enum wg_icmp_error)k, 0, &src,
						 f + 14, len - 14), 0);
}

/* The rules: no error about an error, a later fragment, a group, a source that is not
 * one host; every kind refused alike. */
static void test_icmp_error_rules(void)
{
	static uint8_t f[2048], out[2048];
	struct wg_ip s4 = v4(gw4), s6 = fd00(0x99);
	struct {
		int id;
		size_t at;              /* byte to change, 0 for none */
		uint8_t val;
		const char *what;
	} cases[] = {
		{ V_UNREACH4, 0, 0, "Linux's own port unreachable" },
		{ V_UNREACH6, 0, 0, "Linux's own ICMPv6 port unreachable" },
		{ V_FRAG4_REST, 0, 0, "IPv4 non-first fragment" },
		{ V_FRAG6_REST, 0, 0, "IPv6 non-first fragment" },
		{ V_IGMP, 0, 0, "to 224.0.0.22" },
		{ V_DAD_NS, 0, 0, "from ::" },
		{ V_UDP4, 30, 255, "to 255.x (broadcast, class E)" },
		{ V_UDP4, 30, 239, "to multicast" },
		{ V_UDP4, 26, 0, "from 0.x" },
		{ V_UDP4, 26, 127, "from loopback" },
		{ V_UDP4, 26, 224, "from multicast" },
		{ V_UDP4, 26, 255, "from broadcast" },
		{ V_UDP6, 22, 0xff, "from multicast" },
		{ V_ECHO4, 34, 11, "about a time exceeded" },
		{ V_ECHO4, 34, 5, "about a redirect" },
		{ V_ECHO4, 34, 99, "about an unknown ICMP type" },
		{ V_ECHO6, 54, 137, "about an ICMPv6 redirect" },
		{ V_ECHO6, 54, 2, "about a packet too big" },
		{ V_ECHO4, 24, 0, "bad header checksum" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = load(f, sizeof(f), cases[i].id);
		const struct wg_ip *src = rd16(f + 12) == WG_ETHERTYPE_IPV4 ? &s4 : &s6;

		if (cases[i].at) {
			f[cases[i].at] = cases[i].val;
			if (src == &s4 && cases[i].at < 34 && cases[i].at != 24)
				fix_ip4(f + 14);
		}
		for (int k = 0; k < 4; k++) {
			size_t n = wg_pkt_build_icmp_error(out, sizeof(out), (enum wg_icmp_error)k,
							   1280, src, f + 14, len - 14);
			if (!CHECK_EQ(n, 0))
				fprintf(stderr, "  error sent: %s, kind %d\n", cases[i].what, k);
		}
	}
	/* The first fragments are answered. */
	size_t len = load(f, sizeof(f), V_FRAG4_FIRST);
	CHECK(wg_pkt_build_icmp_error(out, sizeof(out), WG_ICMP_NO_ROUTE, 0, &s4, f + 14,
				      len - 14) > 0);
	CHECK_EQ(wg_pkt_build_icmp_error(out, sizeof(out), (enum wg_icmp_error)4, 0, &s4,
					 f + 14, len - 14), 0);
}

static void random_ip4(uint8_t *ip, size_t hl)
{
	for (size_t i = 0; i < hl; i++)
		ip[i] = (uint8_t)rnd();
	ip[0] = (uint8_t)(0x40 | hl / 4);
	wr16(ip + 2, (uint16_t)(hl + rnd() % 1000));
	wr16(ip + 10, 0);
	wr16(ip + 10, naive_csum(ip, hl));
}

/* The header checksum recomputed from scratch, by the oracle. */
static uint16_t full_csum(const uint8_t *ip, size_t hl)
{
	uint8_t t[60];

	memcpy(t, ip, hl);
	wr16(t + 10, 0);
	return naive_csum(t, hl);
}

static void test_dec_ttl(void)
{
	uint8_t ip[60], before[60], f[256];
	unsigned edge = 0;

	for (int it = 0; it < 200000; it++) {
		size_t hl = 20 + 4 * (rnd() % 11);

		random_ip4(ip, hl);
		/* Every so often, steer the ID so the checksum after the decrement is 0x0000,
		 * the case where a careless incremental update writes 0xffff. */
		if (it % 8 == 0 && ip[8] > 1) {
			ip[8]--;
			wr16(ip + 4, 0);
			wr16(ip + 10, 0);
			wr16(ip + 4, naive_csum(ip, hl));       /* the sum becomes 0xffff */
			ip[8]++;
			wr16(ip + 10, naive_csum(ip, hl));
		}
		memcpy(before, ip, hl);
		if (before[8] <= 1) {
			CHECK(!wg_pkt_dec_ttl(ip, hl));
			CHECK_MEM(ip, before, hl);
			continue;
		}
		if (!wg_pkt_dec_ttl(ip, hl)) {
			CHECK(0);
			continue;
		}
		edge += rd16(ip + 10) == 0;
		check_total++;                          /* count quietly: 200k checks */
		if (ip[8] != before[8] - 1 || rd16(ip + 10) != full_csum(ip, hl))
			CHECK(0);
	}
	CHECK(edge > 1000);
	/* TTL 1 and 0: the caller sends time exceeded. */
	random_ip4(ip, 20);
	ip[8] = 1;
	CHECK(!wg_pkt_dec_ttl(ip, 20));
	ip[8] = 0;
	CHECK(!wg_pkt_dec_ttl(ip, 20));
	CHECK(!wg_pkt_dec_ttl(ip, 19));
	ip[8] = 2;
	CHECK(!wg_pkt_dec_ttl(ip, 19));
	/* IPv6: hop limit, no checksum. */
	size_t len = load(f, sizeof(f), V_UDP6);
	CHECK(wg_pkt_dec_ttl(f + 14, len - 14));
	CHECK_EQ(f[21], 63);
	f[21] = 1;
	CHECK(!wg_pkt_dec_ttl(f + 14, len - 14));
	CHECK_EQ(f[21], 1);
	f[21] = 2;
	CHECK(!wg_pkt_dec_ttl(f + 14, 39));
	/* A captured packet, then checked by the parser. */
	len = load(f, sizeof(f), V_RR);
	CHECK(wg_pkt_dec_ttl(f + 14, len - 14));
	struct wg_pkt_info pi;
	CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
	CHECK_EQ(pi.ttl, 63);
}

/* Every parser and builder over a heap copy of exactly n bytes: ASan checks the bounds. */
static void run_all(const uint8_t *data, size_t n)
{
	uint8_t out[1400];
	uint8_t *c = malloc(n ? n : 1);
	struct wg_pkt_info pi;
	struct wg_arp a;
	struct wg_nd nd;
	struct wg_ip s4 = v4(gw4), s6 = fd00(0x99);
	int r;

	memcpy(c, data, n);
	r = wg_pkt_parse_frame(&pi, c, n);
	if (r == 0 && pi.family) {
		check_total++;
		if (pi.l3_off + pi.l3_len > n || pi.l4_off > pi.l3_off + pi.l3_len ||
		    (pi.family == 4) != (pi.ethertype == WG_ETHERTYPE_IPV4))
			CHECK(0);
	}
	CHECK(r <= 0 && r >= -WG_PKT_NUM_ERRORS);
	(void)wg_pkt_parse_arp(&a, c, n);
	if (wg_pkt_parse_nd(&nd, c, n) == 0)
		CHECK(nd.type == WG_ND_NS || nd.type == WG_ND_NA);
	if (n > 14) {
		(void)wg_pkt_parse_ip(&pi, c + 14, n - 14);
		for (int k = 0; k < 4; k++) {
			size_t m = wg_pkt_build_icmp_error(out, sizeof(out), (enum wg_icmp_error)k,
							   1280, rd16(c + 12) == 0x0800 ? &s4 : &s6,
							   c + 14, n - 14);
			if (m) {
				check_total++;
				if (wg_pkt_parse_ip(&pi, out, m) != 0 || m > 1280)
					CHECK(0);
			}
		}
	}
	if (wg_pkt_echo_reply(c, n)) {
		CHECK_EQ(wg_pkt_parse_frame(&pi, c, n), 0);
		CHECK(!wg_pkt_echo_reply(c, n));
	}
	if (n > 14)
		(void)wg_pkt_dec_ttl(c + 14, n - 14);
	free(c);
}

static void test_truncations(void)
{
	static uint8_t f[2048];

	for (int id = 0; id < V_COUNT; id++) {
		size_t len = load(f, sizeof(f), id), full;
		struct wg_pkt_info pi;
		unsigned refused = 0;

		CHECK_EQ(wg_pkt_parse_frame(&pi, f, len), 0);
		full = pi.family ? (size_t)pi.l3_off + pi.l3_len : 42;
		for (size_t n = 0; n < len; n++) {
			run_all(f, n);
			uint8_t *c = malloc(n ? n : 1);
			memcpy(c, f, n);
			refused += n < full && wg_pkt_parse_frame(&pi, c, n) != 0;
			free(c);
		}
		CHECK_EQ(refused, full);
	}
}

/* Make the checksums of a corrupted frame right again, so that the parsers go past them
 * to the options, extension headers and lengths behind. */
static void repair(uint8_t *g, size_t n)
{
	if (n >= 34 && rd16(g + 12) == WG_ETHERTYPE_IPV4 && g[14] >> 4 == 4) {
		size_t hl = (size_t)(g[14] & 15) * 4, tl = rd16(g + 16);

		if (hl < 20 || 14 + hl > n)
			return;
		if (g[23] == 1 && tl > hl + 4 && 14 + tl <= n) {
			wr16(g + 14 + hl + 2, 0);
			wr16(g + 14 + hl + 2, naive_csum(g + 14 + hl, tl - hl));
		}
		fix_ip4(g + 14);
	}
	if (n >= 58 && rd16(g + 12) == WG_ETHERTYPE_IPV6 && g[20] == 58 &&
	    rd16(g + 18) >= 4 && 54u + rd16(g + 18) <= n)
		fix_icmp6(g);
}

static void test_corruptions(void)
{
	static uint8_t f[2048];

	for (int id = 0; id < V_COUNT; id++) {
		size_t len = load(f, sizeof(f), id);
		int rounds = len > 600 ? 300 : 3000;

		for (int it = 0; it < rounds; it++) {
			static uint8_t g[2048];
			int flips = 1 + (int)(rnd() % 4);
			size_t n = (rnd() % 4 == 0) ? rnd() % (len + 1) : len;

			memcpy(g, f, len);
			for (int k = 0; k < flips; k++)
				g[rnd() % len] = (uint8_t)rnd();
			/* Bias toward the headers, where the parsers branch. */
			if (rnd() % 2)
				g[rnd() % (len < 80 ? len : 80)] ^= (uint8_t)(1u << (rnd() % 8));
			if (rnd() % 2)
				repair(g, n);
			run_all(g, n);
		}
	}
	/* Plain noise behind each ethertype with the right version nibble. */
	for (int it = 0; it < 20000; it++) {
		static uint8_t g[200];
		size_t n = rnd() % sizeof(g);

		for (size_t i = 0; i < n; i++)
			g[i] = (uint8_t)rnd();
		if (n > 15) {
			wr16(g + 12, it % 3 == 0 ? 0x0800 : it % 3 == 1 ? 0x86dd : 0x0806);
			g[14] = (uint8_t)((it % 3 == 0 ? 0x40 : 0x60) | (g[14] & 15));
		}
		repair(g, n);
		run_all(g, n);
	}
}

static void test_strerror(void)
{
	CHECK(strcmp(wg_pkt_strerror(0), "ok") == 0);
	CHECK(strcmp(wg_pkt_strerror(1), "unknown") == 0);
	CHECK(strcmp(wg_pkt_strerror(-WG_PKT_NUM_ERRORS - 1), "unknown") == 0);
	for (int e = 1; e <= WG_PKT_NUM_ERRORS; e++) {
		CHECK(strcmp(wg_pkt_strerror(-e), "unknown") != 0);
		for (int o = 1; o < e; o++)
			CHECK(strcmp(wg_pkt_strerror(-e), wg_pkt_strerror(-o)) != 0);
	}
	CHECK(strstr(wg_pkt_strerror(WG_PKT_BAD_HOP_LIMIT), "255") != NULL);
}

static void test_write_eth(void)
{
	uint8_t out[WG_ETH_HLEN];

	wg_pkt_write_eth(out, mac_b, mac_a, WG_ETHERTYPE_IPV6);
	CHECK_MEM(out, "\x02\0\0\0\0\x0b\x02\0\0\0\0\x0a\x86\xdd", 14);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	test_checksum_known();
	test_checksum_captured();
	test_udp_offload();
	test_checksum_random();
	test_parse_captured();
	test_parse_refusals();
	test_ipv4_options();
	test_ipv6_ext();
	test_arp();
	test_nd_captured();
	test_nd_round_trip();
	test_nd_refusals();
	test_echo4();
	test_echo6();
	test_icmp_error4();
	test_icmp_error6();
	test_icmp_error_rules();
	test_dec_ttl();
	test_truncations();
	test_corruptions();
	test_strerror();
	test_write_eth();
	return check_report("pkt");
}
