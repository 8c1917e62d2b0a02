/* SPDX-License-Identifier: MIT */
/*
 * wg_flood: what an attacker on the gateway's segment sends, for the end-to-end tests of
 * robustness. Raw frames on an interface (AF_PACKET), as fast as the kernel takes them
 * (or at --rate), for --duration seconds:
 *
 *   --mode flood   handshake initiations with a valid mac1 for the gateway's public key
 *                  (anyone who knows the key can make them) from spoofed sources all over
 *                  100.64.0.0/10, each of random content, so every one would cost the
 *                  gateway a Diffie-Hellman if it did not defend itself;
 *   --mode junk    malformed and unwanted frames of every kind the gateway must drop
 *                  under a counter (see junk_kinds[]), to the WAN (--side wan) or the LAN
 *                  (--side lan) port.
 *
 * At the end it prints what it sent, one line "sent N" and for junk one line per kind,
 * and writes the same to --report FILE if given.
 *
 *   wg_flood --iface IF --dst-mac MAC --dst-ip IP [--dst-port 51820] [--key BASE64]
 *            [--mode flood|junk] [--side wan|lan] [--duration S] [--rate PPS]
 *            [--src-ip IP] [--report FILE]
 *
 * Sources are spoofed all over 100.64.0.0/10 unless --src-ip gives one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_packet.h>

#include "wg_cookie.h"
#include "wg_crypto.h"
#include "wg_pkt.h"
#include "wg_wire.h"

#define BATCH 64
#define MAX_FRAME 1600

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct opts {
	const char *iface, *report, *mode, *side;
	uint8_t dst_mac[6], src_mac[6];
	uint8_t dst_ip[4], src_ip[4];
	bool have_src;
	uint16_t dst_port;
	uint8_t key[WG_KEY_LEN];
	bool have_key;
	double duration;
	uint64_t rate;
};

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- frames ---- */

struct frame {
	uint8_t b[MAX_FRAME];
	size_t len;
};

static size_t eth(uint8_t *f, const struct opts *o, uint16_t type)
{
	memcpy(f, o->dst_mac, 6);
	memcpy(f + 6, o->src_mac, 6);
	put16(f + 12, type);
	return 14;
}

/* IPv4 + UDP around payload; src random in 100.64.0.0/10 unless given. */
static size_t udp4(uint8_t *f, const struct opts *o, const uint8_t *src, uint16_t sport,
		   uint16_t dport, const void *payload, size_t plen, uint8_t ttl)
{
	uint8_t *ip = f + eth(f, o, 0x0800), *udp = ip + 20;
	uint32_t s;

	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(28 + plen));
	put16(ip + 4, (uint16_t)rnd());
	ip[8] = ttl;
	ip[9] = 17;
	if (src) {
		memcpy(ip + 12, src, 4);
	} else if (o->have_src) {
		memcpy(ip + 12, o->src_ip, 4);
	} else {
		s = htonl(0x64400000u | (uint32_t)(rnd() & 0x003fffff));
		memcpy(ip + 12, &s, 4);
	}
	memcpy(ip + 16, o->dst_ip, 4);
	put16(ip + 10, wg_csum_ipv4_header(ip, 20));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(8 + plen));
	put16(udp + 6, 0);
	memcpy(udp + 8, payload, plen);
	return 14 + 28 + plen;
}

/* Initiations with random content and a mac1 right for the gateway. */
#define N_INITS 512
static struct wg_msg_initiation inits[N_INITS];

static void make_inits(const struct opts *o)
{
	struct wg_cookie_maker maker;

	wg_cookie_maker_init(&maker, o->key);
	for (unsigned i = 0; i < N_INITS; i++) {
		wg_random(&inits[i], sizeof(inits[i]));
		memset(&inits[i].header, 0, sizeof(inits[i].header));
		inits[i].header.type = WG_MSG_INITIATION;
		wg_cookie_add_macs(&maker, &inits[i], sizeof(inits[i]), 1);
	}
}

