/* SPDX-License-Identifier: MIT */
/*
 * Private to lib/uapi: growing arrays that may hold keys, and appending text to a
 * wg_uapi_buf. Every block that held request or reply text is wiped before it is freed,
 * which is why nothing here uses realloc (it would free the old block unwiped).
 */
#ifndef WG_UAPI_BUF_H
#define WG_UAPI_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "wg_uapi.h"

/* Make room for `need` elements of `size` bytes in *arr (capacity *cap), doubling, moving
 * and wiping the old block. 0, or ENOMEM (arr untouched). */
int uapi_grow(void **arr, size_t *cap, size_t size, size_t need);
/* Wipe and free a block of cap elements of `size` bytes. */
void uapi_release(void *arr, size_t cap, size_t size);

/* Append printf-style text. 0 or ENOMEM. */
int uapi_printf(struct wg_uapi_buf *b, const char *fmt, ...);
/* Append "name=<64 hex>\n". 0 or ENOMEM. */
int uapi_put_key(struct wg_uapi_buf *b, const char *name, const uint8_t key[WG_KEY_LEN]);

#endif
