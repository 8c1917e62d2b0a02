/* SPDX-License-Identifier: MIT */
/*
 * The userspace API: tables of good set requests (each checked by the request text it
 * formats back to) and of bad ones (errno and reason), one request checked field by field,
 * the get reply against a reference text, the framer fed whole, byte by byte and in random
 * chunks, its limits and malformed streams. Then the real `wg` tool against a server forked
 * from this program on /var/run/wireguard/NAME.sock: `wg show dump`, `wg showconf`,
 * `wg set`, `wg setconf`, `wg syncconf` and both error paths. Those need root and `wg`, and
 * are counted as skipped without them.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "wg_crypto.h"
#include "wg_uapi.h"

/* Keys made with wg genkey / wg pubkey / wg genpsk, in hex; PUB1 is PRIV1's public key.
 * PRIV1_RAW is PRIV1 with the bits clamping clears set. */
#define PRIV1     "f8a64d8e32597df33760f0fbe3ff810a5fcc99c022bcc0b01ba17e088bc61373"
#define PRIV1_RAW "ffa64d8e32597df33760f0fbe3ff810a5fcc99c022bcc0b01ba17e088bc613f3"
#define PUB1      "ea0ce7839c355efa8d3f2b587b891d4855f79c6cba8ab005cdc5341faca94267"
#define PUB2      "184192c32871f16b93fe2816445f94b2a3d49067b50c00b200bca69f7b85063b"
#define PUB3      "c21cfb7c97f378c1fd5f7e11d74e5d19b9138236e9d63a0e4e34a8b66e28732e"
#define PUB3_UP   "C21CFB7C97F378C1FD5F7E11D74E5D19B9138236E9D63A0E4E34A8B66E28732E"
#define PSK       "16baf154ccc48af79013b01b771e4582ebd46e189aeaf386f1db95623650df05"
#define ZERO      "0000000000000000000000000000000000000000000000000000000000000000"

static unsigned skipped;

static void skip(const char *what, const char *why)
{
	skipped++;
	printf("SKIP %s: %s\n", what, why);
}