static void flood_frame(struct frame *fr, const struct opts *o, uint64_t n)
{
	fr->len = udp4(fr->b, o, NULL, (uint16_t)(1024 + rnd() % 60000), o->dst_port,
		       &inits[n % N_INITS], sizeof(inits[0]), 64);
}

/* ---- junk: every kind the gateway must drop, each under a counter ---- */

typedef size_t (*junk_fn)(uint8_t *f, const struct opts *o);

static size_t j_ethertype(uint8_t *f, const struct opts *o)
{
	size_t n = eth(f, o, 0x88b5);   /* local experimental ethertype */

	memset(f + n, 0xab, 46);
	return n + 46;
}

static size_t j_vlan(uint8_t *f, const struct opts *o)
{
	size_t n = eth(f, o, 0x8100);

	memset(f + n, 0, 46);
	return n + 46;
}

static size_t j_ip_version(uint8_t *f, const struct opts *o)
{
	size_t n = eth(f, o, 0x0800);

	memset(f + n, 0, 40);
	f[n] = 0x55;
	return n + 40;
}

static size_t j_ip_checksum(uint8_t *f, const struct opts *o)
{
	uint8_t p[16] = { 1 };
	size_t n = udp4(f, o, NULL, 1234, o->dst_port, p, sizeof(p), 64);

	f[14 + 10] ^= 0x5a;
	return n;
}

static size_t j_ip_truncated(uint8_t *f, const struct opts *o)
{
	uint8_t p[64] = { 1 };
	size_t n = udp4(f, o, NULL, 1234, o->dst_port, p, sizeof(p), 64);

	return n - 40;   /* the IP header says more than is there */
}

static size_t j_ip6_bad_ext(uint8_t *f, const struct opts *o)
{
	size_t n = eth(f, o, 0x86dd);
	uint8_t *ip = f + n;

	memset(ip, 0, 56);
	ip[0] = 0x60;
	put16(ip + 4, 16);
	ip[6] = 0;        /* hop-by-hop ... */
	ip[7] = 64;
	ip[8] = 0xfd;
	ip[24] = 0xfd;
	ip[40] = 0;       /* ... followed by another hop-by-hop: malformed */
	ip[41] = 0;
	return n + 56;
}

static size_t j_wg_short(uint8_t *f, const struct opts *o)
{
	uint8_t p[3] = { 1, 0, 0 };

	return udp4(f, o, NULL, 2000, o->dst_port, p, sizeof(p), 64);
}

static size_t j_wg_type(uint8_t *f, const struct opts *o)
{
	uint8_t p[64] = { 0 };

	p[0] = (uint8_t)(5 + rnd() % 250);
	return udp4(f, o, NULL, 2001, o->dst_port, p, sizeof(p), 64);
}

static size_t j_wg_length(uint8_t *f, const struct opts *o)
{
	uint8_t p[100] = { 1 };   /* an "initiation" of 100 bytes */

	return udp4(f, o, NULL, 2002, o->dst_port, p, sizeof(p), 64);
}

static size_t j_wg_mac1(uint8_t *f, const struct opts *o)
{
	struct wg_msg_initiation m;

	wg_random(&m, sizeof(m));
	memset(&m.header, 0, sizeof(m.header));
	m.header.type = WG_MSG_INITIATION;
	return udp4(f, o, NULL, 2003, o->dst_port, &m, sizeof(m), 64);
}

static size_t j_wg_index(uint8_t *f, const struct opts *o)
{
	uint8_t p[80];

	wg_random(p, sizeof(p));
	p[0] = WG_MSG_DATA;
	p[1] = p[2] = p[3] = 0;
	return udp4(f, o, NULL, 2004, o->dst_port, p, sizeof(p), 64);
}

static size_t j_wg_data_short(uint8_t *f, const struct opts *o)
{
	uint8_t p[20] = { WG_MSG_DATA };

	return udp4(f, o, NULL, 2005, o->dst_port, p, sizeof(p), 64);
}

static size_t j_udp_other_port(uint8_t *f, const struct opts *o)
{
	uint8_t p[32] = { 0 };

	return udp4(f, o, NULL, 2006, (uint16_t)(o->dst_port + 1), p, sizeof(p), 64);
}

