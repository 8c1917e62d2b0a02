/* SPDX-License-Identifier: MIT */
/*
 * The gateway under attack and with awkward input, in one process (lib/sim):
 *
 *   flood      a live tunnel sends data while initiations with a valid mac1 arrive from
 *              thousands of spoofed sources, on one lcore shared by the worker and the
 *              control loop (the demo's layout): every data packet is delivered, the
 *              gateway goes under load and answers with cookies instead of
 *              Diffie-Hellman, what it cannot queue is dropped before any crypto, and a
 *              new client still gets in (cookie reply, then an initiation with mac2,
 *              which a worker recognises and the control loop serves first);
 *   fragments  data messages whose outer IPv4 or IPv6 datagram was fragmented on the way
 *              are reassembled (in order, out of order, among other traffic); a fragment
 *              whose datagram never completes is dropped when it times out; one source
 *              sending fragments past its rate loses the excess; every fragment is
 *              accounted for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "check.h"
#include "wg_pkt.h"
#include "wg_sim.h"
#include "wg_wire.h"

static struct wg_sim *make(const struct wg_sim_params *p)
{
	char err[256];
	struct wg_sim *s = wg_sim_create(p, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "test_robust: %s\n", err);
	return s;
}

static unsigned take_lan(struct wg_sim *s)
{
	struct rte_mbuf *out[64];
	unsigned n, total = 0;

	while ((n = wg_sim_collect(s, WG_SIM_LAN, out, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *ip;
			size_t len;

			total += wg_sim_lan_receive(s, out[i], &ip, &len);
		}
		wg_sim_free(out, n);
	}
	return total;
}

/* What the gateway sent client k on the WAN: responses and cookie replies (kept, the
 * first of each), the rest counted and freed. */
struct wan_out {
	struct rte_mbuf *response, *cookie;
	unsigned cookies_other;     /* cookie replies to anyone else (the flood) */
};

static void take_wan(struct wg_sim *s, unsigned k, struct wan_out *o)
{
	struct rte_mbuf *out[64];
	unsigned n;

	while ((n = wg_sim_collect(s, WG_SIM_WAN, out, 64)) > 0)
		for (unsigned i = 0; i < n; i++) {
			struct wg_sim_rx rx;
			enum wg_sim_rx_status st = wg_sim_client_receive(s, out[i], &rx);
			struct rte_mbuf **keep = NULL;

			if (st == WG_SIM_RX_HANDSHAKE && rx.client == k)
				keep = rx.type == WG_MSG_RESPONSE ? &o->response :
					rx.type == WG_MSG_COOKIE_REPLY ? &o->cookie : NULL;
			else if (st == WG_SIM_RX_BAD_OUTER || st == WG_SIM_RX_NOT_WG)
				o->cookies_other++;   /* to a spoofed source: not a client's MAC */
			if (keep && *keep == NULL)
				*keep = out[i];
			else
				rte_pktmbuf_free(out[i]);
		}
}

#define FLOOD_ROUNDS 5000
#define FLOOD_PER_ROUND 28
#define DATA_PER_ROUND 4

