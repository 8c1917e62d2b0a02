/* SPDX-License-Identifier: MIT */
/*
 * The simulation's set-up: EAL for a test process, two net_ring ports, a configuration
 * built in memory, the gateway on top, and the LAN host introducing itself. Also the
 * world's fixed addresses and the simulated clock.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "gw_internal.h"
#include "sim_priv.h"
#include "wg_config.h"
#include "wg_crypto.h"
#include "wg_noise.h"
#include "wg_pkt.h"

static unsigned sim_seq;   /* names rings and ports apart when a process makes several */

int wg_sim_eal_init(const char *prog, unsigned mem_mb, unsigned cpu)
{
	char lcore[16];

	snprintf(lcore, sizeof(lcore), "%u", cpu);
	return wg_sim_eal_init_lcores(prog, mem_mb, lcore);
}

int wg_sim_eal_init_lcores(const char *prog, unsigned mem_mb, const char *lcores)
{
	char prefix[32], mem[16], lcore[64];
	char *argv[] = { (char *)prog, "-l", lcore, "--no-huge", "-m", mem, "--no-pci",
			 "--no-shconf", "--no-telemetry", "--file-prefix", prefix,
			 "--log-level", "lib.eal:error",
			 /* A benchmark's 100,000 handshakes are no news: peer events go into
			  * the ring, their log lines stay quiet (docs/operations.md). */
			 "--log-level", "wgdp.peer:notice", NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	/* --in-memory is refused together with --no-huge by DPDK 22.11: --no-shconf and a
	 * per-process prefix keep parallel test processes apart instead. With
	 * WGDP_SIM_HUGE=1 (benchmarks, hugepages reserved beforehand) memory comes from
	 * 2 MB pages, in memory: fewer TLB misses, steadier figures. */
	if (getenv("WGDP_SIM_HUGE") && strcmp(getenv("WGDP_SIM_HUGE"), "1") == 0)
		argv[3] = "--in-memory";
	snprintf(prefix, sizeof(prefix), "wgsim%ld", (long)getpid());
	snprintf(mem, sizeof(mem), "%u", mem_mb ? mem_mb : 512);
	snprintf(lcore, sizeof(lcore), "%s", lcores);
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "%s: EAL initialisation failed: %s\n", prog,
			rte_strerror(rte_errno));
		return -1;
	}
	if (wg_crypto_init() != 0) {
		fprintf(stderr, "%s: libsodium initialisation failed\n", prog);
		rte_eal_cleanup();
		return -1;
	}
	wg_noise_init();
	return 0;
}

void wg_sim_eal_cleanup(void)
{
	rte_eal_cleanup();
}

/* ---- the world's addresses ---- */

static struct wg_ip ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct wg_ip ip = { .family = WG_AF_INET, .addr = { a, b, c, d } };

	return ip;
}

/* prefix48 (the first 6 bytes) and a 32-bit host part at the end. */
static struct wg_ip ip6(const uint8_t prefix[6], uint32_t host)
{
	struct wg_ip ip = { .family = WG_AF_INET6 };

	memcpy(ip.addr, prefix, 6);
	ip.addr[12] = (uint8_t)(host >> 24);
	ip.addr[13] = (uint8_t)(host >> 16);
	ip.addr[14] = (uint8_t)(host >> 8);
	ip.addr[15] = (uint8_t)host;
	return ip;
}

static const uint8_t tun6_prefix[6] = { 0xfd, 0x00, 0x02, 0x00, 0, 0 };   /* fd00:200:: */
static const uint8_t wan6_prefix[6] = { 0xfd, 0x50, 0, 0, 0, 0 };         /* fd50:: */
static const uint8_t lan6_prefix[6] = { 0xfd, 0x60, 0, 0, 0, 0 };         /* fd60:: */

struct wg_ip wg_sim_client_tunnel_ip(unsigned k, unsigned family)
{
	uint32_t x = k + 1;

	if (family == WG_AF_INET6)
		return ip6(tun6_prefix, x);   /* fd00:200::x:y, x and y the 16-bit halves */
	return ip4(10, (uint8_t)(200 + (x >> 16)), (uint8_t)(x >> 8), (uint8_t)x);
}

