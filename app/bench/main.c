/* SPDX-License-Identifier: MIT */
/*
 * wgdp-bench: the data path's speed on one worker lcore, beside the raw AEAD rate of the
 * same machine in the same run. A program, not a test: it prints figures and never passes
 * or fails on them.
 *
 *   wgdp-bench [--reps N] [--bursts N] [--peers LIST] [--mem MB] [--max-peers N] [--cpu N]
 *              [--engine NAME] [--raw-only] [--raw-bursts N] [--nat LIST] [--configured N]
 *
 * --configured N: the tables hold N peers, of which the --peers count are the active
 * clients the traffic comes from and goes to (a concentrator with a million peers
 * configured and a tenth of them busy).
 *
 * The raw AEAD section runs every ChaCha20-Poly1305 engine this CPU has side by side on
 * the same buffers: intel-ipsec-mb one op at a time and in bursts, each multi-buffer
 * engine, and AUTO, at several sizes and IMIX, with a different key per op and with one
 * key for all; the measurements of all engines are interleaved, rep by rep.
 *
 * The gateway runs in this process over real sessions (lib/sim: net_ring ports, simulated
 * clients that made real handshakes). Only the gateway's wg_gw_worker_poll is timed, with
 * the TSC; building the frames (and, for decryption, encrypting them with fresh counters
 * as the clients) and taking the output away happen outside the timed region. Each poll
 * gets one burst of 32 packets. Every figure is the median of --reps measurements, with
 * the minimum and maximum beside it.
 *
 * --nat LIST: the cost of masquerade (docs/nat.md), for each number of flows in LIST, one
 * peer whose UDP flows (distinct ports) leave for the LAN host, decrypted and translated,
 * and whose replies come back to the masquerade address, translated and encrypted; NAT off
 * and NAT on measured in the same gateway, rep by rep in turn (masquerade switched off and
 * on between them, the flows kept), so that the two columns are side by side.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_version.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "gw_nat.h"
#include "wg_aead.h"
#include "wg_crypto.h"
#include "wg_pkt.h"
#include "wg_sim.h"

#define BURST      32
#define MAX_REPS   31
#define MAX_PEERS  8
#define N_SIZES    3

static const uint16_t sizes[N_SIZES] = { 64, 512, 1420 };

enum dir { ENC, DEC };
static const char *const dir_name[2] = { "encrypt LAN->WAN", "decrypt WAN->LAN" };

struct opts {
	unsigned reps, bursts, mem_mb, n_peers, cpu, raw_bursts;
	uint32_t peers[MAX_PEERS], max_peers;
	uint32_t configured;     /* peers in the tables in all, the active ones among them */
	enum wg_aead_engine engine;
	bool raw_only;
	unsigned dp_only;                 /* a size: the data path at that size only, no raw */
	bool obfuscated;                  /* each peer count again with AmneziaWG's form */
	uint32_t nat_flows[MAX_PEERS];    /* --nat: flow counts */
	unsigned n_nat;
};

struct series {
	double v[MAX_REPS];
	unsigned n;
};

/* The raw AEAD rates, kept for the data path's ratio. */
struct baseline {
	struct series burst[N_SIZES][2];
};

/* ---- options and the header ---- */

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--reps N] [--bursts N] [--peers LIST] [--mem MB] [--max-peers N]\n"
		"          [--cpu N] [--engine NAME] [--raw-only] [--raw-bursts N] [--dp-only SIZE]\n"
		"          [--obfuscated]\n"
		"  --reps N        measurements per figure, median printed (default 5, max %u)\n"
		"  --bursts N      bursts of %u packets per measurement (default 4000)\n"
		"  --peers LIST    peer counts, comma-separated (default 1,1000; 100000 needs\n"
		"                  about --mem 2048)\n"
		"  --mem MB        EAL memory, -m (default 512)\n"
		"  --max-peers N   gateway capacity (default: the peer count)\n"
		"  --configured N  N peers configured in all (each a /32 and a /128), of which\n"
		"                  the --peers count are active clients (e.g. 1000000 with\n"
		"                  --peers 100000; needs about --mem 5120)\n"
		"  --cpu N         the CPU to run on (EAL -l N; default 0)\n"
		"  --engine NAME   the AEAD engine for the data path: auto, ipsec-mb, ref, avx2,\n"
		"                  avx512 (default auto)\n"
		"  --raw-only      only the raw AEAD section\n"
		"  --raw-bursts N  bursts of %u per raw AEAD measurement (default 2000)\n"
		"  --dp-only SIZE  the data path at that packet size only, no raw section\n"
		"  --obfuscated    each peer count twice, side by side: plain WireGuard, then\n"
		"                  AmneziaWG's form (h1..h4, s1/s2; every client obfuscated)\n"
		"  --nat LIST      instead of the peer counts: masquerade off and on side by side,\n"
		"                  one peer with each number of UDP flows in LIST (e.g. 1,100000)\n",
		prog, MAX_REPS, BURST, BURST);
}

static int parse_peers(struct opts *o, const char *s)
{
	char *end;

	o->n_peers = 0;
	while (*s && o->n_peers < MAX_PEERS) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v == 0 || v > WG_SIM_MAX_CLIENTS || (*end && *end != ','))
			return -1;
		o->peers[o->n_peers++] = (uint32_t)v;
		s = *end ? end + 1 : end;
	}
	return *s || o->n_peers == 0 ? -1 : 0;
}

