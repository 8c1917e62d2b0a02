/* SPDX-License-Identifier: MIT */
/*
 * wgdp-gen: N WireGuard peers played against a server on DPDK ports (docs/benchmarking.md).
 *
 * Lcores: the main lcore brings the sessions up, answers ARP, receives on both ports
 * (decrypting and checking the replies) and reports; with a second lcore that one sends
 * the trial's pools (and the main lcore's control frames, through a ring); with one lcore
 * the main lcore does both in one loop. Before a trial every lcore encrypts a slice of its
 * pool (lib/gen), so the cipher is never in the timed part.
 */
#ifndef WG_GEN_APP_H
#define WG_GEN_APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "wg_aead.h"
#include "wg_gen.h"
#include "wg_noise.h"

#define GEN_MAX_PEERS   (1u << 20)     /* the peer's number lives in its receiver indices */
#define GEN_ID_BITS     20
#define GEN_ID_MASK     (GEN_MAX_PEERS - 1)
#define GEN_KEYPAIRS    3
#define GEN_BURST       32
#define GEN_UP          0              /* peers -> plaintext side: encrypted by us */
#define GEN_DOWN        1              /* plaintext side -> peers: encrypted by the server */
#define GEN_WAN         0
#define GEN_LAN         1

struct gen_opts {
	const char *port_name[2];      /* DPDK port names; lan NULL: none */
	uint8_t server_ip[4];
	uint16_t server_port;
	uint8_t server_pub[32];
	bool have_server_pub;
	uint8_t server_mac[6], lan_gw_mac[6];
	bool have_server_mac, have_lan_gw_mac;
	uint8_t peer_ip[4];            /* peer k: peer_ip + k, UDP peer_port */
	uint16_t peer_port;
	uint8_t tun_ip[4];             /* peer k's tunnel address: tun_ip + k */
	uint8_t sink_ip[4];            /* the plaintext host gen plays on the lan port */
	uint8_t lan_gw_ip[4];          /* the server's address on the lan side */
	unsigned n_peers;
	uint16_t sizes[WG_GEN_MAX_SIZES];
	unsigned n_sizes;
	bool imix;
	bool dir[2];                   /* which directions to offer */
	double rate;                   /* packets per second per direction; 0: as fast as it can */
	double duration;               /* seconds per trial */
	uint64_t pool;                 /* at most this many packets per direction per trial */
	unsigned drain_ms;
	unsigned trials;               /* repetitions of a fixed-rate trial */
	bool search;                   /* RFC 2544-style zero-loss search */
	double tolerance;              /* loss allowed in a search, in percent */
	double resolution;             /* stop when (hi - lo) / hi falls below (fraction) */
	unsigned max_steps;
	const char *keys_file, *peers_out, *json_out;
	bool per_peer;
	bool fake_sessions;            /* no server: random session keys (a sink test) */
	unsigned hs_chunk, hs_timeout_ms, hs_tries;
	uint32_t mtu;
};

/* One played peer: a protocol-core device whose one peer is the server. */
struct gen_peer {
	struct wg_noise_device dev;
	struct wg_noise_peer srv;
	struct wg_keypair kps[GEN_KEYPAIRS];
	uint32_t hs_index, index_gen;
	uint64_t last_ts_ns;           /* TAI64N of the last initiation (must increase) */
	uint64_t hs_sent_ns;           /* monotonic time of the last initiation */
	uint64_t session_ns;           /* when the current session began */
	unsigned id;
	bool waiting;                  /* an initiation is out */
};

struct gen_dir_stats {
	uint64_t sent, received, dup, stale, bad, wrong_peer, bytes;
	struct wg_gen_hist lat;
};

struct gen_peer_stats {
	uint64_t sent[2], received[2];
	struct wg_gen_hist lat[2];
};

/* What the receive side counts that no trial direction owns. */
struct gen_counters {
	uint64_t arp_answered, arp_learned, arp_other, keepalives, handshake_other, not_ours;
	uint64_t unknown_index, replay, decrypt_failed, bad_padding, rx_nombuf;
	uint64_t cookies, hs_refused;
};