struct wg_endpoint wg_sim_client_endpoint(const struct wg_sim *s, unsigned k)
{
	struct wg_endpoint ep = { .port = (uint16_t)(51000 + k % 14536) };

	ep.ip = sim_client_is_v6(s, k) ? ip6(wan6_prefix, 10 + k) :
		ip4(192, 168, 50, (uint8_t)(10 + k % 240));
	return ep;
}

void wg_sim_client_mac(unsigned k, uint8_t mac[6])
{
	static const uint8_t base[6] = { 0x02, 0x00, 0x5e, 0, 0, 0 };

	memcpy(mac, base, 6);
	mac[3] = (uint8_t)(k >> 16);
	mac[4] = (uint8_t)(k >> 8);
	mac[5] = (uint8_t)k;
}

struct wg_ip wg_sim_lan_host_ip(unsigned family)
{
	return family == WG_AF_INET6 ? ip6(lan6_prefix, 0x10) : ip4(10, 60, 0, 10);
}

void wg_sim_lan_host_mac(uint8_t mac[6])
{
	static const uint8_t m[6] = { 0x02, 0x60, 0, 0, 0, 0x10 };

	memcpy(mac, m, 6);
}

struct wg_ip wg_sim_gw_ip(enum wg_sim_side side, unsigned family)
{
	if (side == WG_SIM_WAN)
		return family == WG_AF_INET6 ? ip6(wan6_prefix, 1) : ip4(192, 168, 50, 1);
	return family == WG_AF_INET6 ? ip6(lan6_prefix, 1) : ip4(10, 60, 0, 1);
}

void wg_sim_gw_mac(const struct wg_sim *s, enum wg_sim_side side, uint8_t mac[6])
{
	memcpy(mac, s->gw_mac[side], 6);
}

bool sim_client_is_v6(const struct wg_sim *s, unsigned k)
{
	return s->outer6_every && k % s->outer6_every == s->outer6_every - 1;
}

/* ---- accessors and the clock ---- */

struct wg_gw *wg_sim_gw(struct wg_sim *s)
{
	return s->gw;
}

unsigned wg_sim_n_clients(const struct wg_sim *s)
{
	return s->n_clients;
}

void wg_sim_stats(struct wg_sim *s, struct wg_gw_stats *st)
{
	wg_gw_get_stats(s->gw, st);
}

const struct wg_sim_counters *wg_sim_counters(const struct wg_sim *s)
{
	return &s->counters;
}

uint64_t wg_sim_gw_heap_bytes(const struct wg_sim *s)
{
	return s->heap_bytes;
}

struct rte_mempool *wg_sim_pool(const struct wg_sim *s)
{
	return s->pool;
}

uint64_t wg_sim_now(const struct wg_sim *s)
{
	return s->now;
}

void wg_sim_advance(struct wg_sim *s, uint64_t ns)
{
	__atomic_store_n(&s->now, s->now + ns, __ATOMIC_RELAXED);   /* worker threads read it */
}

/* ---- set-up ---- */

static uint64_t heap_in_use(void)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			total += st.heap_allocsz_bytes;
	}
	return total;
}

/* One net_ring port with a queue per worker: the harness enqueues on rx (the gateway
 * receives) and dequeues from tx (the gateway sends). Each ring has one producer and one
 * consumer: the harness's thread and the queue's worker. */
