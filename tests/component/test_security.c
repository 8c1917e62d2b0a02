/* SPDX-License-Identifier: MIT */
/*
 * Defects found in review, each shown on the gateway in one process (lib/sim):
 *
 *   spray     one peer's data messages reach two workers at once (the second worker on
 *             its own lcore): every counter is accepted exactly once, and replays sent
 *             from an attacker's address after the originals were accepted are all
 *             refused and never move the peer's endpoint;
 *   cookie    a client under load answers the gateway's handshake response with a cookie
 *             reply: the gateway takes it, and its next response carries mac2;
 *   crossing  a handshake the gateway initiates completes while the client's own new
 *             session waits as `next`: nothing is freed while a peer still publishes it;
 *   reuse     one request removes a peer whose packets wait for a handshake and adds
 *             another (which takes the freed slot): none of the first peer's packets is
 *             encrypted to the second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "check.h"
#include "wg_crypto.h"
#include "wg_pkt.h"
#include "wg_sim.h"
#include "wg_wire.h"

#define CHUNK 32

static struct wg_sim *make(const struct wg_sim_params *p)
{
	char err[256];
	struct wg_sim *s = wg_sim_create(p, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "test_security: %s\n", err);
	return s;
}

/* Poll until both queues are empty and a little after, so that what the threaded worker
 * handed over is processed too. */
static void settle(struct wg_sim *s)
{
	for (unsigned i = 0; i < 100000 && (wg_sim_rx_pending(s, WG_SIM_WAN, 0) ||
					     wg_sim_rx_pending(s, WG_SIM_WAN, 1)); i++)
		wg_sim_poll(s);
	for (unsigned i = 0; i < 200; i++)
		wg_sim_poll(s);
}

/* LAN frames out: count each packet's tag (the IPv4 id the builder put in it). */
static unsigned take_lan(struct wg_sim *s, uint16_t *seen, unsigned n_tags)
{
	struct rte_mbuf *out[64];
	unsigned n, total = 0;

	while ((n = wg_sim_collect(s, WG_SIM_LAN, out, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *ip;
			size_t len;

			if (wg_sim_lan_receive(s, out[i], &ip, &len) && len >= 20) {
				unsigned tag = (unsigned)(ip[4] << 8 | ip[5]);

				if (tag < n_tags)
					seen[tag]++;
				total++;
			}
		}
		wg_sim_free(out, n);
	}
	return total;
}

/* n data frames from client 0 to the LAN host, tags first..first+n-1, and a copy of each. */
static void make_chunk(struct wg_sim *s, unsigned first, unsigned n, struct rte_mbuf **orig,
		       struct rte_mbuf **copy)
{
	struct wg_sim_pkt p[CHUNK];
	unsigned k[CHUNK] = { 0 };

	for (unsigned i = 0; i < n; i++)
		p[i] = (struct wg_sim_pkt){ .src = wg_sim_client_tunnel_ip(0, WG_AF_INET),
			.dst = wg_sim_lan_host_ip(WG_AF_INET), .size = 100,
			.proto = WG_IPPROTO_UDP, .tag = first + i };
	CHECK_EQ(wg_sim_client_data_frames(s, k, p, n, orig), n);
	for (unsigned i = 0; i < n; i++) {
		copy[i] = rte_pktmbuf_copy(orig[i], orig[i]->pool, 0, UINT32_MAX);
		CHECK(copy[i] != NULL);
	}
}

/* Make a copy come from somewhere else: another IPv4 address, port and MAC. */
static void from_attacker(struct rte_mbuf *m)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *), *ip = f + 14;
	uint16_t c;

	memcpy(f + 6, "\x02\x66\x66\x66\x66\x66", 6);
	memcpy(ip + 12, "\xc0\xa8\x32\xfa", 4);   /* 192.168.50.250 */
	ip[20] = 0x9c;                              /* source port 40000 */
	ip[21] = 0x40;
	c = wg_csum_ipv4_header(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
}

#define SPRAY_TAGS 12800

