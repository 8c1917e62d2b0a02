/* SPDX-License-Identifier: MIT */
/*
 * ChaCha20-Poly1305 (RFC 8439) over intel-ipsec-mb, for one buffer or a burst.
 *
 * A context holds the library's manager, which is per thread: each lcore creates its own.
 * The best implementation for the CPU (SSE, AVX, AVX2, AVX-512) is chosen once, when the
 * context is created. Buffers are processed in place: the tag follows the text, so a
 * buffer must have room for len + 16 bytes.
 */
#ifndef WG_AEAD_H
#define WG_AEAD_H

#include <stdbool.h>
#include <stdint.h>

#include "wg_wire.h"

#define WG_AEAD_NONCE_LEN 12u
/* Ops handed to the library at once; larger bursts are processed in chunks of this many. */
#define WG_AEAD_CHUNK 64u

struct wg_aead;

/* One buffer of a burst. */
struct wg_aead_op {
	const uint8_t *key;                 /* 32 bytes */
	const uint8_t *ad;                  /* may be NULL when ad_len is 0 */
	uint8_t *buf;                       /* text, then room for (or the) 16-byte tag */
	uint32_t len;                       /* text length, without the tag */
	uint32_t ad_len;
	uint8_t nonce[WG_AEAD_NONCE_LEN];
	bool ok;                            /* out: tag verified (decrypt) or done (encrypt) */
};

/* Create a context for the calling thread; NULL on failure. */
struct wg_aead *wg_aead_create(void);
void wg_aead_free(struct wg_aead *a);
/* The implementation chosen: "avx512", "avx2", "avx" or "sse". */
const char *wg_aead_arch(const struct wg_aead *a);

/* WireGuard's nonce for a data message: 32 zero bits, then the 64-bit counter, little-endian. */
static inline void wg_aead_nonce(uint8_t nonce[WG_AEAD_NONCE_LEN], uint64_t counter)
{
	nonce[0] = nonce[1] = nonce[2] = nonce[3] = 0;
	wg_put_le64(nonce + 4, counter);
}

/* Encrypt each op's buf[0..len) in place and write its tag at buf + len. Returns the number
 * done (n, unless the library refused a job, which leaves that op's ok false). */
unsigned wg_aead_encrypt_burst(struct wg_aead *a, struct wg_aead_op *ops, unsigned n);
/* Decrypt each op's buf[0..len) in place and check the tag at buf + len in constant time.
 * Returns how many verified; each op's ok says which. A failed op's text is wiped. */
unsigned wg_aead_decrypt_burst(struct wg_aead *a, struct wg_aead_op *ops, unsigned n);

/* One buffer, out of place allowed (dst may equal src): dst gets len + 16 bytes. */
bool wg_aead_encrypt(struct wg_aead *a, uint8_t *dst, const uint8_t *src, uint32_t len,
		     const uint8_t *ad, uint32_t ad_len, const uint8_t nonce[WG_AEAD_NONCE_LEN],
		     const uint8_t key[WG_KEY_LEN]);
/* src holds len bytes of ciphertext and then the tag; dst gets len bytes of plaintext. */
bool wg_aead_decrypt(struct wg_aead *a, uint8_t *dst, const uint8_t *src, uint32_t len,
		     const uint8_t *ad, uint32_t ad_len, const uint8_t nonce[WG_AEAD_NONCE_LEN],
		     const uint8_t key[WG_KEY_LEN]);

#endif
