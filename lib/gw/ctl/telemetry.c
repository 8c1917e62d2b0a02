/* SPDX-License-Identifier: MIT */
/*
 * wgdp's commands for DPDK's telemetry socket (dpdk-telemetry.py, the telemetry
 * exporters): /wgdp/info, /wgdp/stats, /wgdp/drops, /wgdp/lcores, /wgdp/ports,
 * /wgdp/peers[,OFFSET], /wgdp/peer,PUBLIC_KEY, /wgdp/events[,CURSOR].
 *
 * rte_telemetry calls a command's callback on a thread of its own, but the gateway's
 * state is the control lcore's (docs/design.md, "Who writes what"). So the callback only
 * queues the request and waits; the control lcore answers it between its other work
 * (wg_gw_telemetry_poll, a few requests per poll) and fills the reply. A request that the
 * control lcore has not taken within a second is abandoned; the request is shared by the
 * two sides with a count of references, so whichever lets go last frees it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include "gw_ctl.h"
#include "gw_log.h"
#include "wg_crypto.h"

#define TEL_RING_SIZE   64
#define TEL_PER_POLL    4
#define TEL_WAIT_NS     (1000ull * 1000 * 1000)
#define TEL_PEERS_PAGE  32      /* peers per /wgdp/peers answer (the reply is 16 KB) */

enum { TEL_PENDING, TEL_RUNNING, TEL_FINISHED, TEL_ABANDONED };

struct tel_req {
	_Atomic int state;
	_Atomic int refs;
	int rc;
	char cmd[64];
	char params[128];
	struct rte_tel_data *d;
};

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wg_gw *tel_gw;        /* under tel_lock */

static void put(struct tel_req *r)
{
	if (atomic_fetch_sub(&r->refs, 1) == 1)
		free(r);
}

/* ---- answers, on the control lcore ---- */

static void add_str(struct rte_tel_data *d, const char *k, const char *v)
{
	rte_tel_data_add_dict_string(d, k, v);
}

static void info(struct wg_gw *gw, struct rte_tel_data *d)
{
	char key[WG_KEY_B64_LEN + 1] = "";

	rte_tel_data_start_dict(d);
	if (gw->dev.has_identity)
		wg_key_to_base64(key, gw->dev.static_public);
	add_str(d, "interface", gw->cfg.name);
	add_str(d, "public_key", key);
	rte_tel_data_add_dict_u64(d, "listen_port", atomic_load(&gw->listen_port));
	rte_tel_data_add_dict_u64(d, "mtu", gw->mtu);
	add_str(d, "aead_engine", wg_gw_aead(gw));
	rte_tel_data_add_dict_u64(d, "workers", gw->n_workers);
	rte_tel_data_add_dict_u64(d, "single_lcore", gw->single_lcore);
	rte_tel_data_add_dict_u64(d, "peers", gw->n_peers);
	rte_tel_data_add_dict_u64(d, "start_time", gw->started_unix_ns / WG_NSEC_PER_SEC);
}

