/* SPDX-License-Identifier: MIT */
/*
 * Outer fragments: a client behind a link with a smaller MTU than its tunnel assumes has
 * its UDP datagrams fragmented by a router on the way. A kernel reassembles them before a
 * socket sees them; a DPDK port hands us the fragments, so each worker reassembles the
 * UDP fragments addressed to the gateway with DPDK's rte_ip_frag, in a table of its own
 * (fragments of one datagram share their addresses, which is all RSS hashes a fragment
 * by, so they reach one queue).
 *
 * Bounded so that fragments cannot exhaust memory or crowd out whole packets:
 *   - at most WG_FRAG_FLOWS datagrams in reassembly per worker, each of at most
 *     RTE_LIBRTE_IP_FRAG_MAX_FRAG fragments (so a bounded number of mbufs held);
 *   - a datagram not complete within WG_FRAG_TIMEOUT_MS is dropped with its fragments;
 *   - each source (IPv4 address, IPv6 /64) may send WG_FRAG_PER_SOURCE fragments a second
 *     (burst WG_FRAG_BURST): one sender cannot take the whole table;
 *   - a reassembled datagram must fit one mbuf (the data path works on single segments).
 * Every fragment that does not end in a datagram is counted (FRAG_*).
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "gw_dp.h"

#define WG_FRAG_FLOWS       256
#define WG_FRAG_WAYS        8
#define WG_FRAG_TIMEOUT_MS  2000
#define WG_FRAG_PER_SOURCE  4096
#define WG_FRAG_BURST       512

struct wg_frag {
	struct rte_ip_frag_tbl *tbl;
	struct rte_ip_frag_death_row dr;
	struct wg_ratelimiter *per_source;
	uint64_t last_expire;          /* when expired entries were last swept (ns) */
};

unsigned wg_frag_mbufs_max(void)
{
	return WG_FRAG_FLOWS * RTE_LIBRTE_IP_FRAG_MAX_FRAG;
}

/* The table's clock is the workers' own (nanoseconds), not the TSC it suggests. */
struct wg_frag *wg_frag_create(void)
{
	struct wg_frag *f = rte_zmalloc("wg_frag", sizeof(*f), RTE_CACHE_LINE_SIZE);
	uint64_t cycles = WG_FRAG_TIMEOUT_MS * 1000000ull;

	int level = rte_log_get_level(RTE_LOGTYPE_USER1);

	if (f == NULL)
		return NULL;
	/* rte_ip_frag logs every table it makes on USER1, our own log type: not worth a line. */
	rte_log_set_level(RTE_LOGTYPE_USER1, RTE_LOG_WARNING);
	f->tbl = rte_ip_frag_table_create(WG_FRAG_FLOWS / WG_FRAG_WAYS, WG_FRAG_WAYS,
					  WG_FRAG_FLOWS, cycles, SOCKET_ID_ANY);
	rte_log_set_level(RTE_LOGTYPE_USER1, (uint32_t)level);
	f->per_source = wg_ratelimiter_create_rate(4096, WG_FRAG_PER_SOURCE, WG_FRAG_BURST);
	if (f->tbl == NULL || f->per_source == NULL) {
		wg_frag_free(f);
		return NULL;
	}
	return f;
}

void wg_frag_free(struct wg_frag *f)
{
	if (f == NULL)
		return;
	if (f->tbl)
		rte_ip_frag_table_destroy(f->tbl);   /* frees the fragments it holds */
	rte_ip_frag_free_death_row(&f->dr, 0);
	wg_ratelimiter_free(f->per_source);
	rte_free(f);
}

/* Fragments the table gave up on (expired, overlapping, no room) are counted and freed. */
static void bury(struct wg_worker *w, struct wg_frag *f)
{
	w->drops[WG_DROP_FRAG_DROPPED] += f->dr.cnt;
	rte_ip_frag_free_death_row(&f->dr, 0);
}

void wg_frag_expire(struct wg_worker *w, uint64_t now)
{
	struct wg_frag *f = w->frag;

	if (f == NULL || now - f->last_expire < 10 * 1000000ull)
		return;
	f->last_expire = now;
	rte_ip_frag_table_del_expired_entries(f->tbl, &f->dr, now);
	bury(w, f);
}

static void fix_ipv4_checksum(uint8_t *ip)
{
	uint16_t c;

	ip[10] = ip[11] = 0;
	c = wg_csum_ipv4_header(ip, (size_t)(ip[0] & 0x0f) * 4);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
}

struct rte_mbuf *wg_frag_reassemble(struct wg_worker *w, struct rte_mbuf *m,
				    const struct wg_pkt_info *pi)
{
	struct wg_frag *f = w->frag;
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->l3_off);
	uint64_t tsc = w->now;
	struct rte_mbuf *whole;

	w->frags_rx++;
	if (!wg_ratelimiter_allow(f->per_source, pi->src.addr,
				  pi->family == WG_AF_INET ? 4 : 16, w->now)) {
		wg_drop(w, m, WG_DROP_FRAG_RATELIMIT);
		return NULL;
	}
	m->l2_len = pi->l3_off;
	/* Trailing Ethernet padding is not part of the fragment. */
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - pi->l3_off - pi->l3_len));
	if (pi->family == WG_AF_INET) {
		m->l3_len = (uint16_t)((ip[0] & 0x0f) * 4);
		whole = rte_ipv4_frag_reassemble_packet(f->tbl, &f->dr, m, tsc,
							(struct rte_ipv4_hdr *)ip);
	} else {
		struct rte_ipv6_fragment_ext *fh =
			rte_ipv6_frag_get_ipv6_fragment_header((struct rte_ipv6_hdr *)ip);

		/* rte_ip_frag takes the fragment header right after the fixed header only. */
		if (fh == NULL) {
			wg_drop(w, m, WG_DROP_FRAG_DROPPED);
			return NULL;
		}
		m->l3_len = sizeof(struct rte_ipv6_hdr) + sizeof(*fh);
		whole = rte_ipv6_frag_reassemble_packet(f->tbl, &f->dr, m, tsc,
							(struct rte_ipv6_hdr *)ip, fh);
	}
	bury(w, f);
	if (whole == NULL)
		return NULL;      /* held until the rest arrives (or counted above) */
	w->frags_merged += whole->nb_segs - 1u;   /* one segment per fragment */
	if (whole->nb_segs > 1 && rte_pktmbuf_linearize(whole) != 0) {
		w->drops[WG_DROP_FRAG_TOO_BIG] += whole->nb_segs;
		rte_pktmbuf_free(whole);
		return NULL;
	}
	ip = rte_pktmbuf_mtod_offset(whole, uint8_t *, whole->l2_len);
	if (pi->family == WG_AF_INET)
		fix_ipv4_checksum(ip);
	w->frags_reassembled++;
	return whole;
}
