/* SPDX-License-Identifier: MIT */
/*
 * Masquerade (NAT44) for the gateway: what a packet's flow is, its rewrite, and the flow
 * table one worker owns (docs/nat.md).
 *
 * The packet half (nat_pkt.c) works on a bare IPv4 packet in a buffer of known length and
 * needs no EAL: it says which flow a TCP segment, UDP datagram, ICMP echo or ICMP error
 * belongs to, and rewrites the local end (the source going out, the destination coming
 * in, and for an ICMP error the packet it quotes) with every checksum updated
 * incrementally. Anything not well-formed is refused before a byte is written, and
 * nothing outside [ip, ip + len) is ever read or written.
 *
 * The table half (nat_table.c) is one worker's flows: two rte_hash tables (inside and
 * outside keys) over one array of flows, the flows each inside address holds, a slice of
 * the outside port space, and the expiry. One writer, its owner; the control lcore reads
 * flows for listings through each flow's rte_seqcount.
 */
#ifndef WG_NAT_H
#define WG_NAT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_seqcount.h>

/* ---- flows of packets ---------------------------------------------------------------- */

/*
 * A flow's key in one of the two tables: the local end (the inside address and port in
 * the outbound table, the outside ones in the inbound table), the remote end and the
 * protocol. Addresses and ports in network order; for an ICMP query, lport is its id and
 * rport 0. 16 bytes, for rte_hash.
 */
struct wg_nat_key {
	uint32_t local, remote;
	uint16_t lport, rport;
	uint8_t proto;
	uint8_t pad[3];
};

enum wg_nat_dir {
	WG_NAT_OUT,            /* from the inside (a peer) to the outside */
	WG_NAT_IN,             /* from the outside back to the masquerade address */
};

enum wg_nat_kind {
	WG_NAT_TCP,
	WG_NAT_UDP,
	WG_NAT_ICMP_QUERY,     /* echo request going out, echo reply coming in */
	WG_NAT_ICMP_ERROR,     /* destination unreachable, time exceeded, parameter problem:
	                        * the key is the quoted packet's flow */
};

/* Why a packet is not one the NAT rewrites. */
enum wg_nat_parse_result {
	WG_NAT_P_OK = 0,
	WG_NAT_P_NOT_IPV4,     /* not an IPv4 packet with a sane header and length */
	WG_NAT_P_FRAGMENT,     /* part of a fragmented packet */
	WG_NAT_P_UNSUPPORTED,  /* another protocol or ICMP type */
	WG_NAT_P_MALFORMED,    /* TCP, UDP or ICMP too short or inconsistent; an ICMP error
	                        * with a bad checksum or a quote that does not fit it */
};

struct wg_nat_pkt {
	struct wg_nat_key key;
	uint8_t kind;          /* enum wg_nat_kind */
	uint8_t tcp_flags;     /* TCP: the flags of the segment (an ICMP error: 0) */
	uint16_t len;          /* the IP total length: bytes the rewrite may touch */
	uint16_t l4_off;       /* from the IP header */
	uint16_t q_off;        /* ICMP error: the quoted IP header ... */
	uint16_t q_l4_off;     /* ... and its L4 header, from the (outer) IP header */
	uint8_t q_proto;       /* ... and the quoted packet's protocol */
};

#define WG_NAT_TCP_FIN 0x01
#define WG_NAT_TCP_SYN 0x02
#define WG_NAT_TCP_RST 0x04
#define WG_NAT_TCP_ACK 0x10

/* The flow of an IPv4 packet of `len` bytes (trailing bytes past its total length are
 * allowed and never touched) as seen going `dir`. */
enum wg_nat_parse_result wg_nat_parse(struct wg_nat_pkt *np, const uint8_t *ip, size_t len,
				      enum wg_nat_dir dir);

/* Rewrite the local end of a packet wg_nat_parse accepted (the same bytes, the same
 * direction) to addr:port (network order; an ICMP query's id): going out the source,
 * coming in the destination, and in an ICMP error the quoted packet's matching end. IP,
 * TCP, UDP and ICMP checksums are updated incrementally (RFC 1624); a UDP checksum of 0
 * (none) stays 0; an ICMP error's own checksum, verified by the parse, is recomputed. */
void wg_nat_rewrite(uint8_t *ip, const struct wg_nat_pkt *np, enum wg_nat_dir dir,
		    uint32_t addr, uint16_t port);

/* ---- one worker's flows ---------------------------------------------------------------- */

