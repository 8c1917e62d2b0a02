/* SPDX-License-Identifier: MIT */
/*
 * wgdpctl import: a wg-quick server file (wg0.conf) as a wgdp configuration.
 *
 *   wgdpctl import [-o OUT] [--name NAME] --address CIDR [--address CIDR...] [--device DEV]
 *                  [--gateway4 IP] [--wan-device DEV --wan-address CIDR...] WG0.CONF
 *
 * What it carries: [Interface] PrivateKey, ListenPort, MTU, FwMark; Address, whose
 * prefixes become the masquerade's sources; PostUp's `iptables -t nat -A POSTROUTING
 * [-s SRC] -o IF -j MASQUERADE` (masquerade on the port; IF names its device,
 * net_af_packet0,iface=IF, unless --device says otherwise), `iptables -A FORWARD -i %i
 * [-d DST] [-p tcp|udp|icmp] [--dport N[:M]] -j ACCEPT` followed by a catch-all DROP or
 * REJECT from the tunnel (a set of destination rules every peer is put under), the ACCEPT
 * lines without conditions (what wgdp does anyway) and `sysctl net.ipv4.ip_forward=1`;
 * PostDown and PreDown lines that undo them. [Peer] PublicKey, PresharedKey, AllowedIPs,
 * Endpoint, PersistentKeepalive. Everything else (DNS, Table, SaveConfig, PreUp, other
 * commands, ip6tables) is named on standard error as not carried over, with its line.
 *
 * The port: wg-quick's server has one interface to the internet that carries both the
 * tunnel and the masqueraded traffic; it becomes one port of role "both" with the
 * addresses given (wg0.conf does not hold them). --wan-device makes a second port of role
 * "wan" for the tunnel, the first then "lan". The output is for the gateway to check: it
 * refuses anything these values make wrong, with file and line.
 *
 * A malformed input line is refused with its line number and nothing is written. Values go
 * into quoted libconfig strings, so a quote, a backslash or a control character in one is
 * refused too.
 */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "import.h"

#define LINE_MAX_LEN 4096
#define MAX_ITEMS    64       /* addresses, sources, rules */
#define MAX_PEERS    100000
#define VAL_LEN      256

struct peer {
	char key[VAL_LEN], psk[VAL_LEN], endpoint[VAL_LEN], keepalive[16];
	char *aips;               /* "\"P\", \"P\"" */
	size_t aips_len;
};

struct imp {
	const char *file;
	unsigned line;
	char key[VAL_LEN], port[16], mtu[16], fwmark[32];
	char sources[MAX_ITEMS][64];
	unsigned n_sources;
	char rules[MAX_ITEMS][96];
	unsigned n_rules;
	bool masq, forward_drop;
	char masq_if[32];
	struct peer *peers;
	unsigned n_peers, cap_peers;
	unsigned notes;
	bool quiet;
};

static int refuse(struct imp *im, const char *what, const char *v)
{
	if (im->quiet)
		return -1;
	fprintf(stderr, "wgdpctl import: %s:%u: %s%s%s\n", im->file, im->line, what,
		v ? ": " : "", v ? v : "");
	return -1;
}