static int parse_list(const char *s, uint32_t min, uint32_t max, uint32_t *out, unsigned *n)
{
	char *end;

	*n = 0;
	while (*s && *n < MAX_PEERS) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v < min || v > max || (*end && *end != ','))
			return -1;
		out[(*n)++] = (uint32_t)v;
		s = *end ? end + 1 : end;
	}
	return *s || *n == 0 ? -1 : 0;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "reps", required_argument, NULL, 'r' },
		{ "bursts", required_argument, NULL, 'b' },
		{ "peers", required_argument, NULL, 'p' },
		{ "mem", required_argument, NULL, 'm' },
		{ "max-peers", required_argument, NULL, 'x' },
		{ "configured", required_argument, NULL, 'C' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "engine", required_argument, NULL, 'e' },
		{ "raw-only", no_argument, NULL, 'o' },
		{ "dp-only", required_argument, NULL, 'D' },
		{ "raw-bursts", required_argument, NULL, 'w' },
		{ "obfuscated", no_argument, NULL, 'O' },
		{ "nat", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned v = 0;
	int c, bad = 0;

	*o = (struct opts){ .reps = 5, .bursts = 4000, .mem_mb = 512, .n_peers = 2,
			    .peers = { 1, 1000 }, .raw_bursts = 2000, .engine = WG_AEAD_AUTO };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': bad |= parse_uint(optarg, 1, MAX_REPS, &o->reps); break;
		case 'b': bad |= parse_uint(optarg, 1, 10000000, &o->bursts); break;
		case 'p': bad |= parse_peers(o, optarg); break;
		case 'm': bad |= parse_uint(optarg, 64, 1u << 20, &o->mem_mb); break;
		case 'c': bad |= parse_uint(optarg, 0, 1023, &o->cpu); break;
		case 'w': bad |= parse_uint(optarg, 1, 10000000, &o->raw_bursts); break;
		case 'o': o->raw_only = true; break;
		case 'O': o->obfuscated = true; break;
		case 'N': bad |= parse_list(optarg, 1, 1000000, o->nat_flows, &o->n_nat); break;
		case 'D': bad |= parse_uint(optarg, 28, 1420, &o->dp_only); break;
		case 'e':
			if (wg_aead_engine_parse(optarg, &o->engine) != 0) {
				fprintf(stderr, "unknown engine '%s'\n", optarg);
				bad = -1;
			} else if (!wg_aead_engine_supported(o->engine)) {
				fprintf(stderr, "engine '%s' cannot run on this CPU\n", optarg);
				bad = -1;
			}
			break;
		case 'x':
			bad |= parse_uint(optarg, 1, WG_SIM_MAX_CLIENTS, &v);
			o->max_peers = bad ? 0 : v;
			break;
		case 'C':
			bad |= parse_uint(optarg, 1, 4000000, &v);
			o->configured = bad ? 0 : v;
			break;
		default: bad = -1; break;
		}
	}
	return bad || optind != argc ? -1 : 0;
}

static void cpu_model(char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(out, len, "unknown");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
			snprintf(out, len, "%s", strchr(line, ':') + 2);
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
}

static void print_header(int argc, char **argv, const struct opts *o, const struct wg_aead *a)
{
	char cpu[128];

	cpu_model(cpu, sizeof(cpu));
	printf("wgdp-bench: the data path on one worker lcore, beside the raw AEAD rate\n");
	printf("command:  ");
	for (int i = 0; i < argc; i++)
		printf(strpbrk(argv[i], " \t'\"") ? " '%s'" : " %s", argv[i]);
	printf("\ncpu:       %s, %ld online, TSC %.3f GHz\n", cpu, sysconf(_SC_NPROCESSORS_ONLN),
	       (double)rte_get_tsc_hz() / 1e9);
	printf("aead:      engine %s: %s\n", wg_aead_engine_name(wg_aead_engine(a)),
	       wg_aead_describe(a));
	printf("dpdk:      %s; EAL -l %u -m %u %s\n", rte_version(), o->cpu, o->mem_mb,
	       getenv("WGDP_SIM_HUGE") && strcmp(getenv("WGDP_SIM_HUGE"), "1") == 0 ?
	       "--in-memory (2 MB hugepages)" : "--no-huge");
	printf("method:    median [min, max] of %u measurements; raw AEAD: %u bursts of %u "
	       "buffers each;\n", o->reps, o->raw_bursts, BURST);
	if (!o->raw_only)
		printf("           data path: %u bursts of %u packets each, IPv4 UDP inside and "
		       "outside, Gbit/s counts inner IP bytes\n", o->bursts, BURST);
	printf("\n");
}