/* Timeouts in ns, by state. */
struct wg_nat_timeouts {
	uint64_t tcp_established, tcp_transitory, udp, icmp;
};

/* TCP state of a flow, as bits (RFC 5382's two timeouts need no more). */
#define WG_NAT_ST_IN      0x01   /* a segment came back */
#define WG_NAT_ST_EST     0x02   /* an ACK went out after one came back: established */
#define WG_NAT_ST_FIN_OUT 0x04
#define WG_NAT_ST_FIN_IN  0x08
#define WG_NAT_ST_RST     0x10

struct wg_nat_flow {
	rte_seqcount_t seq;            /* odd while the owner creates or frees the flow */
	uint32_t inside, outside, remote;             /* network order */
	uint16_t inside_port, outside_port, remote_port;
	uint8_t proto;
	uint8_t state;                 /* TCP: WG_NAT_ST_* */
	uint16_t port;                 /* the gateway's port it leaves by */
	uint8_t in_use;
	uint8_t pad;
	uint32_t source;               /* its inside address's entry (the per-source count) */
	_Atomic uint64_t last;         /* the last packet, either way (ns) */
	uint64_t created;
	_Atomic uint64_t pkts_out, pkts_in;
};

/* What the owner counts; read by the control lcore as snapshots. */
struct wg_nat_counters {
	uint64_t created, expired, flushed;
	uint64_t out, in;              /* packets translated each way */
	uint64_t ports_exhausted, table_full, source_limit;
};

struct wg_nat_table_params {
	const char *name;              /* unique in the process, < 24 characters */
	uint32_t capacity;             /* flows, >= 8 */
	int socket;
};

struct wg_nat_table;

/* NULL out of memory (rte_errno set). */
struct wg_nat_table *wg_nat_table_create(const struct wg_nat_table_params *p);
void wg_nat_table_free(struct wg_nat_table *t);

/* The flow of an outbound key / an inbound key: its index, or -1. */
int32_t wg_nat_lookup_out(const struct wg_nat_table *t, const struct wg_nat_key *k);
int32_t wg_nat_lookup_in(const struct wg_nat_table *t, const struct wg_nat_key *k);

enum wg_nat_create_result {
	WG_NAT_C_OK = 0,
	WG_NAT_C_TABLE_FULL,
	WG_NAT_C_SOURCE_LIMIT,
	WG_NAT_C_PORTS_EXHAUSTED,
};

/* A new flow for an outbound key with no flow: the outside address given, an outside
 * port (or ICMP id) from [port_min, port_max] that no flow of the same protocol to the
 * same remote end uses, and not `avoid` (network order; 0: none), the port the gateway
 * itself listens on for UDP. At most per_source flows per inside address. */
enum wg_nat_create_result wg_nat_create(struct wg_nat_table *t, const struct wg_nat_key *out_key,
					uint32_t outside, uint16_t port_min, uint16_t port_max,
					uint16_t avoid, uint32_t per_source, uint16_t port,
					uint64_t now, int32_t *idx);

/* The flow at idx (from a lookup or a create, this poll): the owner's pointer. */
struct wg_nat_flow *wg_nat_flow(struct wg_nat_table *t, int32_t idx);
/* A packet of the flow went `dir` (TCP flags, 0 otherwise) at now. */
void wg_nat_seen(struct wg_nat_table *t, int32_t idx, enum wg_nat_dir dir, uint8_t tcp_flags,
		 uint64_t now);
/* The timeout that applies to a flow now. */
uint64_t wg_nat_flow_timeout(const struct wg_nat_flow *f, const struct wg_nat_timeouts *to);

/* Look at the next `budget` slots of the table (round robin) and free the flows past their
 * timeout; returns how many it freed. */
unsigned wg_nat_expire(struct wg_nat_table *t, uint64_t now, const struct wg_nat_timeouts *to,
		       unsigned budget);
/* Free every flow. */
void wg_nat_flush(struct wg_nat_table *t);

/* For another lcore: a consistent copy of slot idx if it holds a flow (false: free, out
 * of range, or changing under the reader). */
bool wg_nat_read(const struct wg_nat_table *t, uint32_t idx, struct wg_nat_flow *copy);
uint32_t wg_nat_capacity(const struct wg_nat_table *t);
uint32_t wg_nat_count(const struct wg_nat_table *t);
const struct wg_nat_counters *wg_nat_counters(const struct wg_nat_table *t);

#endif
