#!/usr/bin/env bash
# e2e: N peers (default 10,000; the test command also runs 200,000), each a /32 and a /128,
# loaded into a running gateway by `wg setconf`, listed by `wg show NAME dump` and by
# ListPeers (every page), removed by a setconf that names only the real client; then loaded
# again by one JSON-RPC AddPeers call, listed, and removed by one RemovePeers call. A real
# client (wireguard-go) pings through the gateway all along and must lose nothing; the
# times and the control loop's longest pause (GetStats control) are printed, not asserted.
# Peer keys are random 32-byte values: every such value is a usable Curve25519 public key,
# and nothing here needs their private halves.
# Usage: many_peers.sh [WGDP_BINARY] [N] [WGDPCTL_BINARY]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
n=${2:-10000}
export WGDP_ARGS="--max-peers $((n + 16))"
# About 6 KiB of DPDK heap per peer with its two prefixes (docs/performance.md), and room.
export WGDP_MEM=$((512 + n * 6 / 1000))
e2e_preflight "${1:-}" python3
ctl=${3:-$(dirname "$WGDP_BIN")/../wgdpctl/wgdpctl}
[ -x "$ctl" ] || { echo "many_peers: wgdpctl not found at $ctl"; exit 77; }
topo_init many_peers
topo_build 1
gw_write_config
gw_start "$WGDP_BIN"
client_up 1

c=$(client_ns 1) gw=$TOPO_GW_IFNAME pub1=$(client_pub 1)
sock=/var/run/wgdp/$gw.json.sock
rpc() { "$ctl" -s "$sock" --raw -t 600 "$@"; }
e2e_require "client 1 reaches the LAN host (handshake)" ping_reach "$c" "$TOPO_LAN_HOST4" 15

# The peers: a setconf file (client 1 first, then N others), the same N as AddPeers
# parameters, and their keys as RemovePeers parameters.
python3 - "$n" "$TOPO_DIR" "$(cat "$TOPO_DIR/gw.key")" "$pub1" <<'PY'
import base64, json, os, sys
n, d, key, pub1 = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
me = "[Peer]\nPublicKey = %s\nAllowedIPs = 10.200.0.11/32, fd00:200::11/128\n\n" % pub1
keys, peers = [], []
with open(d + "/many.conf", "w") as conf:
    conf.write("[Interface]\nPrivateKey = %s\nListenPort = 51820\n\n" % key + me)
    for i in range(n):
        k = base64.b64encode(os.urandom(32)).decode()
        a, b = divmod(i + 1, 256)
        ips = ["10.%d.%d.%d/32" % (100 + a // 256, a % 256, b),
               "fd00:300::%x:%x/128" % ((i + 1) >> 16, (i + 1) & 0xffff)]
        conf.write("[Peer]\nPublicKey = %s\nAllowedIPs = %s\n\n" % (k, ", ".join(ips)))
        keys.append(k)
        peers.append({"public_key": k, "allowed_ips": ips})
with open(d + "/one.conf", "w") as conf:
    conf.write("[Interface]\nPrivateKey = %s\nListenPort = 51820\n\n" % key + me)
with open(d + "/add.json", "w") as f:
    json.dump({"peers": peers}, f)
with open(d + "/remove.json", "w") as f:
    json.dump({"public_keys": keys}, f)
PY

secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
T0=0
tick() { T0=$(date +%s.%N); }
tock() { e2e_info "$1: $(secs "$T0" "$(date +%s.%N)") s"; }
peers_now() { rpc GetStats | python3 -c 'import json,sys; print(json.load(sys.stdin)["peers"])'; }
pauses() {
	rpc GetStats | python3 -c '
import json, sys
c = json.load(sys.stdin)["control"]
print("control loop: longest pause %.1f ms since start (longest in one go: %s); sliced requests: %s" % (
    c["longest_pause_us"] / 1000, ", ".join("%s %.1f ms" % (k, v / 1000) for k, v in c["longest_us"].items()),
    ", ".join("%s %d peers %d ms in %d slices (longest %.1f ms)" % (
        j["socket"], j["peers"], j["ms"], j["slices"], j["longest_slice_us"] / 1000)
        for j in c["recent_sliced_requests"]) or "none"))'
}
dump_ok() {   # dump_ok FILE COUNT: every peer listed, each with its /32 and /128
	[ "$(($(wc -l <"$1") - 1))" = "$2" ] &&
		[ "$(awk -F'\t' 'NR > 1 && $4 ~ /\/32/ && $4 ~ /\/128/' "$1" | wc -l)" = "$2" ] &&
		grep -q "10.100.19.137/32" "$1" && grep -q "fd00:300::1389/128" "$1"
}
list_count() {   # ListPeers, every page: how many peers
	rpc --all ListPeers | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["peers"]))'
}

