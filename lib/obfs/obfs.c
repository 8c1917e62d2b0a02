/* SPDX-License-Identifier: MIT */
/*
 * AmneziaWG 1.0's parameters and their rules (see wg_obfs.h). The rules are amneziawg-go's
 * (device/device.go, handlePostConfig), made stricter where it silently changes a value:
 * it takes an h of 1..4 as "the default" whichever type it is for, and we refuse one that
 * is another type's plain value; it bounds sizes by the largest UDP datagram, and we by
 * the tunnel's largest data message, so an obfuscated handshake travels wherever data does.
 */
#include <stdio.h>

#include "wg_obfs.h"

void wg_obfs_default(struct wg_obfs *o)
{
	*o = (struct wg_obfs){ .h = { 1, 2, 3, 4 } };
}

bool wg_obfs_enabled(const struct wg_obfs *o)
{
	for (unsigned i = 0; i < 4; i++)
		if (o->h[i] != i + 1)
			return true;
	return o->s1 || o->s2 || o->jc;
}

void wg_obfs_normalize(struct wg_obfs *o)
{
	for (unsigned i = 0; i < 4; i++)
		if (o->h[i] == 0)
			o->h[i] = i + 1;
}

static int refuse(char *why, size_t whylen, const char *fmt, unsigned a, unsigned b)
{
	if (why && whylen)
		snprintf(why, whylen, fmt, a, b);
	return -1;
}

int wg_obfs_check(const struct wg_obfs *o, unsigned mtu, char *why, size_t whylen)
{
	size_t max = WG_OBFS_MSG_MAX(mtu);

	for (unsigned i = 0; i < 4; i++) {
		if (o->h[i] >= 1 && o->h[i] <= 4 && o->h[i] != i + 1)
			return refuse(why, whylen, "h%u = %u is a plain WireGuard message type "
				      "(h1..h4 must be above 4, or their own type's plain value)",
				      i + 1, o->h[i]);
		for (unsigned j = 0; j < i; j++)
			if (o->h[i] == o->h[j])
				return refuse(why, whylen, "h%u and h%u must differ", j + 1, i + 1);
	}
	if (WG_MSG_INITIATION_LEN + o->s1 > max)
		return refuse(why, whylen, "s1 = %u: a padded initiation must fit the tunnel "
			      "(s1 at most %u)", o->s1, (unsigned)(max - WG_MSG_INITIATION_LEN));
	if (WG_MSG_RESPONSE_LEN + o->s2 > max)
		return refuse(why, whylen, "s2 = %u: a padded response must fit the tunnel "
			      "(s2 at most %u)", o->s2, (unsigned)(max - WG_MSG_RESPONSE_LEN));
	if (WG_MSG_INITIATION_LEN + o->s1 == WG_MSG_RESPONSE_LEN + o->s2)
		return refuse(why, whylen, "s1 = %u and s2 = %u make initiations and responses "
			      "the same length (s1 + 56 must not be s2)", o->s1, o->s2);
	if (o->jc > WG_OBFS_JC_MAX)
		return refuse(why, whylen, "jc = %u: at most %u junk packets", o->jc,
			      WG_OBFS_JC_MAX);
	if (o->jmin > o->jmax)
		return refuse(why, whylen, "jmin = %u is above jmax = %u", o->jmin, o->jmax);
	if (o->jmax > max)
		return refuse(why, whylen, "jmax = %u: junk must fit the tunnel (at most %u)",
			      o->jmax, (unsigned)max);
	return 0;
}

unsigned wg_obfs_junk_len(const struct wg_obfs *o, uint32_t r)
{
	return o->jmin + (unsigned)(r % ((uint32_t)o->jmax - o->jmin + 1));
}
