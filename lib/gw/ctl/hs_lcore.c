/* SPDX-License-Identifier: MIT */
/*
 * Handshake lcores: the Diffie-Hellman half of answering initiations, off the control
 * lcore (docs/design.md, "Handshakes on several lcores").
 *
 * The control lcore stays the only writer of every peer, index and keypair. For an
 * initiation it admits (the load check, cookies and the per-source rate limit are all
 * its own, so they stay exact), it puts the message's mbuf on the job ring; a handshake
 * lcore takes it, runs wg_noise_prepare_response (four X25519 and the AEADs, with nothing
 * but its copy of the device's identity), writes the result into the mbuf and puts it on
 * the done ring; the control lcore answers it (sender, timestamp, preshared key, index,
 * MACs, the session, the response). The identity is published twice-buffered under an
 * RCU of its own, so a key change never tears what a handshake lcore reads.
 */
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "gw_ctl.h"
#include "wg_crypto.h"

/* Where a job's result lives: the end of the message's own buffer, past any frame. */
static struct wg_hs_job *job_of(struct rte_mbuf *m)
{
	return (struct wg_hs_job *)((uint8_t *)m->buf_addr + m->buf_len -
				    RTE_ALIGN_CEIL(sizeof(struct wg_hs_job), RTE_CACHE_LINE_SIZE));
}

struct wg_hs_job *wg_hs_job(struct rte_mbuf *m)
{
	return job_of(m);
}

int wg_hs_lcores_init(struct wg_gw *gw, unsigned n, const char *tag)
{
	char name[RTE_RING_NAMESIZE];
	size_t sz;

	gw->n_hs_lcores = RTE_MIN(n, (unsigned)WG_MAX_HS_LCORES);
	wg_hs_identity_publish(gw);
	if (gw->n_hs_lcores == 0)
		return 0;
	gw->hs_lcores = rte_zmalloc("wg_hs_lcores", gw->n_hs_lcores * sizeof(*gw->hs_lcores),
				    RTE_CACHE_LINE_SIZE);
	sz = rte_rcu_qsbr_get_memsize(gw->n_hs_lcores);
	gw->hs_rcu = rte_zmalloc("wg_hs_rcu", sz, RTE_CACHE_LINE_SIZE);
	snprintf(name, sizeof(name), "%s_hsj", tag);
	gw->hs_jobs = rte_ring_create(name, WG_HS_JOB_RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ);
	snprintf(name, sizeof(name), "%s_hsd", tag);
	/* Twice the jobs that can be out at once: a finished job always finds room. */
	gw->hs_done = rte_ring_create(name, 2 * WG_HS_JOB_RING_SIZE, SOCKET_ID_ANY,
				      RING_F_SC_DEQ);
	if (!gw->hs_lcores || !gw->hs_rcu || !gw->hs_jobs || !gw->hs_done ||
	    rte_rcu_qsbr_init(gw->hs_rcu, gw->n_hs_lcores) != 0)
		return -1;
	for (unsigned i = 0; i < gw->n_hs_lcores; i++) {
		gw->hs_lcores[i].gw = gw;
		gw->hs_lcores[i].idx = i;
	}
	return 0;
}

void wg_hs_lcores_free(struct wg_gw *gw)
{
	for (struct rte_ring **r = (struct rte_ring *[]){ gw->hs_jobs, gw->hs_done, NULL }; *r;
	     r++) {
		struct rte_mbuf *m;

		while (rte_ring_dequeue(*r, (void **)&m) == 0) {
			wg_wipe(job_of(m), sizeof(struct wg_hs_job));
			rte_pktmbuf_free(m);
		}
		rte_ring_free(*r);
	}
	rte_free(gw->hs_lcores);
	rte_free(gw->hs_rcu);
	wg_wipe(gw->hs_identity, sizeof(gw->hs_identity));
}

/* The device's identity changed (or is set for the first time): publish a copy for the
 * handshake lcores and wipe the one they may have been reading once none can be. */
void wg_hs_identity_publish(struct wg_gw *gw)
{
	unsigned cur = atomic_load_explicit(&gw->hs_identity_cur, memory_order_relaxed);
	unsigned next = cur ^ 1;

	gw->hs_identity_gen++;
	wg_noise_identity_get(&gw->dev, &gw->hs_identity[next]);
	atomic_store_explicit(&gw->hs_identity_cur, next, memory_order_release);
	if (gw->hs_rcu)
		rte_rcu_qsbr_synchronize(gw->hs_rcu, RTE_QSBR_THRID_INVALID);
	wg_wipe(&gw->hs_identity[cur], sizeof(gw->hs_identity[cur]));
}

