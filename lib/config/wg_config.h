/* SPDX-License-Identifier: MIT */
/*
 * The gateway's configuration file (libconfig syntax), parsed into plain structs. See
 * docs/configuration.md for the reference and conf/ for examples. A bad file is refused
 * with "FILE:LINE: reason" and nothing half-loaded is returned.
 */
#ifndef WG_CONFIG_H
#define WG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_addr.h"
#include "wg_dstrule.h"
#include "wg_obfs.h"
#include "wg_wire.h"

#define WG_CONFIG_MAX_PORTS      8
#define WG_CONFIG_MAX_PORT_ADDRS 8
#define WG_CONFIG_NAME_LEN       16   /* interface name, as IFNAMSIZ: 15 characters */
#define WG_CONFIG_DEVICE_LEN     256  /* DPDK device name or PCI address, with devargs */
#define WG_CONFIG_PATH_LEN       108  /* sun_path */
#define WG_CONFIG_ERR_LEN        512
#define WG_CONFIG_MAX_MASQ_SOURCES 16
#define WG_CONFIG_MAX_MASQ_POOL    WG_CONFIG_MAX_PORT_ADDRS
#define WG_CONFIG_RULES_NAME_LEN   32  /* a set of destination rules: 1..31 characters */
#define WG_CONFIG_MAX_RULE_SETS    256
#define WG_CONFIG_MAX_RULES        4096 /* per set */
#define WG_CONFIG_FILE_LEN       256  /* certificate, key, token and save files */
#define WG_CONFIG_MAX_TOKENS     16   /* HTTP tokens, inline and from the file, each */
#define WG_CONFIG_TOKEN_LEN      128  /* a token: 1..127 printable characters, no spaces */

enum wg_port_role {
	WG_ROLE_WAN = 1u << 0,        /* encrypted side: UDP to and from peers */
	WG_ROLE_LAN = 1u << 1,        /* plaintext side */
	WG_ROLE_BOTH = WG_ROLE_WAN | WG_ROLE_LAN,
};

/*
 * Masquerade (NAT44) of what leaves a port for the LAN (docs/nat.md): the source of IPv4
 * packets from `sources` (none: every peer's allowed IPs) becomes one of the pool's
 * addresses (none: the port's first IPv4 address), their TCP/UDP ports and ICMP query ids
 * are taken from port_min..port_max. The pool's addresses are addresses of the port.
 */
struct wg_config_masq {
	bool enabled;
	struct wg_prefix sources[WG_CONFIG_MAX_MASQ_SOURCES];
	unsigned n_sources;
	struct wg_ip pool[WG_CONFIG_MAX_MASQ_POOL];
	unsigned n_pool;
	uint16_t port_min, port_max;         /* 0, 0: the default, 1024..65535 */
};

/* The masquerade's state: its bounds and timeouts (seconds); 0 means the default. */
struct wg_config_nat {
	uint32_t max_flows;                  /* the flow table, over every worker: 65536 */
	uint32_t max_flows_per_source;       /* flows one inside address may hold: 4096 */
	uint32_t tcp_established;            /* 7440 (RFC 5382) */
	uint32_t tcp_transitory;             /* 240 (RFC 5382) */
	uint32_t udp;                        /* 300 (RFC 4787) */
	uint32_t icmp;                       /* 60 (RFC 5508) */
};

/* A named set of destination rules (wg_dstrule.h) that peers can be put under. */
struct wg_config_rule_set {
	char name[WG_CONFIG_RULES_NAME_LEN];
	struct wg_dstrule *rules;
	unsigned n_rules;
	unsigned line;
};

struct wg_config_port {
	char name[WG_CONFIG_NAME_LEN];
	char device[WG_CONFIG_DEVICE_LEN];   /* "net_af_packet0,iface=veth0" or "0000:01:00.0" */
	unsigned role;                       /* enum wg_port_role bits */
	struct wg_prefix addrs[WG_CONFIG_MAX_PORT_ADDRS];   /* host bits kept: 10.0.0.1/24 */
	unsigned n_addrs;
	struct wg_ip gateway4;               /* next-hop of the IPv4 default route; family 0 = none */
	struct wg_ip gateway6;
	uint16_t mtu;                        /* L3 MTU of the port, default 1500 */
	struct wg_config_masq masq;          /* masquerade of what leaves it (lan role) */
};

struct wg_config_peer {
	uint8_t public_key[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN];
	bool has_preshared_key;
	struct wg_endpoint endpoint;         /* ip.family 0 = none */
	struct wg_prefix *allowed_ips;       /* host bits refused */
	unsigned n_allowed_ips;
	uint16_t persistent_keepalive;       /* seconds, 0 = off */
	unsigned rule_set;                   /* destination rules: 0 none, else the index
	                                      * in wg_config.rule_sets + 1 */
	bool disabled;                       /* enabled = false: kept, its packets dropped */
	unsigned line;                       /* where it was defined, for later messages */
};

