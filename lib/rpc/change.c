/* SPDX-License-Identifier: MIT */
/*
 * The methods that change peers: AddPeer and RemovePeer (wg-api), AddPeers and RemovePeers
 * (wgdp, thousands of peers in one call). Each request is read whole into the userspace
 * API's model, struct wg_uapi_set, and handed to the backend in one apply, which changes
 * all or nothing; any bad part refuses the request before the backend is called.
 *
 * AddPeer on a key the device knows updates that peer ("update on repeat", as wg-api says
 * repeated calls do): allowed_ips, when given, replace the peer's (wg-api appends, through
 * wgctrl's default; replacing makes the call idempotent, and [] clears them); the other
 * fields change only when given.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_priv.h"
#include "wg_crypto.h"

#define PEER_PARAMS "public_key", "preshared_key", "endpoint", "persistent_keep_alive", \
		    "persistent_keepalive_interval", "allowed_ips"

static int out_of_memory(struct rpc_err *e)
{
	return rpc_fail(e, WG_RPC_INTERNAL_ERROR, NULL, "out of memory");
}

static int read_aips(const json_t *v, const char *path, struct wg_uapi_peer *p,
		     struct rpc_err *e)
{
	char at[RPC_PATH_LEN];
	size_t n;

	if (v == NULL || json_is_null(v))
		return 0;
	if (rpc_array(v, path, &n, e))
		return -1;
	p->replace_allowed_ips = true;
	if (n == 0)
		return 0;
	p->aips = n <= SIZE_MAX / sizeof(*p->aips) ? wg_secbuf_zalloc(n * sizeof(*p->aips)) : NULL;
	if (p->aips == NULL)
		return out_of_memory(e);
	p->cap_aips = n;
	p->n_aips = n;
	for (size_t i = 0; i < n; i++) {
		rpc_path_index(at, path, i);
		if (rpc_prefix(json_array_get(v, i), at, &p->aips[i].prefix, e))
			return -1;
	}
	return 0;
}

/* The keepalive by either name: wg-api's Go duration or the UAPI's seconds. */
static int read_keepalive(const json_t *obj, const char *prefix, struct wg_uapi_peer *p,
			  struct rpc_err *e)
{
	const json_t *dur = json_object_get(obj, "persistent_keep_alive");
	const json_t *sec = json_object_get(obj, "persistent_keepalive_interval");
	char at[RPC_PATH_LEN];
	bool given_dur, given_sec;
	uint64_t v_dur = 0, v_sec = 0;

	rpc_path(at, prefix, "persistent_keep_alive");
	if (rpc_opt_duration(dur, at, UINT16_MAX, &given_dur, &v_dur, e))
		return -1;
	rpc_path(at, prefix, "persistent_keepalive_interval");
	if (rpc_opt_uint(sec, at, UINT16_MAX, &given_sec, &v_sec, e))
		return -1;
	if (given_dur && given_sec)
		return rpc_fail(e, WG_RPC_INVALID_PARAMS, at,
				"give persistent_keep_alive or persistent_keepalive_interval, "
				"not both");
	p->has_keepalive = given_dur || given_sec;
	p->keepalive = (uint16_t)(given_dur ? v_dur : v_sec);
	return 0;
}

/* One peer's AddPeer parameters (obj, named `prefix` in messages) into *p. */
static int read_peer(const json_t *obj, const char *prefix, struct wg_uapi_peer *p,
		     struct rpc_err *e)
{
	char at[RPC_PATH_LEN];

	rpc_path(at, prefix, "public_key");
	if (rpc_key(json_object_get(obj, "public_key"), at, p->public_key, e))
		return -1;
	rpc_path(at, prefix, "preshared_key");
	if (rpc_opt_key(json_object_get(obj, "preshared_key"), at, &p->has_preshared_key,
			p->preshared_key, e))
		return -1;
	rpc_path(at, prefix, "endpoint");
	if (rpc_opt_endpoint(json_object_get(obj, "endpoint"), at, &p->has_endpoint,
			     &p->endpoint, e))
		return -1;
	if (read_keepalive(obj, prefix, p, e))
		return -1;
	rpc_path(at, prefix, "allowed_ips");
	return read_aips(json_object_get(obj, "allowed_ips"), at, p, e);
}

