/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the JSON-RPC control protocol: the framer and the handler over the
 * fake gateway of the unit tests (a small peer table, so that "table full" is reachable).
 * The first byte picks how the rest is cut into reads, the framer's limit, the request
 * budget per serve call, and whether the rest is the raw stream or written in tokens:
 * bytes from 0xc0 stand for whole pieces of requests (an envelope, a method name, a
 * parameter with a valid value), so that a short run from a fixed seed, without a corpus,
 * reaches every method and most refusals.
 *
 * Every answer must be one line of JSON: a response object (or a batch array of them)
 * with "jsonrpc": "2.0", an id, and exactly one of result or error, whose code is one of
 * the protocol's; no answer may show the preshared key; no change may touch device
 * fields; a lost stream must have been answered before it ends.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/rpc_fake.h"
#include "wg_crypto.h"
#include "wg_rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PUB2 "GEGSwyhx8WuT/igWRF+UsqPUkGe1DACyALymn3uFBjs="
#define PUB3 "whz7fJfzeMH9X34R105dGbkTgjbp1joOTjSotm4ocy4="
#define PSK  "FrrxVMzEiveQE7Abdx5FguvUbhia6vOG8duVYjZQ3wU="

#define HEAD(id, m) "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"" m "\",\"params\":{"

/* Request heads, parameters (each with its leading comma) and closers, so that a few
 * tokens in a row make a whole request of any method. */
static const char *const TOKENS[] = {
	HEAD(1, "AddPeer") "\"public_key\":\"" PUB2 "\"",
	HEAD(2, "AddPeers") "\"peers\":[{\"public_key\":\"" PUB3 "\"",
	HEAD(3, "GetPeer") "\"public_key\":\"" PUB2 "\"",
	HEAD(4, "ListPeers") "\"limit\":1",
	HEAD(5, "RemovePeer") "\"public_key\":\"" PUB2 "\"",
	HEAD(6, "RemovePeers") "\"public_keys\":[\"" PUB2 "\"",
	"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"",
	"GetDeviceInfo", "ListPeers", "GetStats", "GetLcores", "AddPeer", "\"}\n",
	",\"preshared_key\":\"" PSK "\"", ",\"endpoint\":\"192.0.2.1:51820\"",
	",\"endpoint\":\"[2001:db8::1]:1\"", ",\"allowed_ips\":[\"10.0.0.0/8\",\"fd00::1/64\"]",
	",\"allowed_ips\":[]", ",\"persistent_keep_alive\":\"1m30s\"",
	",\"persistent_keepalive_interval\":25", ",\"validate_only\":true", ",\"offset\":2",
	"},{\"public_key\":\"" PUB2 "\"", ",\"" PUB3 "\"", "}}\n", "}]}}\n", "]}}\n", "\n",
	",", "]", "}", "\"", "-1", "1001", "1e20", "null", "true", "[",
	"{\"jsonrpc\":\"2.0\",\"method\":\"AddPeer\",\"params\":{\"public_key\":\"" PUB3
	"\"}}\n",
};
#define N_TOKENS (sizeof(TOKENS) / sizeof(TOKENS[0]))

static bool valid_code(json_int_t c)
{
	return c == WG_RPC_PARSE_ERROR || c == WG_RPC_INVALID_REQUEST ||
	       c == WG_RPC_METHOD_NOT_FOUND || c == WG_RPC_INVALID_PARAMS ||
	       c == WG_RPC_INTERNAL_ERROR || c == WG_RPC_SERVER_ERROR;
}

static void check_response(const json_t *r)
{
	const json_t *result = json_object_get(r, "result"), *err = json_object_get(r, "error");
	const json_t *msg = json_object_get(err, "message");
	const char *version = json_string_value(json_object_get(r, "jsonrpc"));

	if (!json_is_object(r) || !json_object_get(r, "id") || version == NULL ||
	    strcmp(version, "2.0") != 0 || !result == !err)
		abort();
	if (err && (!valid_code(json_integer_value(json_object_get(err, "code"))) ||
		    !json_is_string(msg) || json_string_length(msg) == 0))
		abort();
}

