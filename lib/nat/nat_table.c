/* SPDX-License-Identifier: MIT */
/*
 * One worker's flows (wg_nat.h). The outbound table maps an inside key to the flow's
 * index, which is the key's position in that rte_hash; the inbound table maps the outside
 * key to the same index; a third counts the flows of each inside address. All three have
 * room for every flow (extendable buckets), so a flow fails only for the reasons it is
 * counted under. Only the owner writes; the control lcore copies flows out for listings
 * under each flow's sequence count.
 */
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "wg_nat.h"

/* Candidates tried for a new flow's outside port: from a random start, one after the
 * other (RFC 6056, algorithm 1's start with sequential probes), so that a range smaller
 * than this is searched whole and exhaustion is exact there. */
#define PORT_TRIES 256

struct wg_nat_table {
	struct rte_hash *out, *in, *src;
	struct wg_nat_flow *flows;     /* [capacity], by the outbound key's position */
	uint32_t *src_count;           /* [capacity], by the source key's position */
	uint32_t capacity, n_flows, cursor;
	struct wg_nat_counters c;
};

static struct rte_hash *make_hash(const char *name, const char *suffix, uint32_t entries,
				  uint32_t key_len, int socket)
{
	char n[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = n, .entries = entries, .key_len = key_len, .hash_func = rte_hash_crc,
		.socket_id = socket, .extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	snprintf(n, sizeof(n), "%s%s", name, suffix);
	return rte_hash_create(&hp);
}

struct wg_nat_table *wg_nat_table_create(const struct wg_nat_table_params *p)
{
	struct wg_nat_table *t = rte_zmalloc("wg_nat_table", sizeof(*t), RTE_CACHE_LINE_SIZE);
	uint32_t cap = p->capacity < 8 ? 8 : p->capacity;

	if (t == NULL)
		return NULL;
	t->capacity = cap;
	t->out = make_hash(p->name, "o", cap, sizeof(struct wg_nat_key), p->socket);
	t->in = make_hash(p->name, "i", cap, sizeof(struct wg_nat_key), p->socket);
	t->src = make_hash(p->name, "s", cap, sizeof(uint32_t), p->socket);
	t->flows = rte_zmalloc_socket("wg_nat_flows", (size_t)cap * sizeof(*t->flows),
				      RTE_CACHE_LINE_SIZE, p->socket);
	t->src_count = rte_zmalloc_socket("wg_nat_src", (size_t)cap * sizeof(*t->src_count), 0,
					  p->socket);
	if (!t->out || !t->in || !t->src || !t->flows || !t->src_count) {
		wg_nat_table_free(t);
		return NULL;
	}
	t->cursor = 0;
	return t;
}

void wg_nat_table_free(struct wg_nat_table *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->out);
	rte_hash_free(t->in);
	rte_hash_free(t->src);
	rte_free(t->flows);
	rte_free(t->src_count);
	rte_free(t);
}

static struct wg_nat_key out_key(const struct wg_nat_flow *f)
{
	return (struct wg_nat_key){ .local = f->inside, .remote = f->remote,
				    .lport = f->inside_port, .rport = f->remote_port,
				    .proto = f->proto };
}

static struct wg_nat_key in_key(const struct wg_nat_flow *f)
{
	return (struct wg_nat_key){ .local = f->outside, .remote = f->remote,
				    .lport = f->outside_port, .rport = f->remote_port,
				    .proto = f->proto };
}

int32_t wg_nat_lookup_out(const struct wg_nat_table *t, const struct wg_nat_key *k)
{
	int32_t pos = rte_hash_lookup(t->out, k);

	return pos >= 0 && (uint32_t)pos < t->capacity ? pos : -1;
}

int32_t wg_nat_lookup_in(const struct wg_nat_table *t, const struct wg_nat_key *k)
{
	void *data;

	if (rte_hash_lookup_data(t->in, k, &data) < 0)
		return -1;
	return (int32_t)(uintptr_t)data;
}

/* An outside port for the flow whose inbound key is k (its lport to be chosen). */
static bool pick_port(const struct wg_nat_table *t, struct wg_nat_key *k, uint16_t lo,
		      uint16_t hi, uint16_t avoid)
{
	uint32_t span = (uint32_t)hi - lo + 1, tries = span < PORT_TRIES ? span : PORT_TRIES;
	uint32_t at = (uint32_t)rte_rand_max(span);

	for (uint32_t i = 0; i < tries; i++) {
		k->lport = rte_cpu_to_be_16((uint16_t)(lo + (at + i) % span));
		if ((avoid == 0 || k->lport != avoid || k->proto != 17) &&
		    rte_hash_lookup(t->in, k) < 0)
			return true;
	}
	return false;
}