static int make_port(struct wg_sim *s, enum wg_sim_side side, char *dev, size_t devlen)
{
	static const char *const tag[2] = { "wan", "lan" };
	char name[RTE_RING_NAMESIZE];
	struct rte_ether_addr mac;
	struct rte_eth_dev_info info;
	int id;

	for (unsigned q = 0; q < s->n_workers; q++) {
		snprintf(name, sizeof(name), "sim%u%srx%u", s->id, tag[side], q);
		s->rx[side][q] = rte_ring_create(name, SIM_RING_SIZE, SOCKET_ID_ANY,
						 RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "sim%u%stx%u", s->id, tag[side], q);
		s->tx[side][q] = rte_ring_create(name, SIM_RING_SIZE, SOCKET_ID_ANY,
						 RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (s->rx[side][q] == NULL || s->tx[side][q] == NULL)
			return -1;
	}
	snprintf(name, sizeof(name), "sim%u%s", s->id, tag[side]);
	id = rte_eth_from_rings(name, s->rx[side], s->n_workers, s->tx[side], s->n_workers,
				SOCKET_ID_ANY);
	if (id < 0)
		return -1;
	s->port_id[side] = (uint16_t)id;
	if (rte_eth_dev_info_get(s->port_id[side], &info) != 0)
		return -1;
	s->dev[side] = info.device;
	if (rte_eth_dev_get_name_by_port(s->port_id[side], dev) != 0 || strlen(dev) >= devlen ||
	    rte_eth_macaddr_get(s->port_id[side], &mac) != 0)
		return -1;
	memcpy(s->gw_mac[side], mac.addr_bytes, 6);
	return 0;
}

static void config_port(struct wg_config_port *p, const char *name, const char *dev,
			unsigned role, const char *a4, const char *a6)
{
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->device, sizeof(p->device), "%s", dev);
	p->role = role;
	wg_prefix_parse(&p->addrs[0], a4, strlen(a4), true);
	wg_prefix_parse(&p->addrs[1], a6, strlen(a6), true);
	p->n_addrs = 2;
	p->mtu = 1500;
}

/* The configuration wg_config_load would make of the simulated world's file. */
static int build_config(struct wg_sim *s, struct wg_config *cfg, const char devs[2][64])
{
	size_t n = (size_t)s->n_configured + s->n_extra;
	struct wg_config_peer *peers = calloc(n ? n : 1, sizeof(*peers));
	struct wg_prefix *aips = calloc(2 * n + 1, sizeof(*aips));

	if (peers == NULL || aips == NULL) {
		free(peers);
		free(aips);
		return -1;
	}
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->name, sizeof(cfg->name), "wgsim%u", s->id);
	memcpy(cfg->private_key, s->gw_private, WG_KEY_LEN);
	cfg->has_private_key = true;
	cfg->listen_port = WG_SIM_LISTEN_PORT;
	cfg->mtu = WG_SIM_MTU;
	config_port(&cfg->ports[0], "wan", devs[0], WG_ROLE_WAN, "192.168.50.1/24", "fd50::1/64");
	config_port(&cfg->ports[1], "lan", devs[1], WG_ROLE_LAN, "10.60.0.1/24", "fd60::1/64");
	cfg->n_ports = 2;
	peers[0].allowed_ips = aips;    /* where free_config finds the array, even with none */
	for (unsigned k = 0; k < s->n_configured; k++) {
		memcpy(peers[k].public_key, s->clients[k].public_key, WG_KEY_LEN);
		aips[2 * k] = (struct wg_prefix){ wg_sim_client_tunnel_ip(k, WG_AF_INET), 32 };
		aips[2 * k + 1] = (struct wg_prefix){ wg_sim_client_tunnel_ip(k, WG_AF_INET6), 128 };
		peers[k].allowed_ips = &aips[2 * k];
		peers[k].n_allowed_ips = 2;
		peers[k].line = k + 1;
	}
	/* Peers nobody plays: keys of no one, the tunnel addresses clients would have. */
	for (size_t k = s->n_configured; k < n; k++) {
		unsigned as = (unsigned)(k - s->n_configured) + s->n_clients;

		wg_random(peers[k].public_key, WG_KEY_LEN);
		aips[2 * k] = (struct wg_prefix){ wg_sim_client_tunnel_ip(as, WG_AF_INET), 32 };
		aips[2 * k + 1] = (struct wg_prefix){ wg_sim_client_tunnel_ip(as, WG_AF_INET6), 128 };
		peers[k].allowed_ips = &aips[2 * k];
		peers[k].n_allowed_ips = 2;
		peers[k].line = (unsigned)k + 1;
	}
	cfg->peers = peers;
	cfg->n_peers = (unsigned)n;
	return 0;
}

