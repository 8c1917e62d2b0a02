/* SPDX-License-Identifier: MIT */
/*
 * GET /metrics in Prometheus' text format (docs/operations.md), streamed: the aggregate
 * series first, then each per-peer family over the peer table a slice at a time, as the
 * client takes the page, so 100,000 peers never hold the control lcore up for long. The
 * per-peer families carry prometheus_wireguard_exporter's names and labels (interface,
 * public_key, allowed_ips), so a dashboard made for it works unchanged; metrics.per_peer
 * = false leaves them out (a million peers are three million series). Counters are read
 * from the workers as snapshots, as GetStats reads them.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "gw_ctl.h"
#include "wg_crypto.h"
#include "wg_http.h"

#define PEERS_PER_PIECE 256      /* at most this many peers per call, whatever the room */

enum phase { AGGREGATE, SENT, RECEIVED, HANDSHAKE, DONE };

struct page {
	struct wg_gw *gw;
	enum phase phase;
	uint32_t cursor;             /* next peer id of a per-peer family */
	bool header_done;
};

#define P(...) wg_uapi_buf_printf(out, __VA_ARGS__)

static void family(struct wg_uapi_buf *out, const char *name, const char *type,
		   const char *help)
{
	P("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *role_name(unsigned role)
{
	return role == WG_ROLE_BOTH ? "both" : role == WG_ROLE_WAN ? "wan" : "lan";
}

static void info(struct wg_gw *gw, struct wg_uapi_buf *out, const struct wg_gw_stats *st)
{
	char key[WG_KEY_B64_LEN + 1] = "";

	if (gw->dev.has_identity)
		wg_key_to_base64(key, gw->dev.static_public);
	family(out, "wgdp_info", "gauge", "The gateway: interface, public key, listen port, "
	       "ChaCha20-Poly1305 engine, lcores.");
	P("wgdp_info{interface=\"%s\",public_key=\"%s\",listen_port=\"%u\",aead_engine=\"%s\","
	  "workers=\"%u\",single_lcore=\"%s\"} 1\n", gw->cfg.name, key,
	  (unsigned)atomic_load(&gw->listen_port), wg_gw_aead(gw), gw->n_workers,
	  gw->single_lcore ? "true" : "false");
	family(out, "wgdp_start_time_seconds", "gauge", "When the gateway started (Unix time).");
	P("wgdp_start_time_seconds %" PRIu64 "\n", (uint64_t)(gw->started_unix_ns / WG_NSEC_PER_SEC));
	family(out, "wgdp_peers", "gauge", "Peers configured.");
	P("wgdp_peers{interface=\"%s\"} %u\n", gw->cfg.name, st->peers);
	family(out, "wgdp_peers_with_session", "gauge", "Peers with a live session (a keypair "
	       "to send on).");
	P("wgdp_peers_with_session{interface=\"%s\"} %u\n", gw->cfg.name, st->peers_with_session);
	family(out, "wgdp_peers_disabled", "gauge", "Peers disabled (SetPeerEnabled).");
	P("wgdp_peers_disabled{interface=\"%s\"} %u\n", gw->cfg.name, gw->n_disabled);
}

static void handshakes(struct wg_gw *gw, struct wg_uapi_buf *out, const struct wg_gw_stats *st)
{
	family(out, "wgdp_handshakes_total", "counter", "Handshakes completed (either side "
	       "initiating).");
	P("wgdp_handshakes_total %" PRIu64 "\n", gw->hs_completed);
	family(out, "wgdp_handshake_initiations_received_total", "counter",
	       "Handshake initiations that reached the control lcore.");
	P("wgdp_handshake_initiations_received_total %" PRIu64 "\n", st->hs_initiations_rx);
	family(out, "wgdp_handshake_responses_received_total", "counter",
	       "Handshake responses that reached the control lcore.");
	P("wgdp_handshake_responses_received_total %" PRIu64 "\n", st->hs_responses_rx);
	family(out, "wgdp_handshake_messages_sent_total", "counter",
	       "Handshake messages sent (initiations, responses, cookie replies).");
	P("wgdp_handshake_messages_sent_total %" PRIu64 "\n", st->hs_sent);
	family(out, "wgdp_cookie_replies_sent_total", "counter",
	       "Initiations answered with a cookie reply under load.");
	P("wgdp_cookie_replies_sent_total %" PRIu64 "\n", st->drops[WG_DROP_HS_COOKIE_SENT]);
	family(out, "wgdp_handshakes_rate_limited_total", "counter",
	       "Initiations refused by the per-source rate limit.");
	P("wgdp_handshakes_rate_limited_total %" PRIu64 "\n", st->drops[WG_DROP_HS_RATELIMIT]);
	family(out, "wgdp_under_load", "gauge", "1 while handshakes are answered with cookies.");
	P("wgdp_under_load %d\n", st->under_load ? 1 : 0);
	family(out, "wgdp_events_total", "counter", "Peer events recorded (GetEvents).");
	P("wgdp_events_total %" PRIu64 "\n", wg_events_next_seq(gw->events) - 1);
	family(out, "wgdp_events_lost_total", "counter",
	       "Peer events the bounded ring dropped, oldest first.");
	P("wgdp_events_lost_total %" PRIu64 "\n", wg_events_dropped(gw->events));
	family(out, "wgdp_control_longest_pause_seconds", "gauge",
	       "The longest the control loop left handshakes waiting, since start.");
	P("wgdp_control_longest_pause_seconds %.6f\n", (double)gw->pace.longest_pause_ns / 1e9);
	family(out, "wgdp_control_sliced_requests_total", "counter",
	       "Requests long enough to be applied in slices.");
	P("wgdp_control_sliced_requests_total %" PRIu64 "\n", gw->pace.jobs);
}

static void drops(struct wg_gw *gw, struct wg_uapi_buf *out, const struct wg_gw_stats *st)
{
	family(out, "wgdp_drops_total", "counter", "Packets dropped, by reason (lib/gw/wg_drops.h).");
	for (unsigned d = 0; d < WG_DROP_COUNT; d++)
		P("wgdp_drops_total{reason=\"%s\"} %" PRIu64 "\n", wg_drop_name(d), st->drops[d]);
	family(out, "wgdp_worker_drops_total", "counter", "Packets dropped, by lcore and reason.");
	for (unsigned i = 0; i <= gw->n_workers; i++)
		for (unsigned d = 0; d < WG_DROP_COUNT; d++)
			P("wgdp_worker_drops_total{lcore=\"%u\",role=\"%s\",reason=\"%s\"} %" PRIu64
			  "\n", gw->lcore_of[i], i == gw->n_workers ? "control" : "worker",
			  wg_drop_name(d), gw->workers[i].drops[d]);
}

struct worker_counter {
	const char *name, *help;
	size_t off;
};

static const struct worker_counter WORKER_COUNTERS[] = {
	{ "wgdp_worker_rx_packets_total", "Packets received by the lcore.",
	  offsetof(struct wg_worker, rx_pkts) },
	{ "wgdp_worker_rx_bytes_total", "Bytes received by the lcore.",
	  offsetof(struct wg_worker, rx_bytes) },
	{ "wgdp_worker_tx_packets_total", "Packets sent by the lcore.",
	  offsetof(struct wg_worker, tx_pkts) },
	{ "wgdp_worker_tx_bytes_total", "Bytes sent by the lcore.",
	  offsetof(struct wg_worker, tx_bytes) },
	{ "wgdp_worker_decrypted_total", "Data messages decrypted and passed on.",
	  offsetof(struct wg_worker, decrypted) },
	{ "wgdp_worker_encrypted_total", "Data messages encrypted.",
	  offsetof(struct wg_worker, encrypted) },
	{ "wgdp_worker_keepalives_received_total", "Keepalives received.",
	  offsetof(struct wg_worker, keepalives_rx) },
	{ "wgdp_worker_polls_total", "Poll iterations.", offsetof(struct wg_worker, polls) },
	{ "wgdp_worker_idle_polls_total", "Polls that received nothing.",
	  offsetof(struct wg_worker, idle_polls) },
};

static void workers(struct wg_gw *gw, struct wg_uapi_buf *out)
{
	for (size_t c = 0; c < sizeof(WORKER_COUNTERS) / sizeof(WORKER_COUNTERS[0]); c++) {
		family(out, WORKER_COUNTERS[c].name, "counter", WORKER_COUNTERS[c].help);
		for (unsigned i = 0; i <= gw->n_workers; i++) {
			const uint64_t *v = (const uint64_t *)((const char *)&gw->workers[i] +
							       WORKER_COUNTERS[c].off);

			P("%s{lcore=\"%u\",role=\"%s\"} %" PRIu64 "\n", WORKER_COUNTERS[c].name,
			  gw->lcore_of[i], i == gw->n_workers ? "control" : "worker", *v);
		}
	}
}

static void ports(struct wg_gw *gw, struct wg_uapi_buf *out)
{
	static const struct { const char *name, *help; size_t off; } C[] = {
		{ "wgdp_port_rx_packets_total", "Packets the port received (DPDK ipackets).",
		  offsetof(struct rte_eth_stats, ipackets) },
		{ "wgdp_port_tx_packets_total", "Packets the port sent (opackets).",
		  offsetof(struct rte_eth_stats, opackets) },
		{ "wgdp_port_rx_bytes_total", "Bytes received (ibytes).",
		  offsetof(struct rte_eth_stats, ibytes) },
		{ "wgdp_port_tx_bytes_total", "Bytes sent (obytes).",
		  offsetof(struct rte_eth_stats, obytes) },
		{ "wgdp_port_rx_missed_total", "Packets the NIC dropped (imissed).",
		  offsetof(struct rte_eth_stats, imissed) },
		{ "wgdp_port_rx_errors_total", "Receive errors (ierrors).",
		  offsetof(struct rte_eth_stats, ierrors) },
		{ "wgdp_port_tx_errors_total", "Transmit errors (oerrors).",
		  offsetof(struct rte_eth_stats, oerrors) },
		{ "wgdp_port_rx_nombuf_total", "Receive buffer allocation failures.",
		  offsetof(struct rte_eth_stats, rx_nombuf) },
	};
	struct rte_eth_stats es[WG_MAX_PORTS];
	bool ok[WG_MAX_PORTS];

	for (unsigned p = 0; p < gw->n_ports; p++)
		ok[p] = rte_eth_stats_get(gw->ports[p].dpdk_id, &es[p]) == 0;
	for (size_t c = 0; c < sizeof(C) / sizeof(C[0]); c++) {
		family(out, C[c].name, "counter", C[c].help);
		for (unsigned p = 0; p < gw->n_ports; p++)
			if (ok[p])
				P("%s{port=\"%s\",role=\"%s\"} %" PRIu64 "\n", C[c].name,
				  gw->ports[p].name, role_name(gw->ports[p].role),
				  *(const uint64_t *)((const char *)&es[p] + C[c].off));
	}
	family(out, "wgdp_port_kernel_ring_drops_total", "counter",
	       "net_af_packet: frames the kernel dropped at the PMD's rings.");
	for (unsigned p = 0; p < gw->n_ports; p++)
		if (gw->ports[p].n_pkt_fds)
			P("wgdp_port_kernel_ring_drops_total{port=\"%s\",role=\"%s\"} %" PRIu64 "\n",
			  gw->ports[p].name, role_name(gw->ports[p].role), gw->ports[p].kernel_drops);
}

/* Masquerade (docs/nat.md): the flow table and what it did. */
static void nat(struct wg_uapi_buf *out, const struct wg_gw_stats *st)
{
	static const struct { const char *name, *help; size_t off; } c[] = {
		{ "created", "Flows created.", offsetof(struct wg_gw_stats, nat.created) },
		{ "expired", "Flows freed by their timeout.", offsetof(struct wg_gw_stats, nat.expired) },
		{ "flushed", "Flows freed by a change of pool or port range.",
		  offsetof(struct wg_gw_stats, nat.flushed) },
		{ "translated_out", "Packets translated on their way out.",
		  offsetof(struct wg_gw_stats, nat.translated_out) },
		{ "translated_in", "Packets translated back.", offsetof(struct wg_gw_stats, nat.translated_in) },
		{ "misses", "Packets to a masquerade address, or ICMP errors, of no flow.",
		  offsetof(struct wg_gw_stats, nat.misses) },
		{ "ports_exhausted", "New flows refused: no outside port free.",
		  offsetof(struct wg_gw_stats, nat.ports_exhausted) },
		{ "table_full", "New flows refused: the table full.",
		  offsetof(struct wg_gw_stats, nat.table_full) },
		{ "source_limit", "New flows refused: the inside address at its bound.",
		  offsetof(struct wg_gw_stats, nat.source_limit) },
		{ "handed_off", "Packets handed to their flow's worker.",
		  offsetof(struct wg_gw_stats, nat.handed_off) },
	};
	uint64_t v;

	family(out, "wgdp_nat_flows", "gauge", "Masquerade flows held now.");
	P("wgdp_nat_flows %" PRIu64 "\n", st->nat.flows);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memcpy(&v, (const char *)st + c[i].off, sizeof(v));
		P("# HELP wgdp_nat_%s_total %s\n# TYPE wgdp_nat_%s_total counter\n"
		  "wgdp_nat_%s_total %" PRIu64 "\n", c[i].name, c[i].help, c[i].name, c[i].name, v);
	}
}

static void memory(struct wg_gw *gw, struct wg_uapi_buf *out)
{
	struct rte_malloc_socket_stats ms;
	uint64_t heap = 0;

	for (unsigned i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &ms) == 0)
			heap += ms.heap_allocsz_bytes;
	family(out, "wgdp_heap_bytes", "gauge", "DPDK heap in use.");
	P("wgdp_heap_bytes %" PRIu64 "\n", heap);
	family(out, "wgdp_mbufs_in_use", "gauge", "Packet buffers in use, of wgdp_mbufs.");
	P("wgdp_mbufs_in_use %u\n", rte_mempool_in_use_count(gw->pool));
	family(out, "wgdp_mbufs", "gauge", "Packet buffers in the pool.");
	P("wgdp_mbufs %u\n", gw->pool->size);
}

