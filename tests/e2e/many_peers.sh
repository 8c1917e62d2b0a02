#!/usr/bin/env bash
# e2e: 10,000 peers loaded by `wg setconf` into a running gateway (with a real client among
# them, passing traffic throughout), then all listed by `wg show NAME dump`; the times are
# printed (figures, not assertions). Peer keys are random 32-byte values: every such value
# is a usable Curve25519 public key, and nothing here needs their private halves.
# Usage: many_peers.sh [WGDP_BINARY] [N]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
n=${2:-10000}
export WGDP_ARGS="--max-peers $((n + 16))"
e2e_preflight "${1:-}" python3
topo_init many_peers
topo_build 1
gw_write_config
gw_start "$WGDP_BIN"
client_up 1

c=$(client_ns 1) gw=$TOPO_GW_IFNAME pub1=$(client_pub 1)
e2e_require "client 1 reaches the LAN host (handshake)" ping_reach "$c" "$TOPO_LAN_HOST4" 15

conf="$TOPO_DIR/many.conf"
{
	printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\n\n' "$(cat "$TOPO_DIR/gw.key")"
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.200.0.11/32, fd00:200::11/128\n\n' "$pub1"
	python3 - "$n" <<'PY'
import base64, os, sys
n = int(sys.argv[1])
for i in range(n):
    key = base64.b64encode(os.urandom(32)).decode()
    a, b = divmod(i + 1, 256)
    print(f"[Peer]\nPublicKey = {key}\nAllowedIPs = 10.{100 + a // 256}.{a % 256}.{b}/32, fd00:300::{(i + 1) >> 16:x}:{(i + 1) & 0xffff:x}/128\n")
PY
} >"$conf"

in_ns "$c" ping -n -q -i 0.05 -c 400 -W 1 "$TOPO_LAN_HOST4" >"$TOPO_DIR/many-ping.log" 2>&1 &
ping_pid=$!
t0=$(date +%s.%N)
e2e_require "wg setconf with $((n + 1)) peers" wg setconf "$gw" "$conf"
t1=$(date +%s.%N)
e2e_info "wg setconf of $((n + 1)) peers took $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') s"
dump="$TOPO_DIR/dump"
t0=$(date +%s.%N)
wg show "$gw" dump >"$dump"
t1=$(date +%s.%N)
e2e_info "wg show dump of $((n + 1)) peers took $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') s"
e2e_check "the dump lists every peer" test "$(($(wc -l <"$dump") - 1))" = "$((n + 1))"
e2e_check "every peer's allowed IPs are listed" bash -c \
	'[ "$(awk -F"\t" "NR > 1 && \$4 ~ /\\/32/ && \$4 ~ /\\/128/" "$1" | wc -l)" = "$2" ]' _ "$dump" "$((n + 1))"
e2e_check "a peer from the middle is there with its prefixes" bash -c \
	'grep -q "10.100.19.137/32" "$1" && grep -q "fd00:300::1389/128" "$1"' _ "$dump"
wait "$ping_pid" || true
loss=$(grep -o '[0-9.]*% packet loss' "$TOPO_DIR/many-ping.log" | cut -d% -f1)
e2e_info "$(grep -E 'packets transmitted' "$TOPO_DIR/many-ping.log")"
e2e_check "client 1 lost nothing while the peers were loaded and listed" test "$loss" = 0
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
