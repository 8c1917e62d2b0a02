/* SPDX-License-Identifier: MIT */
/*
 * The simulated WireGuard clients: each is the protocol core's device with the gateway as
 * its one peer (as tests/interop/wg_interop.c builds one), so the gateway meets the same
 * handshake and data messages a real client sends. A client's receiver indices carry its
 * number in their low 20 bits and its MAC address carries it too, so whatever the gateway
 * sends finds its client without a search.
 */
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sim_priv.h"
#include "wg_crypto.h"
#include "wg_pkt.h"

#define HS_CHUNK  32      /* initiations in flight at once: below the gateway's load mark */
#define HS_ROUNDS 64      /* polls without a response before a chunk gives up */

/* ---- the protocol core's callbacks: one peer, one handshake index ---- */

static uint32_t cb_index_new(void *ctx, struct wg_noise_peer *peer)
{
	struct sim_client *c = ctx;

	(void)peer;
	c->index_gen = c->index_gen % 4095 + 1;   /* 1..4095: an index is never zero */
	c->hs_index = c->index_gen << SIM_CLIENT_ID_BITS | c->id;
	return c->hs_index;
}

static void cb_index_drop(void *ctx, uint32_t index)
{
	struct sim_client *c = ctx;

	if (c->hs_index == index)
		c->hs_index = 0;
}

static struct wg_noise_peer *cb_peer_by_key(void *ctx, const uint8_t key[WG_KEY_LEN])
{
	struct sim_client *c = ctx;

	return memcmp(key, c->peer.remote_static, WG_KEY_LEN) == 0 ? &c->peer : NULL;
}

static struct wg_noise_peer *cb_peer_by_index(void *ctx, uint32_t index)
{
	struct sim_client *c = ctx;

	return index && index == c->hs_index ? &c->peer : NULL;
}

static const struct wg_noise_callbacks callbacks = {
	.index_new = cb_index_new,
	.index_drop = cb_index_drop,
	.peer_by_key = cb_peer_by_key,
	.peer_by_index = cb_peer_by_index,
};

int sim_clients_init(struct wg_sim *s, char *err, size_t errlen)
{
	uint8_t priv[WG_KEY_LEN];

	s->clients = calloc(s->n_clients ? s->n_clients : 1, sizeof(*s->clients));
	if (s->clients == NULL) {
		snprintf(err, errlen, "out of memory for %u clients", s->n_clients);
		return -1;
	}
	for (unsigned k = 0; k < s->n_clients; k++) {
		struct sim_client *c = &s->clients[k];

		c->id = k;
		wg_x25519_generate(priv, c->public_key);
		if (wg_noise_device_init(&c->dev, priv, &callbacks, c) != 0 ||
		    wg_noise_peer_init(&c->dev, &c->peer, s->gw_public, NULL, c) != WG_OK) {
			wg_wipe(priv, sizeof(priv));
			snprintf(err, errlen, "client %u: cannot set up its keys", k);
			return -1;
		}
	}
	wg_wipe(priv, sizeof(priv));
	return 0;
}

void sim_clients_free(struct wg_sim *s)
{
	if (s->clients == NULL)
		return;
	for (unsigned k = 0; k < s->n_clients; k++) {
		wg_noise_device_wipe(&s->clients[k].dev);
		wg_wipe(&s->clients[k].peer, sizeof(s->clients[k].peer));
		for (unsigned i = 0; i < SIM_KEYPAIRS; i++)
			wg_keypair_wipe(&s->clients[k].kps[i]);
	}
	free(s->clients);
	s->clients = NULL;
}

bool wg_sim_client_has_session(const struct wg_sim *s, unsigned k)
{
	return k < s->n_clients && s->clients[k].peer.keypairs.current != NULL;
}

/* ---- keypairs ---- */

static struct wg_keypair *free_keypair(struct sim_client *c)
{
	for (unsigned i = 0; i < SIM_KEYPAIRS; i++)
		if (c->kps[i].peer == NULL)
			return &c->kps[i];
	return NULL;
}

/* The core hands back the keypairs it retires; with no other reader they go at once. */
static void retire(struct wg_keypair **kps, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		wg_keypair_wipe(kps[i]);
		kps[i]->peer = NULL;
	}
}

static struct wg_keypair *keypair_by_index(struct sim_client *c, uint32_t index)
{
	struct wg_keypair_slots *sl = &c->peer.keypairs;
	struct wg_keypair *all[3] = { sl->next, sl->current, sl->previous };

