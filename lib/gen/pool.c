/* SPDX-License-Identifier: MIT */
/* The generator's packets: inner packets with marks, data frames, plaintext frames. */
#include <string.h>

#include "wg_addr.h"
#include "wg_gen.h"
#include "wg_pkt.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t wg_gen_padded(uint32_t len, uint32_t mtu)
{
	uint32_t p = (len + WG_DATA_PADDING - 1) / WG_DATA_PADDING * WG_DATA_PADDING;

	if (p > mtu)
		p = len > mtu ? len : mtu;
	return p;
}

static uint16_t size_of(const struct wg_gen_plan *pl, uint64_t i)
{
	return pl->sizes[i % pl->n_sizes];
}

size_t wg_gen_data_frame_len(const struct wg_gen_plan *pl, uint64_t i)
{
	return WG_GEN_OUTER_LEN + WG_MSG_DATA_MIN_LEN + wg_gen_padded(size_of(pl, i), pl->mtu);
}

size_t wg_gen_plain_frame_len(const struct wg_gen_plan *pl, uint64_t i)
{
	size_t n = WG_ETH_HLEN + size_of(pl, i);

	return n < WG_ETH_MIN_FRAME ? WG_ETH_MIN_FRAME : n;
}

/* The payload after the mark: a pattern of the byte's offset alone, so that checking it is
 * one vectorisable loop (the mark says which packet it is). */
static inline uint8_t pattern(size_t j)
{
	return (uint8_t)(j * 131u + 7u);
}

static void put_mark(uint8_t *p, const struct wg_gen_mark *m)
{
	wg_put_le64(p, WG_GEN_MAGIC);
	wg_put_le32(p + 8, m->run);
	wg_put_le32(p + 12, m->index);
	wg_put_le32(p + 16, m->peer);
	wg_put_le32(p + 20, m->dir);
}

size_t wg_gen_build_inner(uint8_t *buf, size_t cap, size_t size, const struct wg_gen_flow *f,
			  const struct wg_gen_mark *m)
{
	uint8_t *udp = buf + WG_IPV4_HLEN, *pay = udp + 8 + WG_GEN_MARK_LEN;
	size_t rest = size - WG_GEN_INNER_MIN;
	struct wg_ip src = { .family = WG_AF_INET }, dst = { .family = WG_AF_INET };
	uint16_t c;

	if (size < WG_GEN_INNER_MIN || size > WG_GEN_INNER_MAX || size > cap)
		return 0;
	memset(buf, 0, WG_IPV4_HLEN);
	buf[0] = 0x45;
	put16(buf + 2, (uint16_t)size);
	put16(buf + 4, (uint16_t)m->index);
	buf[6] = 0x40;                          /* DF: the generator never fragments */
	buf[8] = 64;
	buf[9] = WG_IPPROTO_UDP;
	memcpy(buf + 12, f->src, 4);
	memcpy(buf + 16, f->dst, 4);
	put16(buf + 10, wg_csum_ipv4_header(buf, WG_IPV4_HLEN));
	put16(udp, f->sport);
	put16(udp + 2, f->dport);
	put16(udp + 4, (uint16_t)(size - WG_IPV4_HLEN));
	put16(udp + 6, 0);
	put_mark(udp + 8, m);
	for (size_t j = 0; j < rest; j++)
		pay[j] = pattern(j);
	memcpy(src.addr, f->src, 4);
	memcpy(dst.addr, f->dst, 4);
	c = wg_csum_l4(&src, &dst, WG_IPPROTO_UDP, udp, size - WG_IPV4_HLEN);
	put16(udp + 6, c ? c : 0xffff);
	return size;
}