static void stats(struct wg_gw *gw, struct rte_tel_data *d)
{
	struct wg_gw_stats st;

	wg_gw_get_stats(gw, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "rx_packets", st.rx_pkts);
	rte_tel_data_add_dict_u64(d, "tx_packets", st.tx_pkts);
	rte_tel_data_add_dict_u64(d, "rx_bytes", st.rx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_bytes", st.tx_bytes);
	rte_tel_data_add_dict_u64(d, "decrypted", st.decrypted);
	rte_tel_data_add_dict_u64(d, "encrypted", st.encrypted);
	rte_tel_data_add_dict_u64(d, "keepalives_rx", st.keepalives_rx);
	rte_tel_data_add_dict_u64(d, "handshake_initiations_rx", st.hs_initiations_rx);
	rte_tel_data_add_dict_u64(d, "handshake_responses_rx", st.hs_responses_rx);
	rte_tel_data_add_dict_u64(d, "handshake_messages_tx", st.hs_sent);
	rte_tel_data_add_dict_u64(d, "handshakes_completed", gw->hs_completed);
	rte_tel_data_add_dict_u64(d, "cookie_replies_sent", st.drops[WG_DROP_HS_COOKIE_SENT]);
	rte_tel_data_add_dict_u64(d, "handshakes_rate_limited", st.drops[WG_DROP_HS_RATELIMIT]);
	rte_tel_data_add_dict_u64(d, "under_load", st.under_load);
	rte_tel_data_add_dict_u64(d, "peers", st.peers);
	rte_tel_data_add_dict_u64(d, "peers_with_session", st.peers_with_session);
	rte_tel_data_add_dict_u64(d, "peers_disabled", gw->n_disabled);
	rte_tel_data_add_dict_u64(d, "events", wg_events_next_seq(gw->events) - 1);
	rte_tel_data_add_dict_u64(d, "events_lost", wg_events_dropped(gw->events));
}

static void drops(struct wg_gw *gw, struct rte_tel_data *d)
{
	struct wg_gw_stats st;

	wg_gw_get_stats(gw, &st);
	rte_tel_data_start_dict(d);
	for (unsigned r = 0; r < WG_DROP_COUNT; r++)
		rte_tel_data_add_dict_u64(d, wg_drop_name(r), st.drops[r]);
}

static void lcores(struct wg_gw *gw, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i <= gw->n_workers; i++) {
		struct rte_tel_data *w = rte_tel_data_alloc();
		const struct wg_worker *k = &gw->workers[i];
		char name[32];

		if (w == NULL)
			return;
		rte_tel_data_start_dict(w);
		add_str(w, "role", i == gw->n_workers ? "control" : "worker");
		rte_tel_data_add_dict_u64(w, "lcore", gw->lcore_of[i]);
		rte_tel_data_add_dict_u64(w, "rx_packets", k->rx_pkts);
		rte_tel_data_add_dict_u64(w, "tx_packets", k->tx_pkts);
		rte_tel_data_add_dict_u64(w, "decrypted", k->decrypted);
		rte_tel_data_add_dict_u64(w, "encrypted", k->encrypted);
		rte_tel_data_add_dict_u64(w, "polls", k->polls);
		rte_tel_data_add_dict_u64(w, "idle_polls", k->idle_polls);
		snprintf(name, sizeof(name), i == gw->n_workers ? "control" : "worker%u", i);
		rte_tel_data_add_dict_container(d, name, w, 0);
	}
}

static void ports(struct wg_gw *gw, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	for (unsigned p = 0; p < gw->n_ports; p++) {
		struct rte_tel_data *o = rte_tel_data_alloc();
		struct rte_eth_stats es;

		if (o == NULL)
			return;
		rte_tel_data_start_dict(o);
		rte_tel_data_add_dict_u64(o, "dpdk_port", gw->ports[p].dpdk_id);
		add_str(o, "role", gw->ports[p].role == WG_ROLE_BOTH ? "both" :
			gw->ports[p].role == WG_ROLE_WAN ? "wan" : "lan");
		if (rte_eth_stats_get(gw->ports[p].dpdk_id, &es) == 0) {
			rte_tel_data_add_dict_u64(o, "ipackets", es.ipackets);
			rte_tel_data_add_dict_u64(o, "opackets", es.opackets);
			rte_tel_data_add_dict_u64(o, "imissed", es.imissed);
			rte_tel_data_add_dict_u64(o, "ierrors", es.ierrors);
			rte_tel_data_add_dict_u64(o, "oerrors", es.oerrors);
		}
		rte_tel_data_add_dict_u64(o, "kernel_ring_drops", gw->ports[p].kernel_drops);
		rte_tel_data_add_dict_container(d, gw->ports[p].name, o, 0);
	}
}

static struct rte_tel_data *peer_dict(struct wg_gw *gw, struct wg_peer *peer)
{
	struct rte_tel_data *o = rte_tel_data_alloc();
	struct wg_uapi_peer_info pi;
	char key[WG_KEY_B64_LEN + 1], ep[WG_ADDR_STRLEN] = "";

	if (o == NULL)
		return NULL;
	wg_gw_peer_info(gw, peer, &pi);
	wg_key_to_base64(key, pi.public_key);
	if (pi.has_endpoint)
		wg_endpoint_format(ep, &pi.endpoint);
	rte_tel_data_start_dict(o);
	add_str(o, "public_key", key);
	add_str(o, "endpoint", ep);
	rte_tel_data_add_dict_u64(o, "rx_bytes", pi.rx_bytes);
	rte_tel_data_add_dict_u64(o, "tx_bytes", pi.tx_bytes);
	rte_tel_data_add_dict_u64(o, "latest_handshake", pi.last_handshake_sec);
	rte_tel_data_add_dict_u64(o, "allowed_ips", pi.n_allowed_ips);
	rte_tel_data_add_dict_u64(o, "session",
				  atomic_load_explicit(&peer->tx_kp, memory_order_relaxed) != NULL);
	rte_tel_data_add_dict_u64(o, "enabled", !peer->disabled);
	wg_wipe(&pi, sizeof(pi));
	return o;
}

