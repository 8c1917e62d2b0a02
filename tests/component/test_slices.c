/* SPDX-License-Identifier: MIT */
/*
 * Long requests in slices (lib/gw/ctl/slice.c), in one process (lib/sim), the demo's layout
 * (one lcore for the worker and the control loop):
 *
 *   served    while a set of 20,000 peers is parsed and applied, the data that was
 *             waiting is forwarded and a configured client's initiation is answered, all
 *             before the request returns (the worker and the handshakes ran in its pauses);
 *   setconf   a replace_peers request in slices removes every peer it does not name and
 *             leaves those it names with their session and their allowed IPs;
 *   sockets   over the real `wg` socket, a client listing the peers again and again while
 *             another sets 20,000 of them never sees some of them: 2 peers, or all;
 *   memory    a configured peer takes at most 1 KiB of DPDK heap beside its allowed IPs,
 *             with four workers' counters for it (the growth from 10,000 to 30,000 peers
 *             with the allowed-IPs tables the same size: their next hops are 2 bytes
 *             below 32,767 peers, 4 above).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "check.h"
#include "gw_internal.h"
#include "wg_crypto.h"
#include "wg_sim.h"
#include "wg_wire.h"

#define MANY     20000
#define WAITING  200         /* data frames queued before the request */

static char *fmt_ip(char out[WG_ADDR_STRLEN], const struct wg_ip *ip)
{
	wg_ip_format(out, ip);
	return out;
}

/* A set body: `many` new peers (random keys, a /32 and a /128 each, away from the
 * clients' addresses), after `head`. */
static char *many_peers(const char *head, unsigned many)
{
	size_t cap = strlen(head) + (size_t)many * 160 + 1, at;
	char *b = malloc(cap);

	if (b == NULL)
		return NULL;
	at = (size_t)snprintf(b, cap, "%s", head);
	for (unsigned i = 0; i < many; i++) {
		uint8_t key[WG_KEY_LEN];
		char hex[WG_KEY_HEX_LEN + 1];

		wg_random(key, sizeof(key));
		wg_key_to_hex(hex, key);
		at += (size_t)snprintf(b + at, cap - at,
				       "public_key=%s\nallowed_ip=10.150.%u.%u/32\n"
				       "allowed_ip=fd00:150::%x/128\n", hex, (i + 1) >> 8,
				       (i + 1) & 255, i + 1);
	}
	return b;
}

/* A client's own peer lines (its key and tunnel addresses), as a setconf names it. */
static size_t client_lines(char *out, size_t cap, struct wg_sim *s, unsigned k)
{
	uint8_t key[WG_KEY_LEN];
	char hex[WG_KEY_HEX_LEN + 1], a4[WG_ADDR_STRLEN], a6[WG_ADDR_STRLEN];
	struct wg_ip ip4 = wg_sim_client_tunnel_ip(k, WG_AF_INET);
	struct wg_ip ip6 = wg_sim_client_tunnel_ip(k, WG_AF_INET6);

	wg_sim_client_public_key(s, k, key);
	wg_key_to_hex(hex, key);
	return (size_t)snprintf(out, cap, "public_key=%s\nallowed_ip=%s/32\nallowed_ip=%s/128\n",
				hex, fmt_ip(a4, &ip4), fmt_ip(a6, &ip6));
}

/* Client k's data to the LAN host: n UDP packets, queued on the WAN port. */
static unsigned queue_data(struct wg_sim *s, unsigned k, unsigned n, uint32_t tag)
{
	unsigned queued = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t ip[128];
		struct wg_sim_pkt p = {
			.src = wg_sim_client_tunnel_ip(k, WG_AF_INET),
			.dst = wg_sim_lan_host_ip(WG_AF_INET),
			.size = 100, .proto = WG_IPPROTO_UDP, .tag = tag + i,
		};
		size_t len = wg_sim_build_pkt(ip, sizeof(ip), &p);
		struct rte_mbuf *m = len ? wg_sim_client_data_frame(s, k, ip, len) : NULL;

		if (m)
			queued += wg_sim_inject(s, WG_SIM_WAN, &m, 1);
	}
	return queued;
}

