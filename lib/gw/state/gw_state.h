/* SPDX-License-Identifier: MIT */
/*
 * The gateway's shared state, for the files of lib/gw only: the gateway, its peers,
 * keypairs, ports, workers and tables, and the functions every layer may call on them.
 * lib/gw has three layers with one-way dependencies (docs/design.md, "The modules"):
 *   state/  this: the shared structures, the peer table, the neighbour table, ports,
 *           the RCU retire queue, keypair publication; calls nothing above it;
 *   dp/     the workers' data path (gw_dp.h); calls state/ only;
 *   ctl/    the control and handshake lcores and the socket servers (gw_ctl.h); calls
 *           dp/ (to send) and state/.
 * gw.c builds and tears down the gateway over all three. tests/unit/check_layers.py
 * checks the rule on the built library.
 *
 * Ownership rules:
 *   - fields marked [ctrl] are read and written by the control lcore only;
 *   - fields marked [pub] are written by the control lcore and read by workers through
 *     atomic loads; what they point to is retired through RCU (wg_gw_retire);
 *   - fields marked [wk] are written by workers with relaxed atomic stores and read by the
 *     control lcore.
 */
#ifndef WG_GW_STATE_H
#define WG_GW_STATE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "wg_addr.h"
#include "wg_aead.h"
#include "wg_allowedips.h"
#include "wg_config.h"
#include "wg_drops.h"
#include "wg_events.h"
#include "wg_http.h"
#include "wg_gw.h"
#include "wg_index.h"
#include "wg_pkt.h"
#include "wg_noise.h"
#include "wg_obfs.h"
#include "wg_ratelimiter.h"
#include "wg_timers.h"

#define WG_BURST          32
#define WG_MAX_WORKERS    16
#define WG_MAX_PORTS      WG_CONFIG_MAX_PORTS
#define WG_STAGED_MAX     16      /* packets held per peer while a handshake is made */
#define WG_STAGING_PEERS  65536   /* peers holding packets at once (past it: dropped) */

/* [ctrl] A peer's packets while it has no keypair, allocated when the first one comes
 * (most of a million peers never hold one, so it is not in struct wg_peer). */
struct wg_staged {
	unsigned n;
	struct rte_mbuf *m[WG_STAGED_MAX];
};
#define WG_CTRL_RING_SIZE 4096
#define WG_EVENT_RING_SIZE 4096
#define WG_HANDOFF_RING_SIZE 2048   /* per worker: data messages for keypairs it owns */

/*
 * Handshakes under load (docs/robustness.md). Messages wait in a ring of their own, apart
 * from the control lcore's other work; those whose mac2 a worker verified while under load
 * wait in a small ring that is served first, so a flood cannot crowd them out. The control
 * lcore spends at most a slice of time per poll on them, so the data path keeps its share
 * of a shared lcore: the slice halves whenever the worker's queues back up and grows back
 * while they keep up, so handshakes get what the data path leaves. It is under load (cookie replies instead of Diffie-Hellman) while the
 * backlog passes 1/8 of the ring (as the kernel) or would take longer than
 * WG_HS_BACKLOG_NS at the measured cost of a handshake, and for a second after.
 */
#define WG_HS_RING_SIZE       4096
#define WG_HS_PRIO_RING_SIZE  1024
#define WG_UNDER_LOAD         (WG_HS_RING_SIZE / 8)
#define WG_HS_BACKLOG_NS      (50ull * 1000 * 1000)
#define WG_HS_MAX_AGE_NS      (1000ull * 1000 * 1000)   /* older: HS_STALE */
#define WG_HS_SLICE_MIN_NS    (20ull * 1000)    /* shared lcore: between these, halved  */
#define WG_HS_SLICE_MAX_NS    (1000ull * 1000)  /* when the worker's queues back up, else grown */
#define WG_HS_SLICE_OWN_NS    (2000ull * 1000)  /* a control lcore of its own */
#define WG_RX_BURSTS_SHARED   4   /* bursts per port per poll on a shared lcore, while full */
#define WG_ICMP_PER_SEC       1000      /* ICMP errors per lcore and second ... */
#define WG_ICMP_BURST         100       /* ... and at once */
#define WG_MAX_HS_LCORES      8
#define WG_HS_JOB_RING_SIZE   1024  /* initiations out at the handshake lcores, at most */
#define WG_NEIGH_SIZE     4096
#define WG_PENDING_MAX    64      /* packets held while their next hop is resolved ... */
#define WG_PENDING_MAX_AGE_NS (3000ull * 1000 * 1000)   /* ... for at most 3 s */