static void free_config(struct wg_config *cfg)
{
	free(cfg->peers[0].allowed_ips);
	free(cfg->peers);
	wg_wipe(cfg->private_key, sizeof(cfg->private_key));
}

/* Tests: the rule that nothing is freed while a peer still publishes it (retire.c). */
static uint64_t sim_pace_now(void *s)
{
	return wg_sim_now(s);
}

static void check_unpublished(struct wg_gw *gw, const void *obj)
{
	struct wg_sim *s = gw->retire_ctx;

	for (uint32_t id = 0; id < gw->max_peers; id++) {
		const struct wg_peer *peer = &gw->peers[id];

		if ((const void *)atomic_load(&peer->tx_kp) == obj ||
		    (const void *)atomic_load(&peer->ep) == obj)
			s->counters.freed_published++;
	}
}

/* A handshake lcore as a thread of the harness: polls while there is work, yields the
 * CPU while there is none (tests share few cores with it). */
static void *hs_thread(void *arg)
{
	struct sim_hs_arg *a = arg;

	wg_gw_hs_lcore_register(a->l);
	while (atomic_load_explicit(&a->s->hs_run, memory_order_relaxed))
		if (!wg_gw_hs_lcore_poll(a->l))
			sched_yield();
	wg_gw_hs_lcore_unregister(a->l);
	return NULL;
}

static void stop_hs_threads(struct wg_sim *s)
{
	atomic_store(&s->hs_run, false);
	for (unsigned i = 0; i < s->n_hs_threads; i++)
		pthread_join(s->hs_thread[i], NULL);
	s->n_hs_threads = 0;
}

static int make_gateway(struct wg_sim *s, const struct wg_sim_params *p, char *err,
			size_t errlen)
{
	char devs[2][64];
	struct wg_config cfg;
	struct wg_gw_params gp = { .n_workers = s->n_workers, .single_lcore = !s->multi,
		.max_peers = p->max_peers ? p->max_peers : s->n_clients + s->n_extra,
		.max_allowed_ips = p->max_allowed_ips,
		.mbufs = p->mbufs,
		.n_hs_lcores = p->n_hs_lcores,
		.aead_engine = p->aead_engine ? p->aead_engine : getenv("WGDP_AEAD_ENGINE") };
	uint8_t pub[WG_KEY_LEN];
	uint64_t before;

	if (make_port(s, WG_SIM_WAN, devs[0], sizeof(devs[0])) != 0 ||
	    make_port(s, WG_SIM_LAN, devs[1], sizeof(devs[1])) != 0) {
		snprintf(err, errlen, "cannot make the net_ring ports: %s", rte_strerror(rte_errno));
		return -1;
	}
	if (build_config(s, &cfg, devs) != 0) {
		snprintf(err, errlen, "out of memory for the configuration");
		return -1;
	}
	if (p->obfs)
		cfg.obfs = *p->obfs;
	if (p->socket_dir) {
		snprintf(cfg.uapi_socket, sizeof(cfg.uapi_socket), "%s/uapi.sock", p->socket_dir);
		snprintf(cfg.jsonrpc_socket, sizeof(cfg.jsonrpc_socket), "%s/rpc.sock",
			 p->socket_dir);
	}
	before = heap_in_use();
	s->gw = wg_gw_create(&cfg, &gp, err, errlen);
	s->heap_bytes = heap_in_use() - before;
	free_config(&cfg);
	if (s->gw == NULL || wg_gw_start(s->gw, err, errlen) != 0)
		return -1;
	if (p->socket_dir && (wg_gw_uapi_listen(s->gw, err, errlen) != 0 ||
			      wg_gw_rpc_listen(s->gw, err, errlen) != 0))
		return -1;
	/* A long request's slices run the gateway's polls on the simulated clock too. */
	s->gw->pace.clock = sim_pace_now;
	s->gw->pace.clock_arg = s;
	if (p->check_retire) {
		s->gw->retire_ctx = s;
		s->gw->retire_hook = check_unpublished;
	}
	for (unsigned i = 0; i < s->n_workers; i++) {
		s->worker[i] = wg_gw_worker(s->gw, i);
		/* The harness polls workers in turn: between polls a worker holds nothing, so
		 * it is offline and grace periods do not wait for it. */
		wg_gw_worker_register(s->worker[i]);
		wg_gw_worker_offline(s->worker[i]);
	}
	if (!wg_gw_public_key(s->gw, pub) || memcmp(pub, s->gw_public, WG_KEY_LEN) != 0) {
		snprintf(err, errlen, "the gateway's public key is not the configured one");
		return -1;
	}
	atomic_init(&s->hs_run, true);
	for (unsigned i = 0; i < wg_gw_hs_lcores(s->gw) && i < RTE_DIM(s->hs_thread); i++) {
		s->hs_arg[i] = (struct sim_hs_arg){ s, wg_gw_hs_lcore(s->gw, i) };
		if (pthread_create(&s->hs_thread[i], NULL, hs_thread, &s->hs_arg[i]) != 0) {
			snprintf(err, errlen, "cannot start a handshake thread");
			return -1;
		}
		s->n_hs_threads++;
	}
	return 0;
}