enum wg_nat_create_result wg_nat_create(struct wg_nat_table *t, const struct wg_nat_key *ok,
					uint32_t outside, uint16_t port_min, uint16_t port_max,
					uint16_t avoid, uint32_t per_source, uint16_t port,
					uint64_t now, int32_t *idx)
{
	struct wg_nat_key ik = *ok;
	int32_t spos, pos;
	struct wg_nat_flow *f;

	if (t->n_flows >= t->capacity) {
		t->c.table_full++;
		return WG_NAT_C_TABLE_FULL;
	}
	spos = rte_hash_lookup(t->src, &ok->local);
	if (spos >= 0 && t->src_count[spos] >= per_source) {
		t->c.source_limit++;
		return WG_NAT_C_SOURCE_LIMIT;
	}
	ik.local = outside;
	if (port_min > port_max || !pick_port(t, &ik, port_min, port_max, avoid)) {
		t->c.ports_exhausted++;
		return WG_NAT_C_PORTS_EXHAUSTED;
	}
	if (spos < 0 && (spos = rte_hash_add_key(t->src, &ok->local)) >= 0)
		t->src_count[spos] = 0;
	pos = spos >= 0 && (uint32_t)spos < t->capacity ? rte_hash_add_key(t->out, ok) : -1;
	if (pos < 0 || (uint32_t)pos >= t->capacity ||
	    rte_hash_add_key_data(t->in, &ik, (void *)(uintptr_t)pos) != 0) {
		if (pos >= 0)
			rte_hash_del_key(t->out, ok);
		if (spos >= 0 && t->src_count[spos] == 0)
			rte_hash_del_key(t->src, &ok->local);
		t->c.table_full++;
		return WG_NAT_C_TABLE_FULL;
	}
	f = &t->flows[pos];
	rte_seqcount_write_begin(&f->seq);
	f->inside = ok->local;
	f->inside_port = ok->lport;
	f->remote = ok->remote;
	f->remote_port = ok->rport;
	f->outside = outside;
	f->outside_port = ik.lport;
	f->proto = ok->proto;
	f->state = 0;
	f->port = port;
	f->source = (uint32_t)spos;
	f->created = now;
	atomic_store_explicit(&f->last, now, memory_order_relaxed);
	atomic_store_explicit(&f->pkts_out, 0, memory_order_relaxed);
	atomic_store_explicit(&f->pkts_in, 0, memory_order_relaxed);
	f->in_use = 1;
	rte_seqcount_write_end(&f->seq);
	t->src_count[spos]++;
	t->n_flows++;
	t->c.created++;
	*idx = pos;
	return WG_NAT_C_OK;
}

struct wg_nat_flow *wg_nat_flow(struct wg_nat_table *t, int32_t idx)
{
	return &t->flows[idx];
}

