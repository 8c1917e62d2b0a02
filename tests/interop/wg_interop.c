/* SPDX-License-Identifier: MIT */
/*
 * Protocol-level interoperability check: this program uses only the protocol core and one
 * plain UDP socket to complete a handshake with a real WireGuard peer (wireguard-go,
 * configured by `wg`, in a network namespace), send an ICMP echo request inside a data
 * message, and decrypt the echo reply that comes back. As initiator it starts the handshake;
 * as responder it waits for the peer's initiation and also answers the peer's own pings.
 *
 *   wg_interop --mode initiator|responder --private-key B64 --peer-public-key B64
 *              --listen-port N [--endpoint IPV4:PORT] [--psk B64]
 *              --tunnel-local A.B.C.D --tunnel-remote A.B.C.D [--timeout SEC]
 *
 * Exit 0 when an echo reply from tunnel-remote has been decrypted and checked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wg_aead.h"
#include "wg_crypto.h"
#include "wg_noise.h"
#include "wg_timers.h"

#define MAX_PKT 2048
#define ECHO_ID 0x7767
#define ECHO_LEN 64   /* ICMP header + payload */

struct opts {
	const char *mode, *priv, *peer_pub, *psk, *endpoint;
	const char *tunnel_local, *tunnel_remote;
	int listen_port, timeout;
};

/* The whole "owner" of the protocol core: one peer, one handshake index. */
struct interop {
	struct wg_noise_device dev;
	struct wg_noise_peer peer;
	struct wg_keypair keypairs[4];
	struct wg_aead *aead;
	uint32_t hs_index;
	int fd;
	struct sockaddr_in endpoint;
	int have_endpoint;
	struct in_addr tun_local, tun_remote;
	unsigned echo_seq, replies;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint32_t cb_index_new(void *ctx, struct wg_noise_peer *peer)
{
	struct interop *io = ctx;

	(void)peer;
	io->hs_index = wg_random_u32();
	return io->hs_index;
}

static void cb_index_drop(void *ctx, uint32_t index)
{
	(void)ctx;
	(void)index;
}

static struct wg_noise_peer *cb_peer_by_key(void *ctx, const uint8_t key[WG_KEY_LEN])
{
	struct interop *io = ctx;

	return memcmp(key, io->peer.remote_static, WG_KEY_LEN) == 0 ? &io->peer : NULL;
}

static struct wg_noise_peer *cb_peer_by_index(void *ctx, uint32_t index)
{
	struct interop *io = ctx;

	return index == io->hs_index ? &io->peer : NULL;
}

static const struct wg_noise_callbacks callbacks = {
	.index_new = cb_index_new,
	.index_drop = cb_index_drop,
	.peer_by_key = cb_peer_by_key,
	.peer_by_index = cb_peer_by_index,
};

static uint16_t checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4 ICMP echo (type 8 request, 0 reply) of ECHO_LEN bytes of ICMP; returns its length. */
static size_t build_echo(uint8_t *pkt, struct in_addr src, struct in_addr dst, uint8_t type,
			 uint16_t id, uint16_t seq, const uint8_t *payload, size_t plen)
{
	size_t icmp_len = 8 + plen, len = 20 + icmp_len;
	uint16_t c;

	memset(pkt, 0, len);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	pkt[8] = 64;
	pkt[9] = 1;  /* ICMP */
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &dst, 4);
	c = checksum(pkt, 20);
	pkt[10] = (uint8_t)(c >> 8);
	pkt[11] = (uint8_t)c;
	pkt[20] = type;
	pkt[24] = (uint8_t)(id >> 8);
	pkt[25] = (uint8_t)id;
	pkt[26] = (uint8_t)(seq >> 8);
	pkt[27] = (uint8_t)seq;
	memcpy(pkt + 28, payload, plen);
	c = checksum(pkt + 20, icmp_len);
	pkt[22] = (uint8_t)(c >> 8);
	pkt[23] = (uint8_t)c;
	return len;
}

static void send_raw(struct interop *io, const void *buf, size_t len)
{
	if (sendto(io->fd, buf, len, 0, (const struct sockaddr *)&io->endpoint,
		   sizeof(io->endpoint)) < 0)
		perror("sendto");
}

