#!/usr/bin/env bash
# e2e: interoperability with a real AmneziaWG peer (amneziawg-go 0.2.0, built from
# ../shared/peers at first use). The gateway runs with AmneziaWG 1.0's parameters (the
# values an Amnezia client is given): junk before initiations, padded handshakes, custom
# message types.
#   client 1 (amneziawg-go, jc/jmin/jmax, s1/s2, h1..h4) initiates: handshake, ping IPv4 and
#     IPv6 both ways, iperf3; its WAN side is captured and no packet may look like WireGuard
#     (148 bytes starting 01 00 00 00, 92 bytes starting 02 00 00 00, anything starting
#     04 00 00 00); its junk is dropped by the gateway under OBFS_JUNK, never a handshake;
#   client 2 (amneziawg-go, no endpoint): the gateway initiates, with junk first;
#   clients 3 and 4 have a wrong h1 and a wrong s1: nothing gets through, and it is counted;
#   then the gateway's padding is set to 0 over the UAPI socket (h1..h4 kept) and client 5,
#     without junk or padding, has a session too; SetObfuscation over JSON-RPC.
# Usage: awg.sh [WGDP_BINARY] [WGDPCTL]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}" python3 tcpdump iperf3
build=$(dirname "$WGDP_BIN")/../..
ctl=${2:-$build/app/wgdpctl/wgdpctl}
[ -x "$ctl" ] || { echo "awg: wgdpctl not found"; exit 77; }
e2e_awg_bin
topo_init awg
topo_build 5

H="h1=1020325451 h2=3288052141 h3=1766607858 h4=2528465083"
GW_OBFS="jc = 3; jmin = 30; jmax = 90; s1 = 15; s2 = 68; h1 = 1020325451; h2 = 3288052141L;
  h3 = 1766607858; h4 = 2528465083L;"
