/* SPDX-License-Identifier: MIT */
/*
 * AmneziaWG 1.0's obfuscation of WireGuard messages (docs/obfuscation.md), as parameters,
 * their validity rules, and the recognition of a datagram's form. Pure C over lib/wire.
 *
 * On the wire an obfuscated message differs from WireGuard's in three ways only:
 *   - the 32-bit type field (type and reserved bytes, little-endian) holds h1, h2, h3 or h4
 *     in place of 1, 2, 3 or 4; the MACs of a handshake message cover it as sent;
 *   - an initiation has s1 random bytes in front of it, a response s2 (so they are
 *     148 + s1 and 92 + s2 bytes long); cookie replies and data messages have none;
 *   - before each initiation it starts, a sender sends jc junk datagrams of random bytes,
 *     of random sizes in [jmin, jmax].
 * Both ends must agree on s1, s2 and h1..h4; jc, jmin and jmax are the sender's own.
 */
#ifndef WG_OBFS_H
#define WG_OBFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_wire.h"

#define WG_OBFS_JC_MAX 128u        /* junk datagrams before an initiation, as Amnezia's apps */
/* Padded handshake messages and junk may be no longer than the longest data message the
 * tunnel sends (MTU + 32), so they fit wherever data fits. */
#define WG_OBFS_MSG_MAX(mtu) ((size_t)(mtu) + WG_MSG_DATA_MIN_LEN)

struct wg_obfs {
	uint32_t h[4];         /* type fields of initiation, response, cookie reply, data */
	uint16_t s1, s2;       /* random bytes in front of initiations, of responses */
	uint16_t jc;           /* junk datagrams before each initiation we start */
	uint16_t jmin, jmax;   /* their sizes */
	bool accept_plain;     /* plain WireGuard accepted on the same port as well */
};

/* Plain WireGuard: h = 1..4, everything else zero. */
void wg_obfs_default(struct wg_obfs *o);
/* Does the obfuscated form differ from plain WireGuard at all (or are junk packets sent)? */
bool wg_obfs_enabled(const struct wg_obfs *o);
/* h = 0 means "unset": its type's plain value (as amneziawg-go's uapi takes it). */
void wg_obfs_normalize(struct wg_obfs *o);
/*
 * AmneziaWG 1.0's rules, on normalized values, for a tunnel of this MTU: h1..h4 distinct,
 * each its plain value or above 4 (1..4 are WireGuard's own types); 148 + s1 and 92 + s2
 * different lengths, both at most WG_OBFS_MSG_MAX(mtu); jmin <= jmax <= WG_OBFS_MSG_MAX(mtu);
 * jc <= WG_OBFS_JC_MAX. 0, or -1 with why[] saying which rule.
 */
int wg_obfs_check(const struct wg_obfs *o, unsigned mtu, char *why, size_t whylen);
/* A junk datagram's size in [jmin, jmax] from a random 32-bit value. */
unsigned wg_obfs_junk_len(const struct wg_obfs *o, uint32_t r);

/* What a datagram on the listen port is (the message types 1..4 are enum wg_msg_type). */
enum wg_obfs_class {
	WG_OBFS_JUNK = 0,      /* no message of any accepted form */
	WG_OBFS_PLAIN = 5,     /* a plain WireGuard message while accept_plain is off */
	WG_OBFS_SHORT = 6,     /* the data type, too short for a data message */
};

/* The type field of message type t (1..4) in a form. */
static inline uint32_t wg_obfs_type(const struct wg_obfs *o, unsigned t, bool obfuscated)
{
	return obfuscated ? o->h[t - 1] : t;
}

/* Random bytes in front of message type t in a form. */
static inline unsigned wg_obfs_pad(const struct wg_obfs *o, unsigned t, bool obfuscated)
{
	if (!obfuscated)
		return 0;
	return t == WG_MSG_INITIATION ? o->s1 : t == WG_MSG_RESPONSE ? o->s2 : 0;
}

/*
 * The form and type of a UDP payload, by its length and its type field, as amneziawg-go
 * recognises them: a handshake by its padded length and the type after the padding, then
 * a data message or cookie reply by its type. Returns the type (1..4) with *off the
 * padding to strip and *obfuscated the form, or a class of enum wg_obfs_class. Plain
 * messages (with accept_plain) are returned with the length of their type unchecked, as
 * the plain path checks it.
 */
static inline unsigned wg_obfs_classify(const struct wg_obfs *o, const uint8_t *msg, size_t len,
					size_t *off, bool *obfuscated)
{
	uint32_t t = len >= 4 ? wg_get_le32(msg) : 0;

	*off = 0;
	*obfuscated = true;
	if (len == WG_MSG_INITIATION_LEN + o->s1 && wg_get_le32(msg + o->s1) == o->h[0]) {
		*off = o->s1;
		return WG_MSG_INITIATION;
	}
	if (len == WG_MSG_RESPONSE_LEN + o->s2 && wg_get_le32(msg + o->s2) == o->h[1]) {
		*off = o->s2;
		return WG_MSG_RESPONSE;
	}
	if (t == o->h[3])
		return len >= WG_MSG_DATA_MIN_LEN ? WG_MSG_DATA : WG_OBFS_SHORT;
	if (t == o->h[2] && len == WG_MSG_COOKIE_REPLY_LEN)
		return WG_MSG_COOKIE_REPLY;
	*obfuscated = false;
	if (t >= WG_MSG_INITIATION && t <= WG_MSG_DATA)
		return o->accept_plain ? t : WG_OBFS_PLAIN;
	return WG_OBFS_JUNK;
}

#endif
