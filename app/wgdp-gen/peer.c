/* SPDX-License-Identifier: MIT */
/*
 * The played peers: each is the protocol core's device with the server as its one peer,
 * as lib/sim's clients and tests/interop are, so the server meets a real client's
 * handshake. A peer's receiver indices carry its number in their low 20 bits: whatever
 * the server sends finds its peer without a search. Also what comes back on the wan
 * port: handshake responses, cookie replies, and data, decrypted in bursts and checked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>

#include "gen.h"
#include "wg_crypto.h"
#include "wg_pkt.h"

/* ---- the protocol core's callbacks: one peer (the server), one handshake index ---- */

static uint32_t cb_index_new(void *ctx, struct wg_noise_peer *peer)
{
	struct gen_peer *p = ctx;

	(void)peer;
	p->index_gen = p->index_gen % 4095 + 1;
	p->hs_index = p->index_gen << GEN_ID_BITS | p->id;
	return p->hs_index;
}

static void cb_index_drop(void *ctx, uint32_t index)
{
	struct gen_peer *p = ctx;

	if (p->hs_index == index)
		p->hs_index = 0;
}

static struct wg_noise_peer *cb_peer_by_key(void *ctx, const uint8_t key[WG_KEY_LEN])
{
	struct gen_peer *p = ctx;

	return memcmp(key, p->srv.remote_static, WG_KEY_LEN) == 0 ? &p->srv : NULL;
}

static struct wg_noise_peer *cb_peer_by_index(void *ctx, uint32_t index)
{
	struct gen_peer *p = ctx;

	return index && index == p->hs_index ? &p->srv : NULL;
}

static const struct wg_noise_callbacks callbacks = {
	.index_new = cb_index_new,
	.index_drop = cb_index_drop,
	.peer_by_key = cb_peer_by_key,
	.peer_by_index = cb_peer_by_index,
};

/* ---- keys ---- */

/* Private keys, one per line in base64 as `wg genkey` prints them; blank lines and lines
 * starting with # are skipped. */
static int read_keys(const char *path, uint8_t (*keys)[WG_KEY_LEN], unsigned n, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned got = 0, lineno = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (got < n && fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\r\n");

		lineno++;
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			len--;
		if (len == 0 || line[0] == '#')
			continue;
		if (wg_key_from_base64(keys[got], line, len) != 0) {
			snprintf(err, errlen, "%s:%u: not a base64 key", path, lineno);
			fclose(f);
			return -1;
		}
		got++;
	}
	fclose(f);
	if (got < n) {
		snprintf(err, errlen, "%s holds %u keys, %u peers asked for", path, got, n);
		return -1;
	}
	return 0;
}

int gen_peers_init(struct gen *g, char *err, size_t errlen)
{
	unsigned n = g->o.n_peers;
	uint8_t (*keys)[WG_KEY_LEN] = calloc(n, WG_KEY_LEN);
	int rc = 0;

	g->peers = calloc(n, sizeof(*g->peers));
	g->sess = calloc(n, sizeof(*g->sess));
	g->pst = calloc(n, sizeof(*g->pst));
	g->flows[GEN_UP] = calloc(n, sizeof(struct wg_gen_flow));
	g->flows[GEN_DOWN] = calloc(n, sizeof(struct wg_gen_flow));
	if (!keys || !g->peers || !g->sess || !g->pst || !g->flows[0] || !g->flows[1]) {
		snprintf(err, errlen, "out of memory for %u peers", n);
		free(keys);
		return -1;
	}
	if (g->o.keys_file && read_keys(g->o.keys_file, keys, n, err, errlen) != 0) {
		wg_wipe(keys, (size_t)n * WG_KEY_LEN);
		free(keys);
		return -1;
	}
	for (unsigned k = 0; k < n && rc == 0; k++) {
		struct gen_peer *p = &g->peers[k];
		uint8_t pub[WG_KEY_LEN];

		p->id = k;
		if (!g->o.keys_file)
			wg_x25519_generate(keys[k], pub);
		if (wg_noise_device_init(&p->dev, keys[k], &callbacks, p) != 0 ||
		    (g->o.have_server_pub &&
		     wg_noise_peer_init(&p->dev, &p->srv, g->o.server_pub, NULL, p) != WG_OK)) {
			snprintf(err, errlen, "peer %u: cannot set up its keys", k);
			rc = -1;
		}
	}
	wg_wipe(keys, (size_t)n * WG_KEY_LEN);
	free(keys);
	return rc;
}