static void test_spray(void)
{
	struct wg_sim_params p = { .n_clients = 2, .n_workers = 2 };
	struct wg_sim *s = make(&p);
	static uint16_t seen[SPRAY_TAGS];
	struct rte_mbuf *orig[CHUNK], *copy[CHUNK], *held[CHUNK];
	struct wg_gw_stats st0, st;
	struct wg_endpoint ep, want;
	unsigned delivered = 0, once = 0, n_held = 0;

	if (!CHECK(s != NULL))
		return;
	CHECK_EQ(wg_sim_handshake(s, 0, 1), 1);
	want = wg_sim_client_endpoint(s, 0);
	if (!CHECK(wg_sim_thread_start(s, 1, rte_get_next_lcore(rte_lcore_id(), 1, 0)) == 0)) {
		wg_sim_destroy(s);
		return;
	}
	wg_sim_stats(s, &st0);
	memset(seen, 0, sizeof(seen));

	/* Phase 1: each message and a copy of it arrive at once, on the two workers. */
	for (unsigned t = 0; t < SPRAY_TAGS / 2; t += CHUNK) {
		make_chunk(s, t, CHUNK, orig, copy);
		CHECK_EQ(wg_sim_inject_queue(s, WG_SIM_WAN, 1, copy, CHUNK), CHUNK);
		CHECK_EQ(wg_sim_inject_queue(s, WG_SIM_WAN, 0, orig, CHUNK), CHUNK);
		if (t % (8 * CHUNK) == 0)
			settle(s);
		else
			wg_sim_run(s, 2);
	}
	settle(s);
	delivered += take_lan(s, seen, SPRAY_TAGS);

	/* Phase 2: copies of messages already accepted, re-sent from an attacker's address
	 * to the other worker while the owner goes on with new ones. */
	for (unsigned t = SPRAY_TAGS / 2; t < SPRAY_TAGS; t += CHUNK) {
		make_chunk(s, t, CHUNK, orig, copy);
		for (unsigned i = 0; i < n_held; i++)
			from_attacker(held[i]);
		CHECK_EQ(wg_sim_inject_queue(s, WG_SIM_WAN, 0, orig, CHUNK), CHUNK);
		CHECK_EQ(wg_sim_inject_queue(s, WG_SIM_WAN, 1, held, n_held), n_held);
		memcpy(held, copy, sizeof(copy));
		n_held = CHUNK;
		settle(s);
	}
	for (unsigned i = 0; i < n_held; i++)
		from_attacker(held[i]);
	CHECK_EQ(wg_sim_inject_queue(s, WG_SIM_WAN, 1, held, n_held), n_held);
	settle(s);
	wg_sim_thread_stop(s, 1);
	settle(s);
	delivered += take_lan(s, seen, SPRAY_TAGS);

	for (unsigned t = 0; t < SPRAY_TAGS; t++)
		once += seen[t] == 1;
	wg_sim_stats(s, &st);
	printf("test_security: spray: %u messages, each also copied to the other worker: %u "
	       "delivered, %u exactly once; refused as replays %lu, handoff ring full %lu, "
	       "handed to the owner %lu\n", SPRAY_TAGS, delivered, once,
	       (unsigned long)(st.drops[WG_DROP_REPLAY] - st0.drops[WG_DROP_REPLAY]),
	       (unsigned long)(st.drops[WG_DROP_HANDOFF_FULL] - st0.drops[WG_DROP_HANDOFF_FULL]),
	       (unsigned long)(st.handed_off - st0.handed_off));
	CHECK(st.handed_off > st0.handed_off);   /* the other worker did take its share */
	CHECK_EQ(delivered, SPRAY_TAGS);     /* no counter accepted twice ... */
	CHECK_EQ(once, SPRAY_TAGS);          /* ... and none wrongly refused */
	CHECK_EQ(st.drops[WG_DROP_REPLAY] + st.drops[WG_DROP_HANDOFF_FULL] -
		 st0.drops[WG_DROP_REPLAY] - st0.drops[WG_DROP_HANDOFF_FULL], SPRAY_TAGS);
	/* No replay moved the peer: the gateway still sends to the client itself. */
	CHECK(wg_sim_gw_peer_endpoint(s, 0, &ep));
	CHECK(wg_ip_equal(&ep.ip, &want.ip) && ep.port == want.port);
	wg_sim_destroy(s);
}

/* The frames the gateway sent on the WAN of one WireGuard type; the rest are freed. */
static unsigned take_wan(struct wg_sim *s, unsigned type, struct rte_mbuf **keep, unsigned max)
{
	struct rte_mbuf *out[64];
	unsigned n, k = 0;

	while ((n = wg_sim_collect(s, WG_SIM_WAN, out, 64)) > 0)
		for (unsigned i = 0; i < n; i++) {
			struct wg_sim_rx rx;

			if (k < max && wg_sim_client_receive(s, out[i], &rx) == WG_SIM_RX_HANDSHAKE &&
			    rx.type == type)
				keep[k++] = out[i];
			else
				rte_pktmbuf_free(out[i]);
		}
	return k;
}