static void peers(struct wg_gw *gw, const char *params, struct rte_tel_data *d)
{
	unsigned long offset = params[0] ? strtoul(params, NULL, 10) : 0, at = 0, n = 0;
	uint32_t id;

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "total", gw->n_peers);
	rte_tel_data_add_dict_u64(d, "offset", offset);
	for (id = 0; id < gw->max_peers && n < TEL_PEERS_PAGE; id++) {
		struct rte_tel_data *o;
		char name[16];

		if (!atomic_load_explicit(&gw->peers[id].live, memory_order_relaxed) ||
		    at++ < offset)
			continue;
		o = peer_dict(gw, &gw->peers[id]);
		snprintf(name, sizeof(name), "%lu", offset + n++);
		if (o)
			rte_tel_data_add_dict_container(d, name, o, 0);
	}
	if (offset + n < gw->n_peers)
		rte_tel_data_add_dict_u64(d, "next_offset", offset + n);
}

static int peer(struct wg_gw *gw, const char *params, struct rte_tel_data *d)
{
	uint8_t key[WG_KEY_LEN];
	struct wg_peer *p;
	struct rte_tel_data *o;

	if (wg_key_from_base64(key, params, strlen(params)) != 0)
		return -EINVAL;
	p = wg_gw_peer_find(gw, key);
	rte_tel_data_start_dict(d);
	if (p == NULL)
		return 0;
	o = peer_dict(gw, p);
	if (o)
		rte_tel_data_add_dict_container(d, "peer", o, 0);
	return 0;
}

static void events(struct wg_gw *gw, const char *params, struct rte_tel_data *d)
{
	uint64_t cursor = params[0] ? strtoull(params, NULL, 10) : 0, lost, next;
	struct wg_peer_event ev[16];
	size_t n = wg_events_read(gw->events, cursor, ev, 16, &lost, &next);

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "next_cursor", next);
	rte_tel_data_add_dict_u64(d, "lost", lost);
	for (size_t i = 0; i < n; i++) {
		struct rte_tel_data *o = rte_tel_data_alloc();
		char key[WG_KEY_B64_LEN + 1], name[24];

		if (o == NULL)
			return;
		wg_key_to_base64(key, ev[i].public_key);
		rte_tel_data_start_dict(o);
		add_str(o, "event", wg_peer_event_word(ev[i].kind));
		add_str(o, "public_key", key);
		rte_tel_data_add_dict_u64(o, "time", ev[i].unix_ns / WG_NSEC_PER_SEC);
		snprintf(name, sizeof(name), "%llu", (unsigned long long)ev[i].seq);
		rte_tel_data_add_dict_container(d, name, o, 0);
	}
}

static int answer(struct wg_gw *gw, const char *cmd, const char *params, struct rte_tel_data *d)
{
	if (strcmp(cmd, "/wgdp/info") == 0)
		info(gw, d);
	else if (strcmp(cmd, "/wgdp/stats") == 0)
		stats(gw, d);
	else if (strcmp(cmd, "/wgdp/drops") == 0)
		drops(gw, d);
	else if (strcmp(cmd, "/wgdp/lcores") == 0)
		lcores(gw, d);
	else if (strcmp(cmd, "/wgdp/ports") == 0)
		ports(gw, d);
	else if (strcmp(cmd, "/wgdp/peers") == 0)
		peers(gw, params, d);
	else if (strcmp(cmd, "/wgdp/peer") == 0)
		return peer(gw, params, d);
	else if (strcmp(cmd, "/wgdp/events") == 0)
		events(gw, params, d);
	else
		return -EINVAL;
	return 0;
}

void wg_gw_telemetry_poll(struct wg_gw *gw)
{
	struct tel_req *r;

	for (unsigned i = 0; i < TEL_PER_POLL && gw->tel_ring &&
	     rte_ring_sc_dequeue(gw->tel_ring, (void **)&r) == 0; i++) {
		int want = TEL_PENDING;

		if (atomic_compare_exchange_strong(&r->state, &want, TEL_RUNNING)) {
			r->rc = answer(gw, r->cmd, r->params, r->d);
			atomic_store(&r->state, TEL_FINISHED);
		}
		put(r);
	}
}

