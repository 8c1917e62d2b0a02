/* SPDX-License-Identifier: MIT */
/*
 * SaveConfig: the running configuration (the file's interface, ports and listeners with
 * today's listen port, fwmark and key; every peer with its current endpoint, allowed IPs,
 * keepalive, preshared key, whether it is disabled and its destination rules; the
 * masquerade, its bounds and the rule sets as live changes left them) written back with wg_config_save,
 * atomically, where the gateway started from (or interface.save_path). It runs on the
 * control lcore: a file of 100,000 peers takes tens of milliseconds (docs/operations.md).
 */
#include <stdlib.h>
#include <string.h>

#include "gw_ctl.h"
#include "gw_nat.h"
#include "gw_log.h"
#include "wg_crypto.h"

static int copy_peer(const struct wg_gw *gw, const struct wg_peer *peer,
		     struct wg_config_peer *cp)
{
	const struct wg_peer_ep *ep = atomic_load_explicit(&peer->ep, memory_order_relaxed);

	(void)gw;
	memcpy(cp->public_key, peer->noise.remote_static, WG_KEY_LEN);
	cp->has_preshared_key = !wg_is_zero(peer->noise.preshared_key, WG_KEY_LEN);
	if (cp->has_preshared_key)
		memcpy(cp->preshared_key, peer->noise.preshared_key, WG_KEY_LEN);
	cp->endpoint = ep ? ep->ep : peer->conf_ep;
	cp->persistent_keepalive = peer->keepalive;
	cp->disabled = peer->disabled;
	cp->n_allowed_ips = peer->n_aips;
	if (peer->n_aips) {
		cp->allowed_ips = malloc(peer->n_aips * sizeof(*cp->allowed_ips));
		if (cp->allowed_ips == NULL)
			return -1;
		memcpy(cp->allowed_ips, peer->aips, peer->n_aips * sizeof(*cp->allowed_ips));
	}
	return 0;
}

/* The identity as it is now: the key file is kept if the key is still the one it holds. */
static void identity(const struct wg_gw *gw, struct wg_config *c)
{
	uint8_t clamped[WG_KEY_LEN];
	bool same;

	memcpy(clamped, c->private_key, WG_KEY_LEN);
	wg_x25519_clamp(clamped);
	same = c->has_private_key == gw->dev.has_identity &&
	       (!gw->dev.has_identity || wg_equal(clamped, gw->dev.static_private, WG_KEY_LEN));
	wg_wipe(clamped, sizeof(clamped));
	if (same)
		return;
	c->private_key_file[0] = '\0';
	c->has_private_key = gw->dev.has_identity;
	memcpy(c->private_key, gw->dev.static_private, WG_KEY_LEN);
}

/* The destination rule sets as they are now, copied (wg_config_free frees them). */
static int copy_rule_sets(struct wg_gw *gw, struct wg_config *c)
{
	const struct wg_dstrule *rules;
	const char *name;
	unsigned n = 0, users;
	size_t k;

	while (wg_gw_rules_at(gw, n, &name, &rules, &k, &users))
		n++;
	c->rule_sets = NULL;
	c->n_rule_sets = 0;
	if (n == 0)
		return 0;
	c->rule_sets = calloc(n, sizeof(*c->rule_sets));
	if (c->rule_sets == NULL)
		return -1;
	for (unsigned i = 0; i < n && wg_gw_rules_at(gw, i, &name, &rules, &k, &users); i++) {
		struct wg_config_rule_set *rs = &c->rule_sets[i];

		c->n_rule_sets = i + 1;
		snprintf(rs->name, sizeof(rs->name), "%s", name);
		rs->n_rules = (unsigned)k;
		if (k && (rs->rules = malloc(k * sizeof(*rules))) == NULL)
			return -1;
		if (k)
			memcpy(rs->rules, rules, k * sizeof(*rules));
	}
	return 0;
}

static unsigned rule_set_of(struct wg_gw *gw, const struct wg_config *c,
			    const struct wg_peer *peer)
{
	const char *name = wg_gw_rules_of(gw, peer);

	for (unsigned i = 0; name && i < c->n_rule_sets; i++)
		if (strcmp(c->rule_sets[i].name, name) == 0)
			return i + 1;
	return 0;
}

int wg_gw_save_config(struct wg_gw *gw, const char **path, uint32_t *peers, char *why,
		      size_t whylen)
{
	struct wg_config c = gw->cfg;
	uint32_t n = 0;
	int rc = -1;

	*path = gw->cfg.save_path[0] ? gw->cfg.save_path : gw->config_path;
	if ((*path)[0] == '\0') {
		snprintf(why, whylen, "the gateway was not started from a file and has no "
			 "interface.save_path");
		return -1;
	}
	c.listen_port = atomic_load_explicit(&gw->listen_port, memory_order_relaxed);
	identity(gw, &c);
	c.peers = calloc(gw->n_peers + 1, sizeof(*c.peers));
	if (c.peers == NULL || copy_rule_sets(gw, &c) != 0)
		goto out;
	for (uint32_t id = 0; id < gw->max_peers && n < gw->n_peers; id++) {
		struct wg_peer *peer = &gw->peers[id];

		if (!atomic_load_explicit(&peer->live, memory_order_relaxed))
			continue;
		c.n_peers = n + 1;
		if (copy_peer(gw, peer, &c.peers[n]) != 0)
			goto out;
		c.peers[n++].rule_set = rule_set_of(gw, &c, peer);
	}
	c.n_peers = n;
	rc = wg_config_save(&c, *path, why, whylen);
	*peers = n;
	if (rc == 0)
		WG_LOG(NOTICE, gw, "configuration saved to %s (%u peers)", *path, n);
out:
	if (rc != 0 && c.peers == NULL)
		snprintf(why, whylen, "out of memory");
	wg_config_free(&c);   /* the copies of the peers; wipes the key copy */
	wg_wipe(&c, sizeof(c));
	return rc;
}