	for (int i = 0; i < 3; i++)
		if (all[i] && all[i]->local_index == index)
			return all[i];
	return NULL;
}

/* ---- what the gateway sends ---- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The client a frame is for, from the MAC address it was sent to; -1 if none. */
static int client_of(const struct wg_sim *s, const uint8_t *frame)
{
	uint8_t mac[6];
	unsigned k = (unsigned)frame[3] << 16 | (unsigned)frame[4] << 8 | frame[5];

	wg_sim_client_mac(k, mac);
	return k < s->n_clients && memcmp(frame, mac, 6) == 0 ? (int)k : -1;
}

/* The outer headers the gateway must write towards client k. */
static bool outer_ok(const struct wg_sim *s, unsigned k, const struct wg_pkt_info *pi,
		     const uint8_t *frame)
{
	struct wg_endpoint ep = wg_sim_client_endpoint(s, k);
	struct wg_ip gw = wg_sim_gw_ip(WG_SIM_WAN, ep.ip.family);
	const uint8_t *udp = frame + pi->l4_off;
	uint16_t udp_len = get16(udp + 4);
	bool csum_needed = pi->family == WG_AF_INET6 || get16(udp + 6) != 0;

	return memcmp(frame + 6, s->gw_mac[WG_SIM_WAN], 6) == 0 &&
		wg_ip_equal(&pi->dst, &ep.ip) && pi->dport == ep.port &&
		wg_ip_equal(&pi->src, &gw) && pi->sport == WG_SIM_LISTEN_PORT &&
		(!csum_needed || wg_csum_l4(&pi->src, &pi->dst, WG_IPPROTO_UDP, udp, udp_len) == 0);
}

/* The WireGuard message of a UDP frame; NULL if it is none. */
const uint8_t *sim_wg_payload(const struct rte_mbuf *m, struct wg_pkt_info *pi, size_t *len)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t udp_len;

	if (m->nb_segs != 1 || wg_pkt_parse_frame(pi, f, rte_pktmbuf_data_len(m)) != 0 ||
	    pi->family == 0 || pi->proto != WG_IPPROTO_UDP || pi->fragment)
		return NULL;
	udp_len = get16(f + pi->l4_off + 4);
	if (udp_len < 8 || pi->l4_off + udp_len > pi->l3_off + pi->l3_len)
		return NULL;
	*len = udp_len - 8u;
	return f + pi->l4_off + 8;
}

/* How the protocol pads a packet of len bytes: to 16, but not past the MTU. */
static uint32_t padded_len(uint32_t len)
{
	uint32_t p = (len + WG_DATA_PADDING - 1) / WG_DATA_PADDING * WG_DATA_PADDING;

	return p > WG_SIM_MTU ? (len > WG_SIM_MTU ? len : WG_SIM_MTU) : p;
}

/* The IP length of a decrypted packet, if the padding after it is what it must be. */
static bool strip_padding(const uint8_t *p, uint32_t plain, uint32_t *ip_len)
{
	uint32_t n;

	if (plain < 1)
		return false;
	if (p[0] >> 4 == 4 && plain >= WG_IPV4_HLEN)
		n = get16(p + 2);
	else if (p[0] >> 4 == 6 && plain >= WG_IPV6_HLEN)
		n = WG_IPV6_HLEN + get16(p + 4);
	else
		return false;
	if (n > plain || padded_len(n) != plain)
		return false;
	for (uint32_t i = n; i < plain; i++)
		if (p[i])
			return false;
	*ip_len = n;
	return true;
}

