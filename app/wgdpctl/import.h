/* SPDX-License-Identifier: MIT */
/* wgdpctl import (import.c): a wg-quick server file as a wgdp configuration. */
#ifndef WGDPCTL_IMPORT_H
#define WGDPCTL_IMPORT_H

#include <stdbool.h>
#include <stdio.h>

#define IMPORT_MAX_ADDRS 8

struct import_opts {
	const char *input, *output;       /* output NULL: standard output */
	const char *name;                 /* interface.name, default wg0 */
	const char *device, *gateway4;    /* the port masquerade leaves by */
	const char *addresses[IMPORT_MAX_ADDRS];
	unsigned n_addresses;
	const char *wan_device;           /* a separate WAN port, or NULL */
	const char *wan_addresses[IMPORT_MAX_ADDRS];
	unsigned n_wan_addresses;
	bool quiet;                       /* no messages on standard error (the fuzzer) */
};

/* 0, or -1 with the reason on standard error (nothing written). */
int wgdpctl_import(const struct import_opts *o);
/* The same from an open stream to out (NULL: opt->output, or standard output). */
int wgdpctl_import_stream(const struct import_opts *o, FILE *in, FILE *out);
/* `wgdpctl import ...`: argv[0] is "import". Returns the exit status. */
int wgdpctl_import_main(int argc, char **argv);

#endif