/* What a packet handed to the control lcore is for. */
enum wg_ctrl_kind {
	WG_CTRL_HANDSHAKE,     /* WireGuard message type 1, 2 or 3 (mac1 checked); in hs_ring */
	WG_CTRL_LOCAL,         /* ARP, neighbour discovery, ICMP for our own addresses */
	WG_CTRL_STAGE,         /* inner packet for meta.peer waiting for a keypair */
	WG_CTRL_ICMP_ERROR,    /* inner packet to answer with ICMP meta.arg (wg_icmp_error) */
	WG_CTRL_RESOLVE,       /* frame for meta.port whose next hop is unresolved */
	WG_CTRL_INNER_LOCAL,   /* decrypted packet for one of our own addresses (meta.peer) */
};

/* Per-packet metadata in an mbuf dynamic field; see wg_meta(). */
struct wg_meta {
	uint32_t peer;
	uint32_t gen;          /* the generation of meta.peer's slot when peer was set */
	uint32_t arg;          /* kind-specific: icmp error kind and MTU; a handshake's arrival
	                        * (now >> 20, about milliseconds) */
	uint16_t kind;
	uint16_t port;         /* the port index (not DPDK id) it arrived on or leaves by */
	uint16_t l3_off;       /* offset of the (outer) IP header */
	uint16_t l4_off;
	uint16_t hs_off;       /* a handshake: padding before the message (AmneziaWG) ... */
	uint8_t hs_type;       /* ... its type (1..3) ... */
	uint8_t hs_obfs;       /* ... and form (1: obfuscated), as the worker recognised them */
};

extern int wg_meta_offset;

static inline struct wg_meta *wg_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, wg_meta_offset, struct wg_meta *);
}

/* Events from workers to the control lcore. */
enum wg_event_type {
	WG_EV_CONFIRM,         /* first data arrived on a responder's keypair: make it current */
	WG_EV_HANDSHAKE,       /* a peer needs a (new) handshake */
	WG_EV_ROAM,            /* authenticated packet from a new endpoint */
};

struct wg_event {
	uint16_t type;
	uint16_t port;
	uint32_t peer;
	uint32_t gen;
	uint32_t index;        /* WG_EV_CONFIRM: the keypair's local index */
	struct wg_endpoint ep;
	uint8_t mac[6];
	uint8_t pad[2];
};

/* Where to send a peer's packets: published by the control lcore, swapped through RCU. */
struct wg_peer_ep {
	struct wg_endpoint ep;
	uint16_t port;         /* port index */
	uint8_t mac[6];        /* next-hop MAC towards the endpoint */
	/* The outer Ethernet, IP and UDP headers of every data message to it, made once when
	 * the endpoint is published: a data message copies them and fills in the lengths
	 * and checksums (wg_dp_write_outer does the same from scratch). tmpl_len 0: none. */
	uint8_t tmpl[14 + 40 + 8];
	uint8_t tmpl_len;
	uint16_t tmpl_sport;   /* the listen port it was made with */
	uint32_t tmpl_sum;     /* IPv4: the header's sum without its length; IPv6: the UDP
	                        * pseudo-header's sum without the length */
};

/* A keypair as the gateway keeps it: the core's keypair and what workers need around it. */
struct wg_rpc_backend;

/* A keypair's receive side is owned by one worker: the writer of its replay window
 * (kp.replay.writer, worker index + 1), the only one that checks and updates the window
 * and reports what the keypair's packets authenticate (endpoint, confirmation). Claimed
 * by the first worker a data message on the keypair reaches; other workers hand the
 * keypair's packets to it (docs/design.md, "Who writes what"). */
struct wg_gw_keypair {
	struct wg_keypair kp;
	struct wg_peer *peer;
	uint32_t peer_gen;            /* the generation of peer's slot the keypair belongs to */
	_Atomic uint32_t confirmed;   /* responder: first data seen (an event was posted) */
	bool obfuscated;              /* [ctrl] the form of the handshake that made it: its
	                               * data messages carry kp.send_type = h4 */
};