/* Each line of out: one response or a non-empty batch of them. */
static void check_output(const struct wg_uapi_buf *out)
{
	size_t at = 0;

	if (out->len && memmem(out->data, out->len, PSK, strlen(PSK)))
		abort();
	while (at < out->len) {
		const char *nl = memchr(out->data + at, '\n', out->len - at);
		json_t *j, *r;
		size_t i;

		if (nl == NULL)
			abort();
		j = json_loadb(out->data + at, (size_t)(nl - out->data) - at, 0, NULL);
		if (j == NULL || (json_is_array(j) && json_array_size(j) == 0))
			abort();
		if (json_is_array(j))
			json_array_foreach(j, i, r)
				check_response(r);
		else
			check_response(j);
		json_decref(j);
		at = (size_t)(nl - out->data) + 1;
	}
}

/* Bytes from 0xc0 become tokens, the others stay. */
static char *expand(const uint8_t *data, size_t size, size_t *len)
{
	size_t n = 0;
	char *t;

	for (size_t i = 0; i < size; i++)
		n += data[i] >= 0xc0 ? strlen(TOKENS[(data[i] - 0xc0) % N_TOKENS]) : 1;
	t = malloc(n + 1);
	if (t == NULL)
		abort();
	*len = 0;
	for (size_t i = 0; i < size; i++) {
		const char *tok = (const char *)&data[i];
		size_t k = 1;

		if (data[i] >= 0xc0) {
			tok = TOKENS[(data[i] - 0xc0) % N_TOKENS];
			k = strlen(tok);
		}
		memcpy(t + *len, tok, k);
		*len += k;
	}
	return t;
}

static void run_stream(const struct wg_rpc_backend *be, const char *text, size_t size,
		       size_t chunk, size_t limit, unsigned budget)
{
	struct wg_rpc_conn c;
	struct wg_uapi_buf out;
	int rc = 0;

	wg_rpc_conn_init(&c, limit);
	wg_uapi_buf_init(&out);
	for (size_t at = 0; at < size && (rc == 0 || rc == EINPROGRESS); at += chunk) {
		size_t k = chunk < size - at ? chunk : size - at;

		wg_rpc_feed(&c, text + at, k);
		rc = wg_rpc_serve(be, &c, &out, budget);
	}
	while (rc == EINPROGRESS)
		rc = wg_rpc_serve(be, &c, &out, budget);
	/* A lost stream ends with its one error answer. */
	if (rc != 0 && (out.len == 0 || !memmem(out.data, out.len, "\"id\":null", 9)))
		abort();
	check_output(&out);
	wg_uapi_buf_free(&out);
	wg_rpc_conn_free(&c);
}

/* The whole text as one request, straight to the handler: one answer line at most. */
static void run_direct(const struct wg_rpc_backend *be, const char *text, size_t len)
{
	struct wg_uapi_buf out;

	wg_uapi_buf_init(&out);
	if (wg_rpc_handle(be, text, len, &out) != 0 ||
	    (out.len && memchr(out.data, '\n', out.len) != out.data + out.len - 1))
		abort();
	check_output(&out);
	wg_uapi_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fake f;
	struct wg_rpc_backend be;
	size_t chunk, limit, len;
	unsigned budget;
	char *text;

	if (!ready) {
		wg_rpc_init();
		if (wg_crypto_init() != 0)
			abort();
		ready = true;
	}
	if (size < 1)
		return 0;
	fake_init(&f, 4);
	be = fake_backend(&f);
	chunk = 1 + (data[0] & 15) * 7;
	limit = data[0] & 0x80 ? 160 : 0;
	budget = 1 + (data[0] >> 4 & 3);
	if (data[0] & 0x40) {
		text = expand(data + 1, size - 1, &len);
		run_stream(&be, text, len, chunk * 16, limit, budget);
		run_direct(&be, text, len);
		free(text);
	} else {
		run_stream(&be, (const char *)data + 1, size - 1, chunk, limit, budget);
	}
	if (f.device_fields != 0)
		abort();
	fake_free(&f);
	return 0;
}
