/* SPDX-License-Identifier: MIT */
/*
 * Typed readers of request parameters, and the two formats wg-api borrows from Go
 * (durations and RFC 3339 times). Every refusal names the parameter by its path
 * ("peers[3].allowed_ips[1]") and says what was expected. A value is quoted back only when
 * it cannot be a secret: a key-shaped or free-form string never is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rpc_priv.h"
#include "wg_crypto.h"

int rpc_fail(struct rpc_err *e, int code, const char *param, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	e->code = code;
	e->param[0] = '\0';
	e->sys_errno = 0;
	if (param && param[0]) {
		snprintf(e->param, sizeof(e->param), "%s", param);
		n = (size_t)snprintf(e->message, sizeof(e->message), "%s: ", param);
		if (n >= sizeof(e->message))
			n = sizeof(e->message) - 1;
	}
	va_start(ap, fmt);
	vsnprintf(e->message + n, sizeof(e->message) - n, fmt, ap);
	va_end(ap);
	return -1;
}

const char *rpc_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:  return "an object";
	case JSON_ARRAY:   return "an array";
	case JSON_STRING:  return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL:    return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:   return "a boolean";
	default:           return "null";
	}
}

void rpc_path(char out[RPC_PATH_LEN], const char *prefix, const char *name)
{
	snprintf(out, RPC_PATH_LEN, "%s%s%s", prefix, prefix[0] ? "." : "", name);
}

void rpc_path_index(char out[RPC_PATH_LEN], const char *prefix, size_t i)
{
	snprintf(out, RPC_PATH_LEN, "%s[%zu]", prefix, i);
}

/* Safe to quote: short and made only of `allowed` (a base64 key is 44 characters). */
static bool quotable(const char *s, size_t n, const char *allowed)
{
	return n > 0 && n <= 32 && strspn(s, allowed) == n;
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_."
#define ADDR_CHARS "0123456789abcdefABCDEF.:/[]"

static bool listed(const char *key, const char *const names[])
{
	for (; *names; names++)
		if (strcmp(key, *names) == 0)
			return true;
	return false;
}

bool rpc_name_like(const char *s)
{
	return quotable(s, strlen(s), NAME_CHARS);
}

const char *rpc_unknown(const json_t *obj, const char *const names[])
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
		if (!listed(key, names))
			return key;
	return NULL;
}

int rpc_only(const json_t *obj, const char *const names[], const char *path, struct rpc_err *e)
{
	const char *bad = obj && !e->lenient ? rpc_unknown(obj, names) : NULL;

	if (bad == NULL)
		return 0;
	if (rpc_name_like(bad))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "unknown parameter \"%s\"", bad);
	return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "unknown parameter");
}

/* A string member that may be absent: 1 when present and non-empty, 0 when absent, -1
 * with e filled when of another type. */
static int opt_string(const json_t *v, const char *path, struct rpc_err *e)
{
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "must be a string, not %s",
				rpc_type_name(v));
	return json_string_length(v) > 0;
}

/* Never quoted: it may be a preshared key, or a private key pasted in the wrong place. */
static int key_value(const json_t *v, const char *path, uint8_t key[WG_KEY_LEN],
		     struct rpc_err *e)
{
	size_t n = json_string_length(v);

	if (n != WG_KEY_B64_LEN)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path,
				"malformed key: %zu characters, a base64 key has %u", n,
				(unsigned)WG_KEY_B64_LEN);
	if (wg_key_from_base64(key, json_string_value(v), n))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path,
				"invalid key: not the base64 of 32 bytes");
	return 0;
}

int rpc_key(const json_t *v, const char *path, uint8_t key[WG_KEY_LEN], struct rpc_err *e)
{
	int r = opt_string(v, path, e);

	if (r < 0)
		return -1;
	if (r == 0)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "required");
	return key_value(v, path, key, e);
}

