/* SPDX-License-Identifier: MIT */
/* Port set-up: find the DPDK device, configure one queue pair per worker, start it. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "gw_state.h"

#define RX_DESC 1024
#define TX_DESC 1024

/* The device named in the configuration: an existing port (from -a / --vdev), or devargs
 * to probe now ("net_af_packet0,iface=veth0"). */
static int find_device(const char *device, uint16_t *id)
{
	char name[WG_CONFIG_DEVICE_LEN];
	const char *comma = strchr(device, ',');
	size_t n = comma ? (size_t)(comma - device) : strlen(device);

	memcpy(name, device, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, id) == 0)
		return 0;
	if (rte_dev_probe(device) != 0)
		return -1;
	return rte_eth_dev_get_port_by_name(name, id);
}

static int configure(struct wg_gw *gw, struct wg_port *p, char *err, size_t errlen)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t nq = (uint16_t)gw->n_workers;
	int rc;

	rc = rte_eth_dev_info_get(p->dpdk_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: no device info (%s)", p->name, strerror(-rc));
		return -1;
	}
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		snprintf(err, errlen, "port %s has %u rx / %u tx queues; %u workers need %u each "
			 "(for net_af_packet add qpairs=%u to its devargs)", p->name,
			 info.max_rx_queues, info.max_tx_queues, nq, nq, nq);
		return -1;
	}
	if (nq > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	}
	rc = rte_eth_dev_configure(p->dpdk_id, nq, nq, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: configure failed (%s)", p->name, strerror(-rc));
		return -1;
	}
	for (uint16_t q = 0; q < nq; q++) {
		int sock = rte_eth_dev_socket_id(p->dpdk_id);

		if (rte_eth_rx_queue_setup(p->dpdk_id, q, RX_DESC, sock, NULL, gw->pool) != 0 ||
		    rte_eth_tx_queue_setup(p->dpdk_id, q, TX_DESC, sock, NULL) != 0) {
			snprintf(err, errlen, "port %s: queue %u setup failed", p->name, q);
			return -1;
		}
	}
	return 0;
}

int wg_gw_ports_init(struct wg_gw *gw, char *err, size_t errlen)
{
	for (unsigned i = 0; i < gw->cfg.n_ports; i++) {
		const struct wg_config_port *c = &gw->cfg.ports[i];
		struct wg_port *p = &gw->ports[i];
		struct rte_ether_addr mac;

		memcpy(p->name, c->name, sizeof(p->name));
		p->role = c->role;
		p->mtu = c->mtu;
		memcpy(p->addrs, c->addrs, sizeof(p->addrs));
		p->n_addrs = c->n_addrs;
		p->gw4 = c->gateway4;
		p->gw6 = c->gateway6;
		if (find_device(c->device, &p->dpdk_id) != 0) {
			snprintf(err, errlen, "port %s: no DPDK device '%s' (give it with --vdev or "
				 "-a, or as devargs)", c->name, c->device);
			return -1;
		}
		for (unsigned j = 0; j < i; j++)
			if (gw->ports[j].dpdk_id == p->dpdk_id) {
				snprintf(err, errlen, "ports %s and %s are the same device",
					 gw->ports[j].name, p->name);
				return -1;
			}
		if (configure(gw, p, err, errlen) != 0)
			return -1;
		rte_eth_macaddr_get(p->dpdk_id, &mac);
		memcpy(p->mac, mac.addr_bytes, 6);
		gw->n_ports++;
	}
	return 0;
}

/*
 * net_af_packet (DPDK 22.11) reports no imissed: what the kernel drops because the ring
 * it fills for us is full appears in no ethdev counter. The PMD's own sockets know
 * (PACKET_STATISTICS): find them once, by their binding to the port's interface, and add
 * up what they report (each read resets the kernel's counters, and nothing else reads
 * them). Other PMDs report their misses in imissed.
 */
static void find_packet_sockets(struct wg_port *p)
{
	struct rte_eth_dev_info info;
	DIR *d;
	struct dirent *e;

	p->n_pkt_fds = 0;
	if (rte_eth_dev_info_get(p->dpdk_id, &info) != 0 || info.driver_name == NULL ||
	    strcmp(info.driver_name, "net_af_packet") != 0 || info.if_index == 0)
		return;
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && p->n_pkt_fds < WG_PORT_MAX_PKT_FDS) {
		struct sockaddr_ll sa;
		socklen_t len = sizeof(sa);
		int fd = atoi(e->d_name);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d))
			continue;
		if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
		    sa.sll_family == AF_PACKET && (unsigned)sa.sll_ifindex == info.if_index)
			p->pkt_fds[p->n_pkt_fds++] = fd;
	}
	closedir(d);
}

void wg_port_poll_kernel_drops(struct wg_port *p)
{
	for (unsigned i = 0; i < p->n_pkt_fds; i++) {
		struct tpacket_stats st;
		socklen_t len = sizeof(st);

		if (getsockopt(p->pkt_fds[i], SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
			p->kernel_drops += st.tp_drops;
	}
}

int wg_gw_start(struct wg_gw *gw, char *err, size_t errlen)
{
	for (unsigned i = 0; i < gw->n_ports; i++) {
		struct wg_port *p = &gw->ports[i];
		int rc = rte_eth_dev_start(p->dpdk_id);

		if (rc != 0) {
			snprintf(err, errlen, "port %s: start failed (%s)", p->name, strerror(-rc));
			return -1;
		}
		/* No kernel filters for us: frames for our MAC, broadcast and the IPv6
		 * solicited-node multicast all have to come in. */
		rte_eth_promiscuous_enable(p->dpdk_id);
		rte_eth_allmulticast_enable(p->dpdk_id);
		find_packet_sockets(p);
		wg_port_poll_kernel_drops(p);   /* start from zero */
		p->kernel_drops = 0;
	}
	return 0;
}

void wg_gw_ports_stop(struct wg_gw *gw)
{
	for (unsigned i = 0; i < gw->n_ports; i++) {
		rte_eth_dev_stop(gw->ports[i].dpdk_id);
		rte_eth_dev_close(gw->ports[i].dpdk_id);
	}
}

const struct wg_ip *wg_port_addr(const struct wg_port *p, unsigned family)
{
	for (unsigned i = 0; i < p->n_addrs; i++)
		if (p->addrs[i].ip.family == family)
			return &p->addrs[i].ip;
	return NULL;
}

bool wg_port_is_ours(const struct wg_port *p, const struct wg_ip *ip)
{
	for (unsigned i = 0; i < p->n_addrs; i++)
		if (wg_ip_equal(&p->addrs[i].ip, ip))
			return true;
	return false;
}
