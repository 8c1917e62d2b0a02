#!/usr/bin/env bash
# e2e: roaming. The client pings the LAN host continuously (every 0.2 s); it then changes its
# UDP source port, and later its WAN IPv4 address. The gateway must follow the authenticated
# packets to the new endpoint: in each phase after a change, at least 80% of the echoes sent
# get a reply.
# Usage: roaming.sh [WGDP_BINARY|standin]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}"
topo_init roaming
topo_build 1
gw_write_config
gw_start "$WGDP_BIN"
client_up 1

c=$(client_ns 1)
e2e_require "client reaches the LAN host (handshake)" ping_reach "$c" "$TOPO_LAN_HOST4" 15

phase=6   # seconds per phase
log=$TOPO_DIR/ping.log
in_ns "$c" ping -n -D -i 0.2 -W 1 -w $((3 * phase + 2)) "$TOPO_LAN_HOST4" >"$log" 2>&1 &
ping_pid=$!
_topo_reg pid "$ping_pid"
t0=$(date +%s.%N)
sleep "$phase"
t1=$(date +%s.%N)
client_roam_port 1 51999
sleep "$phase"
t2=$(date +%s.%N)
client_roam_addr 1 111
sleep "$phase"
t3=$(date +%s.%N)
wait "$ping_pid" || true

# replies FROM TO: echo replies whose timestamp lies in [FROM, TO)
replies() { awk -v a="$1" -v b="$2" -F'[][]' '/bytes from/ { if ($2 >= a && $2 < b) n++ } END { print n + 0 }' "$log"; }
phase_ok() {
	local name=$1 from=$2 to=$3 got expect
	got=$(replies "$from" "$to")
	expect=$(awk -v a="$from" -v b="$to" 'BEGIN { printf "%d", (b - a) / 0.2 }')
	e2e_info "$name: $got replies, about $expect echoes sent"
	[ $((got * 100)) -ge $((expect * 80)) ]
}
e2e_step "continuous ping, ${phase} s per phase"
e2e_check "before roaming: >= 80% replies" phase_ok before "$t0" "$t1"
e2e_check "after the source port change: >= 80% replies" phase_ok "new port" "$t1" "$t2"
e2e_check "after the WAN address change: >= 80% replies" phase_ok "new address" "$t2" "$t3"
e2e_check "still reachable from the new address and port" ping_atleast "$c" "$TOPO_LAN_HOST4" 10 9
e2e_check "LAN host -> client follows it too" ping_atleast "$TOPO_NS_LAN" "$(client_tun4 1)" 10 9
gw_endpoint() {
	local ep
	ep=$(timeout 5 wg show "$TOPO_GW_IFNAME" endpoints | awk -v k="$(client_pub 1)" '$1 == k {print $2}')
	e2e_info "the gateway's endpoint for client 1: $ep"
	[ "$ep" = "$(client_wan4 1):$(client_port 1)" ]
}
if [ -S "/var/run/wireguard/$TOPO_GW_IFNAME.sock" ]; then
	e2e_check "wg show (gateway UAPI): endpoint is $(client_wan4 1):$(client_port 1)" gw_endpoint
fi
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