/* printf onto a buffer; the library's own appender is private to it. */
static int append(struct wg_uapi_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *d;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	/* Through the library's allocator: the buffer is freed by wg_uapi_buf_free. */
	d = b->data;
	if (b->len + (size_t)n + 1 > b->cap) {
		void *g = d;

		if (wg_secbuf_grow(&g, b->cap, 2 * (b->len + (size_t)n + 1)))
			return ENOMEM;
		d = g;
		b->data = d;
		b->cap = 2 * (b->len + (size_t)n + 1);
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

static void key_of(uint8_t key[WG_KEY_LEN], const char *hex)
{
	if (wg_key_from_hex(key, hex, strlen(hex)))
		abort();
}

/* ---- set requests, by the text they format back to ---- */

struct good_case {
	const char *in;         /* the body, without "set=1\n" */
	const char *out;        /* wg_uapi_format_set of the result, without "set=1\n" */
};

static const struct good_case good_cases[] = {
	{ "", "\n" },
	{ "listen_port=51820\n", "listen_port=51820\n\n" },
	{ "listen_port=0\n", "listen_port=0\n\n" },
	{ "listen_port=00080\n", "listen_port=80\n\n" },
	{ "listen_port=65535\n", "listen_port=65535\n\n" },
	{ "fwmark=4294967295\n", "fwmark=4294967295\n\n" },
	{ "fwmark=0\n", "fwmark=0\n\n" },
	{ "private_key=" PRIV1 "\n", "private_key=" PRIV1 "\n\n" },
	{ "private_key=" PRIV1_RAW "\n", "private_key=" PRIV1 "\n\n" },
	{ "private_key=" ZERO "\n", "private_key=" ZERO "\n\n" },
	{ "replace_peers=true\n", "replace_peers=true\n\n" },
	/* Later device values win; order on output is fixed. */
	{ "listen_port=1\nfwmark=7\nlisten_port=2\nreplace_peers=true\nprivate_key=" PRIV1 "\n",
	  "private_key=" PRIV1 "\nlisten_port=2\nfwmark=7\nreplace_peers=true\n\n" },
	/* What `wg set` sends for a full peer. */
	{ "public_key=" PUB2 "\npreshared_key=" PSK "\nendpoint=192.0.2.1:51820\n"
	  "persistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
	  "allowed_ip=10.0.0.0/24\nallowed_ip=fd00::/64\n",
	  "public_key=" PUB2 "\npreshared_key=" PSK "\nendpoint=192.0.2.1:51820\n"
	  "persistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
	  "allowed_ip=10.0.0.0/24\nallowed_ip=fd00::/64\n\n" },
	{ "public_key=" PUB3_UP "\nprotocol_version=1\n", "public_key=" PUB3 "\n\n" },
	{ "public_key=" PUB2 "\nendpoint=[2001:DB8::1]:1\n",
	  "public_key=" PUB2 "\nendpoint=[2001:db8::1]:1\n\n" },
	{ "public_key=" PUB2 "\nendpoint=[::ffff:192.0.2.1]:65535\n",
	  "public_key=" PUB2 "\nendpoint=[::ffff:192.0.2.1]:65535\n\n" },
	{ "public_key=" PUB2 "\npreshared_key=" ZERO "\npersistent_keepalive_interval=0\n",
	  "public_key=" PUB2 "\npreshared_key=" ZERO "\npersistent_keepalive_interval=0\n\n" },
	/* Host bits are cleared, as wireguard-go and the kernel clear them. */
	{ "public_key=" PUB2 "\nallowed_ip=10.1.2.3/8\nallowed_ip=fd00::1:2/64\n"
	  "allowed_ip=0.0.0.0/0\nallowed_ip=::/0\nallowed_ip=192.0.2.1/32\n",
	  "public_key=" PUB2 "\nallowed_ip=10.0.0.0/8\nallowed_ip=fd00::/64\n"
	  "allowed_ip=0.0.0.0/0\nallowed_ip=::/0\nallowed_ip=192.0.2.1/32\n\n" },
	/* Removal of one allowed IP, in order with the additions. */
	{ "public_key=" PUB2 "\nallowed_ip=-10.0.0.0/8\nallowed_ip=10.0.0.0/8\n"
	  "allowed_ip=-fd00::/64\n",
	  "public_key=" PUB2 "\nallowed_ip=-10.0.0.0/8\nallowed_ip=10.0.0.0/8\n"
	  "allowed_ip=-fd00::/64\n\n" },
	/* The replacement voids the changes before it in the same section. */
	{ "public_key=" PUB2 "\nallowed_ip=10.0.0.0/8\nreplace_allowed_ips=true\n"
	  "allowed_ip=10.9.0.0/16\n",
	  "public_key=" PUB2 "\nreplace_allowed_ips=true\nallowed_ip=10.9.0.0/16\n\n" },
	{ "public_key=" PUB2 "\nremove=true\n", "public_key=" PUB2 "\nremove=true\n\n" },
	{ "public_key=" PUB2 "\nupdate_only=true\nendpoint=192.0.2.9:9\n",
	  "public_key=" PUB2 "\nupdate_only=true\nendpoint=192.0.2.9:9\n\n" },
	/* Sections stay in order; a key may come twice. */
	{ "public_key=" PUB2 "\nremove=true\npublic_key=" PUB3 "\nallowed_ip=10.0.0.1/32\n"
	  "public_key=" PUB2 "\nallowed_ip=10.0.0.2/32\n",
	  "public_key=" PUB2 "\nremove=true\npublic_key=" PUB3 "\nallowed_ip=10.0.0.1/32\n"
	  "public_key=" PUB2 "\nallowed_ip=10.0.0.2/32\n\n" },
	/* AmneziaWG's keys, with amneziawg-go's names; output in a fixed order. */
	{ "jc=4\njmin=40\njmax=70\ns1=15\ns2=68\nh1=1020325451\nh2=3288052141\n"
	  "h3=1766607858\nh4=2528465083\n",
	  "jc=4\njmin=40\njmax=70\ns1=15\ns2=68\nh1=1020325451\nh2=3288052141\n"
	  "h3=1766607858\nh4=2528465083\n\n" },
	{ "h4=4294967295\naccept_plain=true\nlisten_port=1\n",
	  "listen_port=1\nh4=4294967295\naccept_plain=true\n\n" },
	{ "accept_plain=false\nh1=0\njc=128\n", "jc=128\nh1=0\naccept_plain=false\n\n" },
	/* The blank line may be passed along; the last newline may be missing. */
	{ "listen_port=1\n\n", "listen_port=1\n\n" },
	{ "listen_port=1", "listen_port=1\n\n" },
	{ "\n", "\n" },
};

static void test_good_sets(void)
{
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		const struct good_case *c = &good_cases[i];
		struct wg_uapi_set s;
		struct wg_uapi_buf b;
		char why[WG_UAPI_WHY_LEN], want[1024];
		int err = wg_uapi_parse_set(&s, c->in, strlen(c->in), why, sizeof(why));

		if (!CHECK_EQ(err, 0)) {
			fprintf(stderr, "  good case %zu refused: %s\n", i, why);
			continue;
		}
		wg_uapi_buf_init(&b);
		CHECK_EQ(wg_uapi_format_set(&b, &s), 0);
		snprintf(want, sizeof(want), "set=1\n%s", c->out);
		if (!CHECK(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0))
			fprintf(stderr, "  good case %zu gave:\n%.*s", i, (int)b.len, b.data);
		wg_uapi_buf_free(&b);
		wg_uapi_set_free(&s);
	}
}

struct bad_case {
	const char *in;
	size_t len;             /* 0: strlen(in) */
	int err;
	const char *why;        /* expected in the reason */
};

#define P "public_key=" PUB2 "\n"

static const struct bad_case bad_cases[] = {
	{ "listen_port\n", 0, EPROTO, "line 1: not key=value" },
	{ "listen_port=1\nfwmark\n", 0, EPROTO, "line 2: not key=value" },
	{ "listen_port=1\n\nfwmark=1\n", 0, EPROTO, "line 2: data after the blank line" },
	{ "listen_port=1\0\n", 15, EPROTO, "NUL byte" },
	{ "listen_port=65536\n", 0, EINVAL, "line 1: listen_port: not a number" },
	{ "listen_port=-1\n", 0, EINVAL, "listen_port" },
	{ "listen_port=+1\n", 0, EINVAL, "listen_port" },
	{ "listen_port= 1\n", 0, EINVAL, "listen_port" },
	{ "listen_port=1 \n", 0, EINVAL, "listen_port" },
	{ "listen_port=1\r\n", 0, EINVAL, "listen_port" },
	{ "listen_port=\n", 0, EINVAL, "listen_port" },
	{ "listen_port=0x10\n", 0, EINVAL, "listen_port" },
	{ "listen_port=99999999999999999999999\n", 0, EINVAL, "listen_port" },
	{ "fwmark=4294967296\n", 0, EINVAL, "fwmark" },
	{ "fwmark=0x1\n", 0, EINVAL, "fwmark" },
	{ "private_key=" PRIV1 "0\n", 0, EINVAL, "private_key: not 64 hex digits" },
	{ "private_key=abc\n", 0, EINVAL, "private_key" },
	{ "private_key=g8a64d8e32597df33760f0fbe3ff810a5fcc99c022bcc0b01ba17e088bc61373\n", 0,
	  EINVAL, "private_key" },
	{ "private_key=\n", 0, EINVAL, "private_key" },
	{ "replace_peers=false\n", 0, EINVAL, "replace_peers: the only value is true" },
	{ "replace_peers=TRUE\n", 0, EINVAL, "replace_peers" },
	{ "replace_peers=\n", 0, EINVAL, "replace_peers" },
	{ "bogus=1\n", 0, EINVAL, "line 1: bogus: unknown key" },
	{ "Listen_port=1\n", 0, EINVAL, "line 1: unknown key" },
	{ "=1\n", 0, EINVAL, "unknown key" },
	{ "=\n", 0, EINVAL, "unknown key" },
	{ "protocol_version=1\n", 0, EINVAL, "a peer key before any public_key" },
	{ "endpoint=192.0.2.1:1\n", 0, EINVAL, "line 1: endpoint: a peer key before any" },
	{ P "listen_port=1\n", 0, EINVAL, "line 2: listen_port: a device key after" },
	{ P "replace_peers=true\n", 0, EINVAL, "a device key after" },
	{ P "bogus=true\n", 0, EINVAL, "bogus: unknown key" },
	{ "public_key=" PUB2 "00\n", 0, EINVAL, "public_key: not 64 hex digits" },
	{ "public_key=\n", 0, EINVAL, "public_key" },
	{ P "remove=1\n", 0, EINVAL, "remove: the only value is true" },
	{ P "update_only=false\n", 0, EINVAL, "update_only" },
	{ P "replace_allowed_ips=yes\n", 0, EINVAL, "replace_allowed_ips" },
	{ P "preshared_key=" PSK "f\n", 0, EINVAL, "preshared_key" },
	{ P "preshared_key=\n", 0, EINVAL, "preshared_key" },
	{ P "endpoint=192.0.2.1\n", 0, EINVAL, "endpoint" },
	{ P "endpoint=192.0.2.1:0\n", 0, EINVAL, "endpoint" },
	{ P "endpoint=192.0.2.1:65536\n", 0, EINVAL, "endpoint" },
	{ P "endpoint=[::1]\n", 0, EINVAL, "endpoint" },
	{ P "endpoint=::1:51820\n", 0, EINVAL, "endpoint" },
	{ P "endpoint=[fe80::1%eth0]:51820\n", 0, EINVAL, "endpoint" },
	{ P "endpoint=vpn.example.com:51820\n", 0, EINVAL, "endpoint" },
	{ P "endpoint=\n", 0, EINVAL, "endpoint" },
	{ P "persistent_keepalive_interval=65536\n", 0, EINVAL, "persistent_keepalive" },
	{ P "persistent_keepalive_interval=-1\n", 0, EINVAL, "persistent_keepalive" },
	{ P "allowed_ip=10.0.0.0\n", 0, EINVAL, "allowed_ip: not an address/length" },
	{ P "allowed_ip=10.0.0.0/33\n", 0, EINVAL, "allowed_ip" },
	{ P "allowed_ip=fd00::/129\n", 0, EINVAL, "allowed_ip" },
	{ P "allowed_ip=10.0.0.0/\n", 0, EINVAL, "allowed_ip" },
	{ P "allowed_ip=/8\n", 0, EINVAL, "allowed_ip" },
	{ P "allowed_ip=--10.0.0.0/8\n", 0, EINVAL, "allowed_ip" },
	{ P "allowed_ip=+10.0.0.0/8\n", 0, EINVAL, "allowed_ip" },
	{ P "allowed_ip=-\n", 0, EINVAL, "allowed_ip" },
	{ P "allowed_ip=\n", 0, EINVAL, "allowed_ip" },
	{ P "allowed_ip=10.0.0.0/8,10.1.0.0/16\n", 0, EINVAL, "allowed_ip" },
	{ P "protocol_version=2\n", 0, EINVAL, "protocol_version: only version 1" },
	{ P "protocol_version=01\n", 0, EINVAL, "protocol_version" },
	{ "jc=129\n", 0, EINVAL, "line 1: jc: not a number 0..128" },
	{ "jc=-1\n", 0, EINVAL, "jc" },
	{ "jmin=65536\n", 0, EINVAL, "jmin: not a number 0..65535" },
	{ "s1=\n", 0, EINVAL, "s1" },
	{ "s2=1x\n", 0, EINVAL, "s2" },
	{ "h1=4294967296\n", 0, EINVAL, "h1: not a number 0..4294967295" },
	{ "h3=0x10\n", 0, EINVAL, "h3" },
	{ "accept_plain=yes\n", 0, EINVAL, "accept_plain: true or false" },
	{ P "h4=5\n", 0, EINVAL, "h4: a device key after" },
	/* A late error throws away the peers parsed before it. */
	{ P "allowed_ip=10.0.0.0/8\npublic_key=" PUB3 "\nallowed_ip=10.1.0.0/16\n"
	  "endpoint=x\n", 0, EINVAL, "line 5: endpoint" },
};

static void test_bad_sets(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		struct wg_uapi_set s;
		char why[WG_UAPI_WHY_LEN];
		int err = wg_uapi_parse_set(&s, c->in, len, why, sizeof(why));

		if (!CHECK_EQ(err, c->err))
			fprintf(stderr, "  bad case %zu: %s\n", i, why);
		if (!CHECK(strstr(why, c->why) != NULL))
			fprintf(stderr, "  bad case %zu: reason \"%s\", want \"%s\"\n", i, why,
				c->why);
		CHECK(s.peers == NULL && s.n_peers == 0 && !s.has_listen_port);
	}
}