struct wg_peer {
	/* [pub] the data path's view */
	_Atomic(struct wg_gw_keypair *) tx_kp;
	_Atomic(struct wg_peer_ep *) ep;
	_Atomic uint32_t gen;          /* changes when the slot is reused */
	_Atomic uint32_t live;
	uint32_t id;

	/* [wk] activity stamps (monotonic ns) and requests, one line of their own */
	alignas(RTE_CACHE_LINE_SIZE) _Atomic uint64_t last_rx;
	_Atomic uint64_t last_rx_data;
	_Atomic uint64_t last_tx;
	_Atomic uint64_t last_tx_data;
	_Atomic uint32_t want_handshake;
	_Atomic uint32_t roam_pending;

	/* [ctrl] */
	alignas(RTE_CACHE_LINE_SIZE) struct wg_noise_peer noise;
	struct wg_timers timers;
	uint64_t seen_rx, seen_rx_data, seen_tx, seen_tx_data;
	uint64_t last_init_sent;
	uint64_t last_handshake_unix_ns;
	struct wg_endpoint conf_ep;    /* configured or last known endpoint */
	bool ep_resolving;             /* the endpoint waits for its next hop's MAC */
	bool init_waiting;             /* and so does an initiation */
	uint16_t keepalive;
	bool form_known;               /* the peer has sent an authenticated handshake ... */
	bool obfuscated;               /* ... in this form, which our own initiations use */
	struct wg_staged *staged;      /* packets waiting for a handshake; NULL: none */
	struct wg_prefix *aips;
	unsigned n_aips, cap_aips;
	uint64_t rx_bytes_base, tx_bytes_base;   /* the slot's byte counters at creation */
	/* Operator state (docs/operations.md): a disabled peer keeps its configuration and
	 * counters, has no session, and its packets are dropped as PEER_DISABLED where the
	 * control lcore sees them (staged for a handshake, handshakes). */
	bool disabled;
	bool up;                       /* has had a session since it was added, enabled or
	                                * last went quiet (events "up", "quiet") */
	uint64_t last_hs_mono;         /* monotonic ns of the last completed handshake */
	uint32_t n_handshakes;         /* completed since the peer was added */
	uint32_t event_mark;           /* the apply that last reported it (one event each) */
	uint32_t reset_gen;            /* the setconf that last reset its settings */
	uint32_t named_gen;            /* the setconf that last named it (replace_peers) */
};

#define WG_PORT_MAX_PKT_FDS 16

struct wg_port {
	uint16_t dpdk_id;
	unsigned role;
	uint16_t mtu;
	uint8_t mac[6];
	char name[WG_CONFIG_NAME_LEN];
	struct wg_prefix addrs[WG_CONFIG_MAX_PORT_ADDRS];
	unsigned n_addrs;
	struct wg_ip gw4, gw6;
	/* [ctrl] net_af_packet: the PMD's sockets, and what the kernel dropped at their rings */
	int pkt_fds[WG_PORT_MAX_PKT_FDS];
	unsigned n_pkt_fds;
	uint64_t kernel_drops;
};

struct wg_peer_stats {
	uint64_t rx_bytes, tx_bytes;
};

/* A TX buffer per port, drained at the end of each poll. */
struct wg_txq {
	struct rte_mbuf *pkts[WG_BURST * 4];
	uint16_t n;
};

/* Per-lcore context; the control lcore has one too (for its own TX queues and counters). */
struct wg_worker {
	struct wg_gw *gw;
	struct wg_aead *aead;
	struct rte_ring *handoff;      /* data messages other workers pass to this one (MP/SC);
	                                * NULL with one worker */
	unsigned idx;                  /* queue id on every port */
	unsigned rcu_id;
	bool is_ctrl;
	uint64_t rx_pkts, tx_pkts, rx_bytes, tx_bytes, decrypted, encrypted, keepalives_rx;
	uint64_t handed_off;           /* data messages passed to their keypair's owner */
	uint64_t polls, idle_polls;    /* polls, and those that received nothing */
	uint64_t full_bursts;          /* rx bursts that came back full: a queue was backed up */
	uint64_t now;                  /* the current poll's clock */
	struct wg_frag *frag;          /* outer fragments in reassembly (frag.c) */
	uint64_t frags_rx;             /* outer fragments received */
	uint64_t frags_reassembled;    /* datagrams they made */
	uint64_t frags_merged;         /* fragments absorbed into a datagram (all but one each) */
	uint64_t icmp_tokens, icmp_last;   /* ICMP error rate limit (ns) */
	/* The last LAN destination routed in this burst: packets of a burst often go to
	 * the same host or next hop, so the route and neighbour lookups are done once. A
	 * MAC a burst old is as good as the neighbour table's. */
	struct {
		struct wg_ip dst;
		int port;
		uint8_t mac[6];
		bool valid;
	} lan_memo;
	uint64_t icmp_suppressed;      /* ICMP errors not sent: past the rate */
	bool rx_backlogged;            /* the last poll left a port backed up (its bursts all
	                                * came back full) */
	uint64_t drops[WG_DROP_COUNT];
	struct wg_peer_stats *peer_stats;   /* [max_peers] */
	struct wg_txq tx[WG_MAX_PORTS];
} __rte_cache_aligned;