bool wg_hs_offload(struct wg_gw *gw, struct rte_mbuf *m, size_t msg_off, size_t len,
		   uint32_t type)
{
	struct wg_hs_job *job;

	if (gw->n_hs_lcores == 0 || gw->hs_in_flight >= WG_HS_JOB_RING_SIZE - 1)
		return false;
	job = job_of(m);
	/* A frame that reaches into the job's room (a jumbo frame) is answered here. */
	if ((uint8_t *)rte_pktmbuf_mtod(m, uint8_t *) + rte_pktmbuf_data_len(m) > (uint8_t *)job)
		return false;
	job->msg_off = (uint32_t)msg_off;
	job->len = (uint32_t)len;
	job->type = type;
	job->identity_gen = gw->hs_identity_gen;
	if (rte_ring_sp_enqueue(gw->hs_jobs, m) != 0)
		return false;
	gw->hs_in_flight++;
	gw->hs_offloaded++;
	return true;
}

unsigned wg_hs_take_done(struct wg_gw *gw, struct rte_mbuf **ms, unsigned max)
{
	unsigned n;

	if (gw->n_hs_lcores == 0)
		return 0;
	n = rte_ring_sc_dequeue_burst(gw->hs_done, (void **)ms, max, NULL);
	gw->hs_in_flight -= n;
	return n;
}

struct wg_hs_lcore *wg_gw_hs_lcore(struct wg_gw *gw, unsigned i)
{
	return i < gw->n_hs_lcores ? &gw->hs_lcores[i] : NULL;
}

unsigned wg_gw_hs_lcores(const struct wg_gw *gw)
{
	return gw->n_hs_lcores;
}

void wg_gw_hs_lcore_register(struct wg_hs_lcore *l)
{
	l->lcore = rte_lcore_id();
	rte_rcu_qsbr_thread_register(l->gw->hs_rcu, l->idx);
	rte_rcu_qsbr_thread_online(l->gw->hs_rcu, l->idx);
}

void wg_gw_hs_lcore_unregister(struct wg_hs_lcore *l)
{
	rte_rcu_qsbr_thread_offline(l->gw->hs_rcu, l->idx);
	rte_rcu_qsbr_thread_unregister(l->gw->hs_rcu, l->idx);
}

bool wg_gw_hs_lcore_poll(struct wg_hs_lcore *l)
{
	struct wg_gw *gw = l->gw;
	struct rte_mbuf *ms[8];
	unsigned cur = atomic_load_explicit(&gw->hs_identity_cur, memory_order_acquire);
	const struct wg_noise_identity *id = &gw->hs_identity[cur];
	unsigned n = rte_ring_mc_dequeue_burst(gw->hs_jobs, (void **)ms, RTE_DIM(ms), NULL);
	uint64_t hz = rte_get_tsc_hz(), t = rte_rdtsc();

	for (unsigned i = 0; i < n; i++) {
		struct wg_hs_job *job = job_of(ms[i]);
		const uint8_t *msg = rte_pktmbuf_mtod_offset(ms[i], const uint8_t *, job->msg_off);
		uint64_t t1;

		wg_noise_prepare_response(id, msg, job->len, job->type, &job->prep);
		t1 = rte_rdtsc();
		job->cost_ns = (t1 - t) * WG_NSEC_PER_SEC / hz;
		l->busy_ns += job->cost_ns;
		t = t1;
	}
	l->jobs += n;
	/* Sized so that it cannot be full (see wg_hs_lcores_init). */
	if (n)
		rte_ring_mp_enqueue_bulk(gw->hs_done, (void **)ms, n, NULL);
	rte_rcu_qsbr_quiescent(gw->hs_rcu, l->idx);
	return n > 0;
}

int wg_gw_hs_lcore_main(void *arg)
{
	struct wg_hs_lcore *l = arg;
	unsigned idle = 0;

	wg_gw_hs_lcore_register(l);
	while (!wg_gw_stopping(l->gw)) {
		if (wg_gw_hs_lcore_poll(l)) {
			idle = 0;
			continue;
		}
		/* Handshakes are rare next to packets: an idle handshake lcore gives its CPU
		 * back (a 50 us sleep adds nothing a client could notice). */
		if (++idle < 256) {
			rte_pause();
		} else {
			rte_rcu_qsbr_thread_offline(l->gw->hs_rcu, l->idx);
			nanosleep(&(struct timespec){ .tv_nsec = 50000 }, NULL);
			rte_rcu_qsbr_thread_online(l->gw->hs_rcu, l->idx);
		}
	}
	wg_gw_hs_lcore_unregister(l);
	return 0;
}
