/* SPDX-License-Identifier: MIT */
/*
 * Handshakes on several lcores (lib/gw/ctl/hs_lcore.c), in one process (lib/sim): the same
 * storm of valid initiations, every client at once, against the gateway with no handshake
 * lcore (the control lcore does it all), one and two. Each run must establish every
 * session (past the load mark, through cookie replies and initiations with mac2, as real
 * clients do), carry a data packet both ways for every client, and account for every
 * initiation: with handshake lcores, every one the gateway admitted was prepared there
 * and none was answered twice. The runs' outcomes must match. And an initiation a
 * handshake lcore prepared with the device's old key is not answered after the key
 * changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "check.h"
#include "wg_crypto.h"
#include "wg_gw.h"
#include "wg_pkt.h"
#include "wg_sim.h"
#include "wg_wire.h"

#define CLIENTS 1500

struct outcome {
	unsigned sessions, data_out, data_back;
	struct wg_gw_stats st;
};

/* One packet from every client to the LAN host, and one back to each: how many arrived. */
static void data_both_ways(struct wg_sim *s, struct outcome *o)
{
	struct rte_mbuf *m[32], *out[64];
	unsigned n;

	for (unsigned k = 0; k < CLIENTS; k += 32) {
		unsigned cnt = 0;

		for (unsigned j = k; j < k + 32 && j < CLIENTS; j++) {
			struct wg_sim_pkt p = { .src = wg_sim_client_tunnel_ip(j, WG_AF_INET),
				.dst = wg_sim_lan_host_ip(WG_AF_INET), .size = 64,
				.proto = WG_IPPROTO_UDP, .tag = (uint16_t)j };

			if (wg_sim_client_data_frames(s, &j, &p, 1, &m[cnt]) == 1)
				cnt++;
		}
		wg_sim_inject(s, WG_SIM_WAN, m, cnt);
		wg_sim_run(s, 4);
		while ((n = wg_sim_collect(s, WG_SIM_LAN, out, 64)) > 0) {
			for (unsigned i = 0; i < n; i++) {
				const uint8_t *ip;
				size_t len;

				o->data_out += wg_sim_lan_receive(s, out[i], &ip, &len);
			}
			wg_sim_free(out, n);
		}
	}
	for (unsigned k = 0; k < CLIENTS; k += 32) {
		unsigned cnt = 0;

		for (unsigned j = k; j < k + 32 && j < CLIENTS; j++) {
			struct wg_sim_pkt p = { .src = wg_sim_lan_host_ip(WG_AF_INET),
				.dst = wg_sim_client_tunnel_ip(j, WG_AF_INET), .size = 64,
				.proto = WG_IPPROTO_UDP, .tag = (uint16_t)j };

			cnt += wg_sim_lan_frames(s, &p, 1, &m[cnt]);
		}
		wg_sim_inject(s, WG_SIM_LAN, m, cnt);
		wg_sim_run(s, 4);
		while ((n = wg_sim_collect(s, WG_SIM_WAN, out, 64)) > 0) {
			for (unsigned i = 0; i < n; i++) {
				struct wg_sim_rx rx;

				o->data_back += wg_sim_client_receive(s, out[i], &rx) == WG_SIM_RX_OK &&
						rx.len > 0;
			}
			wg_sim_free(out, n);
		}
	}
}

static bool run(unsigned n_hs, struct outcome *o)
{
	struct wg_sim_params p = { .n_clients = CLIENTS, .n_hs_lcores = n_hs };
	char err[256];
	struct wg_sim *s = wg_sim_create(&p, err, sizeof(err));

	memset(o, 0, sizeof(*o));
	if (s == NULL) {
		fprintf(stderr, "test_hs_lcores: %s\n", err);
		return false;
	}
	o->sessions = wg_sim_handshake_storm(s, 0, CLIENTS);
	data_both_ways(s, o);
	wg_sim_stats(s, &o->st);
	printf("%u handshake lcore%s: %u sessions, %u data out, %u back; initiations taken "
	       "%lu, cookie replies %lu, offloaded %lu, prepared %lu, went under load %lu "
	       "time%s\n", n_hs, n_hs == 1 ? "" : "s", o->sessions, o->data_out, o->data_back,
	       (unsigned long)o->st.hs_initiations_rx,
	       (unsigned long)o->st.drops[WG_DROP_HS_COOKIE_SENT],
	       (unsigned long)o->st.hs_offloaded, (unsigned long)o->st.hs_prepared,
	       (unsigned long)o->st.under_load_entered, o->st.under_load_entered == 1 ? "" : "s");
	for (unsigned d = 0; d < WG_DROP_COUNT; d++)
		if (o->st.drops[d])
			printf("  drop %s: %lu\n", wg_drop_name(d), (unsigned long)o->st.drops[d]);
	wg_sim_destroy(s);
	return true;
}

