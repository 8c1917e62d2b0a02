/* SPDX-License-Identifier: MIT */
/*
 * The gateway: ports, peers, tables, the worker data path and the control lcore's work,
 * built from a parsed configuration. The application owns EAL and the lcores; it creates
 * the gateway, starts it, runs wg_gw_worker_poll on each worker lcore and
 * wg_gw_control_poll on the main lcore (or both in turn on a single lcore), and stops it.
 */
#ifndef WG_GW_H
#define WG_GW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wg_config.h"

struct wg_gw;
struct wg_worker;

struct wg_gw_params {
	unsigned n_workers;        /* worker lcores (>= 1); the control lcore is extra */
	bool single_lcore;         /* control and the only worker share one lcore */
	uint32_t max_peers;        /* capacity of the peer table */
	uint32_t max_allowed_ips;  /* allowed-IPs prefixes per family; 0: 2 per peer + 1024 */
	uint32_t mbufs;            /* mbufs in the pool */
	unsigned n_hs_lcores;      /* handshake lcores (0: the control lcore does it all) */
	const char *aead_engine;   /* ChaCha20-Poly1305 engine by name (wg_aead.h); NULL:
	                            * the configuration's */
	const char *config_path;   /* the file the configuration came from: SaveConfig
	                            * writes there unless interface.save_path says */
};

/* Build everything but start nothing. NULL with a reason in err. */
struct wg_gw *wg_gw_create(const struct wg_config *cfg, const struct wg_gw_params *params,
			   char *err, size_t errlen);
/* Start the ports. 0, or -1 with a reason in err. */
int wg_gw_start(struct wg_gw *gw, char *err, size_t errlen);
/* Open the control sockets (the `wg` userspace API). 0, or -1 with a reason in err. */
int wg_gw_uapi_listen(struct wg_gw *gw, char *err, size_t errlen);
/* Open the JSON-RPC socket (path from the configuration). 0, or -1 with a reason. */
int wg_gw_rpc_listen(struct wg_gw *gw, char *err, size_t errlen);
/* Open the HTTP listeners the configuration asks for (http.listen, metrics.listen). */
int wg_gw_http_listen(struct wg_gw *gw, char *err, size_t errlen);
/* Register wgdp's telemetry commands (/wgdp/...) with rte_telemetry; their answers are
 * made on the control lcore. Process-wide: one gateway at a time. */
int wg_gw_telemetry_register(struct wg_gw *gw, char *err, size_t errlen);
/* Stop the ports, free everything, wipe every key. */
void wg_gw_destroy(struct wg_gw *gw);

/* Handshake lcores (params.n_hs_lcores): each runs wg_gw_hs_lcore_main, or registers
 * and polls itself (poll: true if it did some work). */
struct wg_hs_lcore;
unsigned wg_gw_hs_lcores(const struct wg_gw *gw);
struct wg_hs_lcore *wg_gw_hs_lcore(struct wg_gw *gw, unsigned i);
int wg_gw_hs_lcore_main(void *hs_lcore);
void wg_gw_hs_lcore_register(struct wg_hs_lcore *l);
void wg_gw_hs_lcore_unregister(struct wg_hs_lcore *l);
bool wg_gw_hs_lcore_poll(struct wg_hs_lcore *l);

struct wg_worker *wg_gw_worker(struct wg_gw *gw, unsigned i);
/* Register the calling lcore as worker i (RCU reader). */
void wg_gw_worker_register(struct wg_worker *w);
void wg_gw_worker_unregister(struct wg_worker *w);
/* A registered worker that stops polling for a while (between polls it holds nothing):
 * offline, grace periods do not wait for it; online again before its next poll. */
void wg_gw_worker_offline(struct wg_worker *w);
void wg_gw_worker_online(struct wg_worker *w);
/* One iteration of a worker's loop: receive, process and send a burst on every port. */
void wg_gw_worker_poll(struct wg_worker *w, uint64_t now);
/* One iteration of the control lcore's loop. */
void wg_gw_control_poll(struct wg_gw *gw, uint64_t now);