static enum wg_sim_rx_status open_data(struct wg_sim *s, struct sim_client *c,
				       const uint8_t *msg, size_t len, struct wg_sim_rx *rx)
{
	struct wg_keypair *kp, *retired[3];
	struct wg_aead_op op;

	if (len < WG_MSG_DATA_MIN_LEN || len - WG_MSG_DATA_HEADER_LEN > sizeof(rx->data))
		return WG_SIM_RX_NOT_WG;
	kp = keypair_by_index(c, wg_get_le32(msg + 4));
	if (kp == NULL)
		return WG_SIM_RX_UNKNOWN_INDEX;
	rx->counter = wg_get_le64(msg + 8);
	if (!wg_replay_check(&kp->replay, rx->counter))
		return WG_SIM_RX_REPLAY;
	memcpy(rx->data, msg + WG_MSG_DATA_HEADER_LEN, len - WG_MSG_DATA_HEADER_LEN);
	op = (struct wg_aead_op){ .key = kp->recv_key, .buf = rx->data,
				  .len = (uint32_t)(len - WG_MSG_DATA_MIN_LEN) };
	wg_aead_nonce(op.nonce, rx->counter);
	if (wg_aead_decrypt_burst(s->aead, &op, 1) != 1)
		return WG_SIM_RX_DECRYPT;
	if (!wg_replay_update(&kp->replay, rx->counter))
		return WG_SIM_RX_REPLAY;
	retire(retired, wg_keypairs_received(&c->peer.keypairs, kp, retired));
	rx->len = 0;
	if (op.len && !strip_padding(rx->data, op.len, &rx->len))
		return WG_SIM_RX_BAD_PADDING;
	return WG_SIM_RX_OK;
}

bool wg_sim_client_obfuscated(const struct wg_sim *s, unsigned k)
{
	return s->obfs_on && !(s->plain_every && k % s->plain_every == s->plain_every - 1);
}

/* A message as client k reads it: its type (0: none of the client's form), the padding
 * of an obfuscated handshake stripped off. */
static unsigned client_view(const struct wg_sim *s, int k, const uint8_t **msg, size_t *len)
{
	size_t off;
	bool obfs;
	unsigned t;

	if (k < 0 || !wg_sim_client_obfuscated(s, (unsigned)k))
		return wg_msg_type(*msg, *len);
	t = wg_obfs_classify(&s->obfs, *msg, *len, &off, &obfs);
	if (t < WG_MSG_INITIATION || t > WG_MSG_DATA || !obfs)
		return 0;
	*msg += off;
	*len -= off;
	return t;
}

enum wg_sim_rx_status wg_sim_client_receive(struct wg_sim *s, const struct rte_mbuf *m,
					    struct wg_sim_rx *rx)
{
	struct wg_pkt_info pi;
	size_t len;
	const uint8_t *msg = sim_wg_payload(m, &pi, &len);
	int k;

	memset(rx, 0, offsetof(struct wg_sim_rx, data));
	if (msg == NULL || pi.sport != WG_SIM_LISTEN_PORT)
		return WG_SIM_RX_NOT_WG;
	k = client_of(s, rte_pktmbuf_mtod(m, const uint8_t *));
	if ((rx->type = client_view(s, k, &msg, &len)) == 0)
		return WG_SIM_RX_NOT_WG;
	if (k < 0 || !outer_ok(s, (unsigned)k, &pi, rte_pktmbuf_mtod(m, const uint8_t *)))
		return WG_SIM_RX_BAD_OUTER;
	rx->client = (unsigned)k;
	if (rx->type != WG_MSG_DATA)
		return WG_SIM_RX_HANDSHAKE;
	return open_data(s, &s->clients[k], msg, len, rx);
}

