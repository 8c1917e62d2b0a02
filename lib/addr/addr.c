/* SPDX-License-Identifier: MIT */
/*
 * IP addresses, prefixes and endpoints over inet_pton and inet_ntop. The libc does the
 * address grammar (dotted quads without leading zeros, every IPv6 shorthand, IPv4-mapped
 * forms); this file adds what the libc leaves open: a length instead of a NUL, prefix
 * lengths and ports with nothing but decimal digits, and brackets around IPv6 endpoints.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "wg_addr.h"

/*
 * The longest text any parser accepts, with its NUL: an IPv6 address in its longest form
 * ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 45) in brackets with ":65535", or with
 * "/128". Longer input is refused before it is copied.
 */
#define TEXT_MAX 64

/* What an address may be made of. inet_pton refuses everything else too, but saying it
 * here keeps zone ids ('%'), spaces and signs out whatever the libc's leniency. */
static const char ADDR_CHARS[] = "0123456789abcdefABCDEF:.";

static unsigned bits_of(uint8_t family)
{
	return family == WG_AF_INET ? 32 : 128;
}

/* s[0..len) as a C string in buf: refuse what a NUL-terminated parser would silently cut
 * (an embedded NUL) and what cannot be an address at all (empty, too long). */
static int copy(char buf[TEXT_MAX], const char *s, size_t len)
{
	if (!s || len == 0 || len >= TEXT_MAX || memchr(s, '\0', len))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

/* A decimal number 0..max: digits only, no sign, no space, no leading zero ("0" itself
 * is fine), so that "/024", "/+24" and ":080" are refused rather than guessed at. */
static int number(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 6)
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* A NUL-terminated address: IPv6 if it has a colon, IPv4 otherwise. */
static int address(struct wg_ip *ip, const char *s)
{
	struct wg_ip out = { 0 };

	if (s[strspn(s, ADDR_CHARS)] != '\0')
		return -1;
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, out.addr) != 1)
			return -1;
		out.family = WG_AF_INET6;
	} else {
		if (inet_pton(AF_INET, s, out.addr) != 1)
			return -1;
		out.family = WG_AF_INET;
	}
	*ip = out;
	return 0;
}

int wg_ip_parse(struct wg_ip *ip, const char *s, size_t len)
{
	char buf[TEXT_MAX];

	if (copy(buf, s, len))
		return -1;
	return address(ip, buf);
}

int wg_prefix_parse(struct wg_prefix *p, const char *s, size_t len, bool allow_host_bits)
{
	char buf[TEXT_MAX];
	struct wg_prefix out, masked;
	unsigned long plen;
	char *slash;

	if (copy(buf, s, len))
		return -1;
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (address(&out.ip, buf))
		return -1;
	plen = bits_of(out.ip.family);
	if (slash && number(slash + 1, plen, &plen))
		return -1;
	out.len = (uint8_t)plen;
	masked = out;
	wg_prefix_mask(&masked);
	if (!allow_host_bits && !wg_ip_equal(&masked.ip, &out.ip))
		return -1;
	*p = out;
	return 0;
}

int wg_endpoint_parse(struct wg_endpoint *e, const char *s, size_t len)
{
	char buf[TEXT_MAX];
	struct wg_endpoint out;
	char *host = buf, *port;
	unsigned long v;

	if (copy(buf, s, len))
		return -1;
	if (buf[0] == '[') {
		/* Brackets hold an IPv6 address and nothing else. */
		port = strchr(buf, ']');
		if (!port || port[1] != ':')
			return -1;
		*port = '\0';
		port += 2;
		host = buf + 1;
		if (!strchr(host, ':'))
			return -1;
	} else {
		/* One colon: IPv4. More would be a bare IPv6 address, whose last group could
		 * as well be the port: ambiguous, so refused. */
		port = strchr(buf, ':');
		if (!port || strchr(port + 1, ':'))
			return -1;
		*port++ = '\0';
	}
	if (address(&out.ip, host) || number(port, 65535, &v) || v == 0)
		return -1;
	out.port = (uint16_t)v;
	*e = out;
	return 0;
}

