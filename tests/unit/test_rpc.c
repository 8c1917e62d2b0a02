/* SPDX-License-Identifier: MIT */
/*
 * The JSON-RPC control protocol against a fake gateway (rpc_fake.h) that really applies
 * the changes: every method with good parameters and its result field by field, paging
 * at its edges, update on repeat, validate_only, 10,000 peers added in one call and listed
 * page by page, the backend refusing a change, the JSON-RPC envelope (ids, notifications,
 * batches), a table of malformed requests (each with its error code, a piece of its
 * message, and the fake unchanged after it), the framer, and that no response ever shows
 * a preshared key.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rpc_fake.h"
#include "rpc_priv.h"
#include "wg_rpc.h"

#define PUB1 "6gzng5w1XvqNPytYe4kdSFX3nGy6irAFzcU0H6ypQmc="
#define PUB2 "GEGSwyhx8WuT/igWRF+UsqPUkGe1DACyALymn3uFBjs="
#define PUB3 "whz7fJfzeMH9X34R105dGbkTgjbp1joOTjSotm4ocy4="
#define PSK  "FrrxVMzEiveQE7Abdx5FguvUbhia6vOG8duVYjZQ3wU="
#define ZERO "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static struct fake F;
static struct wg_rpc_backend BE;
static int next_id;

/* ---- helpers ---- */

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

/* One request line through the handler: the response text, or NULL when none. */
static char *run(const char *req, size_t len)
{
	struct wg_uapi_buf out;
	char *s = NULL;

	wg_uapi_buf_init(&out);
	CHECK_EQ(wg_rpc_handle(&BE, req, len, &out), 0);
	if (out.len > 0) {
		CHECK(out.data[out.len - 1] == '\n');
		CHECK(memchr(out.data, '\n', out.len) == out.data + out.len - 1);
		s = strndup(out.data, out.len);
		/* Never a preshared key, whatever the request was. */
		CHECK(strstr(s, PSK) == NULL);
	}
	wg_uapi_buf_free(&out);
	return s;
}

static json_t *parse_json(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	if (!CHECK(j != NULL))
		fprintf(stderr, "  not JSON: %s\n", text);
	return j;
}

static char *request(const char *method, const char *params)
{
	return xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"%s%s}", ++next_id,
			 method, params ? ",\"params\":" : "", params ? params : "");
}

/* The response to method(params), whole; NULL if there was none. */
static json_t *respond(const char *method, const char *params)
{
	char *req = request(method, params), *text = run(req, strlen(req));
	json_t *resp = text ? parse_json(text) : NULL;

	free(req);
	free(text);
	return resp;
}

/* The result of a call that must succeed (a new reference), or NULL. */
static json_t *result_of(const char *method, const char *params)
{
	json_t *resp = respond(method, params), *result;

	if (!CHECK(resp != NULL))
		return NULL;
	CHECK(strcmp(json_string_value(json_object_get(resp, "jsonrpc")), "2.0") == 0);
	CHECK_EQ(json_integer_value(json_object_get(resp, "id")), next_id);
	result = json_incref(json_object_get(resp, "result"));
	if (!CHECK(result != NULL))
		fprintf(stderr, "  %s: %s\n", method, json_string_value(json_object_get(
				json_object_get(resp, "error"), "message")));
	CHECK(json_object_get(resp, "error") == NULL);
	json_decref(resp);
	return result;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "(none)";
}

static long long jint(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	CHECK(json_is_integer(v));
	return json_integer_value(v);
}

