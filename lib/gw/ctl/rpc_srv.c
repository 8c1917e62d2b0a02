/* SPDX-License-Identifier: MIT */
/*
 * The JSON-RPC control socket (docs/control-api.md), served by the control lcore like the
 * `wg` socket: lib/ctl moves bytes, lib/rpc frames and dispatches, and this file is the
 * backend lib/rpc asks: device and peer views, the applier shared with the `wg` socket,
 * and the counters that `wg` cannot show.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "gw_ctl.h"
#include "gw_nat.h"
#include "wg_crypto.h"
#include "wg_ctl.h"
#include "wg_rpc.h"

#define RPC_REQUESTS_PER_POLL 16

struct rpc_client {
	struct wg_rpc_conn framer;
	struct wg_uapi_buf out;
	bool more, lost;
};

static void be_device(void *ctx, struct wg_rpc_device *d)
{
	struct wg_gw *gw = ctx;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", gw->cfg.name);
	d->has_public_key = gw->dev.has_identity;
	memcpy(d->public_key, gw->dev.static_public, WG_KEY_LEN);
	d->listen_port = atomic_load_explicit(&gw->listen_port, memory_order_relaxed);
	d->fwmark = gw->cfg.fwmark;
	d->n_peers = gw->n_peers;
	d->obfs = gw->cfg.obfs;
}

/* Peers in id order; consecutive indices resume where the last call stopped. */
static int be_peer_at(void *ctx, uint64_t index, struct wg_uapi_peer_info *pi)
{
	struct wg_gw *gw = ctx;
	uint64_t at = 0;
	uint32_t id = 0;

	if (gw->rpc_cursor_valid && index == gw->rpc_cursor_index + 1) {
		at = index;
		id = gw->rpc_cursor_id + 1;
	}
	for (; id < gw->max_peers; id++) {
		if (!atomic_load_explicit(&gw->peers[id].live, memory_order_relaxed))
			continue;
		if (at == index) {
			wg_gw_peer_info(gw, &gw->peers[id], pi);
			gw->rpc_cursor_valid = true;
			gw->rpc_cursor_index = index;
			gw->rpc_cursor_id = id;
			return 0;
		}
		at++;
	}
	return ENOENT;
}

static int be_peer_get(void *ctx, const uint8_t key[WG_KEY_LEN], struct wg_uapi_peer_info *pi)
{
	struct wg_gw *gw = ctx;
	struct wg_peer *peer = wg_gw_peer_find(gw, key);

	if (peer == NULL)
		return ENOENT;
	wg_gw_peer_info(gw, peer, pi);
	return 0;
}

static int be_apply(void *ctx, const struct wg_uapi_set *s, char *why, size_t whylen)
{
	struct wg_gw *gw = ctx;

	return wg_gw_apply(gw, s, why, whylen);
}

static int be_validate(void *ctx, const struct wg_uapi_set *s, char *why, size_t whylen)
{
	return wg_gw_validate(ctx, s, why, whylen);
}

static json_t *worker_json(const struct wg_worker *w, const char *role, unsigned lcore)
{
	json_t *o = json_object(), *drops = json_object();

	json_object_set_new(o, "role", json_string(role));
	json_object_set_new(o, "lcore", json_integer(lcore));
	json_object_set_new(o, "rx_packets", json_integer((json_int_t)w->rx_pkts));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)w->rx_bytes));
	json_object_set_new(o, "tx_packets", json_integer((json_int_t)w->tx_pkts));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)w->tx_bytes));
	json_object_set_new(o, "decrypted", json_integer((json_int_t)w->decrypted));
	json_object_set_new(o, "encrypted", json_integer((json_int_t)w->encrypted));
	json_object_set_new(o, "keepalives_rx", json_integer((json_int_t)w->keepalives_rx));
	json_object_set_new(o, "handed_off", json_integer((json_int_t)w->handed_off));
	json_object_set_new(o, "polls", json_integer((json_int_t)w->polls));
	json_object_set_new(o, "idle_polls", json_integer((json_int_t)w->idle_polls));
	json_object_set_new(o, "full_bursts", json_integer((json_int_t)w->full_bursts));
	json_object_set_new(o, "icmp_errors_suppressed", json_integer((json_int_t)w->icmp_suppressed));
	json_object_set_new(o, "fragments_rx", json_integer((json_int_t)w->frags_rx));
	json_object_set_new(o, "fragments_reassembled",
			    json_integer((json_int_t)w->frags_reassembled));
	for (unsigned d = 0; d < WG_DROP_COUNT; d++)
		json_object_set_new(drops, wg_drop_name(d), json_integer((json_int_t)w->drops[d]));
	json_object_set_new(o, "drops", drops);
	return o;
}

