/* SPDX-License-Identifier: MIT */
/*
 * ChaCha20-Poly1305 (RFC 8439) for data messages, for one buffer or a burst, over one of
 * several engines:
 *
 *   ipsec-mb  intel-ipsec-mb's single-buffer implementation, one job at a time (its best
 *             instruction set for the CPU: SSE, AVX, AVX2 or AVX-512)
 *   ref       the project's portable C reference (the tests' oracle, and a fallback)
 *   avx2      the project's multi-buffer engine: one packet block per 32-bit lane of a
 *             ymm for ChaCha20, four messages per ymm for Poly1305 (26-bit limbs)
 *   avx512    the same with zmm: 16 ChaCha20 lanes, Poly1305 in 52-bit limbs on AVX-512
 *             IFMA, 16 messages at a time
 *   auto      the best multi-buffer engine the CPU runs, with the ops that intel-ipsec-mb
 *             does faster (long packets, lone packets) routed to it; wg_aead_describe()
 *             says what a context does
 *
 * A context is per thread: each lcore creates its own. The engine and its instruction set
 * are chosen once, when the context is created, at run time from CPUID (the binary runs
 * on any x86-64). Buffers are processed in place: the tag follows the text, so a buffer
 * must have room for len + 16 bytes.
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

enum wg_aead_engine {
	WG_AEAD_AUTO,
	WG_AEAD_IPSECMB,
	WG_AEAD_REF,
	WG_AEAD_AVX2,
	WG_AEAD_AVX512,
};
#define WG_AEAD_ENGINES 5

/* Create a context for the calling thread with the AUTO engine; NULL on failure. */
struct wg_aead *wg_aead_create(void);
/* A context with the given engine; NULL if this CPU (or OS) cannot run it, or on failure. */
struct wg_aead *wg_aead_create_engine(enum wg_aead_engine e);
void wg_aead_free(struct wg_aead *a);
/* Can this machine run engine e? (AUTO, IPSECMB and REF: always.) */
bool wg_aead_engine_supported(enum wg_aead_engine e);
/* "auto", "ipsec-mb", "ref", "avx2", "avx512"; NULL for a value out of range. */
const char *wg_aead_engine_name(enum wg_aead_engine e);
/* The engine of that name (as above; also "ipsecmb"); 0, or -1 for an unknown name. */
int wg_aead_engine_parse(const char *name, enum wg_aead_engine *e);
/* The engine a context was created with. */
enum wg_aead_engine wg_aead_engine(const struct wg_aead *a);
/* What the context actually does, e.g. "avx512-mb (ipsec-mb avx512 for >= 1024 bytes)". */
const char *wg_aead_describe(const struct wg_aead *a);
/* intel-ipsec-mb's implementation in this context: "avx512", "avx2", "avx" or "sse"; or
 * "none" when the context does not use intel-ipsec-mb. */
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