/* A set of n zeroed peers (n may be 0), counted from the start so that wg_uapi_set_free
 * releases what a reader stopped half way through had allocated. */
static int set_alloc(struct wg_uapi_set *s, size_t n, struct rpc_err *e)
{
	memset(s, 0, sizeof(*s));
	if (n == 0)
		return 0;
	s->peers = n <= SIZE_MAX / sizeof(*s->peers) ? wg_secbuf_zalloc(n * sizeof(*s->peers)) :
		NULL;
	if (s->peers == NULL)
		return out_of_memory(e);
	s->cap_peers = s->n_peers = n;
	return 0;
}

/* A key's first 8 bytes ride along (as a big-endian number, so they order as memcmp
 * does): the sort and the scan after it rarely have to fetch a key from the request's
 * peers, a cache miss each at a million peers. */
struct key_ref {
	uint64_t head;
	const uint8_t *key;
	size_t index;
};

static uint64_t key_head(const uint8_t *k)
{
	uint64_t h = 0;

	for (unsigned i = 0; i < 8; i++)
		h = h << 8 | k[i];
	return h;
}

static bool same_key(const struct key_ref *x, const struct key_ref *y)
{
	return x->head == y->head && memcmp(x->key, y->key, WG_KEY_LEN) == 0;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = x->head != y->head ? (x->head > y->head) - (x->head < y->head) :
		memcmp(x->key, y->key, WG_KEY_LEN);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

#define SORT_RUN 4096
#define SCAN_YIELD 4096          /* keys per pause point in the linear passes */

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* qsort in runs, then runs merged pairwise: the same O(n log n) as one qsort, with the
 * backend's pause point between pieces, so a million keys never hold it up at once. */
static int sort_refs(const struct wg_rpc_backend *be, struct key_ref *a, size_t n)
{
	struct key_ref *tmp, *src = a, *dst;
	size_t merged = 0;

	if (be->yield == NULL || n <= SORT_RUN) {
		qsort(a, n, sizeof(*a), cmp_ref);
		return 0;
	}
	tmp = malloc(n * sizeof(*tmp));
	if (tmp == NULL)
		return -1;
	dst = tmp;
	for (size_t i = 0; i < n; i += SORT_RUN) {
		qsort(a + i, min_size(SORT_RUN, n - i), sizeof(*a), cmp_ref);
		rpc_yield(be);
	}
	for (size_t w = SORT_RUN; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = min_size(lo + w, n), hi = min_size(lo + 2 * w, n);
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				dst[k++] = cmp_ref(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
			merged += hi - lo;
			if (merged >= 4 * SORT_RUN) {
				merged = 0;
				rpc_yield(be);
			}
		}
		struct key_ref *t = src;

		src = dst;
		dst = t;
	}
	for (size_t i = 0; src != a && i < n; i += 16 * SCAN_YIELD) {
		memcpy(a + i, src + i, min_size(16 * SCAN_YIELD, n - i) * sizeof(*a));
		rpc_yield(be);
	}
	free(tmp);
	return 0;
}

/* Two entries for one key would leave which one wins to the order of application: the
 * request is refused instead, naming both. Sorting costs O(n log n) for any n. */
static int no_duplicates(const struct wg_rpc_backend *be, const struct wg_uapi_set *s,
			 struct rpc_err *e)
{
	struct key_ref *refs;
	char at[RPC_PATH_LEN];
	int rc = 0;

	if (s->n_peers < 2)
		return 0;
	refs = malloc(s->n_peers * sizeof(*refs));
	if (refs == NULL)
		return out_of_memory(e);
	for (size_t i = 0; i < s->n_peers; i++) {
		if (i % SCAN_YIELD == SCAN_YIELD - 1)
			rpc_yield(be);
		refs[i] = (struct key_ref){ key_head(s->peers[i].public_key),
					    s->peers[i].public_key, i };
	}
	if (sort_refs(be, refs, s->n_peers) != 0) {
		free(refs);
		return out_of_memory(e);
	}
	for (size_t i = 1; i < s->n_peers && rc == 0; i++) {
		if (i % SCAN_YIELD == 0)
			rpc_yield(be);
		if (!same_key(&refs[i - 1], &refs[i]))
			continue;
		snprintf(at, sizeof(at), "peers[%zu].public_key", refs[i].index);
		rc = rpc_fail(e, WG_RPC_INVALID_PARAMS, at, "the same key as peers[%zu]",
			      refs[i - 1].index);
	}
	free(refs);
	return rc;
}

/* Hand the set to the backend, or only ask it (validate_only). */
static int commit(const struct wg_rpc_backend *be, const struct wg_uapi_set *s,
		  bool validate_only, struct rpc_err *e)
{
	char why[WG_RPC_WHY_LEN] = "";
	int rc = 0;

	if (s->n_peers == 0)
		return 0;
	if (!validate_only)
		rc = be->apply(be->ctx, s, why, sizeof(why));
	else if (be->validate)
		rc = be->validate(be->ctx, s, why, sizeof(why));
	if (rc == 0)
		return 0;
	rpc_fail(e, WG_RPC_SERVER_ERROR, NULL, "could not configure device: %s",
		 why[0] ? why : strerror(rc));
	e->sys_errno = rc;
	return -1;
}

/* {"ok": true} when applied; {"ok": false} after validate_only, as wg-api answers. */
static int done(const struct wg_uapi_set *s, bool validate_only, bool with_count,
		json_t **result, struct rpc_err *e)
{
	if (with_count)
		*result = json_pack("{s:b, s:I}", "ok", !validate_only, "count",
				    (json_int_t)s->n_peers);
	else
		*result = json_pack("{s:b}", "ok", !validate_only);
	return *result ? 0 : out_of_memory(e);
}

static int finish(const struct wg_rpc_backend *be, struct wg_uapi_set *s, int rc,
		  bool validate_only, bool with_count, json_t **result, struct rpc_err *e)
{
	struct wg_yield y = { .fn = be->yield, .arg = be->ctx };

	if (rc == 0)
		rc = commit(be, s, validate_only, e);
	if (rc == 0)
		rc = done(s, validate_only, with_count, result, e);
	wg_uapi_set_free_yield(s, &y);
	return rc;
}

int rpc_add_peer(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		 struct rpc_err *e)
{
	static const char *const names[] = { PEER_PARAMS, "validate_only", NULL };
	struct wg_uapi_set s;
	bool validate_only;
	int rc;

	if (rpc_only(params, names, "", e) ||
	    rpc_opt_bool(json_object_get(params, "validate_only"), "validate_only",
			 &validate_only, e) ||
	    set_alloc(&s, 1, e))
		return -1;
	rc = read_peer(params, "", &s.peers[0], e);
	return finish(be, &s, rc, validate_only, false, result, e);
}

/* Each peer's object is let go as soon as it is read (replaced by null in the request,
 * which is thrown away afterwards): a million of them are not all freed at the end in one
 * go, and the memory is back sooner. */
static int read_peers(const struct wg_rpc_backend *be, const json_t *list, size_t n,
		      struct wg_uapi_set *s, struct rpc_err *e)
{
	static const char *const names[] = { PEER_PARAMS, NULL };
	char at[RPC_PATH_LEN];

	for (size_t i = 0; i < n; i++) {
		const json_t *obj = json_array_get(list, i);

		if (i % RPC_YIELD_EVERY == RPC_YIELD_EVERY - 1)
			rpc_yield(be);
		rpc_path_index(at, "peers", i);
		if (!json_is_object(obj))
			return rpc_fail(e, WG_RPC_INVALID_PARAMS, at, "must be an object, not %s",
					rpc_type_name(obj));
		if (rpc_only(obj, names, at, e) || read_peer(obj, at, &s->peers[i], e))
			return -1;
		json_array_set((json_t *)list, i, json_null());
	}
	return no_duplicates(be, s, e);
}

int rpc_add_peers(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		  struct rpc_err *e)
{
	static const char *const names[] = { "peers", "validate_only", NULL };
	const json_t *list = json_object_get(params, "peers");
	struct wg_uapi_set s;
	bool validate_only;
	size_t n;
	int rc;

	if (rpc_only(params, names, "", e) ||
	    rpc_opt_bool(json_object_get(params, "validate_only"), "validate_only",
			 &validate_only, e) ||
	    rpc_array(list, "peers", &n, e) || set_alloc(&s, n, e))
		return -1;
	rc = read_peers(be, list, n, &s, e);
	return finish(be, &s, rc, validate_only, true, result, e);
}

int rpc_remove_peer(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		    struct rpc_err *e)
{
	static const char *const names[] = { "public_key", "validate_only", NULL };
	struct wg_uapi_set s;
	bool validate_only;
	int rc;

	if (rpc_only(params, names, "", e) ||
	    rpc_opt_bool(json_object_get(params, "validate_only"), "validate_only",
			 &validate_only, e) ||
	    set_alloc(&s, 1, e))
		return -1;
	s.peers[0].remove = true;
	rc = rpc_key(json_object_get(params, "public_key"), "public_key", s.peers[0].public_key,
		     e);
	return finish(be, &s, rc, validate_only, false, result, e);
}

/* Removing a key the device does not have, or one key twice, is not an error: the end
 * state is the same, as with `wg set wg0 peer KEY remove`. */
int rpc_remove_peers(const struct wg_rpc_backend *be, const json_t *params, json_t **result,
		     struct rpc_err *e)
{
	static const char *const names[] = { "public_keys", "validate_only", NULL };
	const json_t *list = json_object_get(params, "public_keys");
	char at[RPC_PATH_LEN];
	struct wg_uapi_set s;
	bool validate_only;
	size_t n;
	int rc = 0;

	if (rpc_only(params, names, "", e) ||
	    rpc_opt_bool(json_object_get(params, "validate_only"), "validate_only",
			 &validate_only, e) ||
	    rpc_array(list, "public_keys", &n, e) || set_alloc(&s, n, e))
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i % RPC_YIELD_EVERY == RPC_YIELD_EVERY - 1)
			rpc_yield(be);
		rpc_path_index(at, "public_keys", i);
		s.peers[i].remove = true;
		rc = rpc_key(json_array_get(list, i), at, s.peers[i].public_key, e);
	}
	return finish(be, &s, rc, validate_only, true, result, e);
}

