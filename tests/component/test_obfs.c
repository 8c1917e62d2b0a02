/* SPDX-License-Identifier: MIT */
/*
 * AmneziaWG's obfuscation in one process (lib/sim): the gateway with AmneziaWG 1.0's
 * parameters and accept_plain, clients of both forms on one port.
 *
 *   forms     obfuscated and plain clients handshake and exchange data both ways in mixed
 *             bursts; every message the gateway sends a client is in that client's form
 *             (h1..h4 and padding for the obfuscated, 1..4 for the plain), checked on the
 *             raw frames, and the obfuscated ones never show WireGuard's patterns;
 *   junk      random datagrams of every size, plain messages while accept_plain is off,
 *             mismatched h1 and s1: each counted (OBFS_JUNK, OBFS_PLAIN) on the worker,
 *             none reaching the control lcore, while the good packets of the same bursts
 *             pass;
 *   live      h4 changed through the applier (as a UAPI set): obfuscated sessions send
 *             with the new h4 at once; a set breaking a rule is refused and changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "check.h"
#include "gw_internal.h"
#include "wg_crypto.h"
#include "wg_pkt.h"
#include "wg_sim.h"
#include "wg_uapi.h"
#include "wg_wire.h"

#define N 6     /* clients 1, 3, 5 plain (plain_every = 2) */
#define H1 1020325451u
#define H2 3288052141u
#define H3 1766607858u
#define H4 2528465083u

static const struct wg_obfs amnezia = {
	.h = { H1, H2, H3, H4 }, .s1 = 15, .s2 = 68, .jc = 4, .jmin = 40, .jmax = 70,
	.accept_plain = true,
};

static struct wg_sim *make(const struct wg_obfs *o)
{
	struct wg_sim_params p = { .n_clients = N, .obfs = o, .plain_every = 2,
				   .outer6_every = 3 };
	char err[256];
	struct wg_sim *s = wg_sim_create(&p, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "test_obfs: %s\n", err);
	return s;
}

static uint64_t drops(struct wg_sim *s, enum wg_drop d)
{
	struct wg_gw_stats st;

	wg_sim_stats(s, &st);
	return st.drops[d];
}

/* The UDP payload of a frame the gateway sent. */
static const uint8_t *payload(const struct rte_mbuf *m, size_t *len)
{
	struct wg_pkt_info pi;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);

	if (wg_pkt_parse_frame(&pi, f, rte_pktmbuf_data_len(m)) != 0 || pi.proto != 17)
		return NULL;
	*len = (size_t)(f[pi.l4_off + 4] << 8 | f[pi.l4_off + 5]) - 8;
	return f + pi.l4_off + 8;
}

/* WireGuard's patterns, as DPI rules match them. */
static bool looks_plain(const uint8_t *p, size_t len)
{
	uint32_t t = len >= 4 ? wg_get_le32(p) : 0;

	return (len == 148 && t == 1) || (len == 92 && t == 2) || t == 4;
}

/* Check and free what the gateway sent on the WAN: data in each client's form, decrypted
 * by it; returns how many data messages were good. */