/* The LAN host asks for the gateway's addresses (ARP, neighbour solicitation), as a host
 * would before its first packet; the gateway answers and learns it. */
static int introduce_lan_host(struct wg_sim *s, char *err, size_t errlen)
{
	struct wg_ip me4 = wg_sim_lan_host_ip(WG_AF_INET), me6 = wg_sim_lan_host_ip(WG_AF_INET6);
	struct wg_ip gw4 = wg_sim_gw_ip(WG_SIM_LAN, WG_AF_INET);
	struct wg_ip gw6 = wg_sim_gw_ip(WG_SIM_LAN, WG_AF_INET6);
	uint8_t mac[6], buf[128];
	struct rte_mbuf *m[2], *got[8];
	unsigned n, answers = 0;
	size_t len;

	wg_sim_lan_host_mac(mac);
	len = wg_pkt_build_arp_request(buf, sizeof(buf), mac, me4.addr, gw4.addr);
	m[0] = sim_frame_copy(s, buf, len);
	len = wg_pkt_build_ns(buf, sizeof(buf), mac, &me6, &gw6);
	m[1] = sim_frame_copy(s, buf, len);
	if (m[0] == NULL || m[1] == NULL) {
		wg_sim_free(m, 2);
		snprintf(err, errlen, "harness pool empty");
		return -1;
	}
	wg_sim_inject(s, WG_SIM_LAN, m, 2);
	wg_sim_run(s, 4);
	n = wg_sim_collect(s, WG_SIM_LAN, got, 8);
	for (unsigned i = 0; i < n; i++) {
		struct wg_arp a;
		struct wg_nd nd;
		const uint8_t *f = rte_pktmbuf_mtod(got[i], const uint8_t *);
		size_t flen = rte_pktmbuf_data_len(got[i]);

		if (wg_pkt_parse_arp(&a, f, flen) == 0 && a.op == 2 && !memcmp(a.spa, gw4.addr, 4))
			answers++;
		else if (wg_pkt_parse_nd(&nd, f, flen) == 0 && nd.type == WG_ND_NA &&
			 wg_ip_equal(&nd.target, &gw6))
			answers++;
	}
	wg_sim_free(got, n);
	if (answers != 2) {
		snprintf(err, errlen, "the gateway answered %u of the LAN host's ARP and "
			 "neighbour solicitation", answers);
		return -1;
	}
	return 0;
}

static int make_pool(struct wg_sim *s, uint32_t mbufs)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	snprintf(name, sizeof(name), "sim%upool", s->id);
	s->pool = rte_pktmbuf_pool_create(name, mbufs ? mbufs : 8191, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	s->cap[0].pkts = calloc(SIM_CAPTURE_MAX, sizeof(struct rte_mbuf *));
	s->cap[1].pkts = calloc(SIM_CAPTURE_MAX, sizeof(struct rte_mbuf *));
	s->cap[0].cap = s->cap[1].cap = SIM_CAPTURE_MAX;
	return s->pool && s->cap[0].pkts && s->cap[1].pkts ? 0 : -1;
}

