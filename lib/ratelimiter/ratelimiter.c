/* SPDX-License-Identifier: MIT */
/*
 * Rate limit per source, as a token bucket kept in nanoseconds (as the kernel does): an
 * event (a handshake) costs 1e9 / per_second tokens, a bucket holds at most `burst`
 * events' worth, and it refills by one token per elapsed nanosecond.
 *
 * The table is set-associative: a secret SipHash of the source picks a set of WAYS entries.
 * The key is random per table, so a flood cannot aim at one set. A bucket that has refilled
 * remembers nothing a fresh one would not, so it is free for any source; only a source
 * whose bucket is still refilling holds its entry. When all ways of a set hold such sources
 * a newcomer is refused: evicting one would hand an attacker a full bucket.
 *
 * Not thread-safe: one table belongs to one lcore (the one that processes handshakes).
 */
#include "wg_ratelimiter.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "wg_wire.h"

#define WAYS 8u

/* What a source is: an IPv4 address or an IPv6 /64, with its family so they never meet. */
struct source {
	uint64_t prefix;   /* the 4 or 8 significant bytes, zero-padded */
	uint8_t family;    /* 4 or 6 */
};

struct entry {
	uint64_t prefix;
	uint64_t last_ns;  /* when tokens was last brought up to date */
	uint32_t tokens;   /* nanoseconds' worth, at most MAX_TOKENS */
	uint8_t family;    /* 4 or 6; 0 marks an entry never used */
};

struct wg_ratelimiter {
	size_t set_mask;   /* number of sets - 1 */
	uint64_t cost_ns;  /* one event's tokens */
	uint64_t max_tokens;   /* a full bucket: the burst */
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct entry entries[];
};

struct wg_ratelimiter *wg_ratelimiter_create(size_t entries)
{
	return wg_ratelimiter_create_rate(entries, WG_RATELIMIT_PER_SECOND, WG_RATELIMIT_BURST);
}

struct wg_ratelimiter *wg_ratelimiter_create_rate(size_t entries, uint32_t per_second,
						  uint32_t burst)
{
	struct wg_ratelimiter *rl;
	size_t n = WAYS;

	if (per_second == 0 || burst == 0 ||
	    (WG_NSEC_PER_SEC / per_second) * burst > UINT32_MAX || sodium_init() < 0)
		return NULL;
	while (n < entries) {
		if (n > (SIZE_MAX - sizeof(*rl)) / sizeof(struct entry) / 2)
			return NULL;
		n *= 2;
	}
	rl = calloc(1, sizeof(*rl) + n * sizeof(struct entry));
	if (rl == NULL)
		return NULL;
	rl->set_mask = n / WAYS - 1;
	rl->cost_ns = WG_NSEC_PER_SEC / per_second;
	rl->max_tokens = rl->cost_ns * burst;
	randombytes_buf(rl->key, sizeof(rl->key));
	return rl;
}

void wg_ratelimiter_free(struct wg_ratelimiter *rl)
{
	free(rl);
}

static bool parse(struct source *s, const uint8_t *addr, size_t addr_len)
{
	uint8_t buf[8] = { 0 };

	if (addr == NULL || (addr_len != 4 && addr_len != 16))
		return false;
	/* Byte order does not matter: the prefix is only hashed and compared. */
	memcpy(buf, addr, addr_len == 4 ? 4 : 8);
	memcpy(&s->prefix, buf, sizeof(buf));
	s->family = addr_len == 4 ? 4 : 6;
	return true;
}

static struct entry *find_set(struct wg_ratelimiter *rl, const struct source *s)
{
	uint8_t in[9], out[crypto_shorthash_BYTES];
	uint64_t h;

	memcpy(in, &s->prefix, 8);
	in[8] = s->family;
	crypto_shorthash(out, in, sizeof(in), rl->key);
	memcpy(&h, out, sizeof(h));
	return &rl->entries[(h & rl->set_mask) * WAYS];
}

/* Tokens the entry holds at now_ns; a clock that steps back adds nothing. */
static uint64_t tokens_at(const struct wg_ratelimiter *rl, const struct entry *e,
			  uint64_t now_ns)
{
	uint64_t elapsed = now_ns > e->last_ns ? now_ns - e->last_ns : 0;

	return elapsed >= rl->max_tokens - e->tokens ? rl->max_tokens : e->tokens + elapsed;
}

static bool refilled(const struct wg_ratelimiter *rl, const struct entry *e, uint64_t now_ns)
{
	return e->family == 0 || tokens_at(rl, e, now_ns) == rl->max_tokens;
}

static bool spend(const struct wg_ratelimiter *rl, struct entry *e, uint64_t now_ns)
{
	uint64_t tokens = tokens_at(rl, e, now_ns);
	bool ok = tokens >= rl->cost_ns;

	e->tokens = (uint32_t)(ok ? tokens - rl->cost_ns : tokens);
	e->last_ns = now_ns;
	return ok;
}

bool wg_ratelimiter_allow(struct wg_ratelimiter *rl, const uint8_t *addr, size_t addr_len,
			  uint64_t now_ns)
{
	struct source s;
	struct entry *set, *spare = NULL;

	if (rl == NULL || !parse(&s, addr, addr_len))
		return false;
	set = find_set(rl, &s);
	for (unsigned i = 0; i < WAYS; i++) {
		struct entry *e = &set[i];

		if (e->family == s.family && e->prefix == s.prefix)
			return spend(rl, e, now_ns);
		if (spare == NULL && refilled(rl, e, now_ns))
			spare = e;
	}
	if (spare == NULL)
		return false;
	/* A newcomer starts with a full bucket and spends one handshake of it. */
	*spare = (struct entry){
		.prefix = s.prefix,
		.family = s.family,
		.tokens = (uint32_t)(rl->max_tokens - rl->cost_ns),
		.last_ns = now_ns,
	};
	return true;
}

size_t wg_ratelimiter_active(const struct wg_ratelimiter *rl, uint64_t now_ns)
{
	size_t n = 0, total;

	if (rl == NULL)
		return 0;
	total = (rl->set_mask + 1) * WAYS;
	for (size_t i = 0; i < total; i++)
		n += !refilled(rl, &rl->entries[i], now_ns);
	return n;
}
