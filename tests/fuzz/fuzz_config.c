/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the configuration parser: arbitrary bytes, as a NUL-terminated
 * copy, through wg_config_parse (the guard, libconfig and every section's checks), freeing
 * what a successful parse returns. Key files named by the input are opened for real, which
 * is the point: no path may block or crash the parser. An input starting with byte 0x01
 * is the inside of an interface's obfuscation group instead (AmneziaWG), so the fuzzer
 * meets its rules at once; whatever is accepted must pass lib/obfs's check.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "wg_config.h"
#include "wg_crypto.h"
#include "wg_obfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);

/*
 * libconfig 1.5 leaks the text of a string token that a syntax error follows ('""' alone
 * is enough): its grammar frees no semantic values on error. A few bytes per refused
 * file, inside libconfig; suppressed by library (its frames unwind no further than its
 * own functions) so that any leak allocated by our code still stops the run.
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

/* libFuzzer checks for leaks after many inputs; without this each check prints the table
 * of suppressions used. */
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct wg_config c;
	char err[WG_CONFIG_ERR_LEN];
	char *text;

	if (!ready) {
		if (wg_crypto_init() != 0)
			abort();
		ready = 1;
	}
	if (size > 0 && data[0] == 1) {
		static const char head[] = "interface = { obfuscation = { ";
		static const char tail[] = " }; };\nports = ( { name = \"p\"; device = \"d\"; "
			"role = \"both\"; } );\n";

		text = malloc(sizeof(head) + size + sizeof(tail));
		if (!text)
			return 0;
		memcpy(text, head, sizeof(head) - 1);
		memcpy(text + sizeof(head) - 1, data + 1, size - 1);
		memcpy(text + sizeof(head) - 1 + size - 1, tail, sizeof(tail));
	} else {
		text = malloc(size + 1);
		if (!text)
			return 0;
		memcpy(text, data, size);
		text[size] = '\0';
	}
	if (wg_config_parse(&c, text, "fuzz", err, sizeof(err)) == 0) {
		if (wg_obfs_check(&c.obfs, c.mtu, err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_config: accepted obfuscation breaks a rule: %s\n", err);
			abort();
		}
		wg_config_free(&c);
	}
	else if (strncmp(err, "fuzz", 4) != 0)
		abort();    /* every refusal names its origin */
	free(text);
	return 0;
}
