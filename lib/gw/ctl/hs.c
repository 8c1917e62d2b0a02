/* SPDX-License-Identifier: MIT */
/*
 * Handshakes on the control lcore: the glue between the Noise core and the gateway's
 * tables. Messages arrive with mac1 checked by a worker; here they meet the load check
 * (cookie replies and the per-source rate limit under load), the core's consume functions,
 * and the keypair slots, whose changes are published to the workers.
 */
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "gw_ctl.h"
#include "gw_log.h"
#include "wg_cookie.h"
#include "wg_crypto.h"

/* Noise callbacks over the gateway's index table and key hash. */
static uint32_t cb_index_new(void *ctx, struct wg_noise_peer *np)
{
	struct wg_gw *gw = ctx;
	uint32_t idx;

	if (!wg_index_alloc(&gw->index, WG_INDEX_HANDSHAKE, np->owner, &idx))
		idx = wg_random_u32();   /* table full: an index that finds nothing */
	return idx;
}

static void cb_index_drop(void *ctx, uint32_t index)
{
	struct wg_gw *gw = ctx;

	if (wg_index_lookup(&gw->index, index, WG_INDEX_HANDSHAKE))
		wg_index_free(&gw->index, index);
}

static struct wg_noise_peer *cb_peer_by_key(void *ctx, const uint8_t key[WG_KEY_LEN])
{
	struct wg_gw *gw = ctx;
	void *data;

	if (rte_hash_lookup_data(gw->peer_keys, key, &data) < 0)
		return NULL;
	return &gw->peers[(uintptr_t)data].noise;
}

static struct wg_noise_peer *cb_peer_by_index(void *ctx, uint32_t index)
{
	struct wg_gw *gw = ctx;
	struct wg_peer *peer = wg_index_lookup(&gw->index, index, WG_INDEX_HANDSHAKE);

	if (peer == NULL || !peer->noise.hs.has_index || peer->noise.hs.local_index != index)
		return NULL;
	return &peer->noise;
}

const struct wg_noise_callbacks wg_gw_noise_callbacks = {
	.index_new = cb_index_new,
	.index_drop = cb_index_drop,
	.peer_by_key = cb_peer_by_key,
	.peer_by_index = cb_peer_by_index,
};

/* A frame around a handshake message to the peer's endpoint, sent by the control lcore,
 * with `pad` random bytes in front of the message (AmneziaWG's s1 or s2, else 0). */
static void send_message(struct wg_gw *gw, const struct wg_peer_ep *ep, const void *msg,
			 size_t len, unsigned pad)
{
	uint8_t *payload;
	struct rte_mbuf *m = wg_gw_frame_alloc(gw, ep, pad + len, &payload);

	if (m == NULL)
		return;
	if (pad)
		wg_random(payload, pad);
	memcpy(payload + pad, msg, len);
	if (wg_gw_frame_send(gw, ep, m))
		gw->hs_sent++;
}

/* Derive the session of a finished handshake and place it in the slots. The slot change
 * is published before what it displaced is retired: a keypair a worker can still load
 * from tx_kp must not be on its way to being freed. */
static bool begin_session(struct wg_gw *gw, struct wg_peer *peer, bool obfuscated,
			  uint64_t now)
{
	struct wg_gw_keypair *gkp = rte_zmalloc("wg_keypair", sizeof(*gkp), RTE_CACHE_LINE_SIZE);
	struct wg_keypair *retired[3];
	unsigned n;

	if (gkp == NULL || wg_noise_begin_session(&peer->noise, &gkp->kp, now) != WG_OK) {
		rte_free(gkp);
		return false;
	}
	gkp->peer = peer;
	gkp->peer_gen = atomic_load_explicit(&peer->gen, memory_order_relaxed);
	/* The session answers in the form of the handshake that made it. */
	gkp->obfuscated = obfuscated;
	atomic_store_explicit(&gkp->kp.send_type,
			      wg_gw_obfs_type(gw, WG_MSG_DATA, obfuscated), memory_order_relaxed);
	n = wg_keypairs_add(&peer->noise.keypairs, &gkp->kp, retired);
	wg_peer_publish_keypair(gw, peer);
	wg_peer_retire_keypairs(gw, retired, n);
	/* Workers find the keypair by its index only once it is fully set up. */
	wg_index_replace(&gw->index, gkp->kp.local_index, WG_INDEX_KEYPAIR, gkp);
	wg_timers_session_derived(&peer->timers, now);
	return true;
}

