#!/usr/bin/env bash
# e2e (LONG, about 2.5 minutes): an AmneziaWG client (amneziawg-go) keeps its traffic flowing
# across the first rekey, in the obfuscated form (junk, padding, custom types). A ping runs
# every second for 135 s; WireGuard rekeys after REKEY_AFTER_TIME (120 s), so the client's
# latest handshake must change after 120 s, and the pings after it must still get replies.
# Usage: awg_rekey.sh [WGDP_BINARY]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}"
e2e_awg_bin
topo_init awg_rekey
topo_build 1
gw_write_config --obfs "s1 = 15; s2 = 68; h1 = 1020325451; h2 = 3288052141L; h3 = 1766607858;
  h4 = 2528465083L;"
gw_start "$WGDP_BIN"
client_up 1 --awg "jc=4 jmin=40 jmax=70 s1=15 s2=68 h1=1020325451 h2=3288052141 h3=1766607858 h4=2528465083"

c=$(client_ns 1)
e2e_require "client reaches the LAN host (first handshake)" ping_reach "$c" "$TOPO_LAN_HOST4" 15
e2e_require "client has a handshake" client_wait_handshake 1 5
h0=$(client_handshake_time 1)
echo "first handshake at $h0; pinging every second for 135 s (this test is long)"

duration=135
log=$TOPO_DIR/ping.log
in_ns "$c" ping -n -D -i 1 -W 1 -w "$duration" "$TOPO_LAN_HOST4" >"$log" 2>&1 &
ping_pid=$!
_topo_reg pid "$ping_pid"
start=$(date +%s)
h1=$h0
while _topo_alive "$ping_pid"; do
	sleep 1
	t=$(client_handshake_time 1)
	if [ "$t" != 0 ] && [ "$t" != "$h1" ]; then
		echo "  handshake at +$((t - h0)) s after the first"
		h1=$t
	fi
	if [ $(( $(date +%s) - start )) -gt $((duration + 10)) ]; then break; fi
done
wait "$ping_pid" || true

replies_after() { awk -v a="$1" -F'[][]' '/bytes from/ { if ($2 >= a) n++ } END { print n + 0 }' "$log"; }
rekeyed() {
	e2e_info "first handshake $h0, latest $h1 (+$((h1 - h0)) s)"
	[ "$h1" -gt "$h0" ] && [ $((h1 - h0)) -ge 110 ]
}
after_rekey() {
	local n
	n=$(replies_after "$h1")
	e2e_info "$n echo replies after the new handshake (need 5)"
	[ "$n" -ge 5 ]
}
overall() {
	local sent got
	sent=$(awk '/packets transmitted/ {print $1}' "$log")
	got=$(grep -c 'bytes from' "$log" || true)
	e2e_info "$got of $sent echoes answered in $duration s"
	[ -n "$sent" ] && [ $((got * 100)) -ge $((sent * 95)) ]
}
e2e_step "rekey after 120 s"
e2e_check "the latest handshake changed after 120 s" rekeyed
e2e_check "pings succeed after the rekey" after_rekey
e2e_check "at least 95% of all pings answered" overall
e2e_check "still 5 of 5 echoes now" ping_atleast "$c" "$TOPO_LAN_HOST4" 5 5
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
