/* SPDX-License-Identifier: MIT */
/*
 * wgdpctl: one JSON-RPC request to the gateway's control socket, its result printed.
 *
 *   wgdpctl [-s SOCKET | -i NAME] [--raw] [--all] [-t SECONDS] METHOD [PARAMS]
 *
 * PARAMS is one JSON object, "-" for a JSON object on standard input (AddPeers of
 * thousands of peers), or key=value words: a value that is JSON (a number, true, false,
 * null, [...], {...}, "...") is taken as JSON, anything else as a string; for allowed_ips
 * and public_keys, a plain value is a comma-separated list. --all follows ListPeers'
 * next_offset page after page and prints them as one result. Exit status: 0 with a result,
 * 1 with a JSON-RPC error (its message on standard error), 2 for a usage, connection or
 * protocol failure. docs/control-api.md lists the methods.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "import.h"

#define SOCKET_DIR   "/var/run/wgdp"
#define DEFAULT_NAME "wgdp0"
#define EXIT_RPC     1
#define EXIT_USAGE   2

struct method_help {
	const char *name, *params;
};

static const struct method_help METHODS[] = {
	{ "GetDeviceInfo", "" },
	{ "ListPeers",     "[limit=N] [offset=N]" },
	{ "GetPeer",       "public_key=KEY" },
	{ "AddPeer",       "public_key=KEY [preshared_key=KEY] [endpoint=IP:PORT]\n"
			   "                 [persistent_keep_alive=25s] [allowed_ips=P,P...] "
			   "[validate_only=true]" },
	{ "RemovePeer",    "public_key=KEY [validate_only=true]" },
	{ "AddPeers",      "'{\"peers\": [{AddPeer params}...]}' | - (JSON on stdin)" },
	{ "RemovePeers",   "public_keys=KEY,KEY... [validate_only=true]" },
	{ "GetStats",      "" },
	{ "GetLcores",     "" },
	{ "GetEvents",     "[cursor=N] [limit=N]" },
	{ "SetPeerEnabled", "public_key=KEY enabled=true|false" },
	{ "SaveConfig",    "" },
	{ "GetNat",        "" },
	{ "SetMasquerade", "port=NAME [enabled=true|false] [sources=[...]] [pool=[...]]\n"
			   "                 [port_range=LOW-HIGH] [validate_only=true]" },
	{ "SetNat",        "[max_flows=N] [max_flows_per_source=N] [tcp_established=S]\n"
			   "                 [tcp_transitory=S] [udp=S] [icmp=S]" },
	{ "ListFlows",     "[limit=N] [offset=N]" },
	{ "GetRules",      "[public_key=KEY]" },
	{ "SetRules",      "name=NAME allow='[\"PREFIX [PROTO [PORT[-PORT]]]\", ...]'" },
	{ "RemoveRules",   "name=NAME" },
	{ "SetPeerRules",  "public_key=KEY rule_set=NAME|null" },
};

/* Parameters whose plain value is a comma-separated list. */
static const char *const LIST_PARAMS[] = { "allowed_ips", "public_keys", NULL };

struct options {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool raw, all;
	int timeout_ms;
	const char *method;
	char **params;
	int n_params;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: wgdpctl [-s SOCKET | -i NAME] [--raw] [--all] [-t SECONDS] METHOD "
		"[PARAMS]\n"
		"  -s, --socket PATH     control socket (default " SOCKET_DIR "/" DEFAULT_NAME
		".json.sock)\n"
		"  -i, --interface NAME  the socket of gateway NAME: " SOCKET_DIR
		"/NAME.json.sock\n"
		"  -r, --raw             print the result as one line of JSON\n"
		"  -a, --all             ListPeers: every page, printed as one result\n"
		"  -t, --timeout SECONDS wait this long for the answer (default 30)\n"
		"PARAMS: a JSON object, - (a JSON object on stdin), or key=value words\n"
		"        (a value that is JSON is taken as such, else as a string).\n"
		"       wgdpctl import [options] WG0.CONF   (a wg-quick server file as a wgdp\n"
		"       configuration: wgdpctl import --help)\n"
		"Methods:\n");
	for (size_t i = 0; i < sizeof(METHODS) / sizeof(METHODS[0]); i++)
		fprintf(f, "  %-14s%s%s\n", METHODS[i].name, METHODS[i].params[0] ? " " : "",
			METHODS[i].params);
	fprintf(f, "Exit status: 0 result, 1 JSON-RPC error, 2 usage or connection error.\n");
}