/* An address as text into out[0..cap); "(none)" for an unset one. */
static void ntop(char *out, size_t cap, const struct wg_ip *ip)
{
	int af = ip->family == WG_AF_INET ? AF_INET : AF_INET6;

	if ((ip->family != WG_AF_INET && ip->family != WG_AF_INET6) ||
	    !inet_ntop(af, ip->addr, out, (socklen_t)cap))
		snprintf(out, cap, "(none)");
}

void wg_ip_format(char out[WG_ADDR_STRLEN], const struct wg_ip *ip)
{
	ntop(out, WG_ADDR_STRLEN, ip);
}

void wg_prefix_format(char out[WG_ADDR_STRLEN], const struct wg_prefix *p)
{
	char ip[INET6_ADDRSTRLEN];

	ntop(ip, sizeof(ip), &p->ip);
	if (p->ip.family == WG_AF_INET || p->ip.family == WG_AF_INET6)
		snprintf(out, WG_ADDR_STRLEN, "%s/%u", ip, (unsigned)p->len);
	else
		snprintf(out, WG_ADDR_STRLEN, "%s", ip);
}

void wg_endpoint_format(char out[WG_ADDR_STRLEN], const struct wg_endpoint *e)
{
	char ip[INET6_ADDRSTRLEN];

	ntop(ip, sizeof(ip), &e->ip);
	if (e->ip.family == WG_AF_INET)
		snprintf(out, WG_ADDR_STRLEN, "%s:%u", ip, (unsigned)e->port);
	else if (e->ip.family == WG_AF_INET6)
		snprintf(out, WG_ADDR_STRLEN, "[%s]:%u", ip, (unsigned)e->port);
	else
		snprintf(out, WG_ADDR_STRLEN, "%s", ip);
}

/* The address as two big-endian 64-bit halves (IPv4: its 32 bits at the top of hi). */
static void halves(const struct wg_ip *ip, uint64_t *hi, uint64_t *lo)
{
	uint64_t h, l;

	memcpy(&h, ip->addr, 8);
	memcpy(&l, ip->addr + 8, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	h = __builtin_bswap64(h);
	l = __builtin_bswap64(l);
#endif
	*hi = h;
	*lo = l;
}

bool wg_prefix_contains(const struct wg_prefix *p, const struct wg_ip *ip)
{
	unsigned len = p->len;
	uint64_t ph, pl, ah, al, mh, ml;

	if (p->ip.family != ip->family || (ip->family != WG_AF_INET && ip->family != WG_AF_INET6))
		return false;
	if (ip->family == WG_AF_INET && len > 32)
		len = 32;
	if (len > 128)
		len = 128;
	halves(&p->ip, &ph, &pl);
	halves(ip, &ah, &al);
	if (ip->family == WG_AF_INET) {
		ph &= 0xffffffff00000000ull;   /* bytes past an IPv4 address do not count */
		ah &= 0xffffffff00000000ull;
		pl = al = 0;
	}
	mh = len >= 64 ? ~0ull : len ? ~0ull << (64 - len) : 0;
	ml = len <= 64 ? 0 : len >= 128 ? ~0ull : ~0ull << (128 - len);
	return ((ph ^ ah) & mh) == 0 && ((pl ^ al) & ml) == 0;
}

void wg_prefix_mask(struct wg_prefix *p)
{
	unsigned len = p->len, bits = bits_of(p->ip.family);
	unsigned i;

	if (len > bits)
		len = bits;
	/* Bytes past the family's size are cleared too, so equal prefixes compare equal
	 * as whole structs. */
	for (i = len / 8; i < 16; i++) {
		if (i == len / 8 && len % 8)
			p->ip.addr[i] &= (uint8_t)(0xff00u >> (len % 8));
		else
			p->ip.addr[i] = 0;
	}
}
