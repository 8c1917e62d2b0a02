/* SPDX-License-Identifier: MIT */
/*
 * Handshake rate limit per source: a token bucket of WG_RATELIMIT_PER_SECOND handshakes per
 * second with a burst of WG_RATELIMIT_BURST, for each IPv4 address and each IPv6 /64.
 *
 * Memory is fixed at creation, however many sources arrive: a set-associative table keyed by
 * a secret SipHash of the source. An entry whose bucket has refilled is as good as an empty
 * one and is reused; when every way of a set is busy with active sources, a new source is
 * refused (counted by the caller as rate-limited) rather than evicting an active bucket.
 */
#ifndef WG_RATELIMITER_H
#define WG_RATELIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_ratelimiter;

/* entries is rounded up to a power of two, at least one set. Returns NULL on failure. */
struct wg_ratelimiter *wg_ratelimiter_create(size_t entries);
/* The same buckets at another rate (events per second, burst), for other floods than
 * handshakes (outer fragments). NULL if a bucket would not fit 32 bits of nanoseconds. */
struct wg_ratelimiter *wg_ratelimiter_create_rate(size_t entries, uint32_t per_second,
						  uint32_t burst);
void wg_ratelimiter_free(struct wg_ratelimiter *rl);

/* May a handshake from this source be processed now? addr is 4 bytes (IPv4) or 16 (IPv6,
 * of which only the first 8 count). now_ns is a monotonic clock in nanoseconds. */
bool wg_ratelimiter_allow(struct wg_ratelimiter *rl, const uint8_t *addr, size_t addr_len,
			  uint64_t now_ns);

/* Number of entries in use (a bucket not yet refilled), for statistics and tests. */
size_t wg_ratelimiter_active(const struct wg_ratelimiter *rl, uint64_t now_ns);

#endif