/* A reason never quotes a value, which could be a key. */
static void test_reason_hides_values(void)
{
	static const char *const in[] = {
		"private_key=" PRIV1 "00\n",
		P "preshared_key=" PSK "00\n",
		PRIV1 "=1\n",
		"listen_port=" PRIV1 "\n",
	};
	struct wg_uapi_set s;
	char why[WG_UAPI_WHY_LEN];

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		CHECK_EQ(wg_uapi_parse_set(&s, in[i], strlen(in[i]), why, sizeof(why)), EINVAL);
		CHECK(strstr(why, "f8a64d") == NULL && strstr(why, "16baf1") == NULL);
	}
	/* A short buffer is filled as far as it goes; none at all is allowed. */
	CHECK_EQ(wg_uapi_parse_set(&s, "x\n", 2, why, 8), EPROTO);
	CHECK_EQ(strlen(why), 7);
	CHECK_EQ(wg_uapi_parse_set(&s, "x\n", 2, NULL, 0), EPROTO);
}

static bool prefix_is(const struct wg_prefix *p, const char *text)
{
	char out[WG_ADDR_STRLEN];

	wg_prefix_format(out, p);
	return strcmp(out, text) == 0;
}

/* One request, field by field. */
static void test_set_fields(void)
{
	static const char in[] =
		"private_key=" PRIV1_RAW "\nlisten_port=51820\nfwmark=42\nreplace_peers=true\n"
		"public_key=" PUB2 "\nupdate_only=true\npreshared_key=" PSK "\n"
		"endpoint=[2001:db8::1]:51820\npersistent_keepalive_interval=25\n"
		"replace_allowed_ips=true\nallowed_ip=10.0.0.0/24\nallowed_ip=-fd00::/64\n"
		"public_key=" PUB3 "\nremove=true\n";
	uint8_t priv[WG_KEY_LEN], pub2[WG_KEY_LEN], pub3[WG_KEY_LEN], psk[WG_KEY_LEN];
	struct wg_uapi_set s;
	const struct wg_uapi_peer *p;
	char why[WG_UAPI_WHY_LEN];

	key_of(priv, PRIV1);
	key_of(pub2, PUB2);
	key_of(pub3, PUB3);
	key_of(psk, PSK);
	if (!CHECK_EQ(wg_uapi_parse_set(&s, in, sizeof(in) - 1, why, sizeof(why)), 0))
		return;
	CHECK(s.has_private_key && s.has_listen_port && s.has_fwmark && s.replace_peers);
	CHECK_MEM(s.private_key, priv, WG_KEY_LEN);
	CHECK_EQ(s.listen_port, 51820);
	CHECK_EQ(s.fwmark, 42);
	CHECK_EQ(s.n_peers, 2);
	p = &s.peers[0];
	CHECK_MEM(p->public_key, pub2, WG_KEY_LEN);
	CHECK(p->update_only && !p->remove && p->replace_allowed_ips);
	CHECK(p->has_preshared_key && p->has_endpoint && p->has_keepalive);
	CHECK_MEM(p->preshared_key, psk, WG_KEY_LEN);
	CHECK_EQ(p->endpoint.ip.family, WG_AF_INET6);
	CHECK_EQ(p->endpoint.port, 51820);
	CHECK_EQ(p->keepalive, 25);
	CHECK_EQ(p->n_aips, 2);
	CHECK(prefix_is(&p->aips[0].prefix, "10.0.0.0/24") && !p->aips[0].remove);
	CHECK(prefix_is(&p->aips[1].prefix, "fd00::/64") && p->aips[1].remove);
	p = &s.peers[1];
	CHECK_MEM(p->public_key, pub3, WG_KEY_LEN);
	CHECK(p->remove && !p->update_only && !p->has_endpoint && p->n_aips == 0);
	wg_uapi_set_free(&s);
	CHECK(s.peers == NULL && s.n_peers == 0 && !s.has_private_key);
	CHECK(wg_is_zero(s.private_key, WG_KEY_LEN));
}

/* Many peers with many allowed IPs: the arrays grow, and the text round-trips. */
static void test_set_many(void)
{
	struct wg_uapi_buf in, out;
	struct wg_uapi_set s, again;
	char why[WG_UAPI_WHY_LEN];

	wg_uapi_buf_init(&in);
	wg_uapi_buf_init(&out);
	for (unsigned i = 0; i < 2000; i++) {
		uint8_t k[WG_KEY_LEN] = { (uint8_t)i, (uint8_t)(i >> 8), 1 };
		char hex[WG_KEY_HEX_LEN + 1];

		wg_key_to_hex(hex, k);
		CHECK_EQ(append(&in, "public_key=%s\nallowed_ip=10.%u.%u.0/24\n"
			     "allowed_ip=fd00::%x:0/112\n", hex, i >> 8, i & 255, i + 1), 0);
	}
	if (CHECK_EQ(wg_uapi_parse_set(&s, in.data, in.len, why, sizeof(why)), 0)) {
		CHECK_EQ(s.n_peers, 2000);
		CHECK(prefix_is(&s.peers[1999].aips[1].prefix, "fd00::7d0:0/112"));
		CHECK_EQ(wg_uapi_format_set(&out, &s), 0);
		CHECK(out.len == in.len + 7 && memcmp(out.data + 6, in.data, in.len) == 0);
		CHECK_EQ(wg_uapi_parse_set(&again, out.data + 6, out.len - 6, why, sizeof(why)), 0);
		CHECK_EQ(again.n_peers, 2000);
		wg_uapi_set_free(&again);
		wg_uapi_set_free(&s);
	}
	wg_uapi_buf_free(&in);
	wg_uapi_buf_free(&out);
}