/* The HTTP listener: JSON-RPC as jamescun/wg-api serves it, and GET /metrics. */
struct wg_config_http {
	bool enabled;                        /* `listen` given */
	struct wg_endpoint listen;
	char tokens[WG_CONFIG_MAX_TOKENS][WG_CONFIG_TOKEN_LEN];   /* inline */
	unsigned n_tokens;
	char tokens_file[WG_CONFIG_FILE_LEN];                    /* "" = none */
	char file_tokens[WG_CONFIG_MAX_TOKENS][WG_CONFIG_TOKEN_LEN];  /* read from it */
	unsigned n_file_tokens;
	char tls_certificate[WG_CONFIG_FILE_LEN];   /* PEM; "" = plain HTTP */
	char tls_key[WG_CONFIG_FILE_LEN];
	char tls_client_ca[WG_CONFIG_FILE_LEN];     /* PEM; "" = no client certificates */
	uint32_t max_request_bytes;          /* default 16 MiB */
	uint32_t max_connections;            /* default 64 */
	uint32_t idle_timeout;               /* seconds, default 10 */
	bool metrics;                        /* GET /metrics here too, default true */
};

/* Prometheus metrics: an optional listener of their own (GET /metrics only). */
struct wg_config_metrics {
	bool has_listen;
	struct wg_endpoint listen;           /* e.g. 127.0.0.1:9586, as the exporters use */
	bool per_peer;                       /* per-peer series, default true */
};

/* Peer events (GetEvents). */
struct wg_config_events {
	uint32_t ring_size;                  /* events held, default 4096 */
	uint32_t quiet_margin;               /* seconds past REJECT_AFTER_TIME without a
	                                      * handshake before a peer is quiet, default 30 */
};

struct wg_config {
	char name[WG_CONFIG_NAME_LEN];       /* interface name, default "wgdp0" */
	uint8_t private_key[WG_KEY_LEN];
	bool has_private_key;
	uint16_t listen_port;                /* default 51820 */
	uint16_t mtu;                        /* tunnel MTU, default 1420 */
	uint32_t fwmark;                     /* accepted and shown; meaningless on DPDK */
	char uapi_socket[WG_CONFIG_PATH_LEN];    /* default /var/run/wireguard/NAME.sock */
	char jsonrpc_socket[WG_CONFIG_PATH_LEN]; /* default /var/run/wgdp/NAME.json.sock */
	int aead_engine;                     /* enum wg_aead_engine, default auto */
	char private_key_file[WG_CONFIG_FILE_LEN];   /* as written; "" = none or inline */
	char save_path[WG_CONFIG_FILE_LEN];  /* SaveConfig writes here; "" = the loaded file */
	struct wg_config_http http;
	struct wg_config_metrics metrics;
	struct wg_config_events events;
	struct wg_obfs obfs;                 /* AmneziaWG obfuscation; default plain WireGuard */
	struct wg_config_port ports[WG_CONFIG_MAX_PORTS];
	unsigned n_ports;
	struct wg_config_peer *peers;
	unsigned n_peers;
	struct wg_config_nat nat;
	struct wg_config_rule_set *rule_sets;
	unsigned n_rule_sets;
};

/* Parse a file. 0, or -1 with err holding "FILE:LINE: reason" (config untouched). */
int wg_config_load(struct wg_config *c, const char *path, char *err, size_t errlen);
/* The same for an interface started as `name` (wgdp --name, the service wgdp@NAME):
 * `name` replaces the default "wgdp0", so the default sockets follow it, and a file whose
 * interface.name differs is refused. NULL: as wg_config_load. */
int wg_config_load_as(struct wg_config *c, const char *path, const char *name, char *err,
		      size_t errlen);
/* Whether s is a valid interface or port name: 1..15 characters of A-Z a-z 0-9 _ . -,
 * not "." or "..". */
bool wg_config_name_ok(const char *s);
/* Parse text; `origin` names it in messages. Relative key files resolve against the
 * current directory. */
int wg_config_parse(struct wg_config *c, const char *text, const char *origin,
		    char *err, size_t errlen);
/* The defaults of the masquerade's bounds and timeouts in every field left 0. */
void wg_config_nat_defaults(struct wg_config_nat *n);
/* A rule set's name: 1..31 characters of A-Z a-z 0-9 _ . - */
bool wg_config_rules_name_ok(const char *s);

/* Release what a successful load allocated and wipe the keys. */
void wg_config_free(struct wg_config *c);

/*
 * Write c to path in the syntax wg_config_load reads (libconfig's config_write), atomically:
 * a temporary file in the same directory (mode 0600: it holds keys), fsync, rename over
 * path, fsync of the directory. Peers' endpoints are written as c has them. 0, or -1 with
 * a reason in err and path untouched.
 */
int wg_config_save(const struct wg_config *c, const char *path, char *err, size_t errlen);

#endif
