/* SPDX-License-Identifier: MIT */
/*
 * Internal to the config module: the parse state and the typed readers of config.c, for
 * the sections parsed in files of their own (config_nat.c: masquerade, the NAT's bounds,
 * destination rules). Each reader returns 1 (found), 0 (absent) or -1 (refused, with the
 * message written).
 */
#ifndef WG_CONFIG_PARSE_H
#define WG_CONFIG_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "wg_config.h"

#define WG_CFG_QUOTE_LEN 100   /* user text quoted in a message: 96 characters, "...", NUL */

struct parse {
	struct wg_config *c;            /* the scratch being filled */
	const char *text;               /* what libconfig read, to find lines it misplaces */
	const char *origin;             /* the FILE in "FILE:LINE: reason" */
	const char *dir;                /* relative key files resolve against dir[0..dir_len) */
	size_t dir_len;
	char *err;
	size_t errlen;
	uint8_t own_public[WG_KEY_LEN]; /* to refuse a peer that is the interface itself */
	const char *name;               /* the name it is started as (wgdp --name), or NULL */
};

/* Refuse at setting s: always -1. */
int wg_cfg_fail(struct parse *p, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* User text for a message: cut short, unprintable characters as '?'. */
const char *wg_cfg_quote(char out[WG_CFG_QUOTE_LEN], const char *s);
int wg_cfg_check_known(struct parse *p, const config_setting_t *g, const char *where,
		       const char *const known[]);
int wg_cfg_get_string(struct parse *p, const config_setting_t *g, const char *name,
		      const config_setting_t **at, const char **out);
int wg_cfg_get_int(struct parse *p, const config_setting_t *g, const char *name,
		   long long min, long long max, long long *out);
/* An array or list of strings (the setting in *out). */
int wg_cfg_get_strings(struct parse *p, const config_setting_t *g, const char *name,
		       const config_setting_t **out);

/* config_nat.c */
/* A port's `masquerade` (true, false or a group), after its addresses and role. */
int wg_cfg_parse_masq(struct parse *p, const config_setting_t *g, struct wg_config_port *port);
/* The top level's `nat` group and `destination_rules` list (before the peers). */
int wg_cfg_parse_nat(struct parse *p, const config_setting_t *root);
/* A peer's `destination_rules`: the name of a set. */
int wg_cfg_peer_rules(struct parse *p, const config_setting_t *g, struct wg_config_peer *peer);
void wg_cfg_free_rule_sets(struct wg_config *c);

#endif