int rpc_opt_key(const json_t *v, const char *path, bool *given, uint8_t key[WG_KEY_LEN],
		struct rpc_err *e)
{
	int r = opt_string(v, path, e);

	*given = r > 0;
	if (r <= 0)
		return r;
	return key_value(v, path, key, e);
}

int rpc_opt_endpoint(const json_t *v, const char *path, bool *given, struct wg_endpoint *ep,
		     struct rpc_err *e)
{
	int r = opt_string(v, path, e);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	*given = r > 0;
	if (r <= 0)
		return r;
	/* wg-api resolves host names; the control lcore never blocks on DNS. */
	if (wg_endpoint_parse(ep, s, n) == 0)
		return 0;
	if (quotable(s, n, ADDR_CHARS))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path,
				"invalid endpoint \"%s\": expected IPv4:port or [IPv6]:port, "
				"port 1..65535", s);
	return rpc_fail(e, WG_RPC_INVALID_PARAMS, path,
			"invalid endpoint: expected IPv4:port or [IPv6]:port, port 1..65535 "
			"(host names are not resolved)");
}

int rpc_prefix(const json_t *v, const char *path, struct wg_prefix *p, struct rpc_err *e)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	if (!json_is_string(v))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "must be a string, not %s",
				rpc_type_name(v));
	/* The length is required, as wg-api's net.ParseCIDR and the UAPI require it. */
	if (memchr(s, '/', n) && wg_prefix_parse(p, s, n, true) == 0) {
		wg_prefix_mask(p);
		return 0;
	}
	if (quotable(s, n, ADDR_CHARS))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path,
				"range \"%s\" is not valid: expected ADDRESS/LENGTH", s);
	return rpc_fail(e, WG_RPC_INVALID_PARAMS, path,
			"not a valid range: expected ADDRESS/LENGTH like 10.0.0.0/24 or fd00::/64");
}

int rpc_opt_uint(const json_t *v, const char *path, uint64_t max, bool *given, uint64_t *out,
		 struct rpc_err *e)
{
	json_int_t x;

	*given = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "must be an integer, not %s",
				rpc_type_name(v));
	x = json_integer_value(v);
	if (x < 0)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "must not be negative");
	if ((uint64_t)x > max)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "over the maximum of %llu",
				(unsigned long long)max);
	*given = true;
	*out = (uint64_t)x;
	return 0;
}

int rpc_opt_bool(const json_t *v, const char *path, bool *out, struct rpc_err *e)
{
	*out = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "must be true or false, not %s",
				rpc_type_name(v));
	*out = json_is_true(v);
	return 0;
}

/* Whole-second Go durations: one or more NUMBER UNIT with units h, m, s, or a bare "0".
 * 0, -1 when malformed, -2 past max. */
static int parse_duration(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t total = 0;
	size_t i = 0;

	if (n == 1 && s[0] == '0') {
		*out = 0;
		return 0;
	}
	while (i < n) {
		uint64_t x = 0, unit;
		size_t start = i;

		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if ((x = x * 10 + (uint64_t)(s[i] - '0')) > max)
				return -2;
		if (i == start || i == n)
			return -1;
		unit = s[i] == 'h' ? 3600 : s[i] == 'm' ? 60 : s[i] == 's' ? 1 : 0;
		i++;
		/* "ms": fractions of a second mean nothing to a keepalive. */
		if (unit == 0 || (unit == 60 && i < n && s[i] == 's'))
			return -1;
		if ((total += x * unit) > max)
			return -2;
	}
	*out = total;
	return n ? 0 : -1;
}

/* Go's time.ParseDuration, as wg-api reads persistent_keep_alive ("1h2m3.5s", "300ms",
 * "1.5h"), kept in whole seconds as wgctrl passes it on. 0, -1 malformed, -2 past max. */
