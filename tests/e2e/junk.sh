#!/usr/bin/env bash
# e2e: a junk storm at both ports while a tunnel runs. A host on the WAN segment and one on
# the LAN send malformed and unwanted frames of every kind tests/e2e/wg_flood.c knows
# (unknown ethertypes, VLAN tags, bad IP versions, checksums and lengths, malformed IPv6
# extension headers, ARP for other hosts, WireGuard messages too short, of unknown type,
# of the wrong length, with a bad mac1 or an unknown index, UDP to other ports, traffic for
# other hosts, LAN packets for tunnel addresses nobody has, multicast) for 20 s at
# JUNK_RATE frames a second each (default 50,000: two senders at full speed and a
# busy-polling gateway would be three busy threads on this 2-core machine, and the kernel
# would drop at the rings whatever the gateway did), while wireguard-go client 1 pings the
# LAN host 20 times a second.
#   - client 1 loses at most 1% of its pings;
#   - the gateway's drop counters account for at least 99% of the frames that reached its
#     ports (what its ports received, plus what the kernel dropped at net_af_packet's rings
#     before the gateway could read it, which wgdp reports). What the storm sent is
#     printed beside it: the WAN switch (a Linux bridge) itself drops IPv4 frames with bad
#     headers before they reach the gateway.
# Usage: junk.sh [WGDP_BINARY] [WGDPCTL] [WG_FLOOD]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}" python3
build=$(dirname "$WGDP_BIN")/../..
ctl=${2:-$build/app/wgdpctl/wgdpctl}
flood=${3:-$build/tests/e2e/wg_flood}
[ -x "$ctl" ] && [ -x "$flood" ] || { echo "junk: wgdpctl or wg_flood not found"; exit 77; }
topo_init junk
topo_build 1
topo_client_add 3 --unknown          # the attacker's host on the WAN
gw_write_config
gw_start "$WGDP_BIN"
client_up 1

c1=$(client_ns 1) c3=$(client_ns 3)
sock=/var/run/wgdp/$TOPO_GW_IFNAME.json.sock
e2e_require "client 1 reaches the LAN host (handshake)" ping_reach "$c1" "$TOPO_LAN_HOST4" 15
mac_of() { ip -n "$TOPO_NS_GW" -o link show "$1" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
wan_mac=$(mac_of "$TOPO_GW_WAN") lan_mac=$(mac_of "$TOPO_GW_LAN")
ping_atleast "$c1" "$TOPO_LAN_HOST4" 5 5 0.2 >/dev/null || true
"$ctl" -s "$sock" --raw GetStats >"$TOPO_DIR/stats0.json"

e2e_step "junk at the WAN and the LAN port for 20 s"
rate=${JUNK_RATE:-50000}
in_ns "$c3" "$flood" --mode junk --side wan --iface "$(client_wanif 3)" --dst-mac "$wan_mac" \
	--dst-ip "$TOPO_GW_WAN4" --duration 20 --rate "$rate" --report "$TOPO_DIR/junk-wan.txt" \
	>"$TOPO_DIR/junk-wan.log" 2>&1 &
wan_pid=$!
_topo_reg pid "$wan_pid"
in_ns "$TOPO_NS_LAN" "$flood" --mode junk --side lan --iface "$TOPO_LAN_IF" --dst-mac "$lan_mac" \
	--dst-ip "$TOPO_GW_LAN4" --src-ip "$TOPO_LAN_HOST4" --duration 20 --rate "$rate" \
	--report "$TOPO_DIR/junk-lan.txt" \
	>"$TOPO_DIR/junk-lan.log" 2>&1 &
lan_pid=$!
_topo_reg pid "$lan_pid"
sleep 2
got=$(ping_count "$c1" "$TOPO_LAN_HOST4" 300 0.05)
wait "$wan_pid" "$lan_pid" || true
sleep 1
"$ctl" -s "$sock" --raw GetStats >"$TOPO_DIR/stats1.json"
sed 's/^/  wan junk: /' "$TOPO_DIR/junk-wan.txt"
sed 's/^/  lan junk: /' "$TOPO_DIR/junk-lan.txt"

python3 - "$TOPO_DIR/stats0.json" "$TOPO_DIR/stats1.json" "$TOPO_DIR/junk-wan.txt" \
	"$TOPO_DIR/junk-lan.txt" >"$TOPO_DIR/delta.txt" <<'EOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sent = sum(int(l.split()[1]) for f in sys.argv[3:5] for l in open(f) if l.startswith("sent "))
drops = {k: b["drops"][k] - a["drops"].get(k, 0) for k in b["drops"]}
kernel = sum(p.get("kernel_ring_drops", 0) for p in b["ports"]) - \
         sum(p.get("kernel_ring_drops", 0) for p in a["ports"])
rx = sum(p["ipackets"] for p in b["ports"]) - sum(p["ipackets"] for p in a["ports"])
# The tunnel's own frames: the pings both ways (data messages in on the WAN, replies in on
# the LAN), and the gateway's ARP exchanges; a few hundred.
legit = b["decrypted"] - a["decrypted"] + b["encrypted"] - a["encrypted"]
reached = rx + kernel - legit
counted = sum(drops.values()) + kernel
for k, v in sorted(drops.items()):
    if v:
        print("drop", k, v)
print("sent", sent)
print("received", rx)
print("legit", legit)
print("kernel_drops", kernel)
print("reached", reached)
print("counted", counted)
print("permille", counted * 1000 // max(reached, 1))
EOF
sed 's/^/  gateway: /' "$TOPO_DIR/delta.txt"
val() { awk -v k="$1" '$1 == k {print $2}' "$TOPO_DIR/delta.txt"; }
e2e_info "client 1: $got of 300 pings answered during the storm"
e2e_check "the storm was sent (> 100,000 frames)" test "$(val sent)" -gt 100000
e2e_check "client 1 lost at most 1% (>= 297 of 300 replies)" test "$got" -ge 297
e2e_check "drop counters account for >= 99% of the junk that reached the ports" \
	test "$(val permille)" -ge 990
e2e_check "the gateway still runs and stops cleanly" gw_stop
e2e_finish
