/* SPDX-License-Identifier: MIT */
/*
 * Every reason the gateway drops a packet, in one list that feeds the enum, the names and
 * the per-worker counters (and the statistics the control sockets report).
 */
#ifndef WG_DROPS_H
#define WG_DROPS_H

#define WG_DROPS(X)                                                              \
	X(BAD_FRAME,        "malformed or truncated Ethernet/IP frame")           \
	X(NOT_IP,           "unsupported ethertype")                              \
	X(NOT_FOR_US,       "WAN packet not addressed to the gateway")            \
	X(WG_SHORT,         "WireGuard message too short")                        \
	X(WG_BAD_TYPE,      "unknown WireGuard message type")                     \
	X(WG_BAD_LENGTH,    "handshake message of the wrong length")              \
	X(WG_BAD_MAC1,      "handshake message with a bad mac1")                  \
	X(OBFS_JUNK,        "obfuscation on: no message of an accepted form (junk)") \
	X(OBFS_PLAIN,       "plain WireGuard message while accept_plain is off")  \
	X(UNKNOWN_INDEX,    "data message for an unknown receiver index")        \
	X(KEY_EXPIRED,      "data message on an expired keypair")                \
	X(REPLAY,           "replayed or too old counter")                       \
	X(DECRYPT,          "authentication tag mismatch")                       \
	X(BAD_INNER,        "decrypted packet is not a valid IP packet")         \
	X(DISALLOWED_SRC,   "inner source not in the sending peer's allowed IPs") \
	X(NO_ROUTE,         "no peer or route for the destination")              \
	X(TTL_EXCEEDED,     "TTL or hop limit exhausted")                        \
	X(TOO_BIG,          "packet larger than the tunnel MTU")                 \
	X(NO_ENDPOINT,      "peer has no endpoint")                              \
	X(NO_KEYPAIR,       "no usable keypair and the staging queue is full")   \
	X(NO_TAILROOM,      "no room in the buffer for padding and tag")         \
	X(CTRL_RING_FULL,   "control lcore backlog full")                        \
	X(EVENT_RING_FULL,  "control event ring full")                           \
	X(NEIGH_UNRESOLVED, "next hop not resolved")                             \
	X(TX_FULL,          "transmit queue full")                               \
	X(MULTI_SEGMENT,    "multi-segment buffer")                              \
	X(HS_RATELIMIT,     "handshake refused by the per-source rate limit")    \
	X(HS_REFUSED,       "handshake message refused by the protocol core")    \
	X(HS_COOKIE_SENT,   "handshake answered with a cookie (under load)")     \
	X(HS_QUEUE_FULL,    "handshake queue full: dropped before any crypto")   \
	X(HS_STALE,         "handshake waited too long to be worth answering")   \
	X(LOCAL_UNHANDLED,  "packet for the gateway that it does not serve")      \
	X(NEIGH_NOT_FOR_US, "ARP or neighbour discovery about another host")     \
	X(FRAG_DROPPED,     "outer fragment timed out, overlapped or found no room") \
	X(FRAG_RATELIMIT,   "outer fragments past the per-source rate")          \
	X(FRAG_TOO_BIG,     "reassembled datagram larger than a buffer")         \
	X(PEER_GONE,        "packet for or from a peer removed meanwhile")       \
	X(HANDOFF_FULL,     "ring to the keypair's owning worker full")              \
	X(NAT_NO_FLOW,      "to a masquerade address, or an ICMP error, of no flow") \
	X(NAT_TABLE_FULL,   "masquerade: the flow table is full")                    \
	X(NAT_SOURCE_LIMIT, "masquerade: the inside address holds its most flows")   \
	X(NAT_PORTS_EXHAUSTED, "masquerade: no outside port free for a new flow")    \
	X(NAT_FRAGMENT,     "masquerade: a fragment (not translated)")                \
	X(NAT_UNSUPPORTED,  "masquerade: a protocol or ICMP type it cannot translate") \
	X(NAT_MALFORMED,    "masquerade: malformed TCP, UDP or ICMP")                 \
	X(NAT_HANDOFF_FULL, "ring to the flow's owning worker full")                 \
	X(DST_REFUSED,      "destination not allowed by the peer's destination rules")    \
	X(PEER_DISABLED,    "packet for or handshake from a disabled peer")

enum wg_drop {
#define WG_DROP_ENUM(name, text) WG_DROP_##name,
	WG_DROPS(WG_DROP_ENUM)
#undef WG_DROP_ENUM
	WG_DROP_COUNT
};

const char *wg_drop_name(enum wg_drop d);
const char *wg_drop_text(enum wg_drop d);

#endif
