/* SPDX-License-Identifier: MIT */
/*
 * Destination rules: what a peer may reach through the gateway (the FORWARD rules of the
 * wg-quick recipes). A rule allows one destination prefix, optionally only one protocol and,
 * for TCP and UDP, one range of destination ports. A peer under a set of rules may send
 * only what one of them allows; a peer under none may send anything (docs/nat.md).
 *
 * The text form, shared by the configuration file, the JSON-RPC socket and wgdpctl import:
 *   "PREFIX"                      any protocol to PREFIX
 *   "PREFIX PROTO"                PROTO is tcp, udp, icmp (ICMP or ICMPv6 by the family)
 *                                 or a protocol number 0..255
 *   "PREFIX PROTO PORT[-PORT]"    tcp or udp only, ports 0..65535
 * A bare address is a host prefix; host bits below the prefix length are refused.
 */
#ifndef WG_DSTRULE_H
#define WG_DSTRULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_addr.h"

#define WG_DSTRULE_ANY_PROTO 0xffff
#define WG_DSTRULE_STRLEN    96      /* the longest text wg_dstrule_format writes, NUL too */

struct wg_dstrule {
	struct wg_prefix dst;
	uint16_t proto;              /* an IP protocol number, or WG_DSTRULE_ANY_PROTO */
	uint16_t port_min, port_max; /* TCP/UDP destination ports; 0..65535 for any */
};

/* 0, or -1 with a reason in why. */
int wg_dstrule_parse(struct wg_dstrule *r, const char *s, size_t len, char *why,
		     size_t whylen);
/* The canonical text, which wg_dstrule_parse reads back to the same rule. */
void wg_dstrule_format(char out[WG_DSTRULE_STRLEN], const struct wg_dstrule *r);

/* Does the rule allow a packet of this family's protocol to dst:dport? (dport is ignored
 * for a protocol other than TCP and UDP.) The reference the data path's classifier is
 * tested against. */
bool wg_dstrule_match(const struct wg_dstrule *r, const struct wg_ip *dst, uint8_t proto,
		      uint16_t dport);

#endif
