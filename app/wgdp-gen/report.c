/* SPDX-License-Identifier: MIT */
/*
 * The two modes: trials at a fixed rate (or as fast as it can), and the RFC 2544-style
 * search for the highest rate lost nothing beyond the tolerance; their figures printed
 * and, with --json, written for scripts (jansson).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gen.h"

static const char *const dir_name[2] = { "up", "down" };

static json_t *results_json;   /* the run's JSON document (main lcore only) */

static void size_label(const uint16_t s, char *out, size_t n)
{
	if (s == 0)
		snprintf(out, n, "imix");
	else
		snprintf(out, n, "%u", s);
}

void gen_print_result(const struct gen *g, const char *label, const struct gen_result *r)
{
	(void)g;
	for (unsigned d = 0; d < 2; d++) {
		const struct gen_dir_result *x = &r->d[d];

		if (!x->on)
			continue;
		printf("%-5s %-6s rate %-9s sent %lu in %.3f s (%.3f Mpps), received %lu "
		       "(%.3f Mpps, %.3f Gbit/s), lost %lu (%.4f%%), dup %lu, stale %lu, bad %lu, "
		       "wrong peer %lu; latency us p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f\n",
		       dir_name[d], label, r->rate > 0 ? "" : "max", (unsigned long)x->sent,
		       r->seconds, x->offered_pps / 1e6, (unsigned long)x->received,
		       x->received_pps / 1e6, x->gbps, (unsigned long)x->lost, x->loss_pct,
		       (unsigned long)x->dup, (unsigned long)x->stale, (unsigned long)x->bad,
		       (unsigned long)x->wrong_peer, (double)x->p50 / 1e3, (double)x->p90 / 1e3,
		       (double)x->p99 / 1e3, (double)x->p999 / 1e3, (double)x->max_ns / 1e3);
		if (r->rate > 0)
			printf("      (asked %.0f pps)\n", r->rate);
		if (r->missed[d == GEN_UP ? GEN_LAN : GEN_WAN])
			printf("      (our own %s port missed %lu frames)\n", d == GEN_UP ? "lan" : "wan",
			       (unsigned long)r->missed[d == GEN_UP ? GEN_LAN : GEN_WAN]);
	}
	fflush(stdout);
}

static json_t *dir_json(const struct gen_dir_result *x)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:{s:I,s:I,s:I,s:I,"
			 "s:I,s:I}}",
			 "sent", (json_int_t)x->sent, "received", (json_int_t)x->received,
			 "lost", (json_int_t)x->lost, "dup", (json_int_t)x->dup,
			 "stale", (json_int_t)x->stale, "bad", (json_int_t)x->bad,
			 "wrong_peer", (json_int_t)x->wrong_peer, "bytes", (json_int_t)x->bytes,
			 "offered_pps", x->offered_pps, "received_pps", x->received_pps,
			 "gbps", x->gbps, "loss_pct", x->loss_pct, "latency_ns",
			 "min", (json_int_t)x->min_ns, "p50", (json_int_t)x->p50,
			 "p90", (json_int_t)x->p90, "p99", (json_int_t)x->p99,
			 "p999", (json_int_t)x->p999, "max", (json_int_t)x->max_ns);
}

static json_t *result_json(const char *label, const char *mode, unsigned trial,
			   const struct gen_result *r)
{
	json_t *o = json_pack("{s:s,s:s,s:i,s:f,s:f,s:I,s:I}", "size", label, "mode", mode,
			      "trial", (int)trial, "rate", r->rate, "seconds", r->seconds,
			      "gen_missed_wan", (json_int_t)r->missed[0],
			      "gen_missed_lan", (json_int_t)r->missed[1]);

	for (unsigned d = 0; d < 2; d++)
		if (r->d[d].on)
			json_object_set_new(o, dir_name[d], dir_json(&r->d[d]));
	return o;
}

static void json_add(const char *key, json_t *v)
{
	json_t *a;

	if (results_json == NULL)
		results_json = json_object();
	if ((a = json_object_get(results_json, key)) == NULL) {
		a = json_array();
		json_object_set_new(results_json, key, a);
	}
	json_array_append_new(a, v);
}