const char *wg_sim_rx_status_str(enum wg_sim_rx_status st)
{
	static const char *const names[] = {
		[WG_SIM_RX_OK] = "ok", [WG_SIM_RX_HANDSHAKE] = "handshake message",
		[WG_SIM_RX_NOT_WG] = "not a WireGuard message",
		[WG_SIM_RX_BAD_OUTER] = "wrong outer headers",
		[WG_SIM_RX_UNKNOWN_INDEX] = "unknown receiver index",
		[WG_SIM_RX_REPLAY] = "replayed counter", [WG_SIM_RX_DECRYPT] = "bad tag",
		[WG_SIM_RX_BAD_PADDING] = "bad padding",
	};

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

/* ---- data messages from clients ---- */

/* Lay out one data message from client k in a new frame; its op is filled for the
 * encryption that follows. NULL without a session or a buffer. */
static struct rte_mbuf *data_frame(struct wg_sim *s, unsigned k, const uint8_t *ip,
				   uint16_t len, struct wg_aead_op *op)
{
	struct wg_keypair *kp = k < s->n_clients ? s->clients[k].peer.keypairs.current : NULL;
	uint32_t padded = len ? padded_len(len) : 0;
	size_t msg_len = WG_MSG_DATA_MIN_LEN + padded, hdr;
	struct rte_mbuf *m;
	uint8_t *f, *msg;
	uint64_t counter;

	if (kp == NULL || padded > WG_SIM_MAX_PKT)
		return NULL;
	hdr = sim_client_hdr_len(s, k);
	if ((m = sim_frame_alloc(s, hdr + msg_len, &f)) == NULL)
		return NULL;
	sim_client_outer(s, k, f, msg_len);
	msg = f + hdr;
	counter = atomic_fetch_add(&kp->send_counter, 1);
	wg_put_le32(msg, wg_sim_client_obfuscated(s, k) ? s->obfs.h[3] : WG_MSG_DATA);
	wg_put_le32(msg + 4, kp->remote_index);
	wg_put_le64(msg + 8, counter);
	if (len)
		memcpy(msg + WG_MSG_DATA_HEADER_LEN, ip, len);
	memset(msg + WG_MSG_DATA_HEADER_LEN + len, 0, padded - len);
	*op = (struct wg_aead_op){ .key = kp->send_key, .buf = msg + WG_MSG_DATA_HEADER_LEN,
				   .len = padded };
	wg_aead_nonce(op->nonce, counter);
	return m;
}

unsigned wg_sim_client_data_raw(struct wg_sim *s, const unsigned *clients,
				const uint8_t *const *ips, const uint16_t *lens, unsigned n,
				struct rte_mbuf **out)
{
	struct wg_aead_op ops[WG_AEAD_CHUNK];

	for (unsigned off = 0; off < n; off += WG_AEAD_CHUNK) {
		unsigned cnt = n - off < WG_AEAD_CHUNK ? n - off : WG_AEAD_CHUNK;

		for (unsigned i = 0; i < cnt; i++) {
			out[off + i] = data_frame(s, clients[off + i], ips[off + i], lens[off + i],
						  &ops[i]);
			if (out[off + i] == NULL) {
				wg_sim_free(out, off + i);
				return 0;
			}
		}
		wg_aead_encrypt_burst(s->aead, ops, cnt);
		for (unsigned i = 0; i < cnt; i++)
			sim_client_finish(s, clients[off + i], out[off + i]);
	}
	return n;
}

struct rte_mbuf *wg_sim_client_data_frame(struct wg_sim *s, unsigned k, const uint8_t *ip,
					  size_t len)
{
	struct rte_mbuf *m;
	uint16_t l = (uint16_t)len;

	if (len > WG_SIM_MAX_PKT)
		return NULL;
	return wg_sim_client_data_raw(s, &k, &ip, &l, 1, &m) == 1 ? m : NULL;
}

unsigned wg_sim_client_data_frames(struct wg_sim *s, const unsigned *clients,
				   const struct wg_sim_pkt *pkts, unsigned n,
				   struct rte_mbuf **out)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t buf[WG_SIM_MAX_PKT];
		size_t len = wg_sim_build_pkt(buf, sizeof(buf), &pkts[i]);

		out[i] = len ? wg_sim_client_data_frame(s, clients[i], buf, len) : NULL;
		if (out[i] == NULL) {
			wg_sim_free(out, i);
			return 0;
		}
	}
	return n;
}

/* ---- handshakes ---- */

struct rte_mbuf *wg_sim_client_initiation(struct wg_sim *s, unsigned k)
{
	struct sim_client *c;
	struct wg_msg_initiation init;
	uint8_t ts[WG_TIMESTAMP_LEN];

	if (k >= s->n_clients)
		return NULL;
	c = &s->clients[k];
	/* One second per initiation keeps each client's timestamps strictly increasing
	 * however fast the simulated clock runs. */
	wg_tai64n(ts, s->ts_sec + ++c->handshakes, 0);
	if (wg_sim_client_obfuscated(s, k)) {
		/* AmneziaWG: h1 in the type field (under the MACs), s1 random bytes in front. */
		uint8_t buf[WG_OBFS_MSG_MAX(WG_SIM_MTU)];

		if (wg_noise_create_initiation_as(&c->dev, &c->peer, &init, ts, s->now,
						  s->obfs.h[0]) != WG_OK)
			return NULL;
		wg_random(buf, s->obfs.s1);
		memcpy(buf + s->obfs.s1, &init, sizeof(init));
		return wg_sim_client_udp_frame(s, k, buf, s->obfs.s1 + sizeof(init));
	}
	if (wg_noise_create_initiation(&c->dev, &c->peer, &init, ts, s->now) != WG_OK)
		return NULL;
	return wg_sim_client_udp_frame(s, k, &init, sizeof(init));
}