static void aggregate(struct wg_gw *gw, struct wg_uapi_buf *out)
{
	struct wg_gw_stats st;

	wg_gw_get_stats(gw, &st);
	info(gw, out, &st);
	handshakes(gw, out, &st);
	drops(gw, out, &st);
	workers(gw, out);
	ports(gw, out);
	nat(out, &st);
	memory(gw, out);
}

static void peer_labels(struct wg_gw *gw, const struct wg_peer *peer, struct wg_uapi_buf *out)
{
	char key[WG_KEY_B64_LEN + 1], pfx[WG_ADDR_STRLEN];

	wg_key_to_base64(key, peer->noise.remote_static);
	P("{interface=\"%s\",public_key=\"%s\",allowed_ips=\"", gw->cfg.name, key);
	for (unsigned i = 0; i < peer->n_aips; i++) {
		wg_prefix_format(pfx, &peer->aips[i]);
		P("%s%s", i ? "," : "", pfx);
	}
	P("\"}");
}

static uint64_t peer_bytes(struct wg_gw *gw, const struct wg_peer *peer, bool rx)
{
	uint64_t v = 0;

	for (unsigned i = 0; i <= gw->n_workers; i++)
		v += rx ? gw->workers[i].peer_stats[peer->id].rx_bytes :
			  gw->workers[i].peer_stats[peer->id].tx_bytes;
	return v - (rx ? peer->rx_bytes_base : peer->tx_bytes_base);
}