static json_t *int_array(const uint64_t *v, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

/* Every extended statistic the PMD has, by its own name. */
static json_t *xstats_json(uint16_t port)
{
	json_t *o = json_object();
	int n = rte_eth_xstats_get(port, NULL, 0);
	struct rte_eth_xstat *xs;
	struct rte_eth_xstat_name *names;

	if (n <= 0)
		return o;
	xs = calloc((size_t)n, sizeof(*xs));
	names = calloc((size_t)n, sizeof(*names));
	if (xs && names && rte_eth_xstats_get(port, xs, (unsigned)n) == n &&
	    rte_eth_xstats_get_names(port, names, (unsigned)n) == n)
		for (int i = 0; i < n; i++)
			json_object_set_new(o, names[xs[i].id].name,
					    json_integer((json_int_t)xs[i].value));
	free(xs);
	free(names);
	return o;
}

static json_t *port_json(struct wg_port *p, unsigned n_queues)
{
	json_t *o = json_object();
	struct rte_eth_stats es;
	unsigned nq = RTE_MIN(n_queues, (unsigned)RTE_ETHDEV_QUEUE_STAT_CNTRS);

	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "dpdk_port", json_integer(p->dpdk_id));
	json_object_set_new(o, "role", json_string(p->role == WG_ROLE_BOTH ? "both" :
						    p->role == WG_ROLE_WAN ? "wan" : "lan"));
	if (rte_eth_stats_get(p->dpdk_id, &es) == 0) {
		json_object_set_new(o, "ipackets", json_integer((json_int_t)es.ipackets));
		json_object_set_new(o, "opackets", json_integer((json_int_t)es.opackets));
		json_object_set_new(o, "ibytes", json_integer((json_int_t)es.ibytes));
		json_object_set_new(o, "obytes", json_integer((json_int_t)es.obytes));
		json_object_set_new(o, "imissed", json_integer((json_int_t)es.imissed));
		json_object_set_new(o, "ierrors", json_integer((json_int_t)es.ierrors));
		json_object_set_new(o, "oerrors", json_integer((json_int_t)es.oerrors));
		json_object_set_new(o, "rx_nombuf", json_integer((json_int_t)es.rx_nombuf));
		json_object_set_new(o, "q_ipackets", int_array(es.q_ipackets, nq));
		json_object_set_new(o, "q_opackets", int_array(es.q_opackets, nq));
		json_object_set_new(o, "q_errors", int_array(es.q_errors, nq));
	}
	if (p->n_pkt_fds) {
		wg_port_poll_kernel_drops(p);
		json_object_set_new(o, "kernel_ring_drops", json_integer((json_int_t)p->kernel_drops));
	}
	json_object_set_new(o, "xstats", xstats_json(p->dpdk_id));
	return o;
}

