/* SPDX-License-Identifier: MIT */
/* The peer event ring: a fixed array indexed by seq modulo its capacity. */
#include <stdlib.h>
#include <string.h>

#include "wg_events.h"

struct wg_events {
	uint32_t capacity;
	uint64_t next;        /* seq of the next event; the ring holds [next - held, next) */
	uint64_t held;
	struct wg_peer_event ev[];
};

static const char *const words[WG_PEER_EVENT_COUNT] = {
#define WG_PEER_EVENT_WORD(name, word, text) [WG_PEER_EVENT_##name] = word,
	WG_PEER_EVENTS(WG_PEER_EVENT_WORD)
#undef WG_PEER_EVENT_WORD
};

static const char *const texts[WG_PEER_EVENT_COUNT] = {
#define WG_PEER_EVENT_TEXT(name, word, text) [WG_PEER_EVENT_##name] = text,
	WG_PEER_EVENTS(WG_PEER_EVENT_TEXT)
#undef WG_PEER_EVENT_TEXT
};

const char *wg_peer_event_word(unsigned kind)
{
	return kind < WG_PEER_EVENT_COUNT ? words[kind] : "unknown";
}

const char *wg_peer_event_text(unsigned kind)
{
	return kind < WG_PEER_EVENT_COUNT ? texts[kind] : "unknown";
}

struct wg_events *wg_events_create(uint32_t capacity)
{
	struct wg_events *r;

	if (capacity == 0)
		capacity = 1;
	r = calloc(1, sizeof(*r) + (size_t)capacity * sizeof(r->ev[0]));
	if (r == NULL)
		return NULL;
	r->capacity = capacity;
	r->next = 1;
	return r;
}

void wg_events_free(struct wg_events *r)
{
	free(r);
}

const struct wg_peer_event *wg_events_push(struct wg_events *r, const struct wg_peer_event *ev)
{
	struct wg_peer_event *slot = &r->ev[r->next % r->capacity];

	*slot = *ev;
	slot->seq = r->next++;
	if (r->held < r->capacity)
		r->held++;
	return slot;
}

uint64_t wg_events_next_seq(const struct wg_events *r)
{
	return r->next;
}

uint64_t wg_events_oldest_seq(const struct wg_events *r)
{
	return r->next - r->held;
}

uint64_t wg_events_dropped(const struct wg_events *r)
{
	return r->next - 1 - r->held;
}

size_t wg_events_read(const struct wg_events *r, uint64_t cursor, struct wg_peer_event *out,
		      size_t max, uint64_t *lost, uint64_t *next)
{
	uint64_t oldest = wg_events_oldest_seq(r), at;
	size_t n = 0;

	*lost = cursor && cursor < oldest ? oldest - cursor : 0;
	at = cursor < oldest ? oldest : cursor;
	for (; at < r->next && n < max; at++)
		out[n++] = r->ev[at % r->capacity];
	/* A cursor from the future (one given before a restart) reads nothing until then;
	 * GetEvents' "started" tells a controller that the gateway restarted. */
	*next = at;
	return n;
}