# Ping all along (-O: say so at once when a reply is missing); ip netns exec execs ping,
# so $! is the ping itself and SIGINT makes it print its summary.
ip netns exec "$c" ping -n -O -i 0.05 -W 1 "$TOPO_LAN_HOST4" >"$TOPO_DIR/many-ping.log" 2>&1 &
ping_pid=$!
sleep 1

e2e_step "wg setconf, wg show dump, ListPeers, setconf removing them"
tick
e2e_require "wg setconf with $((n + 1)) peers" wg setconf "$gw" "$TOPO_DIR/many.conf"
tock "wg setconf of $((n + 1)) peers"
tick; wg show "$gw" dump >"$TOPO_DIR/dump"; tock "wg show dump"
e2e_check "the dump lists every peer with its /32 and /128" dump_ok "$TOPO_DIR/dump" "$((n + 1))"
tick; count=$(list_count || echo 0); tock "ListPeers, every page"
e2e_check "ListPeers (every page) lists every peer ($count)" test "$count" = "$((n + 1))"
tick
e2e_check "wg setconf naming only client 1 removes the others" wg setconf "$gw" "$TOPO_DIR/one.conf"
tock "wg setconf removing $n peers"
e2e_check "one peer left" test "$(peers_now)" = 1
e2e_info "$(pauses)"

e2e_step "AddPeers, ListPeers, RemovePeers"
tick; out=$(rpc AddPeers - <"$TOPO_DIR/add.json" || true); tock "AddPeers of $n peers"
e2e_check "AddPeers of $n peers: ok" grep -q "\"count\": *$n" <<<"$out"
e2e_check "GetStats counts $((n + 1)) peers" test "$(peers_now)" = "$((n + 1))"
tick; count=$(list_count || echo 0); tock "ListPeers, every page"
e2e_check "ListPeers (every page) lists every peer ($count)" test "$count" = "$((n + 1))"
wg show "$gw" dump >"$TOPO_DIR/dump2"
e2e_check "the dump lists every peer with its /32 and /128" dump_ok "$TOPO_DIR/dump2" "$((n + 1))"
tick; out=$(rpc RemovePeers - <"$TOPO_DIR/remove.json" || true); tock "RemovePeers of $n peers"
e2e_check "RemovePeers of $n peers: ok" grep -q "\"count\": *$n" <<<"$out"
e2e_check "one peer left" test "$(peers_now)" = 1
e2e_info "$(pauses)"

sleep 1
kill -INT "$ping_pid" 2>/dev/null || true
wait "$ping_pid" || true
e2e_info "$(grep -E 'packets transmitted' "$TOPO_DIR/many-ping.log")"
sent=$(awk '/packets transmitted/ {print $1}' "$TOPO_DIR/many-ping.log")
got=$(awk '/packets transmitted/ {print $4}' "$TOPO_DIR/many-ping.log")
late=$(grep -c "no answer yet" "$TOPO_DIR/many-ping.log" || true)
e2e_info "echoes answered later than the next was sent (50 ms): $late; $(grep -E '^rtt' "$TOPO_DIR/many-ping.log")"
# The last echo may still be on its way when ping is stopped: every other one is answered.
e2e_check "client 1 lost nothing while the peers came and went" bash -c \
	'[ -n "$1" ] && [ "$1" -gt 100 ] && [ "$2" -ge $(($1 - 1)) ]' _ "$sent" "$got"
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