void gen_peers_free(struct gen *g)
{
	if (g->peers) {
		for (unsigned k = 0; k < g->o.n_peers; k++) {
			wg_noise_device_wipe(&g->peers[k].dev);
			for (unsigned i = 0; i < GEN_KEYPAIRS; i++)
				wg_keypair_wipe(&g->peers[k].kps[i]);
		}
		wg_wipe(g->peers, (size_t)g->o.n_peers * sizeof(*g->peers));
	}
	free(g->peers);
	free(g->sess);
	free(g->pst);
	free(g->flows[0]);
	free(g->flows[1]);
}

/* The server's side of the peers, in wg(8)'s format: `wg addconf IFACE FILE` loads it into
 * wireguard-go, the kernel or wgdp alike. */
int gen_peers_write(const struct gen *g, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "# %u peers played by wgdp-gen: wg addconf IFACE %s\n", g->o.n_peers, path);
	for (unsigned k = 0; k < g->o.n_peers; k++) {
		char b64[WG_KEY_B64_LEN + 1];
		uint8_t ip[4];

		wg_key_to_base64(b64, g->peers[k].dev.static_public);
		gen_ip_add(ip, g->o.tun_ip, k);
		fprintf(f, "\n[Peer]\nPublicKey = %s\nAllowedIPs = %u.%u.%u.%u/32\n", b64, ip[0],
			ip[1], ip[2], ip[3]);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- keypairs ---- */

static struct wg_keypair *free_keypair(struct gen_peer *p)
{
	for (unsigned i = 0; i < GEN_KEYPAIRS; i++)
		if (p->kps[i].peer == NULL)
			return &p->kps[i];
	return NULL;
}

static void retire(struct wg_keypair **kps, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		wg_keypair_wipe(kps[i]);
		kps[i]->peer = NULL;
	}
}

static struct wg_keypair *keypair_by_index(struct gen_peer *p, uint32_t index)
{
	struct wg_keypair_slots *sl = &p->srv.keypairs;
	struct wg_keypair *all[3] = { sl->current, sl->previous, sl->next };

	for (int i = 0; i < 3; i++)
		if (all[i] && all[i]->local_index == index)
			return all[i];
	return NULL;
}

bool gen_sessions_young(const struct gen *g, uint64_t max_age_ns)
{
	uint64_t now = gen_now_ns();

	for (unsigned k = 0; k < g->o.n_peers; k++)
		if (g->peers[k].srv.keypairs.current == NULL ||
		    now - g->peers[k].session_ns > max_age_ns)
			return false;
	return true;
}

/* The pools' sessions from the current keypairs; each pool then starts at the keypair's
 * next counter (gen_sessions_advance moves it past the pool). */
void gen_sessions_snapshot(struct gen *g)
{
	for (unsigned k = 0; k < g->o.n_peers; k++) {
		struct wg_keypair *kp = g->peers[k].srv.keypairs.current;

		g->sess[k] = (struct wg_gen_session){ 0 };
		if (kp == NULL)
			continue;
		g->sess[k].key = kp->send_key;
		g->sess[k].remote_index = kp->remote_index;
		g->sess[k].first_counter = atomic_load(&kp->send_counter);
	}
}

void gen_sessions_advance(struct gen *g, const struct wg_gen_plan *pl, uint64_t n)
{
	for (unsigned k = 0; k < g->o.n_peers; k++) {
		struct wg_keypair *kp = g->peers[k].srv.keypairs.current;

		if (kp && g->sess[k].key == kp->send_key)
			atomic_store(&kp->send_counter,
				     g->sess[k].first_counter + wg_gen_peer_count(pl, n, k));
	}
}

/* ---- handshakes ---- */

static void peer_frame(struct gen *g, unsigned k, uint8_t *f, size_t msg_len)
{
	uint8_t ip[4];
	uint8_t *iph = f + WG_ETH_HLEN, *udp = iph + WG_IPV4_HLEN;
	uint16_t c;

	gen_ip_add(ip, g->o.peer_ip, k);
	wg_gen_outer_template(f, g->o.server_mac, g->mac[GEN_WAN], ip, g->o.server_ip,
			      g->o.peer_port, g->o.server_port);
	iph[2] = (uint8_t)((WG_IPV4_HLEN + 8 + msg_len) >> 8);
	iph[3] = (uint8_t)(WG_IPV4_HLEN + 8 + msg_len);
	c = wg_csum_ipv4_header(iph, WG_IPV4_HLEN);
	iph[10] = (uint8_t)(c >> 8);
	iph[11] = (uint8_t)c;
	udp[4] = (uint8_t)((8 + msg_len) >> 8);
	udp[5] = (uint8_t)(8 + msg_len);
}