static bool jtrue(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

/* The call fails with code and a message containing `part`; the fake is unchanged. */
static void expect_error_text(const char *req, size_t len, int code, const char *part)
{
	char *before = fake_snapshot(&F), *after, *text;
	unsigned applies = F.applies;
	json_t *resp, *err;
	int code_ok, text_ok;

	text = run(req, len);
	if (!CHECK(text != NULL))
		goto out;
	resp = parse_json(text);
	err = json_object_get(resp, "error");
	CHECK(json_object_get(resp, "result") == NULL);
	/* Both checks are counted, whatever the first one says. */
	code_ok = CHECK_EQ(json_integer_value(json_object_get(err, "code")), code);
	text_ok = CHECK(strstr(jstr(err, "message"), part) != NULL);
	if (!code_ok || !text_ok)
		fprintf(stderr, "  request %.120s\n  answer  %s", req, text);
	json_decref(resp);
out:
	after = fake_snapshot(&F);
	CHECK(strcmp(before, after) == 0);
	/* A server error is the backend refusing: it was asked, and changed nothing. */
	if (code != WG_RPC_SERVER_ERROR)
		CHECK_EQ(F.applies, applies);
	free(before);
	free(after);
	free(text);
}

static void expect_error(const char *method, const char *params, int code, const char *part)
{
	char *req = request(method, params);

	expect_error_text(req, strlen(req), code, part);
	free(req);
}

static void reset(size_t max_peers)
{
	fake_free(&F);
	fake_init(&F, max_peers);
	BE = fake_backend(&F);
}

static void key_n(uint8_t key[WG_KEY_LEN], unsigned i)
{
	memset(key, 0x5a, WG_KEY_LEN);
	key[0] = (uint8_t)(i >> 24);
	key[1] = (uint8_t)(i >> 16);
	key[2] = (uint8_t)(i >> 8);
	key[3] = (uint8_t)i;
}

static void b64_n(char out[WG_KEY_B64_LEN + 1], unsigned i)
{
	uint8_t key[WG_KEY_LEN];

	key_n(key, i);
	wg_key_to_base64(out, key);
}

/* ---- GetDeviceInfo ---- */

static void test_device_info(void)
{
	json_t *r, *d;

	reset(100);
	F.fwmark = 0;
	r = result_of("GetDeviceInfo", NULL);
	d = json_object_get(r, "device");
	CHECK(strcmp(jstr(d, "name"), "wgdp0") == 0);
	CHECK(strcmp(jstr(d, "type"), "wgdp") == 0);
	CHECK(strcmp(jstr(d, "public_key"), PUB1) == 0);
	CHECK_EQ(jint(d, "listen_port"), 51820);
	CHECK(json_object_get(d, "firewall_mark") == NULL);   /* omitempty, as wg-api */
	CHECK_EQ(jint(d, "num_peers"), 0);
	CHECK_EQ(json_object_size(d), 6);
	/* Plain WireGuard: h1..h4 are the plain types. */
	CHECK(json_is_false(json_object_get(json_object_get(d, "obfuscation"), "enabled")));
	CHECK_EQ(jint(json_object_get(d, "obfuscation"), "h4"), 4);
	json_decref(r);

	F.has_key = false;
	F.fwmark = 0x51;
	r = result_of("GetDeviceInfo", "{}");
	d = json_object_get(r, "device");
	CHECK(json_is_null(json_object_get(d, "public_key")));
	CHECK_EQ(jint(d, "firewall_mark"), 0x51);
	json_decref(r);
}

/* ---- SetObfuscation ---- */

static void ok_call(const char *method, const char *params);

static void test_obfuscation(void)
{
	json_t *r, *o;
	unsigned applies;

	reset(100);
	ok_call("SetObfuscation", "{\"jc\":4,\"jmin\":40,\"jmax\":70,\"s1\":15,\"s2\":68,"
		"\"h1\":1020325451,\"h2\":3288052141,\"h3\":1766607858,\"h4\":2528465083,"
		"\"accept_plain\":true}");
	r = result_of("GetDeviceInfo", NULL);
	o = json_object_get(json_object_get(r, "device"), "obfuscation");
	CHECK(json_is_true(json_object_get(o, "enabled")));
	CHECK_EQ(jint(o, "jc"), 4);
	CHECK_EQ(jint(o, "s2"), 68);
	CHECK_EQ(jint(o, "h2"), 3288052141ll);
	CHECK(json_is_true(json_object_get(o, "accept_plain")));
	CHECK_EQ(json_object_size(o), 11);
	json_decref(r);
	/* Only what is named changes; validate_only changes nothing. */
	ok_call("SetObfuscation", "{\"s1\":20}");
	CHECK_EQ(F.obfs.s1, 20);
	CHECK_EQ(F.obfs.s2, 68);
	applies = F.applies;
	r = result_of("SetObfuscation", "{\"s1\":30,\"validate_only\":true}");
	CHECK(json_is_false(json_object_get(r, "ok")));
	json_decref(r);
	CHECK_EQ(F.obfs.s1, 20);
	CHECK_EQ(F.applies, applies);
	/* The gateway's rules: refused with its reason, nothing changed. */
	expect_error("SetObfuscation", "{\"h1\":5,\"h2\":5}", -32000, "h1 and h2 must differ");
	expect_error("SetObfuscation", "{\"jmin\":80}", -32000, "jmin = 80 is above jmax");
	CHECK_EQ(F.obfs.h[0], 1020325451u);
	/* The parameters' own ranges and names. */
	expect_error("SetObfuscation", "{\"jc\":129}", -32602, "jc");
	expect_error("SetObfuscation", "{\"h4\":4294967296}", -32602, "h4");
	expect_error("SetObfuscation", "{\"s1\":-1}", -32602, "s1");
	expect_error("SetObfuscation", "{\"s1\":\"15\"}", -32602, "s1");
	expect_error("SetObfuscation", "{\"accept_plain\":1}", -32602, "accept_plain");
	expect_error("SetObfuscation", "{\"junk\":1}", -32602, "unknown parameter \"junk\"");
	CHECK_EQ(F.device_fields, 0);
	memset(&F.obfs, 0, sizeof(F.obfs));
	wg_obfs_default(&F.obfs);
}

/* ---- AddPeer, GetPeer, update on repeat ---- */

static void check_peer1_full(const json_t *p)
{
	const json_t *aips = json_object_get(p, "allowed_ips");

	CHECK(strcmp(jstr(p, "public_key"), PUB2) == 0);
	CHECK(jtrue(p, "has_preshared_key"));
	CHECK(strcmp(jstr(p, "endpoint"), "192.0.2.7:51820") == 0);
	CHECK(strcmp(jstr(p, "persistent_keep_alive"), "25s") == 0);
	CHECK_EQ(jint(p, "persistent_keepalive_interval"), 25);
	CHECK(strcmp(jstr(p, "last_handshake"), "0001-01-01T00:00:00Z") == 0);
	CHECK_EQ(jint(p, "receive_bytes"), 0);
	CHECK_EQ(jint(p, "transmit_bytes"), 0);
	CHECK_EQ(jint(p, "protocol_version"), 1);
	CHECK_EQ(json_array_size(aips), 2);
	CHECK(strcmp(json_string_value(json_array_get(aips, 0)), "10.1.1.0/24") == 0);
	/* Host bits cleared, as wg-api's net.ParseCIDR and the UAPI clear them. */
	CHECK(strcmp(json_string_value(json_array_get(aips, 1)), "fd00:1::/64") == 0);
	CHECK(json_object_get(p, "preshared_key") == NULL);
	CHECK(jtrue(p, "enabled"));
	CHECK_EQ(json_object_size(p), 11);
}

static void test_add_get(void)
{
	json_t *r;

	reset(100);
	r = result_of("AddPeer", "{\"public_key\":\"" PUB2 "\",\"preshared_key\":\"" PSK "\","
		      "\"endpoint\":\"192.0.2.7:51820\",\"persistent_keep_alive\":\"25s\","
		      "\"allowed_ips\":[\"10.1.1.0/24\",\"fd00:1::5/64\"]}");
	CHECK(jtrue(r, "ok"));
	CHECK_EQ(json_object_size(r), 1);
	json_decref(r);
	CHECK_EQ(F.applies, 1);
	CHECK_EQ(F.device_fields, 0);
	CHECK_EQ(F.list.n, 1);
	CHECK(F.list.p[0].has_psk);
	CHECK(memcmp(F.list.p[0].psk, (uint8_t[WG_KEY_LEN]){ 0 }, WG_KEY_LEN) != 0);

	r = result_of("GetPeer", "{\"public_key\":\"" PUB2 "\"}");
	check_peer1_full(json_object_get(r, "peer"));
	json_decref(r);

	/* Counters and the handshake time as the gateway reports them. */
	F.list.p[0].rx = 834854756;
	F.list.p[0].tx = UINT64_MAX;
	F.list.p[0].hs_sec = 1582216512;
	F.list.p[0].hs_nsec = 500000000;
	r = result_of("GetPeer", "{\"public_key\":\"" PUB2 "\"}");
	CHECK_EQ(jint(json_object_get(r, "peer"), "receive_bytes"), 834854756);
	CHECK_EQ(jint(json_object_get(r, "peer"), "transmit_bytes"), INT64_MAX);
	CHECK(strcmp(jstr(json_object_get(r, "peer"), "last_handshake"),
		     "2020-02-20T16:35:12.5Z") == 0);
	json_decref(r);

	/* An unknown key is no error: {"peer": null}, as wg-api answers. */
	r = result_of("GetPeer", "{\"public_key\":\"" PUB3 "\"}");
	CHECK(json_is_null(json_object_get(r, "peer")));
	CHECK_EQ(json_object_size(r), 1);
	json_decref(r);
}

static json_t *peer2(void)
{
	json_t *r = result_of("GetPeer", "{\"public_key\":\"" PUB2 "\"}");
	json_t *p = json_incref(json_object_get(r, "peer"));

	json_decref(r);
	return p;
}

static void ok_call(const char *method, const char *params)
{
	json_t *r = result_of(method, params);

	CHECK(jtrue(r, "ok"));
	json_decref(r);
}

static void test_update_on_repeat(void)
{
	json_t *p;

	/* Allowed IPs given: replaced; the rest as it was. */
	ok_call("AddPeer", "{\"public_key\":\"" PUB2 "\",\"allowed_ips\":[\"10.2.0.0/16\"]}");
	CHECK_EQ(F.list.n, 1);
	p = peer2();
	CHECK_EQ(json_array_size(json_object_get(p, "allowed_ips")), 1);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(p, "allowed_ips"), 0)),
		     "10.2.0.0/16") == 0);
	CHECK(jtrue(p, "has_preshared_key"));
	CHECK(strcmp(jstr(p, "endpoint"), "192.0.2.7:51820") == 0);
	CHECK_EQ(jint(p, "persistent_keepalive_interval"), 25);
	json_decref(p);

	/* Allowed IPs not given: kept; endpoint and keepalive (by its UAPI name) changed. */
	ok_call("AddPeer", "{\"public_key\":\"" PUB2 "\",\"endpoint\":\"[2001:db8::1]:443\","
		"\"persistent_keepalive_interval\":90}");
	p = peer2();
	CHECK_EQ(json_array_size(json_object_get(p, "allowed_ips")), 1);
	CHECK(strcmp(jstr(p, "endpoint"), "[2001:db8::1]:443") == 0);
	CHECK(strcmp(jstr(p, "persistent_keep_alive"), "1m30s") == 0);
	json_decref(p);

	/* Empty strings and null are "not given" (wg-api's omitempty); [] clears; the
	 * all-zero key removes the preshared key; "0" turns the keepalive off. */
	ok_call("AddPeer", "{\"public_key\":\"" PUB2 "\",\"endpoint\":\"\",\"preshared_key\":null,"
		"\"allowed_ips\":[]}");
	p = peer2();
	CHECK_EQ(json_array_size(json_object_get(p, "allowed_ips")), 0);
	CHECK(jtrue(p, "has_preshared_key"));
	CHECK(strcmp(jstr(p, "endpoint"), "[2001:db8::1]:443") == 0);
	json_decref(p);
	ok_call("AddPeer", "{\"public_key\":\"" PUB2 "\",\"preshared_key\":\"" ZERO "\","
		"\"persistent_keep_alive\":\"0\"}");
	p = peer2();
	CHECK(!jtrue(p, "has_preshared_key"));
	CHECK(json_object_get(p, "persistent_keep_alive") == NULL);
	CHECK_EQ(jint(p, "persistent_keepalive_interval"), 0);
	json_decref(p);
	CHECK_EQ(F.list.n, 1);
}

/* ---- validate_only ---- */

static void check_validated(const char *method, const char *params)
{
	char *before = fake_snapshot(&F), *after;
	unsigned applies = F.applies, validates = F.validates;
	json_t *r = result_of(method, params);

	/* wg-api: "OK will only ever be false if ValidateOnly has been requested". */
	CHECK(json_is_false(json_object_get(r, "ok")));
	json_decref(r);
	after = fake_snapshot(&F);
	CHECK(strcmp(before, after) == 0);
	CHECK_EQ(F.applies, applies);
	CHECK_EQ(F.validates, validates + 1);
	free(before);
	free(after);
}

