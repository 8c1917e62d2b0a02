/* SPDX-License-Identifier: MIT */
/*
 * The shared state's small parts: drop reasons by name, the clocks, the mbuf field that
 * carries a packet's meta, and the keypairs as the workers see them (published through an
 * atomic pointer, freed through the RCU retire queue).
 */
#include <string.h>
#include <time.h>

#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "gw_state.h"
#include "wg_crypto.h"

int wg_meta_offset = -1;

static const char *const drop_names[WG_DROP_COUNT] = {
#define WG_DROP_NAME(name, text) [WG_DROP_##name] = #name,
	WG_DROPS(WG_DROP_NAME)
#undef WG_DROP_NAME
};

static const char *const drop_texts[WG_DROP_COUNT] = {
#define WG_DROP_TEXT(name, text) [WG_DROP_##name] = text,
	WG_DROPS(WG_DROP_TEXT)
#undef WG_DROP_TEXT
};

const char *wg_drop_name(enum wg_drop d)
{
	return (unsigned)d < WG_DROP_COUNT ? drop_names[d] : "UNKNOWN";
}

const char *wg_drop_text(enum wg_drop d)
{
	return (unsigned)d < WG_DROP_COUNT ? drop_texts[d] : "unknown";
}

uint64_t wg_gw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int wg_meta_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "wgdp_meta",
		.size = sizeof(struct wg_meta),
		.align = __alignof__(struct wg_meta),
	};

	if (wg_meta_offset < 0)
		wg_meta_offset = rte_mbuf_dynfield_register(&desc);
	return wg_meta_offset < 0 ? -1 : 0;
}

uint64_t wg_unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void free_keypair(struct wg_gw *gw, void *obj)
{
	struct wg_gw_keypair *gkp = obj;

	(void)gw;
	wg_keypair_wipe(&gkp->kp);
	wg_wipe(gkp, sizeof(*gkp));
	rte_free(gkp);
}

void wg_peer_retire_keypairs(struct wg_gw *gw, struct wg_keypair **kps, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct wg_gw_keypair *gkp = container_of(kps[i], struct wg_gw_keypair, kp);

		wg_index_free(&gw->index, gkp->kp.local_index);
		wg_gw_retire(gw, gkp, free_keypair);
	}
}

/* Workers send on the current keypair; publish it after every slot change. */
void wg_peer_publish_keypair(struct wg_gw *gw, struct wg_peer *peer)
{
	struct wg_keypair *cur = peer->noise.keypairs.current;

	wg_peer_set_tx(gw, peer, cur ? container_of(cur, struct wg_gw_keypair, kp) : NULL);
}

void wg_peer_set_tx(struct wg_gw *gw, struct wg_peer *peer, struct wg_gw_keypair *kp)
{
	bool had = atomic_load_explicit(&peer->tx_kp, memory_order_relaxed) != NULL;

	gw->n_with_session += (kp != NULL) - had;
	atomic_store_explicit(&peer->tx_kp, kp, memory_order_release);
}

const char *wg_gw_aead(const struct wg_gw *gw)
{
	return wg_aead_describe(gw->workers[0].aead);
}

bool wg_gw_stopping(const struct wg_gw *gw)
{
	return gw->stop;
}