struct gen_pool {
	struct rte_mbuf **m;
	uint64_t *tx_tsc;              /* when each packet went out */
	uint8_t *seen;                 /* a bit per packet: received already */
	uint64_t n, next;              /* packets in it, next to send */
	struct wg_gen_plan plan;
};

struct gen {
	struct gen_opts o;
	uint16_t port[2];
	bool has_lan;
	uint8_t mac[2][6];
	struct rte_mempool *rx_mp, *tx_mp, *ctl_mp;
	int pkt_fds[2][8];             /* net_af_packet's sockets, for their drop counters */
	unsigned n_pkt_fds[2];
	struct rte_ring *ctl_ring[2];  /* control frames while the TX lcore owns the queues */
	_Atomic bool tx_lcore_busy;
	unsigned tx_lcore;             /* RTE_MAX_LCORE: none, the main lcore sends */
	struct gen_peer *peers;
	struct wg_gen_flow *flows[2];
	struct wg_gen_session *sess;
	struct wg_aead *aead[RTE_MAX_LCORE];
	struct gen_pool pool[2];
	struct gen_dir_stats st[2];
	struct gen_peer_stats *pst;
	struct gen_counters c;
	uint32_t run;
	uint64_t tsc_hz;
	_Atomic bool stop;             /* SIGINT */
	_Atomic bool tx_done;
	double tx_seconds;             /* first to last packet sent in the trial */
};

/* One trial's outcome, per direction. */
struct gen_dir_result {
	bool on;
	uint64_t sent, received, lost, dup, stale, bad, wrong_peer, bytes;
	double offered_pps, received_pps, gbps;   /* gbps: inner IP bytes received */
	double loss_pct;
	uint64_t p50, p90, p99, p999, max_ns, min_ns;
};

struct gen_result {
	double rate;                   /* asked, per direction (0: as fast as it can) */
	double seconds;                /* sending time */
	uint64_t missed[2];            /* frames our own ports dropped (wan, lan): the NIC's
	                                * imissed and errors, or net_af_packet's kernel ring */
	struct gen_dir_result d[2];
};

/* port.c */
int gen_ports_init(struct gen *g, char *err, size_t errlen);
void gen_ports_close(struct gen *g);
struct rte_mbuf *gen_ctl_alloc(struct gen *g, size_t len, uint8_t **data);
void gen_ctl_send(struct gen *g, unsigned side, struct rte_mbuf *m);
void gen_ctl_drain(struct gen *g);
int gen_resolve(struct gen *g, char *err, size_t errlen);
bool gen_arp(struct gen *g, unsigned side, const uint8_t *f, size_t len);
uint64_t gen_port_missed(struct gen *g, unsigned side);
void gen_ip_add(uint8_t out[4], const uint8_t base[4], uint32_t k);
uint64_t gen_now_ns(void);

/* peer.c */
int gen_peers_init(struct gen *g, char *err, size_t errlen);
void gen_peers_free(struct gen *g);
int gen_peers_write(const struct gen *g, const char *path);
unsigned gen_handshake_all(struct gen *g);
bool gen_sessions_young(const struct gen *g, uint64_t max_age_ns);
void gen_sessions_snapshot(struct gen *g);
void gen_sessions_advance(struct gen *g, const struct wg_gen_plan *pl, uint64_t n);
void gen_rx_wan(struct gen *g, struct rte_mbuf **m, unsigned n, uint64_t tsc);
void gen_account(struct gen *g, unsigned dir, const uint8_t *ip, size_t len, unsigned peer,
		 uint64_t tsc);

/* trial.c */
void gen_rx_poll(struct gen *g);
int gen_trial(struct gen *g, const uint16_t *sizes, unsigned n_sizes, double rate,
	      struct gen_result *r);

/* report.c */
void gen_print_result(const struct gen *g, const char *label, const struct gen_result *r);
void gen_print_peers(const struct gen *g);
int gen_run_fixed(struct gen *g);
int gen_run_search(struct gen *g);
int gen_write_json(const struct gen *g, const char *path, const char *engine);

#endif