static void test_validate_only(void)
{
	json_t *r;

	reset(2);
	ok_call("AddPeer", "{\"public_key\":\"" PUB2 "\"}");
	check_validated("AddPeer", "{\"public_key\":\"" PUB3 "\",\"allowed_ips\":[\"10.0.0.0/8\"],"
			"\"validate_only\":true}");
	check_validated("AddPeers", "{\"peers\":[{\"public_key\":\"" PUB3 "\"}],"
			"\"validate_only\":true}");
	check_validated("RemovePeer", "{\"public_key\":\"" PUB2 "\",\"validate_only\":true}");
	check_validated("RemovePeers", "{\"public_keys\":[\"" PUB2 "\"],\"validate_only\":true}");
	/* validate_only false is an ordinary call. */
	r = result_of("RemovePeer", "{\"public_key\":\"" PUB2 "\",\"validate_only\":false}");
	CHECK(jtrue(r, "ok"));
	CHECK_EQ(F.list.n, 0);
	json_decref(r);
	/* What the backend would refuse is refused by validation too: room for two peers. */
	expect_error("AddPeers", "{\"peers\":[{\"public_key\":\"" PUB1 "\"},{\"public_key\":\""
		     PUB2 "\"},{\"public_key\":\"" PUB3 "\"}],\"validate_only\":true}",
		     WG_RPC_SERVER_ERROR, "peer table full");
	/* Without a validate hook the request's own checks are all there is. */
	BE.validate = NULL;
	r = result_of("AddPeer", "{\"public_key\":\"" PUB3 "\",\"validate_only\":true}");
	CHECK(json_is_false(json_object_get(r, "ok")));
	CHECK_EQ(F.list.n, 0);
	json_decref(r);
}

/* ---- removing ---- */

static void test_remove(void)
{
	json_t *r;

	reset(100);
	ok_call("AddPeers", "{\"peers\":[{\"public_key\":\"" PUB1 "\"},{\"public_key\":\"" PUB2
		"\"},{\"public_key\":\"" PUB3 "\"}]}");
	CHECK_EQ(F.list.n, 3);
	ok_call("RemovePeer", "{\"public_key\":\"" PUB2 "\"}");
	CHECK_EQ(F.list.n, 2);
	CHECK(fake_find(&F.list, F.list.p[0].key) == &F.list.p[0]);
	/* Removing a key that is not there is no error (the end state is the same). */
	ok_call("RemovePeer", "{\"public_key\":\"" PUB2 "\"}");
	r = result_of("RemovePeers", "{\"public_keys\":[\"" PUB1 "\",\"" PUB2 "\",\"" PUB3 "\",\""
		      PUB3 "\"]}");
	CHECK(jtrue(r, "ok"));
	CHECK_EQ(jint(r, "count"), 4);
	CHECK_EQ(F.list.n, 0);
	json_decref(r);
	/* Empty lists are fine and call nobody. */
	r = result_of("RemovePeers", "{\"public_keys\":[]}");
	CHECK_EQ(jint(r, "count"), 0);
	json_decref(r);
	r = result_of("AddPeers", "{\"peers\":[]}");
	CHECK_EQ(jint(r, "count"), 0);
	json_decref(r);
	CHECK_EQ(F.applies, 4);
}

/* ---- ListPeers and paging ---- */

static void add_n(unsigned first, unsigned n)
{
	FILE *m;
	char *params = NULL, key[WG_KEY_B64_LEN + 1];
	size_t len;
	json_t *r;

	m = open_memstream(&params, &len);
	fputs("{\"peers\":[", m);
	for (unsigned i = first; i < first + n; i++) {
		b64_n(key, i);
		fprintf(m, "%s{\"public_key\":\"%s\",\"allowed_ips\":[\"10.%u.%u.%u/32\"]%s}",
			i > first ? "," : "", key, i >> 16 & 255, i >> 8 & 255, i & 255,
			i % 3 ? "" : ",\"endpoint\":\"198.51.100.1:51820\"");
	}
	fputs("]}", m);
	fclose(m);
	r = result_of("AddPeers", params);
	CHECK(jtrue(r, "ok"));
	CHECK_EQ(jint(r, "count"), n);
	json_decref(r);
	free(params);
}

/* A page: its peers are first..first+n-1 in creation order. */
static void check_page(const char *params, unsigned first, size_t n, long long next,
		       long long total)
{
	json_t *r = result_of("ListPeers", params), *peers = json_object_get(r, "peers");
	char key[WG_KEY_B64_LEN + 1];

	if (!CHECK(json_is_array(peers)))
		goto out;
	if (!CHECK_EQ(json_array_size(peers), n))
		fprintf(stderr, "  ListPeers %s\n", params ? params : "");
	for (size_t i = 0; i < json_array_size(peers) && i < n; i++) {
		b64_n(key, first + (unsigned)i);
		CHECK(strcmp(jstr(json_array_get(peers, i), "public_key"), key) == 0);
	}
	if (next < 0)
		CHECK(json_is_null(json_object_get(r, "next_offset")));
	else
		CHECK_EQ(jint(r, "next_offset"), next);
	CHECK_EQ(jint(r, "total"), total);
out:
	json_decref(r);
}

static void test_paging(void)
{
	reset(100000);
	check_page(NULL, 0, 0, -1, 0);
	add_n(0, 25);
	check_page(NULL, 0, 25, -1, 25);
	check_page("{}", 0, 25, -1, 25);
	check_page("{\"limit\":0}", 0, 25, -1, 25);
	check_page("{\"limit\":10}", 0, 10, 10, 25);
	check_page("{\"limit\":10,\"offset\":10}", 10, 10, 20, 25);
	check_page("{\"limit\":10,\"offset\":20}", 20, 5, -1, 25);
	check_page("{\"limit\":1,\"offset\":24}", 24, 1, -1, 25);
	check_page("{\"offset\":25}", 0, 0, -1, 25);
	check_page("{\"offset\":9223372036854775807}", 0, 0, -1, 25);
	check_page("{\"limit\":25,\"offset\":0}", 0, 25, -1, 25);
	check_page("{\"limit\":24}", 0, 24, 24, 25);
	check_page("{\"limit\":1000,\"offset\":null}", 0, 25, -1, 25);
}

static void test_bulk(void)
{
	json_t *r, *d;
	char *params;
	long long offset = 0;
	unsigned seen = 0, pages = 0;

	reset(100000);
	add_n(0, 10000);
	CHECK_EQ(F.list.n, 10000);
	CHECK_EQ(F.applies, 1);
	r = result_of("GetDeviceInfo", NULL);
	d = json_object_get(r, "device");
	CHECK_EQ(jint(d, "num_peers"), 10000);
	json_decref(r);
	/* Walk every page by next_offset, as a client would. */
	while (offset >= 0 && pages < 20) {
		params = xasprintf("{\"limit\":999,\"offset\":%lld}", offset);
		check_page(params, (unsigned)offset, offset + 999 <= 10000 ? 999 : 10000 - offset,
			   offset + 999 < 10000 ? offset + 999 : -1, 10000);
		free(params);
		seen += offset + 999 <= 10000 ? 999 : (unsigned)(10000 - offset);
		offset = offset + 999 < 10000 ? offset + 999 : -1;
		pages++;
	}
	CHECK_EQ(seen, 10000);
	CHECK_EQ(pages, 11);
	/* No limit: one page of WG_RPC_PAGE_MAX, and where the next one starts. */
	check_page(NULL, 0, WG_RPC_PAGE_MAX, WG_RPC_PAGE_MAX, 10000);
	check_page("{\"offset\":9000}", 9000, WG_RPC_PAGE_MAX, -1, 10000);
	/* A peer in the middle, field by field. */
	r = result_of("GetPeer", "{\"public_key\":\"AAAVsVpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=\"}");
	d = json_object_get(r, "peer");
	CHECK(strcmp(jstr(d, "endpoint"), "198.51.100.1:51820") == 0);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(d, "allowed_ips"), 0)),
		     "10.0.21.177/32") == 0);
	json_decref(r);
	add_n(10000, 5);
	check_page("{\"offset\":9000}", 9000, WG_RPC_PAGE_MAX, 10000, 10005);
	check_page("{\"offset\":9500}", 9500, 505, -1, 10005);
	check_page("{\"offset\":10000}", 10000, 5, -1, 10005);
}

