/* SPDX-License-Identifier: MIT */
/*
 * An in-process simulation of the gateway's world, for component tests and benchmarks.
 *
 * One process holds everything: EAL (no hugepages, no shared config), a gateway built
 * from a configuration made here, two net_ring ports ("wan" and "lan") whose rings the
 * harness fills and drains, N WireGuard clients built from the protocol core, and one
 * plain host on the LAN. The caller drives the gateway in its own thread: inject frames,
 * poll (worker, then control), collect what came out.
 *
 * The world, fixed so that tests can name addresses:
 *   gateway  wan 192.168.50.1/24 fd50::1/64, UDP 51820   lan 10.60.0.1/24 fd60::1/64
 *   client k endpoint 192.168.50.(10+k%240):(51000+k%14536), or fd50::(10+k) with the same
 *            port when it is an IPv6 client (see outer6_every); MAC 02:00:5e:kk:kk:kk
 *            tunnel addresses 10.200.x.y/32 and fd00:200::x:y/128, x.y = k+1 (past
 *            65,535 clients the IPv4 ones go on in 10.201.x.y)
 *   LAN host 10.60.0.10, fd60::10, MAC 02:60:00:00:00:10; it answers the gateway's ARP
 *            and neighbour solicitations for those addresses by itself
 *
 * net_ring ports report the MAC 00:00:00:00:00:00 and cannot change it, so both of the
 * gateway's MACs are zero here (wg_sim_gw_mac says what they are).
 *
 * The clock is simulated: it starts at wg_gw_now() and moves 1 us per wg_sim_poll and by
 * wg_sim_advance, so that no protocol timer fires unless a test asks for it.
 *
 * Frames built here come from the harness's own mempool; frames collected come from the
 * gateway's and are the caller's to free (rte_pktmbuf_free or wg_sim_free).
 */
#ifndef WG_SIM_H
#define WG_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "wg_addr.h"
#include "wg_gw.h"

#define WG_SIM_LISTEN_PORT 51820
#define WG_SIM_MTU         1420
#define WG_SIM_MAX_CLIENTS (1u << 20)   /* the client's id lives in its receiver indices */
#define WG_SIM_MAX_PKT     2048         /* largest inner packet the builders make */
/* Offset of the WireGuard message in a client's frame: Ethernet, IP, UDP. */
#define WG_SIM_WAN_HDR4    (14 + 20 + 8)
#define WG_SIM_WAN_HDR6    (14 + 40 + 8)

enum wg_sim_side { WG_SIM_WAN = 0, WG_SIM_LAN = 1 };

struct wg_sim;

#define WG_SIM_MAX_WORKERS 4

struct wg_sim_params {
	unsigned n_clients;          /* clients simulated, <= WG_SIM_MAX_CLIENTS */
	unsigned n_configured;       /* of which the first n are the gateway's configured
	                              * peers; 0 = all of them */
	unsigned n_extra_peers;      /* more configured peers that no client plays (random
	                              * keys, the tunnel addresses of clients n_clients...):
	                              * a gateway of many peers with few of them active */
	uint32_t max_peers;          /* gateway capacity; 0 = n_clients + n_extra_peers */
	uint32_t max_allowed_ips;    /* prefixes per family; 0 = the gateway's default */
	uint32_t mbufs;              /* in each pool (the gateway's, the harness's); 0 = 8191 */
	unsigned outer6_every;       /* client k uses IPv6 outer if k % n == n - 1; 0 = never */
	unsigned n_workers;          /* 0 or 1: one worker sharing its lcore with the control
	                              * loop (the demo's layout); 2..WG_SIM_MAX_WORKERS:
	                              * workers and a control lcore of their own, each worker
	                              * with its own queue on both ports */
	unsigned n_hs_lcores;        /* handshake lcores, run as threads of the harness's own
	                              * (not EAL lcores) from creation to destruction */
	bool check_retire;           /* count objects freed while still published (a scan of
	                              * every peer per free: for tests, not benchmarks) */
	const char *socket_dir;      /* if set: the gateway serves its `wg` socket (DIR/uapi.sock)
	                              * and its JSON-RPC socket (DIR/rpc.sock) */
	const char *aead_engine;     /* the gateway's ChaCha20-Poly1305 engine by name; NULL:
	                              * $WGDP_AEAD_ENGINE, else auto */
	const struct wg_obfs *obfs;  /* the gateway's AmneziaWG parameters (checked by the
	                              * caller), which the clients use too; NULL: plain */
	unsigned plain_every;        /* with obfs: client k speaks plain WireGuard if
	                              * k % n == n - 1; 0 = none does */
};

