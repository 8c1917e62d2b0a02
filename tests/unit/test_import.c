/* SPDX-License-Identifier: MIT */
/*
 * wgdpctl import (app/wgdpctl/import.c): wg-quick server files of the recipes become
 * configurations that wg_config_load takes, with the masquerade, the rule set of FORWARD
 * lines and every peer; what is not carried over is named; malformed files are refused
 * with their line and write nothing.
 *
 *   test_import PATH-TO-WGDPCTL
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "wg_config.h"
#include "wg_crypto.h"

#define KEY  "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define PUB2 "GEGSwyhx8WuT/igWRF+UsqPUkGe1DACyALymn3uFBjs="
#define PUB3 "whz7fJfzeMH9X34R105dGbkTgjbp1joOTjSotm4ocy4="
#define PSK  "FrrxVMzEiveQE7Abdx5FguvUbhia6vOG8duVYjZQ3wU="

static const char *ctl;
static char dir[] = "/tmp/wgdp-test-import-XXXXXX";
static char in_path[512], out_path[512], err_path[512];

/* The classic road-warrior recipe. */
static const char recipe[] =
	"[Interface]\n"
	"Address = 10.8.0.1/24\n"
	"ListenPort = 51820\n"
	"PrivateKey = " KEY "\n"
	"MTU = 1420\n"
	"DNS = 1.1.1.1, 8.8.8.8\n"
	"SaveConfig = true\n"
	"PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -A FORWARD -o %i -j ACCEPT; "
	"iptables -t nat -A POSTROUTING -o ens3 -j MASQUERADE\n"
	"PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -D FORWARD -o %i -j ACCEPT; "
	"iptables -t nat -D POSTROUTING -o ens3 -j MASQUERADE\n"
	"\n"
	"[Peer]  \n"
	"# phone\n"
	"PublicKey = " PUB2 "\n"
	"AllowedIPs = 10.8.0.2/32\n"
	"[Peer]\n"
	"PublicKey = " PUB3 "\n"
	"PresharedKey = " PSK "\n"
	"AllowedIPs = 10.8.0.3/32\n"
	"AllowedIPs = 10.9.0.0/24\n"
	"PersistentKeepalive = 25\n";

/* Clients may reach only the web and DNS: ACCEPT lines, then a DROP. */
static const char restricted[] =
	"[Interface]\n"
	"Address = 10.10.0.1/16\n"
	"PrivateKey = " KEY "\n"
	"PostUp = iptables -A FORWARD -i wg0 -p tcp --dport 443 -j ACCEPT; "
	"iptables -A FORWARD -i wg0 -d 192.0.2.53/32 -p udp --dport 53 -j ACCEPT; "
	"iptables -A FORWARD -i wg0 -p tcp --dport 8000:8080 -j ACCEPT; "
	"iptables -A FORWARD -i wg0 -j DROP; "
	"iptables -t nat -A POSTROUTING -s 10.10.0.0/16 -o eth0 -j MASQUERADE; "
	"ip route add 10.99.0.0/16 dev wg0\n"
	"[Peer]\nPublicKey = " PUB2 "\nAllowedIPs = 10.10.0.2/32\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *read_all(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* wgdpctl import EXTRA -o OUT IN, its stderr to err_path: the exit status. */