static void test_key_change(void)
{
	struct wg_sim_params p = { .n_clients = 1, .n_hs_lcores = 1 };
	char err[256], body[128], hex[WG_KEY_HEX_LEN + 1];
	struct wg_sim *s = wg_sim_create(&p, err, sizeof(err));
	struct rte_mbuf *m, *out[16];
	struct wg_gw_stats st = { 0 };
	uint8_t key[WG_KEY_LEN];
	unsigned n, responses = 0;

	if (!CHECK(s != NULL))
		return;
	m = wg_sim_client_initiation(s, 0);
	CHECK(m && wg_sim_inject(s, WG_SIM_WAN, &m, 1) == 1);
	/* Until the control lcore has handed it out (it answers it at a later poll). */
	for (unsigned i = 0; i < 1000 && st.hs_offloaded == 0; i++) {
		wg_sim_poll(s);
		wg_sim_stats(s, &st);
	}
	CHECK_EQ(st.hs_offloaded, 1);
	wg_random(key, sizeof(key));
	wg_key_to_hex(hex, key);
	snprintf(body, sizeof(body), "private_key=%s\n", hex);
	CHECK_EQ(wg_sim_uapi_set(s, body, err, sizeof(err)), 0);
	for (unsigned i = 0; i < 200000 && st.hs_prepared == 0; i++) {
		wg_sim_poll(s);
		wg_sim_stats(s, &st);
	}
	wg_sim_run(s, 100);
	wg_sim_stats(s, &st);
	CHECK_EQ(st.hs_prepared, 1);
	while ((n = wg_sim_collect(s, WG_SIM_WAN, out, 16)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct wg_sim_rx rx;

			responses += wg_sim_client_receive(s, out[i], &rx) == WG_SIM_RX_HANDSHAKE &&
				     rx.type == WG_MSG_RESPONSE;
		}
		wg_sim_free(out, n);
	}
	CHECK_EQ(responses, 0);
	CHECK_EQ(st.drops[WG_DROP_HS_REFUSED], 1);
	CHECK_EQ(st.peers_with_session, 0);
	wg_sim_destroy(s);
}

int main(int argc, char **argv)
{
	struct outcome o[3];

	(void)argc;
	if (wg_sim_eal_init(argv[0], 512, 0) != 0)
		return 1;
	for (unsigned n = 0; n < 3; n++) {
		if (!CHECK(run(n, &o[n])))
			continue;
		CHECK_EQ(o[n].sessions, CLIENTS);
		CHECK_EQ(o[n].st.peers_with_session, CLIENTS);
		CHECK_EQ(o[n].data_out, CLIENTS);
		CHECK_EQ(o[n].data_back, CLIENTS);
		/* The storm is past the load mark: some clients went through a cookie. */
		CHECK(o[n].st.under_load_entered >= 1);
		/* Every admitted initiation was answered once: a session, or refused. */
		CHECK_EQ(o[n].st.hs_initiations_rx,
			 CLIENTS + o[n].st.drops[WG_DROP_HS_REFUSED]);
		if (n == 0) {
			CHECK_EQ(o[n].st.hs_offloaded, 0);
		} else {
			CHECK_EQ(o[n].st.hs_offloaded, o[n].st.hs_prepared);
			CHECK_EQ(o[n].st.hs_offloaded, o[n].st.hs_initiations_rx);
		}
		CHECK_EQ(o[n].st.drops[WG_DROP_HS_QUEUE_FULL], 0);
	}
	test_key_change();
	/* What the clients see is the same however many lcores did the work. */
	CHECK_EQ(o[1].sessions, o[0].sessions);
	CHECK_EQ(o[2].sessions, o[0].sessions);
	CHECK_EQ(o[1].data_back, o[0].data_back);
	CHECK_EQ(o[2].data_back, o[0].data_back);
	wg_sim_eal_cleanup();
	return check_report("test_hs_lcores");
}