/* ---- figures ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const struct series *s)
{
	double v[MAX_REPS];

	if (s->n == 0)
		return 0;
	memcpy(v, s->v, s->n * sizeof(v[0]));
	qsort(v, s->n, sizeof(v[0]), cmp_double);
	return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

static double lo(const struct series *s)
{
	double m = s->n ? s->v[0] : 0;

	for (unsigned i = 1; i < s->n; i++)
		m = s->v[i] < m ? s->v[i] : m;
	return m;
}

static double hi(const struct series *s)
{
	double m = s->n ? s->v[0] : 0;

	for (unsigned i = 1; i < s->n; i++)
		m = s->v[i] > m ? s->v[i] : m;
	return m;
}

static double mpps(uint64_t pkts, uint64_t cycles)
{
	return cycles ? (double)pkts * (double)rte_get_tsc_hz() / (double)cycles / 1e6 : 0;
}

/* "12.34 [12.01, 12.50]": Mpps, median and range. */
static void print_series(const struct series *s)
{
	printf(" %6.3f [%6.3f, %6.3f]", median(s), lo(s), hi(s));
}

static double gbps(double mpps_v, uint16_t size)
{
	return mpps_v * 1e6 * size * 8 / 1e9;
}

/* ---- raw AEAD ---- */

#define RAW_SIZES 6                     /* 64, 128, 256, 512, 1420 and IMIX */
#define IMIX_SETS 12                    /* distinct IMIX bursts, taken in turn */
#define MAX_RUNNERS 10

/* Text lengths as the data path pads them (to 16, not past the 1420-byte MTU): already so. */
static const uint16_t raw_sizes[RAW_SIZES] = { 64, 128, 256, 512, 1420, 0 };

/* One column of the raw tables: an engine and the burst size it is called with. */
struct runner {
	char label[24];
	enum wg_aead_engine e;
	unsigned burst;
	struct wg_aead *a;
	struct series s[2][RAW_SIZES][2];   /* [same key][size][dir] */
};

struct raw_bufs {
	uint8_t *work, *pristine;
	struct wg_aead_op ops[IMIX_SETS][BURST];
	uint8_t keys[BURST][WG_KEY_LEN];
	size_t off[IMIX_SETS], len[IMIX_SETS];  /* each set's bytes in work / pristine */
	unsigned sets;
};

/* IMIX: exactly 7:4:1 of 64, 576 and 1420 bytes over IMIX_SETS bursts, shuffled across
 * and within the bursts by a fixed pseudo-random permutation (the same in every run). */
static void imix_lens(uint32_t lens[IMIX_SETS][BURST])
{
	uint32_t state = 1;

	for (unsigned i = 0; i < IMIX_SETS * BURST; i++)
		lens[i / BURST][i % BURST] = i % 12 < 7 ? 64 : i % 12 < 11 ? 576 : 1420;
	for (unsigned i = IMIX_SETS * BURST - 1; i > 0; i--) {
		unsigned j, t;

		state = state * 1103515245u + 12345u;
		j = (state >> 8) % (i + 1);
		t = lens[i / BURST][i % BURST];
		lens[i / BURST][i % BURST] = lens[j / BURST][j % BURST];
		lens[j / BURST][j % BURST] = t;
	}
}

static int raw_bufs_init(struct raw_bufs *b, struct wg_aead *enc, uint16_t size, bool same_key)
{
	uint32_t lens[IMIX_SETS][BURST];
	size_t total = 0;

	memset(b, 0, sizeof(*b));
	b->sets = size ? 1 : IMIX_SETS;
	imix_lens(lens);
	for (unsigned s = 0; s < b->sets; s++) {
		b->off[s] = total;
		for (unsigned i = 0; i < BURST; i++) {
			lens[s][i] = size ? size : lens[s][i];
			total += (lens[s][i] + WG_AEAD_TAG_LEN + 63) / 64 * 64;
		}
		b->len[s] = total - b->off[s];
	}
	b->work = aligned_alloc(64, total);
	b->pristine = aligned_alloc(64, total);
	if (b->work == NULL || b->pristine == NULL)
		return -1;
	wg_random(b->keys, sizeof(b->keys));
	wg_random(b->pristine, total);
	for (unsigned s = 0; s < b->sets; s++) {
		size_t at = b->off[s];

		for (unsigned i = 0; i < BURST; i++) {
			struct wg_aead_op *op = &b->ops[s][i];

			*op = (struct wg_aead_op){ .key = b->keys[same_key ? 0 : i],
						   .buf = b->pristine + at, .len = lens[s][i] };
			wg_aead_nonce(op->nonce, s * BURST + i);
			at += (lens[s][i] + WG_AEAD_TAG_LEN + 63) / 64 * 64;
		}
		/* Valid ciphertexts and tags to decrypt, kept aside and copied in before each
		 * burst. */
		wg_aead_encrypt_burst(enc, b->ops[s], BURST);
		for (unsigned i = 0; i < BURST; i++)
			b->ops[s][i].buf = b->work + (b->ops[s][i].buf - b->pristine);
	}
	return 0;
}

static void raw_bufs_free(struct raw_bufs *b)
{
	free(b->work);
	free(b->pristine);
}