static void test_flood(void)
{
	struct wg_sim_params p = { .n_clients = 2 };
	struct wg_sim *s = make(&p);
	struct wg_gw_stats st;
	struct wan_out o = { 0 };
	unsigned delivered = 0, sent = 0, attempts = 0;
	uint64_t seed = 1;
	int got_cookie_at = -1, got_response_at = -1;

	if (!CHECK(s != NULL))
		return;
	CHECK_EQ(wg_sim_handshake(s, 0, 1), 1);
	for (unsigned r = 0; r < FLOOD_ROUNDS && got_response_at < 0; r++) {
		struct rte_mbuf *m[FLOOD_PER_ROUND + DATA_PER_ROUND + 1];
		struct wg_sim_pkt pk[DATA_PER_ROUND];
		unsigned k0[DATA_PER_ROUND] = { 0 }, n = 0;

		for (unsigned i = 0; i < FLOOD_PER_ROUND; i++)
			if ((m[n] = wg_sim_spoofed_initiation(s, seed++)) != NULL)
				n++;
		for (unsigned i = 0; i < DATA_PER_ROUND; i++)
			pk[i] = (struct wg_sim_pkt){ .src = wg_sim_client_tunnel_ip(0, WG_AF_INET),
				.dst = wg_sim_lan_host_ip(WG_AF_INET), .size = 120,
				.proto = WG_IPPROTO_UDP, .tag = r * DATA_PER_ROUND + i };
		if (CHECK_EQ(wg_sim_client_data_frames(s, k0, pk, DATA_PER_ROUND, m + n),
			     DATA_PER_ROUND))
			n += DATA_PER_ROUND;
		sent += DATA_PER_ROUND;
		/* The new client tries every 500 rounds, as a real one retries after 5 s: far
		 * longer than the gateway takes to work through a full queue; with a cookie,
		 * its initiation carries mac2. */
		if (r % 500 == 100 && (m[n] = wg_sim_client_initiation(s, 1)) != NULL) {
			n++;
			attempts++;
		}
		CHECK_EQ(wg_sim_inject(s, WG_SIM_WAN, m, n), n);
		wg_sim_poll(s);
		wg_sim_advance(s, 100000);     /* 0.1 ms a round: initiations stay fresh */
		delivered += take_lan(s);
		take_wan(s, 1, &o);
		if (o.cookie && got_cookie_at < 0) {
			/* Taken only if it answers the client's latest initiation, as in wg. */
			if (wg_sim_client_take_cookie(s, 1, o.cookie))
				got_cookie_at = (int)r;
			rte_pktmbuf_free(o.cookie);
			o.cookie = NULL;
		}
		if (o.response && got_response_at < 0)
			got_response_at = (int)r;
	}
	wg_sim_run(s, 8);
	delivered += take_lan(s);
	wg_sim_stats(s, &st);
	printf("test_flood: %llu spoofed initiations with %u data packets: %u delivered; "
	       "under load %s (entered %llu times); cookie replies %llu, queue full %llu, "
	       "stale %llu, Diffie-Hellman for %llu; new client: cookie in round %d, "
	       "response in round %d after %u attempts\n",
	       (unsigned long long)(seed - 1), sent, delivered, st.under_load ? "yes" : "no",
	       (unsigned long long)st.under_load_entered,
	       (unsigned long long)st.drops[WG_DROP_HS_COOKIE_SENT],
	       (unsigned long long)st.drops[WG_DROP_HS_QUEUE_FULL],
	       (unsigned long long)st.drops[WG_DROP_HS_STALE],
	       (unsigned long long)st.hs_initiations_rx, got_cookie_at, got_response_at,
	       attempts);
	CHECK_EQ(delivered, sent);                 /* the tunnel kept every packet */
	CHECK(st.under_load_entered >= 1);
	CHECK(st.drops[WG_DROP_HS_COOKIE_SENT] > 0);
	/* Spoofed initiations got the Diffie-Hellman work only until the backlog said the
	 * gateway was under load (a few hundred, while the slice grew), never after. */
	CHECK(st.hs_initiations_rx * 10 < seed);
	CHECK(got_cookie_at >= 0);
	CHECK(got_response_at > got_cookie_at);
	rte_pktmbuf_free(o.cookie);
	rte_pktmbuf_free(o.response);
	wg_sim_destroy(s);
}

/* ---- outer fragments ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Split an IPv4 or IPv6 frame's payload into pieces of `chunk` bytes (a multiple of 8), as
 * a router would. Returns the number of fragments in out[]; the input is freed. */
static unsigned fragment(struct rte_mbuf *m, unsigned chunk, uint32_t id,
			 struct rte_mbuf **out, unsigned max)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	bool v6 = (f[14] >> 4) == 6;
	unsigned hl = v6 ? 40 : 20, frag_hl = v6 ? 8 : 0;
	unsigned total = rte_pktmbuf_data_len(m) - 14 - hl, n = 0;

	for (unsigned off = 0; off < total && n < max; off += chunk) {
		unsigned len = total - off < chunk ? total - off : chunk;
		bool more = off + len < total;
		uint8_t *g = (uint8_t *)rte_pktmbuf_append(out[n] = rte_pktmbuf_alloc(m->pool),
							  (uint16_t)(14 + hl + frag_hl + len));
		uint8_t *ip = g + 14;

		memcpy(g, f, 14 + hl);
		memcpy(ip + hl + frag_hl, f + 14 + hl + off, len);
		if (v6) {
			uint8_t *fh = ip + 40;

			fh[0] = ip[6];         /* the next header the datagram had */
			fh[1] = 0;
			put16(fh + 2, (uint16_t)(off | more));
			fh[4] = (uint8_t)(id >> 24);
			fh[5] = (uint8_t)(id >> 16);
			fh[6] = (uint8_t)(id >> 8);
			fh[7] = (uint8_t)id;
			ip[6] = 44;
			put16(ip + 4, (uint16_t)(8 + len));
		} else {
			uint16_t c;

			put16(ip + 2, (uint16_t)(20 + len));
			put16(ip + 4, (uint16_t)id);
			put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
			ip[10] = ip[11] = 0;
			c = wg_csum_ipv4_header(ip, 20);
			put16(ip + 10, c);
		}
		n++;
	}
	rte_pktmbuf_free(m);
	return n;
}

static struct rte_mbuf *data_frame(struct wg_sim *s, unsigned k, uint16_t size, uint32_t tag)
{
	struct wg_sim_pkt p = { .src = wg_sim_client_tunnel_ip(k, WG_AF_INET),
		.dst = wg_sim_lan_host_ip(WG_AF_INET), .size = size, .proto = WG_IPPROTO_UDP,
		.tag = tag };
	struct rte_mbuf *m = NULL;

