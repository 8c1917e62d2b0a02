#!/usr/bin/env bash
# e2e: ten clients at once, each with its own tunnel address, all pinging the LAN host in
# parallel (IPv4, then IPv6); every one must get its replies, and the LAN host must reach
# every client back.
# Usage: many_clients.sh [WGDP_BINARY|standin]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}"
N=10
topo_init many_clients
topo_build "$N"
gw_write_config
gw_start "$WGDP_BIN"
for i in $(seq "$N"); do client_up "$i"; done

# all_ping DEST_FN: every client pings (its) destination at once; all must get >= 8 of 10.
all_ping() {
	local fam=$1 i pids=() ok=0 got
	for i in $(seq "$N"); do
		(
			dest=$TOPO_LAN_HOST4
			[ "$fam" = 6 ] && dest=$TOPO_LAN_HOST6
			ping_reach "$(client_ns "$i")" "$dest" 20 || exit 1
			got=$(ping_count "$(client_ns "$i")" "$dest" 10 0.2)
			echo "$got" >"$TOPO_DIR/many.$fam.$i"
			[ "$got" -ge 8 ]
		) &
		pids+=("$!")
	done
	for i in $(seq "$N"); do
		if wait "${pids[i - 1]}"; then ok=$((ok + 1)); else
			got=$(cat "$TOPO_DIR/many.$fam.$i" 2>/dev/null || echo 0)
			echo "client $i failed ($got replies)"
		fi
	done
	e2e_info "$ok of $N clients got their replies"
	[ "$ok" = "$N" ]
}
all_handshakes() {
	local i n=0
	for i in $(seq "$N"); do [ "$(client_handshake_time "$i")" != 0 ] && n=$((n + 1)); done
	e2e_info "$n of $N clients have a handshake"
	[ "$n" = "$N" ]
}
lan_reaches_all() {
	local i n=0
	for i in $(seq "$N"); do
		if ping_reach "$TOPO_NS_LAN" "$(client_tun4 "$i")" 5; then n=$((n + 1)); else echo "client $i unreachable"; fi
	done
	e2e_info "LAN host reached $n of $N clients"
	[ "$n" = "$N" ]
}
e2e_step "$N clients ping $TOPO_LAN_HOST4 / $TOPO_LAN_HOST6 in parallel"
e2e_check "IPv4: all $N clients get >= 8 of 10 replies" all_ping 4
e2e_check "IPv6: all $N clients get >= 8 of 10 replies" all_ping 6
e2e_check "every client has a handshake" all_handshakes
e2e_check "LAN host reaches every client's tunnel address" lan_reaches_all
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
# With a handshake lcore (WGDP_ARGS --handshake-lcores), it prepared every initiation.
hs_lcore_worked() {
	local n
	n=$(sed -n 's/^  handshake lcore [0-9]*: \([0-9]*\) initiations prepared.*/\1/p' \
		"$TOPO_GW_LOG" | head -1)
	e2e_info "the handshake lcore prepared ${n:-no} initiations"
	[ -n "$n" ] && [ "$n" -ge "$N" ]
}
case "${WGDP_ARGS:-}" in
*--handshake-lcores*) e2e_check "the handshake lcore prepared every client's initiation" \
	hs_lcore_worked ;;
esac
e2e_finish