bool wg_gen_read_mark(const uint8_t *ip, size_t len, struct wg_gen_mark *m)
{
	struct wg_pkt_info pi;
	const uint8_t *udp, *pay;
	size_t rest;
	uint8_t bad = 0;

	if (wg_pkt_parse_ip(&pi, ip, len) != 0 || pi.family != WG_AF_INET ||
	    pi.proto != WG_IPPROTO_UDP || pi.fragment || pi.l3_len < WG_GEN_INNER_MIN ||
	    pi.l4_off != WG_IPV4_HLEN)
		return false;
	udp = ip + WG_IPV4_HLEN;
	if (get16(udp + 4) != pi.l3_len - WG_IPV4_HLEN || wg_get_le64(udp + 8) != WG_GEN_MAGIC)
		return false;
	m->run = wg_get_le32(udp + 16);
	m->index = wg_get_le32(udp + 20);
	m->peer = wg_get_le32(udp + 24);
	m->dir = wg_get_le32(udp + 28);
	pay = udp + 8 + WG_GEN_MARK_LEN;
	rest = pi.l3_len - WG_GEN_INNER_MIN;
	for (size_t j = 0; j < rest; j++)
		bad |= (uint8_t)(pay[j] ^ pattern(j));
	return bad == 0;
}

void wg_gen_outer_template(uint8_t out[WG_GEN_OUTER_LEN], const uint8_t dst_mac[6],
			   const uint8_t src_mac[6], const uint8_t src_ip[4],
			   const uint8_t dst_ip[4], uint16_t sport, uint16_t dport)
{
	uint8_t *ip = out + WG_ETH_HLEN, *udp = ip + WG_IPV4_HLEN;

	wg_pkt_write_eth(out, dst_mac, src_mac, WG_ETHERTYPE_IPV4);
	memset(ip, 0, WG_IPV4_HLEN);
	ip[0] = 0x45;
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = WG_IPPROTO_UDP;
	memcpy(ip + 12, src_ip, 4);
	memcpy(ip + 16, dst_ip, 4);
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, 0);
	put16(udp + 6, 0);                      /* IPv4: no UDP checksum, as the kernel sends */
}

size_t wg_gen_layout_data(uint8_t *frame, size_t cap, const struct wg_gen_plan *pl,
			  const struct wg_gen_flow *flows, const struct wg_gen_session *sess,
			  uint64_t i, struct wg_aead_op *op)
{
	unsigned p = (unsigned)(i % pl->n_peers);
	const struct wg_gen_session *s = &sess[p];
	uint64_t counter = wg_gen_counter(pl, s, i);
	uint16_t size = size_of(pl, i);
	uint32_t padded = wg_gen_padded(size, pl->mtu);
	size_t msg_len = WG_MSG_DATA_MIN_LEN + padded, len = WG_GEN_OUTER_LEN + msg_len;
	struct wg_gen_mark m = { .run = pl->run, .index = (uint32_t)i, .peer = p, .dir = pl->dir };
	uint8_t *ip = frame + WG_ETH_HLEN, *msg = frame + WG_GEN_OUTER_LEN;

	if (len > cap || counter >= WG_REJECT_AFTER_MESSAGES || s->key == NULL)
		return 0;
	memcpy(frame, flows[p].outer, WG_GEN_OUTER_LEN);
	put16(ip + 2, (uint16_t)(len - WG_ETH_HLEN));
	put16(ip + 4, (uint16_t)i);
	put16(ip + 10, wg_csum_ipv4_header(ip, WG_IPV4_HLEN));
	put16(ip + WG_IPV4_HLEN + 4, (uint16_t)(8 + msg_len));
	wg_put_le32(msg, WG_MSG_DATA);
	wg_put_le32(msg + 4, s->remote_index);
	wg_put_le64(msg + 8, counter);
	if (wg_gen_build_inner(msg + WG_MSG_DATA_HEADER_LEN, padded, size, &flows[p], &m) == 0)
		return 0;
	memset(msg + WG_MSG_DATA_HEADER_LEN + size, 0, padded - size);
	*op = (struct wg_aead_op){ .key = s->key, .buf = msg + WG_MSG_DATA_HEADER_LEN,
				   .len = padded };
	wg_aead_nonce(op->nonce, counter);
	return len;
}

