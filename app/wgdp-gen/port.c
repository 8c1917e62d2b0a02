/* SPDX-License-Identifier: MIT */
/* Ports, control frames, ARP: what gen needs of a network with no kernel behind it. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/if_packet.h>
#include <sys/socket.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "gen.h"
#include "wg_pkt.h"

#define RX_DESC 1024
#define TX_DESC 1024

uint64_t gen_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void gen_ip_add(uint8_t out[4], const uint8_t base[4], uint32_t k)
{
	uint32_t v = ((uint32_t)base[0] << 24 | (uint32_t)base[1] << 16 |
		      (uint32_t)base[2] << 8 | base[3]) + k;

	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

static int find_port(const char *name, unsigned dflt, uint16_t *id)
{
	if (name)
		return rte_eth_dev_get_port_by_name(name, id);
	if (!rte_eth_dev_is_valid_port((uint16_t)dflt))
		return -1;
	*id = (uint16_t)dflt;
	return 0;
}

static int port_start(struct gen *g, uint16_t id, char *err, size_t errlen)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_ether_addr mac;
	int rc;

	if ((rc = rte_eth_dev_configure(id, 1, 1, &conf)) != 0 ||
	    (rc = rte_eth_rx_queue_setup(id, 0, RX_DESC, (unsigned)rte_eth_dev_socket_id(id),
					 NULL, g->rx_mp)) != 0 ||
	    (rc = rte_eth_tx_queue_setup(id, 0, TX_DESC, (unsigned)rte_eth_dev_socket_id(id),
					 NULL)) != 0 ||
	    (rc = rte_eth_dev_start(id)) != 0) {
		snprintf(err, errlen, "port %u: cannot set up: %s", id, rte_strerror(-rc));
		return -1;
	}
	/* Frames to our MAC are what the server sends; broadcast ARP reaches us anyway. Some
	 * drivers (memif) have no promiscuous mode: not an error. */
	rte_eth_promiscuous_enable(id);
	if (rte_eth_macaddr_get(id, &mac) != 0) {
		snprintf(err, errlen, "port %u: no MAC address", id);
		return -1;
	}
	return 0;
}

/* net_af_packet reports no imissed in DPDK 22.11: what the kernel drops because the ring
 * it fills for us is full is in the PMD's sockets' PACKET_STATISTICS (as lib/gw/state/port.c
 * finds them: by their binding to the port's interface). */
static void find_packet_sockets(struct gen *g, unsigned side)
{
	struct rte_eth_dev_info info;
	DIR *d;
	struct dirent *e;

	if (rte_eth_dev_info_get(g->port[side], &info) != 0 || info.driver_name == NULL ||
	    strcmp(info.driver_name, "net_af_packet") != 0 || info.if_index == 0 ||
	    (d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((e = readdir(d)) != NULL && g->n_pkt_fds[side] < 8) {
		struct sockaddr_ll sa;
		socklen_t len = sizeof(sa);
		int fd = atoi(e->d_name);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d))
			continue;
		if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
		    sa.sll_family == AF_PACKET && (unsigned)sa.sll_ifindex == info.if_index)
			g->pkt_fds[side][g->n_pkt_fds[side]++] = fd;
	}
	closedir(d);
}

/* What the port dropped on receive since the last call (each read resets the counters). */
uint64_t gen_port_missed(struct gen *g, unsigned side)
{
	struct rte_eth_stats st;
	uint64_t n = 0;

	for (unsigned i = 0; i < g->n_pkt_fds[side]; i++) {
		struct tpacket_stats ps;
		socklen_t len = sizeof(ps);

		if (getsockopt(g->pkt_fds[side][i], SOL_PACKET, PACKET_STATISTICS, &ps, &len) == 0)
			n += ps.tp_drops;
	}
	if (rte_eth_stats_get(g->port[side], &st) == 0)
		n += st.imissed + st.ierrors + st.rx_nombuf;
	rte_eth_stats_reset(g->port[side]);
	return n;
}