static void send_msg(struct gen *g, unsigned k, const void *msg, size_t len)
{
	uint8_t *f;
	struct rte_mbuf *m = gen_ctl_alloc(g, WG_GEN_OUTER_LEN + len, &f);

	if (m == NULL)
		return;
	peer_frame(g, k, f, len);
	memcpy(f + WG_GEN_OUTER_LEN, msg, len);
	gen_ctl_send(g, GEN_WAN, m);
}

/* TAI64N timestamps must increase per peer; the core rounds them to 2^24 ns, so a second
 * initiation within that step gets the next step. */
static void next_timestamp(struct gen_peer *p, uint8_t ts[WG_TIMESTAMP_LEN])
{
	struct timespec now;
	uint64_t ns;

	clock_gettime(CLOCK_REALTIME, &now);
	ns = (uint64_t)now.tv_sec * WG_NSEC_PER_SEC + (uint64_t)now.tv_nsec;
	if (ns < p->last_ts_ns + (1u << 24))
		ns = p->last_ts_ns + (1u << 24);
	p->last_ts_ns = ns;
	wg_tai64n(ts, ns / WG_NSEC_PER_SEC, (uint32_t)(ns % WG_NSEC_PER_SEC));
}

static void send_initiation(struct gen *g, unsigned k)
{
	struct gen_peer *p = &g->peers[k];
	struct wg_msg_initiation init;
	uint8_t ts[WG_TIMESTAMP_LEN];
	uint64_t now = gen_now_ns();

	next_timestamp(p, ts);
	if (wg_noise_create_initiation(&p->dev, &p->srv, &init, ts, now) != WG_OK)
		return;
	p->hs_sent_ns = now;
	p->waiting = true;
	send_msg(g, k, &init, sizeof(init));
}

/* A keepalive on the new session: the responder takes a session into use only once the
 * initiator has sent on it. */
static void send_keepalive(struct gen *g, unsigned k)
{
	struct wg_keypair *kp = g->peers[k].srv.keypairs.current;
	uint8_t msg[WG_MSG_DATA_MIN_LEN], nonce[WG_AEAD_NONCE_LEN];
	uint64_t counter;

	if (kp == NULL)
		return;
	counter = atomic_fetch_add(&kp->send_counter, 1);
	wg_put_le32(msg, WG_MSG_DATA);
	wg_put_le32(msg + 4, kp->remote_index);
	wg_put_le64(msg + 8, counter);
	wg_aead_nonce(nonce, counter);
	if (wg_aead_encrypt(g->aead[rte_lcore_id()], msg + WG_MSG_DATA_HEADER_LEN, msg, 0, NULL,
			    0, nonce, kp->send_key))
		send_msg(g, k, msg, sizeof(msg));
}

static void take_response(struct gen *g, unsigned k, const uint8_t *msg, size_t len)
{
	struct gen_peer *p = &g->peers[k];
	struct wg_noise_peer *srv;
	struct wg_keypair *kp, *retired[3];
	uint64_t now = gen_now_ns();
	enum wg_result r = wg_noise_consume_response(&p->dev, msg, len, &srv);

	if (r != WG_OK || (kp = free_keypair(p)) == NULL ||
	    wg_noise_begin_session(srv, kp, now) != WG_OK) {
		g->c.hs_refused++;
		return;
	}
	retire(retired, wg_keypairs_add(&p->srv.keypairs, kp, retired));
	p->session_ns = now;
	p->waiting = false;
}

static void take_cookie(struct gen *g, unsigned k, const uint8_t *msg, size_t len)
{
	struct gen_peer *p = &g->peers[k];

	if (!p->waiting ||
	    wg_cookie_consume_reply(&p->srv.cookie, msg, len, gen_now_ns()) != WG_OK) {
		g->c.hs_refused++;
		return;
	}
	g->c.cookies++;
	send_initiation(g, k);      /* with mac2 now: the server is under load */
}