static unsigned take_wan(struct wg_sim *s, uint32_t h4)
{
	struct rte_mbuf *out[64];
	unsigned n, good = 0;

	while ((n = wg_sim_collect(s, WG_SIM_WAN, out, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct wg_sim_rx rx;
			size_t len = 0;
			const uint8_t *p = payload(out[i], &len);
			enum wg_sim_rx_status st = wg_sim_client_receive(s, out[i], &rx);

			if (!CHECK(p != NULL) || !CHECK_EQ(st, WG_SIM_RX_OK))
				continue;
			if (wg_sim_client_obfuscated(s, rx.client)) {
				CHECK_EQ(wg_get_le32(p), h4);
				CHECK(!looks_plain(p, len));
			} else {
				CHECK_EQ(wg_get_le32(p), WG_MSG_DATA);
			}
			good++;
		}
		wg_sim_free(out, n);
	}
	return good;
}

static unsigned take_lan(struct wg_sim *s)
{
	struct rte_mbuf *out[64];
	unsigned n, total = 0;

	while ((n = wg_sim_collect(s, WG_SIM_LAN, out, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *ip;
			size_t len;

			total += wg_sim_lan_receive(s, out[i], &ip, &len);
		}
		wg_sim_free(out, n);
	}
	return total;
}

static struct wg_sim_pkt up(unsigned k, unsigned tag)
{
	return (struct wg_sim_pkt){ .src = wg_sim_client_tunnel_ip(k, WG_AF_INET),
		.dst = wg_sim_lan_host_ip(WG_AF_INET), .size = (uint16_t)(64 + 40 * (tag % 30)),
		.proto = WG_IPPROTO_UDP, .tag = tag };
}

static struct wg_sim_pkt down(unsigned k, unsigned tag)
{
	unsigned f = k % 2 ? WG_AF_INET : WG_AF_INET6;

	return (struct wg_sim_pkt){ .src = wg_sim_lan_host_ip(f),
		.dst = wg_sim_client_tunnel_ip(k, f), .size = (uint16_t)(80 + 33 * (tag % 40)),
		.proto = WG_IPPROTO_UDP, .tag = tag };
}

/* A burst of data from every client, and one from the LAN to every client. */
static void traffic(struct wg_sim *s, uint32_t h4, unsigned rounds)
{
	for (unsigned r = 0; r < rounds; r++) {
		struct rte_mbuf *m[2 * N];
		struct wg_sim_pkt pk[2 * N];
		unsigned ks[2 * N];

		for (unsigned i = 0; i < 2 * N; i++) {
			ks[i] = i % N;
			pk[i] = up(ks[i], r * 2 * N + i);
		}
		if (CHECK_EQ(wg_sim_client_data_frames(s, ks, pk, 2 * N, m), 2 * N))
			wg_sim_inject(s, WG_SIM_WAN, m, 2 * N);
		wg_sim_run(s, 4);
		CHECK_EQ(take_lan(s), 2 * N);
		for (unsigned i = 0; i < N; i++)
			pk[i] = down(i, r * N + i);
		if (CHECK_EQ(wg_sim_lan_frames(s, pk, N, m), N))
			wg_sim_inject(s, WG_SIM_LAN, m, N);
		wg_sim_run(s, 4);
		CHECK_EQ(take_wan(s, h4), N);
	}
}

static void test_forms(void)
{
	struct wg_sim *s = make(&amnezia);
	struct wg_gw_stats st;

	if (!CHECK(s != NULL))
		return;
	CHECK_EQ(wg_sim_handshake_all(s), N);
	wg_sim_stats(s, &st);
	CHECK_EQ(st.peers_with_session, N);
	CHECK_EQ(st.drops[WG_DROP_HS_REFUSED], 0);
	traffic(s, H4, 20);
	CHECK_EQ(drops(s, WG_DROP_OBFS_JUNK), 0);
	CHECK_EQ(drops(s, WG_DROP_DECRYPT), 0);
	wg_sim_destroy(s);
}

/* A datagram from client k with this payload. */
static struct rte_mbuf *udp(struct wg_sim *s, unsigned k, const uint8_t *p, size_t len)
{
	return wg_sim_client_udp_frame(s, k, p, len);
}

static void test_junk(void)
{
	struct wg_obfs o = amnezia;
	struct wg_sim *s;
	struct wg_gw_stats st0, st1;
	uint8_t buf[1500];
	unsigned n_junk = 0;

	o.accept_plain = false;
	s = make(&o);
	if (!CHECK(s != NULL))
		return;
	/* Plain clients cannot get in; obfuscated ones can. */
	CHECK_EQ(wg_sim_handshake(s, 0, 1), 1);
	CHECK_EQ(wg_sim_handshake(s, 1, 1), 0);
	CHECK(drops(s, WG_DROP_OBFS_PLAIN) >= 1);
	CHECK_EQ(wg_sim_handshake(s, 2, 1), 1);
	wg_sim_stats(s, &st0);
	/* Junk of every size from 0 to 1452 bytes, a mismatched h1 and s1, between data. */
	for (size_t len = 0; len <= 1452; len += 7) {
		struct rte_mbuf *m[3];
		struct wg_sim_pkt pk = up(0, (unsigned)len);
		unsigned k0 = 0, t;

		wg_random(buf, len);
		if (len >= 4 && ((t = wg_get_le32(buf)) <= 4 || t == H3 || t == H4))
			buf[0] ^= 0x80;   /* not a type by chance */
		m[0] = udp(s, 0, buf, len);
		n_junk++;
		if (!CHECK_EQ(wg_sim_client_data_frames(s, &k0, &pk, 1, &m[1]), 1))
			continue;
		m[2] = wg_sim_client_data_frame(s, 2, NULL, 0);   /* a keepalive */
		wg_sim_inject(s, WG_SIM_WAN, m, 3);
		wg_sim_run(s, 2);
		CHECK_EQ(take_lan(s), 1);
	}
	/* An initiation of the right size with a wrong h1, and one with s1 + 1 bytes. */
	memset(buf, 0xab, sizeof(buf));
	wg_put_le32(buf + 15, H1 + 1);
	{
		struct rte_mbuf *m[2] = { udp(s, 0, buf, 148 + 15), NULL };

		wg_put_le32(buf + 16, H1);
		m[1] = udp(s, 0, buf, 148 + 16);
		wg_sim_inject(s, WG_SIM_WAN, m, 2);
		n_junk += 2;
	}
	wg_sim_run(s, 4);
	wg_sim_discard(s);
	wg_sim_stats(s, &st1);
	CHECK_EQ(st1.drops[WG_DROP_OBFS_JUNK] - st0.drops[WG_DROP_OBFS_JUNK], n_junk);
	CHECK_EQ(st1.hs_initiations_rx, st0.hs_initiations_rx);   /* nothing reached DH */
	CHECK_EQ(st1.drops[WG_DROP_WG_BAD_MAC1], st0.drops[WG_DROP_WG_BAD_MAC1]);
	CHECK_EQ(st1.keepalives_rx - st0.keepalives_rx, (1452 / 7) + 1);
	wg_sim_destroy(s);
}

static int apply(struct wg_sim *s, const char *body)
{
	struct wg_uapi_set set;
	char why[WG_UAPI_WHY_LEN];
	int rc = wg_uapi_parse_set(&set, body, strlen(body), why, sizeof(why));

	if (rc == 0)
		rc = wg_gw_apply(wg_sim_gw(s), &set, why, sizeof(why));
	wg_uapi_set_free(&set);
	return rc;
}

static void test_live(void)
{
	struct wg_sim *s = make(&amnezia);
	struct wg_gw *gw;

	if (!CHECK(s != NULL))
		return;
	gw = wg_sim_gw(s);
	CHECK_EQ(wg_sim_handshake_all(s), N);
	traffic(s, H4, 1);
	/* Refused as a whole: h2 = h1, and s1 + 56 = s2. */
	CHECK_EQ(apply(s, "h4=99\nh2=1020325451\n"), EINVAL);
	CHECK_EQ(apply(s, "s1=10\ns2=66\n"), EINVAL);
	CHECK_EQ(gw->cfg.obfs.h[3], H4);
	CHECK_EQ(gw->cfg.obfs.s1, 15);
	/* A new h4: obfuscated sessions send with it at once, plain ones keep 4. The sim's
	 * clients still expect the old one, so only the raw frames are checked. */
	CHECK_EQ(apply(s, "h4=77777\n"), 0);
	CHECK_EQ(gw->cfg.obfs.h[3], 77777);
	{
		struct wg_sim_pkt pk[N];
		struct rte_mbuf *m[N], *out[64];
		unsigned n, seen = 0;

		for (unsigned i = 0; i < N; i++)
			pk[i] = down(i, i);
		if (CHECK_EQ(wg_sim_lan_frames(s, pk, N, m), N))
			wg_sim_inject(s, WG_SIM_LAN, m, N);
		wg_sim_run(s, 4);
		while ((n = wg_sim_collect(s, WG_SIM_WAN, out, 64)) > 0) {
			for (unsigned i = 0; i < n; i++) {
				size_t len;
				const uint8_t *p = payload(out[i], &len);
				uint32_t t = p ? wg_get_le32(p) : 0;

				CHECK(t == 77777 || t == WG_MSG_DATA);
				seen += t == 77777;
			}
			wg_sim_free(out, n);
		}
		CHECK_EQ(seen, N / 2);
	}
	/* Back to plain WireGuard: nothing published, every form plain. */
	CHECK_EQ(apply(s, "h1=0\nh2=0\nh3=0\nh4=0\ns1=0\ns2=0\njc=0\njmin=0\njmax=0\n"), 0);
	CHECK(atomic_load(&gw->obfs) == NULL);
	wg_sim_destroy(s);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (wg_sim_eal_init(argv[0], 512, 0) != 0)
		return 1;
	test_forms();
	test_junk();
	test_live();
	wg_sim_eal_cleanup();
	return check_report("test_obfs");
}