void wg_gw_request_stop(struct wg_gw *gw);
bool wg_gw_stopping(const struct wg_gw *gw);

/* Monotonic nanoseconds, the clock every `now` is read from. */
uint64_t wg_gw_now(void);

#include "wg_drops.h"

/* Counters summed over every lcore (the control lcore included). */
struct wg_gw_stats {
	uint64_t rx_pkts, tx_pkts, rx_bytes, tx_bytes;
	uint64_t decrypted, encrypted, keepalives_rx;
	uint64_t handed_off;           /* data messages passed to their keypair's worker */
	uint64_t frags_rx, frags_reassembled, frags_merged;   /* outer fragments */
	bool under_load;               /* handshakes answered with cookies now */
	uint64_t under_load_entered;
	uint64_t drops[WG_DROP_COUNT];
	uint64_t hs_initiations_rx, hs_responses_rx, hs_cookies_rx, hs_sent;
	uint64_t junk_sent;            /* AmneziaWG junk datagrams sent before initiations */
	uint64_t hs_used, local_used;  /* frames taken by the control lcore (not dropped) */
	uint64_t hs_offloaded;         /* initiations handed to the handshake lcores ... */
	uint64_t hs_prepared;          /* ... and prepared by them (all of them together) */
	uint64_t hs_busy_ns;           /* the control lcore's time on handshake messages */
	uint64_t hs_lcores_busy_ns;    /* the handshake lcores' time preparing, together */
	uint32_t peers, peers_with_session;
	struct {                       /* masquerade (docs/nat.md) */
		uint64_t flows;                /* now */
		uint64_t created, expired, flushed;
		uint64_t translated_out, translated_in;
		uint64_t misses;               /* packets for a masquerade address of no flow */
		uint64_t ports_exhausted, table_full, source_limit;
		uint64_t handed_off;           /* packets passed to their flow's worker */
	} nat;
};
/* Exact only while no lcore is running (tests stop polling first); otherwise a snapshot. */
void wg_gw_get_stats(struct wg_gw *gw, struct wg_gw_stats *st);
/* The gateway's public key; false without a private key. */
bool wg_gw_public_key(struct wg_gw *gw, uint8_t key[32]);

/* Counters: totals, per worker, every drop reason; and per peer. */
void wg_gw_dump_stats(struct wg_gw *gw, FILE *out);
/* What the workers' ChaCha20-Poly1305 contexts do (wg_aead_describe). */
const char *wg_gw_aead(const struct wg_gw *gw);
/* A line per listening port and lcore role, for the start-up message. */
void wg_gw_describe(struct wg_gw *gw, FILE *out);

/* ---- Masquerade and destination rules (docs/nat.md), on the control lcore's thread ---- */

/* Masquerade on the named port, as its configuration says it (m->port_min 0: the default
 * range); all or nothing. 0, or an errno with a reason in why. */
int wg_gw_masquerade(struct wg_gw *gw, const char *port, const struct wg_config_masq *m,
		     bool validate_only, char *why, size_t whylen);
/* Define or replace a set of destination rules; put a peer under one (NULL: none). */
int wg_gw_rule_set(struct wg_gw *gw, const char *name, const struct wg_dstrule *rules,
		   size_t n, bool validate_only, char *why, size_t whylen);
int wg_gw_peer_rule_set(struct wg_gw *gw, const uint8_t key[32], const char *name,
			bool validate_only, char *why, size_t whylen);

/* A masqueraded flow as the listings show it. */
struct wg_gw_flow {
	unsigned worker;
	uint8_t proto, state;              /* state: TCP's WG_NAT_ST_* bits (wg_nat.h) */
	uint16_t port;                     /* the gateway's port (index) it leaves by */
	struct wg_endpoint inside, outside, remote;   /* ICMP: the port is the query id */
	uint64_t idle_ns, timeout_ns;
	uint64_t pkts_out, pkts_in;
};
/* The first flow at or after position *pos (0 to start); *pos is then past it. 0, or
 * ENOENT when none is left. */
int wg_gw_flow_next(struct wg_gw *gw, uint64_t *pos, struct wg_gw_flow *f);

#endif