/* A response from the gateway: client k takes it and starts its session. */
static bool consume_response(struct wg_sim *s, unsigned k, const uint8_t *msg, size_t len)
{
	struct sim_client *c = &s->clients[k];
	struct wg_noise_peer *peer;
	struct wg_keypair *kp, *retired[3];

	if (wg_noise_consume_response_as(&c->dev, msg, len, wg_sim_client_obfuscated(s, k) ?
					 s->obfs.h[1] : WG_MSG_RESPONSE, &peer) != WG_OK ||
	    (kp = free_keypair(c)) == NULL || wg_noise_begin_session(peer, kp, s->now) != WG_OK)
		return false;
	retire(retired, wg_keypairs_add(&c->peer.keypairs, kp, retired));
	return true;
}

/* Take the responses that came out. A cookie reply (the gateway is under load) is what
 * a real client takes too: it keeps the cookie and its next initiation, made here at once,
 * carries mac2; the new initiations go to again[] (*n_again of them). Anything else is
 * counted and freed. */
static unsigned take_responses(struct wg_sim *s, bool *answered, unsigned first, unsigned n,
			       struct rte_mbuf **again, unsigned *n_again, unsigned cap)
{
	struct rte_mbuf *m[64];
	struct wg_sim_rx rx;
	unsigned got = 0, cnt;

	while ((cnt = wg_sim_collect(s, WG_SIM_WAN, m, 64)) > 0) {
		for (unsigned i = 0; i < cnt; i++) {
			struct wg_pkt_info pi;
			size_t len;
			const uint8_t *msg = sim_wg_payload(m[i], &pi, &len);
			bool ours = wg_sim_client_receive(s, m[i], &rx) == WG_SIM_RX_HANDSHAKE &&
				    rx.client >= first && rx.client < first + n &&
				    !answered[rx.client - first];

			if (ours && rx.type == WG_MSG_RESPONSE &&
			    client_view(s, (int)rx.client, &msg, &len) == WG_MSG_RESPONSE &&
			    consume_response(s, rx.client, msg, len)) {
				answered[rx.client - first] = true;
				got++;
			} else if (ours && rx.type == WG_MSG_COOKIE_REPLY && *n_again < cap &&
				   wg_sim_client_take_cookie(s, rx.client, m[i]) &&
				   (again[*n_again] = wg_sim_client_initiation(s, rx.client)) != NULL) {
				(*n_again)++;
				s->counters.hs_cookies++;
			} else {
				s->counters.hs_unexpected++;
			}
			rte_pktmbuf_free(m[i]);
		}
	}
	return got;
}

/* The responder may send only once the initiator has used the new session: a keepalive
 * from each client that got its response confirms it. */
static void confirm(struct wg_sim *s, const bool *answered, unsigned first, unsigned n)
{
	struct rte_mbuf *m[HS_CHUNK];
	unsigned cnt = 0;

	for (unsigned i = 0; i < n; i++) {
		if (answered[i] && (m[cnt] = wg_sim_client_data_frame(s, first + i, NULL, 0)) != NULL)
			cnt++;
		if (cnt == HS_CHUNK || (i == n - 1 && cnt)) {
			wg_sim_inject(s, WG_SIM_WAN, m, cnt);
			wg_sim_run(s, 4);
			cnt = 0;
		}
	}
}

/*
 * Clients [first, first + n) initiate at once and the gateway answers: poll until every
 * response is in, or nothing has come for HS_ROUNDS polls (and half a second with
 * handshake lcores, which answer from other threads: a poll can come back empty while
 * they work). Initiations go in as fast as the WAN queue takes them. With `retries`, the
 * clients still unanswered try again REKEY_TIMEOUT later, as real ones do (a source past
 * its rate limit has its tokens back by then), up to that many times.
 */