/* The bulk RemovePeers of half of them. */
static void test_bulk_remove(void)
{
	FILE *m;
	char *params = NULL, key[WG_KEY_B64_LEN + 1];
	size_t len;
	json_t *r;

	m = open_memstream(&params, &len);
	fputs("{\"public_keys\":[", m);
	for (unsigned i = 0; i < 10005; i += 2) {
		b64_n(key, i);
		fprintf(m, "%s\"%s\"", i ? "," : "", key);
	}
	fputs("]}", m);
	fclose(m);
	r = result_of("RemovePeers", params);
	CHECK_EQ(jint(r, "count"), 5003);
	CHECK_EQ(F.list.n, 5002);
	json_decref(r);
	free(params);
	check_page("{\"limit\":1}", 1, 1, 1, 5002);
}

/* ---- the backend says no ---- */

static void test_backend_errors(void)
{
	json_t *resp, *err;

	reset(2);
	ok_call("AddPeer", "{\"public_key\":\"" PUB1 "\"}");
	/* Over capacity: all or nothing, though the first of the two would have fitted. */
	expect_error("AddPeers", "{\"peers\":[{\"public_key\":\"" PUB2 "\"},{\"public_key\":\""
		     PUB3 "\"}]}", WG_RPC_SERVER_ERROR, "could not configure device: peer table full");
	CHECK_EQ(F.list.n, 1);
	resp = respond("AddPeers", "{\"peers\":[{\"public_key\":\"" PUB2 "\"},{\"public_key\":\""
		       PUB3 "\"}]}");
	err = json_object_get(resp, "error");
	CHECK_EQ(jint(json_object_get(err, "data"), "errno"), ENOSPC);
	json_decref(resp);

	F.fail_stats = true;
	expect_error("GetStats", NULL, WG_RPC_SERVER_ERROR,
		     "could not read statistics: statistics are being reset");
	BE.stats = NULL;
	BE.lcores = NULL;
	expect_error("GetStats", NULL, WG_RPC_METHOD_NOT_FOUND, "GetStats is not served here");
	expect_error("GetLcores", NULL, WG_RPC_METHOD_NOT_FOUND, "GetLcores");
}

/* ---- GetStats, GetLcores ---- */

static void test_stats_lcores(void)
{
	json_t *r, *w;

	reset(10);
	r = result_of("GetStats", NULL);
	w = json_array_get(json_object_get(r, "workers"), 1);
	CHECK_EQ(jint(w, "lcore"), 2);
	CHECK(strcmp(jstr(w, "role"), "worker") == 0);
	CHECK_EQ(jint(json_object_get(w, "drops"), "REPLAY"), 3);
	CHECK_EQ(jint(json_object_get(r, "drops"), "DECRYPT"), 8);
	CHECK_EQ(jint(r, "rx_packets"), 2000);
	CHECK_EQ(json_array_size(json_object_get(r, "ports")), 1);
	json_decref(r);
	r = result_of("GetLcores", "{}");
	w = json_object_get(r, "lcores");
	CHECK_EQ(json_array_size(w), 3);
	CHECK(strcmp(jstr(json_array_get(w, 2), "role"), "control") == 0);
	CHECK_EQ(jint(json_array_get(w, 1), "queue"), 1);
	CHECK(json_is_false(json_object_get(r, "single_lcore")));
	json_decref(r);
	expect_error("GetStats", "{\"reset\":true}", WG_RPC_INVALID_PARAMS,
		     "unknown parameter \"reset\"");
}

/* ---- the envelope: ids, notifications, batches ---- */

static char *run_str(const char *req)
{
	return run(req, strlen(req));
}

static json_t *run_json(const char *req)
{
	char *text = run(req, strlen(req));
	json_t *j = text ? parse_json(text) : NULL;

	free(text);
	return j;
}

/* Masquerade and destination rules: the parameters read and checked before the backend
 * hears of them, ListFlows' pages. */
static void test_nat_methods(void)
{
	json_t *r;
	char params[256];
	uint64_t offset = 0;
	unsigned pages = 0, seen = 0;

	reset(100);
	ok_call("SetMasquerade", "{\"port\":\"lan\",\"enabled\":true,\"sources\":[\"10.200.0.0/16\"],"
		"\"pool\":[\"10.60.0.1\"],\"port_range\":\"2000-2999\"}");
	CHECK(F.masq.has_enabled && F.masq.m.enabled && F.masq.has_sources && F.masq.has_pool);
	CHECK_EQ(F.masq.m.n_sources, 1);
	CHECK_EQ(F.masq.m.sources[0].len, 16);
	CHECK(F.masq.m.port_min == 2000 && F.masq.m.port_max == 2999);
	ok_call("SetMasquerade", "{\"port\":\"lan\",\"enabled\":false}");
	CHECK(F.masq.has_enabled && !F.masq.m.enabled && !F.masq.has_sources &&
	      !F.masq.has_port_range);
	expect_error("SetMasquerade", "{\"enabled\":true}", -32602, "port");
	expect_error("SetMasquerade", "{\"port\":\"wan\",\"enabled\":true}", -32000, "no port named");
	expect_error("SetMasquerade", "{\"port\":\"lan\",\"sources\":\"10.0.0.0/8\"}", -32602,
		     "sources");
	expect_error("SetMasquerade", "{\"port\":\"lan\",\"sources\":[\"fd00::/8\"]}", -32602,
		     "sources[0]");
	expect_error("SetMasquerade", "{\"port\":\"lan\",\"port_range\":\"9-2\"}", -32602,
		     "port_range");
	expect_error("SetMasquerade", "{\"port\":\"lan\",\"colour\":1}", -32602, "colour");
	ok_call("SetNat", "{\"udp\":30,\"max_flows\":1000}");
	CHECK(F.nat.n.udp == 30 && F.nat.n.max_flows == 1000 && F.nat.n.icmp == 0);
	expect_error("SetNat", "{\"udp\":0}", -32602, "udp");
	expect_error("SetNat", "{\"max_flows\":\"many\"}", -32602, "max_flows");
	expect_error("SetNat", "{\"tcp_established\":99999999999}", -32602, "tcp_established");

	ok_call("SetRules", "{\"name\":\"web\",\"allow\":[\"0.0.0.0/0 tcp 443\",\"::/0\"]}");
	CHECK_EQ(F.n_rules, 2);
	CHECK(F.n_rules == 2 && F.rules[0].proto == 6 && F.rules[0].port_min == 443);
	expect_error("SetRules", "{\"name\":\"web\",\"allow\":[\"10.0.0.0/8\",\"10.0.0.0/8 tcp 70000\"]}",
		     -32602, "allow[1]");
	expect_error("SetRules", "{\"name\":\"a b\",\"allow\":[]}", -32602, "name");
	expect_error("SetRules", "{\"name\":\"x\"}", -32602, "allow");
	r = result_of("GetRules", NULL);
	CHECK_EQ(json_array_size(json_object_get(r, "rule_sets")), 1);
	json_decref(r);
	expect_error("RemoveRules", "{\"name\":\"nope\"}", -32000, "no such rule set");
	expect_error("SetPeerRules", "{\"public_key\":\"" PUB2 "\"}", -32602, "rule_set");
	expect_error("SetPeerRules", "{\"public_key\":\"" PUB2 "\",\"rule_set\":\"web\"}", -32000,
		     "no such peer");
	ok_call("RemoveRules", "{\"name\":\"web\"}");

	/* ListFlows: 7 flows in pages of 3, walked by next_offset. */
	F.n_flows = 7;
	expect_error("ListFlows", "{\"limit\":1001}", -32602, "limit");
	expect_error("ListFlows", "{\"limit\":-1}", -32602, "limit");
	for (;;) {
		const json_t *next;

		snprintf(params, sizeof(params), "{\"limit\":3,\"offset\":%llu}",
			 (unsigned long long)offset);
		r = result_of("ListFlows", params);
		if (r == NULL)
			break;
		pages++;
		seen += (unsigned)json_array_size(json_object_get(r, "flows"));
		CHECK_EQ(jint(r, "total"), 7);
		next = json_object_get(r, "next_offset");
		if (pages == 1) {
			const json_t *f0 = json_array_get(json_object_get(r, "flows"), 0);

			CHECK(strcmp(jstr(f0, "protocol"), "udp") == 0);
			CHECK(strcmp(jstr(f0, "inside"), "10.200.0.2:1000") == 0);
			CHECK(strcmp(jstr(f0, "outside"), "10.60.0.1:40000") == 0);
		}
		if (json_is_null(next) || pages > 5) {
			json_decref(r);
			break;
		}
		offset = (uint64_t)json_integer_value(next);
		json_decref(r);
	}
	CHECK_EQ(pages, 3);
	CHECK_EQ(seen, 7);
	/* A backend without the hooks: method not found. */
	BE.set_masquerade = NULL;
	BE.flow_next = NULL;
	expect_error("SetMasquerade", "{\"port\":\"lan\"}", -32601, "SetMasquerade");
	expect_error("ListFlows", NULL, -32601, "ListFlows");
}

