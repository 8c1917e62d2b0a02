/* SPDX-License-Identifier: MIT */
/*
 * The receiver-index table: from the 32-bit index a peer puts in every message it sends
 * us to the handshake or keypair it names, in O(1) with no hashing and no scan.
 *
 * Indices are ours to choose. Each is a slot number and that slot's generation, passed
 * through a secret 32-bit permutation (a keyed Feistel network), so indices look random on
 * the wire (as the kernel's do) while a lookup is one inverse permutation and one array
 * read. The generation changes each time a slot is reused, so a freed index is not handed
 * out again soon. A lookup also checks the object's own copy of its index, so a stale
 * entry can never answer for a new one.
 *
 * Writers: the control lcore only. Readers: any lcore, lock-free (entries are atomic
 * pointers; the objects they point to are retired through RCU by the owner).
 */
#ifndef WG_INDEX_H
#define WG_INDEX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum wg_index_kind {
	WG_INDEX_NONE = 0,
	WG_INDEX_HANDSHAKE = 1,      /* object: the peer whose handshake holds the index */
	WG_INDEX_KEYPAIR = 2,        /* object: a struct wg_keypair */
};

struct wg_index_table {
	_Atomic(uintptr_t) *entries; /* object pointer | kind in the low 2 bits */
	uint16_t *generation;
	uint32_t *free_slots;        /* stack of unused slots */
	uint32_t n_free;
	uint32_t size;               /* slots, a power of two */
	uint8_t slot_bits;
	uint32_t round_key[4];
};

/* A table of 2^slot_bits slots (1..24 bits). 0, or -1 on allocation failure. */
int wg_index_init(struct wg_index_table *t, unsigned slot_bits);
void wg_index_destroy(struct wg_index_table *t);

/* Take a slot for obj; false when the table is full. */
bool wg_index_alloc(struct wg_index_table *t, enum wg_index_kind kind, void *obj,
		    uint32_t *index);
/* Point an allocated index at another object (a handshake's index passing to its keypair). */
void wg_index_replace(struct wg_index_table *t, uint32_t index, enum wg_index_kind kind,
		      void *obj);
/* Release an index; its slot is reused with a new generation. */
void wg_index_free(struct wg_index_table *t, uint32_t index);

/* Inline, for the data path's lookups (and its prefetching of the entries of a burst). */
#define WG_INDEX_ROUNDS 4

static inline uint16_t wg_index_round(uint16_t half, uint32_t key)
{
	uint32_t x = (uint32_t)half ^ key;

	x ^= x >> 15;
	x *= 0x2c1b3c6dU;
	x ^= x >> 12;
	x *= 0x297a2d39U;
	x ^= x >> 15;
	return (uint16_t)x;
}

/* The slot an index names (the inverse permutation, masked to the table). */
static inline uint32_t wg_index_slot(const struct wg_index_table *t, uint32_t index)
{
	uint16_t l = (uint16_t)(index >> 16), r = (uint16_t)index;

	for (int i = WG_INDEX_ROUNDS - 1; i >= 0; i--) {
		uint16_t prev = (uint16_t)(r ^ wg_index_round(l, t->round_key[i]));

		r = l;
		l = prev;
	}
	return ((uint32_t)l << 16 | r) & (t->size - 1);
}

/* The object of that kind in a slot, or NULL. */
static inline void *wg_index_at(const struct wg_index_table *t, uint32_t slot,
				enum wg_index_kind kind)
{
	/* No generation check here: the generations belong to the writer, and the caller's
	 * comparison with the object's own index rejects a recycled slot just as well. */
	uintptr_t e = atomic_load_explicit(&t->entries[slot], memory_order_acquire);

	if ((e & (uintptr_t)3) != (uintptr_t)kind)
		return NULL;
	return (void *)(e & ~(uintptr_t)3);
}

/* The object of that kind under the index, or NULL. The caller must still compare the
 * object's own index with the one it looked up (it may be a reused slot's new object). */
static inline void *wg_index_lookup(const struct wg_index_table *t, uint32_t index,
				    enum wg_index_kind kind)
{
	return wg_index_at(t, wg_index_slot(t, index), kind);
}

uint32_t wg_index_used(const struct wg_index_table *t);

#endif