/* One measurement: Mpps. */
static double raw_once(struct runner *r, struct raw_bufs *b, enum dir d, unsigned n_bursts)
{
	uint64_t cycles = 0, good = 0;

	for (unsigned k = 0; k < n_bursts; k++) {
		unsigned s = k % b->sets;
		struct wg_aead_op *ops = b->ops[s];
		uint64_t t0;

		memcpy(b->work + b->off[s], b->pristine + b->off[s], b->len[s]);   /* untimed */
		t0 = rte_rdtsc();
		for (unsigned i = 0; i < BURST; i += r->burst)
			good += d == ENC ? wg_aead_encrypt_burst(r->a, ops + i, r->burst) :
				wg_aead_decrypt_burst(r->a, ops + i, r->burst);
		cycles += rte_rdtsc() - t0;
	}
	if (good != (uint64_t)n_bursts * BURST)
		printf("warning: raw AEAD %s: %lu of %lu buffers failed\n", r->label,
		       (unsigned long)((uint64_t)n_bursts * BURST - good),
		       (unsigned long)((uint64_t)n_bursts * BURST));
	return mpps((uint64_t)n_bursts * BURST, cycles);
}

static unsigned make_runners(const struct opts *o, struct runner *r)
{
	static const struct { enum wg_aead_engine e; unsigned burst; } want[] = {
		{ WG_AEAD_IPSECMB, 1 }, { WG_AEAD_IPSECMB, BURST }, { WG_AEAD_REF, BURST },
		{ WG_AEAD_AVX2, BURST }, { WG_AEAD_AVX512, BURST }, { WG_AEAD_AUTO, BURST },
		{ WG_AEAD_AVX2, 1 }, { WG_AEAD_AVX512, 1 }, { WG_AEAD_AUTO, 1 },
	};
	unsigned n = 0;

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]) && n < MAX_RUNNERS; i++) {
		/* The reference is slow: only when it is the engine asked for. */
		if (want[i].e == WG_AEAD_REF && o->engine != WG_AEAD_REF)
			continue;
		if (!wg_aead_engine_supported(want[i].e)) {
			if (want[i].burst == BURST)
				printf("(engine %s: not supported by this CPU, skipped)\n",
				       wg_aead_engine_name(want[i].e));
			continue;
		}
		memset(&r[n], 0, sizeof(r[n]));
		r[n].e = want[i].e;
		r[n].burst = want[i].burst;
		snprintf(r[n].label, sizeof(r[n].label), "%s %s", wg_aead_engine_name(want[i].e),
			 want[i].burst == 1 ? "1-by-1" : "x32");
		r[n].a = wg_aead_create_engine(want[i].e);
		if (r[n].a == NULL)
			continue;
		n++;
	}
	return n;
}

static const char *size_name(uint16_t size, char *buf, size_t len)
{
	if (size)
		snprintf(buf, len, "%u", size);
	else
		snprintf(buf, len, "IMIX");
	return buf;
}

static void print_raw_tables(const struct runner *r, unsigned nr, int same)
{
	char sz[8];

	printf("\nraw ChaCha20-Poly1305, one lcore, %s: Mpps median [min, max]\n",
	       same ? "ONE KEY for every op" : "a DIFFERENT KEY per op (as from 32 peers)");
	printf(" size  dir    ");
	for (unsigned k = 0; k < nr; k++)
		printf(" %-24s", r[k].label);
	printf("\n");
	for (unsigned si = 0; si < RAW_SIZES; si++)
		for (int d = ENC; d <= DEC; d++) {
			printf("%5s  %-7s", size_name(raw_sizes[si], sz, sizeof(sz)),
			       d == ENC ? "encrypt" : "decrypt");
			for (unsigned k = 0; k < nr; k++) {
				print_series(&r[k].s[same][si][d]);
				printf("  ");
			}
			printf("\n");
		}
	printf("Gbit/s of the medians (text bytes; IMIX: 7:4:1 of 64/576/1420 within bursts), "
	       "and each engine / %s\n", r[0].label);
	printf(" size  dir    ");
	for (unsigned k = 0; k < nr; k++)
		printf(" %15s", r[k].label);
	printf("   ");
	for (unsigned k = 1; k < nr; k++)
		printf(" %15s", r[k].label);
	printf("\n");
	for (unsigned si = 0; si < RAW_SIZES; si++)
		for (int d = ENC; d <= DEC; d++) {
			double base = median(&r[0].s[same][si][d]);
			/* Text bytes per op: the size, or IMIX's exact mean. */
			double mean = raw_sizes[si] ? raw_sizes[si] : (7 * 64 + 4 * 576 + 1420) / 12.0;

			printf("%5s  %-7s", size_name(raw_sizes[si], sz, sizeof(sz)),
			       d == ENC ? "encrypt" : "decrypt");
			for (unsigned k = 0; k < nr; k++)
				printf(" %15.2f", median(&r[k].s[same][si][d]) * mean * 8 / 1e3);
			printf("   ");
			for (unsigned k = 1; k < nr; k++)
				printf(" %14.2fx", base > 0 ? median(&r[k].s[same][si][d]) / base : 0);
			printf("\n");
		}
}

