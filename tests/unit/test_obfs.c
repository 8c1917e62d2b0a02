/* SPDX-License-Identifier: MIT */
/*
 * AmneziaWG's obfuscation (lib/obfs): the validity rules as a table of cases, the form of
 * every kind of datagram (padded and typed handshakes, data and cookie replies, plain
 * messages with and without accept_plain, junk, lengths where a data message lines up
 * with a padded handshake), the padding and type mapping for sending, and junk sizes.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "wg_crypto.h"
#include "wg_obfs.h"

#define H1 1020325451u
#define H2 3288052141u
#define H3 1766607858u
#define H4 2528465083u

static struct wg_obfs amnezia(void)
{
	return (struct wg_obfs){ .h = { H1, H2, H3, H4 }, .s1 = 15, .s2 = 68, .jc = 4,
				 .jmin = 40, .jmax = 70 };
}

struct rule_case {
	const char *what;
	struct wg_obfs o;
	int want;
	const char *why;       /* a word the refusal must contain */
};

static void test_rules(void)
{
	const struct rule_case cases[] = {
		{ "plain", { .h = { 1, 2, 3, 4 } }, 0, NULL },
		{ "amnezia", amnezia(), 0, NULL },
		{ "junk only", { .h = { 1, 2, 3, 4 }, .jc = 3, .jmin = 10, .jmax = 10 }, 0, NULL },
		{ "h equal", { .h = { 5, 5, 7, 8 } }, -1, "h1 and h2" },
		{ "h3 = h4", { .h = { 5, 6, 9, 9 } }, -1, "h3 and h4" },
		{ "h1 = 2", { .h = { 2, 6, 7, 8 } }, -1, "h1 = 2" },
		{ "h4 = 1", { .h = { 5, 6, 7, 1 } }, -1, "h4 = 1" },
		{ "h1 = plain 1", { .h = { 1, 6, 7, 8 } }, 0, NULL },
		{ "h4 = 0xffffffff", { .h = { 5, 6, 7, 0xffffffffu } }, 0, NULL },
		{ "s1 + 56 = s2", { .h = { 1, 2, 3, 4 }, .s1 = 10, .s2 = 66 }, -1, "same length" },
		{ "s1 at the limit", { .h = { 1, 2, 3, 4 }, .s1 = 1452 - 148 }, 0, NULL },
		{ "s1 past it", { .h = { 1, 2, 3, 4 }, .s1 = 1452 - 147 }, -1, "s1" },
		{ "s2 at the limit", { .h = { 1, 2, 3, 4 }, .s2 = 1452 - 92 }, 0, NULL },
		{ "s2 past it", { .h = { 1, 2, 3, 4 }, .s2 = 1452 - 91 }, -1, "s2" },
		{ "jmin > jmax", { .h = { 1, 2, 3, 4 }, .jc = 1, .jmin = 71, .jmax = 70 }, -1,
		  "jmin" },
		{ "jmax past the tunnel", { .h = { 1, 2, 3, 4 }, .jc = 1, .jmax = 1453 }, -1,
		  "jmax" },
		{ "jc 128", { .h = { 1, 2, 3, 4 }, .jc = 128 }, 0, NULL },
		{ "jc 129", { .h = { 1, 2, 3, 4 }, .jc = 129 }, -1, "jc" },
	};
	char why[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = wg_obfs_check(&cases[i].o, 1420, why, sizeof(why));

		if (!CHECK_EQ(rc, cases[i].want))
			fprintf(stderr, "  case '%s': %s\n", cases[i].what, rc ? why : "accepted");
		else if (cases[i].why && !CHECK(strstr(why, cases[i].why) != NULL))
			fprintf(stderr, "  case '%s': '%s'\n", cases[i].what, why);
	}
	/* A smaller tunnel bounds padding lower. */
	struct wg_obfs o = { .h = { 1, 2, 3, 4 }, .s1 = 1300 };
	CHECK_EQ(wg_obfs_check(&o, 1420, NULL, 0), 0);
	CHECK_EQ(wg_obfs_check(&o, 1280, NULL, 0), -1);
}

static void test_enabled(void)
{
	struct wg_obfs o;

	wg_obfs_default(&o);
	CHECK(!wg_obfs_enabled(&o));
	o.accept_plain = true;
	CHECK(!wg_obfs_enabled(&o));
	o.jc = 1;
	CHECK(wg_obfs_enabled(&o));
	wg_obfs_default(&o);
	o.s2 = 1;
	CHECK(wg_obfs_enabled(&o));
	wg_obfs_default(&o);
	o.h[3] = 77;
	CHECK(wg_obfs_enabled(&o));
	o = (struct wg_obfs){ .h = { 0, 9, 0, 0 } };
	wg_obfs_normalize(&o);
	CHECK(o.h[0] == 1 && o.h[1] == 9 && o.h[2] == 3 && o.h[3] == 4);
}

/* A message of type t in a form, as a sender lays it out: padding, then the type field. */
static size_t make(uint8_t *buf, const struct wg_obfs *o, unsigned t, bool obfs, size_t body)
{
	unsigned pad = wg_obfs_pad(o, t, obfs);
	size_t len = t == WG_MSG_INITIATION ? WG_MSG_INITIATION_LEN :
		     t == WG_MSG_RESPONSE ? WG_MSG_RESPONSE_LEN :
		     t == WG_MSG_COOKIE_REPLY ? WG_MSG_COOKIE_REPLY_LEN : body;

	wg_random(buf, pad + len);
	wg_put_le32(buf + pad, wg_obfs_type(o, t, obfs));
	return pad + len;
}

