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
#include <sys/mman.h>

#include "uapi_buf.h"
#include "wg_crypto.h"

void *wg_secbuf_zalloc(size_t bytes)
{
	void *p;

	if (bytes < WG_SECBUF_BIG)
		return calloc(1, bytes ? bytes : 1);
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int wg_secbuf_grow(void **p, size_t old_bytes, size_t new_bytes)
{
	void *n;

	if (new_bytes <= old_bytes && *p)
		return 0;
	if (*p && old_bytes >= WG_SECBUF_BIG) {
		n = mremap(*p, old_bytes, new_bytes, MREMAP_MAYMOVE);
		if (n == MAP_FAILED)
			return ENOMEM;
		*p = n;
		return 0;
	}
	if (new_bytes >= WG_SECBUF_BIG) {
		n = mmap(NULL, new_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (n == MAP_FAILED)
			return ENOMEM;
	} else {
		n = malloc(new_bytes);
		if (n == NULL)
			return ENOMEM;
	}
	if (*p) {
		memcpy(n, *p, old_bytes);
		wg_secbuf_free(*p, old_bytes);
	}
	*p = n;
	return 0;
}

void wg_secbuf_free(void *p, size_t bytes)
{
	if (p == NULL)
		return;
	if (bytes >= WG_SECBUF_BIG) {
		munmap(p, bytes);
		return;
	}
	wg_wipe(p, bytes);
	free(p);
}

int uapi_grow(void **arr, size_t *cap, size_t size, size_t need)
{
	size_t ncap = *cap ? *cap : 8;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / size || wg_secbuf_grow(arr, *cap * size, ncap * size))
		return ENOMEM;
	*cap = ncap;
	return 0;
}

void uapi_release(void *arr, size_t cap, size_t size)
{
	wg_secbuf_free(arr, cap * size);
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
