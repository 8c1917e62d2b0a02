/* SPDX-License-Identifier: MIT */
/*
 * Masquerade on the control lcore (gw_nat.h): the tables and rings made when a port first
 * masquerades, the configuration checked and published for the workers, listings and
 * counters. The workers' side is nat.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_ring.h>

#include "gw_ctl.h"
#include "nat_priv.h"

#define FLOWS_PER_WORKER_MIN 64

static _Atomic unsigned nat_names;   /* tables and rings need names unique in the process */

static int refuse(char *why, size_t whylen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

static void free_nat(struct wg_gw_nat *nat)
{
	if (nat == NULL)
		return;
	for (unsigned i = 0; i < WG_MAX_WORKERS; i++) {
		struct rte_mbuf *m;

		while (nat->w[i].ring && rte_ring_sc_dequeue(nat->w[i].ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(nat->w[i].ring);
		wg_nat_table_free(nat->w[i].t);
	}
	rte_free(atomic_load(&nat->conf));
	rte_free(nat);
}

static struct wg_gw_nat *alloc_nat(struct wg_gw *gw)
{
	struct wg_gw_nat *nat = rte_zmalloc("wg_gw_nat", sizeof(*nat), RTE_CACHE_LINE_SIZE);
	unsigned id = atomic_fetch_add(&nat_names, 1);
	uint32_t cap = gw->cfg.nat.max_flows / gw->n_workers;
	char name[RTE_RING_NAMESIZE];

	if (nat == NULL)
		return NULL;
	nat->n_workers = gw->n_workers;
	for (unsigned i = 0; i < gw->n_workers; i++) {
		struct wg_nat_table_params tp = { .name = name, .socket = SOCKET_ID_ANY,
			.capacity = cap < FLOWS_PER_WORKER_MIN ? FLOWS_PER_WORKER_MIN : cap };

		snprintf(name, sizeof(name), "wgn%u_%u", id % 100000, i);
		nat->w[i].t = wg_nat_table_create(&tp);
		if (gw->n_workers > 1) {
			snprintf(name, sizeof(name), "wgnr%u_%u", id % 100000, i);
			nat->w[i].ring = rte_ring_create(name, NAT_RING_SIZE, SOCKET_ID_ANY,
							 RING_F_SC_DEQ);
		}
		if (nat->w[i].t == NULL || (gw->n_workers > 1 && nat->w[i].ring == NULL)) {
			free_nat(nat);
			return NULL;
		}
	}
	return nat;
}

/* ---- checks ---- */

static bool port_has(const struct wg_port *p, const struct wg_ip *ip)
{
	for (unsigned i = 0; i < p->n_addrs; i++)
		if (wg_ip_equal(&p->addrs[i].ip, ip))
			return true;
	return false;
}

static int check_masq(const struct wg_gw *gw, unsigned port, const struct wg_config_masq *m,
		      char *why, size_t whylen)
{
	const struct wg_port *p = &gw->ports[port];
	uint32_t range = (uint32_t)m->port_max - m->port_min + 1;

	if (!m->enabled)
		return 0;
	if (!(p->role & WG_ROLE_LAN))
		return refuse(why, whylen, EINVAL, "port '%s' has no \"lan\" role: masquerade is "
			      "for what leaves a port for the LAN", p->name);
	if (m->n_sources > WG_CONFIG_MAX_MASQ_SOURCES || m->n_pool > WG_CONFIG_MAX_MASQ_POOL)
		return refuse(why, whylen, EINVAL, "too many sources or pool addresses");
	for (unsigned i = 0; i < m->n_sources; i++)
		if (m->sources[i].ip.family != WG_AF_INET)
			return refuse(why, whylen, EINVAL, "masquerade sources are IPv4 prefixes");
	for (unsigned i = 0; i < m->n_pool; i++) {
		if (m->pool[i].family != WG_AF_INET || !port_has(p, &m->pool[i]))
			return refuse(why, whylen, EINVAL, "pool addresses must be IPv4 addresses "
				      "of port '%s'", p->name);
		for (unsigned j = 0; j < i; j++)
			if (wg_ip_equal(&m->pool[i], &m->pool[j]))
				return refuse(why, whylen, EINVAL, "a pool address is given twice");
	}
	if (m->n_pool == 0 && wg_port_addr(p, WG_AF_INET) == NULL)
		return refuse(why, whylen, EINVAL, "port '%s' has no IPv4 address to masquerade "
			      "with", p->name);
	if (m->port_min == 0 || m->port_min > m->port_max || range < gw->n_workers)
		return refuse(why, whylen, EINVAL, "the port range must be within 1..65535 and "
			      "hold at least one port per worker (%u)", gw->n_workers);
	return 0;
}

/* ---- publishing ---- */

static void build_port(const struct wg_gw *gw, unsigned i, struct nat_port *np)
{
	const struct wg_config_masq *m = &gw->cfg.ports[i].masq;
	const struct wg_ip *a = wg_port_addr(&gw->ports[i], WG_AF_INET);

	memset(np, 0, sizeof(*np));
	np->on = m->enabled;
	np->port_min = m->port_min;
	np->port_max = m->port_max;
	np->n_sources = (uint8_t)m->n_sources;
	memcpy(np->sources, m->sources, m->n_sources * sizeof(m->sources[0]));
	for (unsigned k = 0; k < m->n_pool; k++)
		memcpy(&np->pool[k], m->pool[k].addr, 4);
	np->n_pool = (uint8_t)m->n_pool;
	if (np->n_pool == 0 && a) {
		memcpy(&np->pool[0], a->addr, 4);
		np->n_pool = 1;
	}
	if (np->n_pool == 0)
		np->on = false;
}

static void free_conf(struct wg_gw *gw, void *obj)
{
	(void)gw;
	rte_free(obj);
}

static bool any_on(const struct wg_gw *gw)
{
	for (unsigned i = 0; i < gw->n_ports; i++)
		if (gw->cfg.ports[i].masq.enabled)
			return true;
	return false;
}

/* A new configuration for the workers from gw->cfg (flush: its flows are to go). */
static int publish(struct wg_gw *gw, bool flush, char *why, size_t whylen)
{
	struct wg_gw_nat *nat = atomic_load_explicit(&gw->nat, memory_order_relaxed);
	bool fresh = nat == NULL;
	const struct wg_config_nat *n = &gw->cfg.nat;
	struct nat_conf *c, *old;

	if (fresh && !any_on(gw))
		return 0;
	if (fresh && (nat = alloc_nat(gw)) == NULL)
		return refuse(why, whylen, ENOMEM, "out of memory for %u masquerade flows",
			      n->max_flows);
	c = rte_zmalloc("wg_nat_conf", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (c == NULL) {
		if (fresh)
			free_nat(nat);
		return refuse(why, whylen, ENOMEM, "out of memory");
	}
	nat->epoch += flush;
	c->epoch = nat->epoch;
	c->per_source = n->max_flows_per_source;
	c->to = (struct wg_nat_timeouts){ n->tcp_established * WG_NSEC_PER_SEC,
		n->tcp_transitory * WG_NSEC_PER_SEC, n->udp * WG_NSEC_PER_SEC, n->icmp * WG_NSEC_PER_SEC };
	for (unsigned i = 0; i < gw->n_ports; i++)
		build_port(gw, i, &c->port[i]);
	old = atomic_exchange_explicit(&nat->conf, c, memory_order_release);
	if (fresh)
		atomic_store_explicit(&gw->nat, nat, memory_order_release);
	if (old)
		wg_gw_retire(gw, old, free_conf);
	return 0;
}

int wg_gw_nat_init(struct wg_gw *gw, char *err, size_t errlen)
{
	wg_config_nat_defaults(&gw->cfg.nat);
	for (unsigned i = 0; i < gw->n_ports; i++) {
		struct wg_config_masq *m = &gw->cfg.ports[i].masq;

		if (m->port_min == 0) {
			m->port_min = 1024;
			m->port_max = 65535;
		}
		if (check_masq(gw, i, m, err, errlen) != 0)
			return -1;
	}
	return publish(gw, false, err, errlen) ? -1 : 0;
}

void wg_gw_nat_destroy(struct wg_gw *gw)
{
	free_nat(atomic_exchange(&gw->nat, NULL));
}

static bool same_outside(const struct wg_config_masq *a, const struct wg_config_masq *b)
{
	return a->port_min == b->port_min && a->port_max == b->port_max &&
	       a->n_pool == b->n_pool && memcmp(a->pool, b->pool, a->n_pool * sizeof(a->pool[0])) == 0;
}

int wg_gw_nat_set_masq(struct wg_gw *gw, unsigned port, const struct wg_config_masq *m,
		       bool validate_only, char *why, size_t whylen)
{
	struct wg_config_masq want = *m, before;
	int rc;

	if (port >= gw->n_ports)
		return refuse(why, whylen, ENOENT, "no such port");
	if (want.port_min == 0) {
		want.port_min = 1024;
		want.port_max = 65535;
	}
	for (unsigned i = 0; i < want.n_sources; i++)
		wg_prefix_mask(&want.sources[i]);
	rc = check_masq(gw, port, &want, why, whylen);
	if (rc || validate_only)
		return rc;
	before = gw->cfg.ports[port].masq;
	gw->cfg.ports[port].masq = want;
	rc = publish(gw, before.enabled && !same_outside(&before, &want), why, whylen);
	if (rc)
		gw->cfg.ports[port].masq = before;
	return rc;
}

int wg_gw_nat_set_limits(struct wg_gw *gw, const struct wg_config_nat *n, bool validate_only,
			 char *why, size_t whylen)
{
	struct wg_config_nat want = *n, before = gw->cfg.nat;
	int rc;

	wg_config_nat_defaults(&want);
	if (want.max_flows != before.max_flows && atomic_load(&gw->nat) != NULL)
		return refuse(why, whylen, EBUSY, "max_flows is fixed once a port masquerades "
			      "(the tables are sized then); it is %u", before.max_flows);
	if (want.max_flows_per_source > want.max_flows)
		return refuse(why, whylen, EINVAL, "max_flows_per_source is more than max_flows");
	if (validate_only)
		return 0;
	gw->cfg.nat = want;
	rc = publish(gw, false, why, whylen);
	if (rc)
		gw->cfg.nat = before;
	return rc;
}

/* ---- listings and counters ---- */

static void endpoint(struct wg_endpoint *e, uint32_t addr, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->ip.family = WG_AF_INET;
	memcpy(e->ip.addr, &addr, 4);
	e->port = rte_be_to_cpu_16(port);
}

int wg_gw_flow_next(struct wg_gw *gw, uint64_t *pos, struct wg_gw_flow *f)
{
	struct wg_gw_nat *nat = atomic_load_explicit(&gw->nat, memory_order_acquire);
	const struct nat_conf *conf;
	uint64_t cap, end, now = wg_ctrl_ctx(gw)->now;
	struct wg_nat_flow c;

	if (nat == NULL)
		return ENOENT;
	conf = atomic_load_explicit(&nat->conf, memory_order_acquire);
	cap = wg_nat_capacity(nat->w[0].t);
	end = cap * nat->n_workers;
	for (uint64_t p = *pos; p < end; p++) {
		uint64_t last;

		if (!wg_nat_read(nat->w[p / cap].t, (uint32_t)(p % cap), &c))
			continue;
		last = atomic_load(&c.last);
		f->worker = (unsigned)(p / cap);
		f->proto = c.proto;
		f->state = c.state;
		f->port = c.port;
		endpoint(&f->inside, c.inside, c.inside_port);
		endpoint(&f->outside, c.outside, c.outside_port);
		endpoint(&f->remote, c.remote, c.remote_port);
		f->idle_ns = now > last ? now - last : 0;
		f->timeout_ns = wg_nat_flow_timeout(&c, &conf->to);
		f->pkts_out = atomic_load(&c.pkts_out);
		f->pkts_in = atomic_load(&c.pkts_in);
		*pos = p + 1;
		return 0;
	}
	*pos = end;
	return ENOENT;
}

uint64_t wg_gw_nat_flows(struct wg_gw *gw)
{
	struct wg_gw_nat *nat = atomic_load_explicit(&gw->nat, memory_order_acquire);
	uint64_t n = 0;

	for (unsigned i = 0; nat && i < nat->n_workers; i++)
		n += wg_nat_count(nat->w[i].t);
	return n;
}

void wg_gw_nat_stats(struct wg_gw *gw, struct wg_gw_stats *st)
{
	struct wg_gw_nat *nat = atomic_load_explicit(&gw->nat, memory_order_acquire);

	memset(&st->nat, 0, sizeof(st->nat));
	st->nat.misses = st->drops[WG_DROP_NAT_NO_FLOW];
	for (unsigned i = 0; nat && i < nat->n_workers; i++) {
		const struct wg_nat_counters *c = wg_nat_counters(nat->w[i].t);

		st->nat.flows += wg_nat_count(nat->w[i].t);
		st->nat.created += c->created;
		st->nat.expired += c->expired;
		st->nat.flushed += c->flushed;
		st->nat.translated_out += c->out;
		st->nat.translated_in += c->in;
		st->nat.ports_exhausted += c->ports_exhausted;
		st->nat.table_full += c->table_full;
		st->nat.source_limit += c->source_limit;
		st->nat.handed_off += nat->w[i].handed_off;
	}
}