/* Harness counters: what it did on its own and what it could not do. */
struct wg_sim_counters {
	uint64_t arp_answered, nd_answered;  /* LAN host replies to the gateway */
	uint64_t inject_full;                /* frames refused by a full RX ring (freed) */
	uint64_t capture_full;               /* frames dropped by a full capture buffer */
	uint64_t hs_unexpected;              /* frames seen during a handshake that were not
	                                      * the response being waited for (freed) */
	uint64_t hs_cookies;                 /* cookie replies taken during a handshake (the
	                                      * initiation was made again with mac2) */
	uint64_t worker_cycles, control_cycles;  /* TSC spent in the gateway's polls */
	uint64_t freed_published;            /* keypairs or endpoints the gateway freed while
	                                      * a peer still published them (must stay 0) */
};

/* EAL for a test or benchmark process: one lcore (on CPU `cpu`), no hugepages, no PCI,
 * no shared configuration, a file prefix unique to the process, mem_mb of memory (-m).
 * Also initialises the protocol core. 0, or -1 with a message on stderr. */
int wg_sim_eal_init(const char *prog, unsigned mem_mb, unsigned cpu);
/* The same with several lcores (an EAL -l list such as "0-1"), for worker threads. */
int wg_sim_eal_init_lcores(const char *prog, unsigned mem_mb, const char *lcores);
void wg_sim_eal_cleanup(void);

/* Ports, gateway (started), clients and the LAN host, with the LAN host already known to
 * the gateway (it has sent ARP and a neighbour solicitation for the gateway's addresses
 * and got the answers). No handshake yet. NULL with a reason in err. */
struct wg_sim *wg_sim_create(const struct wg_sim_params *p, char *err, size_t errlen);
void wg_sim_destroy(struct wg_sim *s);

struct wg_gw *wg_sim_gw(struct wg_sim *s);
unsigned wg_sim_n_clients(const struct wg_sim *s);
void wg_sim_stats(struct wg_sim *s, struct wg_gw_stats *st);
const struct wg_sim_counters *wg_sim_counters(const struct wg_sim *s);
/* Bytes of DPDK heap the gateway took when it was created (memory per peer). */
uint64_t wg_sim_gw_heap_bytes(const struct wg_sim *s);

/* The harness's pool: frames it builds (what the gateway receives) come from it, and the
 * gateway sends received frames on in place, so a collected frame from this pool is one
 * it received. */
struct rte_mempool *wg_sim_pool(const struct wg_sim *s);

uint64_t wg_sim_now(const struct wg_sim *s);
void wg_sim_advance(struct wg_sim *s, uint64_t ns);

/* Addresses of the simulated world (see above). */
struct wg_ip wg_sim_client_tunnel_ip(unsigned k, unsigned family);
struct wg_endpoint wg_sim_client_endpoint(const struct wg_sim *s, unsigned k);
void wg_sim_client_mac(unsigned k, uint8_t mac[6]);
struct wg_ip wg_sim_lan_host_ip(unsigned family);
void wg_sim_lan_host_mac(uint8_t mac[6]);
struct wg_ip wg_sim_gw_ip(enum wg_sim_side side, unsigned family);
void wg_sim_gw_mac(const struct wg_sim *s, enum wg_sim_side side, uint8_t mac[6]);

/* An inner IP packet: UDP, or an ICMP / ICMPv6 echo request, of exactly `size` bytes of
 * IP, with correct checksums. `tag` goes into the ports (echo id and sequence), the IPv4
 * id or IPv6 flow label, and the payload bytes, so that packets with different tags
 * differ. */
struct wg_sim_pkt {
	struct wg_ip src, dst;       /* the same family */
	uint16_t size;               /* total IP length: >= 28 (IPv4) or 48 (IPv6) */
	uint8_t proto;               /* WG_IPPROTO_UDP, WG_IPPROTO_ICMP or WG_IPPROTO_ICMPV6 */
	uint8_t ttl;                 /* 0 = 64 */
	bool df;                     /* IPv4 don't-fragment */
	uint32_t tag;
};
/* The packet's length (p->size), or 0 if it cannot be built in cap bytes as asked. */
size_t wg_sim_build_pkt(uint8_t *buf, size_t cap, const struct wg_sim_pkt *p);

/* LAN frames from the LAN host to the gateway's LAN MAC around inner packets. NULL / a
 * short count when the harness's pool is empty or a packet cannot be built. */