/* Encrypt an inner packet (or a keepalive when len is 0) on the current keypair. */
static int send_data(struct interop *io, const uint8_t *inner, size_t len)
{
	struct wg_keypair *kp = io->peer.keypairs.current;
	uint8_t msg[MAX_PKT];
	struct wg_msg_data *d = (struct wg_msg_data *)msg;
	size_t padded = (len + WG_DATA_PADDING - 1) / WG_DATA_PADDING * WG_DATA_PADDING;
	uint64_t counter;
	struct wg_aead_op op;

	if (kp == NULL || WG_MSG_DATA_HEADER_LEN + padded + WG_AEAD_TAG_LEN > sizeof(msg))
		return -1;
	counter = atomic_fetch_add(&kp->send_counter, 1);
	memset(msg, 0, sizeof(msg));
	d->header.type = WG_MSG_DATA;
	wg_put_le32(d->receiver_index, kp->remote_index);
	wg_put_le64(d->counter, counter);
	memcpy(d->encrypted_packet, inner, len);
	op = (struct wg_aead_op){ .key = kp->send_key, .buf = d->encrypted_packet,
				  .len = (uint32_t)padded };
	wg_aead_nonce(op.nonce, counter);
	if (wg_aead_encrypt_burst(io->aead, &op, 1) != 1)
		return -1;
	send_raw(io, msg, WG_MSG_DATA_HEADER_LEN + padded + WG_AEAD_TAG_LEN);
	return 0;
}

static int send_echo_request(struct interop *io)
{
	uint8_t pkt[128], payload[ECHO_LEN - 8];

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)('a' + i % 26);
	io->echo_seq++;
	build_echo(pkt, io->tun_local, io->tun_remote, 8, ECHO_ID, (uint16_t)io->echo_seq,
		   payload, sizeof(payload));
	printf("interop: sending echo request seq %u in a data message\n", io->echo_seq);
	return send_data(io, pkt, 20 + ECHO_LEN);
}

/* An inner IPv4 packet arrived: count our echo replies, answer the peer's echo requests. */
static void handle_inner(struct interop *io, const uint8_t *pkt, size_t len)
{
	size_t tot, icmp_len;
	uint8_t reply[MAX_PKT];

	if (len < 28 || (pkt[0] >> 4) != 4 || pkt[9] != 1)
		return;
	tot = (size_t)pkt[2] << 8 | pkt[3];
	if (tot < 28 || tot > len || checksum(pkt + 20, tot - 20) != 0)
		return;
	icmp_len = tot - 20;
	if (pkt[20] == 0 && memcmp(pkt + 12, &io->tun_remote, 4) == 0 &&
	    (pkt[24] << 8 | pkt[25]) == ECHO_ID && (pkt[26] << 8 | pkt[27]) == (int)io->echo_seq) {
		printf("interop: decrypted echo reply seq %u from %s\n", io->echo_seq,
		       inet_ntoa(io->tun_remote));
		io->replies++;
	} else if (pkt[20] == 8 && memcmp(pkt + 16, &io->tun_local, 4) == 0) {
		struct in_addr src;

		memcpy(&src, pkt + 12, 4);
		build_echo(reply, io->tun_local, src, 0, (uint16_t)(pkt[24] << 8 | pkt[25]),
			   (uint16_t)(pkt[26] << 8 | pkt[27]), pkt + 28, icmp_len - 8);
		send_data(io, reply, tot);
	}
}

static struct wg_keypair *keypair_by_index(struct interop *io, uint32_t index)
{
	struct wg_keypair_slots *s = &io->peer.keypairs;
	struct wg_keypair *all[3] = { s->next, s->current, s->previous };

	for (int i = 0; i < 3; i++)
		if (all[i] && all[i]->local_index == index)
			return all[i];
	return NULL;
}

static void retire(struct wg_keypair **retired, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		wg_keypair_wipe(retired[i]);
		retired[i]->peer = NULL;  /* free slot again */
	}
}

static struct wg_keypair *free_keypair(struct interop *io)
{
	for (int i = 0; i < 4; i++)
		if (io->keypairs[i].peer == NULL)
			return &io->keypairs[i];
	return NULL;
}