static size_t j_not_for_us(uint8_t *f, const struct opts *o)
{
	struct opts other = *o;
	uint8_t p[32] = { 0 };

	other.dst_ip[3] ^= 0x80;   /* another host on the segment */
	return udp4(f, &other, NULL, 2007, 9, p, sizeof(p), 64);
}

static size_t j_arp_other(uint8_t *f, const struct opts *o)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t tpa[4], spa[4] = { 100, 64, 0, 1 };
	size_t n;

	memcpy(tpa, o->dst_ip, 4);
	tpa[3] ^= 0x40;
	n = wg_pkt_build_arp_request(f, MAX_FRAME, o->src_mac, spa, tpa);
	memcpy(f, bcast, 6);
	return n;
}

/* From the LAN host (--src-ip), to a tunnel-range address no peer has: the gateway
 * answers some with ICMP unreachable (rate-limited) and counts every one. */
static size_t j_lan_no_peer(uint8_t *f, const struct opts *o)
{
	struct opts to = *o;
	uint8_t p[32] = { 0 };

	to.dst_ip[0] = 10;
	to.dst_ip[1] = 250;
	to.dst_ip[2] = (uint8_t)rnd();
	to.dst_ip[3] = (uint8_t)rnd();
	return udp4(f, &to, NULL, 3000, 9, p, sizeof(p), 64);
}

static size_t j_lan_multicast(uint8_t *f, const struct opts *o)
{
	struct opts to = *o;
	uint8_t p[32] = { 0 };

	to.dst_ip[0] = 239;
	to.dst_ip[1] = 1;
	to.dst_ip[2] = 2;
	to.dst_ip[3] = 3;
	return udp4(f, &to, NULL, 3001, 9, p, sizeof(p), 64);
}

struct junk_kind {
	const char *name;
	junk_fn fn;
	const char *side;   /* "wan", "lan" or "both" */
};

static const struct junk_kind junk_kinds[] = {
	{ "unknown-ethertype", j_ethertype, "both" },
	{ "vlan-tagged", j_vlan, "both" },
	{ "ip-version", j_ip_version, "both" },
	{ "ip-checksum", j_ip_checksum, "both" },
	{ "ip-truncated", j_ip_truncated, "both" },
	{ "ipv6-bad-extension", j_ip6_bad_ext, "both" },
	{ "arp-for-another-host", j_arp_other, "both" },
	{ "wg-short", j_wg_short, "wan" },
	{ "wg-unknown-type", j_wg_type, "wan" },
	{ "wg-handshake-length", j_wg_length, "wan" },
	{ "wg-bad-mac1", j_wg_mac1, "wan" },
	{ "wg-unknown-index", j_wg_index, "wan" },
	{ "wg-data-short", j_wg_data_short, "wan" },
	{ "udp-other-port", j_udp_other_port, "wan" },
	{ "not-for-the-gateway", j_not_for_us, "wan" },
	{ "lan-no-peer", j_lan_no_peer, "lan" },
	{ "lan-multicast", j_lan_multicast, "lan" },
};
#define N_JUNK (sizeof(junk_kinds) / sizeof(junk_kinds[0]))

/* ---- options ---- */