void gen_print_peers(const struct gen *g)
{
	json_t *peers = json_array();

	for (unsigned k = 0; k < g->o.n_peers; k++) {
		const struct gen_peer_stats *p = &g->pst[k];
		json_t *o = json_pack("{s:i}", "peer", (int)k);

		for (unsigned d = 0; d < 2; d++) {
			if (!g->o.dir[d])
				continue;
			printf("peer %u %s: sent %lu received %lu lost %lu latency us p50 %.1f "
			       "p99 %.1f max %.1f\n", k, dir_name[d], (unsigned long)p->sent[d],
			       (unsigned long)p->received[d],
			       (unsigned long)(p->sent[d] - p->received[d]),
			       (double)wg_gen_hist_quantile(&p->lat[d], 0.5) / 1e3,
			       (double)wg_gen_hist_quantile(&p->lat[d], 0.99) / 1e3,
			       (double)p->lat[d].max_ns / 1e3);
			json_object_set_new(o, dir_name[d],
					    json_pack("{s:I,s:I,s:I,s:I,s:I}",
						      "sent", (json_int_t)p->sent[d],
						      "received", (json_int_t)p->received[d],
						      "p50", (json_int_t)wg_gen_hist_quantile(&p->lat[d], 0.5),
						      "p99", (json_int_t)wg_gen_hist_quantile(&p->lat[d], 0.99),
						      "max", (json_int_t)p->lat[d].max_ns));
		}
		json_array_append_new(peers, o);
	}
	json_add("peers", peers);
}