static void handle_data(struct interop *io, uint8_t *msg, size_t len)
{
	struct wg_msg_data *d = (struct wg_msg_data *)msg;
	struct wg_keypair *kp, *retired[3];
	struct wg_aead_op op;
	uint64_t counter;

	if (len < WG_MSG_DATA_MIN_LEN)
		return;
	kp = keypair_by_index(io, wg_get_le32(d->receiver_index));
	counter = wg_get_le64(d->counter);
	if (kp == NULL || !wg_replay_check(&kp->replay, counter)) {
		printf("interop: data message dropped (unknown index or replay)\n");
		return;
	}
	op = (struct wg_aead_op){ .key = kp->recv_key, .buf = d->encrypted_packet,
				  .len = (uint32_t)(len - WG_MSG_DATA_MIN_LEN) };
	wg_aead_nonce(op.nonce, counter);
	if (wg_aead_decrypt_burst(io->aead, &op, 1) != 1 ||
	    !wg_replay_update(&kp->replay, counter)) {
		printf("interop: data message failed authentication\n");
		return;
	}
	retire(retired, wg_keypairs_received(&io->peer.keypairs, kp, retired));
	if (op.len == 0)
		printf("interop: keepalive received\n");
	else
		handle_inner(io, d->encrypted_packet, op.len);
}

static void learn_endpoint(struct interop *io, const struct sockaddr_in *from)
{
	io->endpoint = *from;
	io->have_endpoint = 1;
}

static void handle_initiation(struct interop *io, const uint8_t *msg, size_t len,
			      const struct sockaddr_in *from)
{
	struct wg_noise_peer *peer;
	struct wg_msg_response resp;
	struct wg_keypair *kp, *retired[3];
	enum wg_result r = wg_noise_consume_initiation(&io->dev, msg, len, now_ns(), &peer);

	if (r != WG_OK) {
		printf("interop: initiation refused: %s\n", wg_result_str(r));
		return;
	}
	kp = free_keypair(io);
	if (kp == NULL || wg_noise_create_response(&io->dev, peer, &resp, now_ns()) != WG_OK ||
	    wg_noise_begin_session(peer, kp, now_ns()) != WG_OK) {
		printf("interop: could not answer the initiation\n");
		return;
	}
	retire(retired, wg_keypairs_add(&peer->keypairs, kp, retired));
	learn_endpoint(io, from);
	send_raw(io, &resp, sizeof(resp));
	printf("interop: initiation consumed, response sent (local index %08x)\n",
	       kp->local_index);
}

static void handle_response(struct interop *io, const uint8_t *msg, size_t len)
{
	struct wg_noise_peer *peer;
	struct wg_keypair *kp, *retired[3];
	enum wg_result r = wg_noise_consume_response(&io->dev, msg, len, &peer);

	if (r != WG_OK) {
		printf("interop: response refused: %s\n", wg_result_str(r));
		return;
	}
	kp = free_keypair(io);
	if (kp == NULL || wg_noise_begin_session(peer, kp, now_ns()) != WG_OK)
		return;
	retire(retired, wg_keypairs_add(&peer->keypairs, kp, retired));
	printf("interop: response consumed, session established\n");
	send_echo_request(io);
}

static void send_initiation(struct interop *io)
{
	struct wg_msg_initiation init;
	uint8_t ts[WG_TIMESTAMP_LEN];

	wg_tai64n_now(ts);
	if (wg_noise_create_initiation(&io->dev, &io->peer, &init, ts, now_ns()) != WG_OK) {
		printf("interop: cannot create initiation\n");
		return;
	}
	send_raw(io, &init, sizeof(init));
	printf("interop: initiation sent\n");
}

static void handle_message(struct interop *io, uint8_t *buf, size_t len,
			   const struct sockaddr_in *from)
{
	switch (wg_msg_type(buf, len)) {
	case WG_MSG_INITIATION:
		handle_initiation(io, buf, len, from);
		break;
	case WG_MSG_RESPONSE:
		handle_response(io, buf, len);
		break;
	case WG_MSG_DATA: {
		int was_confirmed = io->peer.keypairs.next == NULL;

		handle_data(io, buf, len);
		/* A responder may send once the initiator has used the new keypair. */
		if (!was_confirmed && io->peer.keypairs.next == NULL && io->echo_seq == 0)
			send_echo_request(io);
		break;
	}
	default:
		printf("interop: ignoring message of type %u, %zu bytes\n",
		       wg_msg_type(buf, len), len);
	}
}

