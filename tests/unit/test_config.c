/* SPDX-License-Identifier: MIT */
/*
 * The configuration file: a full good file checked field by field, the defaults, a table
 * of broken files each with the line and the reason expected, key files and whole files
 * on disk (in a mkdtemp directory), many peers, and the examples in conf/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "wg_config.h"
#include "wg_crypto.h"

/* Keys made with wg genkey / wg pubkey / wg genpsk; PUB1 is PRIV1's public key. */
#define PRIV1 "+KZNjjJZffM3YPD74/+BCl/MmcAivMCwG6F+CIvGE3M="
#define PUB1  "6gzng5w1XvqNPytYe4kdSFX3nGy6irAFzcU0H6ypQmc="
#define PUB2  "GEGSwyhx8WuT/igWRF+UsqPUkGe1DACyALymn3uFBjs="
#define PUB3  "whz7fJfzeMH9X34R105dGbkTgjbp1joOTjSotm4ocy4="
#define PSK   "FrrxVMzEiveQE7Abdx5FguvUbhia6vOG8duVYjZQ3wU="
#define ZERO  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* The smallest good ports section, on one line. */
#define PORTS "ports = ( { name = \"p0\"; device = \"net_null0\"; role = \"both\"; } );\n"

static const char *conf_dir;
static char tmp_dir[] = "/tmp/wgdp-test-config-XXXXXX";

static bool key_is(const uint8_t key[WG_KEY_LEN], const char *b64)
{
	uint8_t k[WG_KEY_LEN];

	return wg_key_from_base64(k, b64, strlen(b64)) == 0 && memcmp(k, key, WG_KEY_LEN) == 0;
}

static bool prefix_is(const struct wg_prefix *p, const char *text)
{
	char out[WG_ADDR_STRLEN];

	wg_prefix_format(out, p);
	return strcmp(out, text) == 0;
}

static bool ip_is(const struct wg_ip *ip, const char *text)
{
	char out[WG_ADDR_STRLEN];

	wg_ip_format(out, ip);
	return strcmp(out, text) == 0;
}

static const char full[] =
	"# every setting\n"                                              /*  1 */
	"interface = {\n"                                                /*  2 */
	"  name = \"gw-1.a_b\";\n"                                       /*  3 */
	"  private_key = \"" PRIV1 "\";\n"                               /*  4 */
	"  listen_port = 4500;\n"                                        /*  5 */
	"  mtu = 1380;\n"                                                /*  6 */
	"  fwmark = 0xca6c;\n"                                           /*  7 */
	"  uapi_socket = \"/run/wg/x.sock\";\n"                          /*  8 */
	"  jsonrpc_socket = \"/run/wgdp/x.json\";\n"                     /*  9 */
	"};\n"                                                           /* 10 */
	"ports = (\n"                                                    /* 11 */
	"  { name = \"wan\"; device = \"net_af_packet0,iface=veth0\"; role = \"wan\";\n"
	"    addresses = [ \"192.0.2.1/24\", \"2001:db8::1/64\" ];\n"
	"    gateway4 = \"192.0.2.254\"; gateway6 = \"2001:db8::fe\";\n"
	"    mtu = 9000; },\n"                                           /* 15 */
	"  { name = \"lan\"; device = \"0000:01:00.0\"; role = \"lan\";\n"
	"    addresses = ( \"198.51.100.1/24\" ); }\n"                   /* 17 */
	");\n"                                                           /* 18 */
	"peers = (\n"                                                    /* 19 */
	"  { public_key = \"" PUB2 "\"; preshared_key = \"" PSK "\";\n"  /* 20 */
	"    endpoint = \"203.0.113.7:51820\";\n"
	"    allowed_ips = [ \"10.200.0.2/32\", \"fd00:200::2/128\" ];\n"
	"    persistent_keepalive = 25; },\n"
	"  { public_key = \"" PUB3 "\";\n"                               /* 24 */
	"    endpoint = \"[2001:db8::7]:443\"; allowed_ips = []; }\n"
	");\n";

static void check_full_fields(const struct wg_config *c)
{
	const struct wg_config_port *wan = &c->ports[0], *lan = &c->ports[1];
	const struct wg_config_peer *a = &c->peers[0], *b = &c->peers[1];

	CHECK(strcmp(c->name, "gw-1.a_b") == 0);
	CHECK(c->has_private_key && key_is(c->private_key, PRIV1));
	CHECK_EQ(c->listen_port, 4500);
	CHECK_EQ(c->mtu, 1380);
	CHECK_EQ(c->fwmark, 0xca6c);
	CHECK(strcmp(c->uapi_socket, "/run/wg/x.sock") == 0);
	CHECK(strcmp(c->jsonrpc_socket, "/run/wgdp/x.json") == 0);
	if (!CHECK_EQ(c->n_ports, 2) || !CHECK_EQ(c->n_peers, 2))
		return;
	CHECK(strcmp(wan->name, "wan") == 0);
	CHECK(strcmp(wan->device, "net_af_packet0,iface=veth0") == 0);
	CHECK_EQ(wan->role, WG_ROLE_WAN);
	CHECK_EQ(wan->n_addrs, 2);
	CHECK(prefix_is(&wan->addrs[0], "192.0.2.1/24"));     /* host bits kept */
	CHECK(prefix_is(&wan->addrs[1], "2001:db8::1/64"));
	CHECK(ip_is(&wan->gateway4, "192.0.2.254") && wan->gateway4.family == WG_AF_INET);
	CHECK(ip_is(&wan->gateway6, "2001:db8::fe") && wan->gateway6.family == WG_AF_INET6);
	CHECK_EQ(wan->mtu, 9000);
	CHECK(strcmp(lan->name, "lan") == 0);
	CHECK(strcmp(lan->device, "0000:01:00.0") == 0);
	CHECK_EQ(lan->role, WG_ROLE_LAN);
	CHECK_EQ(lan->n_addrs, 1);
	CHECK(prefix_is(&lan->addrs[0], "198.51.100.1/24"));
	CHECK_EQ(lan->gateway4.family, 0);
	CHECK_EQ(lan->gateway6.family, 0);
	CHECK_EQ(lan->mtu, 1500);

	CHECK(key_is(a->public_key, PUB2));
	CHECK(a->has_preshared_key && key_is(a->preshared_key, PSK));
	CHECK_EQ(a->endpoint.ip.family, WG_AF_INET);
	CHECK(ip_is(&a->endpoint.ip, "203.0.113.7") && a->endpoint.port == 51820);
	CHECK_EQ(a->n_allowed_ips, 2);
	CHECK(a->allowed_ips && prefix_is(&a->allowed_ips[0], "10.200.0.2/32") &&
	      prefix_is(&a->allowed_ips[1], "fd00:200::2/128"));
	CHECK_EQ(a->persistent_keepalive, 25);
	CHECK_EQ(a->line, 20);
	CHECK(key_is(b->public_key, PUB3));
	CHECK(!b->has_preshared_key);
	CHECK(ip_is(&b->endpoint.ip, "2001:db8::7") && b->endpoint.port == 443);
	CHECK_EQ(b->n_allowed_ips, 0);
	CHECK(b->allowed_ips == NULL);
	CHECK_EQ(b->persistent_keepalive, 0);
	CHECK_EQ(b->line, 24);
}

static void test_full(void)
{
	struct wg_config c;
	char err[WG_CONFIG_ERR_LEN] = "";

	if (!CHECK_EQ(wg_config_parse(&c, full, "full", err, sizeof(err)), 0)) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	check_full_fields(&c);
	wg_config_free(&c);
	CHECK(c.peers == NULL && c.n_peers == 0);
	CHECK(!c.has_private_key);
	CHECK(wg_is_zero(c.private_key, WG_KEY_LEN));
	wg_config_free(&c);   /* twice is harmless */
}