static json_t *handshake_json(struct wg_gw *gw)
{
	const struct wg_hs_state *hs = &gw->hs;
	json_t *o = json_object();

	json_object_set_new(o, "under_load", json_boolean(atomic_load(&gw->under_load)));
	json_object_set_new(o, "under_load_entered", json_integer((json_int_t)hs->under_load_entered));
	json_object_set_new(o, "queued", json_integer(rte_ring_count(gw->hs_ring)));
	json_object_set_new(o, "queued_with_cookie", json_integer(rte_ring_count(gw->hs_prio_ring)));
	json_object_set_new(o, "served_with_cookie", json_integer((json_int_t)hs->prio_served));
	json_object_set_new(o, "handshake_ns", json_integer((json_int_t)hs->dh_ns));
	json_object_set_new(o, "cookie_reply_ns", json_integer((json_int_t)hs->cookie_ns));
	json_object_set_new(o, "slices_spent", json_integer((json_int_t)hs->slices_spent));
	json_object_set_new(o, "busy_ns", json_integer((json_int_t)hs->busy_ns));
	if (gw->single_lcore)
		json_object_set_new(o, "slice_ns", json_integer((json_int_t)hs->slice_ns));
	if (gw->n_hs_lcores) {
		json_t *l = json_array();

		json_object_set_new(o, "offloaded", json_integer((json_int_t)gw->hs_offloaded));
		json_object_set_new(o, "in_flight", json_integer(gw->hs_in_flight));
		json_object_set_new(o, "prepare_ns", json_integer((json_int_t)hs->prep_ns));
		json_object_set_new(o, "answer_ns", json_integer((json_int_t)hs->answer_ns));
		for (unsigned i = 0; i < gw->n_hs_lcores; i++) {
			json_t *e = json_object();

			json_object_set_new(e, "lcore", json_integer(gw->hs_lcores[i].lcore));
			json_object_set_new(e, "prepared",
					    json_integer((json_int_t)gw->hs_lcores[i].jobs));
			json_object_set_new(e, "busy_ns",
					    json_integer((json_int_t)gw->hs_lcores[i].busy_ns));
			json_array_append_new(l, e);
		}
		json_object_set_new(o, "lcores", l);
	}
	return o;
}

/* The control loop's pauses: the longest time handshakes waited for it, and the last
 * requests that were long enough to be applied in slices (slice.c). */
static json_t *control_json(struct wg_gw *gw)
{
	const struct wg_pace *p = &gw->pace;
	json_t *o = json_object(), *jobs = json_array();
	unsigned n = p->n_recent < WG_PACE_RECENT ? p->n_recent : WG_PACE_RECENT;

	uint64_t slice = p->slice_ns ? p->slice_ns : WG_SLICE_NS;

	json_object_set_new(o, "longest_pause_us",
			    json_integer((json_int_t)(p->longest_pause_ns / 1000)));
	json_object_set_new(o, "slice_us", json_integer((json_int_t)(slice / 1000)));
	json_object_set_new(o, "longest_us", json_pack("{s:I, s:I, s:I, s:I}",
		"service", (json_int_t)(p->longest_service_ns / 1000),
		"sockets", (json_int_t)(p->longest_sockets_ns / 1000),
		"telemetry", (json_int_t)(p->longest_telemetry_ns / 1000),
		"reclaim", (json_int_t)(p->longest_reclaim_ns / 1000)));
	json_object_set_new(o, "sliced_requests", json_integer((json_int_t)p->jobs));
	json_object_set_new(o, "slices", json_integer((json_int_t)p->services));
	for (unsigned i = 0; i < n; i++) {
		const struct wg_pace_job *j = &p->recent[(p->n_recent - n + i) % WG_PACE_RECENT];

		json_array_append_new(jobs, json_pack("{s:s, s:I, s:I, s:I, s:I}",
			"socket", j->what, "peers", (json_int_t)j->peers,
			"ms", (json_int_t)(j->ns / 1000000), "slices", (json_int_t)j->slices,
			"longest_slice_us", (json_int_t)(j->longest_ns / 1000)));
	}
	json_object_set_new(o, "recent_sliced_requests", jobs);
	return o;
}

