/* SPDX-License-Identifier: MIT */
/* Human-readable statistics: totals, per lcore, every non-zero drop reason, per peer. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "gw_ctl.h"
#include "gw_nat.h"
#include "wg_crypto.h"

#define DUMP_PEERS_MAX 32u

void wg_gw_describe(struct wg_gw *gw, FILE *out)
{
	char addr[WG_ADDR_STRLEN], key[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(key, gw->dev.static_public);
	fprintf(out, "wgdp: interface %s, public key %s, listening on UDP port %u, tunnel MTU %u\n",
		gw->cfg.name, gw->dev.has_identity ? key : "(none)",
		(unsigned)atomic_load(&gw->listen_port), gw->mtu);
	for (unsigned i = 0; i < gw->n_ports; i++) {
		const struct wg_port *p = &gw->ports[i];

		fprintf(out, "wgdp: port %s (dpdk port %u, %02x:%02x:%02x:%02x:%02x:%02x) role %s%s%s:",
			p->name, p->dpdk_id, p->mac[0], p->mac[1], p->mac[2], p->mac[3], p->mac[4],
			p->mac[5], p->role & WG_ROLE_WAN ? "wan" : "",
			p->role == WG_ROLE_BOTH ? "+" : "", p->role & WG_ROLE_LAN ? "lan" : "");
		for (unsigned j = 0; j < p->n_addrs; j++) {
			wg_prefix_format(addr, &p->addrs[j]);
			fprintf(out, " %s", addr);
		}
		fprintf(out, "\n");
	}
	fprintf(out, "wgdp: ChaCha20-Poly1305: %s\n", wg_gw_aead(gw));
	fprintf(out, "wgdp: lcore %u: control%s; %u worker%s; %u handshake lcore%s; %u peers\n",
		rte_get_main_lcore(), gw->single_lcore ? " and worker 0 in turn" : "",
		gw->n_workers, gw->n_workers == 1 ? "" : "s", gw->n_hs_lcores,
		gw->n_hs_lcores == 1 ? "" : "s", gw->n_peers);
}

static void dump_worker(const struct wg_worker *w, const char *name, FILE *out)
{
	fprintf(out, "  %s: rx %" PRIu64 " pkts %" PRIu64 " bytes, tx %" PRIu64 " pkts %" PRIu64
		" bytes, decrypted %" PRIu64 ", encrypted %" PRIu64 ", keepalives in %" PRIu64
		", handed to their keypair's worker %" PRIu64 "\n",
		name, w->rx_pkts, w->rx_bytes, w->tx_pkts, w->tx_bytes, w->decrypted, w->encrypted,
		w->keepalives_rx, w->handed_off);
	for (unsigned d = 0; d < WG_DROP_COUNT; d++)
		if (w->drops[d])
			fprintf(out, "    drop %-16s %10" PRIu64 "  (%s)\n", wg_drop_name(d),
				w->drops[d], wg_drop_text(d));
}

static void dump_peers(struct wg_gw *gw, FILE *out)
{
	char key[WG_KEY_B64_LEN + 1], ep[WG_ADDR_STRLEN];

	unsigned shown = 0;

	for (uint32_t id = 0; id < gw->max_peers; id++) {
		struct wg_peer *peer = &gw->peers[id];
		struct wg_peer_ep *e = atomic_load(&peer->ep);
		uint64_t rx = 0, tx = 0;

		if (!atomic_load(&peer->live))
			continue;
		/* A log is no place for a hundred thousand lines: `wg show` lists them all. */
		if (shown++ == DUMP_PEERS_MAX) {
			fprintf(out, "  ... and %u more peers (wg show lists them all)\n",
				gw->n_peers - DUMP_PEERS_MAX);
			break;
		}
		for (unsigned i = 0; i <= gw->n_workers; i++) {
			rx += gw->workers[i].peer_stats[id].rx_bytes;
			tx += gw->workers[i].peer_stats[id].tx_bytes;
		}
		rx -= peer->rx_bytes_base;
		tx -= peer->tx_bytes_base;
		wg_key_to_base64(key, peer->noise.remote_static);
		if (e)
			wg_endpoint_format(ep, &e->ep);
		fprintf(out, "  peer %s endpoint %s rx %" PRIu64 " B tx %" PRIu64 " B%s\n", key,
			e ? ep : "(none)", rx, tx,
			atomic_load(&peer->tx_kp) ? " session up" : "");
	}
}

void wg_gw_dump_stats(struct wg_gw *gw, FILE *out)
{
	char name[32];

	fprintf(out, "wgdp: statistics\n");
	fprintf(out, "  handshakes: %" PRIu64 " initiations in, %" PRIu64 " responses in, %" PRIu64
		" cookie replies in, %" PRIu64 " messages sent, %" PRIu64 " junk packets sent\n",
		gw->hs_initiations_rx, gw->hs_responses_rx, gw->hs_cookies_rx, gw->hs_sent,
		gw->junk_sent);
	for (unsigned i = 0; i < gw->n_hs_lcores; i++)
		fprintf(out, "  handshake lcore %u: %" PRIu64 " initiations prepared in %.1f ms\n",
			gw->hs_lcores[i].lcore, gw->hs_lcores[i].jobs,
			(double)gw->hs_lcores[i].busy_ns / 1e6);
	for (unsigned i = 0; i < gw->n_workers; i++) {
		snprintf(name, sizeof(name), "worker %u", i);
		dump_worker(&gw->workers[i], name, out);
	}
	dump_worker(wg_ctrl_ctx(gw), "control", out);
	dump_peers(gw, out);
}

void wg_gw_get_stats(struct wg_gw *gw, struct wg_gw_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i <= gw->n_workers; i++) {
		const struct wg_worker *w = &gw->workers[i];

		st->rx_pkts += w->rx_pkts;
		st->tx_pkts += w->tx_pkts;
		st->rx_bytes += w->rx_bytes;
		st->tx_bytes += w->tx_bytes;
		st->decrypted += w->decrypted;
		st->encrypted += w->encrypted;
		st->keepalives_rx += w->keepalives_rx;
		st->handed_off += w->handed_off;
		st->frags_rx += w->frags_rx;
		st->frags_reassembled += w->frags_reassembled;
		st->frags_merged += w->frags_merged;
		for (unsigned d = 0; d < WG_DROP_COUNT; d++)
			st->drops[d] += w->drops[d];
	}
	st->hs_initiations_rx = gw->hs_initiations_rx;
	st->hs_responses_rx = gw->hs_responses_rx;
	st->hs_cookies_rx = gw->hs_cookies_rx;
	st->hs_sent = gw->hs_sent;
	st->junk_sent = gw->junk_sent;
	st->hs_used = gw->hs_used;
	st->local_used = gw->local_used;
	st->hs_offloaded = gw->hs_offloaded;
	st->hs_busy_ns = gw->hs.busy_ns;
	for (unsigned i = 0; i < gw->n_hs_lcores; i++) {
		st->hs_prepared += gw->hs_lcores[i].jobs;
		st->hs_lcores_busy_ns += gw->hs_lcores[i].busy_ns;
	}
	st->under_load = atomic_load(&gw->under_load);
	st->under_load_entered = gw->hs.under_load_entered;
	st->peers = gw->n_peers;
	wg_gw_nat_stats(gw, st);
	st->peers_with_session = gw->n_with_session;
}

bool wg_gw_public_key(struct wg_gw *gw, uint8_t key[32])
{
	memcpy(key, gw->dev.static_public, 32);
	return gw->dev.has_identity;
}