struct wg_neigh {
	_Atomic uint32_t used;
	struct wg_ip ip;
	_Atomic uint64_t mac;          /* bit 63: valid; low 48 bits: the address */
	uint16_t port;                 /* [ctrl] */
	uint64_t last_request;         /* [ctrl] */
};

/* The cookie secret as the control lcore last made it, for workers' mac2 checks. */
struct wg_cookie_pub {
	uint8_t secret[WG_HASH_LEN];
	uint64_t birth;
};

/* An initiation at a handshake lcore (hs_lcore.c): kept at the end of its mbuf's buffer. */
struct wg_hs_job {
	struct wg_noise_prepared prep;   /* written by the handshake lcore */
	uint64_t cost_ns;                /* what preparing it took */
	uint32_t msg_off, len, type;     /* the message in the frame, its type field */
	uint32_t identity_gen;           /* the device's key when it was handed out */
};

/* A handshake lcore: [own] written by itself, read for statistics. */
struct wg_hs_lcore {
	struct wg_gw *gw;
	unsigned idx;
	unsigned lcore;
	uint64_t jobs, busy_ns;
} __rte_cache_aligned;

/* The control lcore's handshake work, for statistics and the under-load decision. */
struct wg_hs_state {
	uint64_t under_load_until;     /* cookie replies until then */
	uint64_t dh_ns, cookie_ns;     /* measured cost of a handshake message, of a cookie
	                                * reply (moving averages) */
	uint64_t under_load_entered;   /* times it went under load */
	uint64_t slices_spent;         /* polls that ran out of time with messages left */
	uint64_t prio_served;          /* messages served from the prio ring */
	uint64_t busy_ns;              /* time spent on handshake messages */
	uint64_t slice_ns;             /* shared lcore: the current slice */
	uint64_t cookie_pub_birth;     /* of the published snapshot */
	uint64_t prep_ns, answer_ns;   /* with handshake lcores: the cost of preparing an
	                                * initiation there, of answering it here */
};

/*
 * A long request (a large set, AddPeers, RemovePeers) runs on the control lcore in
 * slices: its loops call wg_gw_yield, which every slice_ns lets the rest of the control
 * loop run (handshakes, timers, the worker on a shared lcore) but not the sockets, so no
 * client sees a half-applied request (slice.c, docs/design.md).
 */
#define WG_PACE_RECENT 8
struct wg_pace_job {
	const char *what;              /* "uapi", "json-rpc", "http" */
	uint64_t ns;                   /* from the socket's poll to its end */
	uint64_t slices;               /* yields that ran the control loop */
	uint64_t longest_ns;           /* the longest piece between them */
	uint64_t peers;                /* the largest request's peers applied in it */
};
struct wg_pace {
	uint64_t slice_ns;             /* 0: WG_SLICE_NS */
	uint64_t last_service;         /* when handshakes were last looked at (0: not yet) */
	uint64_t longest_pause_ns;     /* between two such times, since start */
	uint64_t yields, services;     /* wg_gw_yield calls, and those that ran the loop */
	uint64_t jobs;                 /* socket polls that needed slices */
	/* The longest each part of the control loop took in one go (a pause's suspects). */
	uint64_t longest_service_ns, longest_sockets_ns, longest_telemetry_ns,
		 longest_reclaim_ns;
	bool in_service, in_sockets;
	struct wg_pace_job cur;
	uint64_t cur_start;
	struct wg_pace_job recent[WG_PACE_RECENT];
	unsigned n_recent;             /* ever recorded; recent[] holds the last ones */
	/* The `now` a service passes to the polls: NULL: wg_gw_now (lib/sim sets its own). */
	uint64_t (*clock)(void *arg);
	void *clock_arg;
};
#define WG_SLICE_NS 1000000ull
/* Retired objects freed per control loop (a removal of a million peers frees them over a
 * few hundred loops, not in one pause). */
