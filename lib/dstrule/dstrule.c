/* SPDX-License-Identifier: MIT */
/* Destination rules in text and as a reference matcher (wg_dstrule.h). */
#include <stdio.h>
#include <string.h>

#include "wg_dstrule.h"

#define WORDS_MAX 3
#define TEXT_MAX  128

static int refuse(char *why, size_t whylen, const char *text)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", text);
	return -1;
}

/* A decimal number 0..max, digits only, no leading zero. */
static int number(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 5 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int protocol(struct wg_dstrule *r, const char *s, size_t len)
{
	unsigned long v;

	if (len == 3 && !memcmp(s, "tcp", 3))
		r->proto = 6;
	else if (len == 3 && !memcmp(s, "udp", 3))
		r->proto = 17;
	else if (len == 4 && !memcmp(s, "icmp", 4))
		r->proto = r->dst.ip.family == WG_AF_INET ? 1 : 58;
	else if (len == 3 && !memcmp(s, "any", 3))
		r->proto = WG_DSTRULE_ANY_PROTO;
	else if (number(s, len, 255, &v) == 0)
		r->proto = (uint16_t)v;
	else
		return -1;
	return 0;
}

static int ports(struct wg_dstrule *r, const char *s, size_t len)
{
	const char *dash = memchr(s, '-', len);
	unsigned long lo, hi;

	if (dash == NULL) {
		if (number(s, len, 65535, &lo) != 0)
			return -1;
		hi = lo;
	} else if (number(s, (size_t)(dash - s), 65535, &lo) != 0 ||
		   number(dash + 1, len - (size_t)(dash - s) - 1, 65535, &hi) != 0 || hi < lo) {
		return -1;
	}
	r->port_min = (uint16_t)lo;
	r->port_max = (uint16_t)hi;
	return 0;
}

/* Up to WORDS_MAX words separated by single or repeated spaces. */
static int split(const char *s, size_t len, const char *w[WORDS_MAX], size_t wl[WORDS_MAX])
{
	size_t i = 0;
	int n = 0;

	while (i < len) {
		size_t start;

		while (i < len && s[i] == ' ')
			i++;
		if (i == len)
			break;
		if (n == WORDS_MAX)
			return -1;
		start = i;
		while (i < len && s[i] != ' ')
			i++;
		w[n] = s + start;
		wl[n++] = i - start;
	}
	return n;
}

int wg_dstrule_parse(struct wg_dstrule *r, const char *s, size_t len, char *why,
		     size_t whylen)
{
	struct wg_dstrule out = { .proto = WG_DSTRULE_ANY_PROTO, .port_max = 65535 };
	struct wg_prefix masked;
	const char *w[WORDS_MAX];
	size_t wl[WORDS_MAX];
	int n;

	if (s == NULL || len == 0 || len >= TEXT_MAX || memchr(s, '\0', len))
		return refuse(why, whylen, "a rule is PREFIX [tcp|udp|icmp|any|NUMBER [PORT[-PORT]]]");
	n = split(s, len, w, wl);
	if (n < 1)
		return refuse(why, whylen, "a rule is PREFIX [tcp|udp|icmp|any|NUMBER [PORT[-PORT]]]");
	if (wg_prefix_parse(&out.dst, w[0], wl[0], true) != 0)
		return refuse(why, whylen, "not an IP prefix, like 192.0.2.0/24 or 2001:db8::/32");
	masked = out.dst;
	wg_prefix_mask(&masked);
	if (!wg_ip_equal(&masked.ip, &out.dst.ip))
		return refuse(why, whylen, "the prefix has bits set past its length");
	if (n >= 2 && protocol(&out, w[1], wl[1]) != 0)
		return refuse(why, whylen, "the protocol must be tcp, udp, icmp, any or 0..255");
	if (n == 3 && out.proto != 6 && out.proto != 17)
		return refuse(why, whylen, "ports are for tcp and udp only");
	if (n == 3 && ports(&out, w[2], wl[2]) != 0)
		return refuse(why, whylen, "ports must be PORT or LOW-HIGH, 0..65535");
	*r = out;
	return 0;
}

void wg_dstrule_format(char out[WG_DSTRULE_STRLEN], const struct wg_dstrule *r)
{
	char pfx[WG_ADDR_STRLEN];
	size_t n;

	wg_prefix_format(pfx, &r->dst);
	n = (size_t)snprintf(out, WG_DSTRULE_STRLEN, "%s", pfx);
	if (r->proto == WG_DSTRULE_ANY_PROTO)
		return;
	if (r->proto == 6 || r->proto == 17)
		n += (size_t)snprintf(out + n, WG_DSTRULE_STRLEN - n, " %s",
				      r->proto == 6 ? "tcp" : "udp");
	else if ((r->proto == 1 && r->dst.ip.family == WG_AF_INET) ||
		 (r->proto == 58 && r->dst.ip.family == WG_AF_INET6))
		n += (size_t)snprintf(out + n, WG_DSTRULE_STRLEN - n, " icmp");
	else
		n += (size_t)snprintf(out + n, WG_DSTRULE_STRLEN - n, " %u", (unsigned)r->proto);
	if ((r->proto != 6 && r->proto != 17) || (r->port_min == 0 && r->port_max == 65535))
		return;
	if (r->port_min == r->port_max)
		snprintf(out + n, WG_DSTRULE_STRLEN - n, " %u", (unsigned)r->port_min);
	else
		snprintf(out + n, WG_DSTRULE_STRLEN - n, " %u-%u", (unsigned)r->port_min,
			 (unsigned)r->port_max);
}

bool wg_dstrule_match(const struct wg_dstrule *r, const struct wg_ip *dst, uint8_t proto,
		      uint16_t dport)
{
	if (!wg_prefix_contains(&r->dst, dst))
		return false;
	if (r->proto == WG_DSTRULE_ANY_PROTO)
		return true;
	if (r->proto != proto)
		return false;
	if (proto != 6 && proto != 17)
		return true;
	return dport >= r->port_min && dport <= r->port_max;
}