static unsigned handshake_group(struct wg_sim *s, unsigned first, unsigned n, unsigned retries)
{
	struct rte_mbuf **m = calloc(n, sizeof(*m)), **again = calloc(n, sizeof(*again));
	bool *answered = calloc(n, sizeof(*answered));
	bool threads = wg_gw_hs_lcores(s->gw) > 0;
	unsigned got = 0;
	uint64_t hz = rte_get_tsc_hz();

	if (m == NULL || again == NULL || answered == NULL)
		goto out;
	/* The gateway refuses a peer's initiations closer than 20 ms apart (a flood). */
	for (unsigned i = 0; i < n; i++)
		if (s->clients[first + i].handshakes) {
			wg_sim_advance(s, 21 * WG_NSEC_PER_SEC / 1000);
			break;
		}
	for (unsigned attempt = 0; attempt <= retries && got < n; attempt++) {
		unsigned made = 0, queued = 0, goal;
		uint64_t last = rte_rdtsc();

		if (attempt > 0)
			wg_sim_advance(s, WG_REKEY_TIMEOUT * WG_NSEC_PER_SEC);
		for (unsigned i = 0; i < n; i++)
			if (!answered[i] && (m[made] = wg_sim_client_initiation(s, first + i)) != NULL)
				made++;
		goal = got + made;
		for (unsigned quiet = 0; got < goal && (quiet < HS_ROUNDS ||
							(threads && rte_rdtsc() - last < hz / 2));) {
			unsigned more, n_again = 0, room = SIM_RING_SIZE - 1 -
				wg_sim_rx_pending(s, WG_SIM_WAN, 0);

			if (queued < made) {
				unsigned k = RTE_MIN(made - queued, room);

				wg_sim_inject(s, WG_SIM_WAN, m + queued, k);
				queued += k;
			}
			wg_sim_poll(s);
			more = take_responses(s, answered, first, n, again, &n_again, n);
			wg_sim_inject(s, WG_SIM_WAN, again, n_again);
			got += more;
			if (more || n_again || queued < made) {
				quiet = 0;
				last = rte_rdtsc();
			} else {
				quiet++;
				if (threads)   /* the handshake lcores may need this CPU */
					sched_yield();
			}
		}
		if (queued < made)
			wg_sim_free(m + queued, made - queued);
	}
	confirm(s, answered, first, n);
out:
	free(m);
	free(again);
	free(answered);
	return got;
}

unsigned wg_sim_handshake(struct wg_sim *s, unsigned first, unsigned n)
{
	unsigned done = 0;

	if (first > s->n_clients || n > s->n_clients - first)
		return 0;
	for (unsigned off = 0; off < n; off += HS_CHUNK)
		done += handshake_group(s, first + off, n - off < HS_CHUNK ? n - off : HS_CHUNK, 0);
	return done;
}

unsigned wg_sim_handshake_storm(struct wg_sim *s, unsigned first, unsigned n)
{
	if (first > s->n_clients || n > s->n_clients - first)
		return 0;
	return handshake_group(s, first, n, 3);
}

unsigned wg_sim_handshake_all(struct wg_sim *s)
{
	return wg_sim_handshake(s, 0, s->n_clients);
}

/* ---- the client's side of less common exchanges ---- */

void wg_sim_client_public_key(const struct wg_sim *s, unsigned k, uint8_t key[32])
{
	memcpy(key, s->clients[k].public_key, WG_KEY_LEN);
}

struct rte_mbuf *wg_sim_client_respond(struct wg_sim *s, unsigned k, const struct rte_mbuf *m)
{
	struct sim_client *c;
	struct wg_noise_peer *peer;
	struct wg_msg_response resp;
	struct wg_keypair *kp, *retired[3];
	struct wg_pkt_info pi;
	size_t len;
	const uint8_t *msg = sim_wg_payload(m, &pi, &len);

	if (msg == NULL || k >= s->n_clients)
		return NULL;
	c = &s->clients[k];
	if (wg_noise_consume_initiation(&c->dev, msg, len, s->now, &peer) != WG_OK ||
	    wg_noise_create_response(&c->dev, peer, &resp, s->now) != WG_OK ||
	    (kp = free_keypair(c)) == NULL || wg_noise_begin_session(peer, kp, s->now) != WG_OK)
		return NULL;
	retire(retired, wg_keypairs_add(&c->peer.keypairs, kp, retired));
	return wg_sim_client_udp_frame(s, k, &resp, sizeof(resp));
}

/* The gateway's address as the client sees it: IP, then port (the checker's source). */
static size_t gw_source(const struct wg_sim *s, unsigned k, uint8_t out[18])
{
	struct wg_ip gw = wg_sim_gw_ip(WG_SIM_WAN, wg_sim_client_endpoint(s, k).ip.family);
	size_t n = gw.family == WG_AF_INET ? 4 : 16;

	memcpy(out, gw.addr, n);
	out[n] = (uint8_t)(WG_SIM_LISTEN_PORT >> 8);
	out[n + 1] = (uint8_t)WG_SIM_LISTEN_PORT;
	return n + 2;
}

