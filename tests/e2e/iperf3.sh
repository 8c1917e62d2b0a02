#!/usr/bin/env bash
# e2e: iperf3 TCP for 10 s from a client to the LAN host through the tunnel; the transfer
# completes (end.sum_received.bytes > 0). Prints the rate; never fails on it.
# Usage: iperf3.sh [WGDP_BINARY|standin]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}" iperf3 python3
topo_init iperf3
topo_build 1
gw_write_config
gw_start "$WGDP_BIN"
client_up 1
lan_iperf3_server

c=$(client_ns 1)
e2e_require "client reaches the LAN host (handshake)" ping_reach "$c" "$TOPO_LAN_HOST4" 15

iperf_json=$TOPO_DIR/iperf3.json
run_iperf() {
	local rc=0
	# timeout bounds the run if the tunnel stalls; iperf3 itself stops after -t seconds.
	in_ns "$c" timeout 40 iperf3 -c "$TOPO_LAN_HOST4" -t 10 -J --connect-timeout 5000 >"$iperf_json" || rc=$?
	python3 - "$iperf_json" <<'PY' >&3 || return 1
import json, sys
d = json.load(open(sys.argv[1]))
if "error" in d:
    print("       iperf3 error: " + d["error"]); sys.exit(1)
r = d["end"]["sum_received"]; s = d["end"]["sum_sent"]
print("       sent %d bytes, received %d bytes in %.1f s: %.1f Mbit/s received, %d retransmits"
      % (s["bytes"], r["bytes"], r["seconds"], r["bits_per_second"] / 1e6, s.get("retransmits", -1)))
sys.exit(0 if r["bytes"] > 0 else 1)
PY
	return "$rc"
}
e2e_step "iperf3 -t 10 client -> LAN host ($TOPO_LAN_HOST4) through the tunnel"
e2e_check "TCP transfer completes, bytes received > 0" run_iperf
e2e_check "the tunnel still carries pings after the transfer" ping_atleast "$c" "$TOPO_LAN_HOST4" 5 4
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