/* SetObfuscation (wgdp): AmneziaWG's parameters, each optional, as the UAPI keys of the
 * same names; the gateway checks the result against its rules and its MTU. */
int rpc_set_obfuscation(const struct wg_rpc_backend *be, const json_t *params,
			json_t **result, struct rpc_err *e)
{
	static const char *const names[] = { "jc", "jmin", "jmax", "s1", "s2", "h1", "h2", "h3",
		"h4", "accept_plain", "validate_only", NULL };
	static const uint64_t max[] = { WG_OBFS_JC_MAX, UINT16_MAX, UINT16_MAX, UINT16_MAX,
		UINT16_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX };
	struct wg_uapi_set s;
	struct wg_obfs *o = &s.obfs;
	char why[WG_RPC_WHY_LEN] = "";
	bool validate_only, given;
	uint64_t v;
	int rc;

	memset(&s, 0, sizeof(s));
	if (rpc_only(params, names, "", e) ||
	    rpc_opt_bool(json_object_get(params, "validate_only"), "validate_only",
			 &validate_only, e))
		return -1;
	for (unsigned k = 0; k < WG_UAPI_ACCEPT_PLAIN; k++) {
		uint16_t *f[] = { &o->jc, &o->jmin, &o->jmax, &o->s1, &o->s2 };

		if (rpc_opt_uint(json_object_get(params, names[k]), names[k], max[k], &given, &v, e))
			return -1;
		if (!given)
			continue;
		s.obfs_has |= 1u << k;
		if (k >= WG_UAPI_H1)
			o->h[k - WG_UAPI_H1] = (uint32_t)v;
		else
			*f[k] = (uint16_t)v;
	}
	if (json_object_get(params, "accept_plain")) {
		if (rpc_opt_bool(json_object_get(params, "accept_plain"), "accept_plain",
				 &o->accept_plain, e))
			return -1;
		s.obfs_has |= 1u << WG_UAPI_ACCEPT_PLAIN;
	}
	if (s.obfs_has) {
		if (!validate_only)
			rc = be->apply(be->ctx, &s, why, sizeof(why));
		else
			rc = be->validate ? be->validate(be->ctx, &s, why, sizeof(why)) : 0;
		if (rc != 0) {
			rpc_fail(e, WG_RPC_SERVER_ERROR, NULL, "could not configure device: %s",
				 why[0] ? why : strerror(rc));
			e->sys_errno = rc;
			return -1;
		}
	}
	*result = json_pack("{s:b}", "ok", !validate_only);
	return *result ? 0 : out_of_memory(e);
}
