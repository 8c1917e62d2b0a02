/* SPDX-License-Identifier: MIT */
/*
 * Packet parsing and building over plain byte buffers: Ethernet, IPv4/IPv6 with extension
 * headers, ARP, IPv6 neighbour discovery, ICMP echo and ICMP errors, and the Internet
 * checksum. No DPDK here: the gateway calls these on mbuf data, the unit tests on arrays.
 *
 * Every function takes a buffer and its length and never reads or writes outside them.
 * Multi-byte values in structs are in host order; on the wire they are big-endian. A
 * "frame" starts at the destination MAC; 802.1Q tagged frames are refused.
 */
#ifndef WG_PKT_H
#define WG_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_addr.h"

#define WG_ETH_ALEN            6
#define WG_ETH_HLEN            14
#define WG_ETH_MIN_FRAME       60      /* without the FCS; shorter frames are padded */
#define WG_ETHERTYPE_IPV4      0x0800
#define WG_ETHERTYPE_ARP       0x0806
#define WG_ETHERTYPE_VLAN      0x8100
#define WG_ETHERTYPE_QINQ      0x88a8
#define WG_ETHERTYPE_IPV6      0x86dd

#define WG_IPPROTO_HOPOPTS     0
#define WG_IPPROTO_ICMP        1
#define WG_IPPROTO_TCP         6
#define WG_IPPROTO_UDP         17
#define WG_IPPROTO_ROUTING     43
#define WG_IPPROTO_FRAGMENT    44
#define WG_IPPROTO_ICMPV6      58
#define WG_IPPROTO_DSTOPTS     60

#define WG_IPV4_HLEN           20
#define WG_IPV6_HLEN           40
#define WG_ARP_FRAME_LEN       WG_ETH_MIN_FRAME      /* 42 bytes of ARP, padded */
#define WG_ND_FRAME_LEN        (WG_ETH_HLEN + WG_IPV6_HLEN + 32)  /* NS/NA with LL option */
#define WG_ICMP4_ERROR_MAX     576     /* RFC 1812 4.3.2.3: whole error datagram */
#define WG_ICMP6_ERROR_MAX     1280    /* RFC 4443 2.4(c): the IPv6 minimum MTU */

/* Parse failures: one list feeding the enum and the names, so callers can count each. */
#define WG_PKT_ERRORS(X)                                                        \
	X(TRUNCATED,      1, "buffer ends before the headers or length say")     \
	X(BAD_VERSION,    2, "IP version does not match")                        \
	X(BAD_HEADER_LEN, 3, "bad IPv4 header length or IPv6 extension header")  \
	X(BAD_TOTAL_LEN,  4, "IP length shorter than its headers")               \
	X(BAD_CHECKSUM,   5, "bad IPv4 header or ICMPv6 checksum")               \
	X(UNSUPPORTED,    6, "not a protocol or message handled here")           \
	X(BAD_HOP_LIMIT,  7, "neighbour discovery hop limit is not 255")         \
	X(BAD_ICMP,       8, "bad ICMP code, length or flags")                   \
	X(BAD_OPTION,     9, "malformed neighbour discovery option")             \
	X(BAD_ADDRESS,   10, "address not allowed in this message")

enum wg_pkt_error {
	WG_PKT_OK = 0,
#define WG_PKT_ENUM(name, num, text) WG_PKT_##name = -(num),
	WG_PKT_ERRORS(WG_PKT_ENUM)
#undef WG_PKT_ENUM
};
#define WG_PKT_NUM_ERRORS 10

/* The text for a value returned by a parser ("ok" for 0, "unknown" outside the list). */
const char *wg_pkt_strerror(int err);

