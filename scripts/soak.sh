#!/usr/bin/env bash
# scripts/soak.sh [MINUTES] [WGDP_BINARY]: a soak benchmark (not a test: it prints figures).
#
# The gateway (one lcore, as the demo runs it) on the end-to-end topology for MINUTES
# (default 10) under everything at once: iperf3 through the tunnel of wireguard-go client 1,
# pings from client 2, peer churn (100 peers added and removed over JSON-RPC every few
# seconds, and `wg set` changes), and alternating 10-second handshake floods and junk
# storms from a host on the WAN segment (tests/e2e/wg_flood). Every 15 s it samples the
# gateway's memory (GetStats: DPDK heap, mbufs in use, process RSS) and prints a line;
# at the end it compares the samples after the first two minutes (warm-up) with the last:
# memory must not grow. Run as root after building (meson setup build && ninja -C build).
set -euo pipefail
minutes=${1:-10}
here=$(dirname "$(readlink -f "$0")")
. "$here/netns.sh"
WGDP_BIN=${2:-$here/../build/app/wgdp/wgdp}
build=$(dirname "$(readlink -f "$WGDP_BIN")")/../..
ctl=$build/app/wgdpctl/wgdpctl
flood=$build/tests/e2e/wg_flood
for t in "$WGDP_BIN" "$ctl" "$flood"; do
	[ -x "$t" ] || { echo "soak: $t not built"; exit 1; }
done
export WGDP_ARGS="--max-peers 2048"
topo_init soak
topo_build 2
topo_client_add 3 --unknown
gw_write_config
gw_start "$WGDP_BIN"
client_up 1
client_up 2
c1=$(client_ns 1) c2=$(client_ns 2) c3=$(client_ns 3)
sock=/var/run/wgdp/$TOPO_GW_IFNAME.json.sock
ping_reach "$c1" "$TOPO_LAN_HOST4" 15 >/dev/null || { echo "soak: client 1 has no tunnel"; exit 1; }
ping_reach "$c2" "$TOPO_LAN_HOST4" 15 >/dev/null || { echo "soak: client 2 has no tunnel"; exit 1; }
lan_iperf3_server
gw_mac=$(ip -n "$TOPO_NS_GW" -o link show "$TOPO_GW_WAN" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
end=$((SECONDS + minutes * 60))

# Background load, each loop ending when the time is up.
loads=()
(while [ "$SECONDS" -lt "$end" ]; do
	in_ns "$c1" iperf3 -c "$TOPO_LAN_HOST4" -t 20 -b 200M >/dev/null 2>&1 || sleep 1
done) &
loads+=($!)
(while [ "$SECONDS" -lt "$end" ]; do
	in_ns "$c2" ping -q -i 0.05 -c 200 "$TOPO_LAN_HOST4" >/dev/null 2>&1 || true
done) &
loads+=($!)
(n=0; while [ "$SECONDS" -lt "$end" ]; do
	keys=()
	for ((i = 0; i < 100; i++)); do keys+=("$(wg genkey | wg pubkey)"); done
	python3 -c '
import json, sys
print(json.dumps({"peers": [{"public_key": k, "allowed_ips": ["10.%d.%d.0/24" % (100 + i // 250, i % 250)]}
                            for i, k in enumerate(sys.argv[1:])]}))' "${keys[@]}" |
		"$ctl" -s "$sock" --raw AddPeers - >/dev/null 2>&1 || true
	"$ctl" -s "$sock" --raw RemovePeers "public_keys=$(IFS=,; echo "${keys[*]}")" \
		>/dev/null 2>&1 || true
	wg set "$TOPO_GW_IFNAME" peer "$(client_pub 2)" persistent-keepalive $((n % 2 * 25)) 2>/dev/null || true
	n=$((n + 1))
	sleep 2
done) &
loads+=($!)
(while [ "$SECONDS" -lt "$end" ]; do
	in_ns "$c3" "$flood" --iface "$(client_wanif 3)" --dst-mac "$gw_mac" --dst-ip "$TOPO_GW_WAN4" \
		--key "$(cat "$TOPO_DIR/gw.pub")" --duration 10 >/dev/null 2>&1 || true
	in_ns "$c3" "$flood" --mode junk --iface "$(client_wanif 3)" --dst-mac "$gw_mac" \
		--dst-ip "$TOPO_GW_WAN4" --duration 10 --rate 50000 >/dev/null 2>&1 || true
done) &
loads+=($!)

printf '%8s %14s %12s %14s %12s %10s %12s\n' seconds heap_bytes mbufs_in_use rss_bytes \
	malloc_bytes peers drops
samples=$TOPO_DIR/samples.txt
: >"$samples"
t0=$SECONDS
while [ "$SECONDS" -lt "$end" ]; do
	sleep 15
	"$ctl" -s "$sock" --raw GetStats 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin); m = s["memory"]
print(sys.argv[1], m["heap_bytes"], m["mbufs_in_use"], m.get("rss_bytes", 0),
      m["malloc_bytes"], s["peers"], sum(s["drops"].values()))' "$((SECONDS - t0))" |
		tee -a "$samples" |
		awk '{ printf "%8s %14s %12s %14s %12s %10s %12s\n", $1, $2, $3, $4, $5, $6, $7 }' || true
done
wait "${loads[@]}"
python3 - "$samples" <<'EOF'
import sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
warm = [r for r in rows if r[0] >= 120] or rows
first, last = warm[0], warm[-1]
print("after warm-up (t=%d s) -> end (t=%d s):" % (first[0], last[0]))
for i, name in ((1, "DPDK heap bytes"), (2, "mbufs in use"), (3, "process RSS bytes"),
                (4, "malloc bytes")):
    peak = max(r[i] for r in warm)
    print("  %-18s %14d -> %14d  (max %d, change %+d)" % (name, first[i], last[i], peak,
                                                       last[i] - first[i]))
EOF
gw_stop