static int parse_go_duration(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000ull }, { "m", 60000000000ull },
		{ "h", 3600000000000ull },
	};
	const uint64_t cap = (max + 1) * 1000000000ull;   /* past it: too long */
	uint64_t total = 0;
	size_t i = 0;

	if (n == 1 && s[0] == '0') {
		*out = 0;
		return 0;
	}
	if (n == 0)
		return -1;
	while (i < n) {
		uint64_t whole = 0, frac = 0, scale = 1, unit = 0, add;
		size_t start = i, k, len = 0;

		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if ((whole = whole * 10 + (uint64_t)(s[i] - '0')) > cap)
				return -2;
		if (i < n && s[i] == '.')
			for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
				if (scale < 1000000000000000000ull) {
					frac = frac * 10 + (uint64_t)(s[i] - '0');
					scale *= 10;
				}
		if (i == start || (i == start + 1 && s[start] == '.'))
			return -1;
		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
			size_t ul = strlen(units[k].unit);

			/* The longest unit that matches ("ms" before "m"). */
			if (ul > len && n - i >= ul && memcmp(s + i, units[k].unit, ul) == 0) {
				unit = units[k].ns;
				len = ul;
			}
		}
		if (unit == 0)
			return -1;
		i += len;
		if (whole > cap / unit)
			return -2;
		add = whole * unit + (uint64_t)((double)frac / (double)scale * (double)unit);
		if ((total += add) > cap)
			return -2;
	}
	*out = total / 1000000000ull;
	return *out > max ? -2 : 0;
}

int rpc_opt_duration(const json_t *v, const char *path, uint64_t max, bool *given,
		     uint64_t *out, struct rpc_err *e)
{
	int r;

	/* Over HTTP, plain seconds as well as wg-api's duration strings. */
	if (e->lenient && json_is_integer(v))
		return rpc_opt_uint(v, path, max, given, out, e);
	r = opt_string(v, path, e);

	*given = r > 0;
	if (r <= 0)
		return r;
	if (e->lenient)
		r = parse_go_duration(json_string_value(v), json_string_length(v), max, out);
	else
		r = parse_duration(json_string_value(v), json_string_length(v), max, out);
	if (r == -2)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "over the maximum of %llus",
				(unsigned long long)max);
	if (r)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path,
				"invalid duration: expected whole seconds like \"25s\", "
				"\"1m30s\" or \"0\"");
	return 0;
}

int rpc_array(const json_t *v, const char *path, size_t *n, struct rpc_err *e)
{
	if (v == NULL)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "required");
	if (!json_is_array(v))
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, path, "must be an array, not %s",
				rpc_type_name(v));
	*n = json_array_size(v);
	return 0;
}

void rpc_format_duration(char out[24], uint64_t sec)
{
	if (sec >= 3600)
		snprintf(out, 24, "%lluh%llum%llus", (unsigned long long)(sec / 3600),
			 (unsigned long long)(sec / 60 % 60), (unsigned long long)(sec % 60));
	else if (sec >= 60)
		snprintf(out, 24, "%llum%llus", (unsigned long long)(sec / 60),
			 (unsigned long long)(sec % 60));
	else
		snprintf(out, 24, "%llus", (unsigned long long)sec);
}

void rpc_format_time(char out[48], uint64_t sec, uint32_t nsec)
{
	/* Go's JSON time stops at year 9999. */
	const uint64_t last = 253402300799ull;
	time_t t = (time_t)(sec > last ? last : sec);
	char frac[12] = "";
	struct tm tm;

	if (sec == 0 && nsec == 0) {
		snprintf(out, 48, "0001-01-01T00:00:00Z");
		return;
	}
	if (nsec > 0 && nsec < 1000000000u) {
		size_t k;

		/* ".NNNNNNNNN" with the trailing zeros cut; nsec > 0, so a digit stays. */
		snprintf(frac, sizeof(frac), ".%09u", (unsigned)nsec);
		for (k = strlen(frac); k > 1 && frac[k - 1] == '0'; k--)
			frac[k - 1] = '\0';
	}
	gmtime_r(&t, &tm);
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}