static int parse_mac(uint8_t mac[6], const char *s)
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' }, { "dst-mac", required_argument, NULL, 'm' },
		{ "dst-ip", required_argument, NULL, 'a' }, { "dst-port", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' }, { "mode", required_argument, NULL, 'M' },
		{ "side", required_argument, NULL, 's' }, { "duration", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' }, { "report", required_argument, NULL, 'o' },
		{ "src-ip", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->dst_port = 51820;
	o->duration = 10;
	o->mode = "flood";
	o->side = "wan";
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->iface = optarg; break;
		case 'm': if (parse_mac(o->dst_mac, optarg)) return -1; break;
		case 'a': if (inet_pton(AF_INET, optarg, o->dst_ip) != 1) return -1; break;
		case 'p': o->dst_port = (uint16_t)atoi(optarg); break;
		case 'k':
			if (wg_key_from_base64(o->key, optarg, strlen(optarg)) != 0)
				return -1;
			o->have_key = true;
			break;
		case 'M': o->mode = optarg; break;
		case 's': o->side = optarg; break;
		case 'd': o->duration = atof(optarg); break;
		case 'r': o->rate = strtoull(optarg, NULL, 10); break;
		case 'o': o->report = optarg; break;
		case 'S':
			if (inet_pton(AF_INET, optarg, o->src_ip) != 1)
				return -1;
			o->have_src = true;
			break;
		default: return -1;
		}
	}
	if (!o->iface || (strcmp(o->mode, "flood") == 0 && !o->have_key) ||
	    (strcmp(o->mode, "flood") != 0 && strcmp(o->mode, "junk") != 0))
		return -1;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static struct frame frames[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll sa = { .sll_family = AF_PACKET };
	uint64_t sent = 0, per_kind[N_JUNK] = { 0 }, errors = 0;
	unsigned kinds[N_JUNK], n_kinds = 0, which[BATCH];
	struct opts o;
	double t0, end;
	int fd, one = 1;
	bool junk;

	if (parse_args(&o, argc, argv) != 0) {
		fprintf(stderr, "usage: wg_flood --iface IF --dst-mac MAC --dst-ip IPV4 [--dst-port P]"
			" [--key BASE64] [--mode flood|junk] [--side wan|lan] [--duration S]"
			" [--rate PPS] [--src-ip IP] [--report FILE]\n");
		return 2;
	}
	if (wg_crypto_init() != 0)
		return 1;
	junk = strcmp(o.mode, "junk") == 0;
	for (unsigned k = 0; k < N_JUNK; k++)
		if (strcmp(junk_kinds[k].side, "both") == 0 || strcmp(junk_kinds[k].side, o.side) == 0)
			kinds[n_kinds++] = k;
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("wg_flood: socket");
		return 1;
	}
	sa.sll_ifindex = (int)if_nametoindex(o.iface);
	sa.sll_halen = 6;
	if (sa.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("wg_flood: bind");
		return 1;
	}
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	{
		/* Our own MAC, so that replies come back to this port of the switch only. */
		struct sockaddr_ll me;
		socklen_t len = sizeof(me);

		if (getsockname(fd, (struct sockaddr *)&me, &len) == 0)
			memcpy(o.src_mac, me.sll_addr, 6);
	}
	if (!junk)
		make_inits(&o);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now_s();
	end = t0 + o.duration;
	while (!stop) {
		double t = now_s();
		int n;

		if (t >= end)
			break;
		if (o.rate && (double)sent > (t - t0) * (double)o.rate) {
			usleep(200);
			continue;
		}
		for (unsigned i = 0; i < BATCH; i++) {
			if (junk) {
				which[i] = kinds[(sent + i) % n_kinds];
				frames[i].len = junk_kinds[which[i]].fn(frames[i].b, &o);
			} else {
				flood_frame(&frames[i], &o, sent + i);
			}
			iov[i] = (struct iovec){ frames[i].b, frames[i].len };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		n = sendmmsg(fd, msgs, BATCH, 0);
		if (n < 0) {
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
				perror("wg_flood: sendmmsg");
				break;
			}
			errors++;
			continue;
		}
		for (int i = 0; junk && i < n; i++)
			per_kind[which[i]]++;
		sent += (uint64_t)n;
	}
	{
		FILE *out[2] = { stdout, o.report ? fopen(o.report, "w") : NULL };
		double secs = now_s() - t0;

		for (int f = 0; f < 2; f++) {
			if (out[f] == NULL)
				continue;
			fprintf(out[f], "sent %llu\nseconds %.2f\nrate %.0f\nerrors %llu\n",
				(unsigned long long)sent, secs, (double)sent / secs,
				(unsigned long long)errors);
			for (unsigned k = 0; junk && k < n_kinds; k++)
				fprintf(out[f], "kind %s %llu\n", junk_kinds[kinds[k]].name,
					(unsigned long long)per_kind[kinds[k]]);
			if (f == 1)
				fclose(out[f]);
		}
	}
	close(fd);
	return 0;
}
