/* SPDX-License-Identifier: MIT */
/* Building the gateway from a configuration, the worker loop, teardown and statistics. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "gw_internal.h"
#include "gw_nat.h"
#include "wg_crypto.h"
#include "wg_ctl.h"

static int make_rings(struct wg_gw *gw, const char *tag)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "%s_ctrl", tag);
	gw->ctrl_ring = rte_ring_create(name, WG_CTRL_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "%s_hs", tag);
	gw->hs_ring = rte_ring_create(name, WG_HS_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "%s_hsp", tag);
	gw->hs_prio_ring = rte_ring_create(name, WG_HS_PRIO_RING_SIZE, SOCKET_ID_ANY,
					   RING_F_SC_DEQ);
	if (!gw->hs_ring || !gw->hs_prio_ring)
		return -1;
	snprintf(name, sizeof(name), "%s_ev", tag);
	gw->event_ring = rte_ring_create_elem(name, sizeof(struct wg_event), WG_EVENT_RING_SIZE,
					      SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!gw->ctrl_ring || !gw->event_ring)
		return -1;
	for (unsigned p = 0; p < gw->cfg.n_ports; p++) {
		snprintf(name, sizeof(name), "%s_tx%u", tag, p);
		gw->ctrl_tx[p] = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (!gw->ctrl_tx[p])
			return -1;
	}
	return 0;
}

static int make_rcu(struct wg_gw *gw)
{
	size_t sz;

	if (gw->single_lcore)
		return 0;
	sz = rte_rcu_qsbr_get_memsize(gw->n_workers);
	gw->rcu = rte_zmalloc("wg_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (gw->rcu == NULL || rte_rcu_qsbr_init(gw->rcu, gw->n_workers) != 0)
		return -1;
	return 0;
}

static int make_workers(struct wg_gw *gw, const char *tag)
{
	gw->workers = rte_zmalloc("wg_workers", (gw->n_workers + 1) * sizeof(*gw->workers),
				  RTE_CACHE_LINE_SIZE);
	if (gw->workers == NULL)
		return -1;
	for (unsigned i = 0; i <= gw->n_workers; i++) {
		struct wg_worker *w = &gw->workers[i];

		w->gw = gw;
		w->idx = i == gw->n_workers ? 0 : i;
		w->rcu_id = i;
		w->is_ctrl = i == gw->n_workers;
		w->aead = wg_aead_create_engine((enum wg_aead_engine)gw->aead_engine);
		w->peer_stats = rte_zmalloc("wg_peer_stats", gw->max_peers * sizeof(*w->peer_stats),
					    RTE_CACHE_LINE_SIZE);
		if (w->aead == NULL || w->peer_stats == NULL)
			return -1;
		if (!w->is_ctrl && (w->frag = wg_frag_create()) == NULL)
			return -1;
		if (gw->n_workers > 1 && !w->is_ctrl) {
			char name[RTE_RING_NAMESIZE];

			snprintf(name, sizeof(name), "%s_ho%u", tag, i);
			w->handoff = rte_ring_create(name, WG_HANDOFF_RING_SIZE, SOCKET_ID_ANY,
						     RING_F_SC_DEQ);
			if (w->handoff == NULL)
				return -1;
		}
	}
	return 0;
}

static int make_peer_table(struct wg_gw *gw, const char *tag)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name, .entries = RTE_MAX(gw->max_peers, 8u), .key_len = WG_KEY_LEN,
		.hash_func = rte_jhash, .socket_id = SOCKET_ID_ANY,
	};

	snprintf(name, sizeof(name), "%s_keys", tag);
	gw->peer_keys = rte_hash_create(&hp);
	gw->peers = rte_zmalloc("wg_peers", gw->max_peers * sizeof(*gw->peers), RTE_CACHE_LINE_SIZE);
	gw->free_ids = malloc(gw->max_peers * sizeof(*gw->free_ids));
	if (!gw->peer_keys || !gw->peers || !gw->free_ids)
		return -1;
	/* Lowest ids first, so small deployments use the start of every per-peer array. */
	for (uint32_t i = 0; i < gw->max_peers; i++) {
		gw->peers[i].id = i;
		gw->free_ids[gw->max_peers - 1 - i] = i;
	}
	gw->n_free_ids = gw->max_peers;
	return 0;
}

static unsigned log2_ceil(uint32_t v)
{
	unsigned b = 1;

	while ((1u << b) < v && b < 24)
		b++;
	return b;
}