struct wg_pkt_info {
	uint16_t ethertype;     /* 0 when parsing a bare IP packet */
	uint16_t l3_off, l4_off;/* from the start of the buffer */
	uint16_t l3_len;        /* IPv4 total length, or 40 + IPv6 payload length */
	uint8_t family;         /* WG_AF_INET, WG_AF_INET6, or 0 (ARP) */
	uint8_t proto;          /* after hop-by-hop, routing, destination options, fragment */
	uint8_t ttl;            /* TTL or hop limit */
	bool df;                /* IPv4 DF; always true for IPv6 */
	bool fragment;          /* part of a fragmented packet: IPv4 MF or offset != 0, or an
	                         * IPv6 fragment header (first fragments included) */
	uint16_t frag_offset;   /* in bytes; non-zero only for non-first fragments, which
	                         * carry no L4 header (l4_off is then where the data starts) */
	struct wg_ip src, dst;
	uint16_t sport, dport;  /* UDP and TCP, except in non-first fragments; else 0 */
};

/*
 * 0 or a negative enum wg_pkt_error. ARP frames parse with family 0 and l3_off 14 (read
 * them with wg_pkt_parse_arp); other ethertypes, VLAN tags included, are WG_PKT_UNSUPPORTED.
 * The IPv4 header checksum is verified; a UDP or TCP header must be whole in a packet that
 * starts at offset 0. Trailing bytes past the IP length (Ethernet padding) are allowed.
 * After an error, *pi holds only what was read before it (the ethertype, for a frame).
 */
int wg_pkt_parse_frame(struct wg_pkt_info *pi, const uint8_t *frame, size_t len);
int wg_pkt_parse_ip(struct wg_pkt_info *pi, const uint8_t *ip, size_t len);

/*
 * Internet checksum (RFC 1071). Every value is the 16-bit field as a number in host order:
 * store it big-endian. Over data with its checksum field zeroed they give the value to
 * store; over data with a correct checksum in place they give 0. (A UDP sender stores
 * 0xffff for a computed 0: RFC 768.)
 */
uint32_t wg_csum_partial(const uint8_t *buf, size_t len, uint32_t acc); /* odd len: last */
uint16_t wg_csum_fold(uint32_t acc);                                     /* ~folded sum */
uint16_t wg_csum(const uint8_t *buf, size_t len);
uint16_t wg_csum_ipv4_header(const uint8_t *ip, size_t hdr_len);  /* field treated as 0 */
/* UDP, TCP, ICMPv6: with the IPv4 or IPv6 pseudo-header of src's family. */
uint16_t wg_csum_l4(const struct wg_ip *src, const struct wg_ip *dst, uint8_t proto,
		    const uint8_t *l4, size_t len);

/* Decrement the TTL / hop limit in place, updating the IPv4 checksum incrementally
 * (RFC 1624). False, packet unchanged, when the TTL is <= 1 (the caller sends time
 * exceeded) or the buffer holds no IP header. */
bool wg_pkt_dec_ttl(uint8_t *ip, size_t len);

/* ARP for Ethernet and IPv4 only. */
struct wg_arp {
	uint16_t op;            /* 1 request, 2 reply */
	uint8_t sha[6];
	uint8_t spa[4];
	uint8_t tha[6];
	uint8_t tpa[4];
};

/* Refuses other hardware/protocol types and ops, and a multicast sender MAC. */
int wg_pkt_parse_arp(struct wg_arp *a, const uint8_t *frame, size_t len);
/* Whole frames, padded to WG_ARP_FRAME_LEN: that length, or 0 if cap is too small. */
size_t wg_pkt_build_arp_request(uint8_t *out, size_t cap, const uint8_t my_mac[6],
				const uint8_t my_ip[4], const uint8_t target_ip[4]);
size_t wg_pkt_build_arp_reply(uint8_t *out, size_t cap, const uint8_t my_mac[6],
			      const uint8_t my_ip[4], const uint8_t to_mac[6],
			      const uint8_t to_ip[4]);

/* IPv6 neighbour discovery (RFC 4861): solicitation and advertisement. */
#define WG_ND_NS 135
#define WG_ND_NA 136