struct rte_mbuf *wg_sim_client_cookie_reply(struct wg_sim *s, unsigned k,
					    const struct rte_mbuf *m)
{
	struct wg_msg_cookie_reply reply;
	struct wg_pkt_info pi;
	uint8_t src[18];
	size_t len, src_len;
	const uint8_t *msg = sim_wg_payload(m, &pi, &len);

	if (msg == NULL || k >= s->n_clients || len < 8)
		return NULL;
	src_len = gw_source(s, k, src);
	wg_cookie_create_reply(&s->clients[k].dev.cookie, &reply, msg, len, wg_get_le32(msg + 4),
			       src, src_len, s->now);
	return wg_sim_client_udp_frame(s, k, &reply, sizeof(reply));
}

bool wg_sim_client_mac2_ok(struct wg_sim *s, unsigned k, const struct rte_mbuf *m)
{
	struct wg_pkt_info pi;
	uint8_t src[18];
	size_t len, src_len;
	const uint8_t *msg = sim_wg_payload(m, &pi, &len);

	if (msg == NULL || k >= s->n_clients)
		return false;
	src_len = gw_source(s, k, src);
	return wg_cookie_check_mac2(&s->clients[k].dev.cookie, msg, len, src, src_len,
				    s->now) == WG_OK;
}

bool wg_sim_client_take_cookie(struct wg_sim *s, unsigned k, const struct rte_mbuf *m)
{
	struct wg_pkt_info pi;
	size_t len;
	const uint8_t *msg = sim_wg_payload(m, &pi, &len);

	return msg && k < s->n_clients &&
		client_view(s, (int)k, &msg, &len) == WG_MSG_COOKIE_REPLY &&
		wg_cookie_consume_reply(&s->clients[k].peer.cookie, msg, len, s->now) == WG_OK;
}

struct rte_mbuf *wg_sim_spoofed_initiation(struct wg_sim *s, uint64_t seed)
{
	struct wg_msg_initiation init;
	struct wg_cookie_maker maker;
	uint8_t *f, mac[6] = { 0x02, 0x66, 0, 0, 0, 0 };
	uint8_t *ip, *udp;
	struct rte_mbuf *m;
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	uint16_t c;

	/* Anything at all, but for a mac1 that is right for the gateway's key. */
	for (size_t i = 0; i < sizeof(init); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		((uint8_t *)&init)[i] = (uint8_t)x;
	}
	memset(&init.header, 0, sizeof(init.header));
	init.header.type = WG_MSG_INITIATION;
	wg_cookie_maker_init(&maker, s->gw_public);
	wg_cookie_add_macs(&maker, &init, sizeof(init), s->now);
	m = sim_frame_alloc(s, WG_SIM_WAN_HDR4 + sizeof(init), &f);
	if (m == NULL)
		return NULL;
	memcpy(mac + 2, &x, 4);
	wg_pkt_write_eth(f, s->gw_mac[WG_SIM_WAN], mac, WG_ETHERTYPE_IPV4);
	ip = f + WG_ETH_HLEN;
	udp = ip + WG_IPV4_HLEN;
	memset(ip, 0, WG_IPV4_HLEN);
	ip[0] = 0x45;
	ip[2] = 0;
	ip[3] = (uint8_t)(WG_IPV4_HLEN + 8 + sizeof(init));
	ip[8] = 64;
	ip[9] = WG_IPPROTO_UDP;
	ip[12] = 100;                      /* 100.x.y.z, any address the flood likes */
	ip[13] = (uint8_t)(x >> 40);
	ip[14] = (uint8_t)(x >> 48);
	ip[15] = (uint8_t)(x >> 56);
	memcpy(ip + 16, wg_sim_gw_ip(WG_SIM_WAN, WG_AF_INET).addr, 4);
	c = wg_csum_ipv4_header(ip, WG_IPV4_HLEN);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	udp[0] = (uint8_t)(x >> 32);
	udp[1] = (uint8_t)(x >> 24) | 1;
	udp[2] = (uint8_t)(WG_SIM_LISTEN_PORT >> 8);
	udp[3] = (uint8_t)WG_SIM_LISTEN_PORT;
	udp[4] = 0;
	udp[5] = (uint8_t)(8 + sizeof(init));
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, &init, sizeof(init));
	return m;
}