static void test_envelope(void)
{
	json_t *r;
	char *text;

	reset(10);
	/* Ids of every allowed type come back as they were. */
	r = run_json("{\"jsonrpc\":\"2.0\",\"id\":\"abc-1\",\"method\":\"GetLcores\"}");
	CHECK(strcmp(jstr(r, "id"), "abc-1") == 0);
	json_decref(r);
	r = run_json("{\"jsonrpc\":\"2.0\",\"id\":2.5,\"method\":\"GetLcores\"}");
	CHECK(json_real_value(json_object_get(r, "id")) == 2.5);
	json_decref(r);
	r = run_json("{\"method\":\"GetLcores\",\"id\":null,\"jsonrpc\":\"2.0\"}");
	CHECK(json_is_null(json_object_get(r, "id")));
	CHECK(json_object_get(r, "result") != NULL);
	json_decref(r);
	/* No parameters may also be said with an empty array. */
	r = run_json("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"GetDeviceInfo\",\"params\":[]}");
	CHECK(json_object_get(r, "result") != NULL);
	json_decref(r);
	/* An id stays with an error that comes after it was read. */
	r = run_json("{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"Nope\"}");
	CHECK_EQ(jint(r, "id"), 77);
	json_decref(r);

	/* A notification is carried out and answered with nothing, even when it fails. */
	text = run_str("{\"jsonrpc\":\"2.0\",\"method\":\"AddPeer\",\"params\":{\"public_key\":\""
		       PUB2 "\"}}");
	CHECK(text == NULL);
	CHECK_EQ(F.list.n, 1);
	text = run_str("{\"jsonrpc\":\"2.0\",\"method\":\"Nope\"}");
	CHECK(text == NULL);
	/* A broken envelope is answered even without an id: it may not be a notification. */
	r = run_json("{\"jsonrpc\":\"1.0\",\"method\":\"GetLcores\"}");
	CHECK_EQ(jint(json_object_get(r, "error"), "code"), WG_RPC_INVALID_REQUEST);
	CHECK(json_is_null(json_object_get(r, "id")));
	json_decref(r);

	/* A batch: answers in order, notifications left out, bad members answered. */
	r = run_json("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"GetLcores\"},"
		     "{\"jsonrpc\":\"2.0\",\"method\":\"RemovePeer\",\"params\":{\"public_key\":\""
		     PUB2 "\"}}, 42, {\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"GetPeer\"}]");
	CHECK_EQ(json_array_size(r), 3);
	CHECK_EQ(jint(json_array_get(r, 0), "id"), 1);
	CHECK(json_object_get(json_array_get(r, 0), "result") != NULL);
	CHECK(json_is_null(json_object_get(json_array_get(r, 1), "id")));
	CHECK_EQ(jint(json_object_get(json_array_get(r, 1), "error"), "code"),
		 WG_RPC_INVALID_REQUEST);
	CHECK(strcmp(jstr(json_array_get(r, 2), "id"), "x") == 0);
	CHECK_EQ(jint(json_object_get(json_array_get(r, 2), "error"), "code"),
		 WG_RPC_INVALID_PARAMS);
	CHECK_EQ(F.list.n, 0);
	json_decref(r);
	text = run_str("[{\"jsonrpc\":\"2.0\",\"method\":\"GetLcores\"}]");
	CHECK(text == NULL);
	/* An error response's own shape. */
	r = run_json("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"GetPeer\",\"params\":{}}");
	CHECK_EQ(json_object_size(r), 3);
	CHECK(strcmp(jstr(json_object_get(json_object_get(r, "error"), "data"), "param"),
		     "public_key") == 0);
	json_decref(r);
}

/* ---- malformed requests ---- */

struct bad_case {
	const char *req;        /* a whole line; "@M P" is shorthand for method M, params P */
	int code;
	const char *part;       /* in the message */
	size_t len;             /* 0: strlen(req) */
};

#define NUL_REQ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"GetLcores\"}\0junk"
#define RQ(m, p) "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"" m "\",\"params\":" p "}"