static void source_bytes(const struct wg_pkt_info *pi, uint8_t out[18], size_t *len)
{
	size_t n = pi->src.family == WG_AF_INET ? 4 : 16;

	memcpy(out, pi->src.addr, n);
	out[n] = (uint8_t)(pi->sport >> 8);
	out[n + 1] = (uint8_t)pi->sport;
	*len = n + 2;
}

static void free_cookie_pub(struct wg_gw *gw, void *obj)
{
	(void)gw;
	wg_wipe(obj, sizeof(struct wg_cookie_pub));
	rte_free(obj);
}

/* Workers check mac2 against the secret the checker last made: publish each new one. */
static void publish_cookie_secret(struct wg_gw *gw)
{
	const struct wg_cookie_checker *c = &gw->dev.cookie;
	struct wg_cookie_pub *pub, *old;

	if (c->secret_birth == 0 || c->secret_birth == gw->hs.cookie_pub_birth)
		return;
	pub = rte_malloc("wg_cookie_pub", sizeof(*pub), 0);
	if (pub == NULL)
		return;   /* workers go on with the old one: its messages reach us unsorted */
	memcpy(pub->secret, c->secret, sizeof(pub->secret));
	pub->birth = c->secret_birth;
	old = atomic_exchange_explicit(&gw->cookie_pub, pub, memory_order_release);
	gw->hs.cookie_pub_birth = pub->birth;
	if (old)
		wg_gw_retire(gw, old, free_cookie_pub);
}

/* Under load a handshake must carry a valid cookie (mac2) and pass the source's rate
 * limit; without one it gets a cookie reply instead of a DH. true = go on. */
static bool admit(struct wg_gw *gw, const struct wg_pkt_info *pi, const uint8_t *msg,
		  size_t len, unsigned port, const uint8_t *src_mac, bool obfuscated,
		  bool under_load, uint64_t now)
{
	uint8_t src[18];
	size_t src_len;
	struct wg_msg_cookie_reply reply;
	struct wg_peer_ep ep = { .ep = { .ip = pi->src, .port = pi->sport }, .port = (uint16_t)port };

	if (!under_load)
		return true;
	source_bytes(pi, src, &src_len);
	if (wg_cookie_check_mac2(&gw->dev.cookie, msg, len, src, src_len, now) == WG_OK)
		return wg_ratelimiter_allow(gw->ratelimiter, pi->src.addr,
					    pi->src.family == WG_AF_INET ? 4 : 16, now) ||
			(wg_ctrl_ctx(gw)->drops[WG_DROP_HS_RATELIMIT]++, false);
	wg_cookie_create_reply(&gw->dev.cookie, &reply, msg, len,
			       wg_get_le32(msg + 4), src, src_len, now);
	/* In the form of the message it answers (no MAC covers a reply's type field). */
	wg_put_le32((uint8_t *)&reply.header,
		    wg_gw_obfs_type(gw, WG_MSG_COOKIE_REPLY, obfuscated));
	memcpy(ep.mac, src_mac, 6);
	send_message(gw, &ep, &reply, sizeof(reply), 0);
	wg_ctrl_ctx(gw)->drops[WG_DROP_HS_COOKIE_SENT]++;
	return false;
}

static void refused(struct wg_gw *gw, enum wg_result r)
{
	wg_ctrl_ctx(gw)->drops[WG_DROP_HS_REFUSED]++;
	WG_LOG(DEBUG, hs, "handshake refused: %s", wg_result_str(r));
}