static void test_defaults(void)
{
	struct wg_config c;
	char err[WG_CONFIG_ERR_LEN] = "";

	if (!CHECK_EQ(wg_config_parse(&c, PORTS, "min", err, sizeof(err)), 0)) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK(strcmp(c.name, "wgdp0") == 0);
	CHECK(!c.has_private_key);
	CHECK_EQ(c.listen_port, 51820);
	CHECK_EQ(c.mtu, 1420);
	CHECK_EQ(c.fwmark, 0);
	CHECK(strcmp(c.uapi_socket, "/var/run/wireguard/wgdp0.sock") == 0);
	CHECK(strcmp(c.jsonrpc_socket, "/var/run/wgdp/wgdp0.json.sock") == 0);
	CHECK_EQ(c.n_ports, 1);
	CHECK_EQ(c.ports[0].role, WG_ROLE_BOTH);
	CHECK_EQ(c.ports[0].n_addrs, 0);
	CHECK_EQ(c.ports[0].mtu, 1500);
	CHECK_EQ(c.n_peers, 0);
	CHECK(c.peers == NULL);
	wg_config_free(&c);

	/* The sockets follow the name; empty peers written either way. */
	CHECK_EQ(wg_config_parse(&c, "interface = { name = \"x0\"; };\n" PORTS "peers = [];\n",
				 "min", err, sizeof(err)), 0);
	CHECK(strcmp(c.uapi_socket, "/var/run/wireguard/x0.sock") == 0);
	CHECK(strcmp(c.jsonrpc_socket, "/var/run/wgdp/x0.json.sock") == 0);
	wg_config_free(&c);
	CHECK_EQ(wg_config_parse(&c, PORTS "peers = ();\n", "min", err, sizeof(err)), 0);
	wg_config_free(&c);
}