static int parse_endpoint(struct sockaddr_in *sa, const char *s)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "private-key", required_argument, NULL, 'k' },
		{ "peer-public-key", required_argument, NULL, 'p' },
		{ "psk", required_argument, NULL, 's' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "listen-port", required_argument, NULL, 'l' },
		{ "tunnel-local", required_argument, NULL, 'a' },
		{ "tunnel-remote", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout = 15;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o->mode = optarg; break;
		case 'k': o->priv = optarg; break;
		case 'p': o->peer_pub = optarg; break;
		case 's': o->psk = optarg; break;
		case 'e': o->endpoint = optarg; break;
		case 'l': o->listen_port = atoi(optarg); break;
		case 'a': o->tunnel_local = optarg; break;
		case 'b': o->tunnel_remote = optarg; break;
		case 't': o->timeout = atoi(optarg); break;
		default: return -1;
		}
	}
	if (!o->mode || !o->priv || !o->peer_pub || !o->tunnel_local || !o->tunnel_remote ||
	    o->listen_port <= 0)
		return -1;
	return 0;
}

static int setup(struct interop *io, const struct opts *o)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN], psk[WG_KEY_LEN];
	struct sockaddr_in local = { .sin_family = AF_INET };

	if (wg_key_from_base64(priv, o->priv, strlen(o->priv)) ||
	    wg_key_from_base64(pub, o->peer_pub, strlen(o->peer_pub)) ||
	    (o->psk && wg_key_from_base64(psk, o->psk, strlen(o->psk)))) {
		fprintf(stderr, "interop: bad key\n");
		return -1;
	}
	if (inet_pton(AF_INET, o->tunnel_local, &io->tun_local) != 1 ||
	    inet_pton(AF_INET, o->tunnel_remote, &io->tun_remote) != 1)
		return -1;
	if (o->endpoint) {
		if (parse_endpoint(&io->endpoint, o->endpoint))
			return -1;
		io->have_endpoint = 1;
	}
	io->aead = wg_aead_create();
	if (io->aead == NULL || wg_noise_device_init(&io->dev, priv, &callbacks, io) ||
	    wg_noise_peer_init(&io->dev, &io->peer, pub, o->psk ? psk : NULL, NULL) != WG_OK)
		return -1;
	wg_wipe(priv, sizeof(priv));
	io->fd = socket(AF_INET, SOCK_DGRAM, 0);
	local.sin_port = htons((uint16_t)o->listen_port);
	if (io->fd < 0 || bind(io->fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		perror("interop: socket");
		return -1;
	}
	printf("interop: %s on UDP port %d, AEAD implementation %s\n", o->mode, o->listen_port,
	       wg_aead_arch(io->aead));
	return 0;
}

static int run(struct interop *io, int initiator, int timeout_s)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_s * WG_NSEC_PER_SEC;
	uint64_t last_init = 0, last_echo = 0;
	uint8_t buf[MAX_PKT];

	while (io->replies == 0 && now_ns() < deadline) {
		struct pollfd pfd = { .fd = io->fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fromlen = sizeof(from);
		ssize_t n;

		/* Retry faster than REKEY_TIMEOUT: a test should not wait 5 s for a lost packet. */
		if (initiator && io->peer.keypairs.current == NULL &&
		    now_ns() - last_init > WG_NSEC_PER_SEC) {
			send_initiation(io);
			last_init = now_ns();
		}
		if (io->peer.keypairs.current && io->echo_seq &&
		    now_ns() - last_echo > WG_NSEC_PER_SEC) {
			if (last_echo)
				send_echo_request(io);
			last_echo = now_ns();
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recvfrom(io->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		if (n > 0)
			handle_message(io, buf, (size_t)n, &from);
	}
	return io->replies ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct opts o;
	static struct interop io;
	int initiator, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_opts(&o, argc, argv)) {
		fprintf(stderr, "usage: see the comment at the top of wg_interop.c\n");
		return 2;
	}
	initiator = strcmp(o.mode, "initiator") == 0;
	if ((!initiator && strcmp(o.mode, "responder")) || (initiator && !o.endpoint)) {
		fprintf(stderr, "interop: --mode initiator needs --endpoint\n");
		return 2;
	}
	if (wg_crypto_init())
		return 2;
	wg_noise_init();
	if (setup(&io, &o))
		return 2;
	rc = run(&io, initiator, o.timeout);
	printf("interop: %s\n", rc == 0 ? "PASS: echo reply decrypted" : "FAIL: no echo reply");
	for (int i = 0; i < 4; i++)
		wg_keypair_wipe(&io.keypairs[i]);
	wg_noise_device_wipe(&io.dev);
	wg_aead_free(io.aead);
	close(io.fd);
	return rc;
}