static const struct {
	const char *name, *type, *help;
} PEER_FAMILIES[] = {
	[SENT] = { "wireguard_sent_bytes_total", "counter", "Bytes sent to the peer" },
	[RECEIVED] = { "wireguard_received_bytes_total", "counter",
		       "Bytes received from the peer" },
	[HANDSHAKE] = { "wireguard_latest_handshake_seconds", "gauge",
			"Seconds from the last handshake" },
};

/* One slice of a per-peer family: true when the family is done. */
static bool peer_slice(struct page *pg, struct wg_uapi_buf *out, size_t room)
{
	struct wg_gw *gw = pg->gw;
	size_t start = out->len;
	unsigned n = 0;

	if (!pg->header_done) {
		family(out, PEER_FAMILIES[pg->phase].name, PEER_FAMILIES[pg->phase].type,
		       PEER_FAMILIES[pg->phase].help);
		pg->header_done = true;
	}
	for (; pg->cursor < gw->max_peers; pg->cursor++) {
		const struct wg_peer *peer = &gw->peers[pg->cursor];
		uint64_t v;

		if (out->len - start >= room || n == PEERS_PER_PIECE)
			return false;
		if (!atomic_load_explicit(&peer->live, memory_order_relaxed))
			continue;
		n++;
		v = pg->phase == HANDSHAKE ? peer->last_handshake_unix_ns / WG_NSEC_PER_SEC :
			peer_bytes(gw, peer, pg->phase == RECEIVED);
		P("%s", PEER_FAMILIES[pg->phase].name);
		peer_labels(gw, peer, out);
		P(" %" PRIu64 "\n", v);
	}
	return true;
}