/* Good variations: each parses, and the one field named has the value given. */
static void test_good_values(void)
{
	static const struct {
		const char *text;
		uint32_t fwmark;
		uint16_t keepalive;
	} cases[] = {
		{ "interface = { fwmark = 0xffffffff; };\n" PORTS, 0xffffffffu, 0 },
		{ "interface = { fwmark = 0x80000000; };\n" PORTS, 0x80000000u, 0 },
		{ "interface = { fwmark = 4294967295L; };\n" PORTS, 0xffffffffu, 0 },
		{ "interface = { fwmark = 2147483647; };\n" PORTS, 0x7fffffffu, 0 },
		{ "interface = { fwmark = 0x00000000ffffffff; };\n" PORTS, 0xffffffffu, 0 },
		/* Numbers in strings and comments are not the guard's business. */
		{ "interface = { name = \"99999999999\"; }; # 99999999999\n"
		  "/* 0x123456789 */ // 4294967297\n" PORTS, 0, 0 },
		{ PORTS "peers = ( { public_key = \"" PUB2 "\"; persistent_keepalive = 65535; } );",
		  0, 65535 },
		{ PORTS "peers = ( { public_key = \"" PUB2 "\"; persistent_keepalive = 0x0; } );",
		  0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wg_config c;
		char err[WG_CONFIG_ERR_LEN] = "";

		if (!CHECK_EQ(wg_config_parse(&c, cases[i].text, "good", err, sizeof(err)), 0)) {
			fprintf(stderr, "  good case %zu: %s\n", i, err);
			continue;
		}
		CHECK_EQ(c.fwmark, cases[i].fwmark);
		if (c.n_peers)
			CHECK_EQ(c.peers[0].persistent_keepalive, cases[i].keepalive);
		wg_config_free(&c);
	}
}

struct bad {
	const char *text;
	unsigned line;          /* 0: a message without a line */
	const char *reason;     /* a substring of the message */
};

#define PEER(body) PORTS "peers = (\n  { public_key = \"" PUB2 "\"; " body " }\n);\n"
#define PORT(body) "ports = (\n  { name = \"p0\"; device = \"net_null0\"; role = \"both\"; " \
	body " }\n);\n"

static const char long_device[] =
	"ports = ( { name = \"p\"; role = \"both\"; device = \""
	"0123456789012345678901234567890123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789012345678901234567890123456789"
	"01234567890123456789012345678901234567890123456789"
	"\"; } );\n";

static const struct bad bad_cases[] = {
	/* syntax, as libconfig reports it */
	{ "interface = {\n  name = ;\n};\n" PORTS, 2, "syntax error" },
	{ "interface = { listen_port = 1; listen_port = 2; };\n" PORTS, 1, "duplicate setting" },
	{ PORTS "peers = (\n", 3, "syntax error" },
	/* what libconfig 1.5 would get wrong, refused before it reads */
	{ "interface = {\n  listen_port = 4294967297;\n};\n" PORTS, 2, "too large" },
	{ "interface = {\n\n  fwmark = 0x100000000;\n};\n" PORTS, 3, "too large" },
	{ "interface = { mtu = -99999999999; };\n" PORTS, 1, "too large" },
	{ "interface = { mtu = 2147483648; };\n" PORTS, 1, "too large" },
	{ "/* a\n comment */ \"a\nstring\"\n@include \"/etc/passwd\"\n" PORTS, 4, "@include" },
	/* unknown settings: typos are errors */
	{ "interfase = { };\n" PORTS, 1, "unknown setting 'interfase' in the top level" },
	{ "interface = {\n  privat_key = \"" PRIV1 "\";\n};\n" PORTS, 2,
	  "unknown setting 'privat_key' in interface (known: name, private_key" },
	{ PORT("\n  adresses = [ \"192.0.2.1/24\" ];"), 3, "unknown setting 'adresses' in port" },
	{ PEER("\n  allowed_ip = [ \"10.0.0.1/32\" ];"), 4, "unknown setting 'allowed_ip' in peer" },
	/* types */
	{ "interface = \"wgdp0\";\n" PORTS, 1, "'interface' must be a group" },
	{ "interface = { name = 5; };\n" PORTS, 1, "'name' must be a string" },
	{ "interface = {\n  listen_port = \"51820\";\n};\n" PORTS, 2, "'listen_port' must be an integer" },
	{ "interface = { mtu = 1420.0; };\n" PORTS, 1, "'mtu' must be an integer" },
	{ "interface = { fwmark = true; };\n" PORTS, 1, "'fwmark' must be an integer" },
	{ "ports = { name = \"p\"; };\n", 1, "'ports' must be a list" },
	{ "ports = [ \"p\" ];\n", 1, "'ports' must be a list" },
	{ "ports = (\n  \"p\"\n);\n", 2, "each port must be a group" },
	{ PORTS "peers = {\n};\n", 2, "'peers' must be a list" },
	{ PORTS "peers = ( (1) );\n", 2, "each peer must be a group" },
	{ PORT("addresses = \"192.0.2.1/24\";"), 2, "'addresses' must be an array of strings" },
	{ PORT("addresses = [ 1, 2 ];"), 2, "'addresses' must hold only strings" },
	{ PORT("addresses = ( \"192.0.2.1/24\",\n \"192.0.2.2/24\", 3 );"), 3, "only strings" },
	{ PEER("allowed_ips = \"10.0.0.1/32\";"), 3, "'allowed_ips' must be an array" },
	{ PEER("persistent_keepalive = \"25\";"), 3, "must be an integer" },
	/* required */
	{ "", 0, "no 'ports'" },
	{ "interface = { };\n", 0, "no 'ports'" },
	{ "ports = ();\n", 1, "'ports' is empty" },
	{ "ports = [];\n", 1, "'ports' is empty" },
	{ "ports = (\n  { device = \"net_null0\"; role = \"both\"; }\n);\n", 2, "port without 'name'" },
	{ "ports = (\n  { name = \"p\"; role = \"both\"; }\n);\n", 2, "port 'p' without 'device'" },
	{ "ports = (\n  { name = \"p\"; device = \"d\"; }\n);\n", 2, "port 'p' without 'role'" },
	{ PORTS "peers = (\n  { endpoint = \"192.0.2.1:1\"; }\n);\n", 3, "peer without 'public_key'" },
	/* roles */
	{ "ports = (\n  { name = \"a\"; device = \"d0\"; role = \"wan\"; }\n);\n", 1,
	  "no port has role \"lan\"" },
	{ "ports = (\n  { name = \"a\"; device = \"d0\"; role = \"lan\"; },\n"
	  "  { name = \"b\"; device = \"d1\"; role = \"lan\"; }\n);\n", 1, "no port has role \"wan\"" },
	{ PORT("role = \"WAN\";"), 2, "duplicate setting" },
	{ "ports = ( { name = \"a\"; device = \"d\"; role = \"WAN\"; } );\n", 1,
	  "'role' must be \"wan\", \"lan\" or \"both\", not 'WAN'" },
	/* duplicates */
	{ "ports = (\n  { name = \"a\"; device = \"d0\"; role = \"wan\"; },\n"
	  "  { name = \"a\"; device = \"d1\"; role = \"lan\"; }\n);\n", 3,
	  "port name 'a' is already used at line 2" },
	{ "ports = (\n  { name = \"a\"; device = \"net_tap0,iface=x\"; role = \"wan\"; },\n"
	  "  { name = \"b\";\n    device = \"net_tap0,iface=y\"; role = \"lan\"; }\n);\n", 4,
	  "device 'net_tap0' is already used by port 'a' at line 2" },
	{ PORTS "peers = (\n  { public_key = \"" PUB2 "\"; },\n  { public_key = \"" PUB3 "\"; },\n"
	  "  { public_key = \"" PUB2 "\"; },\n  { public_key = \"" PUB3 "\"; }\n);\n", 5,
	  "same public_key as the peer at line 3" },
	/* the interface itself as a peer */
	{ "interface = { private_key = \"" PRIV1 "\"; };\n" PORTS "peers = (\n"
	  "  { public_key = \"" PUB2 "\"; },\n  {\n    public_key = \"" PUB1 "\"; }\n);\n", 6,
	  "the interface's own public key" },
	/* keys */
	{ "interface = {\n  private_key = \"abc\";\n};\n" PORTS, 2, "'private_key' is not a key" },
	{ "interface = { private_key = \"" PRIV1 "=\"; };\n" PORTS, 1, "not a key in base64" },
	{ "interface = { private_key = \" " PRIV1 "\"; };\n" PORTS, 1, "not a key in base64" },
	{ "interface = { private_key = \"" ZERO "\"; };\n" PORTS, 1, "all zero" },
	{ PEER("preshared_key = \"" PUB2 "x\";"), 3, "'preshared_key' is not a key" },
	{ PORTS "peers = ( { public_key = \"6gzng5w1XvqNPytYe4kdSFX3nGy6irAFzcU0H6ypQmc\"; } );\n",
	  2, "'public_key' is not a key" },
	{ "interface = {\n  private_key = \"" PRIV1 "\";\n  private_key_file = \"/k\";\n};\n" PORTS,
	  3, "not both" },
	{ "interface = {\n  private_key_file = \"/nonexistent/wgdp.key\";\n};\n" PORTS, 2,
	  "private_key_file '/nonexistent/wgdp.key': No such file" },
	{ "interface = { private_key_file = \"/\"; };\n" PORTS, 1, "not a regular file" },
	{ "interface = { private_key_file = \"\"; };\n" PORTS, 1, "'private_key_file' is empty" },
	{ "interface = { private_key_file = 1; };\n" PORTS, 1, "must be a string" },
	/* addresses */
	{ PORT("addresses = [ \"192.0.2.1/24\",\n  \"192.0.2.1/33\" ];"), 3,
	  "'192.0.2.1/33' is not an address with a prefix length" },
	{ PORT("addresses = [ \"192.0.2.300/24\" ];"), 2, "is not an address" },
	/* libconfig would name the line of the closing bracket for the last element */
	{ PORT("addresses = [\n    \"192.0.2.1/24\",\n    \"bad\" # here\n\n  ];"), 4,
	  "'bad' is not an address" },
	{ PEER("allowed_ips = (\n \"10.0.0.0/8\",\n /* , */ \"fd00::1/64\"\n);"), 5,
	  "allowed IP 'fd00::1/64'" },
	{ PORT("addresses = [ \"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\" ];"), 2,
	  "'a' is not an address" },
	{ PORT("addresses = [ \"10.0.0.1/8\", \"10.0.0.2/8\", \"10.0.0.3/8\", \"10.0.0.4/8\",\n"
	       "\"10.0.0.5/8\", \"10.0.0.6/8\", \"10.0.0.7/8\", \"10.0.0.8/8\",\n"
	       "\"10.0.0.9/8\" ];"), 4, "too many addresses (at most 8" },
	{ PORT("gateway4 = \"2001:db8::1\";"), 2, "'gateway4' must be an IPv4 address" },
	{ PORT("gateway6 = \"192.0.2.1\";"), 2, "'gateway6' must be an IPv6 address" },
	{ PORT("gateway4 = \"192.0.2.1/24\";"), 2, "'gateway4' must be an IPv4 address" },
	{ PEER("endpoint = \"2001:db8::1:51820\";"), 3, "'endpoint' must be IPv4:port or [IPv6]:port" },
	{ PEER("endpoint = \"vpn.example.com:51820\";"), 3, "host names are not resolved" },
	{ PEER("endpoint = \"192.0.2.1:0\";"), 3, "'endpoint' must be" },
	{ PEER("endpoint = \"[fe80::1%eth0]:1\";"), 3, "'endpoint' must be" },
	{ PEER("allowed_ips = [ \"10.0.0.0/8\",\n \"10.0.0.1/24\" ];"), 4,
	  "allowed IP '10.0.0.1/24' has bits set past its prefix length (the network is "
	  "10.0.0.0/24)" },
	{ PEER("allowed_ips = [ \"fd00::1/64\" ];"), 3, "(the network is fd00::/64)" },
	{ PEER("allowed_ips = [ \"10.0.0.0/8x\" ];"), 3, "'10.0.0.0/8x' is not an IP prefix" },
	/* numbers */
	{ "interface = { listen_port = 0; };\n" PORTS, 1, "'listen_port' must be 1..65535, not 0" },
	{ "interface = { listen_port = 65536; };\n" PORTS, 1, "must be 1..65535, not 65536" },
	{ "interface = { listen_port = -1; };\n" PORTS, 1, "must be 1..65535, not -1" },
	{ "interface = { mtu = 1279; };\n" PORTS, 1, "'mtu' must be 1280..9000" },
	{ "interface = { mtu = 9001; };\n" PORTS, 1, "'mtu' must be 1280..9000" },
	{ "interface = { fwmark = -1; };\n" PORTS, 1, "'fwmark' must be 0..4294967295, not -1" },
	{ "interface = { fwmark = 4294967296L; };\n" PORTS, 1, "'fwmark' must be 0..4294967295" },
	{ PORT("mtu = 1279;"), 2, "'mtu' must be 1280..9216" },
	{ PORT("mtu = 9217;"), 2, "'mtu' must be 1280..9216" },
	{ PEER("persistent_keepalive = 65536;"), 3, "'persistent_keepalive' must be 0..65535" },
	{ PEER("persistent_keepalive = -1;"), 3, "'persistent_keepalive' must be 0..65535" },
	/* names, devices, paths */
	{ "interface = { name = \"abcdefghijklmnop\"; };\n" PORTS, 1, "'name' must be 1..15 characters" },
	{ "interface = { name = \"\"; };\n" PORTS, 1, "'name' must be 1..15" },
	{ "interface = { name = \"wg 0\"; };\n" PORTS, 1, "not 'wg 0'" },
	{ "interface = { name = \"wg/0\"; };\n" PORTS, 1, "'name' must be" },
	{ "interface = { name = \"..\"; };\n" PORTS, 1, "'name' must be" },
	{ "interface = { name = \"a\\n\"; };\n" PORTS, 1, "not 'a?'" },
	{ "ports = (\n  { name = \"0123456789abcdef\"; device = \"d\"; role = \"both\"; }\n);\n", 2,
	  "'name' must be 1..15" },
	{ long_device, 1, "'device' must be 1..255 characters, not 260" },
	{ "ports = ( { name = \"p\"; device = \"\"; role = \"both\"; } );\n", 1, "'device' must be 1..255" },
	{ "ports = ( { name = \"p\"; device = \"net_tap0, iface=x\"; role = \"both\"; } );\n", 1,
	  "'device' may not hold spaces" },
	{ "interface = { uapi_socket = \"/"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456\"; };\n" PORTS, 1,
	  "'uapi_socket' must be 1..107 characters, not 108" },
	{ "interface = { jsonrpc_socket = \"\"; };\n" PORTS, 1, "'jsonrpc_socket' must be 1..107" },
	/* obfuscation: AmneziaWG's rules, at the group's line or the value's */
	{ "interface = {\n obfuscation = { h1 = 5; h2 = 5; }; };\n" PORTS, 2,
	  "obfuscation: h1 and h2 must differ" },
	{ "interface = { obfuscation = { h3 = 2; }; };\n" PORTS, 1,
	  "h3 = 2 is a plain WireGuard message type" },
	{ "interface = { obfuscation = { jmin = 80; jmax = 70; jc = 1; }; };\n" PORTS, 1,
	  "jmin = 80 is above jmax = 70" },
	{ "interface = { obfuscation = { s1 = 10; s2 = 66; }; };\n" PORTS, 1, "same length" },
	{ "interface = { obfuscation = { s1 = 1305; }; };\n" PORTS, 1, "s1 at most 1304" },
	{ "interface = { mtu = 1280; obfuscation = { s2 = 1221; }; };\n" PORTS, 1,
	  "s2 at most 1220" },
	{ "interface = { obfuscation = { jc = 129; }; };\n" PORTS, 1, "'jc' must be 0..128" },
	{ "interface = { obfuscation = { h4 = 4294967296L; }; };\n" PORTS, 1,
	  "'h4' must be 0..4294967295" },
	{ "interface = { obfuscation = { h4 = -5; }; };\n" PORTS, 1, "'h4' must be" },
	{ "interface = { obfuscation = { s1 = \"15\"; }; };\n" PORTS, 1, "'s1' must be an integer" },
	{ "interface = { obfuscation = { accept_plain = 1; }; };\n" PORTS, 1,
	  "'accept_plain' must be true or false" },
	{ "interface = { obfuscation = { junk = 1; }; };\n" PORTS, 1,
	  "unknown setting 'junk' in obfuscation" },
	{ "interface = { obfuscation = 4; };\n" PORTS, 1, "'obfuscation' must be a group" },
	/* too many ports: the ninth is at fault */
	{ "ports = (\n"
	  "{ name = \"a\"; device = \"d0\"; role = \"wan\"; }, { name = \"b\"; device = \"d1\"; role = \"lan\"; },\n"
	  "{ name = \"c\"; device = \"d2\"; role = \"lan\"; }, { name = \"d\"; device = \"d3\"; role = \"lan\"; },\n"
	  "{ name = \"e\"; device = \"d4\"; role = \"lan\"; }, { name = \"f\"; device = \"d5\"; role = \"lan\"; },\n"
	  "{ name = \"g\"; device = \"d6\"; role = \"lan\"; }, { name = \"h\"; device = \"d7\"; role = \"lan\"; },\n"
	  "{ name = \"i\"; device = \"d8\"; role = \"lan\"; }\n);\n", 6, "too many ports (at most 8)" },
	/* http, metrics, events */
	{ PORTS "http = { listen = \"0.0.0.0:8182\"; };\n", 2,
	  "http.listen 0.0.0.0:8182 is not a loopback address" },
	{ PORTS "http = { listen = \"[::]:8182\"; tls_certificate = \"c\"; tls_key = \"k\"; };\n",
	  2, "is not a loopback address" },
	{ PORTS "http = { listen = \"localhost:8182\"; };\n", 2,
	  "http.listen must be IPv4:port or [IPv6]:port" },
	{ PORTS "http = { listen = \"127.0.0.1:0\"; };\n", 2, "http.listen must be" },
	{ PORTS "http = { listen = \"127.0.0.1:8182\"; tokens = [ \"a b\" ]; };\n", 2,
	  "a token must be 1..127 printable characters" },
	{ PORTS "http = { listen = \"127.0.0.1:8182\"; tokens = [ \"\" ]; };\n", 2,
	  "a token must be" },
	{ PORTS "http = { listen = \"127.0.0.1:8182\"; tls_certificate = \"c\"; };\n", 2,
	  "give both 'tls_certificate' and 'tls_key'" },
	{ PORTS "http = { listen = \"127.0.0.1:8182\"; tls_client_ca = \"ca\"; };\n", 2,
	  "'tls_client_ca' (mutual TLS) needs" },
	{ PORTS "http = { listen = \"127.0.0.1:8182\"; tokens_file = \"/nonexistent/t\"; };\n",
	  2, "tokens_file '/nonexistent/t'" },
	{ PORTS "http = { listen = \"127.0.0.1:8182\"; max_request_bytes = 10; };\n", 2,
	  "'max_request_bytes' must be 1024..1073741824" },
	{ PORTS "http = { listen = \"127.0.0.1:8182\"; metrics = 1; };\n", 2,
	  "'metrics' must be true or false" },
	{ PORTS "http = { lisen = \"127.0.0.1:8182\"; };\n", 2, "unknown setting 'lisen' in http" },
	{ PORTS "http = 5;\n", 2, "'http' must be a group" },
	{ PORTS "metrics = { listen = \"127.0.0.1\"; };\n", 2, "metrics.listen must be" },
	{ PORTS "metrics = { per_peer = \"no\"; };\n", 2, "'per_peer' must be true or false" },
	{ PORTS "events = { ring_size = 1; };\n", 2, "'ring_size' must be 16..1048576" },
	{ PEER("enabled = 0;"), 3, "'enabled' must be true or false" },
};

/* The message is "ORIGIN:LINE: reason", or "ORIGIN: reason" without a line. */
static bool message_is(const char *err, const char *origin, unsigned line, const char *reason)
{
	char head[WG_CONFIG_ERR_LEN];
	int n;

	if (line)
		n = snprintf(head, sizeof(head), "%s:%u: ", origin, line);
	else
		n = snprintf(head, sizeof(head), "%s: ", origin);
	if (n < 0 || (size_t)n >= sizeof(head))
		return false;
	return strncmp(err, head, (size_t)n) == 0 && strstr(err, reason) != NULL;
}

/* The obfuscation group: Amnezia's values (h above 2^31 with the L suffix and as hex),
 * defaults for what is left out, and plain WireGuard without the group. */
static void test_obfuscation(void)
{
	static const char text[] =
		"interface = { obfuscation = { jc = 4; jmin = 40; jmax = 70; s1 = 15; s2 = 68;\n"
		"  h1 = 1020325451; h2 = 3288052141L; h3 = 0x694c4bf2; h4 = 2528465083L;\n"
		"  accept_plain = true; }; };\n" PORTS;
	struct wg_config c;
	char err[WG_CONFIG_ERR_LEN];

	if (CHECK_EQ(wg_config_parse(&c, text, "t", err, sizeof(err)), 0)) {
		CHECK_EQ(c.obfs.jc, 4);
		CHECK_EQ(c.obfs.jmin, 40);
		CHECK_EQ(c.obfs.jmax, 70);
		CHECK_EQ(c.obfs.s1, 15);
		CHECK_EQ(c.obfs.s2, 68);
		CHECK_EQ(c.obfs.h[0], 1020325451u);
		CHECK_EQ(c.obfs.h[1], 3288052141u);
		CHECK_EQ(c.obfs.h[2], 1766607858u);
		CHECK_EQ(c.obfs.h[3], 2528465083u);
		CHECK(c.obfs.accept_plain);
		CHECK(wg_obfs_enabled(&c.obfs));
		wg_config_free(&c);
	} else {
		fprintf(stderr, "  %s\n", err);
	}
	if (CHECK_EQ(wg_config_parse(&c, "interface = { obfuscation = { h4 = 9; }; };\n" PORTS,
				     "t", err, sizeof(err)), 0)) {
		CHECK(c.obfs.h[0] == 1 && c.obfs.h[1] == 2 && c.obfs.h[2] == 3 && c.obfs.h[3] == 9);
		CHECK(!c.obfs.accept_plain && c.obfs.s1 == 0 && c.obfs.jc == 0);
		wg_config_free(&c);
	}
	if (CHECK_EQ(wg_config_parse(&c, PORTS, "t", err, sizeof(err)), 0)) {
		CHECK(!wg_obfs_enabled(&c.obfs));
		CHECK(c.obfs.h[0] == 1 && c.obfs.h[3] == 4);
		wg_config_free(&c);
	}
}

static void test_bad_table(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad *t = &bad_cases[i];
		struct wg_config c, poison;
		char err[WG_CONFIG_ERR_LEN] = "";

		memset(&c, 0x5a, sizeof(c));
		poison = c;
		if (!CHECK_EQ(wg_config_parse(&c, t->text, "bad.conf", err, sizeof(err)), -1)) {
			fprintf(stderr, "  bad case %zu accepted: %s\n", i, t->text);
			wg_config_free(&c);
			continue;
		}
		if (!CHECK(message_is(err, "bad.conf", t->line, t->reason)))
			fprintf(stderr, "  bad case %zu: got \"%s\", want line %u and \"%s\"\n", i,
				err, t->line, t->reason);
		CHECK_MEM(&c, &poison, sizeof(c));
	}
}

