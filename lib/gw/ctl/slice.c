/* SPDX-License-Identifier: MIT */
/*
 * Long requests in slices. A `wg setconf` of a million peers, or an AddPeers of as many,
 * is parsed, checked and applied on the control lcore; done in one go it would hold up
 * handshakes, timers and (with one lcore) the data path for seconds. Instead every loop
 * of that work (parsing lines or JSON, reading peers, applying them, bringing the
 * allowed-IPs copies level) calls wg_gw_yield, which, once a slice (1 ms) is over, runs
 * the rest of the control loop once: the worker's poll when it shares the lcore,
 * handshakes, the control ring, events, timers. It does not poll the sockets, so no client
 * sees the request half applied, and it does not reclaim retired objects, so that no
 * removed peer's id is given to another before the tables that still name it are
 * published (docs/design.md, "Control work in slices").
 *
 * The control loop marks each time it looks at handshakes (wg_pace_mark); the longest
 * time between two marks is what GetStats shows as the longest pause.
 */
#include "gw_ctl.h"

static uint64_t slice_ns(const struct wg_gw *gw)
{
	return gw->pace.slice_ns ? gw->pace.slice_ns : WG_SLICE_NS;
}

void wg_pace_mark(struct wg_gw *gw)
{
	struct wg_pace *p = &gw->pace;
	uint64_t t = wg_gw_now();

	if (p->last_service) {
		uint64_t gap = t - p->last_service;

		if (gap > p->longest_pause_ns)
			p->longest_pause_ns = gap;
		if (p->in_sockets && gap > p->cur.longest_ns)
			p->cur.longest_ns = gap;
	}
	p->last_service = t;
}

void wg_gw_yield(void *arg)
{
	struct wg_gw *gw = arg;
	struct wg_pace *p = &gw->pace;
	uint64_t now;

	p->yields++;
	if (!p->in_sockets || p->in_service || wg_gw_now() - p->last_service < slice_ns(gw))
		return;
	p->in_service = true;
	now = p->clock ? p->clock(p->clock_arg) : wg_gw_now();
	if (gw->single_lcore)
		wg_gw_worker_poll(&gw->workers[0], now);
	wg_ctrl_service(gw, now);
	p->services++;
	p->cur.slices++;
	p->in_service = false;
}

void wg_pace_sockets_begin(struct wg_gw *gw, const char *what)
{
	struct wg_pace *p = &gw->pace;

	p->in_sockets = true;
	p->cur = (struct wg_pace_job){ .what = what };
	p->cur_start = wg_gw_now();
}

void wg_pace_sockets_end(struct wg_gw *gw)
{
	struct wg_pace *p = &gw->pace;
	uint64_t t = wg_gw_now();

	p->in_sockets = false;
	if (p->cur.slices == 0)
		return;
	if (t - p->last_service > p->cur.longest_ns)
		p->cur.longest_ns = t - p->last_service;
	p->cur.ns = t - p->cur_start;
	p->recent[p->n_recent++ % WG_PACE_RECENT] = p->cur;
	p->jobs++;
}

void wg_pace_peers(struct wg_gw *gw, uint64_t n)
{
	if (gw->pace.in_sockets && n > gw->pace.cur.peers)
		gw->pace.cur.peers = n;
}