static int fail(const char *fmt, const char *arg)
{
	fputs("wgdpctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static int set_path(struct options *o, const char *dir, const char *name, const char *suffix)
{
	int n = snprintf(o->path, sizeof(o->path), "%s%s%s", dir, name, suffix);

	if (n < 0 || (size_t)n >= sizeof(o->path))
		return fail("socket path too long: %s", name);
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "interface", required_argument, NULL, 'i' },
		{ "raw", no_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	o->timeout_ms = 30000;
	if (set_path(o, SOCKET_DIR "/", DEFAULT_NAME, ".json.sock"))
		return EXIT_USAGE;
	/* '+': options end at METHOD, so "-" and "-1" after it are parameters. */
	while ((c = getopt_long(argc, argv, "+s:i:rat:h", longs, NULL)) != -1) {
		if (c == 's' && set_path(o, "", optarg, ""))
			return EXIT_USAGE;
		if (c == 'i' && (strchr(optarg, '/') || !optarg[0]))
			return fail("bad interface name: %s", optarg);
		if (c == 'i' && set_path(o, SOCKET_DIR "/", optarg, ".json.sock"))
			return EXIT_USAGE;
		if (c == 'r')
			o->raw = true;
		if (c == 'a')
			o->all = true;
		if (c == 't') {
			long t = strtol(optarg, &end, 10);

			if (*end || end == optarg || t < 1 || t > 86400)
				return fail("bad timeout (1..86400 seconds): %s", optarg);
			o->timeout_ms = (int)t * 1000;
		}
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?') {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	o->method = argv[optind];
	if (o->all && strcmp(o->method, "ListPeers") != 0)
		return fail("--all is for ListPeers, not %s", o->method);
	o->params = argv + optind + 1;
	o->n_params = argc - optind - 1;
	return 0;
}

/* ---- the params object ---- */

static bool is_list_param(const char *key)
{
	for (const char *const *k = LIST_PARAMS; *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

static json_t *split_list(const char *value)
{
	json_t *a = json_array();
	const char *p = value;

	while (a && *p) {
		size_t n = strcspn(p, ",");

		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

static json_t *word_value(const char *key, const char *value)
{
	json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);

	if (v)
		return v;
	return is_list_param(key) ? split_list(value) : json_string(value);
}

static int params_from_words(char **words, int n, json_t **out)
{
	json_t *params = json_object();

	for (int i = 0; i < n; i++) {
		char *eq = strchr(words[i], '=');
		json_t *v;

		if (eq == NULL || eq == words[i]) {
			json_decref(params);
			return fail("parameter not key=value: %s", words[i]);
		}
		*eq = '\0';
		if (json_object_get(params, words[i])) {
			json_decref(params);
			return fail("parameter given twice: %s", words[i]);
		}
		v = word_value(words[i], eq + 1);
		if (v == NULL || json_object_set_new(params, words[i], v)) {
			json_decref(params);
			return fail("out of memory%s", "");
		}
	}
	*out = params;
	return 0;
}

static int params_from_json(const char *text, json_t **out)
{
	json_error_t err;
	json_t *v = strcmp(text, "-") == 0 ? json_loadf(stdin, 0, &err)
					   : json_loads(text, 0, &err);

	if (v == NULL)
		return fail("params are not JSON: %s", err.text);
	if (!json_is_object(v)) {
		json_decref(v);
		return fail("params must be a JSON object%s", "");
	}
	*out = v;
	return 0;
}

/* NULL params (no words) leave the member out of the request. */
static int build_params(const struct options *o, json_t **params)
{
	*params = NULL;
	if (o->n_params == 0)
		return 0;
	if (o->n_params == 1 && (o->params[0][0] == '{' || strcmp(o->params[0], "-") == 0))
		return params_from_json(o->params[0], params);
	return params_from_words(o->params, o->n_params, params);
}

/* ---- the exchange ---- */

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read up to the first '\n': the response line (malloc'd, NUL-terminated), or NULL with
 * the reason in *why. */
static char *read_line(int fd, int timeout_ms, const char **why)
{
	long long deadline = now_ms() + timeout_ms;
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	*why = "out of memory";
	while (buf) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			*why = "no response before the timeout";
			break;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*why = n == 0 ? "connection closed before a response" : strerror(errno);
			break;
		}
		len += (size_t)n;
		buf[len] = '\0';
		if (memchr(buf + len - (size_t)n, '\n', (size_t)n))
			return buf;
		if (len + 1 == cap) {
			char *b = realloc(buf, cap *= 2);

			if (b == NULL)
				break;
			buf = b;
		}
	}
	free(buf);
	return NULL;
}

/* Send the request, return its response parsed (or NULL, reported). */
static json_t *exchange(const struct options *o, const char *request)
{
	const char *why;
	char *line;
	json_t *resp;
	int fd = connect_to(o->path);

	if (fd < 0) {
		fprintf(stderr, "wgdpctl: cannot connect to %s: %s\n", o->path, strerror(errno));
		return NULL;
	}
	if (send_all(fd, request, strlen(request)) < 0) {
		fprintf(stderr, "wgdpctl: cannot send to %s: %s\n", o->path, strerror(errno));
		close(fd);
		return NULL;
	}
	line = read_line(fd, o->timeout_ms, &why);
	close(fd);
	if (line == NULL) {
		fprintf(stderr, "wgdpctl: %s: %s\n", o->path, why);
		return NULL;
	}
	resp = json_loads(line, 0, NULL);
	if (!json_is_object(resp))
		fprintf(stderr, "wgdpctl: %s: the response is not a JSON-RPC response\n", o->path);
	free(line);
	return resp;
}

static char *build_request(const char *method, json_t *params)
{
	json_t *req = json_pack("{s:s, s:i, s:s, s:o*}", "jsonrpc", "2.0", "id", 1, "method",
				method, "params", params);
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	char *line = text ? malloc(strlen(text) + 2) : NULL;

	if (line)
		sprintf(line, "%s\n", text);
	free(text);
	json_decref(req);
	return line;
}

/* Print the result, or the error: the exit status. */
static int report(const struct options *o, const json_t *resp)
{
	const json_t *result = json_object_get(resp, "result");
	const json_t *err = json_object_get(resp, "error");
	const char *message = json_string_value(json_object_get(err, "message"));
	char *text;

	if (json_is_object(err)) {
		fprintf(stderr, "wgdpctl: %s: %s (JSON-RPC error %lld)\n", o->method,
			message ? message : "(no message)",
			(long long)json_integer_value(json_object_get(err, "code")));
		return EXIT_RPC;
	}
	if (result == NULL)
		return fail("the response has neither result nor error%s", "");
	text = json_dumps(result, o->raw ? JSON_COMPACT | JSON_ENCODE_ANY
					 : JSON_INDENT(2) | JSON_ENCODE_ANY);
	if (text == NULL)
		return fail("out of memory%s", "");
	puts(text);
	free(text);
	return fflush(stdout) == 0 ? 0 : EXIT_USAGE;
}

/* One request, its result printed: the exit status. Takes params. */
static int call_once(const struct options *o, json_t *params)
{
	char *request = build_request(o->method, params);
	json_t *resp;
	int rc;

	if (request == NULL)
		return fail("out of memory%s", "");
	resp = exchange(o, request);
	free(request);
	rc = json_is_object(resp) ? report(o, resp) : EXIT_USAGE;
	json_decref(resp);
	return rc;
}

/* One ListPeers page from `offset`: its response, or NULL (reported). */
static json_t *list_page(const struct options *o, json_t *params, json_int_t offset)
{
	char *request;
	json_t *resp;

	json_object_set_new(params, "offset", json_integer(offset));
	request = build_request(o->method, json_incref(params));
	if (request == NULL) {
		fail("out of memory%s", "");
		return NULL;
	}
	resp = exchange(o, request);
	free(request);
	if (!json_is_object(resp)) {
		json_decref(resp);
		return NULL;
	}
	return resp;
}

/* ListPeers --all: follow next_offset to the end; the pages are printed as one result,
 * whose next_offset is then null. A page that does not move forward ends the walk. */
static int list_all(const struct options *o, json_t *params)
{
	json_t *all = json_array(), *resp = NULL, *result;
	json_int_t offset = json_integer_value(json_object_get(params, "offset"));
	int rc = EXIT_USAGE;

	while ((resp = list_page(o, params, offset)) != NULL) {
		const json_t *next;

		result = json_object_get(resp, "result");
		if (!json_is_object(result))
			break;
		json_array_extend(all, json_object_get(result, "peers"));
		next = json_object_get(result, "next_offset");
		if (!json_is_integer(next) || json_integer_value(next) <= offset)
			break;
		offset = json_integer_value(next);
		json_decref(resp);
	}
	if (resp) {
		result = json_object_get(resp, "result");
		if (json_is_object(result))
			json_object_set(result, "peers", all);
		rc = report(o, resp);
	}
	json_decref(resp);
	json_decref(all);
	json_decref(params);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	json_t *params;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return wgdpctl_import_main(argc - 1, argv + 1);
	rc = parse_options(argc, argv, &o);

	if (rc)
		return rc;
	if ((rc = build_params(&o, &params)) != 0)
		return rc;
	if (!o.all)
		return call_once(&o, params);
	return list_all(&o, params ? params : json_object());
}