/* DPDK's heap, the mbuf pool and the process, for operators watching for growth. */
static json_t *memory_json(struct wg_gw *gw)
{
	json_t *o = json_object();
	struct rte_malloc_socket_stats ms;
	uint64_t heap = 0;
	unsigned long pages_total = 0, pages_rss = 0;
	FILE *f;

	for (unsigned i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &ms) == 0)
			heap += ms.heap_allocsz_bytes;
	json_object_set_new(o, "heap_bytes", json_integer((json_int_t)heap));
	json_object_set_new(o, "mbufs", json_integer(gw->pool->size));
	json_object_set_new(o, "mbufs_in_use", json_integer(rte_mempool_in_use_count(gw->pool)));
	json_object_set_new(o, "malloc_bytes", json_integer((json_int_t)mallinfo2().uordblks));
	f = fopen("/proc/self/statm", "r");
	if (f && fscanf(f, "%lu %lu", &pages_total, &pages_rss) == 2)
		json_object_set_new(o, "rss_bytes",
				    json_integer((json_int_t)pages_rss * (json_int_t)getpagesize()));
	if (f)
		fclose(f);
	return o;
}

static int be_stats(void *ctx, json_t *result, char *why, size_t whylen)
{
	struct wg_gw *gw = ctx;
	struct wg_gw_stats st;
	json_t *workers = json_array(), *ports = json_array(), *drops = json_object();

	(void)why;
	(void)whylen;
	for (unsigned i = 0; i <= gw->n_workers; i++)
		json_array_append_new(workers, worker_json(&gw->workers[i],
			i == gw->n_workers ? "control" : "worker", gw->lcore_of[i]));
	for (unsigned i = 0; i < gw->n_ports; i++)
		json_array_append_new(ports, port_json(&gw->ports[i], gw->n_workers));
	wg_gw_get_stats(gw, &st);
	for (unsigned d = 0; d < WG_DROP_COUNT; d++)
		json_object_set_new(drops, wg_drop_name(d), json_integer((json_int_t)st.drops[d]));
	json_object_set_new(result, "rx_packets", json_integer((json_int_t)st.rx_pkts));
	json_object_set_new(result, "tx_packets", json_integer((json_int_t)st.tx_pkts));
	json_object_set_new(result, "decrypted", json_integer((json_int_t)st.decrypted));
	json_object_set_new(result, "encrypted", json_integer((json_int_t)st.encrypted));
	json_object_set_new(result, "handshake_initiations_rx",
			    json_integer((json_int_t)st.hs_initiations_rx));
	json_object_set_new(result, "handshake_responses_rx",
			    json_integer((json_int_t)st.hs_responses_rx));
	json_object_set_new(result, "cookie_replies_rx", json_integer((json_int_t)st.hs_cookies_rx));
	json_object_set_new(result, "handshake_messages_tx", json_integer((json_int_t)st.hs_sent));
	json_object_set_new(result, "junk_packets_tx", json_integer((json_int_t)st.junk_sent));
	json_object_set_new(result, "peers", json_integer(st.peers));
	json_object_set_new(result, "peers_with_session", json_integer(st.peers_with_session));
	json_object_set_new(result, "peers_disabled", json_integer(gw->n_disabled));
	json_object_set_new(result, "handshakes_completed", json_integer((json_int_t)gw->hs_completed));
	json_object_set_new(result, "metrics", json_pack("{s:I, s:I, s:I}", "pages",
			    (json_int_t)gw->metrics_pages, "pieces",
			    (json_int_t)gw->metrics_pieces, "piece_max_ns",
			    (json_int_t)gw->metrics_piece_max_ns));
	json_object_set_new(result, "events", json_pack("{s:I, s:I}", "next",
			    (json_int_t)wg_events_next_seq(gw->events), "lost",
			    (json_int_t)wg_events_dropped(gw->events)));
	json_object_set_new(result, "drops", drops);
	json_object_set_new(result, "workers", workers);
	json_object_set_new(result, "ports", ports);
	json_object_set_new(result, "handshakes", handshake_json(gw));
	json_object_set_new(result, "aead_engine", json_string(wg_gw_aead(gw)));
	json_object_set_new(result, "memory", memory_json(gw));
	json_object_set_new(result, "nat", wg_gw_nat_stats_json(gw));
	json_object_set_new(result, "control", control_json(gw));
	return 0;
}

