/* SPDX-License-Identifier: MIT */
/* The simulation's structures, for the files of lib/sim only. */
#ifndef WG_SIM_PRIV_H
#define WG_SIM_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "wg_aead.h"
#include "wg_noise.h"
#include "wg_pkt.h"
#include "wg_sim.h"

#define SIM_CLIENT_ID_BITS 20
#define SIM_CLIENT_ID_MASK (WG_SIM_MAX_CLIENTS - 1)
#define SIM_KEYPAIRS       3        /* current, previous, and one being made */
#define SIM_CAPTURE_MAX    16384    /* frames kept per side until collected */
#define SIM_RING_SIZE      4096

/* A WireGuard client as the protocol core makes one: its own device (static key) with the
 * gateway as its only peer, like tests/interop/wg_interop.c. */
struct sim_client {
	struct wg_noise_device dev;
	struct wg_noise_peer peer;          /* the gateway */
	struct wg_keypair kps[SIM_KEYPAIRS];    /* storage for the peer's slots; peer NULL = free */
	uint8_t public_key[WG_KEY_LEN];
	uint32_t hs_index;                  /* index of the handshake in progress */
	uint32_t index_gen;                 /* makes every index of this client different */
	uint32_t handshakes;                /* initiations sent */
	unsigned id;
};

struct sim_capture {
	struct rte_mbuf **pkts;
	unsigned n, cap;
};

struct sim_thread {
	volatile bool run;                  /* cleared to stop it */
	bool started;
	unsigned lcore;
};

struct wg_sim {
	struct wg_gw *gw;
	struct wg_worker *worker[WG_SIM_MAX_WORKERS];
	unsigned n_workers;
	bool multi;                         /* workers and control on their own (not single_lcore) */
	struct sim_thread thread[WG_SIM_MAX_WORKERS];
	pthread_t hs_thread[8];             /* the handshake lcores' threads */
	struct sim_hs_arg {
		struct wg_sim *s;
		struct wg_hs_lcore *l;
	} hs_arg[8];
	unsigned n_hs_threads;
	atomic_bool hs_run;
	struct rte_mempool *pool;           /* the harness's frames */
	/* per side and queue (= worker): what the gateway receives / sends */
	struct rte_ring *rx[2][WG_SIM_MAX_WORKERS], *tx[2][WG_SIM_MAX_WORKERS];
	uint16_t port_id[2];
	struct rte_device *dev[2];          /* the net_ring devices, for their removal */
	uint8_t gw_mac[2][6];
	struct sim_capture cap[2];
	struct sim_client *clients;
	unsigned n_clients;
	unsigned n_configured;              /* clients [0, n_configured) are the gateway's peers */
	unsigned n_extra;                   /* and so are this many that no client plays */
	unsigned outer6_every;
	bool obfs_on;                       /* clients speak AmneziaWG (but plain_every's) */
	struct wg_obfs obfs;                /* the gateway's parameters, accept_plain off */
	unsigned plain_every;
	struct wg_aead *aead;
	uint8_t gw_private[WG_KEY_LEN];     /* made here, so clients know the gateway first */
	uint8_t gw_public[WG_KEY_LEN];
	uint64_t now;
	uint64_t ts_sec;                    /* wall clock at creation: client timestamps */
	uint64_t heap_bytes;
	struct wg_sim_counters counters;
	unsigned id;                        /* names of rings and ports in this process */
};

/* sim_client.c */
const uint8_t *sim_wg_payload(const struct rte_mbuf *m, struct wg_pkt_info *pi, size_t *len);
int sim_clients_init(struct wg_sim *s, char *err, size_t errlen);
void sim_clients_free(struct wg_sim *s);

/* sim_io.c */
struct rte_mbuf *sim_frame_alloc(struct wg_sim *s, size_t len, uint8_t **data);
struct rte_mbuf *sim_frame_copy(struct wg_sim *s, const uint8_t *frame, size_t len);
/* Ethernet, IP and UDP from client k to the gateway in front of msg_len bytes at
 * frame + returned offset; the offset of the message, or 0. */
size_t sim_client_outer(const struct wg_sim *s, unsigned k, uint8_t *frame, size_t msg_len);
size_t sim_client_hdr_len(const struct wg_sim *s, unsigned k);
bool sim_client_is_v6(const struct wg_sim *s, unsigned k);
/* The IPv6 UDP checksum of a client frame whose message is final (IPv4: nothing). */
void sim_client_finish(const struct wg_sim *s, unsigned k, struct rte_mbuf *m);
int sim_answer_lan(struct wg_sim *s, struct rte_mbuf *m);

#endif