struct rte_mbuf *wg_sim_lan_frame(struct wg_sim *s, const uint8_t *ip, size_t len);
unsigned wg_sim_lan_frames(struct wg_sim *s, const struct wg_sim_pkt *pkts, unsigned n,
			   struct rte_mbuf **out);

/* WAN frames from client k's endpoint and MAC to the gateway's listen port. */
struct rte_mbuf *wg_sim_client_udp_frame(struct wg_sim *s, unsigned k, const void *msg,
					 size_t len);
/* A data message (len 0: a keepalive) on client k's current keypair, with the next
 * counter, encrypted as the protocol says (padding to 16, counter nonce). */
struct rte_mbuf *wg_sim_client_data_frame(struct wg_sim *s, unsigned k, const uint8_t *ip,
					  size_t len);
/* A burst: packet i from client clients[i], all encrypted in one AEAD burst. Returns how
 * many frames were made (out[0..n) on success). */
unsigned wg_sim_client_data_raw(struct wg_sim *s, const unsigned *clients,
				const uint8_t *const *ips, const uint16_t *lens, unsigned n,
				struct rte_mbuf **out);
unsigned wg_sim_client_data_frames(struct wg_sim *s, const unsigned *clients,
				   const struct wg_sim_pkt *pkts, unsigned n,
				   struct rte_mbuf **out);
/* A fresh handshake initiation from client k (mac1 included), as a frame. */
struct rte_mbuf *wg_sim_client_initiation(struct wg_sim *s, unsigned k);

/* Queue frames on a port's RX ring (queue 0). Returns how many were queued; the rest are
 * freed and counted (inject_full). */
unsigned wg_sim_inject(struct wg_sim *s, enum wg_sim_side side, struct rte_mbuf **m,
		       unsigned n);
/* The same on queue q: what RSS would give worker q. */
unsigned wg_sim_inject_queue(struct wg_sim *s, enum wg_sim_side side, unsigned q,
			     struct rte_mbuf **m, unsigned n);
/* Frames still waiting on a port's RX queue. */
unsigned wg_sim_rx_pending(const struct wg_sim *s, enum wg_sim_side side, unsigned q);
/* One poll of worker 0 at the simulated `now`; returns the TSC cycles it took. */
uint64_t wg_sim_poll_worker(struct wg_sim *s);
/* One poll of worker i (not while a thread runs it). */
uint64_t wg_sim_poll_worker_n(struct wg_sim *s, unsigned i);
/* Run worker i (>= 1) on its own EAL lcore, polling at the simulated clock, until
 * wg_sim_thread_stop. 0, or -1 if the lcore cannot run it. Only the harness's thread
 * injects and drains; the worker thread polls. */
int wg_sim_thread_start(struct wg_sim *s, unsigned i, unsigned lcore);
void wg_sim_thread_stop(struct wg_sim *s, unsigned i);
void wg_sim_poll_control(struct wg_sim *s);
/* Take what the gateway sent off both TX rings: the LAN host answers ARP and neighbour
 * solicitations for its addresses; everything else is kept for wg_sim_collect. */
void wg_sim_drain(struct wg_sim *s);
/* Every worker not run by a thread, control poll, drain; the clock moves 1 us. */
void wg_sim_poll(struct wg_sim *s);
void wg_sim_run(struct wg_sim *s, unsigned rounds);
/* Frames the gateway sent on a side, oldest first; the caller owns them. */
unsigned wg_sim_collect(struct wg_sim *s, enum wg_sim_side side, struct rte_mbuf **out,
			unsigned max);
/* Free every collected-but-not-taken frame. */
void wg_sim_discard(struct wg_sim *s);
void wg_sim_free(struct rte_mbuf **m, unsigned n);

/* Handshake clients [first, first + n) with the gateway: each sends an initiation,
 * consumes the response and confirms the session with a keepalive. Returns how many
 * completed. Clients that handshook before start a new session. */
unsigned wg_sim_handshake(struct wg_sim *s, unsigned first, unsigned n);
unsigned wg_sim_handshake_all(struct wg_sim *s);
/* The same with all n initiations at once (a storm: past the load mark, cookie replies
 * come back, and the clients initiate again with mac2 as real clients do; those left
 * unanswered, by the per-source rate limit say, try again 5 s later, up to 3 times). */
unsigned wg_sim_handshake_storm(struct wg_sim *s, unsigned first, unsigned n);
bool wg_sim_client_has_session(const struct wg_sim *s, unsigned k);
/* Does client k speak AmneziaWG's obfuscated form (params obfs, plain_every)? */
bool wg_sim_client_obfuscated(const struct wg_sim *s, unsigned k);