static unsigned handshake_chunk(struct gen *g, unsigned first, unsigned n)
{
	unsigned done = 0;

	for (unsigned t = 0; t < g->o.hs_tries && done < n && !atomic_load(&g->stop); t++) {
		uint64_t deadline;

		for (unsigned k = first; k < first + n; k++) {
			struct gen_peer *p = &g->peers[k];

			/* the server refuses initiations closer than 20 ms from one peer */
			if (p->waiting) {
				while (gen_now_ns() - p->hs_sent_ns < 21000000ull)
					gen_rx_poll(g);
				send_initiation(g, k);
			}
		}
		deadline = gen_now_ns() + (uint64_t)g->o.hs_timeout_ms * 1000000ull;
		do {
			gen_rx_poll(g);
			done = 0;
			for (unsigned k = first; k < first + n; k++)
				done += !g->peers[k].waiting;
		} while (done < n && gen_now_ns() < deadline && !atomic_load(&g->stop));
	}
	for (unsigned k = first; k < first + n; k++)
		if (!g->peers[k].waiting)
			send_keepalive(g, k);
	return done;
}

unsigned gen_handshake_all(struct gen *g)
{
	unsigned done = 0;

	for (unsigned k = 0; k < g->o.n_peers; k++)
		g->peers[k].waiting = true;
	for (unsigned off = 0; off < g->o.n_peers; off += g->o.hs_chunk) {
		unsigned n = g->o.n_peers - off < g->o.hs_chunk ? g->o.n_peers - off : g->o.hs_chunk;

		done += handshake_chunk(g, off, n);
	}
	/* let the keepalives reach the server before data follows them */
	for (uint64_t until = gen_now_ns() + 50000000ull; gen_now_ns() < until;)
		gen_rx_poll(g);
	return done;
}

/* ---- what comes back on the wan port ---- */

/* Which peer a frame from the server is for: its UDP destination must be one of ours. */
static const uint8_t *from_server(const struct gen *g, const struct rte_mbuf *m,
				  size_t *len, unsigned *k)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	struct wg_pkt_info pi;
	uint32_t off;

	if (m->nb_segs != 1 || wg_pkt_parse_frame(&pi, f, rte_pktmbuf_data_len(m)) != 0 ||
	    pi.family != WG_AF_INET || pi.proto != WG_IPPROTO_UDP || pi.fragment ||
	    memcmp(pi.src.addr, g->o.server_ip, 4) != 0 || pi.sport != g->o.server_port ||
	    pi.dport != g->o.peer_port)
		return NULL;
	off = ((uint32_t)pi.dst.addr[0] << 24 | (uint32_t)pi.dst.addr[1] << 16 |
	       (uint32_t)pi.dst.addr[2] << 8 | pi.dst.addr[3]) -
	      ((uint32_t)g->o.peer_ip[0] << 24 | (uint32_t)g->o.peer_ip[1] << 16 |
	       (uint32_t)g->o.peer_ip[2] << 8 | g->o.peer_ip[3]);
	if (off >= g->o.n_peers || pi.l3_len < pi.l4_off - pi.l3_off + 8u)
		return NULL;
	*k = off;
	*len = pi.l3_off + pi.l3_len - pi.l4_off - 8u;
	return f + pi.l4_off + 8;
}

struct data_in {
	unsigned k;
	struct wg_keypair *kp;
	uint64_t counter;
};

static void open_data(struct gen *g, struct wg_aead_op *ops, struct data_in *in, unsigned n,
		      uint64_t tsc)
{
	if (n == 0)
		return;
	wg_aead_decrypt_burst(g->aead[rte_lcore_id()], ops, n);
	for (unsigned i = 0; i < n; i++) {
		struct wg_keypair *retired[3];
		const uint8_t *ip = ops[i].buf;
		uint32_t len, plain = ops[i].len;

		if (!ops[i].ok) {
			g->c.decrypt_failed++;
			continue;
		}
		if (!wg_replay_update(&in[i].kp->replay, in[i].counter)) {
			g->c.replay++;
			continue;
		}
		retire(retired, wg_keypairs_received(&g->peers[in[i].k].srv.keypairs, in[i].kp,
						     retired));
		if (plain == 0) {
			g->c.keepalives++;
			continue;
		}
		/* padded to 16, or less where the server's MTU stopped it; zeros */
		len = plain >= WG_IPV4_HLEN && ip[0] >> 4 == 4 ? (uint32_t)(ip[2] << 8 | ip[3]) : 0;
		if (len == 0 || len > plain || plain > wg_gen_padded(len, UINT32_MAX) ||
		    !wg_is_zero(ip + len, plain - len)) {
			g->c.bad_padding++;
			continue;
		}
		gen_account(g, GEN_DOWN, ip, len, in[i].k, tsc);
	}
}

