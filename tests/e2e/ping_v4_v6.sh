#!/usr/bin/env bash
# e2e: ping IPv4 and IPv6 both ways through the tunnel.
#   client 1 (wireguard-go) -> LAN host, then the LAN host -> client 1's tunnel addresses
#   (the gateway learned the client's endpoint from its first packets). Also checks that the
#   gateway answers ARP/NDP and echo on its own WAN and LAN addresses.
# Usage: ping_v4_v6.sh [WGDP_BINARY|standin]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}"
topo_init ping_v4_v6
topo_build 1
gw_write_config
gw_start "$WGDP_BIN"
client_up 1

c=$(client_ns 1) lan=$TOPO_NS_LAN
e2e_step "the gateway's own addresses (ARP/NDP, ICMP echo)"
e2e_check "client -> gateway WAN $TOPO_GW_WAN4" ping_reach "$c" "$TOPO_GW_WAN4" 5
e2e_check "client -> gateway WAN $TOPO_GW_WAN6" ping_reach "$c" "$TOPO_GW_WAN6" 5
e2e_check "LAN host -> gateway LAN $TOPO_GW_LAN4" ping_reach "$lan" "$TOPO_GW_LAN4" 5
e2e_check "LAN host -> gateway LAN $TOPO_GW_LAN6" ping_reach "$lan" "$TOPO_GW_LAN6" 5

e2e_step "client -> LAN host through the tunnel"
e2e_require "first IPv4 echo reply from $TOPO_LAN_HOST4 (handshake)" ping_reach "$c" "$TOPO_LAN_HOST4" 15
e2e_check "client has a handshake with the gateway" client_wait_handshake 1 5
e2e_check "IPv4: 10 of 10 echoes to $TOPO_LAN_HOST4" ping_atleast "$c" "$TOPO_LAN_HOST4" 10 10
e2e_check "IPv6: first echo reply from $TOPO_LAN_HOST6" ping_reach "$c" "$TOPO_LAN_HOST6" 10
e2e_check "IPv6: 10 of 10 echoes to $TOPO_LAN_HOST6" ping_atleast "$c" "$TOPO_LAN_HOST6" 10 10

e2e_step "LAN host -> client's tunnel addresses"
e2e_check "IPv4: LAN host reaches $(client_tun4 1)" ping_reach "$lan" "$(client_tun4 1)" 10
e2e_check "IPv4: 10 of 10 echoes to $(client_tun4 1)" ping_atleast "$lan" "$(client_tun4 1)" 10 10
e2e_check "IPv6: LAN host reaches $(client_tun6 1)" ping_reach "$lan" "$(client_tun6 1)" 10
e2e_check "IPv6: 10 of 10 echoes to $(client_tun6 1)" ping_atleast "$lan" "$(client_tun6 1)" 10 10

e2e_step "the gateway stops cleanly"
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