static int run_aead(const struct opts *o, struct baseline *base)
{
	struct runner *r = calloc(MAX_RUNNERS, sizeof(*r));
	struct wg_aead *enc = wg_aead_create_engine(WG_AEAD_IPSECMB);
	unsigned nr, pick = 0;
	int rc = 0;

	if (r == NULL || enc == NULL) {
		free(r);
		wg_aead_free(enc);
		return -1;
	}
	nr = make_runners(o, r);
	printf("raw AEAD engines on this CPU:");
	for (unsigned k = 0; k < nr; k++)
		if (r[k].burst == BURST)
			printf(" %s = %s;", wg_aead_engine_name(r[k].e), wg_aead_describe(r[k].a));
	printf("\n%u bursts of %u buffers per measurement, each measurement of every column "
	       "interleaved with the others, %u reps\n", o->raw_bursts, BURST, o->reps);
	for (unsigned k = 0; k < nr; k++)
		if (r[k].e == o->engine && r[k].burst == BURST)
			pick = k;
	for (int same = 0; same <= 1 && rc == 0; same++) {
		for (unsigned si = 0; si < RAW_SIZES; si++) {
			struct raw_bufs b;

			if (raw_bufs_init(&b, enc, raw_sizes[si], same) != 0) {
				rc = -1;
				break;
			}
			for (unsigned k = 0; k < nr; k++)           /* warm up */
				for (int d = ENC; d <= DEC; d++)
					raw_once(&r[k], &b, d, o->raw_bursts / 8 + 1);
			for (unsigned rep = 0; rep < o->reps; rep++)
				for (unsigned k = 0; k < nr; k++)
					for (int d = ENC; d <= DEC; d++) {
						struct series *s = &r[k].s[same][si][d];

						s->v[s->n++] = raw_once(&r[k], &b, d, o->raw_bursts);
					}
			raw_bufs_free(&b);
		}
		print_raw_tables(r, nr, same);
	}
	/* The data path's baseline: the chosen engine in bursts of 32, different keys. */
	for (unsigned si = 0; si < N_SIZES; si++)
		for (unsigned rs = 0; rs < RAW_SIZES; rs++)
			if (raw_sizes[rs] == sizes[si])
				for (int d = ENC; d <= DEC; d++)
					base->burst[si][d] = r[pick].s[0][rs][d];
	printf("\n");
	for (unsigned k = 0; k < nr; k++)
		wg_aead_free(r[k].a);
	wg_aead_free(enc);
	free(r);
	return rc;
}

/* ---- the data path ---- */

struct dp_run {
	struct wg_sim *s;
	uint64_t heap[MAX_PEERS];              /* the gateway's DPDK heap per peer count */
	uint32_t peers, cursor;
	uint16_t size;
	uint8_t pkt[BURST][WG_SIM_MAX_PKT];   /* the inner packets of one burst */
};

/* Packet i of a burst: IPv4 UDP of the run's size, built afresh (untimed). */
static void make_inner(struct dp_run *r, unsigned i, struct wg_ip src, struct wg_ip dst)
{
	struct wg_sim_pkt p = { .src = src, .dst = dst, .size = r->size,
				.proto = WG_IPPROTO_UDP, .tag = r->cursor };

	wg_sim_build_pkt(r->pkt[i], WG_SIM_MAX_PKT, &p);
}

/* One burst of LAN frames to the next 32 peers, round robin. */
static unsigned lan_burst(struct dp_run *r, struct rte_mbuf **m)
{
	for (unsigned i = 0; i < BURST; i++) {
		unsigned k = r->cursor++ % r->peers;

		make_inner(r, i, wg_sim_lan_host_ip(WG_AF_INET), wg_sim_client_tunnel_ip(k, WG_AF_INET));
		if ((m[i] = wg_sim_lan_frame(r->s, r->pkt[i], r->size)) == NULL) {
			wg_sim_free(m, i);
			return 0;
		}
	}
	return BURST;
}

/* One burst of data messages from the next 32 peers, encrypted by them with fresh
 * counters (the gateway's replay window would refuse old ones). */
static unsigned wan_burst(struct dp_run *r, struct rte_mbuf **m)
{
	unsigned clients[BURST];
	const uint8_t *ips[BURST];
	uint16_t lens[BURST];

	for (unsigned i = 0; i < BURST; i++) {
		clients[i] = r->cursor++ % r->peers;
		make_inner(r, i, wg_sim_client_tunnel_ip(clients[i], WG_AF_INET),
			   wg_sim_lan_host_ip(WG_AF_INET));
		ips[i] = r->pkt[i];
		lens[i] = r->size;
	}
	return wg_sim_client_data_raw(r->s, clients, ips, lens, BURST, m);
}

/* One measurement: Mpps through wg_gw_worker_poll alone. */
static double dp_once(struct dp_run *r, enum dir d, unsigned n_bursts)
{
	struct rte_mbuf *m[BURST];
	struct wg_gw_stats before, after;
	uint64_t cycles = 0, want = 0, done;

	wg_sim_stats(r->s, &before);
	for (unsigned b = 0; b < n_bursts; b++) {
		unsigned n = d == ENC ? lan_burst(r, m) : wan_burst(r, m);

		want += wg_sim_inject(r->s, d == ENC ? WG_SIM_LAN : WG_SIM_WAN, m, n);
		cycles += wg_sim_poll_worker(r->s);     /* the only timed call */
		wg_sim_poll_control(r->s);
		wg_sim_drain(r->s);
		wg_sim_discard(r->s);
		wg_sim_advance(r->s, 1000);
	}
	wg_sim_stats(r->s, &after);
	done = d == ENC ? after.encrypted - before.encrypted : after.decrypted - before.decrypted;
	if (done != want)     /* a figure for packets that were dropped would be wrong */
		printf("warning: %s: %lu of %lu packets went through\n", dir_name[d],
		       (unsigned long)done, (unsigned long)want);
	return mpps(done, cycles);
}

