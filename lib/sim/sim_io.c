/* SPDX-License-Identifier: MIT */
/*
 * Frames in and out of the simulated ports: building frames in the harness's mbufs,
 * putting them on the gateway's RX rings, polling the gateway, taking what it sent off the
 * TX rings, and the LAN host's own replies to the gateway's ARP and neighbour
 * solicitations.
 */
#include <string.h>

#include <rte_cycles.h>

#include "sim_priv.h"
#include "wg_pkt.h"

#define SIM_TICK_NS 1000   /* the simulated clock's step per poll */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

struct rte_mbuf *sim_frame_alloc(struct wg_sim *s, size_t len, uint8_t **data)
{
	struct rte_mbuf *m;

	if (len > UINT16_MAX)
		return NULL;
	m = rte_pktmbuf_alloc(s->pool);
	if (m == NULL)
		return NULL;
	*data = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	if (*data == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

struct rte_mbuf *sim_frame_copy(struct wg_sim *s, const uint8_t *frame, size_t len)
{
	uint8_t *data;
	struct rte_mbuf *m = len ? sim_frame_alloc(s, len, &data) : NULL;

	if (m)
		memcpy(data, frame, len);
	return m;
}

void wg_sim_free(struct rte_mbuf **m, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

/* ---- LAN frames ---- */

struct rte_mbuf *wg_sim_lan_frame(struct wg_sim *s, const uint8_t *ip, size_t len)
{
	uint8_t *f, host[6];
	struct rte_mbuf *m;

	if (len == 0 || (m = sim_frame_alloc(s, WG_ETH_HLEN + len, &f)) == NULL)
		return NULL;
	wg_sim_lan_host_mac(host);
	wg_pkt_write_eth(f, s->gw_mac[WG_SIM_LAN], host,
			 (ip[0] >> 4) == 6 ? WG_ETHERTYPE_IPV6 : WG_ETHERTYPE_IPV4);
	memcpy(f + WG_ETH_HLEN, ip, len);
	return m;
}

unsigned wg_sim_lan_frames(struct wg_sim *s, const struct wg_sim_pkt *pkts, unsigned n,
			   struct rte_mbuf **out)
{
	uint8_t buf[WG_SIM_MAX_PKT];

	for (unsigned i = 0; i < n; i++) {
		size_t len = wg_sim_build_pkt(buf, sizeof(buf), &pkts[i]);

		out[i] = wg_sim_lan_frame(s, buf, len);
		if (out[i] == NULL) {
			wg_sim_free(out, i);
			return 0;
		}
	}
	return n;
}

bool wg_sim_lan_receive(const struct wg_sim *s, const struct rte_mbuf *m,
			const uint8_t **ip, size_t *len)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t flen = rte_pktmbuf_data_len(m);
	uint8_t host[6];
	struct wg_pkt_info pi;

	wg_sim_lan_host_mac(host);
	if (m->nb_segs != 1 || wg_pkt_parse_frame(&pi, f, flen) != 0 || pi.family == 0 ||
	    memcmp(f, host, 6) != 0 || memcmp(f + 6, s->gw_mac[WG_SIM_LAN], 6) != 0)
		return false;
	*ip = f + pi.l3_off;
	*len = pi.l3_len;
	return true;
}

/* ---- client frames: outer Ethernet, IP and UDP ---- */

size_t sim_client_hdr_len(const struct wg_sim *s, unsigned k)
{
	return sim_client_is_v6(s, k) ? WG_SIM_WAN_HDR6 : WG_SIM_WAN_HDR4;
}

size_t sim_client_outer(const struct wg_sim *s, unsigned k, uint8_t *frame, size_t msg_len)
{
	struct wg_endpoint ep = wg_sim_client_endpoint(s, k);
	struct wg_ip gw = wg_sim_gw_ip(WG_SIM_WAN, ep.ip.family);
	bool v6 = ep.ip.family == WG_AF_INET6;
	size_t hdr = sim_client_hdr_len(s, k), udp_len = 8 + msg_len;
	uint8_t *ip = frame + WG_ETH_HLEN, *udp = frame + hdr - 8, mac[6];

	wg_sim_client_mac(k, mac);
	wg_pkt_write_eth(frame, s->gw_mac[WG_SIM_WAN], mac,
			 v6 ? WG_ETHERTYPE_IPV6 : WG_ETHERTYPE_IPV4);
	if (v6) {
		memset(ip, 0, WG_IPV6_HLEN);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)udp_len);
		ip[6] = WG_IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, ep.ip.addr, 16);
		memcpy(ip + 24, gw.addr, 16);
	} else {
		memset(ip, 0, WG_IPV4_HLEN);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(WG_IPV4_HLEN + udp_len));
		ip[8] = 64;
		ip[9] = WG_IPPROTO_UDP;
		memcpy(ip + 12, ep.ip.addr, 4);
		memcpy(ip + 16, gw.addr, 4);
		put16(ip + 10, wg_csum_ipv4_header(ip, WG_IPV4_HLEN));
	}
	put16(udp, ep.port);
	put16(udp + 2, WG_SIM_LISTEN_PORT);
	put16(udp + 4, (uint16_t)udp_len);
	put16(udp + 6, 0);   /* IPv4: no checksum; IPv6: set by the caller over the message */
	return hdr;
}