int gen_ports_init(struct gen *g, char *err, size_t errlen)
{
	struct rte_ether_addr mac;

	g->rx_mp = rte_pktmbuf_pool_create("gen_rx", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					   (int)rte_socket_id());
	g->ctl_mp = rte_pktmbuf_pool_create("gen_ctl", 4095, 128, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    (int)rte_socket_id());
	if (g->rx_mp == NULL || g->ctl_mp == NULL) {
		snprintf(err, errlen, "no memory for the receive pools (give EAL more with -m)");
		return -1;
	}
	if (find_port(g->o.port_name[GEN_WAN], 0, &g->port[GEN_WAN]) != 0) {
		snprintf(err, errlen, "no wan port %s (give it with --vdev or -a)",
			 g->o.port_name[GEN_WAN] ? g->o.port_name[GEN_WAN] : "0");
		return -1;
	}
	g->has_lan = !(g->o.port_name[GEN_LAN] && strcmp(g->o.port_name[GEN_LAN], "none") == 0);
	if (g->has_lan && find_port(g->o.port_name[GEN_LAN], 1, &g->port[GEN_LAN]) != 0) {
		if (g->o.port_name[GEN_LAN]) {
			snprintf(err, errlen, "no lan port %s", g->o.port_name[GEN_LAN]);
			return -1;
		}
		g->has_lan = false;     /* one port only: the plaintext side is not watched */
	}
	if (g->has_lan && g->port[GEN_LAN] == g->port[GEN_WAN]) {
		snprintf(err, errlen, "the wan and lan ports are the same port");
		return -1;
	}
	for (unsigned s = 0; s < (g->has_lan ? 2u : 1u); s++) {
		char name[32];

		if (port_start(g, g->port[s], err, errlen) != 0)
			return -1;
		rte_eth_macaddr_get(g->port[s], &mac);
		memcpy(g->mac[s], mac.addr_bytes, 6);
		find_packet_sockets(g, s);
		snprintf(name, sizeof(name), "gen_ctl%u", s);
		g->ctl_ring[s] = rte_ring_create(name, 1024, (int)rte_socket_id(),
						 RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (g->ctl_ring[s] == NULL) {
			snprintf(err, errlen, "cannot make the control ring");
			return -1;
		}
	}
	return 0;
}

void gen_ports_close(struct gen *g)
{
	for (unsigned s = 0; s < (g->has_lan ? 2u : 1u); s++) {
		rte_eth_dev_stop(g->port[s]);
		rte_eth_dev_close(g->port[s]);
	}
}

struct rte_mbuf *gen_ctl_alloc(struct gen *g, size_t len, uint8_t **data)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->ctl_mp);

	if (m == NULL)
		return NULL;
	*data = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	if (*data == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

/* The queue belongs to the TX lcore during a trial; otherwise the main lcore sends. A frame
 * that cannot be sent is dropped: the protocol retries what matters (handshakes, ARP). */
void gen_ctl_send(struct gen *g, unsigned side, struct rte_mbuf *m)
{
	if (atomic_load_explicit(&g->tx_lcore_busy, memory_order_acquire)) {
		if (rte_ring_enqueue(g->ctl_ring[side], m) != 0)
			rte_pktmbuf_free(m);
		return;
	}
	for (int tries = 0; tries < 100; tries++)
		if (rte_eth_tx_burst(g->port[side], 0, &m, 1) == 1)
			return;
	rte_pktmbuf_free(m);
}

void gen_ctl_drain(struct gen *g)
{
	struct rte_mbuf *m[GEN_BURST];

	for (unsigned s = 0; s < (g->has_lan ? 2u : 1u); s++) {
		unsigned n = rte_ring_dequeue_burst(g->ctl_ring[s], (void **)m, GEN_BURST, NULL);
		unsigned sent = n ? rte_eth_tx_burst(g->port[s], 0, m, (uint16_t)n) : 0;

		for (unsigned i = sent; i < n; i++)
			rte_pktmbuf_free(m[i]);
	}
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Is ip one of the addresses gen plays on that side? */
static bool ours(const struct gen *g, unsigned side, const uint8_t ip[4])
{
	if (side == GEN_LAN)
		return memcmp(ip, g->o.sink_ip, 4) == 0;
	return be32(ip) - be32(g->o.peer_ip) < g->o.n_peers;
}

static void send_arp(struct gen *g, unsigned side, bool reply, const uint8_t my_ip[4],
		     const uint8_t to_mac[6], const uint8_t to_ip[4])
{
	uint8_t *f;
	struct rte_mbuf *m = gen_ctl_alloc(g, WG_ARP_FRAME_LEN, &f);

	if (m == NULL)
		return;
	if (reply)
		wg_pkt_build_arp_reply(f, WG_ARP_FRAME_LEN, g->mac[side], my_ip, to_mac, to_ip);
	else
		wg_pkt_build_arp_request(f, WG_ARP_FRAME_LEN, g->mac[side], my_ip, to_ip);
	gen_ctl_send(g, side, m);
}

bool gen_arp(struct gen *g, unsigned side, const uint8_t *f, size_t len)
{
	struct wg_arp a;
	const uint8_t *next_hop = side == GEN_WAN ? g->o.server_ip : g->o.lan_gw_ip;
	uint8_t *mac = side == GEN_WAN ? g->o.server_mac : g->o.lan_gw_mac;
	bool *have = side == GEN_WAN ? &g->o.have_server_mac : &g->o.have_lan_gw_mac;

	if (len < WG_ETH_HLEN || f[12] != 0x08 || f[13] != 0x06)
		return false;
	if (wg_pkt_parse_arp(&a, f, len) != 0) {
		g->c.arp_other++;                 /* an ARP frame, but not one we can read */
		return true;
	}
	if (memcmp(a.spa, next_hop, 4) == 0 && (!*have || memcmp(mac, a.sha, 6) != 0)) {
		memcpy(mac, a.sha, 6);
		*have = true;
		g->c.arp_learned++;
	} else if (!(a.op == 1 && ours(g, side, a.tpa))) {
		g->c.arp_other++;                 /* taught us nothing, asked nothing of ours */
	}
	if (a.op == 1 && ours(g, side, a.tpa)) {
		send_arp(g, side, true, a.tpa, a.sha, a.spa);
		g->c.arp_answered++;
	}
	return true;
}

int gen_resolve(struct gen *g, char *err, size_t errlen)
{
	uint64_t deadline = gen_now_ns() + 10 * WG_NSEC_PER_SEC, next = 0;

	while (!(g->o.have_server_mac && (!g->has_lan || g->o.have_lan_gw_mac))) {
		uint64_t now = gen_now_ns();

		if (now > deadline || atomic_load(&g->stop)) {
			snprintf(err, errlen, "no ARP answer from %s within 10 s (give its MAC with %s)",
				 g->o.have_server_mac ? "the lan next hop" : "the server",
				 g->o.have_server_mac ? "--lan-gw-mac" : "--server-mac");
			return -1;
		}
		if (now >= next) {
			if (!g->o.have_server_mac)
				send_arp(g, GEN_WAN, false, g->o.peer_ip, NULL, g->o.server_ip);
			if (g->has_lan && !g->o.have_lan_gw_mac)
				send_arp(g, GEN_LAN, false, g->o.sink_ip, NULL, g->o.lan_gw_ip);
			next = now + 200 * 1000000ull;
		}
		gen_rx_poll(g);
	}
	return 0;
}