static void print_dp_row(const struct dp_run *r, unsigned si, enum dir d,
			 const struct series *s, const struct baseline *base)
{
	double raw = median(&base->burst[si][d]);

	printf("%7u %5u  %-17s", r->peers, sizes[si], dir_name[d]);
	print_series(s);
	printf(" %7.2f  %6.3f   %5.1f%%\n", gbps(median(s), sizes[si]), raw,
	       raw > 0 ? 100 * median(s) / raw : 0);
}

/* Handshakes for every peer; the control lcore's share of the time gives its rate. */
static int handshake_all(struct wg_sim *s, uint32_t peers)
{
	uint64_t c0 = wg_sim_counters(s)->control_cycles, w0 = wg_sim_counters(s)->worker_cycles;
	unsigned done = wg_sim_handshake_all(s);
	double ctrl = (double)(wg_sim_counters(s)->control_cycles - c0) / (double)rte_get_tsc_hz();
	double wk = (double)(wg_sim_counters(s)->worker_cycles - w0) / (double)rte_get_tsc_hz();

	printf("\n%u peer%s: %u handshake%s; control lcore %.1f ms (%.0f handshakes/s), worker "
	       "%.1f ms; gateway heap %.1f MiB\n", peers, peers == 1 ? "" : "s", done,
	       done == 1 ? "" : "s", ctrl * 1e3,
	       ctrl > 0 ? done / ctrl : 0, wk * 1e3,
	       (double)wg_sim_gw_heap_bytes(s) / (1 << 20));
	return done == peers ? 0 : -1;
}

/* AmneziaWG's form for --obfuscated: the values of shared/peers/README.md's example. */
static const struct wg_obfs bench_obfs = {
	.h = { 1020325451u, 3288052141u, 1766607858u, 2528465083u }, .s1 = 15, .s2 = 68,
};

/* --configured: peers that never send, each with a /32 in 100.64.0.0/10 and a /128 in
 * fd77::/96, added through the `set` interface in requests of 100,000. */
static int add_idle(struct wg_sim *s, uint32_t n)
{
	enum { PER_SET = 100000, LINE = 160 };
	char *body = malloc((size_t)PER_SET * LINE + 1), why[256];
	uint64_t t0 = rte_get_tsc_cycles();

	if (body == NULL)
		return -1;
	for (uint32_t done = 0; done < n;) {
		size_t at = 0;

		for (uint32_t k = 0; k < PER_SET && done < n; k++, done++) {
			uint8_t key[WG_KEY_LEN];
			char hex[WG_KEY_HEX_LEN + 1];

			wg_random(key, sizeof(key));
			wg_key_to_hex(hex, key);
			at += (size_t)snprintf(body + at, LINE + 1,
					       "public_key=%s\nallowed_ip=100.%u.%u.%u/32\n"
					       "allowed_ip=fd77::%x:%x/128\n", hex, 64 + (done >> 16),
					       (done >> 8) & 255, done & 255, done >> 16, done & 0xffff);
		}
		if (wg_sim_uapi_set(s, body, why, sizeof(why)) != 0) {
			fprintf(stderr, "wgdp-bench: configuring idle peers: %s\n", why);
			free(body);
			return -1;
		}
	}
	free(body);
	printf("%u idle peers configured in %.1f s\n", n,
	       (double)(rte_get_tsc_cycles() - t0) / (double)rte_get_tsc_hz());
	return 0;
}

static int run_peers(const struct opts *o, unsigned idx, const struct baseline *base,
		     struct dp_run *r, bool obfuscated)
{
	uint32_t peers = o->peers[idx];
	uint32_t all = o->configured > peers ? o->configured : peers;
	struct wg_sim_params p = { .n_clients = peers,
		.max_peers = o->max_peers > all ? o->max_peers : all,
		.aead_engine = wg_aead_engine_name(o->engine),
		.obfs = obfuscated ? &bench_obfs : NULL };
	char err[256];

	r->s = wg_sim_create(&p, err, sizeof(err));
	if (r->s == NULL) {
		fprintf(stderr, "wgdp-bench: %u peers: %s\n", peers, err);
		return -1;
	}
	r->peers = peers;
	if (all > peers && add_idle(r->s, all - peers) != 0) {
		wg_sim_destroy(r->s);
		return -1;
	}
	r->heap[idx] = wg_sim_gw_heap_bytes(r->s);
	if (o->obfuscated)
		printf("form: %s\n", obfuscated ? "AmneziaWG (h1..h4 = 1020325451 3288052141 "
		       "1766607858 2528465083, s1 15, s2 68)" : "plain WireGuard");
	if (handshake_all(r->s, peers) != 0) {
		wg_sim_destroy(r->s);
		return -1;
	}
	printf("  peers  size  direction          Mpps                      Gbit/s  raw AEAD  "
	       "data path/raw\n");
	for (unsigned si = 0; si < N_SIZES; si++)
		for (int d = ENC; d <= DEC; d++) {
			struct series s = { .n = 0 };

			if (o->dp_only && sizes[si] != o->dp_only)
				continue;
			r->size = sizes[si];
			dp_once(r, d, o->bursts / 4 + 1);    /* warm up: caches, tables, pools */
			for (unsigned i = 0; i < o->reps; i++)
				s.v[s.n++] = dp_once(r, d, o->bursts);
			print_dp_row(r, si, d, &s, base);
		}
	wg_sim_destroy(r->s);
	return 0;
}