static const struct bad_case BAD[] = {
	/* not JSON, not a request */
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"AddPeer\",\"params\":{", -32700, "parse error" },
	{ "hello", -32700, "parse error at byte" },
	{ "{\"a\":1} {\"b\":2}", -32700, "parse error" },
	{ "   ", -32700, "empty request" },
	{ "\"\\u0000\"", -32700, "parse error" },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Get\xff\"}", -32700, "parse error" },
	{ "{\"jsonrpc\":\"2.0\",\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"GetLcores\"}", -32700,
	  "duplicate" },
	{ NUL_REQ, -32700, "NUL byte at byte 45", sizeof(NUL_REQ) - 1 },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"preshared_key\":" PSK "}"), -32700,
	  "invalid token" },
	{ "5", -32600, "a request must be a JSON object, not an integer" },
	{ "\"GetLcores\"", -32600, "not a string" },
	{ "null", -32600, "not null" },
	{ "[]", -32600, "empty batch" },
	{ "{\"id\":1,\"method\":\"GetLcores\"}", -32600, "missing member \"jsonrpc\"" },
	{ "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"GetLcores\"}", -32600, "jsonrpc must be \"2.0\"" },
	{ "{\"jsonrpc\":2.0,\"id\":1,\"method\":\"GetLcores\"}", -32600, "jsonrpc must be \"2.0\"" },
	{ "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"GetLcores\"}", -32600,
	  "id must be a string, a number or null, not an object" },
	{ "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"GetLcores\"}", -32600, "not an array" },
	{ "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"GetLcores\"}", -32600, "not a boolean" },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1}", -32600, "missing member \"method\"" },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", -32600, "method must be a string" },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"GetLcores\",\"extra\":1}", -32600,
	  "unknown request member \"extra\"" },
	{ RQ("GetLcores", "5"), -32600, "params must be an object or an array, not an integer" },
	{ RQ("GetLcores", "\"x\""), -32600, "params must be an object or an array" },
	/* methods */
	{ RQ("Frobnicate", "{}"), -32601, "method not found: \"Frobnicate\"" },
	{ RQ("getpeer", "{}"), -32601, "method not found" },
	{ RQ("AddPeer " PUB2, "{}"), -32601, "method not found" },
	/* params, whatever the method */
	{ RQ("GetPeer", "[\"" PUB2 "\"]"), -32602, "parameters are passed by name" },
	{ RQ("GetDeviceInfo", "{\"verbose\":true}"), -32602, "unknown parameter \"verbose\"" },
	{ RQ("GetPeer", "{\"public_key\":\"" PUB2 "\",\"" PSK "\":1}"), -32602,
	  "unknown parameter" },
	/* keys */
	{ RQ("GetPeer", "{}"), -32602, "public_key: required" },
	{ RQ("GetPeer", "null"), -32600, "params must be an object or an array, not null" },
	{ RQ("GetPeer", "{\"public_key\":\"\"}"), -32602, "public_key: required" },
	{ RQ("GetPeer", "{\"public_key\":5}"), -32602, "public_key: must be a string, not an integer" },
	{ RQ("GetPeer", "{\"public_key\":\"abc\"}"), -32602,
	  "public_key: malformed key: 3 characters, a base64 key has 44" },
	{ RQ("GetPeer", "{\"public_key\":\"GEGSwyhx8WuT/igWRF+UsqPUkGe1DACyALymn3uFBj!=\"}"),
	  -32602, "public_key: invalid key: not the base64 of 32 bytes" },
	{ RQ("RemovePeer", "{\"public_key\":\"" PUB2 "x\"}"), -32602, "public_key: malformed key" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"preshared_key\":\"" PSK "A\"}"), -32602,
	  "preshared_key: malformed key: 45 characters" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"preshared_key\":\"FrrxVMzEiveQE7Abdx5FguvUbhia6vOG8duVYjZQ3w*=\"}"),
	  -32602, "preshared_key: invalid key" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"preshared_key\":true}"), -32602,
	  "preshared_key: must be a string, not a boolean" },
	/* allowed IPs */
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"allowed_ips\":[\"10.0.0.0/8\",\"10.0.0.0/33\"]}"),
	  -32602, "allowed_ips[1]: range \"10.0.0.0/33\" is not valid" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"allowed_ips\":[\"10.0.0.1\"]}"), -32602,
	  "expected ADDRESS/LENGTH" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"allowed_ips\":[\"fd00::/129\"]}"), -32602,
	  "allowed_ips[0]" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"allowed_ips\":[\"10.0.0.300/32\"]}"),
	  -32602, "not valid" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"allowed_ips\":[\"example.com/24\"]}"),
	  -32602, "allowed_ips[0]: not a valid range" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"allowed_ips\":[24]}"), -32602,
	  "allowed_ips[0]: must be a string, not an integer" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"allowed_ips\":\"10.0.0.0/8\"}"), -32602,
	  "allowed_ips: must be an array, not a string" },
	/* endpoints */
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"endpoint\":\"vpn.example.com:51820\"}"),
	  -32602, "endpoint: invalid endpoint" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"endpoint\":\"192.0.2.1:0\"}"), -32602,
	  "endpoint: invalid endpoint \"192.0.2.1:0\"" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"endpoint\":\"192.0.2.1\"}"), -32602,
	  "IPv4:port or [IPv6]:port" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"endpoint\":\"2001:db8::1:51820\"}"), -32602,
	  "endpoint: invalid endpoint" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"endpoint\":51820}"), -32602,
	  "endpoint: must be a string" },
	/* keepalive */
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"persistent_keep_alive\":\"25\"}"), -32602,
	  "persistent_keep_alive: invalid duration" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"persistent_keep_alive\":\"1.5s\"}"), -32602,
	  "whole seconds" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"persistent_keep_alive\":\"300ms\"}"), -32602,
	  "invalid duration" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"persistent_keep_alive\":\"18h12m16s\"}"),
	  -32602, "over the maximum of 65535s" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"persistent_keep_alive\":25}"), -32602,
	  "persistent_keep_alive: must be a string" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"persistent_keepalive_interval\":-1}"), -32602,
	  "persistent_keepalive_interval: must not be negative" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"persistent_keepalive_interval\":65536}"),
	  -32602, "over the maximum of 65535" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"persistent_keepalive_interval\":\"25\"}"),
	  -32602, "must be an integer, not a string" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"persistent_keepalive_interval\":25,"
	     "\"persistent_keep_alive\":\"25s\"}"), -32602, "not both" },
	/* other AddPeer params */
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"validate_only\":\"yes\"}"), -32602,
	  "validate_only: must be true or false, not a string" },
	{ RQ("AddPeer", "{\"public_key\":\"" PUB2 "\",\"allowed_ip\":[\"10.0.0.0/8\"]}"), -32602,
	  "unknown parameter \"allowed_ip\"" },
	{ RQ("AddPeer", "{\"preshared_key\":\"" PSK "\"}"), -32602, "public_key: required" },
	/* paging */
	{ RQ("ListPeers", "{\"limit\":-1}"), -32602, "limit: must not be negative" },
	{ RQ("ListPeers", "{\"offset\":-5}"), -32602, "offset: must not be negative" },
	{ RQ("ListPeers", "{\"limit\":1001}"), -32602, "limit: over the maximum of 1000" },
	{ RQ("ListPeers", "{\"limit\":1e20}"), -32602, "limit: must be an integer, not a real number" },
	{ RQ("ListPeers", "{\"limit\":99999999999999999999}"), -32700, "too big integer" },
	{ RQ("ListPeers", "{\"limit\":\"10\"}"), -32602, "limit: must be an integer, not a string" },
	{ RQ("ListPeers", "{\"limit\":2.5}"), -32602, "limit: must be an integer" },
	{ RQ("ListPeers", "{\"page\":2}"), -32602, "unknown parameter \"page\"" },
	/* bulk */
	{ RQ("AddPeers", "{}"), -32602, "peers: required" },
	{ RQ("AddPeers", "{\"peers\":{}}"), -32602, "peers: must be an array, not an object" },
	{ RQ("AddPeers", "{\"peers\":[{\"public_key\":\"" PUB2 "\"},\"" PUB3 "\"]}"), -32602,
	  "peers[1]: must be an object, not a string" },
	{ RQ("AddPeers", "{\"peers\":[{\"public_key\":\"" PUB2 "\"},{\"public_key\":\"" PUB3 "\"},"
	     "{\"public_key\":\"" PUB2 "\",\"endpoint\":\"192.0.2.1:1\"}]}"), -32602,
	  "peers[2].public_key: the same key as peers[0]" },
	{ RQ("AddPeers", "{\"peers\":[{\"public_key\":\"" PUB2 "\"},{\"public_key\":\"" PUB3 "\","
	     "\"allowed_ips\":[\"10.0.0.0/8\",\"bad\"]}]}"), -32602,
	  "peers[1].allowed_ips[1]: range \"bad\" is not valid" },
	{ RQ("AddPeers", "{\"peers\":[{\"public_key\":\"" PUB2 "\",\"validate_only\":true}]}"),
	  -32602, "peers[0]: unknown parameter \"validate_only\"" },
	{ RQ("AddPeers", "{\"peers\":[{\"public_key\":\"" PUB2 "\"}],\"validate_only\":1}"),
	  -32602, "validate_only: must be true or false" },
	{ RQ("RemovePeers", "{}"), -32602, "public_keys: required" },
	{ RQ("RemovePeers", "{\"public_keys\":[\"" PUB2 "\",\"" PUB3 "\",\"" PUB1 "\",\"nope\"]}"),
	  -32602, "public_keys[3]: malformed key" },
	{ RQ("RemovePeers", "{\"public_key\":\"" PUB2 "\"}"), -32602,
	  "unknown parameter \"public_key\"" },
};

static void test_bad_requests(void)
{
	reset(100);
	/* Peers to be changed if anything got through. */
	ok_call("AddPeers", "{\"peers\":[{\"public_key\":\"" PUB1 "\",\"allowed_ips\":[\"10.9.0.0/16\"]},"
		"{\"public_key\":\"" PUB3 "\",\"endpoint\":\"192.0.2.9:9\"}]}");
	for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++)
		expect_error_text(BAD[i].req, BAD[i].len ? BAD[i].len : strlen(BAD[i].req),
				  BAD[i].code, BAD[i].part);
	CHECK_EQ(F.list.n, 2);
}

/* ---- the framer ---- */

struct stream_result {
	int rc;
	char *out;
};

/* Feed text in chunks of `chunk` bytes, serving after each; the output, and the last
 * non-zero serve or feed result. */
static struct stream_result stream(const char *text, size_t len, size_t chunk, size_t limit)
{
	struct wg_rpc_conn c;
	struct wg_uapi_buf out;
	struct stream_result r = { 0, NULL };

	wg_rpc_conn_init(&c, limit);
	wg_uapi_buf_init(&out);
	for (size_t at = 0; at < len && r.rc == 0; at += chunk) {
		size_t k = chunk < len - at ? chunk : len - at;
		int fr = wg_rpc_feed(&c, text + at, k);

		r.rc = wg_rpc_serve(&BE, &c, &out, 1000);
		if (fr)
			CHECK_EQ(r.rc, fr);
	}
	r.out = strndup(out.data ? out.data : "", out.len);
	wg_uapi_buf_free(&out);
	wg_rpc_conn_free(&c);
	return r;
}