/* IPv6 makes the UDP checksum mandatory: compute it once the message is final. */
static void client_udp_csum(const struct wg_sim *s, unsigned k, uint8_t *frame, size_t len)
{
	struct wg_endpoint ep = wg_sim_client_endpoint(s, k);
	struct wg_ip gw = wg_sim_gw_ip(WG_SIM_WAN, WG_AF_INET6);
	uint8_t *udp = frame + WG_SIM_WAN_HDR6 - 8;
	uint16_t c;

	if (!sim_client_is_v6(s, k))
		return;
	c = wg_csum_l4(&ep.ip, &gw, WG_IPPROTO_UDP, udp, len - (WG_SIM_WAN_HDR6 - 8));
	put16(udp + 6, c ? c : 0xffff);
}

struct rte_mbuf *wg_sim_client_udp_frame(struct wg_sim *s, unsigned k, const void *msg,
					 size_t len)
{
	size_t hdr = sim_client_hdr_len(s, k);
	uint8_t *f;
	struct rte_mbuf *m;

	if (k >= s->n_clients || (m = sim_frame_alloc(s, hdr + len, &f)) == NULL)
		return NULL;
	sim_client_outer(s, k, f, len);
	memcpy(f + hdr, msg, len);
	client_udp_csum(s, k, f, hdr + len);
	return m;
}

/* Exported for sim_client.c, which fills the message in place before the checksum. */
void sim_client_finish(const struct wg_sim *s, unsigned k, struct rte_mbuf *m)
{
	client_udp_csum(s, k, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m));
}

/* ---- injecting, polling, draining ---- */

unsigned wg_sim_inject_queue(struct wg_sim *s, enum wg_sim_side side, unsigned q,
			     struct rte_mbuf **m, unsigned n)
{
	unsigned done = q < s->n_workers ?
		rte_ring_sp_enqueue_burst(s->rx[side][q], (void **)m, n, NULL) : 0;

	s->counters.inject_full += n - done;
	wg_sim_free(m + done, n - done);
	return done;
}

unsigned wg_sim_inject(struct wg_sim *s, enum wg_sim_side side, struct rte_mbuf **m,
		       unsigned n)
{
	return wg_sim_inject_queue(s, side, 0, m, n);
}

unsigned wg_sim_rx_pending(const struct wg_sim *s, enum wg_sim_side side, unsigned q)
{
	return q < s->n_workers ? rte_ring_count(s->rx[side][q]) : 0;
}

static uint64_t sim_clock(const struct wg_sim *s)
{
	return __atomic_load_n(&s->now, __ATOMIC_RELAXED);
}

uint64_t wg_sim_poll_worker_n(struct wg_sim *s, unsigned i)
{
	uint64_t t0, dt;

	if (i >= s->n_workers || s->thread[i].started)
		return 0;
	wg_gw_worker_online(s->worker[i]);
	t0 = rte_rdtsc();
	wg_gw_worker_poll(s->worker[i], s->now);
	dt = rte_rdtsc() - t0;
	wg_gw_worker_offline(s->worker[i]);
	s->counters.worker_cycles += dt;
	return dt;
}

uint64_t wg_sim_poll_worker(struct wg_sim *s)
{
	return wg_sim_poll_worker_n(s, 0);
}

struct thread_arg {
	struct wg_sim *s;
	unsigned i;
};

static int worker_thread(void *arg)
{
	struct wg_sim *s = ((struct thread_arg *)arg)->s;
	unsigned i = ((struct thread_arg *)arg)->i;

	wg_gw_worker_online(s->worker[i]);
	while (s->thread[i].run)
		wg_gw_worker_poll(s->worker[i], sim_clock(s));
	wg_gw_worker_offline(s->worker[i]);
	return 0;
}