/* A single writer: the counters need no locked instruction, only atomic stores. */
static void bump(_Atomic uint64_t *v)
{
	atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static uint8_t tcp_state(uint8_t st, enum wg_nat_dir dir, uint8_t flags)
{
	if (flags & WG_NAT_TCP_RST)
		st |= WG_NAT_ST_RST;
	if (dir == WG_NAT_IN) {
		st |= WG_NAT_ST_IN;
		if (flags & WG_NAT_TCP_FIN)
			st |= WG_NAT_ST_FIN_IN;
	} else {
		if ((st & WG_NAT_ST_IN) && (flags & WG_NAT_TCP_ACK))
			st |= WG_NAT_ST_EST;
		if (flags & WG_NAT_TCP_FIN)
			st |= WG_NAT_ST_FIN_OUT;
	}
	/* A new connection on a flow that was closing (a port reused at once) starts over. */
	if ((flags & (WG_NAT_TCP_SYN | WG_NAT_TCP_ACK)) == WG_NAT_TCP_SYN && dir == WG_NAT_OUT)
		st = 0;
	return st;
}

void wg_nat_seen(struct wg_nat_table *t, int32_t idx, enum wg_nat_dir dir, uint8_t tcp_flags,
		 uint64_t now)
{
	struct wg_nat_flow *f = &t->flows[idx];

	if (atomic_load_explicit(&f->last, memory_order_relaxed) != now)
		atomic_store_explicit(&f->last, now, memory_order_relaxed);
	bump(dir == WG_NAT_OUT ? &f->pkts_out : &f->pkts_in);
	if (f->proto == 6)
		f->state = tcp_state(f->state, dir, tcp_flags);
	if (dir == WG_NAT_OUT)
		t->c.out++;
	else
		t->c.in++;
}

uint64_t wg_nat_flow_timeout(const struct wg_nat_flow *f, const struct wg_nat_timeouts *to)
{
	uint8_t st = f->state;

	if (f->proto == 17)
		return to->udp;
	if (f->proto != 6)
		return to->icmp;
	if ((st & WG_NAT_ST_RST) || !(st & WG_NAT_ST_EST) ||
	    (st & (WG_NAT_ST_FIN_OUT | WG_NAT_ST_FIN_IN)) == (WG_NAT_ST_FIN_OUT | WG_NAT_ST_FIN_IN))
		return to->tcp_transitory;
	return to->tcp_established;
}

static void free_flow(struct wg_nat_table *t, uint32_t idx)
{
	struct wg_nat_flow *f = &t->flows[idx];
	struct wg_nat_key ok = out_key(f), ik = in_key(f);

	rte_seqcount_write_begin(&f->seq);
	f->in_use = 0;
	rte_seqcount_write_end(&f->seq);
	rte_hash_del_key(t->in, &ik);
	rte_hash_del_key(t->out, &ok);
	if (f->source < t->capacity && --t->src_count[f->source] == 0)
		rte_hash_del_key(t->src, &f->inside);
	t->n_flows--;
}

unsigned wg_nat_expire(struct wg_nat_table *t, uint64_t now, const struct wg_nat_timeouts *to,
		       unsigned budget)
{
	unsigned freed = 0;

	if (t->n_flows == 0)
		return 0;
	for (unsigned i = 0; i < budget && i < t->capacity; i++) {
		uint32_t idx = t->cursor;
		struct wg_nat_flow *f = &t->flows[idx];
		uint64_t last;

		t->cursor = idx + 1 == t->capacity ? 0 : idx + 1;
		if (!f->in_use)
			continue;
		last = atomic_load_explicit(&f->last, memory_order_relaxed);
		if (now > last && now - last > wg_nat_flow_timeout(f, to)) {
			free_flow(t, idx);
			t->c.expired++;
			freed++;
		}
	}
	return freed;
}

void wg_nat_flush(struct wg_nat_table *t)
{
	for (uint32_t i = 0; i < t->capacity && t->n_flows; i++)
		if (t->flows[i].in_use) {
			free_flow(t, i);
			t->c.flushed++;
		}
}

bool wg_nat_read(const struct wg_nat_table *t, uint32_t idx, struct wg_nat_flow *c)
{
	const struct wg_nat_flow *f;

	if (idx >= t->capacity)
		return false;
	f = &t->flows[idx];
	for (int tries = 0; tries < 4; tries++) {
		uint32_t sn = rte_seqcount_read_begin(&f->seq);

		if (sn & 1)
			continue;
		c->in_use = f->in_use;
		c->inside = f->inside;
		c->outside = f->outside;
		c->remote = f->remote;
		c->inside_port = f->inside_port;
		c->outside_port = f->outside_port;
		c->remote_port = f->remote_port;
		c->proto = f->proto;
		c->state = f->state;
		c->port = f->port;
		c->created = f->created;
		atomic_store_explicit(&c->last, atomic_load_explicit(&f->last, memory_order_relaxed),
				      memory_order_relaxed);
		atomic_store_explicit(&c->pkts_out,
				      atomic_load_explicit(&f->pkts_out, memory_order_relaxed),
				      memory_order_relaxed);
		atomic_store_explicit(&c->pkts_in,
				      atomic_load_explicit(&f->pkts_in, memory_order_relaxed),
				      memory_order_relaxed);
		if (!rte_seqcount_read_retry(&f->seq, sn))
			return c->in_use != 0;
	}
	return false;
}

uint32_t wg_nat_capacity(const struct wg_nat_table *t)
{
	return t->capacity;
}

uint32_t wg_nat_count(const struct wg_nat_table *t)
{
	return t->n_flows;
}

const struct wg_nat_counters *wg_nat_counters(const struct wg_nat_table *t)
{
	return &t->c;
}
