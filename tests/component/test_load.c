/* SPDX-License-Identifier: MIT */
/*
 * The handshake path under load, in one process over net_ring ports (lib/sim): when more
 * initiations wait at the control lcore than WG_UNDER_LOAD, the gateway stops doing
 * Diffie-Hellman for messages without a valid cookie and answers each with a cookie reply
 * (64 bytes, type 3, addressed to the initiation's sender index); when the backlog is
 * gone and a second has passed, it answers initiations normally again.
 */
#include <stdio.h>
#include <string.h>

#include <rte_mbuf.h>

#include "check.h"
#include "wg_gw.h"
#include "wg_sim.h"
#include "wg_wire.h"

#define FLOOD 1200           /* initiations: well past WG_UNDER_LOAD (512) */

/* Queue the flood through the worker only, so it piles up at the control lcore. */
static void flood(struct wg_sim *s, uint32_t *senders)
{
	for (unsigned i = 0; i < FLOOD; i += 32) {
		struct rte_mbuf *m[32];
		unsigned n = FLOOD - i < 32 ? FLOOD - i : 32;

		for (unsigned j = 0; j < n; j++) {
			m[j] = wg_sim_client_initiation(s, (i + j) % wg_sim_n_clients(s));
			senders[i + j] = m[j] ? wg_get_le32(rte_pktmbuf_mtod_offset(m[j], uint8_t *,
								 14 + 20 + 8 + 4)) : 0;
		}
		CHECK_EQ(wg_sim_inject(s, WG_SIM_WAN, m, n), n);
		wg_sim_poll_worker(s);
	}
}

/* Count the cookie replies among the WAN output and check they answer our senders. */
static unsigned count_cookies(struct wg_sim *s, const uint32_t *senders, unsigned *responses)
{
	struct rte_mbuf *out[64];
	unsigned n, cookies = 0;

	*responses = 0;
	while ((n = wg_sim_collect(s, WG_SIM_WAN, out, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *msg = rte_pktmbuf_mtod_offset(out[i], uint8_t *, 14 + 20 + 8);
			size_t len = rte_pktmbuf_data_len(out[i]) - (14 + 20 + 8);
			unsigned type = wg_msg_type(msg, len);
			bool known = false;

			if (type == WG_MSG_COOKIE_REPLY) {
				uint32_t to = wg_get_le32(msg + 4);

				cookies++;
				CHECK_EQ(len, WG_MSG_COOKIE_REPLY_LEN);
				for (unsigned k = 0; k < FLOOD && !known; k++)
					known = senders[k] == to;
				CHECK(known);
			}
			*responses += type == WG_MSG_RESPONSE;
		}
		wg_sim_free(out, n);
	}
	return cookies;
}

int main(int argc, char **argv)
{
	static uint32_t senders[FLOOD];
	struct wg_sim_params p = { .n_clients = 4, .max_peers = 8 };
	struct wg_gw_stats st;
	struct wg_sim *s;
	char err[256];
	unsigned cookies, responses;

	(void)argc;
	if (wg_sim_eal_init(argv[0], 512, 0) != 0)
		return 1;
	s = wg_sim_create(&p, err, sizeof(err));
	if (!CHECK(s != NULL)) {
		fprintf(stderr, "test_load: %s\n", err);
		return check_report("test_load");
	}

	flood(s, senders);
	wg_sim_run(s, FLOOD / 32 + 64);
	wg_sim_stats(s, &st);
	cookies = count_cookies(s, senders, &responses);
	printf("test_load: %u initiations queued at once: %u cookie replies, %u responses, "
	       "%lu handshakes refused\n", FLOOD, cookies, responses,
	       (unsigned long)st.drops[WG_DROP_HS_REFUSED]);
	/* Under load nothing without a cookie reaches the Noise code. */
	CHECK_EQ(st.drops[WG_DROP_HS_COOKIE_SENT], cookies);
	CHECK(cookies >= FLOOD - 512);
	CHECK_EQ(st.hs_initiations_rx + cookies, FLOOD);
	CHECK_EQ(st.drops[WG_DROP_HS_QUEUE_FULL], 0);

	/* A second later, with the backlog gone, a fresh initiation gets a response. */
	wg_sim_advance(s, 2000000000ull);
	{
		struct rte_mbuf *m = wg_sim_client_initiation(s, 0);
		uint64_t before = st.drops[WG_DROP_HS_COOKIE_SENT];

		CHECK_EQ(wg_sim_inject(s, WG_SIM_WAN, &m, 1), 1);
		wg_sim_run(s, 4);
		wg_sim_stats(s, &st);
		cookies = count_cookies(s, senders, &responses);
		CHECK_EQ(cookies, 0);
		CHECK_EQ(responses, 1);
		CHECK_EQ(st.drops[WG_DROP_HS_COOKIE_SENT], before);
	}
	wg_sim_destroy(s);
	wg_sim_eal_cleanup();
	return check_report("test_load");
}