/* A disabled peer's handshake, identified by the core: refused, and what the core noted
 * of it forgotten. true if refused. */
static bool disabled(struct wg_gw *gw, struct wg_noise_peer *np)
{
	struct wg_peer *peer = np->owner;

	if (!peer->disabled)
		return false;
	wg_noise_handshake_clear(&gw->dev, &peer->noise);
	wg_ctrl_ctx(gw)->drops[WG_DROP_PEER_DISABLED]++;
	return true;
}

/* A handshake message passed the core: its source is the peer's endpoint now (roaming),
 * and it counts as an authenticated packet received. */
static struct wg_peer *accepted(struct wg_gw *gw, struct wg_noise_peer *np,
				const struct wg_pkt_info *pi, unsigned port, const uint8_t *mac,
				bool obfuscated, uint64_t now)
{
	struct wg_peer *peer = np->owner;

	peer->form_known = true;
	peer->obfuscated = obfuscated;
	wg_gw_peer_learn_endpoint(gw, peer,
				  &(struct wg_endpoint){ .ip = pi->src, .port = pi->sport }, port,
				  mac);
	wg_timers_any_authenticated_received(&peer->timers, now);
	wg_timers_any_authenticated_traversal(&peer->timers, now);
	return peer;
}

/* After the initiation was taken and its response made: the session and the answer. */
static void respond(struct wg_gw *gw, struct wg_noise_peer *np, struct wg_msg_response *resp,
		    const struct wg_pkt_info *pi, unsigned port, const uint8_t *mac, bool obfs,
		    uint64_t now)
{
	struct wg_peer *peer;
	const struct wg_peer_ep *ep;

	if (disabled(gw, np))
		return;
	peer = accepted(gw, np, pi, port, mac, obfs, now);
	if (!begin_session(gw, peer, obfs, now)) {
		refused(gw, WG_BAD_STATE);
		return;
	}
	ep = atomic_load_explicit(&peer->ep, memory_order_relaxed);
	if (ep == NULL) {   /* out of memory for the endpoint: the client will retry */
		refused(gw, WG_BAD_STATE);
		return;
	}
	send_message(gw, ep, resp, sizeof(*resp),
		     wg_obfs_pad(&gw->cfg.obfs, WG_MSG_RESPONSE, obfs));
	wg_timers_any_authenticated_sent(&peer->timers, now);
	gw->hs_used++;
}

static void on_initiation(struct wg_gw *gw, const uint8_t *msg, size_t len,
			  const struct wg_pkt_info *pi, unsigned port, const uint8_t *mac,
			  bool obfs, uint64_t now)
{
	struct wg_noise_peer *np;
	struct wg_msg_response resp;
	enum wg_result r;

	gw->hs_initiations_rx++;
	r = wg_noise_consume_initiation_as(&gw->dev, msg, len, now,
					   wg_gw_obfs_type(gw, WG_MSG_INITIATION, obfs), &np);
	if (r == WG_OK)
		r = wg_noise_create_response_as(&gw->dev, np, &resp, now,
						wg_gw_obfs_type(gw, WG_MSG_RESPONSE, obfs));
	if (r != WG_OK) {
		refused(gw, r);
		return;
	}
	respond(gw, np, &resp, pi, port, mac, obfs, now);
}

/* An initiation a handshake lcore prepared: the rest of it, as on_initiation does. */
static void on_prepared(struct wg_gw *gw, const uint8_t *msg, size_t len,
			const struct wg_pkt_info *pi, unsigned port, const uint8_t *mac,
			bool obfs, const struct wg_noise_prepared *prep, uint64_t now)
{
	struct wg_noise_peer *np;
	struct wg_msg_response resp;
	enum wg_result r;

	gw->hs_initiations_rx++;
	r = wg_noise_answer_prepared(&gw->dev, prep, msg, len,
				     wg_gw_obfs_type(gw, WG_MSG_INITIATION, obfs), now, &resp,
				     wg_gw_obfs_type(gw, WG_MSG_RESPONSE, obfs), &np);
	if (r != WG_OK) {
		refused(gw, r);
		return;
	}
	respond(gw, np, &resp, pi, port, mac, obfs, now);
}