static int be_lcores(void *ctx, json_t *result, char *why, size_t whylen)
{
	struct wg_gw *gw = ctx;
	json_t *list = json_array();

	(void)why;
	(void)whylen;
	for (unsigned i = 0; i <= gw->n_workers; i++) {
		json_t *o = json_object();
		bool ctrl = i == gw->n_workers;

		json_object_set_new(o, "lcore", json_integer(gw->lcore_of[i]));
		json_object_set_new(o, "role", json_string(ctrl ? "control" : "worker"));
		if (!ctrl)
			json_object_set_new(o, "queue", json_integer(i));
		json_array_append_new(list, o);
	}
	for (unsigned i = 0; i < gw->n_hs_lcores; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "lcore", json_integer(gw->hs_lcores[i].lcore));
		json_object_set_new(o, "role", json_string("handshake"));
		json_array_append_new(list, o);
	}
	json_object_set_new(result, "single_lcore", json_boolean(gw->single_lcore));
	json_object_set_new(result, "aead_engine", json_string(wg_gw_aead(gw)));
	json_object_set_new(result, "lcores", list);
	return 0;
}

/* Go's RFC 3339 with nanoseconds cut to what is there, as the peers' last_handshake. */
static void format_time(char out[48], uint64_t unix_ns)
{
	time_t t = (time_t)(unix_ns / WG_NSEC_PER_SEC);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(unix_ns % WG_NSEC_PER_SEC));
}

static json_t *event_json(const struct wg_peer_event *ev)
{
	char key[WG_KEY_B64_LEN + 1], ep[WG_ADDR_STRLEN], when[48];
	json_t *o = json_object();

	wg_key_to_base64(key, ev->public_key);
	format_time(when, ev->unix_ns);
	json_object_set_new(o, "seq", json_integer((json_int_t)ev->seq));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "event", json_string(wg_peer_event_word(ev->kind)));
	json_object_set_new(o, "public_key", json_string(key));
	if (ev->endpoint.ip.family) {
		wg_endpoint_format(ep, &ev->endpoint);
		json_object_set_new(o, "endpoint", json_string(ep));
	}
	if (ev->kind == WG_PEER_EVENT_ROAMED && ev->old_endpoint.ip.family) {
		wg_endpoint_format(ep, &ev->old_endpoint);
		json_object_set_new(o, "old_endpoint", json_string(ep));
	}
	if (ev->kind == WG_PEER_EVENT_HANDSHAKE) {
		json_object_set_new(o, "initiator", json_string(ev->initiated_by_us ? "gateway" :
								  "peer"));
		json_object_set_new(o, "first", json_boolean(ev->first));
	}
	return o;
}

static int be_events(void *ctx, uint64_t cursor, uint64_t limit, json_t *result, char *why,
		     size_t whylen)
{
	struct wg_gw *gw = ctx;
	struct wg_peer_event evs[64];
	uint64_t lost = 0, next = cursor, total_lost = 0;
	json_t *list = json_array();
	char when[48];
	bool first = true;

	(void)why;
	(void)whylen;
	/* In chunks of 64 so the stack stays small; `lost` is the first chunk's. */
	while (json_array_size(list) < limit) {
		uint64_t l, want = limit - json_array_size(list);
		size_t n = wg_events_read(gw->events, next, evs, want < 64 ? want : 64, &l, &next);

		if (first)
			total_lost = l;
		first = false;
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, event_json(&evs[i]));
		if (n == 0)
			break;
	}
	lost = total_lost;
	format_time(when, gw->started_unix_ns);
	json_object_set_new(result, "events", list);
	json_object_set_new(result, "next_cursor", json_integer((json_int_t)next));
	json_object_set_new(result, "lost", json_integer((json_int_t)lost));
	json_object_set_new(result, "oldest", json_integer((json_int_t)wg_events_oldest_seq(gw->events)));
	json_object_set_new(result, "started", json_string(when));
	return 0;
}

