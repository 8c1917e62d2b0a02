#!/usr/bin/env bash
# Control-plane figures (a benchmark, not a test: it prints times and never fails on them):
# how long `wg setconf`, one JSON-RPC AddPeers call, `wg show NAME dump` and a paged
# ListPeers take for N peers (default 10,000, 100,000 and 1,000,000), against a gateway
# running in the e2e topology (scripts/netns.sh); the longest piece of each request between
# two of its pauses (GetStats control.recent_sliced_requests: what handshakes and data
# waited at most), and the DPDK heap (per peer: test_slices). Each peer has a /32 and a /128.
# Usage (root): bash scripts/bench-control.sh [N ...]     e.g. bash scripts/bench-control.sh 10000
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
. scripts/netns.sh
[ -x build/app/wgdp/wgdp ] || { meson setup build >/dev/null; ninja -C build; }
counts=("$@")
[ "${#counts[@]}" -gt 0 ] || counts=(10000 100000 1000000)
ctl=build/app/wgdpctl/wgdpctl

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
gen() {   # gen N FORMAT: peers as a wg config or an AddPeers JSON object
	python3 - "$1" "$2" <<'PY'
import base64, json, os, sys
n, fmt = int(sys.argv[1]), sys.argv[2]
peers = []
for i in range(n):
    a, b = divmod(i + 1, 256)
    peers.append((base64.b64encode(os.urandom(32)).decode(),
                  [f"10.{100 + a // 256}.{a % 256}.{b}/32",
                   f"fd00:300::{(i + 1) >> 16:x}:{(i + 1) & 0xffff:x}/128"]))
if fmt == "json":
    json.dump({"peers": [{"public_key": k, "allowed_ips": ips} for k, ips in peers]}, sys.stdout)
else:
    print("[Interface]\nListenPort = 51820\n")
    for k, ips in peers:
        print(f"[Peer]\nPublicKey = {k}\nAllowedIPs = {', '.join(ips)}\n")
PY
}

measure() {   # measure N: one fresh topology and gateway, one line of figures
	local n=$1
	topo_init bench_control >/dev/null
	export WGDP_ARGS="--max-peers $((n + 16))" WGDP_MEM=$((512 + n * 6 / 1000))
	topo_build 1 >/dev/null
	gw_write_config
	gw_start build/app/wgdp/wgdp >/dev/null
	local gw=$TOPO_GW_IFNAME sock=/var/run/wgdp/$TOPO_GW_IFNAME.json.sock t0 t1
	local set_s add_s dump_s list_s rss set_p add_p heap
	stat() { "$ctl" -s "$sock" --raw GetStats | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
	last_slice() { stat 'd["control"]["recent_sliced_requests"][-1]["longest_slice_us"] / 1000 if d["control"]["recent_sliced_requests"] else 0'; }
	gen "$n" conf >"$TOPO_DIR/b.conf"
	gen "$n" json >"$TOPO_DIR/b.json"
	t0=$(date +%s.%N); wg setconf "$gw" "$TOPO_DIR/b.conf"; t1=$(date +%s.%N)
	set_s=$(elapsed "$t0" "$t1"); set_p=$(last_slice)
	heap=$(stat 'd["memory"]["heap_bytes"]')
	t0=$(date +%s.%N); wg show "$gw" dump >/dev/null; t1=$(date +%s.%N)
	dump_s=$(elapsed "$t0" "$t1")
	wg setconf "$gw" <(printf '[Interface]\nListenPort = 51820\n')   # empty again
	t0=$(date +%s.%N); "$ctl" -s "$sock" -t 3600 --raw AddPeers - <"$TOPO_DIR/b.json" >/dev/null; t1=$(date +%s.%N)
	add_s=$(elapsed "$t0" "$t1"); add_p=$(last_slice)
	t0=$(date +%s.%N); "$ctl" -s "$sock" -t 3600 --raw --all ListPeers >/dev/null; t1=$(date +%s.%N)
	list_s=$(elapsed "$t0" "$t1")
	rss=$(ps -o rss= -p "$TOPO_GW_PID" 2>/dev/null || echo 0)
	printf '%-8s %10s %9s %10s %9s %9s %11s %8s %10s\n' "$n" "$set_s" "$set_p" "$add_s" "$add_p" \
		"$dump_s" "$list_s" "$((rss / 1024))" \
		"$((heap / 1048576))"
	stat '"longest pause %.1f ms; longest in one go: %s" % (d["control"]["longest_pause_us"] / 1000, d["control"]["longest_us"])' >&2
	gw_stop >/dev/null || true
}

grep -m1 'model name' /proc/cpuinfo | sed 's/.*: /cpu: /'
echo "pause_ms: the longest piece of that request between two of its pauses"
echo "heap_MB: the gateway's DPDK heap with the peers loaded (tables sized for them)"
printf '%-8s %10s %9s %10s %9s %9s %11s %8s %10s\n' peers setconf_s pause_ms AddPeers_s pause_ms \
	dump_s ListPeers_s rss_MB heap_MB
for n in "${counts[@]}"; do
	(measure "$n") 2>&1 | grep -v '^netns:'
done