static unsigned count_newlines(const char *s, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

static unsigned count_lines(const char *s)
{
	return count_newlines(s, strlen(s));
}

/* A request of 3 MiB (whitespace JSON allows) in 64 KiB pieces: the buffer passes
 * WG_SECBUF_BIG, becomes a mapping and grows by mremap; then, all served, it goes. */
static void test_framer_big(void)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":7,";
	static const char tail[] = "\"method\":\"GetLcores\"}\n";
	size_t pad = 3u << 20, len = sizeof(head) - 1 + pad + sizeof(tail) - 1;
	char *text = malloc(len);
	struct stream_result r;

	if (!CHECK(text != NULL))
		return;
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, ' ', pad);
	memcpy(text + sizeof(head) - 1 + pad, tail, sizeof(tail) - 1);
	r = stream(text, len, 65536, 8u << 20);
	CHECK_EQ(r.rc, 0);
	CHECK_EQ(count_lines(r.out), 1);
	CHECK(strstr(r.out, "\"id\":7,\"result\"") != NULL);
	free(r.out);
	free(text);
}

static void test_framer(void)
{
	static const char three[] =
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"GetLcores\"}\n"
		"\n   \r\n"
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"GetDeviceInfo\"}\r\n"
		"{\"jsonrpc\":\"2.0\",\"method\":\"GetLcores\"}\n"
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"GetPeer\",\"params\":{}}\n"
		"{\"jsonrpc\":\"2.0\",\"id\":4,\"meth";
	static const char nul[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\0\"method\":\"GetLcores\"}\n"
				  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"GetLcores\"}\n";
	size_t chunks[] = { sizeof(three), 1, 2, 7, 64 };
	struct stream_result r;
	struct wg_rpc_conn c;
	struct wg_uapi_buf out;
	char *big;
	const char *line;
	size_t len;

	reset(10);
	/* Whole, byte by byte and in odd chunks: the same three answers. */
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		r = stream(three, sizeof(three) - 1, chunks[i], 0);
		CHECK_EQ(r.rc, 0);
		CHECK_EQ(count_lines(r.out), 3);
		CHECK(strstr(r.out, "\"id\":1,\"result\"") != NULL);
		CHECK(strstr(r.out, "\"id\":2,\"result\"") != NULL);
		CHECK(strstr(r.out, "\"id\":3,\"error\"") != NULL);
		free(r.out);
	}

	/* Over the limit: one answer, and the stream is lost (the caller closes). */
	big = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"GetLcores\"}\n"
			"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"AddPeer\",\"params\":"
			"{\"public_key\":\"%s\",\"allowed_ips\":[%s\"10.0.0.0/8\"]}}\n",
			PUB2, "\"10.0.0.0/8\",\"10.0.0.0/8\",\"10.0.0.0/8\",\"10.0.0.0/8\","
			"\"10.0.0.0/8\",\"10.0.0.0/8\",\"10.0.0.0/8\",\"10.0.0.0/8\",");
	r = stream(big, strlen(big), 16, 128);
	CHECK_EQ(r.rc, EMSGSIZE);
	CHECK_EQ(count_lines(r.out), 2);
	CHECK(strstr(r.out, "\"id\":1,\"result\"") != NULL);
	CHECK(strstr(r.out, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
			    "\"message\":\"request over the size limit of 128 bytes; closing "
			    "the connection\"}}\n") != NULL);
	CHECK_EQ(F.list.n, 0);
	free(r.out);
	free(big);

	/* Exactly at the limit is fine. */
	wg_rpc_conn_init(&c, 47);
	CHECK_EQ(wg_rpc_feed(&c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"GetLcores\"}\n", 46), 0);
	CHECK_EQ(wg_rpc_feed(&c, "x", 1), 0);
	CHECK_EQ(wg_rpc_feed(&c, "y", 1), EMSGSIZE);
	CHECK_EQ(wg_rpc_feed(&c, "", 0), EMSGSIZE);    /* sticky */
	CHECK_EQ(wg_rpc_next_line(&c, &line, &len), EMSGSIZE);
	wg_rpc_conn_free(&c);

	/* The lines themselves, and the request budget per call. */
	wg_rpc_conn_init(&c, 0);
	wg_uapi_buf_init(&out);
	CHECK_EQ(wg_rpc_feed(&c, "a\r\n\nb", 5), 0);
	CHECK_EQ(wg_rpc_next_line(&c, &line, &len), 0);
	CHECK(len == 1 && line[0] == 'a');
	CHECK_EQ(wg_rpc_next_line(&c, &line, &len), EAGAIN);
	CHECK_EQ(wg_rpc_feed(&c, "\n{}\n{}\n", 7), 0);
	CHECK_EQ(wg_rpc_serve(&BE, &c, &out, 2), EINPROGRESS);
	CHECK_EQ(count_newlines(out.data, out.len), 2);
	CHECK_EQ(wg_rpc_serve(&BE, &c, &out, 2), 0);
	CHECK_EQ(count_newlines(out.data, out.len), 3);
	wg_uapi_buf_free(&out);
	wg_rpc_conn_free(&c);

	/* A NUL byte is refused, and the stream goes on. */
	r = stream(nul, sizeof(nul) - 1, 5, 0);
	CHECK_EQ(r.rc, 0);
	CHECK_EQ(count_lines(r.out), 2);
	CHECK(strstr(r.out, "NUL byte at byte 24") != NULL);
	CHECK(strstr(r.out, "\"id\":2,\"result\"") != NULL);
	free(r.out);
}

/* Bad lines through the framer too: each one answer, with its code (but a blank line,
 * which the framer skips). */
static void test_bad_stream(void)
{
	for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		size_t n = BAD[i].len ? BAD[i].len : strlen(BAD[i].req);
		char *line, code[32];
		struct stream_result r;

		if (strspn(BAD[i].req, " ") == n)
			continue;
		line = malloc(n + 1);
		memcpy(line, BAD[i].req, n);
		line[n] = '\n';
		r = stream(line, n + 1, 100, 0);
		snprintf(code, sizeof(code), "\"code\":%d", BAD[i].code);
		if (!CHECK(r.rc == 0 && count_lines(r.out) == 1 && strstr(r.out, code)))
			fprintf(stderr, "  case %zu: %s", i, r.out);
		free(r.out);
		free(line);
	}
}

/* ---- formats ---- */

static void test_formats(void)
{
	static const struct { uint64_t sec; const char *text; } dur[] = {
		{ 0, "0s" }, { 25, "25s" }, { 60, "1m0s" }, { 90, "1m30s" }, { 3600, "1h0m0s" },
		{ 65535, "18h12m15s" },
	};
	static const struct { uint64_t sec; uint32_t nsec; const char *text; } tm[] = {
		{ 0, 0, "0001-01-01T00:00:00Z" }, { 1, 0, "1970-01-01T00:00:01Z" },
		{ 1582216512, 0, "2020-02-20T16:35:12Z" },
		{ 1582216512, 120000, "2020-02-20T16:35:12.00012Z" },
		{ 1582216512, 999999999, "2020-02-20T16:35:12.999999999Z" },
		{ UINT64_MAX, 0, "9999-12-31T23:59:59Z" },
	};
	char text[48];

	for (size_t i = 0; i < sizeof(dur) / sizeof(dur[0]); i++) {
		char params[160];
		json_t *p;

		rpc_format_duration(text, dur[i].sec);
		CHECK(strcmp(text, dur[i].text) == 0);
		/* What is printed is read back. */
		reset(2);
		snprintf(params, sizeof(params), "{\"public_key\":\"%s\",\"persistent_keep_alive\":"
			 "\"%s\"}", PUB2, dur[i].text);
		ok_call("AddPeer", params);
		p = peer2();
		CHECK_EQ(jint(p, "persistent_keepalive_interval"), dur[i].sec);
		json_decref(p);
	}
	for (size_t i = 0; i < sizeof(tm) / sizeof(tm[0]); i++) {
		rpc_format_time(text, tm[i].sec, tm[i].nsec);
		if (!CHECK(strcmp(text, tm[i].text) == 0))
			fprintf(stderr, "  %s != %s\n", text, tm[i].text);
	}
}

static void test_format_error(void)
{
	struct wg_uapi_buf out;

	wg_uapi_buf_init(&out);
	CHECK_EQ(wg_rpc_format_error(&out, WG_RPC_INTERNAL_ERROR, "a \"quoted\" reason"), 0);
	CHECK(out.len > 0 && strncmp(out.data, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
				     "{\"code\":-32603,\"message\":\"a \\\"quoted\\\" reason\"}}\n",
				     out.len) == 0);
	wg_uapi_buf_free(&out);
}