static void on_response(struct wg_gw *gw, const uint8_t *msg, size_t len,
			const struct wg_pkt_info *pi, unsigned port, const uint8_t *mac, bool obfs,
			uint64_t now)
{
	struct wg_noise_peer *np;
	struct wg_peer *peer;
	enum wg_result r;

	gw->hs_responses_rx++;
	r = wg_noise_consume_response_as(&gw->dev, msg, len,
					 wg_gw_obfs_type(gw, WG_MSG_RESPONSE, obfs), &np);
	if (r != WG_OK) {
		refused(gw, r);
		return;
	}
	if (disabled(gw, np))
		return;
	peer = accepted(gw, np, pi, port, mac, obfs, now);
	if (!begin_session(gw, peer, obfs, now)) {
		refused(gw, WG_BAD_STATE);
		return;
	}
	gw->hs_used++;
	wg_timers_handshake_complete(&peer->timers, now);
	peer->last_handshake_unix_ns = wg_unix_ns();
	wg_gw_event_handshake(gw, peer, true, now);
	/* The responder may only send once it has seen us use the keypair. */
	if (peer->staged)
		wg_peer_flush_staged(gw, peer, now);
	else
		wg_hs_send_keepalive(gw, peer, now);
}

/* A cookie reply names the index we sent in a handshake message: an initiation's (still a
 * handshake index) or a response's, which became a keypair's index when the session began
 * right after the response was made. Both are ours to answer, as in the kernel. */
static struct wg_noise_peer *cookie_target(struct wg_gw *gw, uint32_t index)
{
	struct wg_noise_peer *np = cb_peer_by_index(gw, index);
	struct wg_gw_keypair *gkp;

	if (np)
		return np;
	gkp = wg_index_lookup(&gw->index, index, WG_INDEX_KEYPAIR);
	if (gkp == NULL || gkp->kp.local_index != index)
		return NULL;
	return &gkp->peer->noise;
}

static void on_cookie(struct wg_gw *gw, const uint8_t *msg, size_t len, bool obfs, uint64_t now)
{
	struct wg_msg_cookie_reply c;
	struct wg_noise_peer *np;
	enum wg_result r;

	gw->hs_cookies_rx++;
	if (len != sizeof(c) ||
	    wg_get_le32(msg) != wg_gw_obfs_type(gw, WG_MSG_COOKIE_REPLY, obfs)) {
		refused(gw, len != sizeof(c) ? WG_SHORT : WG_WRONG_TYPE);
		return;
	}
	/* Nothing covers a reply's type field: the core takes it in the plain form. */
	memcpy(&c, msg, sizeof(c));
	wg_put_le32((uint8_t *)&c.header, WG_MSG_COOKIE_REPLY);
	np = cookie_target(gw, wg_get_le32(c.receiver_index));
	if (np == NULL) {
		refused(gw, WG_UNKNOWN_INDEX);
		return;
	}
	r = wg_cookie_consume_reply(&np->cookie, &c, sizeof(c), now);
	if (r != WG_OK)
		refused(gw, r);
	else
		gw->hs_used++;
}

/* What handling a queued message cost, for the estimates. */
enum handled { CHEAP, DH, OFFLOADED };

/* The message of a queued frame: the type and the padding to skip (obfuscation) are what
 * the worker recognised. false for a frame that does not parse (a worker parsed it: never). */
