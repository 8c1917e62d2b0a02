#!/usr/bin/env bash
# e2e: a handshake flood while tunnels run. A host on the WAN segment sends initiations with
# a valid mac1 (it knows the gateway's public key, as anyone may) from spoofed sources all
# over 100.64.0.0/10, as fast as it can, for 30 s. Meanwhile wireguard-go client 1, whose
# tunnel is up, pings the LAN host 20 times a second, and client 2 comes up and has to
# make its first handshake. Run in the one-lcore layout and (WGDP_LCORES=0-1) with a
# control lcore of its own.
#   - client 1 loses at most 5% of its pings;
#   - client 2 completes its handshake within 10 s of starting (under load that takes a
#     cookie reply and a second initiation carrying mac2, so at least one retry, 5 s);
#   - the counters show the gateway under load, cookie replies sent and initiations
#     refused or dropped, and the handshakes done by Diffie-Hellman stay few.
# Usage: flood.sh [WGDP_BINARY] [WGDPCTL] [WG_FLOOD]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}" python3
build=$(dirname "$WGDP_BIN")/../..
ctl=${2:-$build/app/wgdpctl/wgdpctl}
flood=${3:-$build/tests/e2e/wg_flood}
[ -x "$ctl" ] && [ -x "$flood" ] || { echo "flood: wgdpctl or wg_flood not found"; exit 77; }
topo_init flood
topo_build 2
topo_client_add 3 --unknown          # the attacker's host
gw_write_config
gw_start "$WGDP_BIN"
client_up 1

c1=$(client_ns 1) c2=$(client_ns 2) c3=$(client_ns 3)
sock=/var/run/wgdp/$TOPO_GW_IFNAME.json.sock
e2e_require "client 1 reaches the LAN host (handshake)" ping_reach "$c1" "$TOPO_LAN_HOST4" 15
gw_mac=$(ip -n "$TOPO_NS_GW" -o link show "$TOPO_GW_WAN" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
"$ctl" -s "$sock" --raw GetStats >"$TOPO_DIR/stats0.json"

e2e_step "flood: valid-mac1 initiations from spoofed sources for 30 s (layout: lcores ${WGDP_LCORES:-0})"
in_ns "$c3" "$flood" --iface "$(client_wanif 3)" --dst-mac "$gw_mac" --dst-ip "$TOPO_GW_WAN4" \
	--key "$(cat "$TOPO_DIR/gw.pub")" --duration 30 --report "$TOPO_DIR/flood.txt" \
	>"$TOPO_DIR/flood.log" 2>&1 &
flood_pid=$!
_topo_reg pid "$flood_pid"
sleep 3
ping_count "$c1" "$TOPO_LAN_HOST4" 300 0.05 >"$TOPO_DIR/ping1.txt" &
ping_pid=$!
sleep 2
t0=$SECONDS
client_up 2
joined=-1
if ping_reach "$c2" "$TOPO_LAN_HOST4" 20 && client_wait_handshake 2 1; then
	joined=$((SECONDS - t0))
fi
wait "$ping_pid" || true
got=$(cat "$TOPO_DIR/ping1.txt")
wait "$flood_pid" || true
"$ctl" -s "$sock" --raw GetStats >"$TOPO_DIR/stats1.json"
sed 's/^/  flood: /' "$TOPO_DIR/flood.txt"

python3 - "$TOPO_DIR/stats0.json" "$TOPO_DIR/stats1.json" >"$TOPO_DIR/delta.txt" <<'EOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
d = {k: b["drops"][k] - a["drops"].get(k, 0) for k in b["drops"]}
hs = b["handshakes"]
print("cookies", d["HS_COOKIE_SENT"])
print("queue_full", d["HS_QUEUE_FULL"])
print("stale", d["HS_STALE"])
print("refused", d["HS_REFUSED"])
print("ratelimited", d["HS_RATELIMIT"])
print("dh", b["handshake_initiations_rx"] - a["handshake_initiations_rx"])
print("entered", hs["under_load_entered"] - a["handshakes"]["under_load_entered"])
print("served_with_cookie", hs["served_with_cookie"] - a["handshakes"]["served_with_cookie"])
print("cookie_ns", hs["cookie_reply_ns"])
print("handshake_ns", hs["handshake_ns"])
print("kernel_drops", sum(p.get("kernel_ring_drops", 0) for p in b["ports"]) -
      sum(p.get("kernel_ring_drops", 0) for p in a["ports"]))
print("wan_rx", b["ports"][0]["ipackets"] - a["ports"][0]["ipackets"])
EOF
sed 's/^/  gateway: /' "$TOPO_DIR/delta.txt"
val() { awk -v k="$1" '$1 == k {print $2}' "$TOPO_DIR/delta.txt"; }
sent=$(awk '$1 == "sent" {print $2}' "$TOPO_DIR/flood.txt")
e2e_info "client 1: $got of 300 pings answered during the flood; client 2 joined after ${joined} s"
e2e_check "the flood was sent (> 100,000 initiations)" test "${sent:-0}" -gt 100000
e2e_check "client 1 lost at most 5% (>= 285 of 300 replies)" test "$got" -ge 285
e2e_check "client 2 made its handshake within 10 s" test "$joined" -ge 0 -a "$joined" -le 10
e2e_check "the gateway went under load" test "$(val entered)" -ge 1
e2e_check "it answered with cookie replies" test "$(val cookies)" -gt 1000
e2e_check "few initiations got Diffie-Hellman (< 1% of the flood)" \
	test "$(( $(val dh) * 100 ))" -lt "$sent"
e2e_check "a client's initiation with mac2 was served first" test "$(val served_with_cookie)" -ge 1
e2e_check "the gateway still runs and stops cleanly" gw_stop
e2e_finish