static void test_cookie_for_response(void)
{
	struct wg_sim_params p = { .n_clients = 1 };
	struct wg_sim *s = make(&p);
	struct rte_mbuf *m, *resp[2];
	struct wg_gw_stats st;

	if (!CHECK(s != NULL))
		return;
	m = wg_sim_client_initiation(s, 0);
	CHECK_EQ(wg_sim_inject(s, WG_SIM_WAN, &m, 1), 1);
	wg_sim_run(s, 4);
	if (!CHECK_EQ(take_wan(s, WG_MSG_RESPONSE, resp, 1), 1)) {
		wg_sim_destroy(s);
		return;
	}
	CHECK(!wg_sim_client_mac2_ok(s, 0, resp[0]));   /* no cookie yet: no mac2 */
	/* The client is loaded: it answers the response with a cookie reply, addressed to
	 * the response's sender index, which is a keypair's index by now. */
	m = wg_sim_client_cookie_reply(s, 0, resp[0]);
	rte_pktmbuf_free(resp[0]);
	CHECK_EQ(wg_sim_inject(s, WG_SIM_WAN, &m, 1), 1);
	wg_sim_run(s, 4);
	wg_sim_stats(s, &st);
	CHECK_EQ(st.hs_cookies_rx, 1);
	CHECK_EQ(st.drops[WG_DROP_HS_REFUSED], 0);   /* taken, not refused */
	/* The client retries its initiation; the gateway's new response carries mac2. */
	wg_sim_advance(s, 25 * WG_NSEC_PER_SEC / 1000);
	m = wg_sim_client_initiation(s, 0);
	CHECK_EQ(wg_sim_inject(s, WG_SIM_WAN, &m, 1), 1);
	wg_sim_run(s, 4);
	if (CHECK_EQ(take_wan(s, WG_MSG_RESPONSE, resp, 1), 1)) {
		CHECK(wg_sim_client_mac2_ok(s, 0, resp[0]));
		rte_pktmbuf_free(resp[0]);
	}
	wg_sim_destroy(s);
}

/* A LAN packet to client 0 reaches it, decrypted. */
static bool reaches_client(struct wg_sim *s, uint32_t tag)
{
	struct wg_sim_pkt p = { .src = wg_sim_lan_host_ip(WG_AF_INET),
		.dst = wg_sim_client_tunnel_ip(0, WG_AF_INET), .size = 80,
		.proto = WG_IPPROTO_UDP, .tag = tag };
	struct rte_mbuf *m, *out[16];
	unsigned n, ok = 0;

	if (wg_sim_lan_frames(s, &p, 1, &m) != 1)
		return false;
	wg_sim_inject(s, WG_SIM_LAN, &m, 1);
	wg_sim_run(s, 4);
	while ((n = wg_sim_collect(s, WG_SIM_WAN, out, 16)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct wg_sim_rx rx;

			ok += wg_sim_client_receive(s, out[i], &rx) == WG_SIM_RX_OK && rx.len == 80;
		}
		wg_sim_free(out, n);
	}
	return ok == 1;
}

static void test_crossing(void)
{
	struct wg_sim_params p = { .n_clients = 1, .check_retire = true };
	struct wg_sim *s = make(&p);
	struct rte_mbuf *m, *init;

	if (!CHECK(s != NULL))
		return;
	CHECK_EQ(wg_sim_handshake(s, 0, 1), 1);      /* session C: current, published */
	CHECK(reaches_client(s, 1));
	/* The client starts a new session: the gateway's part of it waits as `next`. */
	wg_sim_advance(s, 25 * WG_NSEC_PER_SEC / 1000);
	m = wg_sim_client_initiation(s, 0);
	CHECK_EQ(wg_sim_inject(s, WG_SIM_WAN, &m, 1), 1);
	wg_sim_run(s, 4);
	wg_sim_discard(s);                           /* the client never sees the response */
	/* Meanwhile the gateway initiates; the client answers; the gateway's new session as
	 * initiator replaces C, which is retired. */
	wg_sim_gw_initiate(s, 0);
	wg_sim_drain(s);
	if (!CHECK_EQ(take_wan(s, WG_MSG_INITIATION, &init, 1), 1)) {
		wg_sim_destroy(s);
		return;
	}
	m = wg_sim_client_respond(s, 0, init);
	rte_pktmbuf_free(init);
	if (!CHECK(m != NULL)) {
		wg_sim_destroy(s);
		return;
	}
	CHECK_EQ(wg_sim_inject(s, WG_SIM_WAN, &m, 1), 1);
	wg_sim_run(s, 4);
	wg_sim_discard(s);                           /* the gateway's keepalive */
	CHECK_EQ(wg_sim_counters(s)->freed_published, 0);
	CHECK(reaches_client(s, 2));                 /* on the new session */
	wg_sim_destroy(s);
}