/* ---- the telemetry thread ---- */

static int wait_for(struct tel_req *r)
{
	struct timespec ms = { 0, 1000000 };
	int want = TEL_PENDING;

	for (uint64_t waited = 0; waited < TEL_WAIT_NS; waited += 1000000) {
		if (atomic_load(&r->state) == TEL_FINISHED)
			return r->rc;
		nanosleep(&ms, NULL);
	}
	/* Not taken in time: let go, unless the control lcore is answering right now. */
	if (atomic_compare_exchange_strong(&r->state, &want, TEL_ABANDONED))
		return -EBUSY;
	while (atomic_load(&r->state) != TEL_FINISHED)
		nanosleep(&ms, NULL);
	return r->rc;
}

static int on_command(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct tel_req *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL)
		return -ENOMEM;
	atomic_init(&r->state, TEL_PENDING);
	atomic_init(&r->refs, 2);
	snprintf(r->cmd, sizeof(r->cmd), "%s", cmd);
	snprintf(r->params, sizeof(r->params), "%s", params ? params : "");
	r->d = d;
	pthread_mutex_lock(&tel_lock);
	rc = tel_gw && rte_ring_mp_enqueue(tel_gw->tel_ring, r) == 0 ? 0 : -EAGAIN;
	pthread_mutex_unlock(&tel_lock);
	if (rc != 0) {
		free(r);
		return rc;
	}
	rc = wait_for(r);
	put(r);
	return rc;
}

static const struct {
	const char *cmd, *help;
} COMMANDS[] = {
	{ "/wgdp/info", "The gateway: interface, public key, listen port, AEAD engine. No parameters." },
	{ "/wgdp/stats", "Totals: packets, bytes, handshakes, peers, events. No parameters." },
	{ "/wgdp/drops", "Dropped packets by reason, all lcores. No parameters." },
	{ "/wgdp/lcores", "Each lcore's role and counters. No parameters." },
	{ "/wgdp/ports", "Each port's role and DPDK counters. No parameters." },
	{ "/wgdp/peers", "Peers, 32 at a time. Parameter: the offset to start at." },
	{ "/wgdp/peer", "One peer. Parameter: its public key in base64." },
	{ "/wgdp/events", "Peer events, 16 at a time. Parameter: the cursor (GetEvents)." },
};

int wg_gw_telemetry_register(struct wg_gw *gw, char *err, size_t errlen)
{
	static bool registered;
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "wgtel%p", (void *)gw);
	gw->tel_ring = rte_ring_create(name, TEL_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (gw->tel_ring == NULL) {
		snprintf(err, errlen, "cannot create the telemetry ring: %s", rte_strerror(rte_errno));
		return -1;
	}
	pthread_mutex_lock(&tel_lock);
	tel_gw = gw;
	pthread_mutex_unlock(&tel_lock);
	/* rte_telemetry has no way to unregister: the commands stay and answer -EAGAIN
	 * while no gateway is registered. */
	for (size_t i = 0; !registered && i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
		if (rte_telemetry_register_cmd(COMMANDS[i].cmd, on_command, COMMANDS[i].help)) {
			snprintf(err, errlen, "cannot register %s with rte_telemetry", COMMANDS[i].cmd);
			return -1;
		}
	registered = true;
	return 0;
}

void wg_gw_telemetry_unregister(struct wg_gw *gw)
{
	struct tel_req *r;

	if (gw->tel_ring == NULL)
		return;
	pthread_mutex_lock(&tel_lock);
	if (tel_gw == gw)
		tel_gw = NULL;
	pthread_mutex_unlock(&tel_lock);
	/* Whoever still waits gets an error now, not a reply from a gateway being freed. */
	while (rte_ring_sc_dequeue(gw->tel_ring, (void **)&r) == 0) {
		int want = TEL_PENDING;

		if (atomic_compare_exchange_strong(&r->state, &want, TEL_RUNNING)) {
			r->rc = -EAGAIN;
			atomic_store(&r->state, TEL_FINISHED);
		}
		put(r);
	}
	rte_ring_free(gw->tel_ring);
	gw->tel_ring = NULL;
}