static bool message_of(struct rte_mbuf *m, struct wg_pkt_info *pi, const uint8_t **msg,
		       size_t *len)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct wg_meta *meta = wg_meta(m);

	if (wg_pkt_parse_frame(pi, frame, rte_pktmbuf_data_len(m)) != 0)
		return false;
	*msg = frame + pi->l4_off + 8 + meta->hs_off;
	*len = (size_t)(frame[pi->l4_off + 4] << 8 | frame[pi->l4_off + 5]) - 8 - meta->hs_off;
	return true;
}

static enum handled handle(struct wg_gw *gw, struct rte_mbuf *m, bool under_load, uint64_t now)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	struct wg_meta *meta = wg_meta(m);
	struct wg_pkt_info pi;
	const uint8_t *msg;
	size_t len;
	enum handled cost = CHEAP;
	bool obfs = meta->hs_obfs;

	if (!message_of(m, &pi, &msg, &len)) {
		wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_BAD_FRAME);
		return CHEAP;
	}
	switch (meta->hs_type) {
	case WG_MSG_INITIATION:
		if (!admit(gw, &pi, msg, len, meta->port, frame + 6, obfs, under_load, now))
			break;
		if (wg_hs_offload(gw, m, (size_t)(msg - frame), len,
				  wg_gw_obfs_type(gw, WG_MSG_INITIATION, obfs)))
			return OFFLOADED;   /* the mbuf comes back on the done ring */
		on_initiation(gw, msg, len, &pi, meta->port, frame + 6, obfs, now);
		cost = DH;
		break;
	case WG_MSG_RESPONSE:
		if (admit(gw, &pi, msg, len, meta->port, frame + 6, obfs, under_load, now)) {
			on_response(gw, msg, len, &pi, meta->port, frame + 6, obfs, now);
			cost = DH;
		}
		break;
	case WG_MSG_COOKIE_REPLY:
		on_cookie(gw, msg, len, obfs, now);
		break;
	}
	rte_pktmbuf_free(m);
	return cost;
}

/* A moving average of a cost measured in wall-clock time. One sample counts at most
 * twice the average: a message during which the lcore was preempted (a shared VM, a
 * noisy neighbour) would otherwise raise the handshake cost tenfold, put the gateway
 * under load for bursts it serves easily, and keep it there, since under load it does
 * no Diffie-Hellman that could bring the average back down. Measured: a CPU hog on both
 * cores left the benchmark's 100,000 clients at 32 handshakes and cookies ever after. */
static uint64_t ewma(uint64_t avg, uint64_t sample)
{
	if (avg == 0)
		return sample;
	sample = RTE_MIN(sample, 2 * avg);
	return avg - avg / 8 + sample / 8;
}

/* What one more handshake message costs the gateway's time to serve its backlog: the
 * control lcore's own Diffie-Hellman, or with handshake lcores the preparation shared
 * among them plus the control lcore's answer. */
static uint64_t hs_cost(const struct wg_gw *gw)
{
	const struct wg_hs_state *hs = &gw->hs;

	if (gw->n_hs_lcores == 0 || hs->prep_ns == 0)
		return hs->dh_ns;
	return hs->prep_ns / gw->n_hs_lcores + hs->answer_ns;
}

/* Under load while the backlog (queued, and out at the handshake lcores) passes 1/8 of
 * the ring, or would take longer than WG_HS_BACKLOG_NS to serve at the measured cost of a
 * handshake; and a second after. */
static bool decide_load(struct wg_gw *gw, uint64_t now)
{
	struct wg_hs_state *hs = &gw->hs;
	uint64_t backlog = rte_ring_count(gw->hs_ring) + gw->hs_in_flight;
	bool was = now < hs->under_load_until;

	if (backlog >= WG_UNDER_LOAD || backlog * hs_cost(gw) >= WG_HS_BACKLOG_NS) {
		hs->under_load_until = now + WG_NSEC_PER_SEC;
		hs->under_load_entered += !was;
	}
	atomic_store_explicit(&gw->under_load, now < hs->under_load_until, memory_order_relaxed);
	return now < hs->under_load_until;
}