#define WG_RECLAIM_PER_POLL 1024

struct wg_gw {
	struct wg_config cfg;          /* [ctrl] a private copy */
	struct wg_port ports[WG_MAX_PORTS];
	unsigned n_ports;
	_Atomic uint16_t listen_port;  /* [pub] */
	_Atomic(struct wg_obfs *) obfs;   /* [pub] a copy of cfg.obfs, NULL when it is plain
	                                   * WireGuard: what workers recognise (obfs.c) */
	uint16_t mtu;                  /* tunnel MTU */
	int aead_engine;               /* enum wg_aead_engine of every lcore's context */
	struct rte_mempool *pool;

	struct wg_noise_device dev;    /* [ctrl]; dev.cookie.mac1_key read by workers */
	struct wg_index_table index;
	struct wg_allowedips aips;
	struct wg_peer *peers;         /* [max_peers] */
	uint32_t max_peers, n_peers;
	uint32_t n_with_session;       /* [ctrl] peers whose tx_kp is set (wg_peer_set_tx) */
	uint32_t n_resolving;          /* [ctrl] peers whose ep_resolving is set */
	uint32_t aips_max;             /* rules per family in the allowed-IPs tables */
	uint32_t *free_ids;            /* [ctrl] stack of unused peer ids */
	uint32_t n_free_ids;
	uint32_t n_ids_retiring;       /* [ctrl] removed peers' ids waiting for a grace period */

	struct rte_ring *ctrl_ring;    /* workers -> control: mbufs (not handshakes) */
	struct rte_ring *hs_ring;      /* workers -> control: handshake messages */
	struct rte_ring *hs_prio_ring; /* ... those with a mac2 a worker verified */
	_Atomic uint32_t under_load;   /* [pub] */
	_Atomic(struct wg_cookie_pub *) cookie_pub;   /* [pub] */
	struct wg_hs_state hs;         /* [ctrl] */
	/* Handshake lcores (hs_lcore.c): the jobs out at them and back, their copy of the
	 * identity [pub], and the RCU state of their reads of it. */
	unsigned n_hs_lcores;
	struct wg_hs_lcore *hs_lcores;
	struct rte_ring *hs_jobs;      /* control -> handshake lcores (SP/MC) */
	struct rte_ring *hs_done;      /* handshake lcores -> control (MP/SC) */
	struct rte_rcu_qsbr *hs_rcu;
	struct wg_noise_identity hs_identity[2];
	_Atomic unsigned hs_identity_cur;
	uint32_t hs_identity_gen;      /* [ctrl] counts key changes: a job prepared with an
	                                * older key is not answered */
	uint32_t hs_in_flight;         /* [ctrl] jobs out */
	uint64_t hs_offloaded;         /* [ctrl] initiations prepared elsewhere */
	struct rte_ring *event_ring;   /* workers -> control: struct wg_event */
	struct rte_ring *ctrl_tx[WG_MAX_PORTS];   /* control -> worker 0: frames to send */
	struct rte_hash *peer_keys;    /* [ctrl] public key -> peer id */
	bool single_lcore;
	struct rte_rcu_qsbr *rcu;      /* NULL with one lcore */
	struct wg_retire_q *retire;
	/* Tests: called with every retired object just before it is freed. */
	void (*retire_hook)(struct wg_gw *gw, const void *obj);
	void *retire_ctx;

	struct wg_neigh neigh[WG_NEIGH_SIZE];
	struct rte_mbuf *pending[WG_PENDING_MAX];   /* [ctrl] waiting for a next hop */
	unsigned n_pending;

