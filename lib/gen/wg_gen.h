/* SPDX-License-Identifier: MIT */
/*
 * The traffic generator's packets (app/wgdp-gen), over plain byte buffers: no EAL, no
 * mbufs, so that the unit test checks them without DPDK.
 *
 * A pool is the whole offered load of one trial, made before the trial starts so that the
 * cipher never limits the rate: packet i of a pool goes to peer i % n_peers and has size
 * sizes[i % n_sizes]. Because the schedule is fixed, the counter of every packet follows
 * from its index (the peer's first counter for the pool + i / n_peers), so several lcores
 * can lay out and encrypt disjoint slices of one pool with no shared state, and the next
 * pool starts where this one ended: no counter is ever used twice.
 *
 * Every generated inner packet is IPv4 UDP and carries a mark after the UDP header (magic,
 * run, index, peer), by which the receiving side finds which packet of which trial it got.
 */
#ifndef WG_GEN_H
#define WG_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_aead.h"
#include "wg_wire.h"

#define WG_GEN_OUTER_LEN   42u      /* Ethernet, IPv4, UDP in front of the message */
#define WG_GEN_MARK_LEN    24u
#define WG_GEN_INNER_MIN   (20u + 8u + WG_GEN_MARK_LEN)   /* 52: the smallest packet */
#define WG_GEN_INNER_MAX   9000u
#define WG_GEN_MAGIC       0x6e65672d70646777ull         /* "wgdp-gen" little-endian */
#define WG_GEN_MAX_SIZES   64u

/* The mark after the inner UDP header. */
struct wg_gen_mark {
	uint32_t run;       /* which trial (stale packets of an earlier one are told apart) */
	uint32_t index;     /* packet index in the trial's pool of that direction */
	uint32_t peer;
	uint32_t dir;       /* 0: peers to the plaintext side, 1: the other way */
};

/* A peer's sending session, as the layout needs it. */
struct wg_gen_session {
	const uint8_t *key;         /* the 32-byte send key */
	uint32_t remote_index;      /* receiver index of the messages */
	uint64_t first_counter;     /* counter of the peer's first packet in this pool */
};

/* Addresses of one peer's packets. */
struct wg_gen_flow {
	uint8_t outer[WG_GEN_OUTER_LEN];  /* Ethernet, IPv4 and UDP template: lengths and the
	                                   * IPv4 checksum are filled in per packet */
	uint8_t src[4], dst[4];           /* inner IPv4 addresses */
	uint16_t sport, dport;            /* inner UDP ports */
};

/* One pool's schedule. */
struct wg_gen_plan {
	unsigned n_peers;
	const uint16_t *sizes;            /* inner IP sizes, WG_GEN_INNER_MIN..WG_GEN_INNER_MAX */
	unsigned n_sizes;
	uint32_t run;
	uint32_t dir;
	uint32_t mtu;                     /* the tunnel MTU: padding stops there */
};

/* The counter of pool packet i (for peer i % n_peers) and how many packets of a pool of n
 * go to peer p. */
static inline uint64_t wg_gen_counter(const struct wg_gen_plan *pl,
				      const struct wg_gen_session *s, uint64_t i)
{
	return s->first_counter + i / pl->n_peers;
}
static inline uint64_t wg_gen_peer_count(const struct wg_gen_plan *pl, uint64_t n, unsigned p)
{
	return n / pl->n_peers + (p < n % pl->n_peers ? 1 : 0);
}

/* The plaintext length of a data message for an inner packet of len bytes: padded to 16,
 * never past the MTU (and 0 for a keepalive). */
uint32_t wg_gen_padded(uint32_t len, uint32_t mtu);
/* The frame length of pool packet i in each direction. */
size_t wg_gen_data_frame_len(const struct wg_gen_plan *pl, uint64_t i);
size_t wg_gen_plain_frame_len(const struct wg_gen_plan *pl, uint64_t i);

/* An inner IPv4 UDP packet of exactly size bytes (>= WG_GEN_INNER_MIN), with its mark and
 * correct checksums, the rest of the payload a pattern of the index. size, or 0 if it
 * does not fit in cap or size is out of range. */
size_t wg_gen_build_inner(uint8_t *buf, size_t cap, size_t size, const struct wg_gen_flow *f,
			  const struct wg_gen_mark *m);
/* The mark of a received inner packet (IPv4 UDP, lengths consistent, magic right); false
 * if it is not one of ours. The payload pattern is checked too (corrupt: false). */
bool wg_gen_read_mark(const uint8_t *ip, size_t len, struct wg_gen_mark *m);

/* Lay out pool packet i as a whole encrypted frame: outer headers from the flow of peer
 * i % n_peers, the data message with its counter, the inner packet padded, and fill op for
 * the encryption (done by the caller, in bursts). Returns the frame length, or 0 if cap is
 * too small or the counter would reach WG_REJECT_AFTER_MESSAGES. */
size_t wg_gen_layout_data(uint8_t *frame, size_t cap, const struct wg_gen_plan *pl,
			  const struct wg_gen_flow *flows, const struct wg_gen_session *sess,
			  uint64_t i, struct wg_aead_op *op);
/* Lay out pool packet i of the plaintext direction: the flow's Ethernet header (IPv4
 * ethertype) and the inner packet. Frame length or 0. */
size_t wg_gen_layout_plain(uint8_t *frame, size_t cap, const struct wg_gen_plan *pl,
			   const struct wg_gen_flow *flows, uint64_t i);
/* Encrypt pool packets [from, to) into frames[i - from] (each of cap bytes), in bursts of
 * WG_AEAD_CHUNK, lens[i - from] set; the number laid out (stops at the first failure). */
uint64_t wg_gen_fill_data(struct wg_aead *a, uint8_t *const *frames, size_t cap,
			  uint16_t *lens, const struct wg_gen_plan *pl,
			  const struct wg_gen_flow *flows, const struct wg_gen_session *sess,
			  uint64_t from, uint64_t to);

/* The outer template: Ethernet dst/src, IPv4 src/dst, UDP sport/dport. */
void wg_gen_outer_template(uint8_t out[WG_GEN_OUTER_LEN], const uint8_t dst_mac[6],
			   const uint8_t src_mac[6], const uint8_t src_ip[4],
			   const uint8_t dst_ip[4], uint16_t sport, uint16_t dport);

/* IMIX: 7 packets of 64 bytes, 4 of 576 and 1 of 1420 (the simple IMIX, 1420 for the tunnel
 * MTU instead of 1500), in a fixed shuffled order of n (a multiple of 12, <= WG_GEN_MAX_SIZES).
 * Returns n, or 0. */
unsigned wg_gen_imix(uint16_t *sizes, unsigned n, uint32_t seed);

/* Latency histogram: buckets of 1/8 of a power of two of nanoseconds, from 0 to 2^40 ns. */
#define WG_GEN_HIST_BUCKETS (41u * 8u)
struct wg_gen_hist {
	uint64_t n, sum_ns, max_ns, min_ns;
	uint64_t bucket[WG_GEN_HIST_BUCKETS];
};
void wg_gen_hist_add(struct wg_gen_hist *h, uint64_t ns);
void wg_gen_hist_merge(struct wg_gen_hist *into, const struct wg_gen_hist *h);
/* The q-quantile (0..1), the upper edge of its bucket capped by the maximum; 0 if empty. */
uint64_t wg_gen_hist_quantile(const struct wg_gen_hist *h, double q);

#endif
