/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum (RFC 1071) and the TTL decrement with its incremental update
 * (RFC 1624). A call sums in 64 bits and folds the carries back into 32, so partial sums
 * chain over any length; wg_csum_fold makes the 16-bit value at the end.
 */
#include <string.h>

#include "pkt_priv.h"

/*
 * The words are summed as the machine loads them, eight bytes at a time, and the folded
 * sum is put in network order once at the end: a one's complement sum is the same for any
 * word size and commutes with swapping bytes (RFC 1071 2(B)), so this is the sum of the
 * big-endian 16-bit words. The buffer starts at an even offset of the data it sums.
 */
uint32_t wg_csum_partial(const uint8_t *buf, size_t len, uint32_t acc)
{
	uint64_t sum = 0, v;
	size_t i = 0;
	uint32_t w;
	uint16_t h;
	uint8_t last_be[2];

	for (; i + 8 <= len; i += 8) {
		memcpy(&v, buf + i, 8);
		sum += (v & 0xffffffffu) + (v >> 32);
	}
	if (i + 4 <= len) {
		memcpy(&w, buf + i, 4);
		sum += w;
		i += 4;
	}
	if (i + 2 <= len) {
		memcpy(&h, buf + i, 2);
		sum += h;
		i += 2;
	}
	if (i < len) {
		uint8_t last[2] = { buf[i], 0 };

		memcpy(&h, last, 2);
		sum += h;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	h = (uint16_t)sum;
	memcpy(last_be, &h, 2);
	sum = (uint64_t)acc + (uint16_t)(last_be[0] << 8 | last_be[1]);
	while (sum >> 32)
		sum = (sum & 0xffffffffu) + (sum >> 32);
	return (uint32_t)sum;
}

uint16_t wg_csum_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

uint16_t wg_csum(const uint8_t *buf, size_t len)
{
	return wg_csum_fold(wg_csum_partial(buf, len, 0));
}

uint16_t wg_csum_ipv4_header(const uint8_t *ip, size_t hdr_len)
{
	uint32_t acc;

	if (hdr_len < 12)                       /* no checksum field to skip */
		return wg_csum(ip, hdr_len);
	/* Skip the checksum field rather than copying the header to zero it. */
	acc = wg_csum_partial(ip, 10, 0);
	acc = wg_csum_partial(ip + 12, hdr_len - 12, acc);
	return wg_csum_fold(acc);
}

uint16_t wg_csum_l4(const struct wg_ip *src, const struct wg_ip *dst, uint8_t proto,
		    const uint8_t *l4, size_t len)
{
	uint8_t ph[8];
	uint32_t acc;
	size_t alen = src->family == WG_AF_INET6 ? 16 : 4;

	acc = wg_csum_partial(src->addr, alen, 0);
	acc = wg_csum_partial(dst->addr, alen, acc);
	/* The IPv4 pseudo-header ends zero, proto, 16-bit length; IPv6's 32-bit length,
	 * three zeros, next header. Both sum the same as a 32-bit length and a zero-padded
	 * proto word. */
	put32(ph, (uint32_t)len);
	put32(ph + 4, proto);
	acc = wg_csum_partial(ph, sizeof(ph), acc);
	return wg_csum_fold(wg_csum_partial(l4, len, acc));
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never yields 0xffff for a
 * header that a full recomputation would give 0x0000. */
static uint16_t update(uint16_t hc, uint16_t old, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~hc + (uint32_t)(uint16_t)~old + new_word;

	return wg_csum_fold(sum);
}

bool wg_pkt_dec_ttl(uint8_t *ip, size_t len)
{
	uint16_t old, hc;

	if (len >= WG_IPV6_HLEN && ip[0] >> 4 == 6) {
		if (ip[7] <= 1)
			return false;
		ip[7]--;
		return true;
	}
	if (len < WG_IPV4_HLEN || ip[0] >> 4 != 4 || ip[8] <= 1)
		return false;
	old = get16(ip + 8);                    /* TTL shares its word with the protocol */
	ip[8]--;
	hc = update(get16(ip + 10), old, get16(ip + 8));
	put16(ip + 10, hc);
	return true;
}