static void check_class(const struct wg_obfs *o, const uint8_t *buf, size_t len,
			unsigned want, size_t want_off, bool want_obfs)
{
	size_t off = 99;
	bool obfs = !want_obfs;
	unsigned got = wg_obfs_classify(o, buf, len, &off, &obfs);

	if (!CHECK_EQ(got, want))
		fprintf(stderr, "  length %zu, type field %08x\n", len,
			len >= 4 ? wg_get_le32(buf) : 0);
	if (want >= WG_MSG_INITIATION && want <= WG_MSG_DATA) {
		CHECK_EQ(off, want_off);
		CHECK_EQ(obfs, want_obfs);
	}
}

static void test_classify(void)
{
	struct wg_obfs o = amnezia();
	uint8_t buf[2048];
	size_t len;

	for (unsigned pass = 0; pass < 2; pass++) {
		o.accept_plain = pass == 1;
		for (unsigned t = 1; t <= 4; t++) {
			len = make(buf, &o, t, true, 32 + 16 * t);
			check_class(&o, buf, len, t, wg_obfs_pad(&o, t, true), true);
			/* The plain form: accepted only with accept_plain. */
			len = make(buf, &o, t, false, 32 + 16 * t);
			check_class(&o, buf, len, o.accept_plain ? t : WG_OBFS_PLAIN, 0, false);
		}
		/* A mismatched h1 (length right, type wrong) and a mismatched s1 (type where
		 * another s1 puts it) are no message; nor is random junk, of any size. */
		len = make(buf, &o, WG_MSG_INITIATION, true, 0);
		wg_put_le32(buf + o.s1, H1 + 1);
		check_class(&o, buf, len, WG_OBFS_JUNK, 0, false);
		o.s1 = 20;
		len = make(buf, &o, WG_MSG_INITIATION, true, 0);
		o.s1 = 15;
		check_class(&o, buf, len, WG_OBFS_JUNK, 0, false);
		for (len = 0; len < 300; len++) {
			wg_random(buf, len);
			if (len >= 4 && (wg_get_le32(buf) <= 4 || wg_get_le32(buf) == H4 ||
					 wg_get_le32(buf) == H3))
				continue;   /* 2^-30: not junk by chance */
			if ((len == 148u + o.s1 && wg_get_le32(buf + o.s1) == H1) ||
			    (len == 92u + o.s2 && wg_get_le32(buf + o.s2) == H2))
				continue;
			check_class(&o, buf, len, WG_OBFS_JUNK, 0, false);
		}
		/* The data type on a too short message. */
		wg_put_le32(buf, H4);
		check_class(&o, buf, 31, WG_OBFS_SHORT, 0, true);
		check_class(&o, buf, 3, WG_OBFS_JUNK, 0, false);
	}
	/* A data message as long as a padded initiation is data unless the bytes at s1 are
	 * h1 (amneziawg-go decides the same way). */
	o = amnezia();
	o.s1 = 12;   /* 160 = 32 + 128: a data length */
	len = make(buf, &o, WG_MSG_DATA, true, 160);
	if (wg_get_le32(buf + 12) == H1)
		wg_put_le32(buf + 12, 0);
	check_class(&o, buf, len, WG_MSG_DATA, 0, true);
	wg_put_le32(buf + 12, H1);
	check_class(&o, buf, len, WG_MSG_INITIATION, 12, true);
	/* Plain WireGuard parameters: every plain message is its own obfuscated form. */
	wg_obfs_default(&o);
	for (unsigned t = 1; t <= 4; t++) {
		len = make(buf, &o, t, false, 48);
		check_class(&o, buf, len, t, 0, true);
	}
	/* Only s1/s2 set, types plain: a plain initiation is refused without accept_plain
	 * (its length is not 148 + s1), a padded one is taken. */
	o.s1 = 15;
	o.s2 = 68;
	len = make(buf, &o, WG_MSG_INITIATION, false, 0);
	check_class(&o, buf, len, WG_OBFS_PLAIN, 0, false);
	len = make(buf, &o, WG_MSG_INITIATION, true, 0);
	check_class(&o, buf, len, WG_MSG_INITIATION, 15, true);
}

static void test_mapping(void)
{
	struct wg_obfs o = amnezia();
	unsigned seen_min = 0, seen_max = 0;

	CHECK_EQ(wg_obfs_type(&o, 1, true), H1);
	CHECK_EQ(wg_obfs_type(&o, 2, true), H2);
	CHECK_EQ(wg_obfs_type(&o, 3, true), H3);
	CHECK_EQ(wg_obfs_type(&o, 4, true), H4);
	for (unsigned t = 1; t <= 4; t++)
		CHECK_EQ(wg_obfs_type(&o, t, false), t);
	CHECK_EQ(wg_obfs_pad(&o, 1, true), 15);
	CHECK_EQ(wg_obfs_pad(&o, 2, true), 68);
	CHECK_EQ(wg_obfs_pad(&o, 3, true), 0);
	CHECK_EQ(wg_obfs_pad(&o, 4, true), 0);
	CHECK_EQ(wg_obfs_pad(&o, 1, false), 0);
	for (uint32_t r = 0; r < 10000; r++) {
		unsigned n = wg_obfs_junk_len(&o, r * 2654435761u);

		CHECK(n >= 40 && n <= 70);
		seen_min += n == 40;
		seen_max += n == 70;
	}
	CHECK(seen_min > 0 && seen_max > 0);   /* both ends of [jmin, jmax] */
	o.jmin = o.jmax = 55;
	CHECK_EQ(wg_obfs_junk_len(&o, 12345), 55);
	o.jmin = 0;
	o.jmax = 65535;
	CHECK_EQ(wg_obfs_junk_len(&o, UINT32_MAX), UINT32_MAX % 65536);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (wg_crypto_init() != 0)
		return 1;
	test_rules();
	test_enabled();
	test_classify();
	test_mapping();
	return check_report("obfs");
}