	CHECK_EQ(wg_sim_client_data_frames(s, &k, &p, 1, &m), 1);
	return m;
}

static void test_fragments(void)
{
	struct wg_sim_params p = { .n_clients = 2, .outer6_every = 2 };   /* client 1: IPv6 */
	struct wg_sim *s = make(&p);
	struct rte_mbuf *fr[8], *m;
	struct wg_gw_stats st;
	unsigned n, delivered = 0;

	if (!CHECK(s != NULL))
		return;
	CHECK_EQ(wg_sim_handshake(s, 0, 2), 2);
	for (unsigned k = 0; k < 2; k++) {
		/* In order, three pieces. */
		n = fragment(data_frame(s, k, 1400, 1), 512, 7 + k, fr, 8);
		CHECK_EQ(n, 3);
		wg_sim_inject(s, WG_SIM_WAN, fr, n);
		wg_sim_run(s, 4);
		delivered += take_lan(s);
		/* Backwards, with a whole packet in between. */
		n = fragment(data_frame(s, k, 1300, 2), 400, 9 + k, fr, 8);
		CHECK_EQ(n, 4);
		for (unsigned i = 0; i < n / 2; i++) {
			struct rte_mbuf *t = fr[i];

			fr[i] = fr[n - 1 - i];
			fr[n - 1 - i] = t;
		}
		fr[n] = data_frame(s, k, 200, 3);
		wg_sim_inject(s, WG_SIM_WAN, fr, n + 1);
		wg_sim_run(s, 4);
		delivered += take_lan(s);
	}
	CHECK_EQ(delivered, 6);
	wg_sim_stats(s, &st);
	CHECK_EQ(st.frags_rx, 14);
	CHECK_EQ(st.frags_reassembled, 4);
	CHECK_EQ(st.frags_merged, 10);

	/* A datagram that never completes: its fragment is dropped when it times out. */
	n = fragment(data_frame(s, 0, 1400, 4), 512, 99, fr, 8);
	wg_sim_inject(s, WG_SIM_WAN, fr, 1);
	wg_sim_free(fr + 1, n - 1);
	wg_sim_run(s, 4);
	wg_sim_advance(s, 3 * WG_NSEC_PER_SEC);
	wg_sim_run(s, 4);
	wg_sim_stats(s, &st);
	CHECK_EQ(st.drops[WG_DROP_FRAG_DROPPED], 1);
	CHECK_EQ(take_lan(s), 0);

	/* One source, 800 first fragments of distinct datagrams at once: past its burst they
	 * are refused; the table holds what fits; all of it is gone after the timeout. */
	for (unsigned i = 0; i < 800; i += 8) {
		m = data_frame(s, 0, 1400, 100 + i);
		n = fragment(m, 512, 1000 + i, fr, 8);
		wg_sim_free(fr + 1, n - 1);
		for (unsigned j = 1; j < 8; j++)
			fr[j] = rte_pktmbuf_copy(fr[0], fr[0]->pool, 0, UINT32_MAX);
		for (unsigned j = 0; j < 8; j++)   /* distinct datagrams: distinct ids */
			put16(rte_pktmbuf_mtod(fr[j], uint8_t *) + 14 + 4, (uint16_t)(5000 + i + j));
		for (unsigned j = 0; j < 8; j++) {
			uint8_t *ip = rte_pktmbuf_mtod(fr[j], uint8_t *) + 14;

			ip[10] = ip[11] = 0;
			put16(ip + 10, wg_csum_ipv4_header(ip, 20));
		}
		wg_sim_inject(s, WG_SIM_WAN, fr, 8);
		wg_sim_poll(s);
	}
	wg_sim_advance(s, 3 * WG_NSEC_PER_SEC);
	wg_sim_run(s, 8);
	wg_sim_stats(s, &st);
	printf("test_fragments: 800 lone fragments from one source: %llu past its rate, %llu "
	       "timed out or without room\n",
	       (unsigned long long)st.drops[WG_DROP_FRAG_RATELIMIT],
	       (unsigned long long)st.drops[WG_DROP_FRAG_DROPPED] - 1);
	CHECK(st.drops[WG_DROP_FRAG_RATELIMIT] >= 800 - 512);
	CHECK_EQ(st.drops[WG_DROP_FRAG_RATELIMIT] + st.drops[WG_DROP_FRAG_DROPPED] - 1, 800);
	CHECK_EQ(st.frags_rx, 14 + 1 + 800);
	wg_sim_destroy(s);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (wg_sim_eal_init(argv[0], 512, 0) != 0)
		return 1;
	test_flood();
	test_fragments();
	wg_sim_eal_cleanup();
	return check_report("test_robust");
}