/* What the gateway sent, as the client it was for sees it. */
enum wg_sim_rx_status {
	WG_SIM_RX_OK,                /* a data message, decrypted (rx->len 0: keepalive) */
	WG_SIM_RX_HANDSHAKE,         /* a handshake message (rx->type); not consumed */
	WG_SIM_RX_NOT_WG,            /* not a UDP datagram from the listen port */
	WG_SIM_RX_BAD_OUTER,         /* wrong MACs, addresses, ports or checksum */
	WG_SIM_RX_UNKNOWN_INDEX,     /* no client keypair has that receiver index */
	WG_SIM_RX_REPLAY,
	WG_SIM_RX_DECRYPT,
	WG_SIM_RX_BAD_PADDING,       /* padding not zero or not to a multiple of 16 */
};

struct wg_sim_rx {
	unsigned client;
	unsigned type;               /* WireGuard message type */
	uint64_t counter;
	uint32_t len;                /* inner IP length (padding removed); 0: keepalive */
	uint8_t data[WG_SIM_MAX_PKT + 16];
};

enum wg_sim_rx_status wg_sim_client_receive(struct wg_sim *s, const struct rte_mbuf *m,
					    struct wg_sim_rx *rx);
/* A frame the gateway sent to the LAN host: checks its Ethernet header (the LAN host's
 * MAC, the gateway's LAN MAC, the ethertype of the IP version) and points at the IP
 * packet, whose length is the IP header's. false if any of it is wrong. */
bool wg_sim_lan_receive(const struct wg_sim *s, const struct rte_mbuf *m,
			const uint8_t **ip, size_t *len);

const char *wg_sim_rx_status_str(enum wg_sim_rx_status st);

/* ---- reaching into the gateway and the clients, for tests of particular paths ---- */

void wg_sim_client_public_key(const struct wg_sim *s, unsigned k, uint8_t key[32]);
/* The control lcore starts a handshake with client k's peer now (as its timers would). */
void wg_sim_gw_initiate(struct wg_sim *s, unsigned k);
/* Client k answers the gateway's initiation in m: the response frame, or NULL if the
 * client refused it. The client's new session waits for the gateway's first data. */
struct rte_mbuf *wg_sim_client_respond(struct wg_sim *s, unsigned k, const struct rte_mbuf *m);
/* Client k, as if under load, answers the gateway's handshake message in m with a cookie
 * reply (for the message's sender index, the cookie bound to the gateway's address). */
struct rte_mbuf *wg_sim_client_cookie_reply(struct wg_sim *s, unsigned k,
					    const struct rte_mbuf *m);
/* Client k takes the cookie in the gateway's cookie reply m (its next handshake message
 * carries mac2). false if it does not answer a message of the client's. */
bool wg_sim_client_take_cookie(struct wg_sim *s, unsigned k, const struct rte_mbuf *m);
/* An initiation from nobody the gateway knows, at a source address and port made from
 * seed (100.x.y.z): random bytes but for a mac1 right for the gateway's key, as an
 * attacker who knows the public key floods it. */
struct rte_mbuf *wg_sim_spoofed_initiation(struct wg_sim *s, uint64_t seed);
/* Does the gateway's handshake message in m carry a mac2 that client k accepts? */
bool wg_sim_client_mac2_ok(struct wg_sim *s, unsigned k, const struct rte_mbuf *m);
/* The endpoint the gateway sends client k's peer's packets to; false if none. */
bool wg_sim_gw_peer_endpoint(struct wg_sim *s, unsigned k, struct wg_endpoint *ep);
/* The transfer counters `wg show` reports for client k's peer; false if it has none. */
bool wg_sim_gw_peer_bytes(struct wg_sim *s, unsigned k, uint64_t *rx, uint64_t *tx);
/* Apply a `wg` set request (the body, key=value lines, without set=1) as the UAPI socket
 * would. 0, or an errno with a reason in why. */
int wg_sim_uapi_set(struct wg_sim *s, const char *body, char *why, size_t whylen);
/* The same as the sockets apply a long request: in slices of slice_ns (0: the default),
 * between which the gateway's control loop (and its worker, with one lcore) runs on the
 * simulated clock, without the sockets. */
int wg_sim_uapi_set_sliced(struct wg_sim *s, const char *body, uint64_t slice_ns,
			   char *why, size_t whylen);

#endif