/* ---- the get reply ---- */

static struct wg_prefix fixture_aips[2];

/* A device with two peers: PUB2 with everything set, PUB3 with nothing. */
static void fixture(struct wg_uapi_device *d, struct wg_uapi_peer_info p[2])
{
	memset(d, 0, sizeof(*d));
	memset(p, 0, 2 * sizeof(*p));
	d->has_private_key = true;
	key_of(d->private_key, PRIV1);
	d->listen_port = 51820;
	/* AmneziaWG's keys in every reply: the wg tool tests below show that wg skips them. */
	d->obfs = (struct wg_obfs){ .h = { 1020325451u, 3288052141u, 1766607858u, 4 },
				    .s1 = 15, .s2 = 68, .jc = 4, .jmin = 40, .jmax = 70,
				    .accept_plain = true };
	key_of(p[0].public_key, PUB2);
	p[0].has_preshared_key = true;
	key_of(p[0].preshared_key, PSK);
	p[0].has_endpoint = true;
	if (wg_endpoint_parse(&p[0].endpoint, "192.0.2.1:51820", 15) ||
	    wg_prefix_parse(&fixture_aips[0], "10.0.0.0/24", 11, false) ||
	    wg_prefix_parse(&fixture_aips[1], "fd00::/64", 9, false))
		abort();
	p[0].last_handshake_sec = 1700000000;
	p[0].last_handshake_nsec = 123456789;
	p[0].rx_bytes = 1000;
	p[0].tx_bytes = 2000;
	p[0].keepalive = 25;
	p[0].allowed_ips = fixture_aips;
	p[0].n_allowed_ips = 2;
	key_of(p[1].public_key, PUB3);
}

static void format_fixture(struct wg_uapi_buf *b)
{
	struct wg_uapi_device d;
	struct wg_uapi_peer_info p[2];

	fixture(&d, p);
	CHECK_EQ(wg_uapi_format_device(b, &d), 0);
	CHECK_EQ(wg_uapi_format_peer(b, &p[0]), 0);
	CHECK_EQ(wg_uapi_format_peer(b, &p[1]), 0);
	CHECK_EQ(wg_uapi_format_errno(b, WG_UAPI_GET, 0), 0);
}

static const char fixture_reply[] =
	"private_key=" PRIV1 "\n"
	"listen_port=51820\n"
	"jc=4\njmin=40\njmax=70\ns1=15\ns2=68\n"
	"h1=1020325451\nh2=3288052141\nh3=1766607858\naccept_plain=true\n"
	"public_key=" PUB2 "\n"
	"preshared_key=" PSK "\n"
	"protocol_version=1\n"
	"endpoint=192.0.2.1:51820\n"
	"last_handshake_time_sec=1700000000\n"
	"last_handshake_time_nsec=123456789\n"
	"tx_bytes=2000\n"
	"rx_bytes=1000\n"
	"persistent_keepalive_interval=25\n"
	"allowed_ip=10.0.0.0/24\n"
	"allowed_ip=fd00::/64\n"
	"public_key=" PUB3 "\n"
	"preshared_key=" ZERO "\n"
	"protocol_version=1\n"
	"last_handshake_time_sec=0\n"
	"last_handshake_time_nsec=0\n"
	"tx_bytes=0\n"
	"rx_bytes=0\n"
	"persistent_keepalive_interval=0\n"
	"errno=0\n\n";

static bool buf_is(const struct wg_uapi_buf *b, const char *want)
{
	if (b->len == strlen(want) && memcmp(b->data, want, b->len) == 0)
		return true;
	fprintf(stderr, "  got:\n%.*s  want:\n%s", (int)b->len, b->data, want);
	return false;
}

/* A set changes only the obfuscation keys it names; h = 0 is the plain type. */
static void test_obfs_merge(void)
{
	struct wg_obfs cur = { .h = { 5, 6, 7, 8 }, .s1 = 1, .s2 = 2, .jc = 3, .jmin = 4,
			       .jmax = 5, .accept_plain = true }, out;
	struct wg_uapi_set s;
	char why[WG_UAPI_WHY_LEN];
	static const char body[] = "h2=0\ns1=9\naccept_plain=false\n";

	if (!CHECK_EQ(wg_uapi_parse_set(&s, body, sizeof(body) - 1, why, sizeof(why)), 0))
		return;
	wg_uapi_obfs_merge(&out, &cur, &s);
	CHECK(out.h[0] == 5 && out.h[1] == 2 && out.h[2] == 7 && out.h[3] == 8);
	CHECK(out.s1 == 9 && out.s2 == 2 && out.jc == 3 && out.jmin == 4 && out.jmax == 5);
	CHECK(!out.accept_plain);
	wg_uapi_set_free(&s);
	CHECK_EQ(wg_uapi_parse_set(&s, "listen_port=1\n", 14, why, sizeof(why)), 0);
	wg_uapi_obfs_merge(&out, &cur, &s);
	CHECK_MEM(&out, &cur, sizeof(out));
	wg_uapi_set_free(&s);
}

static void test_get(void)
{
	struct wg_uapi_device d = { .fwmark = 0x2a };
	struct wg_uapi_peer_info p = { .last_handshake_sec = UINT64_MAX, .keepalive = 65535,
				       .rx_bytes = UINT64_MAX, .has_endpoint = true };
	struct wg_uapi_buf b;

	wg_uapi_buf_init(&b);
	format_fixture(&b);
	CHECK(buf_is(&b, fixture_reply));
	wg_uapi_buf_consume(&b, 12);
	CHECK(b.len == sizeof(fixture_reply) - 13 && memcmp(b.data, PRIV1, 64) == 0);
	wg_uapi_buf_consume(&b, b.len);
	test_obfs_merge();
	wg_uapi_buf_consume(&b, b.len + 1);
	CHECK_EQ(b.len, 0);

	/* No port, a zero key (both left out), a fwmark, extremes and an IPv6 endpoint. */
	d.has_private_key = true;
	if (wg_endpoint_parse(&p.endpoint, "[2001:db8::1]:1", 15))
		abort();
	CHECK_EQ(wg_uapi_format_device(&b, &d), 0);
	CHECK_EQ(wg_uapi_format_peer(&b, &p), 0);
	CHECK(buf_is(&b, "fwmark=42\npublic_key=" ZERO "\npreshared_key=" ZERO "\n"
		     "protocol_version=1\nendpoint=[2001:db8::1]:1\n"
		     "last_handshake_time_sec=9223372036854775807\nlast_handshake_time_nsec=0\n"
		     "tx_bytes=0\nrx_bytes=18446744073709551615\n"
		     "persistent_keepalive_interval=65535\n"));
	wg_uapi_buf_free(&b);
}