static void note(struct imp *im, const char *what, const char *v)
{
	im->notes++;
	if (im->quiet)
		return;
	fprintf(stderr, "wgdpctl import: %s:%u: not carried over: %s%s%s\n", im->file, im->line,
		what, v ? " = " : "", v ? v : "");
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A value safe inside a libconfig string, copied. */
static int take(struct imp *im, char *out, size_t cap, const char *v, const char *what)
{
	for (const char *p = v; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return refuse(im, "a quote, backslash or control character in", what);
	if (strlen(v) >= cap)
		return refuse(im, "value too long for", what);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int number(struct imp *im, char *out, size_t cap, const char *v, const char *what,
		  unsigned long max)
{
	char *end;
	unsigned long n = strtoul(v, &end, 0);

	if (!isdigit((unsigned char)v[0]) || *end || n > max)
		return refuse(im, "not a number in range for", what);
	snprintf(out, cap, "%lu", n);
	return 0;
}

/* ---- PostUp: the iptables lines of the recipes ---- */

static int split_words(char *cmd, char **w, int max)
{
	int n = 0;

	for (char *t = strtok(cmd, " \t"); t && n < max; t = strtok(NULL, " \t"))
		w[n++] = t;
	return n;
}

static const char *opt(char **w, int n, const char *name)
{
	for (int i = 0; i + 1 < n; i++)
		if (strcmp(w[i], name) == 0)
			return w[i + 1];
	return NULL;
}

static bool has(char **w, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(w[i], name) == 0)
			return true;
	return false;
}

static bool is_tunnel_if(const char *v)
{
	return v && (strcmp(v, "%i") == 0 || strncmp(v, "wg", 2) == 0);
}

/* Text of only these characters, 1..max long. */
static bool made_of(const char *v, const char *chars, size_t max)
{
	return v && *v && strlen(v) <= max && v[strspn(v, chars)] == '\0';
}

/* A FORWARD rule: 1 understood, 0 not. */
static int forward(struct imp *im, char **w, int n)
{
	const char *in = opt(w, n, "-i"), *out = opt(w, n, "-o"), *j = opt(w, n, "-j");
	const char *dst = opt(w, n, "-d"), *proto = opt(w, n, "-p"), *dport = opt(w, n, "--dport");
	char rule[96], range[24];

	if (!j)
		return 0;
	if (is_tunnel_if(out) && !in && strcmp(j, "ACCEPT") == 0)
		return 1;                    /* replies back into the tunnel: wgdp's own way */
	if (!is_tunnel_if(in) || opt(w, n, "-s") || has(w, n, "-m") || has(w, n, "!"))
		return 0;
	if (strcmp(j, "DROP") == 0 || strcmp(j, "REJECT") == 0) {
		if (dst || proto || dport)
			return 0;
		im->forward_drop = true;
		return 1;
	}
	if (strcmp(j, "ACCEPT") != 0)
		return 0;
	if (!dst && !proto && !dport)
		return 1;                    /* everything from the tunnel: the default */
	if ((dport && !proto) || (proto && strcmp(proto, "tcp") && strcmp(proto, "udp") &&
				  strcmp(proto, "icmp")) || im->n_rules == MAX_ITEMS)
		return 0;
	/* What iptables would take there, roughly; anything else is not understood. */
	if ((dport && !made_of(dport, "0123456789:", 11)) ||
	    (dst && !made_of(dst, "0123456789abcdefABCDEF.:/", 50)))
		return 0;
	snprintf(range, sizeof(range), "%s", dport ? dport : "");
	for (char *c = range; *c; c++)
		if (*c == ':')
			*c = '-';
	snprintf(rule, sizeof(rule), "%s%s%s%s%s", dst ? dst : "0.0.0.0/0", proto ? " " : "",
		 proto ? proto : "", dport ? " " : "", range);
	if (take(im, im->rules[im->n_rules], sizeof(im->rules[0]), rule, "a FORWARD rule"))
		return -1;
	im->n_rules++;
	return 1;
}

static bool has_source(const struct imp *im, const char *s)
{
	for (unsigned i = 0; i < im->n_sources; i++)
		if (strcmp(im->sources[i], s) == 0)
			return true;
	return false;
}

static int masquerade(struct imp *im, char **w, int n)
{
	const char *o = opt(w, n, "-o"), *s = opt(w, n, "-s");

	if (!o || is_tunnel_if(o) || opt(w, n, "-d") || has(w, n, "!"))
		return 0;
	if (take(im, im->masq_if, sizeof(im->masq_if), o, "the MASQUERADE interface"))
		return -1;
	if (s && !made_of(s, "0123456789./", 18))
		return 0;
	if (s && im->n_sources < MAX_ITEMS && !has_source(im, s))
		memcpy(im->sources[im->n_sources++], s, strlen(s) + 1);
	im->masq = true;
	return 1;
}

/* One command of PostUp (up) or PostDown/PreDown (!up): 1 understood, 0 not, -1 refused. */
static int command(struct imp *im, char *cmd, bool up)
{
	char copy[LINE_MAX_LEN], *w[64];
	int n;

	snprintf(copy, sizeof(copy), "%s", cmd);
	n = split_words(copy, w, 64);
	if (n == 0)
		return 1;
	if (strcmp(w[0], "sysctl") == 0 && n >= 2 &&
	    (strstr(cmd, "net.ipv4.ip_forward=1") || strstr(cmd, "net.ipv4.conf.all.forwarding=1")))
		return 1;                    /* wgdp forwards: it is a gateway */
	if (strcmp(w[0], "iptables") != 0)
		return 0;
	if (!up)                         /* -D lines undo what PostUp added */
		return has(w, n, "-D") ? 1 : 0;
	if (opt(w, n, "-t") && strcmp(opt(w, n, "-t"), "nat") == 0 &&
	    opt(w, n, "-A") && strcmp(opt(w, n, "-A"), "POSTROUTING") == 0 &&
	    opt(w, n, "-j") && strcmp(opt(w, n, "-j"), "MASQUERADE") == 0)
		return masquerade(im, w, n);
	if (!opt(w, n, "-t") && (opt(w, n, "-A") || opt(w, n, "-I")) &&
	    strcmp(opt(w, n, "-A") ? opt(w, n, "-A") : opt(w, n, "-I"), "FORWARD") == 0)
		return forward(im, w, n);
	return 0;
}

static int commands(struct imp *im, const char *key, char *v, bool up)
{
	for (char *save = NULL, *c = strtok_r(v, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
		int r = command(im, trim(c), up);

		if (r < 0)
			return -1;
		if (r == 0)
			note(im, key, trim(c));
	}
	return 0;
}

/* ---- sections ---- */

static int addresses(struct imp *im, char *v)
{
	for (char *save = NULL, *a = strtok_r(v, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		char *t = trim(a), *slash = strchr(t, '/');
		unsigned o[4], len;
		char src[64];

		if (strchr(t, ':')) {
			note(im, "Address (IPv6: wgdp does not masquerade IPv6)", t);
			continue;
		}
		if (!slash || sscanf(t, "%u.%u.%u.%u/%u", &o[0], &o[1], &o[2], &o[3], &len) != 5 ||
		    o[0] > 255 || o[1] > 255 || o[2] > 255 || o[3] > 255 || len > 32)
			return refuse(im, "not an IPv4 address/length in Address", t);
		/* The gateway's own tunnel address has no equivalent; its prefix is the clients'. */
		uint32_t a32 = o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3];
		uint32_t mask = len ? ~0u << (32 - len) : 0;
		a32 &= mask;
		snprintf(src, sizeof(src), "%u.%u.%u.%u/%u", a32 >> 24, (a32 >> 16) & 255,
			 (a32 >> 8) & 255, a32 & 255, len);
		if (im->n_sources < MAX_ITEMS && !has_source(im, src))
			memcpy(im->sources[im->n_sources++], src, sizeof(src));
		if (!im->quiet)
			fprintf(stderr, "wgdpctl import: %s:%u: Address %s: wgdp has no tunnel "
				"address of its own; %s becomes the masquerade's sources\n", im->file,
				im->line, t, src);
	}
	return 0;
}

static int interface_key(struct imp *im, const char *k, char *v)
{
	if (strcasecmp(k, "PrivateKey") == 0)
		return take(im, im->key, sizeof(im->key), v, "PrivateKey");
	if (strcasecmp(k, "ListenPort") == 0)
		return number(im, im->port, sizeof(im->port), v, "ListenPort", 65535);
	if (strcasecmp(k, "MTU") == 0)
		return number(im, im->mtu, sizeof(im->mtu), v, "MTU", 65535);
	if (strcasecmp(k, "FwMark") == 0)
		return strcmp(v, "off") == 0 ? 0 :
		       number(im, im->fwmark, sizeof(im->fwmark), v, "FwMark", 0xffffffffu);
	if (strcasecmp(k, "Address") == 0)
		return addresses(im, v);
	if (strcasecmp(k, "PostUp") == 0)
		return commands(im, "PostUp", v, true);
	if (strcasecmp(k, "PostDown") == 0 || strcasecmp(k, "PreDown") == 0)
		return commands(im, k, v, false);
	note(im, k, v);                  /* DNS, Table, SaveConfig, PreUp, ... */
	return 0;
}

static int add_aips(struct imp *im, struct peer *p, char *v)
{
	for (char *save = NULL, *a = strtok_r(v, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		char one[VAL_LEN], *t = trim(a);
		size_t need;
		char *n;

		if (take(im, one, sizeof(one), t, "AllowedIPs"))
			return -1;
		need = p->aips_len + strlen(one) + 5;
		n = realloc(p->aips, need);
		if (n == NULL)
			return refuse(im, "out of memory", NULL);
		p->aips = n;
		p->aips_len += (size_t)sprintf(n + p->aips_len, "%s\"%s\"", p->aips_len ? ", " : "",
					       one);
	}
	return 0;
}

static int peer_key(struct imp *im, const char *k, char *v)
{
	struct peer *p = &im->peers[im->n_peers - 1];

	if (strcasecmp(k, "PublicKey") == 0)
		return take(im, p->key, sizeof(p->key), v, "PublicKey");
	if (strcasecmp(k, "PresharedKey") == 0)
		return take(im, p->psk, sizeof(p->psk), v, "PresharedKey");
	if (strcasecmp(k, "Endpoint") == 0)
		return take(im, p->endpoint, sizeof(p->endpoint), v, "Endpoint");
	if (strcasecmp(k, "PersistentKeepalive") == 0)
		return strcmp(v, "off") == 0 ? 0 :
		       number(im, p->keepalive, sizeof(p->keepalive), v, "PersistentKeepalive", 65535);
	if (strcasecmp(k, "AllowedIPs") == 0)
		return add_aips(im, p, v);
	note(im, k, v);
	return 0;
}

static int new_peer(struct imp *im)
{
	if (im->n_peers == MAX_PEERS)
		return refuse(im, "too many peers", NULL);
	if (im->n_peers == im->cap_peers) {
		unsigned cap = im->cap_peers ? im->cap_peers * 2 : 16;
		struct peer *n = realloc(im->peers, cap * sizeof(*n));

		if (n == NULL)
			return refuse(im, "out of memory", NULL);
		im->peers = n;
		im->cap_peers = cap;
	}
	memset(&im->peers[im->n_peers++], 0, sizeof(struct peer));
	return 0;
}

static int read_file(struct imp *im, FILE *f)
{
	char buf[LINE_MAX_LEN + 2];
	int section = 0;             /* 0 none, 1 Interface, 2 Peer */

	while (fgets(buf, sizeof(buf), f)) {
		char *l, *eq, *k, *v;

		im->line++;
		if (strlen(buf) > LINE_MAX_LEN)
			return refuse(im, "line too long", NULL);
		if ((l = strchr(buf, '#')) != NULL)
			*l = '\0';
		l = trim(buf);
		if (*l == '\0')
			continue;
		if (strcasecmp(l, "[Interface]") == 0) {
			section = 1;
			continue;
		}
		if (strcasecmp(l, "[Peer]") == 0) {
			if (new_peer(im))
				return -1;
			section = 2;
			continue;
		}
		if (*l == '[')
			return refuse(im, "unknown section", l);
		if ((eq = strchr(l, '=')) == NULL || section == 0)
			return refuse(im, section ? "not KEY = VALUE" : "a setting outside any section",
				      l);
		*eq = '\0';
		k = trim(l);
		v = trim(eq + 1);
		if (*k == '\0')
			return refuse(im, "a setting without a name", NULL);
		if ((section == 1 ? interface_key(im, k, v) : peer_key(im, k, v)) != 0)
			return -1;
	}
	if (ferror(f))
		return refuse(im, "read error", NULL);
	im->line = 0;
	if (im->key[0] == '\0')
		return refuse(im, "no PrivateKey in [Interface] (wgdp needs the key itself)", NULL);
	for (unsigned i = 0; i < im->n_peers; i++)
		if (im->peers[i].key[0] == '\0')
			return refuse(im, "a [Peer] without PublicKey", NULL);
	return 0;
}

/* ---- the output ---- */

static void strings(FILE *o, char items[][64], unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fprintf(o, "%s\"%s\"", i ? ", " : "", items[i]);
}

static void write_port(FILE *o, const struct import_opts *opt, const struct imp *im)
{
	char dev[VAL_LEN];

	if (opt->device)
		snprintf(dev, sizeof(dev), "%s", opt->device);
	else
		snprintf(dev, sizeof(dev), "net_af_packet0,iface=%s",
			 im->masq_if[0] ? im->masq_if : "eth0");
	if (opt->wan_device)
		fprintf(o, "  { name = \"wan\"; device = \"%s\"; role = \"wan\"; addresses = [ ",
			opt->wan_device);
	for (unsigned i = 0; opt->wan_device && i < opt->n_wan_addresses; i++)
		fprintf(o, "%s\"%s\"", i ? ", " : "", opt->wan_addresses[i]);
	if (opt->wan_device)
		fprintf(o, " ]; },\n");
	fprintf(o, "  { name = \"%s\"; device = \"%s\"; role = \"%s\";\n    addresses = [ ",
		opt->wan_device ? "lan" : "eth", dev, opt->wan_device ? "lan" : "both");
	for (unsigned i = 0; i < opt->n_addresses; i++)
		fprintf(o, "%s\"%s\"", i ? ", " : "", opt->addresses[i]);
	fprintf(o, " ];");
	if (opt->gateway4)
		fprintf(o, " gateway4 = \"%s\";", opt->gateway4);
	if (im->masq && im->n_sources) {
		fprintf(o, "\n    masquerade = { sources = [ ");
		strings(o, (char (*)[64])im->sources, im->n_sources);
		fprintf(o, " ]; };");
	} else if (im->masq) {
		fprintf(o, "\n    masquerade = true;");
	}
	fprintf(o, " }\n");
}

static void write_config(FILE *o, const struct import_opts *opt, const struct imp *im)
{
	bool rules = im->forward_drop;

	fprintf(o, "# wgdp configuration imported from %s by wgdpctl import\n", im->file);
	fprintf(o, "interface = {\n  name = \"%s\";\n  private_key = \"%s\";\n",
		opt->name ? opt->name : "wg0", im->key);
	if (im->port[0])
		fprintf(o, "  listen_port = %s;\n", im->port);
	if (im->mtu[0])
		fprintf(o, "  mtu = %s;\n", im->mtu);
	if (im->fwmark[0])
		fprintf(o, "  fwmark = %s;\n", im->fwmark);
	fprintf(o, "};\nports = (\n");
	write_port(o, opt, im);
	fprintf(o, ");\n");
	if (rules) {
		fprintf(o, "destination_rules = ( { name = \"forward\"; allow = [ ");
		for (unsigned i = 0; i < im->n_rules; i++)
			fprintf(o, "%s\"%s\"", i ? ", " : "", im->rules[i]);
		fprintf(o, " ]; } );\n");
	}
	fprintf(o, "peers = (");
	for (unsigned i = 0; i < im->n_peers; i++) {
		const struct peer *p = &im->peers[i];

		fprintf(o, "%s\n  { public_key = \"%s\";", i ? "," : "", p->key);
		if (p->psk[0])
			fprintf(o, " preshared_key = \"%s\";", p->psk);
		if (p->endpoint[0])
			fprintf(o, " endpoint = \"%s\";", p->endpoint);
		if (p->aips)
			fprintf(o, " allowed_ips = [ %s ];", p->aips);
		if (p->keepalive[0])
			fprintf(o, " persistent_keepalive = %s;", p->keepalive);
		if (rules)
			fprintf(o, " destination_rules = \"forward\";");
		fprintf(o, " }");
	}
	fprintf(o, "\n);\n");
}

/* The imported configuration of `in`, to out (opened by the caller's own rule), or to
 * the output opt names when out is NULL. */
int wgdpctl_import_stream(const struct import_opts *opt, FILE *in, FILE *out)
{
	struct imp im = { .file = opt->input ? opt->input : "-", .quiet = opt->quiet };
	int rc = -1;

	if (read_file(&im, in) != 0)
		goto done;
	if (!im.masq && !im.quiet)
		fprintf(stderr, "wgdpctl import: %s: no iptables MASQUERADE in PostUp: the "
			"gateway will not masquerade\n", im.file);
	if (im.n_rules && !im.forward_drop && !im.quiet)
		fprintf(stderr, "wgdpctl import: %s: FORWARD ACCEPT rules with conditions but no "
			"DROP or REJECT after them: everything is allowed, as iptables did\n", im.file);
	/* The file holds the private key: root's only, as the gateway wants it. */
	if (out == NULL && opt->output) {
		int fd = open(opt->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		out = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (fd >= 0 && out == NULL)
			close(fd);
		if (out == NULL) {
			perror(opt->output);
			goto done;
		}
		write_config(out, opt, &im);
		rc = fflush(out) == 0 && !ferror(out) ? 0 : -1;
		if (fclose(out) != 0)
			rc = -1;
	} else {
		out = out ? out : stdout;
		write_config(out, opt, &im);
		rc = fflush(out) == 0 && !ferror(out) ? 0 : -1;
	}
	if (!im.quiet)
		fprintf(stderr, "wgdpctl import: %u peers; %u settings not carried over\n",
			im.n_peers, im.notes);
done:
	for (unsigned i = 0; i < im.n_peers; i++) {
		free(im.peers[i].aips);
		explicit_bzero(im.peers[i].psk, sizeof(im.peers[i].psk));
	}
	free(im.peers);
	explicit_bzero(im.key, sizeof(im.key));
	return rc;
}

int wgdpctl_import(const struct import_opts *opt)
{
	FILE *in = fopen(opt->input, "r");
	int rc;

	if (in == NULL) {
		perror(opt->input);
		return -1;
	}
	rc = wgdpctl_import_stream(opt, in, NULL);
	fclose(in);
	return rc;
}

static int usage(FILE *f)
{
	fprintf(f, "usage: wgdpctl import [-o OUT] [--name NAME] --address CIDR [--address CIDR...]\n"
		"         [--device DEV] [--gateway4 IP] [--wan-device DEV --wan-address CIDR...]\n"
		"         WG0.CONF\n"
		"  a wg-quick server file as a wgdp configuration (standard output, or OUT made\n"
		"  0600); what it cannot carry over is named on standard error.\n"
		"  --address, --device, --gateway4: the port to the internet (wg0.conf does not\n"
		"  hold its addresses; the device defaults to net_af_packet0,iface=IF, IF the\n"
		"  MASQUERADE line's -o); --wan-device: a port of its own for the tunnel.\n");
	return 2;
}

static int add_addr(const char **list, unsigned *n, const char *v)
{
	if (*n == IMPORT_MAX_ADDRS) {
		fprintf(stderr, "wgdpctl import: at most %d addresses per port\n", IMPORT_MAX_ADDRS);
		return -1;
	}
	for (const char *p = v; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) {
			fprintf(stderr, "wgdpctl import: a quote, backslash or control character "
				"in an option\n");
			return -1;
		}
	list[(*n)++] = v;
	return 0;
}

static bool plain(const char *v)
{
	for (const char *p = v; p && *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			return false;
	return true;
}

int wgdpctl_import_main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "address", required_argument, NULL, 'a' },
		{ "device", required_argument, NULL, 'd' },
		{ "gateway4", required_argument, NULL, 'g' },
		{ "wan-device", required_argument, NULL, 'W' },
		{ "wan-address", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct import_opts o = { 0 };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
		switch (c) {
		case 'o': o.output = optarg; break;
		case 'n': o.name = optarg; break;
		case 'd': o.device = optarg; break;
		case 'g': o.gateway4 = optarg; break;
		case 'W': o.wan_device = optarg; break;
		case 'a':
			if (add_addr(o.addresses, &o.n_addresses, optarg))
				return 2;
			break;
		case 'A':
			if (add_addr(o.wan_addresses, &o.n_wan_addresses, optarg))
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		default: return usage(stderr);
		}
	}
	if (optind + 1 != argc || o.n_addresses == 0 || (o.wan_device && !o.n_wan_addresses) ||
	    !plain(o.name) || !plain(o.device) || !plain(o.gateway4) || !plain(o.wan_device))
		return usage(stderr);
	o.input = argv[optind];
	return wgdpctl_import(&o) == 0 ? 0 : 1;
}