/* ---- the HTTP transport's options, and wgdp's operator methods ---- */

static char *run_opts(const char *req, const struct wg_rpc_opts *o, int *rc)
{
	struct wg_uapi_buf out;
	char why[512] = "", *s;

	wg_uapi_buf_init(&out);
	*rc = wg_rpc_handle_opts(&BE, req, strlen(req), &out, o, why, sizeof(why));
	s = *rc == EBADMSG ? strdup(why) : strndup(out.data ? out.data : "", out.len);
	wg_uapi_buf_free(&out);
	return s;
}

static void test_http_options(void)
{
	static const struct wg_rpc_opts http = { .answer_all = true, .lenient = true };
	char *r, *snap = fake_snapshot(&F), *after;
	int rc;

	/* No id: answered, with id null; no "jsonrpc": fine; unknown members ignored. */
	r = run_opts("{\"method\":\"GetDeviceInfo\",\"extra\":1}", &http, &rc);
	CHECK_EQ(rc, 0);
	CHECK(strstr(r, "\"id\":null") && strstr(r, "\"result\":{\"device\""));
	free(r);
	/* The same strictly: a notification gets nothing; a member is refused. */
	r = run_opts("{\"jsonrpc\":\"2.0\",\"method\":\"GetDeviceInfo\"}", NULL, &rc);
	CHECK(rc == 0 && r[0] == '\0');
	free(r);
	r = run_opts("{\"method\":\"GetDeviceInfo\",\"id\":1}", NULL, &rc);
	CHECK(strstr(r, "-32600") != NULL);
	free(r);
	/* Parameters wg-api would ignore are ignored over HTTP, refused over the socket. */
	r = run_opts("{\"method\":\"GetPeer\",\"params\":{\"public_key\":\"" PUB2 "\","
		     "\"friendly_name\":\"x\"}}", &http, &rc);
	CHECK(strstr(r, "\"result\"") != NULL);
	free(r);
	r = run_opts("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"GetPeer\",\"params\":"
		     "{\"public_key\":\"" PUB2 "\",\"friendly_name\":\"x\"}}", NULL, &rc);
	CHECK(strstr(r, "unknown parameter") != NULL);
	free(r);
	/* Not JSON: EBADMSG with the reason, nothing written (the transport says 400). */
	r = run_opts("{\"method\":", &http, &rc);
	CHECK_EQ(rc, EBADMSG);
	CHECK(strstr(r, "parse error at byte") != NULL);
	free(r);
	after = fake_snapshot(&F);
	CHECK(strcmp(snap, after) == 0);
	free(after);
	free(snap);
	/* Go durations and seconds for persistent_keep_alive. */
	{
		static const struct { const char *v; long long sec; } d[] = {
			{ "\"25s\"", 25 }, { "\"1m30.9s\"", 90 }, { "\"2.5m\"", 150 },
			{ "\"300ms\"", 0 }, { "\"1h\"", 3600 }, { "42", 42 }, { "\"0\"", 0 },
			{ "\"1\xc2\xb5s\"", 0 }, { "\"18h12m15s\"", 65535 },
		};
		static const char *const bad[] = { "\"25\"", "\"-1s\"", "\"1d\"", "\"18h12m16s\"",
						   "-5", "\".s\"", "\"s\"", "70000" };
		char req[256];

		for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
			snprintf(req, sizeof(req), "{\"method\":\"AddPeer\",\"params\":{\"public_key\":"
				 "\"" PUB3 "\",\"persistent_keep_alive\":%s}}", d[i].v);
			r = run_opts(req, &http, &rc);
			if (!CHECK(strstr(r, "\"ok\":true") != NULL))
				fprintf(stderr, "  %s: %s\n", d[i].v, r);
			free(r);
		}
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(req, sizeof(req), "{\"method\":\"AddPeer\",\"params\":{\"public_key\":"
				 "\"" PUB3 "\",\"persistent_keep_alive\":%s}}", bad[i]);
			r = run_opts(req, &http, &rc);
			if (!CHECK(strstr(r, "-32602") != NULL))
				fprintf(stderr, "  %s: %s\n", bad[i], r);
			free(r);
		}
		r = run_opts("{\"method\":\"RemovePeer\",\"params\":{\"public_key\":\"" PUB3 "\"}}",
			     &http, &rc);
		free(r);
	}
}

/* The operator methods with and without their hooks. */
static uint64_t ev_cursor, ev_limit;
static bool en_last;

static int fake_events(void *ctx, uint64_t cursor, uint64_t limit, json_t *result, char *why,
		       size_t whylen)
{
	(void)ctx, (void)why, (void)whylen;
	ev_cursor = cursor;
	ev_limit = limit;
	json_object_set_new(result, "events", json_array());
	json_object_set_new(result, "next_cursor", json_integer((json_int_t)cursor));
	return 0;
}

static int fake_set_enabled(void *ctx, const uint8_t key[WG_KEY_LEN], bool enabled, char *why,
			    size_t whylen)
{
	struct fake *f = ctx;

	(void)why, (void)whylen;
	en_last = enabled;
	return fake_find(&f->list, key) ? 0 : ENOENT;
}

static int fake_save(void *ctx, json_t *result, char *why, size_t whylen)
{
	(void)ctx, (void)result;
	snprintf(why, whylen, "disk full");
	return ENOSPC;
}

static void test_operator_methods(void)
{
	json_t *r, *resp;

	resp = respond("GetEvents", NULL);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(resp, "error"), "code")), -32601);
	json_decref(resp);
	BE.events = fake_events;
	BE.set_enabled = fake_set_enabled;
	BE.save_config = fake_save;
	r = result_of("GetEvents", "{\"cursor\":7,\"limit\":5}");
	CHECK(ev_cursor == 7 && ev_limit == 5);
	json_decref(r);
	r = result_of("GetEvents", NULL);
	CHECK(ev_cursor == 0 && ev_limit == WG_RPC_EVENTS_MAX);
	json_decref(r);
	resp = respond("GetEvents", "{\"limit\":1001}");
	CHECK(strstr(json_string_value(json_object_get(json_object_get(resp, "error"), "message")),
		     "limit: over the maximum of 1000") != NULL);
	json_decref(resp);
	ok_call("AddPeer", "{\"public_key\":\"" PUB3 "\"}");
	r = result_of("SetPeerEnabled", "{\"public_key\":\"" PUB3 "\",\"enabled\":false}");
	CHECK(jtrue(r, "ok") && !en_last);
	json_decref(r);
	resp = respond("SetPeerEnabled", "{\"public_key\":\"" PUB3 "\"}");
	CHECK(strstr(json_string_value(json_object_get(json_object_get(resp, "error"), "message")),
		     "enabled: required") != NULL);
	json_decref(resp);
	resp = respond("SetPeerEnabled", "{\"public_key\":\"" PSK "\",\"enabled\":true}");
	CHECK(strstr(json_string_value(json_object_get(json_object_get(resp, "error"), "message")),
		     "no peer has this public key") != NULL);
	json_decref(resp);
	resp = respond("SaveConfig", NULL);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(resp, "error"), "code")), -32000);
	CHECK(strstr(json_string_value(json_object_get(json_object_get(resp, "error"), "message")),
		     "could not save the configuration: disk full") != NULL);
	json_decref(resp);
	ok_call("RemovePeer", "{\"public_key\":\"" PUB3 "\"}");
	BE.events = NULL;
	BE.set_enabled = NULL;
	BE.save_config = NULL;
}

int main(void)
{
	wg_rpc_init();
	wg_rpc_init();
	if (wg_crypto_init() != 0)
		return 1;
	fake_init(&F, 100);
	test_device_info();
	test_obfuscation();
	test_add_get();
	test_update_on_repeat();
	test_validate_only();
	test_remove();
	test_paging();
	test_bulk();
	test_bulk_remove();
	test_backend_errors();
	test_stats_lcores();
	test_nat_methods();
	test_envelope();
	test_bad_requests();
	test_bad_stream();
	test_framer();
	test_framer_big();
	test_formats();
	test_format_error();
	test_http_options();
	test_operator_methods();
	fake_free(&F);
	return check_report("rpc");
}
