/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "wg_crypto.h"
#include "wg_index.h"

#define KIND_MASK ((uintptr_t)3)

/* A round function that mixes a 16-bit half with a 32-bit key (murmur-style finaliser). */
static uint32_t permute(const struct wg_index_table *t, uint32_t v)
{
	uint16_t l = (uint16_t)(v >> 16), r = (uint16_t)v;

	for (int i = 0; i < WG_INDEX_ROUNDS; i++) {
		uint16_t next = l ^ wg_index_round(r, t->round_key[i]);
		l = r;
		r = next;
	}
	return (uint32_t)l << 16 | r;
}

int wg_index_init(struct wg_index_table *t, unsigned slot_bits)
{
	memset(t, 0, sizeof(*t));
	if (slot_bits < 1 || slot_bits > 24)
		return -1;
	t->slot_bits = (uint8_t)slot_bits;
	t->size = 1u << slot_bits;
	t->entries = calloc(t->size, sizeof(*t->entries));
	t->generation = calloc(t->size, sizeof(*t->generation));
	t->free_slots = malloc(t->size * sizeof(*t->free_slots));
	if (!t->entries || !t->generation || !t->free_slots) {
		wg_index_destroy(t);
		return -1;
	}
	/* Hand slots out in a random order, so early indices say nothing about load. */
	for (uint32_t i = 0; i < t->size; i++)
		t->free_slots[i] = i;
	for (uint32_t i = t->size - 1; i > 0; i--) {
		uint32_t j = wg_random_u32() % (i + 1), tmp = t->free_slots[i];
		t->free_slots[i] = t->free_slots[j];
		t->free_slots[j] = tmp;
	}
	t->n_free = t->size;
	wg_random(t->round_key, sizeof(t->round_key));
	return 0;
}

void wg_index_destroy(struct wg_index_table *t)
{
	free(t->entries);
	free(t->generation);
	free(t->free_slots);
	memset(t, 0, sizeof(*t));
}

static uint32_t make_index(const struct wg_index_table *t, uint32_t slot)
{
	uint32_t gen = t->generation[slot] & ((1u << (32 - t->slot_bits)) - 1u);

	return permute(t, gen << t->slot_bits | slot);
}

static uint32_t slot_of(const struct wg_index_table *t, uint32_t index)
{
	return wg_index_slot(t, index);
}

static uintptr_t pack(enum wg_index_kind kind, void *obj)
{
	return (uintptr_t)obj | (uintptr_t)kind;
}

bool wg_index_alloc(struct wg_index_table *t, enum wg_index_kind kind, void *obj,
		    uint32_t *index)
{
	uint32_t slot;

	if (t->n_free == 0)
		return false;
	slot = t->free_slots[--t->n_free];
	*index = make_index(t, slot);
	atomic_store_explicit(&t->entries[slot], pack(kind, obj), memory_order_release);
	return true;
}

/* The slot of an index that is allocated now, or size when it is not. */
static uint32_t live_slot(const struct wg_index_table *t, uint32_t index)
{
	uint32_t slot = slot_of(t, index);

	if (make_index(t, slot) != index ||
	    atomic_load_explicit(&t->entries[slot], memory_order_relaxed) == 0)
		return t->size;
	return slot;
}

void wg_index_replace(struct wg_index_table *t, uint32_t index, enum wg_index_kind kind,
		      void *obj)
{
	uint32_t slot = live_slot(t, index);

	if (slot < t->size)
		atomic_store_explicit(&t->entries[slot], pack(kind, obj), memory_order_release);
}

void wg_index_free(struct wg_index_table *t, uint32_t index)
{
	uint32_t slot = live_slot(t, index);

	if (slot == t->size)
		return;
	atomic_store_explicit(&t->entries[slot], 0, memory_order_release);
	t->generation[slot]++;
	t->free_slots[t->n_free++] = slot;
}

uint32_t wg_index_used(const struct wg_index_table *t)
{
	return t->size - t->n_free;
}