	struct wg_ratelimiter *ratelimiter;
	unsigned n_workers;
	struct wg_worker *workers;     /* [n_workers + 1]: the last is the control lcore's */
	uint32_t timer_cursor;         /* [ctrl] round-robin over peers */
	uint64_t hs_initiations_rx, hs_responses_rx, hs_cookies_rx, hs_sent;
	uint64_t junk_sent;            /* AmneziaWG junk datagrams sent before initiations */
	uint64_t hs_used;              /* handshake messages taken (response made, session
	                                * begun, cookie stored) */
	uint64_t local_used;           /* ARP and neighbour discovery for us, taken */
	struct wg_events *events;      /* [ctrl] peer events (GetEvents) */
	uint64_t started_unix_ns;
	uint64_t hs_completed;         /* [ctrl] handshakes completed, both directions */
	uint32_t n_disabled;           /* [ctrl] disabled peers */
	uint32_t apply_gen;            /* [ctrl] counts wg_gw_apply calls */
	unsigned bulk_depth;           /* [ctrl] inside a change request (events_begin/end) */
	unsigned bulk_logged;          /* lines logged in it; past a few, a summary */
	uint32_t bulk_counts[WG_PEER_EVENT_COUNT];
	uint64_t bulk_first_seq;
	char config_path[WG_CONFIG_FILE_LEN];   /* the file started from (SaveConfig) */
	struct wg_http_server *http;   /* [ctrl] JSON-RPC over HTTP and /metrics */
	struct wg_http_server *metrics_http;   /* [ctrl] /metrics on its own address */
	struct wg_http_handlers *http_handlers;
	struct wg_http_handlers *metrics_handlers;
	uint64_t metrics_pages;        /* [ctrl] /metrics pages served */
	uint64_t metrics_pieces;       /* [ctrl] the pieces they were made in */
	uint64_t metrics_piece_max_ns; /* [ctrl] the longest a piece of one took */
	struct rte_ring *tel_ring;     /* telemetry thread -> control lcore: requests */
	struct wg_ctl_server *uapi;    /* [ctrl] the `wg` socket */
	struct wg_ctl_server *rpc;     /* [ctrl] the JSON-RPC socket */
	struct wg_rpc_backend *rpc_backend;
	bool rpc_cursor_valid;         /* [ctrl] ListPeers paging: where the last peer was */
	uint64_t rpc_cursor_index;
	uint32_t rpc_cursor_id;
	unsigned lcore_of[WG_MAX_WORKERS + 1];   /* lcore of each worker, then the control's */
	uint64_t last_ctl_poll;
	uint64_t last_port_poll;       /* [ctrl] kernel ring drops read then */
	uint32_t n_staging;            /* [ctrl] peers with a struct wg_staged */
	struct wg_pace pace;           /* [ctrl] long requests in slices (slice.c) */
	volatile bool stop;

	/* Masquerade and destination rules (nat.c, dstrules.c, docs/nat.md) */
	_Atomic(struct wg_gw_nat *) nat;          /* [pub] NULL until a port masquerades */
	struct wg_gw_rules *rules;                /* [ctrl] the rule sets */
	_Atomic(struct wg_rules_pub *) rules_pub; /* [pub] their classifiers */
	/* [pub] per peer id: (slot generation << 32) | (rule set + 1), 0: unrestricted;
	 * NULL while no peer is under a set */
	_Atomic(_Atomic uint64_t *) peer_rules;
};

static inline struct wg_worker *wg_ctrl_ctx(struct wg_gw *gw)
{
	return &gw->workers[gw->n_workers];
}

/* A worker's activity stamp on a peer: written once per burst (every packet of a burst
 * has the same `now`), so the peer's line is not dirtied again for each packet. */
static inline void wg_stamp(_Atomic uint64_t *at, uint64_t now)
{
	if (atomic_load_explicit(at, memory_order_relaxed) != now)
		atomic_store_explicit(at, now, memory_order_relaxed);
}

/* The endpoint waits for its next hop's MAC (or no longer): counted, so that a learned
 * neighbour visits only the peers waiting (wg_ctrl_neigh_learned). */
static inline void wg_peer_set_resolving(struct wg_gw *gw, struct wg_peer *peer, bool on)
{
	gw->n_resolving += (uint32_t)on - (uint32_t)peer->ep_resolving;
	peer->ep_resolving = on;
}

static inline void wg_drop(struct wg_worker *w, struct rte_mbuf *m, enum wg_drop why)
{
	w->drops[why]++;
	rte_pktmbuf_free(m);
}


/* state.c */
/* Register the mbuf field of struct wg_meta (once per process). 0, or -1. */
int wg_meta_register(void);
uint64_t wg_unix_ns(void);
bool wg_gw_stopping(const struct wg_gw *gw);