struct wg_nd {
	uint8_t type;           /* WG_ND_NS or WG_ND_NA */
	struct wg_ip target;
	bool has_lladdr;
	uint8_t lladdr[6];      /* source LL option of an NS, target LL option of an NA */
	bool router, solicited, override_flag;  /* NA flags */
	struct wg_ip src;       /* IPv6 source; unspecified for a DAD probe */
	uint8_t src_mac[6];     /* Ethernet source */
};

/* Checks what RFC 4861 7.1.1 / 7.1.2 ask: hop limit 255, ICMPv6 checksum, code 0, length,
 * target not multicast, options of non-zero length, no fragmentation (RFC 6980), a DAD
 * probe sent to a solicited-node address without a source LL option, no S flag on an NA
 * to multicast. Options other than the LL address are skipped. */
int wg_pkt_parse_nd(struct wg_nd *nd, const uint8_t *frame, size_t len);
/* An NS from my_ip to target's solicited-node multicast address (and its 33:33:ff MAC),
 * with my MAC as source LL option. WG_ND_FRAME_LEN, or 0. */
size_t wg_pkt_build_ns(uint8_t *out, size_t cap, const uint8_t my_mac[6],
		       const struct wg_ip *my_ip, const struct wg_ip *target);
/* An NA for my_ip (source and target) with my MAC as target LL option, flags R (the
 * gateway forwards) and O. To an unspecified to_ip (a DAD probe) it goes to all-nodes,
 * unsolicited (RFC 4861 7.2.4). WG_ND_FRAME_LEN, or 0. */
size_t wg_pkt_build_na(uint8_t *out, size_t cap, const uint8_t my_mac[6],
		       const struct wg_ip *my_ip, const uint8_t to_mac[6],
		       const struct wg_ip *to_ip, bool solicited);

/*
 * Turn an ICMP echo request frame (ICMP 8 or ICMPv6 128, checksum verified) into its reply
 * in place: MACs and addresses swapped, TTL / hop limit 64, checksums fixed. The length is
 * unchanged. False, frame unchanged, for anything else: fragments, IPv6 extension headers,
 * IPv4 source routes, malformed IPv4 options, multicast or broadcast destinations (MAC or
 * IP) and sources. An IPv4 Record Route option gets our address added (RFC 1122 3.2.2.6).
 */
bool wg_pkt_echo_reply(uint8_t *frame, size_t len);

enum wg_icmp_error {
	WG_ICMP_FRAG_NEEDED,    /* v4 3/4 with next-hop MTU; v6 2/0 packet too big */
	WG_ICMP_NO_ROUTE,       /* v4 3/0 net unreachable;   v6 1/0 no route */
	WG_ICMP_HOST_UNREACH,   /* v4 3/1 host unreachable;  v6 1/3 address unreachable */
	WG_ICMP_TTL_EXCEEDED,   /* v4 11/0;                  v6 3/0 hop limit exceeded */
};

/*
 * An ICMP error as an IP packet (no Ethernet header) from src to the offending packet's
 * source, quoting as much of the offending packet (up to its IP length) as keeps the whole
 * within WG_ICMP4_ERROR_MAX / WG_ICMP6_ERROR_MAX. Returns its length, or 0: cap too small,
 * offending packet unparsable or of another family than src, or one that must not get an
 * error (RFC 1812 4.3.2.7, RFC 4443 2.4(e)): an ICMP error message, a non-first fragment,
 * a multicast or broadcast destination (v6 packet too big excepted), an unspecified,
 * multicast, broadcast, loopback or class E source. A link-layer broadcast is the caller's
 * to check. mtu is used by WG_ICMP_FRAG_NEEDED only (clamped to 65535 for IPv4).
 */
size_t wg_pkt_build_icmp_error(uint8_t *out, size_t cap, enum wg_icmp_error kind,
			       uint32_t mtu, const struct wg_ip *src,
			       const uint8_t *offending_ip, size_t offending_len);

/* 14 bytes: destination, source, ethertype. out must hold WG_ETH_HLEN. */
void wg_pkt_write_eth(uint8_t *out, const uint8_t dst[6], const uint8_t src[6],
		      uint16_t ethertype);

#endif
