#!/usr/bin/env bash
# e2e: the gateway relays between peers (hub): client 1 and client 2 ping each other's tunnel
# addresses through it, IPv4 and IPv6. Both clients first talk to the LAN host so the gateway
# knows their endpoints.
# Usage: relay.sh [WGDP_BINARY|standin]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}"
topo_init relay
topo_build 2
gw_write_config
gw_start "$WGDP_BIN"
client_up 1   # allowed-ips include 10.200.0.0/24 and fd00:200::/64
client_up 2

c1=$(client_ns 1) c2=$(client_ns 2)
e2e_step "both clients reach the LAN host (handshakes, endpoints learned)"
e2e_require "client 1 -> $TOPO_LAN_HOST4" ping_reach "$c1" "$TOPO_LAN_HOST4" 15
e2e_require "client 2 -> $TOPO_LAN_HOST4" ping_reach "$c2" "$TOPO_LAN_HOST4" 15

e2e_step "client <-> client through the gateway"
e2e_check "client 1 -> client 2 $(client_tun4 2)" ping_reach "$c1" "$(client_tun4 2)" 10
e2e_check "client 1 -> client 2: 10 of 10 (IPv4)" ping_atleast "$c1" "$(client_tun4 2)" 10 10
e2e_check "client 2 -> client 1 $(client_tun4 1)" ping_reach "$c2" "$(client_tun4 1)" 10
e2e_check "client 1 -> client 2 $(client_tun6 2)" ping_reach "$c1" "$(client_tun6 2)" 10
e2e_check "client 2 -> client 1: 10 of 10 (IPv6)" ping_atleast "$c2" "$(client_tun6 1)" 10 10
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