static int build(struct wg_gw *gw, const struct wg_gw_params *prm, char *err, size_t errlen)
{
	char tag[16];

	snprintf(tag, sizeof(tag), "wg%u", (unsigned)(wg_random_u32() % 100000));
	/* Second-level groups: IPv4 one per /24 holding longer prefixes (a pool of clients
	 * numbered densely fills a /24 with 256 of them), IPv6 about as many for the last
	 * byte of dense /128s plus the levels above. Each is 1 KiB per copy. */
	gw->aips_max = prm->max_allowed_ips ? prm->max_allowed_ips : gw->max_peers * 2 + 1024;
	if (!wg_aead_engine_supported((enum wg_aead_engine)gw->aead_engine)) {
		snprintf(err, errlen, "the ChaCha20-Poly1305 engine %s cannot run on this CPU",
			 wg_aead_engine_name((enum wg_aead_engine)gw->aead_engine));
		return -1;
	}
	if (wg_meta_register() != 0 || make_rings(gw, tag) != 0 || make_rcu(gw) != 0) {
		snprintf(err, errlen, "cannot create rings or RCU state (%s)", rte_strerror(rte_errno));
		return -1;
	}
	/* The default leaves room for every worker's fragment table being full. */
	gw->pool = rte_pktmbuf_pool_create(tag, prm->mbufs ? prm->mbufs :
					   8191 + gw->n_workers * wg_frag_mbufs_max(), 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (gw->pool == NULL || make_workers(gw, tag) != 0 || make_peer_table(gw, tag) != 0 ||
	    wg_index_init(&gw->index, log2_ceil(gw->max_peers * 4)) != 0 ||
	    wg_allowedips_init(&gw->aips, tag, gw->max_peers, gw->aips_max, gw->aips_max,
			       gw->aips_max / 64 + 1024, gw->aips_max / 64 + 4096, gw->rcu,
			       SOCKET_ID_ANY) != 0 ||
	    (gw->ratelimiter = wg_ratelimiter_create(8192)) == NULL ||
	    (gw->retire = wg_retire_create()) == NULL ||
	    (gw->events = wg_events_create(gw->cfg.events.ring_size ?
					   gw->cfg.events.ring_size : 4096)) == NULL) {
		snprintf(err, errlen, "out of memory building the gateway (%s)",
			 rte_strerror(rte_errno));
		return -1;
	}
	if (wg_noise_device_init(&gw->dev, gw->cfg.has_private_key ? gw->cfg.private_key : NULL,
				 &wg_gw_noise_callbacks, gw) != 0) {
		snprintf(err, errlen, "unusable private key");
		return -1;
	}
	if (wg_hs_lcores_init(gw, prm->n_hs_lcores, tag) != 0) {
		snprintf(err, errlen, "cannot create the handshake lcores' rings (%s)",
			 rte_strerror(rte_errno));
		return -1;
	}
	return wg_gw_ports_init(gw, err, errlen);
}

struct wg_gw *wg_gw_create(const struct wg_config *cfg, const struct wg_gw_params *prm,
			   char *err, size_t errlen)
{
	struct wg_gw *gw = rte_zmalloc("wg_gw", sizeof(*gw), RTE_CACHE_LINE_SIZE);

	if (gw == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	gw->cfg = *cfg;   /* shallow: the peers array stays the caller's until create returns */
	/* A configuration made by hand (tests, the benchmark) may leave obfs all zero:
	 * that is plain WireGuard. One made by lib/config has been checked already. */
	wg_obfs_normalize(&gw->cfg.obfs);
	gw->n_workers = prm->n_workers ? prm->n_workers : 1;
	if (gw->n_workers > WG_MAX_WORKERS)
		gw->n_workers = WG_MAX_WORKERS;
	gw->single_lcore = prm->single_lcore;
	gw->max_peers = prm->max_peers ? prm->max_peers : 1024;
	if (gw->max_peers < cfg->n_peers)
		gw->max_peers = cfg->n_peers;
	gw->mtu = cfg->mtu;
	gw->aead_engine = cfg->aead_engine;
	gw->started_unix_ns = wg_unix_ns();
	if (prm->config_path)
		snprintf(gw->config_path, sizeof(gw->config_path), "%s", prm->config_path);
	if (prm->aead_engine) {
		enum wg_aead_engine e;

		if (wg_aead_engine_parse(prm->aead_engine, &e) != 0) {
			snprintf(err, errlen, "unknown ChaCha20-Poly1305 engine '%s' (auto, "
				 "ipsec-mb, ref, avx2, avx512)", prm->aead_engine);
			goto fail;
		}
		gw->aead_engine = (int)e;
	}
	gw->lcore_of[gw->n_workers] = rte_get_main_lcore();
	if (gw->single_lcore)
		gw->lcore_of[0] = rte_get_main_lcore();
	atomic_init(&gw->listen_port, cfg->listen_port);
	if (build(gw, prm, err, errlen) != 0)
		goto fail;
	if (wg_gw_obfs_publish(gw) != 0) {
		snprintf(err, errlen, "out of memory for the obfuscation parameters");
		goto fail;
	}
	for (unsigned i = 0; i < cfg->n_peers; i++) {
		char why[128];

		if (wg_gw_peer_add(gw, &cfg->peers[i], why, sizeof(why)) != 0) {
			snprintf(err, errlen, "peer %u (line %u): %s", i + 1, cfg->peers[i].line, why);
			goto fail;
		}
	}
	if (wg_gw_nat_init(gw, err, errlen) != 0 || wg_gw_rules_init(gw, cfg, err, errlen) != 0)
		goto fail;
	gw->cfg.peers = NULL;
	gw->cfg.n_peers = 0;
	gw->cfg.rule_sets = NULL;    /* the caller's; the gateway keeps its own (dstrules.c) */
	gw->cfg.n_rule_sets = 0;
	return gw;
fail:
	gw->cfg.peers = NULL;
	gw->cfg.n_peers = 0;
	gw->cfg.rule_sets = NULL;
	gw->cfg.n_rule_sets = 0;
	wg_gw_destroy(gw);
	return NULL;
}

void wg_gw_destroy(struct wg_gw *gw)
{
	if (gw == NULL)
		return;
	wg_gw_telemetry_unregister(gw);
	wg_http_close(gw->http);
	wg_http_close(gw->metrics_http);
	free(gw->http_handlers);
	free(gw->metrics_handlers);
	wg_ctl_destroy(gw->uapi);
	wg_ctl_destroy(gw->rpc);
	free(gw->rpc_backend);
	wg_gw_ports_stop(gw);
	wg_gw_nat_destroy(gw);
	if (gw->peers && gw->aips.owners) {
		wg_allowedips_begin(&gw->aips);
		for (uint32_t i = 0; i < gw->max_peers; i++)
			if (atomic_load(&gw->peers[i].live))
				wg_gw_peer_remove(gw, &gw->peers[i]);
		wg_allowedips_commit(&gw->aips);
	}
	if (gw->retire)
		wg_retire_reclaim(gw, true);
	wg_gw_rules_destroy(gw);
	wg_retire_destroy(gw->retire);
	for (unsigned i = 0; i < gw->n_pending; i++)
		rte_pktmbuf_free(gw->pending[i]);
	for (unsigned i = 0; gw->workers && i <= gw->n_workers; i++) {
		struct wg_worker *w = &gw->workers[i];
		struct rte_mbuf *m;

		while (w->handoff && rte_ring_sc_dequeue(w->handoff, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(w->handoff);
		wg_frag_free(w->frag);
		wg_aead_free(w->aead);
		rte_free(w->peer_stats);
	}
	rte_free(gw->workers);
	wg_ratelimiter_free(gw->ratelimiter);
	wg_allowedips_destroy(&gw->aips);
	wg_index_destroy(&gw->index);
	rte_hash_free(gw->peer_keys);
	rte_free(gw->peers);
	free(gw->free_ids);
	for (struct rte_ring **r = (struct rte_ring *[]){ gw->ctrl_ring, gw->hs_ring,
				gw->hs_prio_ring, NULL }; *r; r++) {
		struct rte_mbuf *m;

		while (rte_ring_sc_dequeue(*r, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	}
	wg_hs_lcores_free(gw);
	rte_ring_free(gw->ctrl_ring);
	rte_ring_free(gw->hs_ring);
	rte_ring_free(gw->hs_prio_ring);
	rte_free(atomic_load(&gw->cookie_pub));
	rte_free(atomic_load(&gw->obfs));
	rte_ring_free(gw->event_ring);
	for (unsigned p = 0; p < WG_MAX_PORTS; p++)
		rte_ring_free(gw->ctrl_tx[p]);
	rte_free(gw->rcu);
	rte_mempool_free(gw->pool);
	wg_events_free(gw->events);
	wg_noise_device_wipe(&gw->dev);
	wg_wipe(&gw->cfg, sizeof(gw->cfg));
	rte_free(gw);
}

void wg_gw_request_stop(struct wg_gw *gw)
{
	gw->stop = true;
}