static int be_set_enabled(void *ctx, const uint8_t key[WG_KEY_LEN], bool enabled, char *why,
			  size_t whylen)
{
	struct wg_gw *gw = ctx;
	struct wg_peer *peer = wg_gw_peer_find(gw, key);

	(void)why;
	(void)whylen;
	if (peer == NULL)
		return ENOENT;
	wg_gw_peer_set_disabled(gw, peer, !enabled);
	return 0;
}

static int be_save_config(void *ctx, json_t *result, char *why, size_t whylen)
{
	struct wg_gw *gw = ctx;
	const char *path = NULL;
	uint32_t peers = 0;

	if (wg_gw_save_config(gw, &path, &peers, why, whylen) != 0)
		return EIO;
	json_object_set_new(result, "path", json_string(path));
	json_object_set_new(result, "peers", json_integer(peers));
	return 0;
}

static void flush(struct wg_ctl_conn *c, struct rpc_client *u)
{
	if (u->out.len == 0)
		return;
	wg_ctl_send(c, u->out.data, u->out.len);
	wg_uapi_buf_consume(&u->out, u->out.len);
}

static void serve(struct wg_gw *gw, struct wg_ctl_conn *c, struct rpc_client *u)
{
	int rc = wg_rpc_serve(gw->rpc_backend, &u->framer, &u->out, RPC_REQUESTS_PER_POLL);

	u->more = rc == EINPROGRESS;
	if (rc != 0 && rc != EINPROGRESS) {
		u->lost = true;
		wg_ctl_close_when_sent(c);
	}
	flush(c, u);
}

static bool on_data(void *ctx, struct wg_ctl_conn *c, const uint8_t *data, size_t len)
{
	struct rpc_client *u = wg_ctl_data(c);

	if (u == NULL) {
		u = calloc(1, sizeof(*u));
		if (u == NULL)
			return false;
		wg_rpc_conn_init(&u->framer, wg_gw_request_limit(ctx, WG_RPC_DEFAULT_LIMIT));
		wg_uapi_buf_init(&u->out);
		wg_ctl_set_data(c, u);
	}
	if (u->lost)
		return true;
	/* A feed error is sticky in the framer; serve() answers it and hangs up. */
	wg_rpc_feed(&u->framer, data, len);
	serve(ctx, c, u);
	return true;
}

static void on_writable(void *ctx, struct wg_ctl_conn *c)
{
	struct rpc_client *u = wg_ctl_data(c);

	if (u && u->more && !u->lost)
		serve(ctx, c, u);
}

static void on_close(void *ctx, struct wg_ctl_conn *c)
{
	struct rpc_client *u = wg_ctl_data(c);

	(void)ctx;
	if (u == NULL)
		return;
	wg_rpc_conn_free(&u->framer);
	wg_uapi_buf_free(&u->out);
	free(u);
}

static const struct wg_ctl_ops rpc_ops = {
	.on_data = on_data,
	.on_writable = on_writable,
	.on_close = on_close,
};

int wg_gw_rpc_backend(struct wg_gw *gw, char *err, size_t errlen)
{
	if (gw->rpc_backend)
		return 0;
	gw->rpc_backend = calloc(1, sizeof(*gw->rpc_backend));
	if (gw->rpc_backend == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*gw->rpc_backend = (struct wg_rpc_backend){
		.ctx = gw, .device = be_device, .peer_at = be_peer_at, .peer_get = be_peer_get,
		.apply = be_apply, .validate = be_validate, .stats = be_stats, .lcores = be_lcores,
		.events = be_events, .set_enabled = be_set_enabled, .save_config = be_save_config,
		.yield = wg_gw_yield,
	};
	wg_gw_nat_rpc_backend(gw->rpc_backend);
	return 0;
}

int wg_gw_rpc_listen(struct wg_gw *gw, char *err, size_t errlen)
{
	if (wg_gw_rpc_backend(gw, err, errlen) != 0)
		return -1;
	gw->rpc = wg_ctl_listen(gw->cfg.jsonrpc_socket, &rpc_ops, gw, NULL, err, errlen);
	return gw->rpc ? 0 : -1;
}
