/* SPDX-License-Identifier: MIT */
/*
 * A minimal check harness for the unit tests: each test program counts its checks, prints
 * the failing ones with file and line, and exits non-zero if any failed. Each test binary
 * includes this once, so the counters are per program.
 */
#ifndef WG_TEST_CHECK_H
#define WG_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned check_total, check_failed;

#define CHECK(cond) check_at(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_MEM(a, b, n) check_at(memcmp((a), (b), (n)) == 0, __FILE__, __LINE__, \
				    "memcmp(" #a ", " #b ", " #n ") == 0")
#define CHECK_EQ(a, b) check_eq_at((long long)(a), (long long)(b), __FILE__, __LINE__, \
				   #a " == " #b)

static inline int check_at(int ok, const char *file, int line, const char *what)
{
	check_total++;
	if (!ok) {
		check_failed++;
		if (check_failed <= 50)
			fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	}
	return ok;
}

static inline int check_eq_at(long long a, long long b, const char *file, int line,
			      const char *what)
{
	check_total++;
	if (a != b) {
		check_failed++;
		if (check_failed <= 50)
			fprintf(stderr, "%s:%d: check failed: %s (%lld != %lld)\n", file, line,
				what, a, b);
	}
	return a == b;
}

/* Print the summary line and return the exit status for main(). */
static inline int check_report(const char *name)
{
	printf("%s: %u checks, %u failed\n", name, check_total, check_failed);
	if (check_total == 0) {
		fprintf(stderr, "%s: no checks ran\n", name);
		return 1;
	}
	return check_failed ? 1 : 0;
}

/* Hex helpers for vectors. Returns the number of bytes written, or -1. */
static inline int check_unhex(unsigned char *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return (int)(n / 2);
}

#endif