/* The control lcore's own time (CPU time of its thread): what a piece costs, without the
 * time the OS gave another process meanwhile on a shared machine. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int more(void *state, struct wg_uapi_buf *out, size_t room)
{
	struct page *pg = state;
	uint64_t t0 = cpu_ns(), took;

	pg->gw->metrics_pieces++;
	if (pg->phase == AGGREGATE) {
		pg->gw->metrics_pages++;
		aggregate(pg->gw, out);
		pg->phase = pg->gw->cfg.metrics.per_peer ? SENT : DONE;
	} else if (pg->phase != DONE && peer_slice(pg, out, room)) {
		pg->phase++;
		pg->cursor = 0;
		pg->header_done = false;
	}
	/* How long the control lcore spent on one piece, for GetStats (docs/operations.md). */
	took = cpu_ns() - t0;
	if (took > pg->gw->metrics_piece_max_ns)
		pg->gw->metrics_piece_max_ns = took;
	return pg->phase != DONE;
}

static void done(void *state)
{
	free(state);
}

int wg_gw_metrics_start(void *ctx, struct wg_http_stream *s)
{
	struct page *pg = calloc(1, sizeof(*pg));

	if (pg == NULL)
		return ENOMEM;
	pg->gw = ctx;
	*s = (struct wg_http_stream){ .more = more, .done = done, .state = pg };
	return 0;
}
