/* SPDX-License-Identifier: MIT */
/*
 * Addresses: tables of good and bad text for each parser with the canonical form each good
 * one formats to (which must parse back to the same value), then prefix containment and
 * masking against a naive bit-by-bit oracle over random values.
 */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "wg_addr.h"

/* Text with an explicit length, so that embedded NULs can be given. */
struct text {
	const char *s;
	size_t len;             /* 0: strlen(s) */
};

#define T(str) { str, 0 }
#define TN(str) { str, sizeof(str) - 1 }   /* with any NUL written inside */

static size_t len_of(const struct text *t)
{
	return t->len ? t->len : strlen(t->s);
}

struct ip_case {
	struct text in;
	const char *out;        /* canonical form; NULL: refused */
	uint8_t family;
};

static const struct ip_case ip_cases[] = {
	{ T("192.0.2.1"), "192.0.2.1", WG_AF_INET },
	{ T("0.0.0.0"), "0.0.0.0", WG_AF_INET },
	{ T("255.255.255.255"), "255.255.255.255", WG_AF_INET },
	{ T("2001:db8::1"), "2001:db8::1", WG_AF_INET6 },
	{ T("2001:DB8::A"), "2001:db8::a", WG_AF_INET6 },
	{ T("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1", WG_AF_INET6 },
	{ T("::"), "::", WG_AF_INET6 },
	{ T("::1"), "::1", WG_AF_INET6 },
	{ T("fe80::1"), "fe80::1", WG_AF_INET6 },
	{ T("::ffff:192.0.2.1"), "::ffff:192.0.2.1", WG_AF_INET6 },
	{ T("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"),
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", WG_AF_INET6 },
	{ T(""), NULL, 0 },
	{ T(" 192.0.2.1"), NULL, 0 },
	{ T("192.0.2.1 "), NULL, 0 },
	{ T("192.0.2.1\n"), NULL, 0 },
	{ T("\t::1"), NULL, 0 },
	{ T("192.0.2"), NULL, 0 },
	{ T("192.0.2.256"), NULL, 0 },
	{ T("192.0.2.1.5"), NULL, 0 },
	{ T("01.2.3.4"), NULL, 0 },
	{ T("+1.2.3.4"), NULL, 0 },
	{ T("-1.2.3.4"), NULL, 0 },
	{ T("0x7f.0.0.1"), NULL, 0 },
	{ T("127.1"), NULL, 0 },
	{ T("localhost"), NULL, 0 },
	{ T("::1%eth0"), NULL, 0 },
	{ T("fe80::1%1"), NULL, 0 },
	{ T("2001:db8::g"), NULL, 0 },
	{ T("2001:db8:::1"), NULL, 0 },
	{ T("1:2:3:4:5:6:7:8:9"), NULL, 0 },
	{ T("[::1]"), NULL, 0 },
	{ T("192.0.2.1/24"), NULL, 0 },
	{ T("192.0.2.1:80"), NULL, 0 },
	{ TN("192.0.2.1\0"), NULL, 0 },
	{ TN("192.0\0.2.1"), NULL, 0 },
	{ TN("\0"), NULL, 0 },
	{ T("0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001"), NULL, 0 },
};

struct prefix_case {
	struct text in;
	bool allow_host_bits;
	const char *out;
};

static const struct prefix_case prefix_cases[] = {
	{ T("10.0.0.0/8"), false, "10.0.0.0/8" },
	{ T("10.0.0.1/8"), false, NULL },
	{ T("10.0.0.1/8"), true, "10.0.0.1/8" },
	{ T("192.0.2.1/24"), true, "192.0.2.1/24" },
	{ T("192.0.2.1"), false, "192.0.2.1/32" },
	{ T("0.0.0.0/0"), false, "0.0.0.0/0" },
	{ T("1.2.3.4/0"), false, NULL },
	{ T("1.2.3.4/0"), true, "1.2.3.4/0" },
	{ T("10.0.0.0/32"), false, "10.0.0.0/32" },
	{ T("10.1.2.128/25"), false, "10.1.2.128/25" },
	{ T("10.1.2.129/25"), false, NULL },
	{ T("::/0"), false, "::/0" },
	{ T("fd00::/64"), false, "fd00::/64" },
	{ T("fd00::1/64"), false, NULL },
	{ T("fd00::1/64"), true, "fd00::1/64" },
	{ T("2001:db8::1"), false, "2001:db8::1/128" },
	{ T("2001:db8::/127"), false, "2001:db8::/127" },
	{ T("2001:db8::1/127"), false, NULL },
	{ T("::ffff:10.0.0.0/104"), false, "::ffff:10.0.0.0/104" },
	{ T("10.0.0.0/33"), true, NULL },
	{ T("::/129"), true, NULL },
	{ T("10.0.0.0/"), true, NULL },
	{ T("10.0.0.0/+8"), true, NULL },
	{ T("10.0.0.0/-8"), true, NULL },
	{ T("10.0.0.0/08"), true, NULL },
	{ T("10.0.0.0/00"), true, NULL },
	{ T("10.0.0.0/8 "), true, NULL },
	{ T("10.0.0.0/ 8"), true, NULL },
	{ T("10.0.0.0 /8"), true, NULL },
	{ T(" 10.0.0.0/8"), true, NULL },
	{ T("10.0.0.0/8x"), true, NULL },
	{ T("10.0.0.0/0x8"), true, NULL },
	{ T("10.0.0.0/8/8"), true, NULL },
	{ T("10.0.0.0/999999999999999999999"), true, NULL },
	{ T("/8"), true, NULL },
	{ T("/"), true, NULL },
	{ T(""), true, NULL },
	{ T("fd00::%eth0/64"), true, NULL },
	{ TN("10.0.0.0/8\0"), true, NULL },
	{ TN("10.0.0.0/\08"), true, NULL },
};

struct endpoint_case {
	struct text in;
	const char *out;
};

static const struct endpoint_case endpoint_cases[] = {
	{ T("192.0.2.1:51820"), "192.0.2.1:51820" },
	{ T("192.0.2.1:1"), "192.0.2.1:1" },
	{ T("192.0.2.1:65535"), "192.0.2.1:65535" },
	{ T("[2001:db8::1]:51820"), "[2001:db8::1]:51820" },
	{ T("[2001:DB8:0::1]:443"), "[2001:db8::1]:443" },
	{ T("[::ffff:192.0.2.1]:1"), "[::ffff:192.0.2.1]:1" },
	{ T("[::]:9"), "[::]:9" },
	{ T("192.0.2.1:0"), NULL },
	{ T("192.0.2.1:65536"), NULL },
	{ T("192.0.2.1:99999999999999999999"), NULL },
	{ T("192.0.2.1:"), NULL },
	{ T("192.0.2.1"), NULL },
	{ T(":51820"), NULL },
	{ T("192.0.2.1:+80"), NULL },
	{ T("192.0.2.1:-80"), NULL },
	{ T("192.0.2.1:080"), NULL },
	{ T("192.0.2.1:0x50"), NULL },
	{ T("192.0.2.1:80 "), NULL },
	{ T(" 192.0.2.1:80"), NULL },
	{ T("192.0.2.1 :80"), NULL },
	{ T("192.0.2.1: 80"), NULL },
	{ T("192.0.2.1:80:80"), NULL },
	{ T("2001:db8::1:51820"), NULL },
	{ T("::1:80"), NULL },
	{ T("[2001:db8::1]"), NULL },
	{ T("[2001:db8::1]:"), NULL },
	{ T("[2001:db8::1]80"), NULL },
	{ T("[2001:db8::1]:80x"), NULL },
	{ T("[2001:db8::1]:0"), NULL },
	{ T("[192.0.2.1]:80"), NULL },
	{ T("[fe80::1%eth0]:80"), NULL },
	{ T("[[::1]]:80"), NULL },
	{ T("[::1]:80]"), NULL },
	{ T("[::1:80"), NULL },
	{ T("host.example:80"), NULL },
	{ T("[]:80"), NULL },
	{ T(""), NULL },
	{ TN("192.0.2.1:80\0"), NULL },
	{ TN("192.0.2.1:8\0" "0"), NULL },
};

static bool zero(const uint8_t *a, size_t n)
{
	while (n--)
		if (a[n])
			return false;
	return true;
}

/* A parser that refuses must leave its output alone. */
#define POISON 0xa5

static void test_ip_table(void)
{
	for (size_t i = 0; i < sizeof(ip_cases) / sizeof(ip_cases[0]); i++) {
		const struct ip_case *t = &ip_cases[i];
		struct wg_ip ip, back, poison;
		char out[WG_ADDR_STRLEN];
		int rc;

		memset(&ip, POISON, sizeof(ip));
		poison = ip;
		rc = wg_ip_parse(&ip, t->in.s, len_of(&t->in));
		if (!t->out) {
			if (!CHECK_EQ(rc, -1))
				fprintf(stderr, "  accepted ip case %zu '%s'\n", i, t->in.s);
			CHECK_MEM(&ip, &poison, sizeof(ip));
			continue;
		}
		if (!CHECK_EQ(rc, 0)) {
			fprintf(stderr, "  refused ip case %zu '%s'\n", i, t->in.s);
			continue;
		}
		CHECK_EQ(ip.family, t->family);
		wg_ip_format(out, &ip);
		if (!CHECK(strcmp(out, t->out) == 0))
			fprintf(stderr, "  ip case %zu: '%s' != '%s'\n", i, out, t->out);
		CHECK_EQ(wg_ip_parse(&back, out, strlen(out)), 0);
		CHECK(wg_ip_equal(&back, &ip));
		if (ip.family == WG_AF_INET)   /* nothing stale past the 4 bytes */
			CHECK(zero(ip.addr + 4, 12));
	}
	CHECK_EQ(wg_ip_parse(&(struct wg_ip){ 0 }, NULL, 0), -1);
}

static void test_prefix_table(void)
{
	for (size_t i = 0; i < sizeof(prefix_cases) / sizeof(prefix_cases[0]); i++) {
		const struct prefix_case *t = &prefix_cases[i];
		struct wg_prefix p, back, poison;
		char out[WG_ADDR_STRLEN];
		int rc;

		memset(&p, POISON, sizeof(p));
		poison = p;
		rc = wg_prefix_parse(&p, t->in.s, len_of(&t->in), t->allow_host_bits);
		if (!t->out) {
			if (!CHECK_EQ(rc, -1))
				fprintf(stderr, "  accepted prefix case %zu '%s'\n", i, t->in.s);
			CHECK_MEM(&p, &poison, sizeof(p));
			continue;
		}
		if (!CHECK_EQ(rc, 0)) {
			fprintf(stderr, "  refused prefix case %zu '%s'\n", i, t->in.s);
			continue;
		}
		wg_prefix_format(out, &p);
		if (!CHECK(strcmp(out, t->out) == 0))
			fprintf(stderr, "  prefix case %zu: '%s' != '%s'\n", i, out, t->out);
		CHECK_EQ(wg_prefix_parse(&back, out, strlen(out), t->allow_host_bits), 0);
		CHECK(wg_ip_equal(&back.ip, &p.ip));
		CHECK_EQ(back.len, p.len);
	}
}

static void test_endpoint_table(void)
{
	for (size_t i = 0; i < sizeof(endpoint_cases) / sizeof(endpoint_cases[0]); i++) {
		const struct endpoint_case *t = &endpoint_cases[i];
		struct wg_endpoint e, back, poison;
		char out[WG_ADDR_STRLEN];
		int rc;

		memset(&e, POISON, sizeof(e));
		poison = e;
		rc = wg_endpoint_parse(&e, t->in.s, len_of(&t->in));
		if (!t->out) {
			if (!CHECK_EQ(rc, -1))
				fprintf(stderr, "  accepted endpoint case %zu '%s'\n", i, t->in.s);
			CHECK_MEM(&e, &poison, sizeof(e));
			continue;
		}
		if (!CHECK_EQ(rc, 0)) {
			fprintf(stderr, "  refused endpoint case %zu '%s'\n", i, t->in.s);
			continue;
		}
		wg_endpoint_format(out, &e);
		if (!CHECK(strcmp(out, t->out) == 0))
			fprintf(stderr, "  endpoint case %zu: '%s' != '%s'\n", i, out, t->out);
		CHECK_EQ(wg_endpoint_parse(&back, out, strlen(out)), 0);
		CHECK(wg_ip_equal(&back.ip, &e.ip));
		CHECK_EQ(back.port, e.port);
	}
}

/* Unset values format as "(none)", as wg prints a missing endpoint. */
static void test_format_unset(void)
{
	struct wg_ip ip = { 0 };
	struct wg_prefix p = { 0 };
	struct wg_endpoint e = { 0 };
	char out[WG_ADDR_STRLEN];

	wg_ip_format(out, &ip);
	CHECK(strcmp(out, "(none)") == 0);
	wg_prefix_format(out, &p);
	CHECK(strcmp(out, "(none)") == 0);
	wg_endpoint_format(out, &e);
	CHECK(strcmp(out, "(none)") == 0);
	CHECK(wg_ip_equal(&ip, &(struct wg_ip){ 0 }));
	CHECK(!wg_prefix_contains(&p, &ip));
}

struct contains_case {
	const char *prefix;
	const char *ip;
	bool in;
};

static const struct contains_case contains_cases[] = {
	{ "10.0.0.0/8", "10.255.1.2", true },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "10.0.0.1/8", "10.9.9.9", true },      /* host bits of the prefix do not matter */
	{ "0.0.0.0/0", "203.0.113.9", true },
	{ "192.0.2.128/25", "192.0.2.127", false },
	{ "192.0.2.128/25", "192.0.2.128", true },
	{ "192.0.2.1/32", "192.0.2.1", true },
	{ "192.0.2.1/32", "192.0.2.2", false },
	{ "::/0", "2001:db8::1", true },
	{ "::/0", "10.0.0.1", false },           /* families never mix */
	{ "0.0.0.0/0", "::1", false },
	{ "::ffff:0.0.0.0/96", "10.0.0.1", false },
	{ "::ffff:0.0.0.0/96", "::ffff:10.0.0.1", true },
	{ "2001:db8::/33", "2001:db8:7fff::1", true },
	{ "2001:db8::/33", "2001:db8:8000::1", false },
	{ "fd00::1/128", "fd00::1", true },
	{ "fd00::1/128", "fd00::2", false },
};

static void test_contains_table(void)
{
	for (size_t i = 0; i < sizeof(contains_cases) / sizeof(contains_cases[0]); i++) {
		const struct contains_case *t = &contains_cases[i];
		struct wg_prefix p;
		struct wg_ip ip;

		CHECK_EQ(wg_prefix_parse(&p, t->prefix, strlen(t->prefix), true), 0);
		CHECK_EQ(wg_ip_parse(&ip, t->ip, strlen(t->ip)), 0);
		if (!CHECK_EQ(wg_prefix_contains(&p, &ip), t->in))
			fprintf(stderr, "  contains case %zu: %s in %s\n", i, t->ip, t->prefix);
	}
}

/* The oracle: bit i of an address, most significant first. */
static int bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static void random_ip(struct wg_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = rand() % 2 ? WG_AF_INET : WG_AF_INET6;
	for (unsigned i = 0; i < (ip->family == WG_AF_INET ? 4u : 16u); i++)
		ip->addr[i] = (uint8_t)rand();
}

/* Random prefixes and addresses, with the second often close to the first so that both
 * answers come up at every length. */
static void test_random_oracle(void)
{
	for (int n = 0; n < 20000; n++) {
		struct wg_prefix p, m;
		struct wg_ip ip;
		char out[WG_ADDR_STRLEN];
		unsigned bits, same = 1;

		random_ip(&p.ip);
		bits = p.ip.family == WG_AF_INET ? 32 : 128;
		p.len = (uint8_t)(rand() % (bits + 1));
		ip = p.ip;
		if (rand() % 2)
			ip.addr[rand() % (bits / 8)] ^= (uint8_t)(1u << (rand() % 8));
		for (unsigned i = 0; i < p.len; i++)
			same &= bit(p.ip.addr, i) == bit(ip.addr, i);
		CHECK_EQ(wg_prefix_contains(&p, &ip), same);

		m = p;
		wg_prefix_mask(&m);
		for (unsigned i = 0; i < 128; i++)
			if (bit(m.ip.addr, i) != (i < p.len && bit(p.ip.addr, i)))
				CHECK(0);
		/* Formatting round-trips, host bits and all. */
		wg_prefix_format(out, &p);
		CHECK_EQ(wg_prefix_parse(&m, out, strlen(out), true), 0);
		CHECK(wg_ip_equal(&m.ip, &p.ip) && m.len == p.len);
		/* Refused without host bits exactly when some bit past the length is set. */
		same = 1;
		for (unsigned i = p.len; i < bits; i++)
			same &= !bit(p.ip.addr, i);
		CHECK_EQ(wg_prefix_parse(&m, out, strlen(out), false), same ? 0 : -1);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	srand(1);
	test_ip_table();
	test_prefix_table();
	test_endpoint_table();
	test_format_unset();
	test_contains_table();
	test_random_oracle();
	return check_report("addr");
}