gw_write_config --endpoints --obfs "$GW_OBFS"
gw_start "$WGDP_BIN"
sock=/var/run/wgdp/$TOPO_GW_IFNAME.json.sock
uapi=/var/run/wireguard/$TOPO_GW_IFNAME.sock
stat() { "$ctl" -s "$sock" --raw GetStats | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

c1=$(client_ns 1) lan=$TOPO_NS_LAN
e2e_step "client 1: amneziawg-go with junk, padding and custom types"
pcap=$TOPO_DIR/c1.pcap
in_ns "$c1" tcpdump -i "$(client_wanif 1)" -U -n -s 0 -w "$pcap" udp 2>"$TOPO_DIR/tcpdump.log" &
tcpdump_pid=$!
_topo_reg pid "$tcpdump_pid"
wait_until 5 grep -qs "listening on" "$TOPO_DIR/tcpdump.log" || true
client_up 1 --awg "jc=4 jmin=40 jmax=70 s1=15 s2=68 $H"
e2e_require "client 1 reaches the LAN host (handshake)" ping_reach "$c1" "$TOPO_LAN_HOST4" 15
e2e_check "client 1 has a handshake" client_wait_handshake 1 5
e2e_check "IPv4: 10 of 10 echoes to $TOPO_LAN_HOST4" ping_atleast "$c1" "$TOPO_LAN_HOST4" 10 10 0.2
e2e_check "IPv6: 10 of 10 echoes to $TOPO_LAN_HOST6" ping_atleast "$c1" "$TOPO_LAN_HOST6" 10 10 0.2
e2e_check "LAN host -> client 1, IPv4" ping_atleast "$lan" "$(client_tun4 1)" 5 5 0.2
e2e_check "LAN host -> client 1, IPv6" ping_atleast "$lan" "$(client_tun6 1)" 5 5 0.2
lan_iperf3_server
iperf() {
	local out
	out=$(in_ns "$c1" iperf3 -c "$TOPO_LAN_HOST4" -t 3 -f m 2>&1) || { echo "$out"; return 1; }
	e2e_info "iperf3: $(echo "$out" | awk '/receiver/ {print $7, $8}')"
}
e2e_check "iperf3 for 3 s through the obfuscated tunnel" iperf
junk_counted() {
	local n
	n=$(stat 'd["drops"]["OBFS_JUNK"]')
	e2e_info "OBFS_JUNK: $n (client 1 sent 4 junk packets before its initiation)"
	[ "$n" -ge 4 ]
}
e2e_check "client 1's junk dropped as OBFS_JUNK" junk_counted
no_refused() { [ "$(stat 'd["drops"]["HS_REFUSED"]')" = 0 ]; }
e2e_check "no handshake message refused by the protocol core" no_refused

e2e_step "client 2 (no endpoint): the gateway initiates"
client_up 2 --no-endpoint --awg "$H s1=15 s2=68"
j0=$(stat 'd["junk_packets_tx"]')
e2e_check "LAN host reaches client 2 (the gateway's initiation)" ping_reach "$lan" "$(client_tun4 2)" 15
e2e_check "client 2 has a handshake" client_wait_handshake 2 5
e2e_check "client -> LAN host over the session the gateway made" \
	ping_atleast "$(client_ns 2)" "$TOPO_LAN_HOST4" 5 5 0.2
junk_sent() {
	local n
	n=$(stat 'd["junk_packets_tx"]')
	e2e_info "junk packets the gateway sent: $((n - j0)) (jc = 3 per initiation)"
	[ $((n - j0)) -ge 3 ]
}
e2e_check "the gateway sent junk before its initiation" junk_sent

e2e_step "mismatched parameters get nothing through"
j0=$(stat 'd["drops"]["OBFS_JUNK"] + d["drops"]["WG_BAD_MAC1"]')
r0=$(stat 'd["handshake_initiations_rx"]')
client_up 3 --awg "h1=1020325452 h2=3288052141 h3=1766607858 h4=2528465083 s1=15 s2=68"
client_up 4 --awg "$H s1=16 s2=68"
no_reach() { ! ping_reach "$1" "$TOPO_LAN_HOST4" 6; }
e2e_check "client 3 (wrong h1) does not reach the LAN host" no_reach "$(client_ns 3)"
e2e_check "client 4 (wrong s1) does not reach the LAN host" no_reach "$(client_ns 4)"
no_hs() { [ "$(client_handshake_time "$1")" = 0 ]; }
e2e_check "client 3 has no handshake" no_hs 3
e2e_check "client 4 has no handshake" no_hs 4
mismatch_counted() {
	local n r
	n=$(stat 'd["drops"]["OBFS_JUNK"] + d["drops"]["WG_BAD_MAC1"]')
	r=$(stat 'd["handshake_initiations_rx"]')
	e2e_info "counted as junk: $((n - j0)); initiations reaching the control lcore: $((r - r0))"
	[ $((n - j0)) -ge 2 ] && [ "$r" = "$r0" ]
}
e2e_check "their initiations are counted on the worker and never reach the control lcore" \
	mismatch_counted

e2e_step "no padding, no junk: s1 = s2 = 0 set live over the UAPI socket"
e2e_check "uapi set s1=0 s2=0" uapi_set "$uapi" "s1=0 s2=0"
shown() { in_ns "$TOPO_NS_GW" true; python3 - "$uapi" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"get=1\n\n")
r = b""
while not r.endswith(b"\n\n"):
    c = s.recv(65536)
    if not c: break
    r += c
lines = r.decode().split("\n")
ok = "h1=1020325451" in lines and "jc=3" in lines and not any(l.startswith("s1=") for l in lines)
sys.exit(0 if ok else print(r.decode()) or 1)
PYEOF
}
e2e_check "get shows h1..h4 and jc, and no s1 now" shown
e2e_check "wg show still works" in_ns "$TOPO_NS_GW" wg show "$TOPO_GW_IFNAME"
rpc_obfs() {
	"$ctl" -s "$sock" SetObfuscation jc=5 >/dev/null || return 1
	! "$ctl" -s "$sock" SetObfuscation h1=5 h2=5 >/dev/null 2>&1 || return 1
	[ "$("$ctl" -s "$sock" --raw GetDeviceInfo |
		python3 -c "import json,sys; o=json.load(sys.stdin)['device']['obfuscation']; print(o['jc'], o['h1'], o['s1'])")" = "5 1020325451 0" ]
}
e2e_check "JSON-RPC: SetObfuscation jc=5 taken, h1 = h2 refused, GetDeviceInfo shows it" rpc_obfs
client_up 5 --awg "$H"
e2e_check "client 5 (h1..h4 only) reaches the LAN host" ping_reach "$(client_ns 5)" "$TOPO_LAN_HOST4" 15
e2e_check "client 5: 5 of 5 echoes" ping_atleast "$(client_ns 5)" "$TOPO_LAN_HOST4" 5 5 0.2

e2e_step "what client 1's WAN link carried"
sleep 1
kill "$tcpdump_pid" 2>/dev/null || true
wait "$tcpdump_pid" 2>/dev/null || true
fingerprint() {
	local out rc=0
	out=$(python3 "$(dirname "$(readlink -f "$0")")/pcap_wg.py" "$pcap" --obfuscated \
		--s1 15 --s2 68 --jmin 40 --jmax 70) || rc=$?
	while IFS= read -r l; do e2e_info "$l"; done <<<"$out"
	return "$rc"
}
e2e_check "no packet looks like WireGuard (sizes and type fields)" fingerprint
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
