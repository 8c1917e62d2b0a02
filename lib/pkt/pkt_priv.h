/* SPDX-License-Identifier: MIT */
/*
 * Byte-order accessors and address classes shared by the pkt sources. Accessors go byte by
 * byte: packet data has no alignment guarantee (an IPv4 header after 14 bytes of Ethernet
 * is 2-byte aligned at best), and compilers turn these into single loads anyway.
 */
#ifndef WG_PKT_PRIV_H
#define WG_PKT_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "wg_pkt.h"

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

#define ARP_LEN 28          /* Ethernet/IPv4 ARP body */
#define ICMP_HLEN 8         /* type, code, checksum, 4 bytes that depend on the type */

static inline bool mac_is_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

static inline bool ip4_is_multicast(const uint8_t *a)
{
	return (a[0] & 0xf0) == 0xe0;
}

/* Could this be one host's address on a wire? Not "this network" 0/8, not loopback,
 * not multicast, not class E and its limited broadcast (RFC 1812 4.2.2.11, 5.3.7). */
static inline bool ip4_is_unicast(const uint8_t *a)
{
	return a[0] != 0 && a[0] != 127 && a[0] < 224;
}

static inline bool ip6_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static inline bool ip6_is_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

static inline void ip_set(struct wg_ip *ip, uint8_t family, const uint8_t *addr)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	memcpy(ip->addr, addr, family == WG_AF_INET ? 4 : 16);
}

/* An IPv6 header with no flow label or traffic class; the caller fills the payload. */
static inline void ip6_write(uint8_t *p, uint16_t payload_len, uint8_t next_header,
			     uint8_t hop_limit, const uint8_t *src, const uint8_t *dst)
{
	put32(p, 6u << 28);
	put16(p + 4, payload_len);
	p[6] = next_header;
	p[7] = hop_limit;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
}

#endif
