/* SPDX-License-Identifier: MIT */
/* The receiver-index table: allocation, lookup, replacement, release and reuse. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "wg_crypto.h"
#include "wg_index.h"

struct obj {
	uint32_t index;
	int id;
};

/* What a caller does: look up, then compare the object's own index. */
static struct obj *find(struct wg_index_table *t, uint32_t index, enum wg_index_kind kind)
{
	struct obj *o = wg_index_lookup(t, index, kind);

	return o && o->index == index ? o : NULL;
}

static void test_basic(void)
{
	struct wg_index_table t;
	static struct obj objs[256];

	CHECK_EQ(wg_index_init(&t, 0), -1);
	CHECK_EQ(wg_index_init(&t, 25), -1);
	CHECK_EQ(wg_index_init(&t, 8), 0);
	for (int i = 0; i < 256; i++) {
		objs[i].id = i;
		CHECK(wg_index_alloc(&t, WG_INDEX_KEYPAIR, &objs[i], &objs[i].index));
	}
	CHECK_EQ(wg_index_used(&t), 256);
	{
		uint32_t extra;
		CHECK(!wg_index_alloc(&t, WG_INDEX_KEYPAIR, &objs[0], &extra));  /* full */
	}
	for (int i = 0; i < 256; i++) {
		CHECK(find(&t, objs[i].index, WG_INDEX_KEYPAIR) == &objs[i]);
		CHECK(find(&t, objs[i].index, WG_INDEX_HANDSHAKE) == NULL);
		for (int j = 0; j < i; j++)
			if (objs[j].index == objs[i].index)
				CHECK(!"duplicate index");
	}
	/* Replace: a handshake index passing to a keypair. */
	wg_index_free(&t, objs[5].index);
	CHECK(find(&t, objs[5].index, WG_INDEX_KEYPAIR) == NULL);
	CHECK(wg_index_alloc(&t, WG_INDEX_HANDSHAKE, &objs[5], &objs[5].index));
	CHECK(find(&t, objs[5].index, WG_INDEX_HANDSHAKE) == &objs[5]);
	wg_index_replace(&t, objs[5].index, WG_INDEX_KEYPAIR, &objs[5]);
	CHECK(find(&t, objs[5].index, WG_INDEX_HANDSHAKE) == NULL);
	CHECK(find(&t, objs[5].index, WG_INDEX_KEYPAIR) == &objs[5]);
	wg_index_destroy(&t);
}

/* A freed slot's next index differs, and the old index finds nothing. */
static void test_reuse(void)
{
	struct wg_index_table t;
	struct obj a = { 0 }, b = { 0 };
	uint32_t old;
	int same = 0;

	CHECK_EQ(wg_index_init(&t, 1), 0);  /* 2 slots: reuse is certain */
	for (int round = 0; round < 1000; round++) {
		CHECK(wg_index_alloc(&t, WG_INDEX_KEYPAIR, &a, &a.index));
		old = a.index;
		wg_index_free(&t, a.index);
		wg_index_free(&t, a.index);  /* double free is ignored */
		CHECK_EQ(wg_index_used(&t), 0);
		CHECK(wg_index_alloc(&t, WG_INDEX_KEYPAIR, &b, &b.index));
		same += b.index == old;
		/* The stale index may land on b's slot, but b's own index tells them apart. */
		CHECK(find(&t, old, WG_INDEX_KEYPAIR) == (old == b.index ? &b : NULL));
		wg_index_free(&t, b.index);
	}
	CHECK(same < 10);
	wg_index_destroy(&t);
}

/* Lookups of arbitrary indices never match an object they do not belong to. */
static void test_random_lookups(void)
{
	struct wg_index_table t;
	static struct obj objs[1000];
	unsigned hits = 0;

	CHECK_EQ(wg_index_init(&t, 10), 0);
	for (int i = 0; i < 1000; i++)
		CHECK(wg_index_alloc(&t, WG_INDEX_KEYPAIR, &objs[i], &objs[i].index));
	for (int i = 0; i < 1000000; i++) {
		uint32_t idx = wg_random_u32();
		struct obj *o = find(&t, idx, WG_INDEX_KEYPAIR);

		if (o) {
			hits++;
			CHECK_EQ(o->index, idx);
		}
	}
	/* 1000 live indices out of 2^32: a random hit is about 1 in 4 million. */
	CHECK(hits < 5);
	/* Indices spread over the whole 32-bit space, not the table's 10 bits. */
	{
		unsigned high = 0;
		for (int i = 0; i < 1000; i++)
			high += objs[i].index >= (1u << 31);
		CHECK(high > 400 && high < 600);
	}
	wg_index_destroy(&t);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	wg_crypto_init();
	test_basic();
	test_reuse();
	test_random_lookups();
	return check_report("index");
}
