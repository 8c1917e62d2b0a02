/* SPDX-License-Identifier: MIT */
/*
 * Internal to the config module: reading the files a configuration names. Only regular
 * files are read, and opening never blocks, so a path to a FIFO or a device cannot stall
 * the control lcore.
 */
#ifndef WG_CONFIG_FILE_H
#define WG_CONFIG_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Up to cap bytes of the file into buf: how many, or -1 with *why saying why. */
ssize_t wg_config_read_small(const char *path, char *buf, size_t cap, const char **why);

/* The whole file, at most max bytes, as a fresh NUL-terminated string of *len bytes (which
 * may hold NULs of its own); NULL with *why saying why. The caller frees it. */
char *wg_config_read_file(const char *path, size_t max, size_t *len, const char **why);

#endif
