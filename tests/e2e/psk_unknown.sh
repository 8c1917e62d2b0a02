#!/usr/bin/env bash
# e2e: preshared keys and unknown peers.
#   client 1: the gateway knows its key and shares a preshared key with it: works.
#   client 2: a key the gateway does not know: no handshake, no reply.
#   client 3: known key, but its preshared key differs from the gateway's: no handshake.
# Usage: psk_unknown.sh [WGDP_BINARY|standin]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}"
topo_init psk_unknown
topo_gateway_ns
topo_wan_switch
topo_lan_host
topo_client_add 1 --psk
topo_client_add 2 --unknown
topo_client_add 3 --psk-mismatch
gw_write_config
gw_start "$WGDP_BIN"
client_up 1
client_up 2
client_up 3

has_psk() { client_wg 1 show "$(client_wgif 1)" preshared-keys | awk '{ exit ($2 == "(none)") }'; }
no_reply() { ! ping_reach "$1" "$TOPO_LAN_HOST4" 6; }
no_handshake() {
	local t
	t=$(client_handshake_time "$1")
	e2e_info "client $1 latest handshake: $t"
	[ "$t" = 0 ]
}
e2e_step "client 1, with a preshared key"
e2e_check "client 1 is configured with a preshared key" has_psk
e2e_check "client 1 -> $TOPO_LAN_HOST4 (handshake with psk)" ping_reach "$(client_ns 1)" "$TOPO_LAN_HOST4" 15
e2e_check "client 1 has a handshake" client_wait_handshake 1 5
e2e_check "client 1: 10 of 10 echoes" ping_atleast "$(client_ns 1)" "$TOPO_LAN_HOST4" 10 10

e2e_step "client 2, unknown to the gateway; client 3, wrong preshared key"
e2e_check "client 2 gets no reply" no_reply "$(client_ns 2)"
e2e_check "client 3 gets no reply" no_reply "$(client_ns 3)"
e2e_check "client 2: wg show reports no handshake" no_handshake 2
e2e_check "client 3: wg show reports no handshake" no_handshake 3
lan_no_reply() { ! ping_reach "$TOPO_NS_LAN" "$1" 4; }
e2e_check "LAN host cannot reach client 2" lan_no_reply "$(client_tun4 2)"
e2e_check "client 1 is unaffected: 10 of 10 echoes" ping_atleast "$(client_ns 1)" "$TOPO_LAN_HOST4" 10 10
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