struct wg_sim *wg_sim_create(const struct wg_sim_params *p, char *err, size_t errlen)
{
	struct wg_sim *s = calloc(1, sizeof(*s));

	if (s == NULL || p->n_clients > WG_SIM_MAX_CLIENTS) {
		snprintf(err, errlen, s ? "too many clients" : "out of memory");
		free(s);
		return NULL;
	}
	s->id = sim_seq++;
	s->n_clients = p->n_clients;
	s->n_configured = p->n_configured && p->n_configured < p->n_clients ? p->n_configured :
		p->n_clients;
	s->n_extra = p->n_extra_peers;
	s->n_workers = p->n_workers > 1 ? p->n_workers : 1;
	s->multi = p->n_workers > 1;
	if (s->n_workers > WG_SIM_MAX_WORKERS) {
		snprintf(err, errlen, "at most %u workers", WG_SIM_MAX_WORKERS);
		free(s);
		return NULL;
	}
	s->outer6_every = p->outer6_every;
	wg_obfs_default(&s->obfs);
	if (p->obfs) {
		s->obfs = *p->obfs;
		wg_obfs_normalize(&s->obfs);
		s->obfs.accept_plain = false;   /* a client speaks one form */
		s->obfs_on = true;
		s->plain_every = p->plain_every;
	}
	s->now = wg_gw_now();
	s->ts_sec = (uint64_t)time(NULL);
	wg_x25519_generate(s->gw_private, s->gw_public);
	s->aead = wg_aead_create();
	if (s->aead == NULL || make_pool(s, p->mbufs) != 0) {
		snprintf(err, errlen, "cannot create the harness's pool or AEAD context");
		goto fail;
	}
	if (sim_clients_init(s, err, errlen) != 0 || make_gateway(s, p, err, errlen) != 0 ||
	    introduce_lan_host(s, err, errlen) != 0)
		goto fail;
	return s;
fail:
	wg_sim_destroy(s);
	return NULL;
}

static void drain_ring(struct rte_ring *r)
{
	struct rte_mbuf *m[64];
	unsigned n;

	while (r && (n = rte_ring_dequeue_burst(r, (void **)m, 64, NULL)) > 0)
		wg_sim_free(m, n);
}

/* Order matters: frames of the gateway's pool go before the gateway; the harness's pool
 * goes last, since the gateway may still hold (and then free) frames from it. */
void wg_sim_destroy(struct wg_sim *s)
{
	if (s == NULL)
		return;
	for (unsigned i = 1; i < WG_SIM_MAX_WORKERS; i++)
		wg_sim_thread_stop(s, i);
	stop_hs_threads(s);
	for (int side = 0; side < 2; side++)
		for (unsigned q = 0; q < WG_SIM_MAX_WORKERS; q++)
			drain_ring(s->tx[side][q]);
	wg_sim_discard(s);
	for (unsigned i = 0; i < s->n_workers; i++)
		if (s->worker[i])
			wg_gw_worker_unregister(s->worker[i]);
	wg_gw_destroy(s->gw);
	/* The gateway closed the ports (if it got that far); this removes the devices, so
	 * that a process can make many simulations. */
	for (int side = 0; side < 2; side++)
		if (s->dev[side])
			rte_dev_remove(s->dev[side]);
	for (int side = 0; side < 2; side++)
		for (unsigned q = 0; q < WG_SIM_MAX_WORKERS; q++) {
			drain_ring(s->rx[side][q]);
			drain_ring(s->tx[side][q]);
			rte_ring_free(s->rx[side][q]);
			rte_ring_free(s->tx[side][q]);
		}
	sim_clients_free(s);
	wg_wipe(s->gw_private, sizeof(s->gw_private));
	wg_aead_free(s->aead);
	rte_mempool_free(s->pool);
	free(s->cap[0].pkts);
	free(s->cap[1].pkts);
	free(s);
}