static void sizes_of(const struct gen *g, unsigned i, uint16_t *buf, const uint16_t **sizes,
		     unsigned *n)
{
	if (g->o.sizes[i] == 0) {
		*n = wg_gen_imix(buf, 48, 1);
		*sizes = buf;
	} else {
		buf[0] = g->o.sizes[i];
		*sizes = buf;
		*n = 1;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int gen_run_fixed(struct gen *g)
{
	for (unsigned i = 0; i < g->o.n_sizes && !atomic_load(&g->stop); i++) {
		uint16_t buf[48];
		const uint16_t *sizes;
		unsigned n;
		char label[16];
		double med[2][64];

		sizes_of(g, i, buf, &sizes, &n);
		size_label(g->o.sizes[i], label, sizeof(label));
		for (unsigned t = 0; t < g->o.trials && !atomic_load(&g->stop); t++) {
			struct gen_result r;

			if (gen_trial(g, sizes, n, g->o.rate, &r) != 0)
				return -1;
			gen_print_result(g, label, &r);
			json_add("trials", result_json(label, "fixed", t, &r));
			for (unsigned d = 0; d < 2; d++)
				med[d][t % 64] = r.d[d].received_pps;
		}
		if (g->o.trials > 1) {
			for (unsigned d = 0; d < 2; d++) {
				unsigned m = g->o.trials < 64 ? g->o.trials : 64;

				if (!g->o.dir[d])
					continue;
				qsort(med[d], m, sizeof(double), cmp_double);
				printf("%-5s %-6s median of %u trials: %.3f Mpps received\n",
				       dir_name[d], label, m, med[d][m / 2] / 1e6);
			}
		}
		if (g->o.per_peer)
			gen_print_peers(g);
	}
	return 0;
}

/* Did every offered direction lose no more than the tolerance? */
static bool passed(const struct gen *g, const struct gen_result *r)
{
	for (unsigned d = 0; d < 2; d++)
		if (r->d[d].on && (r->d[d].sent == 0 || r->d[d].loss_pct > g->o.tolerance))
			return false;
	return true;
}

static double offered(const struct gen_result *r)
{
	double o = 0;

	for (unsigned d = 0; d < 2; d++)
		if (r->d[d].on && (o == 0 || r->d[d].offered_pps < o))
			o = r->d[d].offered_pps;
	return o;
}

static double received(const struct gen_result *r)
{
	double o = 0;

	for (unsigned d = 0; d < 2; d++)
		if (r->d[d].on && (o == 0 || r->d[d].received_pps < o))
			o = r->d[d].received_pps;
	return o;
}

/* RFC 2544 26.1 in spirit: a trial at the most the generator offers, then a binary search
 * between the last rate that passed and the first that failed. */
static int search_one(struct gen *g, unsigned i)
{
	uint16_t buf[48];
	const uint16_t *sizes;
	unsigned n, step = 0;
	char label[16];
	struct gen_result r, best = { 0 };
	double lo = 0, hi, rate;
	bool found = false;

	sizes_of(g, i, buf, &sizes, &n);
	size_label(g->o.sizes[i], label, sizeof(label));
	if (gen_trial(g, sizes, n, g->o.rate, &r) != 0)
		return -1;
	gen_print_result(g, label, &r);
	json_add("trials", result_json(label, "search", step++, &r));
	hi = offered(&r);
	if (passed(g, &r)) {
		best = r;
		found = true;
		lo = hi;
	} else {
		rate = received(&r);      /* what got through is a good first guess */
		while (step <= g->o.max_steps && !atomic_load(&g->stop) && rate > 0 &&
		       (hi - lo) > g->o.resolution * hi) {
			if (gen_trial(g, sizes, n, rate, &r) != 0)
				return -1;
			gen_print_result(g, label, &r);
			json_add("trials", result_json(label, "search", step++, &r));
			if (passed(g, &r)) {
				lo = rate;
				if (!found || rate > best.rate) {
					best = r;
					found = true;
				}
			} else {
				hi = rate;
			}
			rate = (lo + hi) / 2;
		}
	}
	if (found) {
		const struct gen_dir_result *x = &best.d[best.d[GEN_UP].on ? GEN_UP : GEN_DOWN];

		printf("zero-loss %-6s %.3f Mpps (%.3f Gbit/s received), latency us p50 %.1f p99 "
		       "%.1f p99.9 %.1f, tolerance %.4f%%\n", label, offered(&best) / 1e6, x->gbps,
		       (double)x->p50 / 1e3, (double)x->p99 / 1e3, (double)x->p999 / 1e3,
		       g->o.tolerance);
		json_add("search", result_json(label, "zero-loss", 0, &best));
	} else {
		printf("zero-loss %-6s none found down to %.0f pps\n", label, hi);
		json_add("search", json_pack("{s:s,s:n}", "size", label, "zero_loss"));
	}
	fflush(stdout);
	return 0;
}

int gen_run_search(struct gen *g)
{
	for (unsigned i = 0; i < g->o.n_sizes && !atomic_load(&g->stop); i++)
		if (search_one(g, i) != 0)
			return -1;
	return 0;
}

/* The whole run's document: settings, counters and what the modes added. */
int gen_write_json(const struct gen *g, const char *path, const char *engine)
{
	const struct gen_counters *c = &g->c;
	json_t *doc = results_json ? results_json : json_object();
	int rc;

	json_object_set_new(doc, "peers_n", json_integer(g->o.n_peers));
	json_object_set_new(doc, "aead", json_string(engine));
	json_object_set_new(doc, "counters",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
				      "arp_answered", (json_int_t)c->arp_answered,
				      "keepalives", (json_int_t)c->keepalives,
				      "handshake_other", (json_int_t)c->handshake_other,
				      "not_ours", (json_int_t)c->not_ours,
				      "unknown_index", (json_int_t)c->unknown_index,
				      "replay", (json_int_t)c->replay,
				      "decrypt_failed", (json_int_t)c->decrypt_failed,
				      "bad_padding", (json_int_t)c->bad_padding,
				      "cookies", (json_int_t)c->cookies,
				      "hs_refused", (json_int_t)c->hs_refused,
				      "arp_learned", (json_int_t)c->arp_learned,
				      "arp_other", (json_int_t)c->arp_other));
	rc = json_dump_file(doc, path, JSON_INDENT(1));
	json_decref(doc);
	results_json = NULL;
	return rc;
}