static void test_errno(void)
{
	static const struct {
		enum wg_uapi_kind kind;
		int err;
		const char *want;
	} cases[] = {
		{ WG_UAPI_GET, 0, "errno=0\n\n" },
		{ WG_UAPI_SET, 0, "errno=0\n\n" },
		{ WG_UAPI_GET, EINVAL, "errno=22\n\n" },
		{ WG_UAPI_SET, EINVAL, "errno=-22\n\n" },
		{ WG_UAPI_SET, EPROTO, "errno=-71\n\n" },
		{ WG_UAPI_NONE, EPROTO, "errno=-71\n\n" },
		{ WG_UAPI_GET, EMSGSIZE, "errno=90\n\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wg_uapi_buf b;

		wg_uapi_buf_init(&b);
		CHECK_EQ(wg_uapi_format_errno(&b, cases[i].kind, cases[i].err), 0);
		CHECK(buf_is(&b, cases[i].want));
		wg_uapi_buf_free(&b);
	}
}

/* ---- the framer ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* What came out of a stream: "G" or "S:" and the body per request, joined by '|'. */
struct frames {
	char text[4096];
	size_t n;
	enum wg_uapi_kind err_kind;
};

static void record(struct frames *f, enum wg_uapi_kind kind, const char *body, size_t len)
{
	int room = (int)(sizeof(f->text) - strlen(f->text));

	snprintf(f->text + strlen(f->text), (size_t)room, "%s%s%.*s", f->n ? "|" : "",
		 kind == WG_UAPI_GET ? "G" : "S:", (int)len, body ? body : "");
	f->n++;
}

static int drain(struct wg_uapi_conn *c, struct frames *f)
{
	enum wg_uapi_kind kind;
	const char *body;
	size_t len;
	int r;

	while ((r = wg_uapi_next_request(c, &kind, &body, &len)) == 0)
		record(f, kind, body, len);
	f->err_kind = kind;
	return r;
}

/* Feed in pieces of 1..chunk bytes (chunk 0: all at once), draining after each. */
static int frame(const char *in, size_t len, size_t chunk, size_t limit, struct frames *f)
{
	struct wg_uapi_conn c;
	size_t at = 0;
	int r = EAGAIN;

	memset(f, 0, sizeof(*f));
	wg_uapi_conn_init(&c, limit);
	while (at < len && r == EAGAIN) {
		size_t k = chunk ? 1 + rng() % chunk : len;

		if (k > len - at)
			k = len - at;
		wg_uapi_feed(&c, in + at, k);  /* an error shows in next_request too */
		at += k;
		r = drain(&c, f);
	}
	if (r != EAGAIN)
		CHECK_EQ(wg_uapi_feed(&c, "x", 1), r);    /* broken for good */
	wg_uapi_conn_free(&c);
	return r;
}

struct stream_case {
	const char *in;
	size_t len;             /* 0: strlen(in) */
	int end;                /* EAGAIN, or the error */
	enum wg_uapi_kind err_kind;
	const char *want;
};

static const struct stream_case stream_cases[] = {
	{ "", 0, EAGAIN, 0, "" },
	{ "get=1\n\n", 0, EAGAIN, 0, "G" },
	{ "set=1\n\n", 0, EAGAIN, 0, "S:" },
	{ "get=1\n\nset=1\nlisten_port=1\nfwmark=2\n\nget=1\n\n", 0, EAGAIN, 0,
	  "G|S:listen_port=1\nfwmark=2\n|G" },
	{ "set=1\n=\n\n", 0, EAGAIN, 0, "S:=\n" },        /* the parser's to refuse */
	{ "set=1\nx==\n\n", 0, EAGAIN, 0, "S:x==\n" },
	{ "get=1\n", 0, EAGAIN, 0, "" },                   /* truncated: waits */
	{ "set=1\nlisten_port=1\n", 0, EAGAIN, 0, "" },
	{ "set=1\nlisten_port=1", 0, EAGAIN, 0, "" },
	{ "get=1\n\nget", 0, EAGAIN, 0, "G" },
	{ "x", 0, EPROTO, WG_UAPI_NONE, "" },             /* refused at the first byte */
	{ "\n", 0, EPROTO, WG_UAPI_NONE, "" },
	{ "GET=1\n\n", 0, EPROTO, WG_UAPI_NONE, "" },
	{ "get=2\n\n", 0, EPROTO, WG_UAPI_NONE, "" },
	{ "get=1 \n\n", 0, EPROTO, WG_UAPI_NONE, "" },
	{ "get=1\r\n\r\n", 0, EPROTO, WG_UAPI_NONE, "" },
	{ "sget=1\n\n", 0, EPROTO, WG_UAPI_NONE, "" },
	{ "get=1\nx\n", 0, EINVAL, WG_UAPI_GET, "" },     /* wireguard-go: trailing character */
	{ "get=1\n\nbad\n", 0, EPROTO, WG_UAPI_NONE, "G" },
	{ "set=1\n\n\n", 0, EPROTO, WG_UAPI_NONE, "S:" },
	{ "set=1\nlisten_port\n\n", 0, EPROTO, WG_UAPI_SET, "" },
	{ "set=1\nlisten_port=1\r\n\r\n", 0, EPROTO, WG_UAPI_SET, "" },
	{ "set=1\nlisten_port=1\0\n\n", 21, EPROTO, WG_UAPI_SET, "" },
	{ "\0get=1\n\n", 8, EPROTO, WG_UAPI_NONE, "" },
	{ "get=1\n\n\0", 8, EPROTO, WG_UAPI_NONE, "G" },
};

static void check_stream(const struct stream_case *c, size_t i, size_t chunk)
{
	size_t len = c->len ? c->len : strlen(c->in);
	struct frames f;
	int r = frame(c->in, len, chunk, 0, &f);

	if (!CHECK_EQ(r, c->end) || !CHECK(strcmp(f.text, c->want) == 0))
		fprintf(stderr, "  stream case %zu, chunk %zu: got \"%s\"\n", i, chunk, f.text);
	if (r != EAGAIN)
		CHECK_EQ(f.err_kind, c->err_kind);
}

static void test_streams(void)
{
	for (size_t i = 0; i < sizeof(stream_cases) / sizeof(stream_cases[0]); i++) {
		check_stream(&stream_cases[i], i, 0);
		check_stream(&stream_cases[i], i, 1);
		for (int rep = 0; rep < 20; rep++)
			check_stream(&stream_cases[i], i, 4);
	}
}

/* A line of `n` bytes with its newline: WG_UAPI_LINE_MAX is the most. */
static void test_line_max(void)
{
	static char in[WG_UAPI_LINE_MAX + 16];
	struct frames f;

	for (size_t n = WG_UAPI_LINE_MAX - 1; n <= WG_UAPI_LINE_MAX + 1; n++) {
		memcpy(in, "set=1\nk=", 8);
		memset(in + 8, 'v', n - 3);
		memcpy(in + 8 + n - 3, "\n\n", 3);
		CHECK_EQ(frame(in, strlen(in), 0, 0, &f), n <= WG_UAPI_LINE_MAX ? EAGAIN : EPROTO);
		CHECK_EQ(f.n, n <= WG_UAPI_LINE_MAX ? 1 : 0);
		CHECK_EQ(frame(in, strlen(in), 1, 0, &f), n <= WG_UAPI_LINE_MAX ? EAGAIN : EPROTO);
	}
}

/* The limit bounds the bytes held: one request and what follows it. */
static void test_limit(void)
{
	static const char set[] = "set=1\nlisten_port=1\n\n";          /* 21 bytes */
	static const char two[] = "get=1\n\nset=1\nlisten_port=1\n\n";  /* 28 bytes */
	struct frames f;

	CHECK_EQ(frame(set, 21, 0, 21, &f), EAGAIN);
	CHECK_EQ(f.n, 1);
	CHECK_EQ(frame(set, 21, 1, 21, &f), EAGAIN);
	CHECK_EQ(f.n, 1);
	CHECK_EQ(frame(set, 21, 0, 20, &f), EMSGSIZE);
	CHECK_EQ(f.n, 0);
	CHECK_EQ(frame(set, 21, 1, 20, &f), EMSGSIZE);
	CHECK_EQ(f.err_kind, WG_UAPI_SET);
	/* Byte by byte the get is served and dropped before the set arrives. */
	CHECK_EQ(frame(two, 28, 1, 21, &f), EAGAIN);
	CHECK(strcmp(f.text, "G|S:listen_port=1\n") == 0);
	/* In one piece both must fit. */
	CHECK_EQ(frame(two, 28, 0, 21, &f), EMSGSIZE);
	CHECK_EQ(frame(two, 28, 0, 28, &f), EAGAIN);
	CHECK_EQ(f.n, 2);
	/* A request complete in the buffer is served before the overflow is reported. */
	{
		struct wg_uapi_conn c;

		memset(&f, 0, sizeof(f));
		wg_uapi_conn_init(&c, 21);
		CHECK_EQ(wg_uapi_feed(&c, two, 14), 0);
		CHECK_EQ(wg_uapi_feed(&c, two + 14, 14), EMSGSIZE);
		CHECK_EQ(drain(&c, &f), EMSGSIZE);
		CHECK(strcmp(f.text, "G") == 0 && f.err_kind == WG_UAPI_SET);
		CHECK_EQ(wg_uapi_feed(&c, "\n", 1), EMSGSIZE);
		wg_uapi_conn_free(&c);
	}
}

/* A set of ~4 MiB, in random chunks of up to 64 KiB, to the parser. */
static void test_big_stream(void)
{
	struct wg_uapi_buf in;
	struct wg_uapi_conn c;
	struct wg_uapi_set s;
	enum wg_uapi_kind kind;
	const char *body = NULL;
	size_t at = 0, len = 0;
	char why[WG_UAPI_WHY_LEN];
	int r = EAGAIN;

	wg_uapi_buf_init(&in);
	append(&in, "set=1\nreplace_peers=true\n");
	for (unsigned i = 0; i < 40000; i++)
		append(&in, "public_key=%064x\nallowed_ip=10.%u.%u.%u/32\n", i + 1, i >> 16,
		       (i >> 8) & 255, i & 255);
	append(&in, "\nget=1\n\n");
	wg_uapi_conn_init(&c, 8u << 20);
	while (r == EAGAIN && at < in.len) {
		size_t k = 1 + rng() % 65536;

		k = k > in.len - at ? in.len - at : k;
		CHECK_EQ(wg_uapi_feed(&c, in.data + at, k), 0);
		at += k;
		r = wg_uapi_next_request(&c, &kind, &body, &len);
	}
	CHECK_EQ(r, 0);
	CHECK_EQ(kind, WG_UAPI_SET);
	if (CHECK_EQ(wg_uapi_parse_set(&s, body, len, why, sizeof(why)), 0)) {
		CHECK_EQ(s.n_peers, 40000);
		CHECK(s.replace_peers && prefix_is(&s.peers[39999].aips[0].prefix, "10.0.156.63/32"));
		wg_uapi_set_free(&s);
	}
	CHECK_EQ(wg_uapi_feed(&c, in.data + at, in.len - at), 0);
	CHECK_EQ(wg_uapi_next_request(&c, &kind, &body, &len), 0);
	CHECK_EQ(kind, WG_UAPI_GET);
	CHECK_EQ(wg_uapi_next_request(&c, &kind, &body, &len), EAGAIN);
	/* Everything served: the large (mapped) buffer goes, the next request gets a small
	 * one. */
	CHECK(c.cap >= WG_SECBUF_BIG);
	CHECK_EQ(wg_uapi_feed(&c, "get=1\n\n", 7), 0);
	CHECK(c.cap < WG_SECBUF_BIG);
	CHECK_EQ(wg_uapi_next_request(&c, &kind, &body, &len), 0);
	CHECK_EQ(kind, WG_UAPI_GET);
	wg_uapi_conn_free(&c);
	wg_uapi_buf_free(&in);
}

/* ---- the real wg tool against a server forked from here ---- */

/* What the server answers: a get with `get_reply`, a set with errno `set_err`. It writes
 * each set request it receives, whole, to `capture`. */
struct server {
	char name[16];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pid_t pid;
	int capture;
	const char *get_reply;
	int set_err;
};

static void write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void answer(int fd, enum wg_uapi_kind kind, int err)
{
	struct wg_uapi_buf b;

	wg_uapi_buf_init(&b);
	if (wg_uapi_format_errno(&b, kind, err) == 0)
		write_all(fd, b.data, b.len);
	wg_uapi_buf_free(&b);
}

/* One connection, as the gateway will serve it: frame, answer, close on a broken stream.
 * `wg` opens one connection only to see the socket is alive, and sends nothing on it. */
static void serve_conn(const struct server *srv, int fd, int out)
{
	struct wg_uapi_conn c;
	enum wg_uapi_kind kind;
	const char *body;
	size_t len;
	char buf[4096];
	ssize_t n;
	int r = EAGAIN;

	wg_uapi_conn_init(&c, 0);
	while (r == EAGAIN && (n = read(fd, buf, sizeof(buf))) > 0) {
		wg_uapi_feed(&c, buf, (size_t)n);
		while ((r = wg_uapi_next_request(&c, &kind, &body, &len)) == 0) {
			if (kind == WG_UAPI_GET) {
				write_all(fd, srv->get_reply, strlen(srv->get_reply));
				continue;
			}
			write_all(out, "set=1\n", 6);
			write_all(out, body, len);
			write_all(out, "\n", 1);
			answer(fd, kind, srv->set_err);
		}
		if (r != EAGAIN)
			answer(fd, kind, r);
	}
	wg_uapi_conn_free(&c);
}

static void serve(const struct server *srv, int lfd, int out)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	/* Until the parent kills it; an idle minute means the parent is gone. */
	while (poll(&p, 1, 60000) > 0) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		serve_conn(srv, fd, out);
		close(fd);
	}
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool server_start(struct server *srv)
{
	int lfd, pfd[2];

	snprintf(srv->name, sizeof(srv->name), "wgut%d", (int)(getpid() % 100000));
	snprintf(srv->path, sizeof(srv->path), "/var/run/wireguard/%s.sock", srv->name);
	mkdir("/var/run/wireguard", 0700);
	lfd = listen_on(srv->path);
	if (lfd < 0 || pipe(pfd)) {
		perror("uapi test server");
		return false;
	}
	fflush(NULL);
	srv->pid = fork();
	if (srv->pid == 0) {
		close(pfd[0]);
		serve(srv, lfd, pfd[1]);
		_exit(0);
	}
	close(lfd);
	close(pfd[1]);
	srv->capture = pfd[0];
	return srv->pid > 0;
}

