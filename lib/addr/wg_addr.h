/* SPDX-License-Identifier: MIT */
/*
 * Addresses as the configuration, the control sockets and the data path share them: IP
 * prefixes (allowed IPs, port addresses) and UDP endpoints, IPv4 or IPv6, in network byte
 * order. Parsers are strict and take a length, so they serve text from files and sockets
 * alike; formatters write what the parsers read back.
 */
#ifndef WG_ADDR_H
#define WG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WG_AF_INET  4
#define WG_AF_INET6 6

struct wg_ip {
	uint8_t family;          /* WG_AF_INET or WG_AF_INET6; 0 = unset */
	uint8_t addr[16];        /* IPv4 in the first 4 bytes */
};

struct wg_prefix {
	struct wg_ip ip;
	uint8_t len;             /* 0..32 or 0..128 */
};

struct wg_endpoint {
	struct wg_ip ip;
	uint16_t port;           /* host byte order */
};

/* Longest text any formatter writes, with its NUL. */
#define WG_ADDR_STRLEN 64

/* "192.0.2.1" or "2001:db8::1". 0, or -1. */
int wg_ip_parse(struct wg_ip *ip, const char *s, size_t len);
/* "10.0.0.0/8", "fd00::/64"; a bare address means a host prefix (/32, /128). Host bits
 * below the prefix are refused unless `allow_host_bits` (a port address like 10.0.0.1/24
 * keeps them; an allowed IP may not). 0, or -1. */
int wg_prefix_parse(struct wg_prefix *p, const char *s, size_t len, bool allow_host_bits);
/* "192.0.2.1:51820" or "[2001:db8::1]:51820"; port 1..65535. 0, or -1. */
int wg_endpoint_parse(struct wg_endpoint *e, const char *s, size_t len);

void wg_ip_format(char out[WG_ADDR_STRLEN], const struct wg_ip *ip);
void wg_prefix_format(char out[WG_ADDR_STRLEN], const struct wg_prefix *p);
void wg_endpoint_format(char out[WG_ADDR_STRLEN], const struct wg_endpoint *e);

/* Same family and the same address (IPv4: the first 4 bytes; what follows is ignored).
 * Inline: the data path compares addresses for every packet. */
static inline bool wg_ip_equal(const struct wg_ip *a, const struct wg_ip *b)
{
	uint64_t a0, a1, b0, b1;
	uint32_t a4, b4;

	if (a->family != b->family)
		return false;
	if (a->family == WG_AF_INET) {
		memcpy(&a4, a->addr, 4);
		memcpy(&b4, b->addr, 4);
		return a4 == b4;
	}
	if (a->family != WG_AF_INET6)
		return true;
	memcpy(&a0, a->addr, 8);
	memcpy(&a1, a->addr + 8, 8);
	memcpy(&b0, b->addr, 8);
	memcpy(&b1, b->addr + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}
/* Is ip inside prefix p (same family)? */
bool wg_prefix_contains(const struct wg_prefix *p, const struct wg_ip *ip);
/* Clear the bits below the prefix length. */
void wg_prefix_mask(struct wg_prefix *p);

#endif
