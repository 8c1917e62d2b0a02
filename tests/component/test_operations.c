/* SPDX-License-Identifier: MIT */
/*
 * The operator's peer state, in one process (lib/sim) with a simulated clock:
 *
 *   events    a handshake (first, initiated by the peer) and "up"; a second one is a
 *             rekey; after REJECT_AFTER_TIME + the margin without one, "quiet", once;
 *             a new handshake brings the peer "up" again;
 *   disabled  a disabled peer's sessions end at once: its data messages find nothing
 *             (UNKNOWN_INDEX), packets from the LAN for it are dropped as PEER_DISABLED,
 *             its initiation is refused as PEER_DISABLED without a response and without
 *             moving its endpoint; enabled again, it makes a handshake and passes data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "check.h"
#include "gw_internal.h"
#include "wg_sim.h"
#include "wg_wire.h"

static unsigned read_events(struct wg_sim *s, uint64_t *cursor, struct wg_peer_event *ev,
			    unsigned max)
{
	uint64_t lost;

	return (unsigned)wg_events_read(wg_sim_gw(s)->events, *cursor, ev, max, &lost, cursor);
}

static void drain_wan(struct wg_sim *s, unsigned *responses)
{
	struct rte_mbuf *out[64];
	unsigned n;

	while ((n = wg_sim_collect(s, WG_SIM_WAN, out, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct wg_sim_rx rx;

			if (wg_sim_client_receive(s, out[i], &rx) == WG_SIM_RX_HANDSHAKE &&
			    rx.type == WG_MSG_RESPONSE && responses)
				(*responses)++;
		}
		wg_sim_free(out, n);
	}
	wg_sim_collect(s, WG_SIM_LAN, out, 0);
}

static void test_events(void)
{
	struct wg_sim_params p = { .n_clients = 1 };
	char err[256];
	struct wg_sim *s = wg_sim_create(&p, err, sizeof(err));
	struct wg_peer_event ev[16];
	uint64_t cursor = 0;
	unsigned n;

	if (!CHECK(s != NULL)) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK_EQ(wg_sim_handshake(s, 0, 1), 1);
	n = read_events(s, &cursor, ev, 16);
	CHECK_EQ(n, 2);
	CHECK(ev[0].kind == WG_PEER_EVENT_HANDSHAKE && ev[0].first && !ev[0].initiated_by_us);
	CHECK(ev[1].kind == WG_PEER_EVENT_UP);
	CHECK_EQ(ev[0].seq, 1);
	wg_sim_advance(s, 5ull * WG_NSEC_PER_SEC);
	CHECK_EQ(wg_sim_handshake(s, 0, 1), 1);
	n = read_events(s, &cursor, ev, 16);
	CHECK_EQ(n, 1);
	CHECK(ev[0].kind == WG_PEER_EVENT_HANDSHAKE && !ev[0].first);
	/* REJECT_AFTER_TIME (180 s) + the margin without a handshake: quiet, once. */
	wg_sim_advance(s, (170ull + wg_sim_gw(s)->cfg.events.quiet_margin) * WG_NSEC_PER_SEC);
	wg_sim_run(s, 20);
	CHECK_EQ(read_events(s, &cursor, ev, 16), 0);
	wg_sim_advance(s, 11ull * WG_NSEC_PER_SEC);
	wg_sim_run(s, 20);
	n = read_events(s, &cursor, ev, 16);
	CHECK_EQ(n, 1);
	CHECK(n == 1 && ev[0].kind == WG_PEER_EVENT_QUIET);
	wg_sim_advance(s, 300ull * WG_NSEC_PER_SEC);
	wg_sim_run(s, 20);
	CHECK_EQ(read_events(s, &cursor, ev, 16), 0);
	drain_wan(s, NULL);
	CHECK_EQ(wg_sim_handshake(s, 0, 1), 1);
	n = read_events(s, &cursor, ev, 16);
	CHECK(n == 2 && ev[0].kind == WG_PEER_EVENT_HANDSHAKE && ev[1].kind == WG_PEER_EVENT_UP);
	wg_sim_destroy(s);
}