/* Stop the server and return what it captured (malloc'd, NUL-terminated). */
static char *server_stop(struct server *srv)
{
	char *text = calloc(1, 1 << 20);
	size_t len = 0;
	ssize_t n;

	kill(srv->pid, SIGTERM);
	waitpid(srv->pid, NULL, 0);
	unlink(srv->path);
	while (text && len < (1 << 20) - 1 &&
	       (n = read(srv->capture, text + len, (1 << 20) - 1 - len)) > 0)
		len += (size_t)n;
	close(srv->capture);
	return text;
}

/* Run a shell command; its output (stdout and stderr) into out; the exit status. */
static int run(const char *cmd, char *out, size_t cap)
{
	char full[1024];
	size_t len = 0, n;
	FILE *f;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	f = popen(full, "r");
	if (!f)
		return -1;
	while (len + 1 < cap && (n = fread(out + len, 1, cap - 1 - len, f)) > 0)
		len += n;
	out[len] = '\0';
	return pclose(f);
}

static void b64_of(char out[WG_KEY_B64_LEN + 1], const char *hex)
{
	uint8_t k[WG_KEY_LEN];

	key_of(k, hex);
	wg_key_to_base64(out, k);
}

/* The one set request a wg command sent, parsed. */
static bool captured_set(char *text, struct wg_uapi_set *s)
{
	struct wg_uapi_conn c;
	enum wg_uapi_kind kind;
	const char *body;
	size_t len;
	char why[WG_UAPI_WHY_LEN];
	bool ok;

	wg_uapi_conn_init(&c, 0);
	wg_uapi_feed(&c, text, strlen(text));
	ok = CHECK_EQ(wg_uapi_next_request(&c, &kind, &body, &len), 0) &&
	     CHECK_EQ(kind, WG_UAPI_SET) &&
	     CHECK_EQ(wg_uapi_next_request(&c, &kind, &body, &len), EAGAIN);
	wg_uapi_conn_free(&c);
	if (!ok)
		return false;
	/* Parse from the text itself: the conn is gone. */
	body = text + 6;
	len = strlen(text) - 7;
	if (!CHECK_EQ(wg_uapi_parse_set(s, body, len, why, sizeof(why)), 0)) {
		fprintf(stderr, "  wg sent what we refuse: %s\n%s", why, text);
		return false;
	}
	return true;
}

