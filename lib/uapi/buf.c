/* SPDX-License-Identifier: MIT */
/*
 * Output buffers and arrays for the userspace API. Request and reply text carries private
 * and preshared keys, so every block is wiped before it is freed or abandoned.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uapi_buf.h"
#include "wg_crypto.h"

int uapi_grow(void **arr, size_t *cap, size_t size, size_t need)
{
	size_t ncap = *cap ? *cap : 8;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / size)
		return ENOMEM;
	n = malloc(ncap * size);
	if (!n)
		return ENOMEM;
	if (*arr) {
		memcpy(n, *arr, *cap * size);
		uapi_release(*arr, *cap, size);
	}
	*arr = n;
	*cap = ncap;
	return 0;
}

void uapi_release(void *arr, size_t cap, size_t size)
{
	if (!arr)
		return;
	wg_wipe(arr, cap * size);
	free(arr);
}

void wg_uapi_buf_init(struct wg_uapi_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void wg_uapi_buf_free(struct wg_uapi_buf *b)
{
	uapi_release(b->data, b->cap, 1);
	memset(b, 0, sizeof(*b));
}

void wg_uapi_buf_consume(struct wg_uapi_buf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	wg_wipe(b->data + b->len, n);
}

int uapi_printf(struct wg_uapi_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ENOMEM;
	/* +1: vsnprintf writes its NUL, which the next append overwrites. */
	if (uapi_grow((void **)&b->data, &b->cap, 1, b->len + (size_t)n + 1))
		return ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int uapi_put_key(struct wg_uapi_buf *b, const char *name, const uint8_t key[WG_KEY_LEN])
{
	char hex[WG_KEY_HEX_LEN + 1];
	int err;

	wg_key_to_hex(hex, key);
	err = uapi_printf(b, "%s=%s\n", name, hex);
	wg_wipe(hex, sizeof(hex));
	return err;
}

int wg_uapi_buf_append(struct wg_uapi_buf *b, const void *data, size_t len)
{
	if (len > SIZE_MAX - b->len - 1 ||
	    uapi_grow((void **)&b->data, &b->cap, 1, b->len + len + 1))
		return ENOMEM;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int wg_uapi_buf_printf(struct wg_uapi_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || uapi_grow((void **)&b->data, &b->cap, 1, b->len + (size_t)n + 1))
		return ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}