static unsigned lan_received(struct wg_sim *s)
{
	struct rte_mbuf *out[64];
	unsigned n, got = 0;

	while ((n = wg_sim_collect(s, WG_SIM_LAN, out, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *ip;
			size_t len;

			got += wg_sim_lan_receive(s, out[i], &ip, &len) && len == 100;
		}
		wg_sim_free(out, n);
	}
	return got;
}

static unsigned responses_for(struct wg_sim *s, unsigned k)
{
	struct rte_mbuf *out[64];
	unsigned n, got = 0;

	while ((n = wg_sim_collect(s, WG_SIM_WAN, out, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct wg_sim_rx rx;

			got += wg_sim_client_receive(s, out[i], &rx) == WG_SIM_RX_HANDSHAKE &&
			       rx.type == WG_MSG_RESPONSE && rx.client == k;
		}
		wg_sim_free(out, n);
	}
	return got;
}

static struct wg_sim *make(const char *socket_dir)
{
	struct wg_sim_params p = { .n_clients = 3, .n_configured = 2, .max_peers = MANY + 16,
				   .socket_dir = socket_dir };
	char err[256];
	struct wg_sim *s = wg_sim_create(&p, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "  %s\n", err);
	return s;
}

static void test_served(void)
{
	struct wg_sim *s = make(NULL);
	struct wg_gw *gw;
	struct wg_gw_stats st;
	struct rte_mbuf *init;
	char why[256];
	char *body;

	if (!CHECK(s != NULL))
		return;
	gw = wg_sim_gw(s);
	CHECK_EQ(wg_sim_handshake(s, 0, 1), 1);
	wg_sim_discard(s);
	CHECK_EQ(queue_data(s, 0, WAITING, 1000), WAITING);
	init = wg_sim_client_initiation(s, 1);
	CHECK(init != NULL && wg_sim_inject(s, WG_SIM_WAN, &init, 1) == 1);
	body = many_peers("", MANY);
	if (!CHECK(body != NULL))
		goto out;
	/* A slice of 1 ns: every pause point runs the loop, whatever this machine's speed. */
	CHECK_EQ(wg_sim_uapi_set_sliced(s, body, 1, why, sizeof(why)), 0);
	free(body);
	CHECK_EQ(gw->pace.jobs, 1);
	CHECK(gw->pace.recent[0].slices > 1000);
	CHECK_EQ(gw->pace.recent[0].peers, MANY);
	/* No poll since: what the worker and the control loop did, they did in the pauses. */
	CHECK_EQ(wg_sim_rx_pending(s, WG_SIM_WAN, 0), 0);
	wg_sim_drain(s);
	CHECK_EQ(lan_received(s), WAITING);
	CHECK_EQ(responses_for(s, 1), 1);
	wg_sim_stats(s, &st);
	CHECK_EQ(st.peers, MANY + 2);
	CHECK_EQ(st.drops[WG_DROP_HS_RATELIMIT], 0);
	/* And the tunnel goes on afterwards. */
	CHECK_EQ(queue_data(s, 0, 10, 5000), 10);
	wg_sim_run(s, 10);
	CHECK_EQ(lan_received(s), 10);
out:
	wg_sim_destroy(s);
}

static void test_setconf(void)
{
	struct wg_sim *s = make(NULL);
	struct wg_gw_stats st;
	char head[1024], why[256];
	size_t at;
	char *body;

	if (!CHECK(s != NULL))
		return;
	body = many_peers("", MANY);
	CHECK(body && wg_sim_uapi_set(s, body, why, sizeof(why)) == 0);
	free(body);
	CHECK_EQ(wg_sim_handshake(s, 0, 2), 2);
	wg_sim_discard(s);
	/* setconf naming the two clients only (their lines after the others would do too). */
	at = (size_t)snprintf(head, sizeof(head), "replace_peers=true\n");
	at += client_lines(head + at, sizeof(head) - at, s, 0);
	client_lines(head + at, sizeof(head) - at, s, 1);
	CHECK_EQ(wg_sim_uapi_set_sliced(s, head, 1, why, sizeof(why)), 0);
	wg_sim_stats(s, &st);
	CHECK_EQ(st.peers, 2);
	CHECK_EQ(st.peers_with_session, 2);
	CHECK(wg_sim_gw(s)->pace.recent[0].slices > 100);
	wg_sim_discard(s);
	/* Their sessions and allowed IPs are still there: data from both, no new handshake. */
	CHECK_EQ(queue_data(s, 0, 20, 100), 20);
	CHECK_EQ(queue_data(s, 1, 20, 200), 20);
	wg_sim_run(s, 20);
	CHECK_EQ(lan_received(s), 40);
	wg_sim_stats(s, &st);
	CHECK_EQ(st.drops[WG_DROP_DISALLOWED_SRC], 0);
	/* A peer removed with its session leaves the count (kept, not walked for). */
	at = (size_t)snprintf(head, sizeof(head), "replace_peers=true\n");
	client_lines(head + at, sizeof(head) - at, s, 0);
	CHECK_EQ(wg_sim_uapi_set(s, head, why, sizeof(why)), 0);
	wg_sim_stats(s, &st);
	CHECK_EQ(st.peers, 1);
	CHECK_EQ(st.peers_with_session, 1);
	wg_sim_destroy(s);
}

/* ---- over the socket ---- */

struct sock_test {
	char path[128];
	const char *body;
	volatile int set_done, lister_done;
	int set_errno;
	unsigned lists, odd, counts[4];
};

static int dial(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	int fd;

	if (n >= sizeof(a.sun_path))   /* gcc -O3 -Wformat-truncation: the length checked */
		return -1;
	memcpy(a.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The answer up to its "errno=N\n\n" (malloc'ed), or NULL. */
static char *read_answer(int fd)
{
	size_t cap = 1 << 16, len = 0;
	char *b = malloc(cap);

	while (b) {
		ssize_t r;
		char *end;

		if (len + 1 >= cap) {
			char *nb = realloc(b, cap * 2);

			if (nb == NULL)
				break;
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + len, cap - len - 1);
		if (r <= 0)
			break;
		/* Only the new bytes (and a few before them) are searched: scanning the
		 * whole answer at every read is quadratic, minutes under ASan. */
		len += (size_t)r;
		b[len] = '\0';
		end = strstr(b + (len - (size_t)r > 16 ? len - (size_t)r - 16 : 0), "errno=");
		if (end && strstr(end, "\n\n"))
			return b;
	}
	free(b);
	return NULL;
}

static void *setter(void *arg)
{
	struct sock_test *t = arg;
	int fd = dial(t->path);
	char *answer = NULL;

	t->set_errno = -1;
	if (fd >= 0 && send_all(fd, "set=1\n", 6) == 0 &&
	    send_all(fd, t->body, strlen(t->body)) == 0 && send_all(fd, "\n", 1) == 0)
		answer = read_answer(fd);
	if (answer && sscanf(strstr(answer, "errno="), "errno=%d", &t->set_errno) != 1)
		t->set_errno = -1;
	free(answer);
	if (fd >= 0)
		close(fd);
	t->set_done = 1;
	return NULL;
}

static void *lister(void *arg)
{
	struct sock_test *t = arg;

	for (int last = 0; !last; ) {
		int fd = dial(t->path);
		char *answer = NULL;
		unsigned peers = 0;

		last = t->set_done;
		if (fd >= 0 && send_all(fd, "get=1\n\n", 7) == 0)
			answer = read_answer(fd);
		for (const char *p = answer; p && (p = strstr(p, "public_key=")); p++)
			peers++;
		if (answer == NULL)
			t->counts[3]++;
		else if (peers == 2)
			t->counts[0]++;
		else if (peers == MANY + 2)
			t->counts[1]++;
		else
			t->counts[2]++;
		t->lists++;
		free(answer);
		if (fd >= 0)
			close(fd);
	}
	t->lister_done = 1;
	return NULL;
}

static void test_sockets(void)
{
	char dir[] = "/tmp/wgdp-slices.XXXXXX";
	struct sock_test t = { 0 };
	struct wg_sim *s;
	pthread_t a, b;
	char *body;

	if (!CHECK(mkdtemp(dir) != NULL))
		return;
	s = make(dir);
	if (!CHECK(s != NULL))
		goto out;
	snprintf(t.path, sizeof(t.path), "%s/uapi.sock", dir);
	body = many_peers("", MANY);
	t.body = body;
	if (!CHECK(body != NULL))
		goto out;
	CHECK_EQ(pthread_create(&b, NULL, lister, &t), 0);
	CHECK_EQ(pthread_create(&a, NULL, setter, &t), 0);
	/* The harness's thread is the gateway's lcore: poll until both clients are done
	 * (a millisecond of simulated time per round, so the sockets are looked at). */
	for (uint64_t t0 = wg_gw_now(); !(t.set_done && t.lister_done) &&
	     wg_gw_now() - t0 < 600ull * WG_NSEC_PER_SEC; ) {
		wg_sim_advance(s, 1000000);
		wg_sim_poll(s);
	}
	CHECK(t.set_done && t.lister_done);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	free(body);
	CHECK_EQ(t.set_errno, 0);
	printf("  %u listings: %u of 2 peers, %u of %u, %u other, %u failed\n", t.lists,
	       t.counts[0], t.counts[1], MANY + 2, t.counts[2], t.counts[3]);
	CHECK_EQ(t.counts[2], 0);
	CHECK_EQ(t.counts[3], 0);
	CHECK(t.counts[1] >= 1);        /* the last listing, after the set */
	CHECK(wg_sim_gw(s)->pace.jobs >= 1);
out:
	if (s)
		wg_sim_destroy(s);
	rmdir(dir);
}

static uint64_t heap_with(unsigned peers)
{
	struct wg_sim_params p = { .n_clients = 1, .n_extra_peers = peers - 1, .n_workers = 4,
				   .max_allowed_ips = 100000 };
	char err[256];
	struct wg_sim *s = wg_sim_create(&p, err, sizeof(err));
	uint64_t heap;

	if (s == NULL) {
		fprintf(stderr, "  %s\n", err);
		return 0;
	}
	heap = wg_sim_gw_heap_bytes(s);
	wg_sim_destroy(s);
	return heap;
}

static void test_memory(void)
{
	uint64_t a = heap_with(10000), b = heap_with(30000);
	double per_peer = ((double)b - (double)a) / 20000;

	printf("  DPDK heap per configured peer (4 workers): %.0f bytes\n", per_peer);
	CHECK(a > 0 && b > a);
	CHECK(per_peer <= 1024);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (wg_sim_eal_init(argv[0], 512, 0) != 0)
		return 1;
	test_served();
	test_setconf();
	test_sockets();
	test_memory();
	wg_sim_eal_cleanup();
	return check_report("test_slices");
}
