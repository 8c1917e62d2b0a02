/* SPDX-License-Identifier: MIT */
/*
 * Peer events: a bounded in-memory ring of what happened to peers (a handshake, a peer
 * that came up, went quiet, roamed, was added, changed, disabled, enabled or removed),
 * numbered from 1 so that a controller can follow the gateway with a cursor (GetEvents)
 * instead of polling every peer. When the ring is full the oldest event is lost first;
 * a reader whose cursor points at lost events is told how many it missed.
 *
 * Pure C with one writer (the control lcore) and readers on the same thread: no locks.
 */
#ifndef WG_EVENTS_H
#define WG_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_addr.h"
#include "wg_wire.h"

#define WG_PEER_EVENTS(X)                                                         \
	X(ADDED,     "added",     "added")                                      \
	X(CHANGED,   "changed",   "changed")                                    \
	X(REMOVED,   "removed",   "removed")                                    \
	X(DISABLED,  "disabled",  "disabled: its packets are dropped, its sessions ended") \
	X(ENABLED,   "enabled",   "enabled again")                              \
	X(HANDSHAKE, "handshake", "handshake completed")                        \
	X(UP,        "up",        "up: it has a session")                       \
	X(QUIET,     "quiet",     "quiet: no handshake for REJECT_AFTER_TIME and the margin") \
	X(ROAMED,    "roamed",    "roamed")

enum wg_peer_event_kind {
#define WG_PEER_EVENT_ENUM(name, word, text) WG_PEER_EVENT_##name,
	WG_PEER_EVENTS(WG_PEER_EVENT_ENUM)
#undef WG_PEER_EVENT_ENUM
	WG_PEER_EVENT_COUNT
};

struct wg_peer_event {
	uint64_t seq;                 /* 1, 2, ... in order of occurrence */
	uint64_t unix_ns;             /* wall clock */
	uint8_t kind;                 /* enum wg_peer_event_kind */
	bool initiated_by_us;         /* HANDSHAKE: who sent the initiation */
	bool first;                   /* HANDSHAKE: the peer's first since it was added */
	uint8_t public_key[WG_KEY_LEN];
	struct wg_endpoint endpoint;  /* HANDSHAKE, UP, ROAMED (new); family 0: none */
	struct wg_endpoint old_endpoint;   /* ROAMED */
};

struct wg_events;

/* A ring of capacity events (at least 1). NULL when out of memory. */
struct wg_events *wg_events_create(uint32_t capacity);
void wg_events_free(struct wg_events *r);
/* Record an event (its seq is set here); the oldest goes when the ring is full. Returns
 * the stored event (valid until the next push). */
const struct wg_peer_event *wg_events_push(struct wg_events *r, const struct wg_peer_event *ev);

/*
 * Read from sequence number `cursor` on (0 or anything older than the oldest held: from
 * the oldest held): up to max events into out[] in order. *lost is how many events
 * between the cursor and the oldest held were dropped by the ring (0 for cursor 0), *next
 * the cursor to give next time (the seq after the last one returned, or the cursor
 * itself when there is nothing new). Returns how many were written.
 */
size_t wg_events_read(const struct wg_events *r, uint64_t cursor, struct wg_peer_event *out,
		      size_t max, uint64_t *lost, uint64_t *next);
/* The seq the next event will get, and the oldest held (the next one when empty). */
uint64_t wg_events_next_seq(const struct wg_events *r);
uint64_t wg_events_oldest_seq(const struct wg_events *r);
/* Events dropped by the ring since it was made. */
uint64_t wg_events_dropped(const struct wg_events *r);

const char *wg_peer_event_word(unsigned kind);   /* "handshake" */
const char *wg_peer_event_text(unsigned kind);   /* "handshake completed" */

#endif
