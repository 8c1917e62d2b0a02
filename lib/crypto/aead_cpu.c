/* SPDX-License-Identifier: MIT */
/*
 * Which multi-buffer kernels this CPU and OS can run: the instruction sets from CPUID and,
 * for the wide registers, the OS's consent from XCR0 (OSXSAVE set, and the YMM state, plus
 * for AVX-512 the opmask and upper ZMM states, enabled). The binary is built for plain
 * x86-64; the kernels carry their ISA in function attributes and run only after this says
 * yes.
 */
#include <stdbool.h>
#include <stdint.h>

#include "aead_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xcr0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

/* 0: nothing; 1: AVX2 + BMI2 usable; 2: also AVX-512 F, BW, VL and IFMA usable. */
static int level(void)
{
	uint32_t a, b, c, d, b7;
	uint64_t x;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	if (!(c & bit_OSXSAVE) || !(c & bit_AVX))
		return 0;
	x = xcr0();
	if ((x & 0x6) != 0x6)                      /* XMM and YMM state */
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b7, &c, &d))
		return 0;
	if (!(b7 & bit_AVX2) || !(b7 & bit_BMI2))
		return 0;
	if ((x & 0xe0) != 0xe0)                    /* opmask, ZMM_Hi256, Hi16_ZMM state */
		return 1;
	if ((b7 & bit_AVX512F) && (b7 & bit_AVX512BW) && (b7 & bit_AVX512VL) &&
	    (b7 & bit_AVX512IFMA))
		return 2;
	return 1;
}

bool wg_mb_avx2_usable(void)
{
	return level() >= 1;
}

bool wg_mb_avx512_usable(void)
{
	return level() >= 2;
}
#else
bool wg_mb_avx2_usable(void)
{
	return false;
}

bool wg_mb_avx512_usable(void)
{
	return false;
}
#endif