static void test_disabled(void)
{
	struct wg_sim_params p = { .n_clients = 1 };
	char err[256];
	struct wg_sim *s = wg_sim_create(&p, err, sizeof(err));
	uint8_t ip[128];
	struct wg_sim_pkt pkt = { .size = 100, .proto = WG_IPPROTO_UDP };
	struct rte_mbuf *m;
	struct wg_gw_stats before, after;
	struct wg_peer *peer;
	struct wg_endpoint ep;
	unsigned responses = 0;
	size_t len;

	if (!CHECK(s != NULL)) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK_EQ(wg_sim_handshake(s, 0, 1), 1);
	peer = &wg_sim_gw(s)->peers[0];
	ep = atomic_load(&peer->ep)->ep;
	wg_gw_peer_set_disabled(wg_sim_gw(s), peer, true);
	CHECK(atomic_load(&peer->tx_kp) == NULL);
	wg_sim_run(s, 4);
	wg_sim_stats(s, &before);
	/* Its data: no keypair to find. */
	pkt.src = wg_sim_client_tunnel_ip(0, WG_AF_INET);
	pkt.dst = wg_sim_lan_host_ip(WG_AF_INET);
	len = wg_sim_build_pkt(ip, sizeof(ip), &pkt);
	m = wg_sim_client_data_frame(s, 0, ip, len);
	wg_sim_inject(s, WG_SIM_WAN, &m, 1);
	/* Packets for it from the LAN: staged, dropped as PEER_DISABLED. */
	pkt.src = wg_sim_lan_host_ip(WG_AF_INET);
	pkt.dst = wg_sim_client_tunnel_ip(0, WG_AF_INET);
	wg_sim_lan_frames(s, &pkt, 1, &m);
	wg_sim_inject(s, WG_SIM_LAN, &m, 1);
	/* Its initiation: refused after the core identified it, no response (past the 20 ms
	 * the core keeps between a peer's initiations). */
	wg_sim_advance(s, 21ull * WG_NSEC_PER_SEC / 1000);
	m = wg_sim_client_initiation(s, 0);
	wg_sim_inject(s, WG_SIM_WAN, &m, 1);
	wg_sim_run(s, 10);
	drain_wan(s, &responses);
	wg_sim_stats(s, &after);
	CHECK_EQ(after.drops[WG_DROP_UNKNOWN_INDEX] - before.drops[WG_DROP_UNKNOWN_INDEX], 1);
	CHECK_EQ(after.drops[WG_DROP_PEER_DISABLED] - before.drops[WG_DROP_PEER_DISABLED], 2);
	CHECK_EQ(responses, 0);
	CHECK_EQ(wg_sim_gw(s)->n_disabled, 1);
	CHECK(wg_ip_equal(&peer->conf_ep.ip, &ep.ip));
	/* Enabled again: a handshake and data as before. */
	wg_gw_peer_set_disabled(wg_sim_gw(s), peer, false);
	CHECK_EQ(wg_sim_gw(s)->n_disabled, 0);
	wg_sim_advance(s, 6ull * WG_NSEC_PER_SEC);
	CHECK_EQ(wg_sim_handshake(s, 0, 1), 1);
	wg_sim_stats(s, &before);
	pkt.src = wg_sim_client_tunnel_ip(0, WG_AF_INET);
	pkt.dst = wg_sim_lan_host_ip(WG_AF_INET);
	len = wg_sim_build_pkt(ip, sizeof(ip), &pkt);
	m = wg_sim_client_data_frame(s, 0, ip, len);
	wg_sim_inject(s, WG_SIM_WAN, &m, 1);
	wg_sim_run(s, 10);
	wg_sim_stats(s, &after);
	CHECK_EQ(after.decrypted - before.decrypted, 1);
	wg_sim_destroy(s);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (wg_sim_eal_init(argv[0], 512, 0) != 0)
		return 1;
	test_events();
	test_disabled();
	wg_sim_eal_cleanup();
	return check_report("test_operations");
}