/* Small or missing error buffers, and the default origin. */
static void test_err_buffer(void)
{
	struct wg_config c;
	char small[8];

	memset(small, 'x', sizeof(small));
	CHECK_EQ(wg_config_parse(&c, "ports = ();", "file.conf", small, sizeof(small)), -1);
	CHECK(strcmp(small, "file.co") == 0);
	CHECK_EQ(wg_config_parse(&c, "ports = ();", "file.conf", NULL, 0), -1);
	CHECK_EQ(wg_config_parse(&c, "ports = ();", "file.conf", small, 0), -1);
	{
		char err[WG_CONFIG_ERR_LEN];

		CHECK_EQ(wg_config_parse(&c, "ports = ();", NULL, err, sizeof(err)), -1);
		CHECK(strncmp(err, "(config):1: ", 12) == 0);
		CHECK_EQ(wg_config_parse(&c, NULL, "x", err, sizeof(err)), -1);
	}
}

/* Shapes that would cost libconfig more than linear time are refused before it reads. */
static void test_shape(void)
{
	char text[2048], err[WG_CONFIG_ERR_LEN];
	struct wg_config c;
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "x = {\n");
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "a%d = 1;\n", i);
	snprintf(text + n, sizeof(text) - n, "};\n");
	CHECK_EQ(wg_config_parse(&c, text, "wide", err, sizeof(err)), -1);
	CHECK(message_is(err, "wide", 66, "too many settings in one group"));

	n = (size_t)snprintf(text, sizeof(text), PORTS "peers = ");
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "(\n");
	CHECK_EQ(wg_config_parse(&c, text, "deep", err, sizeof(err)), -1);
	if (!CHECK(message_is(err, "deep", 18, "nested too deeply")))
		fprintf(stderr, "  %s\n", err);
}