size_t wg_gen_layout_plain(uint8_t *frame, size_t cap, const struct wg_gen_plan *pl,
			   const struct wg_gen_flow *flows, uint64_t i)
{
	unsigned p = (unsigned)(i % pl->n_peers);
	uint16_t size = size_of(pl, i);
	size_t len = wg_gen_plain_frame_len(pl, i);
	struct wg_gen_mark m = { .run = pl->run, .index = (uint32_t)i, .peer = p, .dir = pl->dir };

	if (len > cap)
		return 0;
	memcpy(frame, flows[p].outer, WG_ETH_HLEN);
	if (wg_gen_build_inner(frame + WG_ETH_HLEN, cap - WG_ETH_HLEN, size, &flows[p], &m) == 0)
		return 0;
	if ((size_t)WG_ETH_HLEN + size < len)
		memset(frame + WG_ETH_HLEN + size, 0, len - WG_ETH_HLEN - size);
	return len;
}

uint64_t wg_gen_fill_data(struct wg_aead *a, uint8_t *const *frames, size_t cap,
			  uint16_t *lens, const struct wg_gen_plan *pl,
			  const struct wg_gen_flow *flows, const struct wg_gen_session *sess,
			  uint64_t from, uint64_t to)
{
	struct wg_aead_op ops[WG_AEAD_CHUNK];
	uint64_t done = from;

	while (done < to) {
		unsigned n = 0, ok;

		while (n < WG_AEAD_CHUNK && done + n < to) {
			size_t len = wg_gen_layout_data(frames[done + n - from], cap, pl, flows, sess,
							done + n, &ops[n]);

			if (len == 0)
				break;
			lens[done + n - from] = (uint16_t)len;
			n++;
		}
		ok = n ? wg_aead_encrypt_burst(a, ops, n) : 0;
		done += ok;
		if (ok < WG_AEAD_CHUNK && done < to)
			break;
	}
	return done - from;
}

/* A small deterministic shuffle (xorshift), so that every run offers the same IMIX order. */
unsigned wg_gen_imix(uint16_t *sizes, unsigned n, uint32_t seed)
{
	uint32_t x = seed ? seed : 0x9e3779b9u;

	if (n == 0 || n % 12 || n > WG_GEN_MAX_SIZES)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = i % 12;

		sizes[i] = k < 7 ? 64 : k < 11 ? 576 : 1420;
	}
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j;
		uint16_t t;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		j = x % (i + 1);
		t = sizes[i];
		sizes[i] = sizes[j];
		sizes[j] = t;
	}
	return n;
}

static unsigned bucket_of(uint64_t ns)
{
	unsigned lg, sub;

	if (ns < 8)
		return (unsigned)ns;
	lg = 63u - (unsigned)__builtin_clzll(ns);      /* >= 3 */
	sub = (unsigned)(ns >> (lg - 3)) & 7u;
	lg = lg > 40 ? 40 : lg;
	return (lg - 2) * 8 + sub;
}

static uint64_t bucket_top(unsigned b)
{
	unsigned lg = b / 8 + 2, sub = b % 8;

	if (b < 8)
		return b;
	return ((8ull + sub + 1) << (lg - 3)) - 1;
}

void wg_gen_hist_add(struct wg_gen_hist *h, uint64_t ns)
{
	unsigned b = bucket_of(ns);

	h->bucket[b < WG_GEN_HIST_BUCKETS ? b : WG_GEN_HIST_BUCKETS - 1]++;
	if (h->n == 0 || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->n++;
	h->sum_ns += ns;
}

void wg_gen_hist_merge(struct wg_gen_hist *into, const struct wg_gen_hist *h)
{
	if (h->n == 0)
		return;
	if (into->n == 0 || h->min_ns < into->min_ns)
		into->min_ns = h->min_ns;
	if (h->max_ns > into->max_ns)
		into->max_ns = h->max_ns;
	into->n += h->n;
	into->sum_ns += h->sum_ns;
	for (unsigned b = 0; b < WG_GEN_HIST_BUCKETS; b++)
		into->bucket[b] += h->bucket[b];
}

uint64_t wg_gen_hist_quantile(const struct wg_gen_hist *h, double q)
{
	uint64_t want, seen = 0;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n + 0.5);
	if (want < 1)
		want = 1;
	for (unsigned b = 0; b < WG_GEN_HIST_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= want) {
			uint64_t top = bucket_top(b);

			return top < h->max_ns ? top : h->max_ns;
		}
	}
	return h->max_ns;
}