/* How long this poll may spend. On a control lcore of its own, a bound for the rest of its
 * work; on a lcore shared with the worker, what the data path leaves: halved whenever the
 * worker's queues backed up, grown by a quarter while they keep up. */
static uint64_t slice_ns(struct wg_gw *gw)
{
	uint64_t s = gw->hs.slice_ns ? gw->hs.slice_ns : WG_HS_SLICE_MIN_NS;

	if (!gw->single_lcore)
		return WG_HS_SLICE_OWN_NS;
	if (gw->workers[0].rx_backlogged)
		s = RTE_MAX(s / 2, WG_HS_SLICE_MIN_NS);
	else
		s = RTE_MIN(s + s / 4, WG_HS_SLICE_MAX_NS);
	gw->hs.slice_ns = s;
	return s;
}

/* Answer what the handshake lcores prepared. */
static void take_prepared(struct wg_gw *gw, uint64_t now)
{
	struct wg_hs_state *hs = &gw->hs;
	struct rte_mbuf *ms[32];
	unsigned n;
	uint64_t hz = rte_get_tsc_hz();

	while ((n = wg_hs_take_done(gw, ms, RTE_DIM(ms))) > 0) {
		uint64_t t = rte_rdtsc();

		for (unsigned i = 0; i < n; i++) {
			struct wg_hs_job *job = wg_hs_job(ms[i]);
			const uint8_t *frame = rte_pktmbuf_mtod(ms[i], const uint8_t *);
			const struct wg_meta *meta = wg_meta(ms[i]);
			struct wg_pkt_info pi;
			const uint8_t *msg;
			size_t len;

			hs->prep_ns = ewma(hs->prep_ns, job->cost_ns);
			if (job->identity_gen != gw->hs_identity_gen)
				/* Prepared for the key the device had (a change since): the
				 * initiation was for a key that is no longer ours. */
				refused(gw, WG_UNKNOWN_PEER);
			else if (message_of(ms[i], &pi, &msg, &len))
				on_prepared(gw, msg, len, &pi, meta->port, frame + 6, meta->hs_obfs,
					    &job->prep, now);
			wg_wipe(&job->prep, sizeof(job->prep));
			rte_pktmbuf_free(ms[i]);
		}
		hs->answer_ns = ewma(hs->answer_ns, (rte_rdtsc() - t) * WG_NSEC_PER_SEC / hz / n);
	}
}

void wg_hs_drain(struct wg_gw *gw, uint64_t now)
{
	struct wg_hs_state *hs = &gw->hs;
	uint64_t hz = rte_get_tsc_hz(), t0 = rte_rdtsc(), t = t0;
	uint64_t end = t0 + slice_ns(gw) * hz / WG_NSEC_PER_SEC;
	uint32_t stamp = (uint32_t)(now >> 20), max_age = (uint32_t)(WG_HS_MAX_AGE_NS >> 20);
	bool under_load;
	unsigned served = 0;
	struct rte_mbuf *m;

	take_prepared(gw, now);
	t = rte_rdtsc();
	under_load = decide_load(gw, now);
	for (;;) {
		bool prio = rte_ring_sc_dequeue(gw->hs_prio_ring, (void **)&m) == 0;
		enum handled cost;
		uint64_t t1;

		if (!prio && rte_ring_sc_dequeue(gw->hs_ring, (void **)&m) != 0)
			break;
		hs->prio_served += prio;
		if (stamp - wg_meta(m)->arg > max_age) {
			wg_drop(wg_ctrl_ctx(gw), m, WG_DROP_HS_STALE);
			continue;
		}
		cost = handle(gw, m, under_load, now);
		t1 = rte_rdtsc();
		if (cost == DH)
			hs->dh_ns = ewma(hs->dh_ns, (t1 - t) * WG_NSEC_PER_SEC / hz);
		else if (cost == CHEAP)
			hs->cookie_ns = ewma(hs->cookie_ns, (t1 - t) * WG_NSEC_PER_SEC / hz);
		t = t1;
		/* With handshake lcores, what they finished is answered as it comes. */
		if (served % 16 == 15)
			take_prepared(gw, now);
		served++;
		if (t >= end) {
			hs->slices_spent += !rte_ring_empty(gw->hs_ring) ||
					    !rte_ring_empty(gw->hs_prio_ring);
			break;
		}
		/* The backlog's verdict can change within a long slice. */
		if (served % 64 == 0)
			under_load = decide_load(gw, now);
	}
	hs->busy_ns += (t - t0) * WG_NSEC_PER_SEC / hz;
	publish_cookie_secret(gw);
}

