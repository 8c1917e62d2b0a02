#!/usr/bin/env bash
# e2e: the JSON-RPC control socket of a running gateway, through app/wgdpctl: every method,
# a peer added, updated (its session kept), validated and removed live with a wireguard-go
# client passing traffic; malformed requests refused with their errors and nothing changed;
# 10,000 peers in one AddPeers call, listed by ListPeers page by page and by `wg show
# dump`, and removed in one RemovePeers call. Times are printed, not asserted.
# Usage: jsonrpc.sh [WGDP_BINARY] [WGDPCTL_BINARY]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
export WGDP_ARGS="--max-peers 12000"
e2e_preflight "${1:-}" python3
ctl=${2:-$(dirname "$WGDP_BIN")/../wgdpctl/wgdpctl}
[ -x "$ctl" ] || { echo "jsonrpc: wgdpctl not found at $ctl"; exit 77; }
topo_init jsonrpc
topo_build 2
gw_write_config --clients "1"
gw_start "$WGDP_BIN"
client_up 1

c=$(client_ns 1) gw=$TOPO_GW_IFNAME pub1=$(client_pub 1) pub2=$(client_pub 2)
sock=/var/run/wgdp/$gw.json.sock
rpc() { "$ctl" -s "$sock" --raw "$@"; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$1"; }
traffic() { ping_atleast "$c" "$TOPO_LAN_HOST4" 5 5 0.2; }

e2e_require "client 1 reaches the LAN host (handshake)" ping_reach "$c" "$TOPO_LAN_HOST4" 15
e2e_check "the socket is root-only (0600)" bash -c '[ "$(stat -c %a "$1")" = 600 ]' _ "$sock"

e2e_step "read-only methods"
e2e_check "GetDeviceInfo: name, public key, port, 1 peer" bash -c \
	'"$1" -s "$2" --raw GetDeviceInfo | python3 -c "import json,sys; d=json.load(sys.stdin)[\"device\"]; sys.exit(not (d[\"name\"] == sys.argv[1] and d[\"public_key\"] == sys.argv[2] and d[\"listen_port\"] == 51820 and d[\"num_peers\"] == 1))" "$3" "$4"' \
	_ "$ctl" "$sock" "$gw" "$(cat "$TOPO_DIR/gw.pub")"
e2e_check "GetPeer: client 1 with bytes and a handshake" bash -c \
	'"$1" -s "$2" --raw GetPeer public_key="$3" | python3 -c "import json,sys; p=json.load(sys.stdin)[\"peer\"]; sys.exit(not (p[\"receive_bytes\"] > 0 and not p[\"last_handshake\"].startswith(\"0001\")))"' \
	_ "$ctl" "$sock" "$pub1"
e2e_check "GetLcores: a control lcore" bash -c '"$1" -s "$2" --raw GetLcores | grep -q "\"control\""' _ "$ctl" "$sock"
e2e_check "GetStats: per-worker counters with every drop reason by name" bash -c \
	'"$1" -s "$2" --raw GetStats | python3 -c "import json,sys; s=json.load(sys.stdin); w=s[\"workers\"][0]; sys.exit(not (s[\"decrypted\"] > 0 and \"DECRYPT\" in w[\"drops\"] and \"REPLAY\" in s[\"drops\"] and len(s[\"ports\"]) == 2))"' \
	_ "$ctl" "$sock"

e2e_step "AddPeer, update on repeat, validate_only, RemovePeer, live"
e2e_require "AddPeer client 2" rpc AddPeer public_key="$pub2" \
	allowed_ips=10.200.0.12/32,fd00:200::12/128 endpoint="$(client_wan4 2):51820"
client_up 2
e2e_check "client 2 reaches the LAN host" ping_reach "$(client_ns 2)" "$TOPO_LAN_HOST4" 15
hs=$(wg show "$gw" latest-handshakes | awk -v k="$pub2" '$1 == k {print $2}')
e2e_check "AddPeer again updates: allowed IPs replaced, keepalive set" rpc AddPeer public_key="$pub2" \
	allowed_ips=10.200.0.12/32 persistent_keep_alive=25s
e2e_check "the update shows in wg" bash -c 'wg show "$1" dump | awk -v k="$2" -F"\t" '"'"'$1 == k && $4 == "10.200.0.12/32" && $8 == 25 {f=1} END {exit !f}'"'" _ "$gw" "$pub2"
e2e_check "client 2 kept its session" bash -c \
	'[ "$(wg show "$1" latest-handshakes | awk -v k="$2" "\$1 == k {print \$2}")" = "$3" ] && ping -c1 -W1 -q 127.0.0.1 >/dev/null' _ "$gw" "$pub2" "$hs"
e2e_check "client 2 still passes traffic" ping_atleast "$(client_ns 2)" "$TOPO_LAN_HOST4" 5 5 0.2
k3=$(wg genkey | wg pubkey)
e2e_check "AddPeer validate_only succeeds" rpc AddPeer public_key="$k3" allowed_ips=10.250.0.0/24 validate_only=true
e2e_check "... and adds nothing" bash -c '! wg show "$1" peers | grep -q "$2"' _ "$gw" "$k3"
e2e_check "RemovePeer client 2" rpc RemovePeer public_key="$pub2"
e2e_check "client 2 is gone" bash -c '! wg show "$1" peers | grep -q "$2"' _ "$gw" "$pub2"
e2e_check "client 1 unaffected" traffic

e2e_step "malformed requests: refused with their error, nothing changed"
before=$(wg show "$gw" dump | cut -f1,4 | sort)
raw() { python3 - "$sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())
PY
}
e2e_check "broken JSON: -32700" bash -c 'grep -q "\"code\":-32700" <<<"$1"' _ "$(raw '{"jsonrpc":"2.0","id":1,')"
e2e_check "unknown method: -32601" bash -c 'grep -q "\"code\":-32601" <<<"$1"' _ "$(raw '{"jsonrpc":"2.0","id":1,"method":"Nope"}')"
e2e_check "bad key: -32602" bash -c 'grep -q "\"code\":-32602" <<<"$1"' _ \
	"$(raw '{"jsonrpc":"2.0","id":1,"method":"AddPeer","params":{"public_key":"not-a-key"}}')"
e2e_check "bad prefix in a bulk call: -32602, no peer added" bash -c 'grep -q "\"code\":-32602" <<<"$1"' _ \
	"$(raw "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"AddPeers\",\"params\":{\"peers\":[{\"public_key\":\"$k3\",\"allowed_ips\":[\"10.1.0.0/16\"]},{\"public_key\":\"$pub2\",\"allowed_ips\":[\"10.2.0.0/33\"]}]}}")"