static void test_slot_reuse(void)
{
	struct wg_sim_params p = { .n_clients = 2, .n_configured = 1, .check_retire = true };
	struct wg_sim *s = make(&p);
	struct wg_sim_pkt pk[4];
	struct rte_mbuf *m[4], *out[64];
	char body[512], hex_a[WG_KEY_HEX_LEN + 1], hex_b[WG_KEY_HEX_LEN + 1];
	char ep_b[WG_ADDR_STRLEN], ip_b[WG_ADDR_STRLEN], why[256];
	uint8_t key[32];
	struct wg_endpoint e = { 0 };
	struct wg_ip tun_b;
	struct wg_gw_stats st;
	unsigned n, leaked = 0, to_b = 0;
	uint64_t rxb, txb;

	if (!CHECK(s != NULL))
		return;
	CHECK_EQ(wg_sim_handshake(s, 0, 1), 1);
	CHECK(reaches_client(s, 7));
	CHECK(wg_sim_gw_peer_bytes(s, 0, &rxb, &txb) && rxb > 0 && txb > 0);
	/* A's session runs out (REJECT_AFTER_TIME): what the LAN sends A waits for a new
	 * handshake. The worker hands it to the control lcore, which has not run yet. */
	wg_sim_advance(s, 181 * WG_NSEC_PER_SEC);
	wg_sim_run(s, 2);
	wg_sim_discard(s);
	for (unsigned i = 0; i < 4; i++)
		pk[i] = (struct wg_sim_pkt){ .src = wg_sim_lan_host_ip(WG_AF_INET),
			.dst = wg_sim_client_tunnel_ip(0, WG_AF_INET), .size = 90,
			.proto = WG_IPPROTO_UDP, .tag = 100 + i };
	CHECK_EQ(wg_sim_lan_frames(s, pk, 4, m), 4);
	CHECK_EQ(wg_sim_inject(s, WG_SIM_LAN, m, 4), 4);
	wg_sim_poll_worker(s);

	/* One request: A goes, B comes (and takes A's slot, the one freed last). */
	wg_sim_client_public_key(s, 0, key);
	wg_key_to_hex(hex_a, key);
	wg_sim_client_public_key(s, 1, key);
	wg_key_to_hex(hex_b, key);
	e = wg_sim_client_endpoint(s, 1);
	wg_endpoint_format(ep_b, &e);
	tun_b = wg_sim_client_tunnel_ip(1, WG_AF_INET);
	wg_ip_format(ip_b, &tun_b);
	snprintf(body, sizeof(body), "public_key=%s\nremove=true\npublic_key=%s\nendpoint=%s\n"
		 "allowed_ip=%s/32\n", hex_a, hex_b, ep_b, ip_b);
	CHECK_EQ(wg_sim_uapi_set(s, body, why, sizeof(why)), 0);
	wg_sim_run(s, 4);
	/* B makes its handshake; whatever waited for B is sent to it then. */
	wg_sim_advance(s, 25 * WG_NSEC_PER_SEC / 1000);
	CHECK_EQ(wg_sim_handshake(s, 1, 1), 1);
	wg_sim_run(s, 4);
	while ((n = wg_sim_collect(s, WG_SIM_WAN, out, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct wg_sim_rx rx;

			if (wg_sim_client_receive(s, out[i], &rx) == WG_SIM_RX_OK &&
			    rx.client == 1 && rx.len > 0) {
				to_b++;
				leaked += rx.len == 90;
			}
		}
		wg_sim_free(out, n);
	}
	wg_sim_stats(s, &st);
	printf("test_security: reuse: %u of A's packets reached B; %lu dropped as PEER_GONE\n",
	       leaked, (unsigned long)st.drops[WG_DROP_PEER_GONE]);
	CHECK_EQ(leaked, 0);
	CHECK_EQ(to_b, 0);
	CHECK_EQ(st.drops[WG_DROP_PEER_GONE], 4);
	CHECK_EQ(wg_sim_counters(s)->freed_published, 0);
	/* B's transfer counters are its own: its confirming keepalive (32 bytes), no more. */
	CHECK(wg_sim_gw_peer_bytes(s, 1, &rxb, &txb));
	CHECK_EQ(rxb, WG_MSG_DATA_MIN_LEN);
	CHECK_EQ(txb, 0);
	wg_sim_destroy(s);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (wg_sim_eal_init_lcores(argv[0], 512, "0-1") != 0)
		return 1;
	test_spray();
	test_cookie_for_response();
	test_crossing();
	test_slot_reuse();
	wg_sim_eal_cleanup();
	return check_report("test_security");
}