/* port.c */
int wg_gw_ports_init(struct wg_gw *gw, char *err, size_t errlen);
/* Add what the kernel dropped at a net_af_packet port's rings since the last call. */
void wg_port_poll_kernel_drops(struct wg_port *p);
void wg_gw_ports_stop(struct wg_gw *gw);

/* neigh.c */
bool wg_neigh_lookup(const struct wg_gw *gw, const struct wg_ip *ip, uint8_t mac[6]);
struct wg_neigh *wg_neigh_get(struct wg_gw *gw, const struct wg_ip *ip, bool create);
/* Record ip's MAC (a new entry only if create); true if ip just became known, for the
 * control lcore to send what waited for it (wg_ctrl_neigh_learned). */
bool wg_neigh_learn(struct wg_gw *gw, unsigned port, const struct wg_ip *ip,
		    const uint8_t mac[6], bool create);
/* The next hop for a destination leaving by a port: itself if on-link, else the gateway. */
bool wg_route_nexthop(const struct wg_gw *gw, unsigned port, const struct wg_ip *dst,
		      struct wg_ip *nexthop);
/* The port a destination leaves by (role mask), or -1. */
int wg_route_port(const struct wg_gw *gw, unsigned role, const struct wg_ip *dst);
/* Our address on a port of the family (the first), or NULL. */
const struct wg_ip *wg_port_addr(const struct wg_port *p, unsigned family);
bool wg_port_is_ours(const struct wg_port *p, const struct wg_ip *ip);

/* peer.c: the peer table (and state.c: keypairs published to the workers, retired) */
/* Drop what a peer holds for a handshake, counted as `why` (WG_DROP_COUNT: freed, not
 * counted), and free its queue. */
void wg_peer_drop_staged(struct wg_gw *gw, struct wg_peer *peer, enum wg_drop why);
void wg_peer_publish_keypair(struct wg_gw *gw, struct wg_peer *peer);
/* Publish (or, NULL, withdraw) the keypair workers send on; counts peers with one. */
void wg_peer_set_tx(struct wg_gw *gw, struct wg_peer *peer, struct wg_gw_keypair *kp);
void wg_peer_retire_keypairs(struct wg_gw *gw, struct wg_keypair **kps, unsigned n);
struct wg_peer *wg_peer_get(struct wg_gw *gw, uint32_t id, uint32_t gen);
int wg_gw_peer_add(struct wg_gw *gw, const struct wg_config_peer *cp, char *err, size_t errlen);
/* Peers and their allowed IPs; the changing ones run inside an allowed-IPs batch
 * (wg_allowedips_begin ... commit) of the caller's. */
struct wg_peer *wg_gw_peer_create(struct wg_gw *gw, const uint8_t key[WG_KEY_LEN],
				  const uint8_t *psk, char *err, size_t errlen);
struct wg_peer *wg_gw_peer_find(struct wg_gw *gw, const uint8_t key[WG_KEY_LEN]);
void wg_gw_peer_remove(struct wg_gw *gw, struct wg_peer *peer);
int wg_gw_peer_add_aip(struct wg_gw *gw, struct wg_peer *peer, const struct wg_prefix *p);
void wg_gw_peer_del_aip(struct wg_gw *gw, struct wg_peer *peer, const struct wg_prefix *p);
void wg_gw_peer_clear_aips(struct wg_gw *gw, struct wg_peer *peer);
/* End every session of the peer (keys wiped once no worker holds them). */
void wg_peer_zero_keys(struct wg_gw *gw, struct wg_peer *peer);
/* An endpoint's memory, once retired (for wg_gw_retire). */
void wg_peer_free_ep(struct wg_gw *gw, void *obj);
/* Unpublish the peer's endpoint (retired). */
void wg_peer_clear_endpoint(struct wg_gw *gw, struct wg_peer *peer);

/* retire.c: free objects once no worker can hold them */
struct wg_retire_q *wg_retire_create(void);
void wg_retire_destroy(struct wg_retire_q *q);
typedef void (*wg_retire_fn)(struct wg_gw *gw, void *obj);
/* Free obj with free_fn once no worker can hold it (at once with one lcore). Unpublish
 * it first: see retire.c. */
void wg_gw_retire(struct wg_gw *gw, void *obj, wg_retire_fn free_fn);
void wg_retire_reclaim(struct wg_gw *gw, bool all);

#endif