e2e_check "the peers are as before" bash -c '[ "$(wg show "$1" dump | cut -f1,4 | sort)" = "$2" ]' _ "$gw" "$before"
e2e_check "client 1 unaffected" traffic

e2e_step "10,000 peers in one AddPeers call, paged back, removed in one call"
python3 - 10000 >"$TOPO_DIR/bulk.json" <<'PY'
import base64, json, os, sys
n = int(sys.argv[1])
peers = []
for i in range(n):
    a, b = divmod(i + 1, 256)
    peers.append({"public_key": base64.b64encode(os.urandom(32)).decode(),
                  "allowed_ips": [f"10.{100 + a // 256}.{a % 256}.{b}/32", f"fd00:300::{i + 1:x}/128"]})
json.dump({"peers": peers}, sys.stdout)
PY
t0=$(date +%s.%N)
e2e_require "AddPeers of 10,000" bash -c '"$1" -s "$2" --raw AddPeers - <"$3" >/dev/null' _ "$ctl" "$sock" "$TOPO_DIR/bulk.json"
t1=$(date +%s.%N)
e2e_info "AddPeers of 10,000 peers took $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') s"
t0=$(date +%s.%N)
"$ctl" -s "$sock" --raw --all ListPeers >"$TOPO_DIR/list.json"
t1=$(date +%s.%N)
e2e_info "ListPeers of 10,001 peers, paged, took $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') s"
e2e_check "ListPeers pages cover all 10,001 peers, each once" python3 - "$TOPO_DIR/list.json" "$TOPO_DIR/bulk.json" "$pub1" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
keys = []
dec = json.JSONDecoder()
i = 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    v, i = dec.raw_decode(text, i)
    page = v.get("peers", v) if isinstance(v, dict) else v
    keys += [p["public_key"] for p in page]
want = {p["public_key"] for p in json.load(open(sys.argv[2]))["peers"]} | {sys.argv[3]}
sys.exit(not (len(keys) == len(set(keys)) == len(want) and set(keys) == want))
PY
e2e_check "wg show dump lists them too" bash -c '[ "$(wg show "$1" peers | wc -l)" = 10001 ]' _ "$gw"
python3 -c 'import json,sys; print(json.dumps({"public_keys": [p["public_key"] for p in json.load(open(sys.argv[1]))["peers"]]}))' \
	"$TOPO_DIR/bulk.json" >"$TOPO_DIR/keys.json"
t0=$(date +%s.%N)
e2e_check "RemovePeers of 10,000" bash -c '"$1" -s "$2" --raw RemovePeers - <"$3" >/dev/null' _ "$ctl" "$sock" "$TOPO_DIR/keys.json"
t1=$(date +%s.%N)
e2e_info "RemovePeers of 10,000 peers took $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') s"
e2e_check "client 1 is the only peer left" bash -c '[ "$(wg show "$1" peers)" = "$2" ]' _ "$gw" "$pub1"
e2e_check "client 1 unaffected" traffic
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_check "the socket is removed" bash -c '[ ! -e "$1" ]' _ "$sock"
e2e_finish
