/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's cross-platform userspace API (wireguard.com/xplatform), the text protocol the
 * stock `wg` tool speaks over /var/run/wireguard/NAME.sock: a framer that cuts requests out
 * of a byte stream, a parser of `set` requests into a model applied all or nothing, and
 * formatters of `get` replies. Pure C over lib/addr and lib/crypto: no sockets, no DPDK.
 * docs/uapi.md describes the protocol as implemented.
 *
 * Errors are positive errno values, as the protocol carries them: EINVAL for a bad value or
 * an unknown key, EPROTO for a line that is not key=value, EMSGSIZE past the size limit.
 */
#ifndef WG_UAPI_H
#define WG_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_addr.h"
#include "wg_obfs.h"
#include "wg_wire.h"

enum wg_uapi_kind {
	WG_UAPI_NONE = 0,       /* not known yet (the first line is incomplete or garbage) */
	WG_UAPI_GET,            /* "get=1\n\n" */
	WG_UAPI_SET,            /* "set=1\n" key=value lines "\n" */
};

/* Longest line the framer accepts. The longest real one is a preshared_key (78 bytes);
 * the slack leaves room for keys a later protocol revision may add. */
#define WG_UAPI_LINE_MAX      1024
/* Default bound on the bytes a connection may have buffered: one request and whatever the
 * client sent after it. A `set` of 100,000 peers with a few allowed IPs each is ~25 MiB. */
#define WG_UAPI_DEFAULT_LIMIT (64u << 20)
#define WG_UAPI_WHY_LEN       128

/* ---- Framing a byte stream into requests ------------------------------------------- */

struct wg_uapi_conn {
	char *buf;
	size_t len, cap;        /* bytes held, bytes allocated */
	size_t limit;           /* most bytes held at once */
	size_t head;            /* first byte of the request being framed */
	size_t scan;            /* next byte to examine */
	size_t line;            /* first byte of the line being examined */
	bool line_has_eq;
	bool overflow;          /* bytes were refused for the limit */
	enum wg_uapi_kind kind; /* of the request being framed, once its first line says */
	int err;                /* sticky: once broken, the stream stays broken */
};

/* limit: most bytes buffered at once (0: WG_UAPI_DEFAULT_LIMIT). */
void wg_uapi_conn_init(struct wg_uapi_conn *c, size_t limit);
/* Wipe (a set carries keys) and free. */
void wg_uapi_conn_free(struct wg_uapi_conn *c);
/* Append bytes read from the socket. 0, or EMSGSIZE past the limit, ENOMEM, or the error
 * the stream already had. Invalidates bodies returned before. */
int wg_uapi_feed(struct wg_uapi_conn *c, const void *data, size_t len);
/*
 * The next complete request. Returns 0 with *kind and, for a set, *body and *len: the
 * key=value lines, each ending in '\n', without the "set=1\n" line and the blank line
 * (a get has body NULL, len 0); the body stays valid until the next wg_uapi_feed. Returns
 * EAGAIN when more bytes are needed, or a positive errno when the stream is malformed
 * (first line not get=1 / set=1: EPROTO; anything after get=1 but the blank line: EINVAL;
 * a set line with no '=', a NUL byte or over WG_UAPI_LINE_MAX: EPROTO); *kind then says
 * what the request was, if its first line was read, so the reply can be formatted. The
 * server answers an error with wg_uapi_format_errno and closes: the framing is lost.
 * Call it until EAGAIN after each feed: several requests may share one read.
 */
int wg_uapi_next_request(struct wg_uapi_conn *c, enum wg_uapi_kind *kind,
			 const char **body, size_t *len);

/* ---- The set request --------------------------------------------------------------- */

struct wg_uapi_aip {            /* one change to a peer's allowed IPs, in request order */
	struct wg_prefix prefix;    /* host bits cleared, as wireguard-go and the kernel do */
	bool remove;                /* "allowed_ip=-PREFIX": drop it from this peer */
};

struct wg_uapi_peer {
	uint8_t public_key[WG_KEY_LEN];
	bool remove;                /* remove=true: delete the peer, ignore the rest */
	bool update_only;           /* update_only=true: skip the section if the peer is new */
	bool replace_allowed_ips;   /* clear its allowed IPs before applying aips[] */
	bool has_preshared_key;
	bool has_endpoint;
	bool has_keepalive;
	uint8_t preshared_key[WG_KEY_LEN];   /* all zero: no preshared key */
	struct wg_endpoint endpoint;
	uint16_t keepalive;                  /* persistent_keepalive_interval; 0 = off */
	struct wg_uapi_aip *aips;
	size_t n_aips, cap_aips;
};

/* AmneziaWG's device keys (amneziawg-go's names), each its own bit in obfs_has; accept_plain
 * is wgdp's. A set changes only the values it names. */
enum wg_uapi_obfs_key {
	WG_UAPI_JC, WG_UAPI_JMIN, WG_UAPI_JMAX, WG_UAPI_S1, WG_UAPI_S2,
	WG_UAPI_H1, WG_UAPI_H2, WG_UAPI_H3, WG_UAPI_H4, WG_UAPI_ACCEPT_PLAIN,
	WG_UAPI_OBFS_KEYS
};

struct wg_uapi_set {
	unsigned obfs_has;          /* 1u << enum wg_uapi_obfs_key for each key given */
	struct wg_obfs obfs;        /* their values (h as given: 0 is "the plain type") */
	bool has_private_key;
	bool has_listen_port;
	bool has_fwmark;
	bool replace_peers;         /* remove every peer before applying peers[] */
	uint8_t private_key[WG_KEY_LEN];     /* clamped; all zero: remove the key */
	uint16_t listen_port;                /* 0: pick one */
	uint32_t fwmark;                     /* 0: off */
	struct wg_uapi_peer *peers;          /* in request order; a key may appear twice */
	size_t n_peers, cap_peers;
};

