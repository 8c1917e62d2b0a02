#!/usr/bin/env bash
# e2e: the tunnel over IPv6. The client's endpoint is the gateway's IPv6 WAN address
# [fd50::1]:51820 (the gateway must answer NDP on its WAN port); IPv4 and IPv6 inside
# (4in6, 6in6), both directions.
# Usage: ipv6_outer.sh [WGDP_BINARY|standin]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}"
topo_init ipv6_outer
topo_build 1
gw_write_config
gw_start "$WGDP_BIN"
client_up 1 --endpoint6

c=$(client_ns 1) lan=$TOPO_NS_LAN
endpoint_v6() {
	local ep
	ep=$(client_wg 1 show "$(client_wgif 1)" endpoints | awk 'NR == 1 {print $2}')
	e2e_info "client's endpoint: $ep"
	[ "$ep" = "[$TOPO_GW_WAN6]:$TOPO_LISTEN_PORT" ]
}
e2e_step "outer IPv6: client -> [$TOPO_GW_WAN6]:$TOPO_LISTEN_PORT"
e2e_check "client -> gateway WAN $TOPO_GW_WAN6 (NDP, echo)" ping_reach "$c" "$TOPO_GW_WAN6" 5
e2e_require "IPv4 inside: client reaches $TOPO_LAN_HOST4 (handshake)" ping_reach "$c" "$TOPO_LAN_HOST4" 15
e2e_check "the client's endpoint is the IPv6 one" endpoint_v6
e2e_check "IPv4 inside: 10 of 10 echoes" ping_atleast "$c" "$TOPO_LAN_HOST4" 10 10
e2e_check "IPv6 inside: client reaches $TOPO_LAN_HOST6" ping_reach "$c" "$TOPO_LAN_HOST6" 10
e2e_check "IPv6 inside: 10 of 10 echoes" ping_atleast "$c" "$TOPO_LAN_HOST6" 10 10
e2e_check "LAN host -> $(client_tun4 1) (4in6 back)" ping_atleast "$lan" "$(client_tun4 1)" 5 5
e2e_check "LAN host -> $(client_tun6 1) (6in6 back)" ping_atleast "$lan" "$(client_tun6 1)" 5 5
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
