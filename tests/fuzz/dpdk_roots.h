/* SPDX-License-Identifier: MIT */
/*
 * The gateway keeps its state in DPDK's heap (rte_malloc), which LeakSanitizer does not
 * scan, so everything the gateway malloc()s looks unreachable to it: register DPDK's
 * memory as root regions once EAL is up, so that the fuzzers' leak checks see real leaks
 * only.
 */
#ifndef WG_FUZZ_DPDK_ROOTS_H
#define WG_FUZZ_DPDK_ROOTS_H

#include <sanitizer/lsan_interface.h>

#include <rte_memory.h>

static int dpdk_root(const struct rte_memseg_list *msl, void *arg)
{
	(void)arg;
	if (msl->base_va && msl->len)
		__lsan_register_root_region(msl->base_va, msl->len);
	return 0;
}

static inline void dpdk_register_roots(void)
{
	rte_memseg_list_walk(dpdk_root, NULL);
}

#endif