int wg_sim_thread_start(struct wg_sim *s, unsigned i, unsigned lcore)
{
	static struct thread_arg args[WG_SIM_MAX_WORKERS];

	if (i == 0 || i >= s->n_workers || s->thread[i].started)
		return -1;
	args[i] = (struct thread_arg){ s, i };
	s->thread[i].run = true;
	if (rte_eal_remote_launch(worker_thread, &args[i], lcore) != 0) {
		s->thread[i].run = false;
		return -1;
	}
	s->thread[i].lcore = lcore;
	s->thread[i].started = true;
	return 0;
}

void wg_sim_thread_stop(struct wg_sim *s, unsigned i)
{
	if (i >= WG_SIM_MAX_WORKERS || !s->thread[i].started)
		return;
	s->thread[i].run = false;
	rte_eal_wait_lcore(s->thread[i].lcore);
	s->thread[i].started = false;
}

void wg_sim_poll_control(struct wg_sim *s)
{
	uint64_t t0 = rte_rdtsc();

	wg_gw_control_poll(s->gw, s->now);
	s->counters.control_cycles += rte_rdtsc() - t0;
}

/* The LAN host's answer to an ARP request or neighbour solicitation for one of its own
 * addresses. 1 if m was such a request (and is consumed), 0 otherwise. */
int sim_answer_lan(struct wg_sim *s, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t len = rte_pktmbuf_data_len(m), out = 0;
	struct wg_ip me4 = wg_sim_lan_host_ip(WG_AF_INET), me6 = wg_sim_lan_host_ip(WG_AF_INET6);
	uint8_t mac[6], buf[128];
	struct wg_arp a;
	struct wg_nd nd;
	struct rte_mbuf *reply;

	wg_sim_lan_host_mac(mac);
	if (wg_pkt_parse_arp(&a, f, len) == 0 && a.op == 1 && !memcmp(a.tpa, me4.addr, 4)) {
		out = wg_pkt_build_arp_reply(buf, sizeof(buf), mac, me4.addr, a.sha, a.spa);
		s->counters.arp_answered++;
	} else if (wg_pkt_parse_nd(&nd, f, len) == 0 && nd.type == WG_ND_NS &&
		   wg_ip_equal(&nd.target, &me6) && nd.src.family) {
		out = wg_pkt_build_na(buf, sizeof(buf), mac, &me6, nd.src_mac, &nd.src, true);
		s->counters.nd_answered++;
	} else {
		return 0;
	}
	rte_pktmbuf_free(m);
	reply = sim_frame_copy(s, buf, out);
	if (reply)
		wg_sim_inject(s, WG_SIM_LAN, &reply, 1);   /* on queue 0, like broadcasts */
	return 1;
}

static void capture(struct wg_sim *s, enum wg_sim_side side, struct rte_mbuf *m)
{
	struct sim_capture *c = &s->cap[side];

	if (c->n == c->cap) {
		s->counters.capture_full++;
		rte_pktmbuf_free(m);
		return;
	}
	c->pkts[c->n++] = m;
}

void wg_sim_drain(struct wg_sim *s)
{
	struct rte_mbuf *m[64];
	unsigned n;

	for (int side = 0; side < 2; side++)
		for (unsigned q = 0; q < s->n_workers; q++)
			while ((n = rte_ring_sc_dequeue_burst(s->tx[side][q], (void **)m, 64,
							      NULL)) > 0)
				for (unsigned i = 0; i < n; i++)
					if (side == WG_SIM_WAN || !sim_answer_lan(s, m[i]))
						capture(s, (enum wg_sim_side)side, m[i]);
}

void wg_sim_poll(struct wg_sim *s)
{
	for (unsigned i = 0; i < s->n_workers; i++)
		wg_sim_poll_worker_n(s, i);
	wg_sim_poll_control(s);
	wg_sim_drain(s);
	__atomic_store_n(&s->now, s->now + SIM_TICK_NS, __ATOMIC_RELAXED);
}

void wg_sim_run(struct wg_sim *s, unsigned rounds)
{
	for (unsigned i = 0; i < rounds; i++)
		wg_sim_poll(s);
}

unsigned wg_sim_collect(struct wg_sim *s, enum wg_sim_side side, struct rte_mbuf **out,
			unsigned max)
{
	struct sim_capture *c = &s->cap[side];
	unsigned n = c->n < max ? c->n : max;

	memcpy(out, c->pkts, n * sizeof(out[0]));
	memmove(c->pkts, c->pkts + n, (c->n - n) * sizeof(out[0]));
	c->n -= n;
	return n;
}

void wg_sim_discard(struct wg_sim *s)
{
	for (int side = 0; side < 2; side++) {
		if (s->cap[side].pkts)
			wg_sim_free(s->cap[side].pkts, s->cap[side].n);
		s->cap[side].n = 0;
	}
}