/* Where an initiation goes: the published endpoint, or the configured one once its next
 * hop is resolved. NULL while resolving (the initiation is sent when the MAC arrives). */
static const struct wg_peer_ep *initiation_target(struct wg_gw *gw, struct wg_peer *peer,
						  struct wg_peer_ep *tmp, uint64_t now)
{
	const struct wg_peer_ep *ep = atomic_load_explicit(&peer->ep, memory_order_relaxed);
	struct wg_ip nexthop;
	int port;

	if (ep)
		return ep;
	if (peer->conf_ep.ip.family == 0)
		return NULL;
	port = wg_route_port(gw, WG_ROLE_WAN, &peer->conf_ep.ip);
	if (port < 0 || !wg_route_nexthop(gw, (unsigned)port, &peer->conf_ep.ip, &nexthop))
		return NULL;
	tmp->ep = peer->conf_ep;
	tmp->port = (uint16_t)port;
	if (wg_neigh_lookup(gw, &nexthop, tmp->mac))
		return tmp;
	wg_peer_set_resolving(gw, peer, true);
	peer->init_waiting = true;
	wg_ctrl_solicit(gw, (unsigned)port, &nexthop, now);
	return NULL;
}

void wg_hs_initiate(struct wg_gw *gw, struct wg_peer *peer, uint64_t now)
{
	struct wg_msg_initiation init;
	uint8_t ts[WG_TIMESTAMP_LEN];
	struct wg_peer_ep tmp;
	const struct wg_peer_ep *ep;
	bool obfs = wg_gw_obfs_peer_form(gw, peer);

	if (peer->disabled || !wg_timers_may_initiate(peer->last_init_sent, now))
		return;
	ep = initiation_target(gw, peer, &tmp, now);
	if (ep == NULL)
		return;
	wg_tai64n_now(ts);
	if (wg_noise_create_initiation_as(&gw->dev, &peer->noise, &init, ts, now,
					  wg_gw_obfs_type(gw, WG_MSG_INITIATION, obfs)) != WG_OK)
		return;
	peer->last_init_sent = now;
	/* AmneziaWG: junk first, then the initiation behind s1 random bytes. */
	if (obfs)
		wg_gw_obfs_send_junk(gw, ep);
	send_message(gw, ep, &init, sizeof(init),
		     wg_obfs_pad(&gw->cfg.obfs, WG_MSG_INITIATION, obfs));
	wg_timers_handshake_initiated(&peer->timers, now,
				      rte_rand_max(WG_REKEY_TIMEOUT_JITTER_MAX_MS * 1000000ull));
	wg_timers_any_authenticated_sent(&peer->timers, now);
	wg_timers_any_authenticated_traversal(&peer->timers, now);
}

void wg_hs_send_keepalive(struct wg_gw *gw, struct wg_peer *peer, uint64_t now)
{
	struct rte_mbuf *m;

	if (atomic_load_explicit(&peer->tx_kp, memory_order_relaxed) == NULL)
		return;
	m = rte_pktmbuf_alloc(gw->pool);
	if (m == NULL)
		return;
	wg_meta(m)->peer = peer->id;
	wg_meta(m)->gen = atomic_load_explicit(&peer->gen, memory_order_relaxed);
	wg_dp_encrypt_burst(wg_ctrl_ctx(gw), &m, 1, now);
}