/* Memory per peer: the growth of the gateway's DPDK heap between peer counts (its fixed
 * part, mostly the LPM tables, cancels out; malloc'd bits are not counted). */
static void print_memory(const struct opts *o, const struct dp_run *r)
{
	if (o->n_peers > 1)
		printf("\nmemory per peer: the growth of the gateway's DPDK heap\n");
	for (unsigned i = 1; i < o->n_peers; i++)
		if (o->peers[i] != o->peers[i - 1])
			printf("  %.0f bytes per peer from %u to %u peers\n",
			       ((double)r->heap[i] - (double)r->heap[i - 1]) /
			       ((double)o->peers[i] - (double)o->peers[i - 1]),
			       o->peers[i - 1], o->peers[i]);
}

/* ---- --nat: masquerade off and on ---- */

struct nat_run {
	struct wg_sim *s;
	uint32_t flows, cursor;
	uint16_t size;
	uint16_t *outside;                     /* flow j's outside port (network order) */
	uint8_t pkt[BURST][WG_SIM_MAX_PKT];
};

/* Flow j: the client's source port and the LAN host's port: 30,000 flows to each of
 * the host's ports, so that no remote end takes half of the outside ports. */
static uint16_t flow_sport(uint32_t j) { return (uint16_t)(1024 + j % 30000); }
static uint16_t flow_dport(uint32_t j) { return (uint16_t)(5000 + j / 30000); }

/* A UDP packet of the run's size between the client and the LAN host, ports set. */
static void nat_pkt(struct nat_run *r, unsigned i, bool out, uint32_t j, bool masq)
{
	struct wg_ip client = wg_sim_client_tunnel_ip(0, WG_AF_INET), host = wg_sim_lan_host_ip(WG_AF_INET);
	struct wg_ip gw = wg_sim_gw_ip(WG_SIM_LAN, WG_AF_INET);
	struct wg_sim_pkt p = { .src = out ? client : host, .dst = out ? host : (masq ? gw : client),
				.size = r->size, .proto = WG_IPPROTO_UDP, .tag = j };
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)r->pkt[i];
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	wg_sim_build_pkt(r->pkt[i], WG_SIM_MAX_PKT, &p);
	udp->src_port = rte_cpu_to_be_16(out ? flow_sport(j) : flow_dport(j));
	udp->dst_port = out ? rte_cpu_to_be_16(flow_dport(j)) :
			masq ? r->outside[j] : rte_cpu_to_be_16(flow_sport(j));
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
}

static unsigned nat_burst(struct nat_run *r, enum dir d, bool masq, struct rte_mbuf **m)
{
	unsigned clients[BURST] = { 0 };
	const uint8_t *ips[BURST];
	uint16_t lens[BURST];

	for (unsigned i = 0; i < BURST; i++) {
		nat_pkt(r, i, d == DEC, r->cursor++ % r->flows, masq);
		ips[i] = r->pkt[i];
		lens[i] = r->size;
		if (d == ENC && (m[i] = wg_sim_lan_frame(r->s, r->pkt[i], r->size)) == NULL) {
			wg_sim_free(m, i);
			return 0;
		}
	}
	return d == ENC ? BURST : wg_sim_client_data_raw(r->s, clients, ips, lens, BURST, m);
}

static double nat_once(struct nat_run *r, enum dir d, bool masq, unsigned n_bursts)
{
	struct rte_mbuf *m[BURST];
	struct wg_gw_stats before, after;
	uint64_t cycles = 0, want = 0, done;
	struct wg_config_masq on = { .enabled = masq };
	char why[128];

	if (wg_gw_masquerade(wg_sim_gw(r->s), "lan", &on, false, why, sizeof(why)) != 0)
		printf("warning: masquerade %s: %s\n", masq ? "on" : "off", why);
	wg_sim_stats(r->s, &before);
	for (unsigned b = 0; b < n_bursts; b++) {
		unsigned n = nat_burst(r, d, masq, m);

		want += wg_sim_inject(r->s, d == ENC ? WG_SIM_LAN : WG_SIM_WAN, m, n);
		cycles += wg_sim_poll_worker(r->s);     /* the only timed call */
		wg_sim_poll_control(r->s);
		wg_sim_drain(r->s);
		wg_sim_discard(r->s);
		wg_sim_advance(r->s, 1000);
	}
	wg_sim_stats(r->s, &after);
	done = d == ENC ? after.encrypted - before.encrypted : after.decrypted - before.decrypted;
	if (masq)
		done = d == ENC ? after.nat.translated_in - before.nat.translated_in :
		       after.nat.translated_out - before.nat.translated_out;
	if (done != want)
		printf("warning: %s, NAT %s: %lu of %lu packets went through\n", dir_name[d],
		       masq ? "on" : "off", (unsigned long)done, (unsigned long)want);
	return mpps(done, cycles);
}