/*
 * Parse a set body (as wg_uapi_next_request returns it; a trailing blank line is also
 * accepted). Returns 0 with *s filled, or a positive errno with why[] saying which line
 * and why (never a key's value) and *s empty. Nothing is half-parsed: apply *s only after
 * 0, device fields first, then peers[] in order, each as its flags say (docs/uapi.md).
 */
int wg_uapi_parse_set(struct wg_uapi_set *s, const char *body, size_t len,
		      char *why, size_t whylen);
/*
 * A caller's pause point in long work: fn(arg) is called between pieces of it (every
 * WG_YIELD_LINES lines here), so that a caller with other duties (the control lcore:
 * handshakes, timers, data on a shared lcore) can do them and come back. fn must not
 * touch what the work is building.
 */
struct wg_yield {
	void (*fn)(void *arg);
	void *arg;
};
#define WG_YIELD_LINES 256
/* wg_uapi_parse_set with pause points (y NULL: none). */
int wg_uapi_parse_set_yield(struct wg_uapi_set *s, const char *body, size_t len,
			    char *why, size_t whylen, const struct wg_yield *y);
/* Free what a parse allocated and wipe the keys; *s is left empty and reusable. */
void wg_uapi_set_free(struct wg_uapi_set *s);
/* The same with pause points (y NULL: none). */
void wg_uapi_set_free_yield(struct wg_uapi_set *s, const struct wg_yield *y);

/* ---- Replies ----------------------------------------------------------------------- */

/* Blocks that hold request or reply text (keys among it), for lib/uapi and lib/rpc: grown
 * from old_bytes to new_bytes keeping the contents (0, or ENOMEM with *p untouched), and
 * freed, nothing of the text left in the process. From WG_SECBUF_BIG bytes up a block is
 * a mapping of its own: it grows by mremap, which moves its pages rather than copying
 * them, and is freed by munmap, the kernel zeroing the pages before anyone else gets them,
 * so that a request of a hundred megabytes costs no pause to copy and wipe it at each
 * doubling (docs/design.md, "Control work in slices"). Smaller blocks are copied and the
 * old one wiped. A block must be grown and freed only through these, with its size. */
#define WG_SECBUF_BIG ((size_t)1 << 20)
void *wg_secbuf_zalloc(size_t bytes);   /* zeroed, as calloc; NULL out of memory */
int wg_secbuf_grow(void **p, size_t old_bytes, size_t new_bytes);
void wg_secbuf_free(void *p, size_t bytes);

/* A growable output buffer. It may hold a private key: it is wiped as it is consumed. */
struct wg_uapi_buf {
	char *data;
	size_t len, cap;
};

void wg_uapi_buf_init(struct wg_uapi_buf *b);
void wg_uapi_buf_free(struct wg_uapi_buf *b);
/* Drop the first n bytes (written to the socket), wiping them. */
void wg_uapi_buf_consume(struct wg_uapi_buf *b, size_t n);
/* Append bytes, or printf-formatted text: 0 or ENOMEM (b unchanged). */
int wg_uapi_buf_append(struct wg_uapi_buf *b, const void *data, size_t len);
int wg_uapi_buf_printf(struct wg_uapi_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct wg_uapi_device {
	bool has_private_key;
	uint8_t private_key[WG_KEY_LEN];
	uint16_t listen_port;       /* 0: line left out, as wireguard-go does */
	uint32_t fwmark;            /* 0: off, line left out */
	struct wg_obfs obfs;        /* shown as amneziawg-go shows it: values that are not
	                             * plain WireGuard's, and accept_plain=true */
};

/* The obfuscation after a set: cur with the keys s names replaced (h normalized). */
void wg_uapi_obfs_merge(struct wg_obfs *out, const struct wg_obfs *cur,
			const struct wg_uapi_set *s);

struct wg_uapi_peer_info {
	uint8_t public_key[WG_KEY_LEN];
	bool has_preshared_key;
	uint8_t preshared_key[WG_KEY_LEN];
	bool has_endpoint;
	struct wg_endpoint endpoint;
	uint64_t last_handshake_sec;    /* wall clock; 0 and 0: never */
	uint32_t last_handshake_nsec;   /* 0..999999999 */
	uint64_t rx_bytes, tx_bytes;
	uint16_t keepalive;             /* 0 = off */
	const struct wg_prefix *allowed_ips;
	size_t n_allowed_ips;
	bool disabled;                  /* wgdp's own state (SetPeerEnabled); `wg` never sees it */
};

/* A get reply is format_device, then format_peer once per peer, then format_errno; the
 * server may write out and consume the buffer between calls. Each returns 0 or ENOMEM. */
int wg_uapi_format_device(struct wg_uapi_buf *b, const struct wg_uapi_device *d);
int wg_uapi_format_peer(struct wg_uapi_buf *b, const struct wg_uapi_peer_info *p);
/*
 * "errno=N\n\n", the end of every reply; err is 0 or a positive errno. `wg` reads the sign
 * differently by request: after a set it negates what it reads (wireguard-go writes
 * "errno=-22"), after a get it accepts digits only. So an error is written negative,
 * except in a get reply.
 */
int wg_uapi_format_errno(struct wg_uapi_buf *b, enum wg_uapi_kind kind, int err);

/* The set request that parses back to *s, "set=1\n" to the blank line: for clients, tests
 * and the fuzzer's round trip. 0 or ENOMEM. */
int wg_uapi_format_set(struct wg_uapi_buf *b, const struct wg_uapi_set *s);

#endif