void gen_rx_wan(struct gen *g, struct rte_mbuf **m, unsigned n, uint64_t tsc)
{
	struct wg_aead_op ops[GEN_BURST];
	struct data_in in[GEN_BURST];
	unsigned nd = 0;

	for (unsigned i = 0; i < n; i++) {
		size_t len;
		unsigned k, type;
		const uint8_t *msg;
		struct wg_keypair *kp;

		if (gen_arp(g, GEN_WAN, rte_pktmbuf_mtod(m[i], const uint8_t *),
			    rte_pktmbuf_data_len(m[i])))
			continue;
		if ((msg = from_server(g, m[i], &len, &k)) == NULL || len < 4) {
			g->c.not_ours++;
			continue;
		}
		type = wg_get_le32(msg);
		if (type == WG_MSG_RESPONSE && len == WG_MSG_RESPONSE_LEN &&
		    (wg_get_le32(msg + 8) & GEN_ID_MASK) == k) {
			take_response(g, k, msg, len);
		} else if (type == WG_MSG_COOKIE_REPLY && len == WG_MSG_COOKIE_REPLY_LEN &&
			   (wg_get_le32(msg + 4) & GEN_ID_MASK) == k) {
			take_cookie(g, k, msg, len);
		} else if (type == WG_MSG_DATA && len >= WG_MSG_DATA_MIN_LEN && nd < GEN_BURST) {
			uint32_t idx = wg_get_le32(msg + 4);
			uint64_t counter = wg_get_le64(msg + 8);

			if ((idx & GEN_ID_MASK) != k ||
			    (kp = keypair_by_index(&g->peers[k], idx)) == NULL) {
				g->c.unknown_index++;
				continue;
			}
			if (!wg_replay_check(&kp->replay, counter)) {
				g->c.replay++;
				continue;
			}
			ops[nd] = (struct wg_aead_op){ .key = kp->recv_key,
						       .buf = (uint8_t *)msg + WG_MSG_DATA_HEADER_LEN,
						       .len = (uint32_t)(len - WG_MSG_DATA_MIN_LEN) };
			wg_aead_nonce(ops[nd].nonce, counter);
			in[nd++] = (struct data_in){ .k = k, .kp = kp, .counter = counter };
		} else {
			g->c.handshake_other++;
		}
	}
	open_data(g, ops, in, nd, tsc);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A packet of ours came out: which one, from whom, how late. `peer` is the peer the
 * transport says it is for (down: the receiver index), or UINT32_MAX to take it from the
 * inner source address (up: what the server forwarded in plaintext). */
void gen_account(struct gen *g, unsigned dir, const uint8_t *ip, size_t len, unsigned peer,
		 uint64_t tsc)
{
	struct gen_dir_stats *st = &g->st[dir];
	struct gen_pool *pl = &g->pool[dir];
	struct wg_gen_mark mk;
	uint64_t sent_at, ns;

	if (!wg_gen_read_mark(ip, len, &mk) || mk.dir != dir) {
		st->bad++;
		return;
	}
	if (mk.run != g->run || mk.index >= pl->n || mk.peer >= g->o.n_peers) {
		st->stale++;
		return;
	}
	if (peer == UINT32_MAX)
		peer = be32(ip + 12) - be32(g->o.tun_ip);
	if (peer != mk.peer || mk.index % g->o.n_peers != mk.peer) {
		st->wrong_peer++;
		return;
	}
	if (pl->seen[mk.index >> 3] & (1u << (mk.index & 7))) {
		st->dup++;
		return;
	}
	pl->seen[mk.index >> 3] |= (uint8_t)(1u << (mk.index & 7));
	st->received++;
	st->bytes += len;
	g->pst[peer].received[dir]++;
	sent_at = __atomic_load_n(&pl->tx_tsc[mk.index], __ATOMIC_ACQUIRE);
	if (sent_at == 0 || tsc < sent_at)
		return;
	ns = (uint64_t)((double)(tsc - sent_at) * 1e9 / (double)g->tsc_hz);
	wg_gen_hist_add(&st->lat, ns);
	wg_gen_hist_add(&g->pst[peer].lat[dir], ns);
}