static char tmp_dir[] = "/tmp/wgdp-test-uapi-XXXXXX";

/* Write a file in the temporary directory; its path in out. */
static void tmp_file(char *out, size_t cap, const char *name, const char *text)
{
	FILE *f;

	snprintf(out, cap, "%s/%s", tmp_dir, name);
	f = fopen(out, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static void test_wg_show(struct server *srv)
{
	char cmd[256], out[4096], want[2048];
	char priv[WG_KEY_B64_LEN + 1], pub1[WG_KEY_B64_LEN + 1], pub2[WG_KEY_B64_LEN + 1];
	char pub3[WG_KEY_B64_LEN + 1], psk[WG_KEY_B64_LEN + 1];

	b64_of(priv, PRIV1);
	b64_of(pub1, PUB1);
	b64_of(pub2, PUB2);
	b64_of(pub3, PUB3);
	b64_of(psk, PSK);
	snprintf(cmd, sizeof(cmd), "wg show %s dump", srv->name);
	CHECK_EQ(run(cmd, out, sizeof(out)), 0);
	snprintf(want, sizeof(want),
		 "%s\t%s\t51820\toff\n"
		 "%s\t%s\t192.0.2.1:51820\t10.0.0.0/24,fd00::/64\t1700000000\t1000\t2000\t25\n"
		 "%s\t(none)\t(none)\t(none)\t0\t0\t0\toff\n",
		 priv, pub1, pub2, psk, pub3);
	if (!CHECK(strcmp(out, want) == 0))
		fprintf(stderr, "  wg show dump:\n%s  want:\n%s", out, want);

	snprintf(cmd, sizeof(cmd), "wg showconf %s", srv->name);
	CHECK_EQ(run(cmd, out, sizeof(out)), 0);
	snprintf(want, sizeof(want),
		 "[Interface]\nListenPort = 51820\nPrivateKey = %s\n\n"
		 "[Peer]\nPublicKey = %s\nPresharedKey = %s\n"
		 "AllowedIPs = 10.0.0.0/24, fd00::/64\nEndpoint = 192.0.2.1:51820\n"
		 "PersistentKeepalive = 25\n\n"
		 "[Peer]\nPublicKey = %s\n",
		 priv, pub2, psk, pub3);
	if (!CHECK(strcmp(out, want) == 0))
		fprintf(stderr, "  wg showconf:\n%s  want:\n%s", out, want);
}

static void check_wg_set(const struct wg_uapi_set *s)
{
	uint8_t k[WG_KEY_LEN];
	const struct wg_uapi_peer *p = &s->peers[0];

	CHECK(s->has_private_key && s->has_listen_port && s->has_fwmark && !s->replace_peers);
	key_of(k, PRIV1);
	CHECK_MEM(s->private_key, k, WG_KEY_LEN);
	CHECK_EQ(s->listen_port, 51820);
	CHECK_EQ(s->fwmark, 0x2a);
	if (!CHECK_EQ(s->n_peers, 2))
		return;
	key_of(k, PUB2);
	CHECK_MEM(p->public_key, k, WG_KEY_LEN);
	key_of(k, PSK);
	CHECK(p->has_preshared_key && memcmp(p->preshared_key, k, WG_KEY_LEN) == 0);
	CHECK(p->has_endpoint && p->endpoint.port == 51820);
	CHECK(p->has_keepalive && p->keepalive == 25);
	CHECK(p->replace_allowed_ips && !p->remove && !p->update_only);
	CHECK(p->n_aips == 2 && prefix_is(&p->aips[0].prefix, "10.0.0.0/24") &&
	      prefix_is(&p->aips[1].prefix, "fd00::/64"));
	key_of(k, PUB3);
	CHECK(s->peers[1].remove && memcmp(s->peers[1].public_key, k, WG_KEY_LEN) == 0);
}

static void test_wg_set(struct server *srv)
{
	char cmd[1024], out[4096], keyfile[256], pskfile[256];
	char priv[WG_KEY_B64_LEN + 1], pub2[WG_KEY_B64_LEN + 1], pub3[WG_KEY_B64_LEN + 1];
	char psk[WG_KEY_B64_LEN + 1], *text;
	struct wg_uapi_set s;

	b64_of(priv, PRIV1);
	b64_of(pub2, PUB2);
	b64_of(pub3, PUB3);
	b64_of(psk, PSK);
	tmp_file(keyfile, sizeof(keyfile), "key", priv);
	tmp_file(pskfile, sizeof(pskfile), "psk", psk);
	if (!server_start(srv))
		return;
	snprintf(cmd, sizeof(cmd),
		 "wg set %s listen-port 51820 fwmark 0x2a private-key %s peer %s preshared-key %s"
		 " endpoint 192.0.2.1:51820 persistent-keepalive 25"
		 " allowed-ips 10.0.0.0/24,fd00::/64 peer %s remove",
		 srv->name, keyfile, pub2, pskfile, pub3);
	CHECK_EQ(run(cmd, out, sizeof(out)), 0);
	text = server_stop(srv);
	if (text && captured_set(text, &s)) {
		check_wg_set(&s);
		wg_uapi_set_free(&s);
	}
	free(text);
	unlink(keyfile);
	unlink(pskfile);
}

static void test_wg_setconf(struct server *srv)
{
	char cmd[512], out[4096], conf[2048], path[256], *text;
	char pub1[WG_KEY_B64_LEN + 1], pub2[WG_KEY_B64_LEN + 1], priv[WG_KEY_B64_LEN + 1];
	struct wg_uapi_set s;

	b64_of(priv, PRIV1);
	b64_of(pub1, PUB1);
	b64_of(pub2, PUB2);
	snprintf(conf, sizeof(conf),
		 "[Interface]\nPrivateKey = %s\nListenPort = 4242\n\n"
		 "[Peer]\nPublicKey = %s\nAllowedIPs = 10.1.0.0/16, 10.2.3.4/8\n"
		 "Endpoint = [2001:db8::7]:4243\n\n"
		 "[Peer]\nPublicKey = %s\n", priv, pub1, pub2);
	tmp_file(path, sizeof(path), "conf", conf);
	if (!server_start(srv))
		return;
	snprintf(cmd, sizeof(cmd), "wg setconf %s %s", srv->name, path);
	CHECK_EQ(run(cmd, out, sizeof(out)), 0);
	text = server_stop(srv);
	if (text && captured_set(text, &s)) {
		/* A whole file: every device field (fwmark 0 = off) and replace_peers. */
		CHECK(s.has_private_key && s.has_listen_port && s.has_fwmark && s.replace_peers);
		CHECK(s.listen_port == 4242 && s.fwmark == 0);
		if (CHECK_EQ(s.n_peers, 2)) {
			CHECK(s.peers[0].replace_allowed_ips && s.peers[0].n_aips == 2);
			CHECK(prefix_is(&s.peers[0].aips[1].prefix, "10.0.0.0/8"));
			CHECK(s.peers[0].has_endpoint && s.peers[0].endpoint.port == 4243);
			CHECK(s.peers[1].replace_allowed_ips && s.peers[1].n_aips == 0);
			CHECK(!s.peers[1].has_endpoint && !s.peers[1].has_preshared_key);
		}
		wg_uapi_set_free(&s);
	}
	free(text);
	unlink(path);
}

/* syncconf reads the device (our get reply), then sends the difference: PUB3 is not in
 * the file, so it is removed; PUB1 is added. */
static void test_wg_syncconf(struct server *srv)
{
	char cmd[512], out[4096], conf[2048], path[256], *text;
	char pub1[WG_KEY_B64_LEN + 1], pub2[WG_KEY_B64_LEN + 1], priv[WG_KEY_B64_LEN + 1];
	uint8_t k1[WG_KEY_LEN], k3[WG_KEY_LEN];
	struct wg_uapi_set s;
	bool removed3 = false, added1 = false;

	b64_of(priv, PRIV1);
	b64_of(pub1, PUB1);
	b64_of(pub2, PUB2);
	key_of(k1, PUB1);
	key_of(k3, PUB3);
	snprintf(conf, sizeof(conf), "[Interface]\nPrivateKey = %s\nListenPort = 51820\n\n"
		 "[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.0/24\n\n"
		 "[Peer]\nPublicKey = %s\nAllowedIPs = 10.9.0.0/16\n", priv, pub2, pub1);
	tmp_file(path, sizeof(path), "conf", conf);
	if (!server_start(srv))
		return;
	snprintf(cmd, sizeof(cmd), "wg syncconf %s %s", srv->name, path);
	CHECK_EQ(run(cmd, out, sizeof(out)), 0);
	text = server_stop(srv);
	if (text && captured_set(text, &s)) {
		CHECK(!s.replace_peers);
		for (size_t i = 0; i < s.n_peers; i++) {
			removed3 |= s.peers[i].remove && !memcmp(s.peers[i].public_key, k3, 32);
			added1 |= !s.peers[i].remove && !memcmp(s.peers[i].public_key, k1, 32) &&
				  s.peers[i].n_aips == 1;
		}
		CHECK(removed3 && added1);
		wg_uapi_set_free(&s);
	}
	free(text);
	unlink(path);
}

/* Our errno lines, as wg reports them. */
static void test_wg_errors(struct server *srv)
{
	static char get_err[32];
	struct wg_uapi_buf b;
	char cmd[256], out[4096];

	srv->set_err = EINVAL;
	if (server_start(srv)) {
		snprintf(cmd, sizeof(cmd), "wg set %s listen-port 1", srv->name);
		CHECK(run(cmd, out, sizeof(out)) != 0);
		CHECK(strstr(out, "Unable to modify interface: Invalid argument") != NULL);
		free(server_stop(srv));
	}
	srv->set_err = 0;
	wg_uapi_buf_init(&b);
	CHECK_EQ(wg_uapi_format_errno(&b, WG_UAPI_GET, EINVAL), 0);
	snprintf(get_err, sizeof(get_err), "%.*s", (int)b.len, b.data);
	wg_uapi_buf_free(&b);
	srv->get_reply = get_err;
	if (server_start(srv)) {
		snprintf(cmd, sizeof(cmd), "wg show %s dump", srv->name);
		CHECK(run(cmd, out, sizeof(out)) != 0);
		CHECK(strstr(out, "Unable to access interface: Invalid argument") != NULL);
		free(server_stop(srv));
	}
}

static void test_wg_tool(void)
{
	static const char *const names[] = { "show", "set", "setconf", "syncconf", "errors" };
	struct server srv = { .capture = -1 };
	struct wg_uapi_buf reply;

	if (geteuid() != 0 || system("command -v wg >/dev/null 2>&1") != 0) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			skip(names[i], geteuid() ? "not root" : "no wg tool");
		return;
	}
	if (!CHECK(mkdtemp(tmp_dir) != NULL))
		return;
	wg_uapi_buf_init(&reply);
	format_fixture(&reply);
	append(&reply, "%s", "");      /* NUL-terminated for the server */
	srv.get_reply = reply.data;
	if (server_start(&srv)) {
		test_wg_show(&srv);
		free(server_stop(&srv));
	}
	test_wg_set(&srv);
	test_wg_setconf(&srv);
	test_wg_syncconf(&srv);
	test_wg_errors(&srv);
	wg_uapi_buf_free(&reply);
	CHECK_EQ(rmdir(tmp_dir), 0);
}

int main(void)
{
	CHECK_EQ(wg_crypto_init(), 0);
	test_good_sets();
	test_bad_sets();
	test_reason_hides_values();
	test_set_fields();
	test_set_many();
	test_get();
	test_errno();
	test_streams();
	test_line_max();
	test_limit();
	test_big_stream();
	test_wg_tool();
	if (skipped)
		printf("uapi: %u skipped (the wg tool tests need root and wg)\n", skipped);
	return check_report("uapi");
}
