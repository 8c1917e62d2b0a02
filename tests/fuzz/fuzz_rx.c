/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the gateway's receive path: fuzzed frames into an in-process
 * gateway (lib/sim, net_ring ports, one lcore) with live sessions to two clients (one over
 * IPv4, one over IPv6), on both ports. An input is a short program of operations:
 *
 *   0  a raw frame on the WAN port          3  a LAN frame around a fuzzed IP packet
 *   1  a raw frame on the LAN port          4  a UDP datagram from a client to the listen
 *   2  a data message, validly encrypted by    port, with a fuzzed WireGuard message
 *      a client, around a fuzzed inner      5  some polls of the gateway
 *      packet (so decryption succeeds and the inner packet's checks and routing meet it)
 *   6  an AmneziaWG message: the fuzzed bytes behind the padding and type field of the
 *      form (s1 + h1 for an initiation, s2 + h2, h3, h4), at its length for handshakes
 *   7  obfuscation switched between AmneziaWG's parameters (client 0 obfuscated, client 1
 *      plain with accept_plain) and plain WireGuard, through the applier, live
 *
 * After each input the gateway is polled and everything it sent is taken. The counters
 * must add up: every frame the gateway received and did not send on (a received frame is
 * sent on in place, so it comes out in the harness's own buffers) nor still holds (staged
 * for a handshake, waiting for a next hop, a fragment in reassembly) was dropped under a
 * named reason or taken (a keepalive, a handshake message, ARP or neighbour discovery
 * for the gateway, a fragment merged into its datagram). Every 2,048 inputs the clock
 * jumps past every hold time and what the gateway still holds must be bounded (no leak);
 * the clients then make fresh handshakes. A violation aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dpdk_roots.h"
#include "gw_internal.h"
#include "wg_sim.h"
#include "wg_uapi.h"
#include "wg_wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wg_sim *sim;
static unsigned inputs;
static const struct wg_obfs amnezia = {
	.h = { 1020325451u, 3288052141u, 1766607858u, 2528465083u }, .s1 = 15, .s2 = 68,
	.jc = 2, .jmin = 40, .jmax = 70, .accept_plain = true,
};
static bool obfs_on = true;

/* Switch the gateway's obfuscation (a UAPI set through the applier). */
static void set_obfs(bool on)
{
	static const char on_set[] = "h1=1020325451\nh2=3288052141\nh3=1766607858\n"
		"h4=2528465083\ns1=15\ns2=68\njc=2\njmin=40\njmax=70\naccept_plain=true\n";
	static const char off_set[] = "h1=0\nh2=0\nh3=0\nh4=0\ns1=0\ns2=0\njc=0\njmin=0\n"
		"jmax=0\naccept_plain=false\n";
	const char *body = on ? on_set : off_set;
	struct wg_uapi_set set;
	char why[WG_UAPI_WHY_LEN];

	if (wg_uapi_parse_set(&set, body, strlen(body), why, sizeof(why)) != 0 ||
	    wg_gw_apply(wg_sim_gw(sim), &set, why, sizeof(why)) != 0) {
		fprintf(stderr, "fuzz_rx: obfuscation set refused: %s\n", why);
		abort();
	}
	wg_uapi_set_free(&set);
	obfs_on = on;
}

/* Op 6: the fuzzed bytes as the body of an obfuscated message of type 1 + p[0] % 4. */
static struct rte_mbuf *obfs_frame(unsigned k, const uint8_t *p, size_t len)
{
	static const size_t lens[] = { 148, 92, 64, 0 };
	uint8_t buf[1600];
	unsigned t = len ? p[0] % 4 : 3, pad = t == 0 ? amnezia.s1 : t == 1 ? amnezia.s2 : 0;
	size_t body = lens[t] ? lens[t] : (len < 16 ? 16 : len);

	memset(buf, 0, sizeof(buf));
	memcpy(buf, p, len < pad + body ? len : pad + body);
	wg_put_le32(buf + pad, amnezia.h[t]);
	return wg_sim_client_udp_frame(sim, k, buf, pad + body);
}

static void done(void)
{
	wg_sim_destroy(sim);
	wg_sim_eal_cleanup();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct wg_sim_params p = { .n_clients = 2, .outer6_every = 2, .obfs = &amnezia,
				   .plain_every = 2 };
	char err[256];

	(void)argc;
	if (wg_sim_eal_init((*argv)[0], 512, 0) != 0)
		abort();
	sim = wg_sim_create(&p, err, sizeof(err));
	if (sim == NULL || wg_sim_handshake_all(sim) != 2) {
		fprintf(stderr, "fuzz_rx: %s\n", sim ? "handshakes failed" : err);
		abort();
	}
	dpdk_register_roots();
	atexit(done);
	return 0;
}

static void must(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_rx: violated: %s\n", what);
		abort();
	}
}