/* ---- files ---- */

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!CHECK(f != NULL))
		return;
	CHECK_EQ(fwrite(data, 1, len, f), len);
	CHECK_EQ(fclose(f), 0);
}

static void path_in_tmp(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmp_dir, name);
}

struct key_file_case {
	const char *content;
	size_t len;
	bool ok;
};

static void test_key_files(void)
{
	static const struct key_file_case cases[] = {
		{ PRIV1 "\n", 45, true },
		{ PRIV1, 44, true },
		{ PRIV1 "\n\n", 46, false },
		{ PRIV1 "\r\n", 46, false },
		{ " " PRIV1, 45, false },
		{ PRIV1 " ", 45, false },
		{ "", 0, false },
		{ "not a key\n", 10, false },
		{ PRIV1 PRIV1, 88, false },
		{ PRIV1 "\0", 45, false },
	};
	char key[256], text[512], err[WG_CONFIG_ERR_LEN];
	struct wg_config c;

	path_in_tmp(key, sizeof(key), "k.key");
	snprintf(text, sizeof(text), "interface = {\n  private_key_file = \"%s\";\n};\n" PORTS
		 "peers = ( { public_key = \"" PUB2 "\"; } );\n", key);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(key, cases[i].content, cases[i].len);
		err[0] = '\0';
		if (!CHECK_EQ(wg_config_parse(&c, text, "kf", err, sizeof(err)), cases[i].ok ? 0 : -1)) {
			fprintf(stderr, "  key file case %zu: %s\n", i, err);
			continue;
		}
		if (cases[i].ok) {
			CHECK(c.has_private_key && key_is(c.private_key, PRIV1));
			wg_config_free(&c);
		} else {
			CHECK(message_is(err, "kf", 2, "does not hold one key in base64"));
		}
	}
	/* The interface's own key in a file is still refused as a peer. */
	write_file(key, PRIV1 "\n", 45);
	snprintf(text, sizeof(text), "interface = {\n  private_key_file = \"%s\";\n};\n" PORTS
		 "peers = ( { public_key = \"" PUB1 "\"; } );\n", key);
	CHECK_EQ(wg_config_parse(&c, text, "kf", err, sizeof(err)), -1);
	CHECK(message_is(err, "kf", 5, "own public key"));
	CHECK_EQ(unlink(key), 0);

	/* A FIFO must not block the parse. */
	CHECK_EQ(mkfifo(key, 0600), 0);
	snprintf(text, sizeof(text), "interface = { private_key_file = \"%s\"; };\n" PORTS, key);
	CHECK_EQ(wg_config_parse(&c, text, "kf", err, sizeof(err)), -1);
	CHECK(message_is(err, "kf", 1, "not a regular file"));
	CHECK_EQ(unlink(key), 0);
}

/* wg_config_load: relative key files beside the configuration, and what can go wrong
 * with the file itself. */