/* Every flow's outside port, from the gateway's listing, by the flow's ports. */
static int nat_learn(struct nat_run *r)
{
	struct wg_gw_flow f;
	uint64_t pos = 0;
	uint32_t found = 0;

	while (wg_gw_flow_next(wg_sim_gw(r->s), &pos, &f) == 0) {
		uint32_t j = (uint32_t)(f.inside.port - 1024) + 30000u * (f.remote.port - 5000u);

		if (f.inside.port >= 1024 && f.remote.port >= 5000 && j < r->flows) {
			r->outside[j] = rte_cpu_to_be_16(f.outside.port);
			found++;
		}
	}
	return found == r->flows ? 0 : -1;
}

static int nat_setup(const struct opts *o, struct nat_run *r, uint32_t flows)
{
	struct wg_sim_params p = { .n_clients = 1, .aead_engine = wg_aead_engine_name(o->engine) };
	struct wg_config_nat lim = { .max_flows = flows * 2 < 1024 ? 1024 : flows * 2,
				     .max_flows_per_source = flows * 2 < 1024 ? 1024 : flows * 2 };
	char err[256];

	r->s = wg_sim_create(&p, err, sizeof(err));
	if (r->s == NULL) {
		fprintf(stderr, "wgdp-bench: %s\n", err);
		return -1;
	}
	r->flows = flows;
	r->cursor = 0;
	r->outside = calloc(flows, sizeof(*r->outside));
	if (r->outside == NULL || wg_sim_handshake_all(r->s) != 1 ||
	    wg_gw_nat_set_limits(wg_sim_gw(r->s), &lim, false, err, sizeof(err)) != 0) {
		fprintf(stderr, "wgdp-bench: --nat %u: setup failed %s\n", flows, err);
		return -1;
	}
	/* Open every flow (masquerade on), then learn their outside ports. */
	r->size = 64;
	nat_once(r, DEC, true, flows / BURST + 2);
	if (nat_learn(r) != 0) {
		fprintf(stderr, "wgdp-bench: --nat %u: not every flow was opened\n", flows);
		return -1;
	}
	return 0;
}

static int run_nat(const struct opts *o, uint32_t flows)
{
	static struct nat_run r;

	if (nat_setup(o, &r, flows) != 0) {
		if (r.s)
			wg_sim_destroy(r.s);
		free(r.outside);
		return -1;
	}
	printf("\n1 peer, %u UDP flow%s\n", flows, flows == 1 ? "" : "s");
	printf("  flows  size  direction          NAT off Mpps [min, max]   NAT on Mpps [min, max]"
	       "    on/off\n");
	for (unsigned si = 0; si < N_SIZES; si++)
		for (int d = ENC; d <= DEC; d++) {
			struct series off = { .n = 0 }, on = { .n = 0 };

			if (o->dp_only && sizes[si] != o->dp_only)
				continue;
			r.size = sizes[si];
			nat_once(&r, d, false, o->bursts / 4 + 1);
			nat_once(&r, d, true, o->bursts / 4 + 1);
			for (unsigned i = 0; i < o->reps; i++) {
				off.v[off.n++] = nat_once(&r, d, false, o->bursts);
				on.v[on.n++] = nat_once(&r, d, true, o->bursts);
			}
			printf("%7u %5u  %-17s", flows, sizes[si], dir_name[d]);
			print_series(&off);
			printf("  ");
			print_series(&on);
			printf("  %6.1f%%\n", median(&off) > 0 ? 100 * median(&on) / median(&off) : 0);
		}
	wg_sim_destroy(r.s);
	free(r.outside);
	r.s = NULL;
	r.outside = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	static struct baseline base;
	static struct dp_run run;
	struct opts o;
	struct wg_aead *a;
	int rc = 0;

	if (parse_opts(&o, argc, argv) != 0) {
		usage(argv[0]);
		return 2;
	}
	if (wg_sim_eal_init(argv[0], o.mem_mb, o.cpu) != 0)
		return 1;
	a = wg_aead_create_engine(o.engine);
	if (a == NULL) {
		fprintf(stderr, "wgdp-bench: no AEAD context\n");
		wg_sim_eal_cleanup();
		return 1;
	}
	print_header(argc, argv, &o, a);
	if (o.n_nat) {
		printf("masquerade: wg_gw_worker_poll only; NAT off and on in the same gateway, "
		       "measurements in turn\n");
		for (unsigned i = 0; rc == 0 && i < o.n_nat; i++)
			rc = run_nat(&o, o.nat_flows[i]);
		goto out;
	}
	if (!o.dp_only)
		rc = run_aead(&o, &base);
	if (o.raw_only || rc != 0)
		goto out;
	printf("the gateway's ChaCha20-Poly1305 engine: %s\n", wg_aead_engine_name(o.engine));
	printf("data path: wg_gw_worker_poll only; Mpps median [min, max]; Gbit/s of the median;"
	       "\nthe last columns: raw burst AEAD Mpps at that size and the data path's share of it\n");
	for (unsigned i = 0; rc == 0 && i < o.n_peers; i++) {
		rc = run_peers(&o, i, &base, &run, false);
		if (rc == 0 && o.obfuscated)
			rc = run_peers(&o, i, &base, &run, true);
	}
	if (rc == 0)
		print_memory(&o, &run);
out:
	wg_aead_free(a);
	wg_sim_eal_cleanup();
	return rc ? 1 : 0;
}
