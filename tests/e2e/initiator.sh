#!/usr/bin/env bash
# e2e: the gateway as handshake initiator. Its config has the client's endpoint; the client
# has NO endpoint for the gateway and sends nothing. Traffic from the LAN host to the
# client's tunnel address makes the gateway initiate; the client learns the gateway's
# endpoint from the initiation and the ping succeeds.
# Usage: initiator.sh [WGDP_BINARY|standin]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}"
topo_init initiator
topo_build 1
gw_write_config --endpoints
gw_start "$WGDP_BIN"
client_up 1 --no-endpoint

lan=$TOPO_NS_LAN
no_handshake_yet() { [ "$(client_handshake_time 1)" = 0 ]; }
learned_endpoint() {
	local ep
	ep=$(client_wg 1 show "$(client_wgif 1)" endpoints | awk 'NR == 1 {print $2}')
	e2e_info "client's endpoint for the gateway: $ep"
	[ "$ep" = "$TOPO_GW_WAN4:$TOPO_LISTEN_PORT" ]
}
e2e_step "no handshake before the LAN host sends"
e2e_check "client has no handshake yet" no_handshake_yet
e2e_step "LAN host -> client $(client_tun4 1): the gateway initiates"
e2e_require "LAN host reaches $(client_tun4 1)" ping_reach "$lan" "$(client_tun4 1)" 15
e2e_check "client has a handshake" client_wait_handshake 1 5
e2e_check "client learned the gateway's endpoint from the initiation" learned_endpoint
e2e_check "IPv4: 10 of 10 echoes" ping_atleast "$lan" "$(client_tun4 1)" 10 10
e2e_check "IPv6: LAN host reaches $(client_tun6 1)" ping_reach "$lan" "$(client_tun6 1)" 10
e2e_check "client -> LAN host works back over the same session" ping_atleast "$(client_ns 1)" "$TOPO_LAN_HOST4" 5 5
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