static void test_load(void)
{
	static const char cfg_text[] =
		"interface = {\n  private_key_file = \"gw.key\";\n};\n" PORTS;
	char cfg[256], key[256], err[WG_CONFIG_ERR_LEN], want[300];
	struct wg_config c;

	path_in_tmp(cfg, sizeof(cfg), "gw.conf");
	path_in_tmp(key, sizeof(key), "gw.key");
	write_file(key, PRIV1 "\n", 45);
	write_file(cfg, cfg_text, sizeof(cfg_text) - 1);
	err[0] = '\0';
	if (CHECK_EQ(wg_config_load(&c, cfg, err, sizeof(err)), 0)) {
		CHECK(c.has_private_key && key_is(c.private_key, PRIV1));
		wg_config_free(&c);
	} else {
		fprintf(stderr, "  %s\n", err);
	}
	/* wg_config_parse takes the same relative path from the current directory. */
	CHECK_EQ(wg_config_parse(&c, cfg_text, "cwd", err, sizeof(err)), -1);
	CHECK(message_is(err, "cwd", 2, "private_key_file 'gw.key': No such file"));
	CHECK_EQ(unlink(key), 0);

	/* An error names the file given. */
	CHECK_EQ(wg_config_load(&c, cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/gw.key", tmp_dir);
	CHECK(message_is(err, cfg, 2, want));

	/* A NUL would hide the rest of the file from libconfig. */
	write_file(cfg, PORTS "\n\0peers = ();\n", sizeof(PORTS) + 13);
	CHECK_EQ(wg_config_load(&c, cfg, err, sizeof(err)), -1);
	CHECK(message_is(err, cfg, 3, "NUL byte"));
	CHECK_EQ(unlink(cfg), 0);

	CHECK_EQ(wg_config_load(&c, cfg, err, sizeof(err)), -1);
	CHECK(message_is(err, cfg, 0, "No such file or directory"));
	CHECK_EQ(wg_config_load(&c, tmp_dir, err, sizeof(err)), -1);
	CHECK(message_is(err, tmp_dir, 0, "not a regular file"));
}

/* wg_config_load_as: started as NAME (wgdp --name, the service wgdp@NAME), the file may
 * leave the interface's name out (NAME, with the sockets after it) or give NAME itself;
 * another name is refused at its line, and so is a NAME that is no interface name. */
static void test_load_as(void)
{
	static const char no_name[] = PORTS;
	static const char same[] = "interface = {\n  name = \"edge1\";\n};\n" PORTS;
	static const char other[] = "interface = {\n  listen_port = 1;\n  name = \"wgdp0\";\n};\n"
				    PORTS;
	static const char sockets[] = "interface = {\n  uapi_socket = \"/tmp/u.sock\";\n};\n" PORTS;
	char cfg[256], err[WG_CONFIG_ERR_LEN];
	struct wg_config c;

	path_in_tmp(cfg, sizeof(cfg), "edge1.conf");
	write_file(cfg, no_name, sizeof(no_name) - 1);
	err[0] = '\0';
	if (CHECK_EQ(wg_config_load_as(&c, cfg, "edge1", err, sizeof(err)), 0)) {
		CHECK(strcmp(c.name, "edge1") == 0);
		CHECK(strcmp(c.uapi_socket, "/var/run/wireguard/edge1.sock") == 0);
		CHECK(strcmp(c.jsonrpc_socket, "/var/run/wgdp/edge1.json.sock") == 0);
		wg_config_free(&c);
	} else {
		fprintf(stderr, "  %s\n", err);
	}
	/* Without a name to start as, the default stays. */
	if (CHECK_EQ(wg_config_load_as(&c, cfg, NULL, err, sizeof(err)), 0)) {
		CHECK(strcmp(c.name, "wgdp0") == 0);
		CHECK(strcmp(c.uapi_socket, "/var/run/wireguard/wgdp0.sock") == 0);
		wg_config_free(&c);
	}

	write_file(cfg, same, sizeof(same) - 1);
	if (CHECK_EQ(wg_config_load_as(&c, cfg, "edge1", err, sizeof(err)), 0)) {
		CHECK(strcmp(c.name, "edge1") == 0);
		CHECK(strcmp(c.uapi_socket, "/var/run/wireguard/edge1.sock") == 0);
		wg_config_free(&c);
	}

	write_file(cfg, other, sizeof(other) - 1);
	CHECK_EQ(wg_config_load_as(&c, cfg, "edge1", err, sizeof(err)), -1);
	CHECK(message_is(err, cfg, 3, "interface name 'wgdp0' is not 'edge1'"));
	/* The same file loads as itself. */
	if (CHECK_EQ(wg_config_load_as(&c, cfg, "wgdp0", err, sizeof(err)), 0))
		wg_config_free(&c);

	/* A socket the file names is kept; the other follows the name. */
	write_file(cfg, sockets, sizeof(sockets) - 1);
	if (CHECK_EQ(wg_config_load_as(&c, cfg, "edge1", err, sizeof(err)), 0)) {
		CHECK(strcmp(c.uapi_socket, "/tmp/u.sock") == 0);
		CHECK(strcmp(c.jsonrpc_socket, "/var/run/wgdp/edge1.json.sock") == 0);
		wg_config_free(&c);
	}

	static const char *const bad[] = { "", ".", "..", "a/b", "sixteen-chars-xx", "a b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!wg_config_name_ok(bad[i]));
		CHECK_EQ(wg_config_load_as(&c, cfg, bad[i], err, sizeof(err)), -1);
		CHECK(message_is(err, cfg, 0, "the name to start as must be"));
	}
	CHECK(wg_config_name_ok("fifteen-chars-x"));
	CHECK(wg_config_name_ok("wg_0.a-B"));
	CHECK_EQ(unlink(cfg), 0);
}

/* Many peers: duplicates are still found (by sorting), and quickly. */
static void test_many_peers(void)
{
	enum { N = 5000 };
	size_t cap = 128 + (size_t)N * 80;
	char *text = malloc(cap), err[WG_CONFIG_ERR_LEN] = "";
	size_t n;
	struct wg_config c;
	uint8_t k[WG_KEY_LEN];
	char b64[WG_KEY_B64_LEN + 1];

	if (!CHECK(text != NULL))
		return;
	n = (size_t)snprintf(text, cap, PORTS "peers = (\n");
	for (unsigned i = 0; i < N; i++) {
		memset(k, 0, sizeof(k));
		memcpy(k, &i, sizeof(i));
		wg_key_to_base64(b64, k);
		n += (size_t)snprintf(text + n, cap - n, "%s{ public_key = \"%s\"; }\n",
				      i ? "," : "", b64);
	}
	snprintf(text + n, cap - n, ");\n");
	if (CHECK_EQ(wg_config_parse(&c, text, "many", err, sizeof(err)), 0)) {
		CHECK_EQ(c.n_peers, N);
		CHECK_EQ(c.peers[N - 1].line, N + 2);
		wg_config_free(&c);
	}
	/* The peer on line 4002 takes the key of the one on line 19. */
	{
		char *p4000 = text, *p17 = text;

		for (unsigned line = 1; line < 4002; line++)
			p4000 = strchr(p4000, '\n') + 1;
		for (unsigned line = 1; line < 19; line++)
			p17 = strchr(p17, '\n') + 1;
		memcpy(strchr(p4000, '"') + 1, strchr(p17, '"') + 1, WG_KEY_B64_LEN);
	}
	CHECK_EQ(wg_config_parse(&c, text, "many", err, sizeof(err)), -1);
	CHECK(message_is(err, "many", 4002, "same public_key as the peer at line 19"));
	free(text);
}

static void test_examples(void)
{
	static const char *const names[] = { "example.conf", "one-arm.conf" };
	char path[512], err[WG_CONFIG_ERR_LEN];
	struct wg_config c;

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", conf_dir, names[i]);
		err[0] = '\0';
		if (!CHECK_EQ(wg_config_load(&c, path, err, sizeof(err)), 0)) {
			fprintf(stderr, "  %s\n", err);
			continue;
		}
		CHECK(c.has_private_key);
		CHECK_EQ(c.n_peers, 2);
		CHECK_EQ(c.n_ports, i == 0 ? 2 : 1);
		CHECK_EQ(c.ports[0].role, i == 0 ? WG_ROLE_WAN : WG_ROLE_BOTH);
		wg_config_free(&c);
		/* Copied to /etc/wgdp/edge1.conf, each serves the service wgdp@edge1 as is. */
		if (!CHECK_EQ(wg_config_load_as(&c, path, "edge1", err, sizeof(err)), 0)) {
			fprintf(stderr, "  %s\n", err);
			continue;
		}
		CHECK(strcmp(c.name, "edge1") == 0);
		CHECK(strcmp(c.uapi_socket, "/var/run/wireguard/edge1.sock") == 0);
		CHECK(strcmp(c.jsonrpc_socket, "/var/run/wgdp/edge1.json.sock") == 0);
		wg_config_free(&c);
	}
}

static const char ops[] =
	"interface = { private_key = \"" PRIV1 "\"; save_path = \"/tmp/x.conf\"; };\n"
	PORTS
	"peers = ( { public_key = \"" PUB2 "\"; enabled = false; },\n"
	"          { public_key = \"" PUB3 "\"; enabled = true; } );\n"
	"http = { listen = \"0.0.0.0:8182\"; tokens = [ \"s3cret\", \"other\" ];\n"
	"         tls_certificate = \"/etc/wgdp/cert.pem\"; tls_key = \"/etc/wgdp/key.pem\";\n"
	"         tls_client_ca = \"/etc/wgdp/ca.pem\"; max_request_bytes = 65536;\n"
	"         max_connections = 8; idle_timeout = 5; metrics = false; };\n"
	"metrics = { listen = \"[::1]:9586\"; per_peer = false; };\n"
	"events = { ring_size = 64; quiet_margin = 0; };\n";

/* The operator's settings: http, metrics, events, a disabled peer. */
static void test_operations(void)
{
	struct wg_config c;
	char err[WG_CONFIG_ERR_LEN] = "";

	if (!CHECK_EQ(wg_config_parse(&c, ops, "ops.conf", err, sizeof(err)), 0)) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK(c.http.enabled);
	CHECK(ip_is(&c.http.listen.ip, "0.0.0.0"));
	CHECK_EQ(c.http.listen.port, 8182);
	CHECK_EQ(c.http.n_tokens, 2);
	CHECK(strcmp(c.http.tokens[0], "s3cret") == 0 && strcmp(c.http.tokens[1], "other") == 0);
	CHECK(strcmp(c.http.tls_client_ca, "/etc/wgdp/ca.pem") == 0);
	CHECK_EQ(c.http.max_request_bytes, 65536);
	CHECK_EQ(c.http.max_connections, 8);
	CHECK_EQ(c.http.idle_timeout, 5);
	CHECK(!c.http.metrics);
	CHECK(c.metrics.has_listen && !c.metrics.per_peer);
	CHECK(ip_is(&c.metrics.listen.ip, "::1"));
	CHECK_EQ(c.events.ring_size, 64);
	CHECK_EQ(c.events.quiet_margin, 0);
	CHECK(strcmp(c.save_path, "/tmp/x.conf") == 0);
	CHECK_EQ(c.n_peers, 2);
	CHECK(c.peers[0].disabled && !c.peers[1].disabled);
	wg_config_free(&c);

	/* Defaults, and a loopback listener needs no credential. */
	if (!CHECK_EQ(wg_config_parse(&c, PORTS "http = { listen = \"127.0.0.1:8182\"; };\n",
				      NULL, err, sizeof(err)), 0))
		return;
	CHECK(c.http.enabled && c.http.metrics && c.metrics.per_peer && !c.metrics.has_listen);
	CHECK_EQ(c.http.max_request_bytes, 16u << 20);
	CHECK_EQ(c.http.max_connections, 64);
	CHECK_EQ(c.http.idle_timeout, 10);
	CHECK_EQ(c.events.ring_size, 4096);
	CHECK_EQ(c.events.quiet_margin, 30);
	wg_config_free(&c);
}

/* Tokens from a file: one a line, comments and blank lines skipped. */
static void test_tokens_file(void)
{
	char path[512], text[1024], err[WG_CONFIG_ERR_LEN] = "";
	static const char toks[] = "# tokens\n\nabc123\r\nxyz\n";
	struct wg_config c;

	path_in_tmp(path, sizeof(path), "tokens");
	write_file(path, toks, sizeof(toks) - 1);
	snprintf(text, sizeof(text), PORTS "http = { listen = \"[::]:8182\"; tokens_file = \"%s\"; };\n",
		 path);
	if (CHECK_EQ(wg_config_parse(&c, text, NULL, err, sizeof(err)), 0)) {
		CHECK_EQ(c.http.n_file_tokens, 2);
		CHECK(strcmp(c.http.file_tokens[0], "abc123") == 0);
		CHECK(strcmp(c.http.file_tokens[1], "xyz") == 0);
		CHECK(strcmp(c.http.tokens_file, path) == 0);
		wg_config_free(&c);
	} else {
		fprintf(stderr, "  %s\n", err);
	}
	write_file(path, "# none\n", 7);
	CHECK_EQ(wg_config_parse(&c, text, "t.conf", err, sizeof(err)), -1);
	CHECK(strstr(err, "holds no token") != NULL);
	CHECK_EQ(unlink(path), 0);
}

static bool same_peer(const struct wg_config_peer *a, const struct wg_config_peer *b)
{
	bool same = memcmp(a->public_key, b->public_key, WG_KEY_LEN) == 0 &&
		    a->has_preshared_key == b->has_preshared_key &&
		    memcmp(a->preshared_key, b->preshared_key, WG_KEY_LEN) == 0 &&
		    a->endpoint.port == b->endpoint.port &&
		    wg_ip_equal(&a->endpoint.ip, &b->endpoint.ip) &&
		    a->n_allowed_ips == b->n_allowed_ips &&
		    a->persistent_keepalive == b->persistent_keepalive &&
		    a->disabled == b->disabled;

	for (unsigned i = 0; same && i < a->n_allowed_ips; i++)
		same = a->allowed_ips[i].len == b->allowed_ips[i].len &&
		       wg_ip_equal(&a->allowed_ips[i].ip, &b->allowed_ips[i].ip);
	return same;
}

/* wg_config_save writes what wg_config_load reads back the same. */
static void test_save(void)
{
	struct wg_config a, b;
	char err[WG_CONFIG_ERR_LEN] = "", path[512];
	struct stat st;

	if (!CHECK_EQ(wg_config_parse(&a, full, "full.conf", err, sizeof(err)), 0))
		return;
	a.peers[0].disabled = true;
	a.http.enabled = true;
	wg_ip_parse(&a.http.listen.ip, "127.0.0.1", 9);
	a.http.listen.port = 8182;
	a.http.n_tokens = 1;
	snprintf(a.http.tokens[0], sizeof(a.http.tokens[0]), "tok");
	a.metrics.per_peer = false;
	a.obfs.jc = 4;
	a.obfs.jmin = 40;
	a.obfs.jmax = 70;
	a.obfs.s1 = 15;
	a.obfs.s2 = 68;
	a.obfs.h[0] = 1020325451;
	a.obfs.h[1] = 3288052141u;
	a.obfs.h[2] = 1766607858;
	a.obfs.h[3] = 2528465083u;
	a.obfs.accept_plain = true;
	path_in_tmp(path, sizeof(path), "saved.conf");
	if (!CHECK_EQ(wg_config_save(&a, path, err, sizeof(err)), 0))
		fprintf(stderr, "  %s\n", err);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	if (CHECK_EQ(wg_config_load(&b, path, err, sizeof(err)), 0)) {
		CHECK(strcmp(a.name, b.name) == 0);
		CHECK_MEM(a.private_key, b.private_key, WG_KEY_LEN);
		CHECK_EQ(a.listen_port, b.listen_port);
		CHECK_EQ(a.mtu, b.mtu);
		CHECK_EQ(a.fwmark, b.fwmark);
		CHECK(strcmp(a.uapi_socket, b.uapi_socket) == 0);
		CHECK(strcmp(a.jsonrpc_socket, b.jsonrpc_socket) == 0);
		CHECK_EQ(a.n_ports, b.n_ports);
		for (unsigned i = 0; i < a.n_ports && i < b.n_ports; i++) {
			CHECK(strcmp(a.ports[i].device, b.ports[i].device) == 0);
			CHECK_EQ(a.ports[i].role, b.ports[i].role);
			CHECK_EQ(a.ports[i].n_addrs, b.ports[i].n_addrs);
			CHECK_EQ(a.ports[i].mtu, b.ports[i].mtu);
		}
		CHECK_EQ(a.n_peers, b.n_peers);
		for (unsigned i = 0; i < a.n_peers && i < b.n_peers; i++)
			CHECK(same_peer(&a.peers[i], &b.peers[i]));
		CHECK(b.http.enabled && b.http.listen.port == 8182 && b.http.n_tokens == 1);
		CHECK(!b.metrics.per_peer);
		CHECK_MEM(a.obfs.h, b.obfs.h, sizeof(a.obfs.h));
		CHECK(a.obfs.jc == b.obfs.jc && a.obfs.jmin == b.obfs.jmin &&
		      a.obfs.jmax == b.obfs.jmax && a.obfs.s1 == b.obfs.s1 &&
		      a.obfs.s2 == b.obfs.s2 && b.obfs.accept_plain);
		wg_config_free(&b);
	} else {
		fprintf(stderr, "  %s\n", err);
	}
	/* A directory that does not exist: refused, nothing left behind. */
	CHECK_EQ(wg_config_save(&a, "/nonexistent-dir/x.conf", err, sizeof(err)), -1);
	CHECK(strstr(err, "/nonexistent-dir/x.conf") != NULL);
	wg_config_free(&a);
	CHECK_EQ(unlink(path), 0);
}

/* Masquerade, the NAT's bounds and destination rules (docs/nat.md): read, refused with
 * their line, and written back by wg_config_save the same. */
static const char nat_conf[] =
	"ports = (\n"
	"  { name = \"wan\"; device = \"net_null0\"; role = \"wan\"; addresses = [ \"192.0.2.1/24\" ]; },\n"
	"  { name = \"lan\"; device = \"net_null1\"; role = \"lan\";\n"
	"    addresses = [ \"198.51.100.1/24\", \"198.51.100.2/24\" ];\n"
	"    masquerade = { sources = [ \"10.200.0.0/16\" ]; pool = [ \"198.51.100.2\" ];\n"
	"                   port_range = \"20000-29999\"; }; }\n"
	");\n"
	"nat = { max_flows = 100000; max_flows_per_source = 500;\n"
	"        timeouts = { tcp_established = 3600; udp = 120; }; };\n"
	"destination_rules = (\n"
	"  { name = \"web\"; allow = [ \"0.0.0.0/0 tcp 80\", \"0.0.0.0/0 tcp 443\", \"::/0 tcp 443\" ]; },\n"
	"  { name = \"none\"; allow = [ ]; }\n"
	");\n"
	"peers = ( { public_key = \"" PUB2 "\"; allowed_ips = [ \"10.200.0.2/32\" ];\n"
	"            destination_rules = \"web\"; } );\n";

#define LAN(body) "ports = ( { name = \"l\"; device = \"net_null0\"; role = \"lan\"; " \
	"addresses = [ \"198.51.100.1/24\" ]; " body " } );\n"

static const struct bad nat_bad[] = {
	{ "ports = ( { name = \"w\"; device = \"d\"; role = \"wan\"; addresses = [ \"192.0.2.1/24\" ];\n"
	  " masquerade = true; } );\n", 2, "has no \"lan\" role" },
	{ LAN("masquerade = 1;"), 1, "must be true, false or a group" },
	{ LAN("masquerade = { port_range = \"2000\"; };"), 1, "LOW-HIGH" },
	{ LAN("masquerade = { port_range = \"3000-2000\"; };"), 1, "LOW-HIGH" },
	{ LAN("masquerade = { pool = [ \"198.51.100.9\" ]; };"), 1, "not one of port" },
	{ LAN("masquerade = { sources = [ \"fd00::/8\" ]; };"), 1, "not an IPv4 prefix" },
	{ LAN("masquerade = { colour = 1; };"), 1, "unknown setting 'colour'" },
	{ PORTS "nat = { max_flows = 3; };\n", 2, "max_flows" },
	{ PORTS "nat = { timeouts = { udp = 0; }; };\n", 2, "udp" },
	{ PORTS "destination_rules = ( { name = \"a\"; allow = [ \"10.0.0.1/8\" ]; } );\n", 2,
	  "bits set past" },
	{ PORTS "destination_rules = ( { name = \"a\"; allow = [ \"10.0.0.0/8 icmp 80\" ]; } );\n",
	  2, "rule" },
	{ PORTS "destination_rules = ( { name = \"a\"; allow = []; }, { name = \"a\"; allow = []; } );\n",
	  2, "already defined" },
	{ PEER("destination_rules = \"nope\";"), 3, "no rule set named 'nope'" },
};

static void check_nat_conf(const struct wg_config *c)
{
	const struct wg_config_masq *m = &c->ports[1].masq;
	char t[WG_DSTRULE_STRLEN];

	CHECK(!c->ports[0].masq.enabled);
	CHECK(m->enabled);
	CHECK_EQ(m->n_sources, 1);
	CHECK_EQ(m->sources[0].len, 16);
	CHECK_EQ(m->n_pool, 1);
	CHECK_EQ(m->pool[0].addr[3], 2);
	CHECK(m->port_min == 20000 && m->port_max == 29999);
	CHECK(c->nat.max_flows == 100000 && c->nat.max_flows_per_source == 500);
	CHECK(c->nat.tcp_established == 3600 && c->nat.udp == 120);
	CHECK(c->nat.tcp_transitory == 240 && c->nat.icmp == 60);     /* the defaults */
	CHECK_EQ(c->n_rule_sets, 2);
	if (c->n_rule_sets == 2) {
		CHECK(strcmp(c->rule_sets[0].name, "web") == 0);
		CHECK_EQ(c->rule_sets[0].n_rules, 3);
		CHECK_EQ(c->rule_sets[1].n_rules, 0);
		wg_dstrule_format(t, &c->rule_sets[0].rules[2]);
		CHECK(strcmp(t, "::/0 tcp 443") == 0);
	}
	CHECK_EQ(c->peers[0].rule_set, 1);
}

static void test_nat_config(void)
{
	struct wg_config a, b;
	char err[WG_CONFIG_ERR_LEN] = "", path[512];

	if (!CHECK_EQ(wg_config_parse(&a, nat_conf, "nat.conf", err, sizeof(err)), 0)) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	check_nat_conf(&a);
	path_in_tmp(path, sizeof(path), "nat-saved.conf");
	if (!CHECK_EQ(wg_config_save(&a, path, err, sizeof(err)), 0))
		fprintf(stderr, "  %s\n", err);
	if (CHECK_EQ(wg_config_load(&b, path, err, sizeof(err)), 0)) {
		check_nat_conf(&b);
		wg_config_free(&b);
	} else {
		fprintf(stderr, "  %s\n", err);
	}
	unlink(path);
	wg_config_free(&a);
	/* `masquerade = true` takes the port's address and the default range. */
	if (!CHECK_EQ(wg_config_parse(&a, "ports = ( { name = \"l\"; device = \"d\"; role = \"both\"; "
					       "addresses = [ \"198.51.100.1/24\" ]; masquerade = true; } );\n",
			       "t.conf", err, sizeof(err)), 0))
		fprintf(stderr, "  %s\n", err);
	else {
		CHECK(a.ports[0].masq.enabled && a.ports[0].masq.n_pool == 0);
		CHECK(a.ports[0].masq.port_min == 1024 && a.ports[0].masq.port_max == 65535);
		CHECK_EQ(a.nat.max_flows, 65536);
		wg_config_free(&a);
	}
	for (size_t i = 0; i < sizeof(nat_bad) / sizeof(nat_bad[0]); i++) {
		struct wg_config c;

		memset(err, 0, sizeof(err));
		if (!CHECK_EQ(wg_config_parse(&c, nat_bad[i].text, "bad.conf", err, sizeof(err)), -1)) {
			fprintf(stderr, "  nat bad case %zu accepted\n", i);
			wg_config_free(&c);
			continue;
		}
		if (!CHECK(message_is(err, "bad.conf", nat_bad[i].line, nat_bad[i].reason)))
			fprintf(stderr, "  nat bad case %zu: got \"%s\"\n", i, err);
	}
}

int main(int argc, char **argv)
{
	static char conf[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
		return 2;
	}
	snprintf(conf, sizeof(conf), "%s/../../conf", argv[1]);
	conf_dir = conf;
	CHECK_EQ(wg_crypto_init(), 0);
	if (!CHECK(mkdtemp(tmp_dir) != NULL))
		return check_report("config");

	test_full();
	test_defaults();
	test_good_values();
	test_bad_table();
	test_nat_config();
	test_obfuscation();
	test_err_buffer();
	test_shape();
	test_key_files();
	test_load();
	test_load_as();
	test_many_peers();
	test_examples();
	test_operations();
	test_tokens_file();
	test_save();

	CHECK_EQ(rmdir(tmp_dir), 0);
	return check_report("config");
}