static int run_import(const char *text, const char *extra)
{
	char cmd[2048];
	int st;

	write_file(in_path, text);
	unlink(out_path);
	snprintf(cmd, sizeof(cmd), "'%s' import %s -o '%s' '%s' 2>'%s'", ctl, extra, out_path,
		 in_path, err_path);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_recipe(void)
{
	struct wg_config c;
	char err[WG_CONFIG_ERR_LEN];
	struct stat st;

	CHECK_EQ(run_import(recipe, "--address 203.0.113.5/24 --gateway4 203.0.113.1"), 0);
	CHECK(stat(out_path, &st) == 0 && (st.st_mode & 0777) == 0600);
	const char *notes = read_all(err_path);
	CHECK(strstr(notes, ":6: not carried over: DNS = 1.1.1.1, 8.8.8.8") != NULL);
	CHECK(strstr(notes, ":7: not carried over: SaveConfig") != NULL);
	CHECK(strstr(notes, "10.8.0.0/24 becomes the masquerade's sources") != NULL);
	CHECK(strstr(notes, "PostUp") == NULL && strstr(notes, "PostDown") == NULL);
	if (!CHECK_EQ(wg_config_load(&c, out_path, err, sizeof(err)), 0)) {
		fprintf(stderr, "  %s\n%s", err, read_all(out_path));
		return;
	}
	CHECK_EQ(c.listen_port, 51820);
	CHECK_EQ(c.mtu, 1420);
	CHECK_EQ(c.n_ports, 1);
	CHECK_EQ(c.ports[0].role, WG_ROLE_BOTH);
	CHECK(strcmp(c.ports[0].device, "net_af_packet0,iface=ens3") == 0);
	CHECK(c.ports[0].masq.enabled);
	CHECK_EQ(c.ports[0].masq.n_sources, 1);
	CHECK_EQ(c.ports[0].masq.sources[0].len, 24);
	CHECK_EQ(c.ports[0].gateway4.family, WG_AF_INET);
	CHECK_EQ(c.n_rule_sets, 0);
	CHECK_EQ(c.n_peers, 2);
	if (c.n_peers == 2) {
		CHECK_EQ(c.peers[0].n_allowed_ips, 1);
		CHECK(!c.peers[0].has_preshared_key);
		CHECK(c.peers[1].has_preshared_key);
		CHECK_EQ(c.peers[1].n_allowed_ips, 2);
		CHECK_EQ(c.peers[1].persistent_keepalive, 25);
	}
	wg_config_free(&c);
}

static void test_restricted(void)
{
	struct wg_config c;
	char err[WG_CONFIG_ERR_LEN];

	CHECK_EQ(run_import(restricted, "--address 10.60.0.1/24 --wan-device net_af_packet0 "
			    "--wan-address 192.168.50.1/24 --device net_af_packet1 --name wgx"), 0);
	CHECK(strstr(read_all(err_path), "not carried over: PostUp = ip route add") != NULL);
	if (!CHECK_EQ(wg_config_load(&c, out_path, err, sizeof(err)), 0)) {
		fprintf(stderr, "  %s\n%s", err, read_all(out_path));
		return;
	}
	CHECK(strcmp(c.name, "wgx") == 0);
	CHECK_EQ(c.n_ports, 2);
	CHECK(c.ports[0].role == WG_ROLE_WAN && c.ports[1].role == WG_ROLE_LAN);
	CHECK(!c.ports[0].masq.enabled && c.ports[1].masq.enabled);
	/* The Address' prefix, which the MASQUERADE line's -s repeats: once. */
	CHECK_EQ(c.ports[1].masq.n_sources, 1);
	CHECK_EQ(c.n_rule_sets, 1);
	if (c.n_rule_sets == 1) {
		const struct wg_config_rule_set *rs = &c.rule_sets[0];

		CHECK_EQ(rs->n_rules, 3);
		CHECK(rs->n_rules == 3 && rs->rules[0].proto == 6 && rs->rules[0].port_min == 443 &&
		      rs->rules[0].dst.len == 0);
		CHECK(rs->n_rules == 3 && rs->rules[1].proto == 17 && rs->rules[1].dst.len == 32);
		CHECK(rs->n_rules == 3 && rs->rules[2].port_min == 8000 && rs->rules[2].port_max == 8080);
	}
	CHECK(c.n_peers == 1 && c.peers[0].rule_set == 1);
	wg_config_free(&c);
}

struct bad {
	const char *text, *reason;
};

static void test_refused(void)
{
	static const struct bad bad[] = {
		{ "[Interface]\nListenPort = 1\n", "no PrivateKey" },
		{ "PrivateKey = " KEY "\n", ":1: a setting outside any section" },
		{ "[Interface]\nPrivateKey = " KEY "\n[Peer]\nAllowedIPs = 10.0.0.1/32\n",
		  "without PublicKey" },
		{ "[Interface]\nPrivateKey = " KEY "\n[Peers]\n", ":3: unknown section" },
		{ "[Interface]\nPrivateKey = " KEY "\njust words\n", ":3: not KEY = VALUE" },
		{ "[Interface]\nPrivateKey = " KEY "\nListenPort = 70000\n", ":3: not a number" },
		{ "[Interface]\nPrivateKey = \"; x = 1; \"\n", ":2: a quote" },
		{ "[Interface]\nPrivateKey = " KEY "\nAddress = 10.0.0.300/24\n", ":3: not an IPv4" },
		{ "[Interface]\nPrivateKey = " KEY "\n[Peer]\nPublicKey = " PUB2 "\n"
		  "AllowedIPs = 10.0.0.1/32\\, 1\n", ":5: a quote, backslash" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!CHECK_EQ(run_import(bad[i].text, "--address 10.0.0.1/24"), 1))
			fprintf(stderr, "  bad case %zu accepted\n", i);
		CHECK(access(out_path, F_OK) != 0);       /* nothing written */
		if (!CHECK(strstr(read_all(err_path), bad[i].reason) != NULL))
			fprintf(stderr, "  bad case %zu: %s", i, read_all(err_path));
	}
	/* A FORWARD line whose port iptables would refuse is not understood, so not carried. */
	CHECK_EQ(run_import("[Interface]\nPrivateKey = " KEY "\nPostUp = iptables -A FORWARD -i %i "
			    "-p tcp --dport 443<x -j ACCEPT; iptables -A FORWARD -i %i -j DROP\n",
			    "--address 10.0.0.1/24"), 0);
	CHECK(strstr(read_all(err_path), "not carried over: PostUp = iptables -A FORWARD") != NULL);
	CHECK(strstr(read_all(out_path), "443<x") == NULL);
	/* No port address: a usage error. */
	CHECK_EQ(run_import(recipe, ""), 2);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-WGDPCTL\n", argv[0]);
		return 2;
	}
	ctl = argv[1];
	CHECK_EQ(wg_crypto_init(), 0);
	if (!CHECK(mkdtemp(dir) != NULL))
		return check_report("import");
	snprintf(in_path, sizeof(in_path), "%s/wg0.conf", dir);
	snprintf(out_path, sizeof(out_path), "%s/wgdp.conf", dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	test_recipe();
	test_restricted();
	test_refused();
	unlink(in_path);
	unlink(out_path);
	unlink(err_path);
	rmdir(dir);
	return check_report("import");
}