/* What the counters say happened to received frames that did not go out. */
static uint64_t taken_or_dropped(const struct wg_gw_stats *st)
{
	uint64_t n = st->keepalives_rx + st->hs_used + st->local_used + st->frags_merged;

	for (unsigned d = 0; d < WG_DROP_COUNT; d++)
		n += st->drops[d];
	return n;
}

static uint64_t answered(const struct wg_sim *s)
{
	const struct wg_sim_counters *c = wg_sim_counters(s);

	return c->arp_answered + c->nd_answered;   /* the LAN host's own frames, also received */
}

/* Poll, and take everything out; how many of the frames out were received ones. */
static unsigned run_and_take(unsigned polls)
{
	struct rte_mbuf *out[64];
	unsigned n, received = 0;

	wg_sim_run(sim, polls);
	for (int side = 0; side < 2; side++)
		while ((n = wg_sim_collect(sim, (enum wg_sim_side)side, out, 64)) > 0) {
			for (unsigned i = 0; i < n; i++)
				received += out[i]->pool == wg_sim_pool(sim);
			wg_sim_free(out, n);
		}
	return received;
}

static struct rte_mbuf *raw_frame(const uint8_t *p, size_t len)
{
	uint8_t *d;
	struct rte_mbuf *m = len ? rte_pktmbuf_alloc(wg_sim_pool(sim)) : NULL;

	if (m == NULL)
		return NULL;
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(d, p, len);
	return m;
}

/* Every 2,048 inputs: past every hold time, then fresh sessions. */
static void flush(void)
{
	unsigned in_use;

	wg_sim_advance(sim, 5 * WG_NSEC_PER_SEC);
	run_and_take(16);
	wg_sim_advance(sim, 5 * WG_NSEC_PER_SEC);
	run_and_take(16);
	/* Staged packets wait for their handshake (16 a peer) until REKEY_ATTEMPT_TIME;
	 * nothing else may stay. */
	in_use = rte_mempool_in_use_count(wg_sim_pool(sim));
	must(in_use <= 2 * 16 + 8, "frames held after every hold time passed");
	if (!obfs_on)
		set_obfs(true);   /* the clients speak their forms */
	must(wg_sim_handshake_all(sim) == 2, "fresh handshakes after a flush");
	run_and_take(4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_gw_stats st0, st1;
	uint64_t in0, in1, injected = 0, out = 0;
	unsigned frames = 0, held0, held1;
	size_t i = 0;

	if (++inputs % 2048 == 0)
		flush();
	wg_sim_stats(sim, &st0);
	in0 = answered(sim);
	held0 = rte_mempool_in_use_count(wg_sim_pool(sim));
	while (i < size && frames < 16) {
		unsigned op = data[i] % 8, k = data[i] / 8 % 2;
		size_t len = i + 1 < size ? data[i + 1] * 8u + (data[i] >> 7) : 0;
		const uint8_t *p = data + i + 2;
		struct rte_mbuf *m = NULL;
		enum wg_sim_side side = WG_SIM_WAN;

		if (i + 2 > size)
			break;
		if (len > size - i - 2)
			len = size - i - 2;
		if (len > 1500)
			len = 1500;
		i += 2 + len;
		switch (op) {
		case 0: m = raw_frame(p, len); break;
		case 1: m = raw_frame(p, len); side = WG_SIM_LAN; break;
		case 2: m = len ? wg_sim_client_data_frame(sim, k, p, len) : NULL; break;
		case 3: m = len ? wg_sim_lan_frame(sim, p, len) : NULL; side = WG_SIM_LAN; break;
		case 4: m = wg_sim_client_udp_frame(sim, k, p, len); break;
		case 5: out += run_and_take(1 + len % 4); continue;
		case 6: m = obfs_frame(k, p, len); break;
		case 7: set_obfs(!obfs_on); continue;
		}
		if (m == NULL)
			continue;
		injected += wg_sim_inject(sim, side, &m, 1);
		frames++;
	}
	out += run_and_take(8);
	wg_sim_stats(sim, &st1);
	in1 = answered(sim);
	held1 = rte_mempool_in_use_count(wg_sim_pool(sim));
	/* Received: what was injected, and the LAN host's answers to the gateway. Of those,
	 * what neither came out nor is still held must be accounted for. */
	{
		int64_t received = (int64_t)(injected + in1 - in0);
		int64_t gone = received - (int64_t)out - ((int64_t)held1 - (int64_t)held0);

		must(st1.rx_pkts - st0.rx_pkts == (uint64_t)received, "every frame received");
		must(gone >= 0, "frames came out that were never received");
		must((uint64_t)gone <= taken_or_dropped(&st1) - taken_or_dropped(&st0),
		     "a received frame went without a reason");
	}
	return 0;
}
