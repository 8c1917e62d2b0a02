#!/usr/bin/env bash
# e2e: one port, two kinds. With accept_plain = true the gateway serves a plain WireGuard
# client (wireguard-go, client 1) and an AmneziaWG client (amneziawg-go, client 2) on the
# same listen port with the same peer table at once; each session answers in its client's
# form (the plain client's link carries WireGuard's patterns, the AmneziaWG client's none).
# Then accept_plain is turned off over the UAPI socket: the plain client's packets are
# dropped as OBFS_PLAIN and get nothing through, a new plain client (3) gets no handshake,
# while the AmneziaWG client goes on.
# Usage: awg_plain.sh [WGDP_BINARY] [WGDPCTL]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}" python3 tcpdump iperf3
build=$(dirname "$WGDP_BIN")/../..
ctl=${2:-$build/app/wgdpctl/wgdpctl}
[ -x "$ctl" ] || { echo "awg_plain: wgdpctl not found"; exit 77; }
e2e_awg_bin
topo_init awg_plain
topo_build 3

H="h1=1020325451 h2=3288052141 h3=1766607858 h4=2528465083"
gw_write_config --obfs "s1 = 15; s2 = 68; h1 = 1020325451; h2 = 3288052141L; h3 = 1766607858;
  h4 = 2528465083L; accept_plain = true;"
gw_start "$WGDP_BIN"
sock=/var/run/wgdp/$TOPO_GW_IFNAME.json.sock
uapi=/var/run/wireguard/$TOPO_GW_IFNAME.sock
stat() { "$ctl" -s "$sock" --raw GetStats | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
c1=$(client_ns 1) c2=$(client_ns 2) lan=$TOPO_NS_LAN

capture() {   # capture I: tcpdump on client I's WAN link into $TOPO_DIR/cI.pcap
	in_ns "$(client_ns "$1")" tcpdump -i "$(client_wanif "$1")" -U -n -s 0 \
		-w "$TOPO_DIR/c$1.pcap" udp 2>"$TOPO_DIR/tcpdump$1.log" &
	_topo_reg pid "$!"
	echo "$!" >"$TOPO_DIR/tcpdump$1.pid"
	wait_until 5 grep -qs "listening on" "$TOPO_DIR/tcpdump$1.log" || true
}
e2e_step "accept_plain = true: a plain and an AmneziaWG client on one port"
capture 1
capture 2
client_up 1
client_up 2 --awg "jc=4 jmin=40 jmax=70 s1=15 s2=68 $H"
e2e_require "plain client 1 reaches the LAN host" ping_reach "$c1" "$TOPO_LAN_HOST4" 15
e2e_require "AmneziaWG client 2 reaches the LAN host" ping_reach "$c2" "$TOPO_LAN_HOST4" 15
lan_iperf3_server
both() {   # pings from both clients at once, and the LAN host to both
	local a b
	in_ns "$c1" ping -n -q -c 20 -i 0.1 "$TOPO_LAN_HOST4" >"$TOPO_DIR/p1.log" 2>&1 &
	a=$!
	in_ns "$c2" ping -n -q -c 20 -i 0.1 "$TOPO_LAN_HOST4" >"$TOPO_DIR/p2.log" 2>&1 &
	b=$!
	wait "$a" && wait "$b" || { cat "$TOPO_DIR/p1.log" "$TOPO_DIR/p2.log"; return 1; }
	e2e_info "client 1: $(grep -o '[0-9]* received' "$TOPO_DIR/p1.log"), client 2: $(grep -o '[0-9]* received' "$TOPO_DIR/p2.log")"
	grep -q ' 0% packet loss' "$TOPO_DIR/p1.log" && grep -q ' 0% packet loss' "$TOPO_DIR/p2.log"
}
e2e_check "both clients ping at once, no loss" both
e2e_check "LAN host -> plain client 1" ping_atleast "$lan" "$(client_tun4 1)" 5 5 0.2
e2e_check "LAN host -> AmneziaWG client 2" ping_atleast "$lan" "$(client_tun4 2)" 5 5 0.2
e2e_check "IPv6 both: client 1" ping_atleast "$c1" "$TOPO_LAN_HOST6" 5 5 0.2
e2e_check "IPv6 both: client 2" ping_atleast "$c2" "$TOPO_LAN_HOST6" 5 5 0.2
iperf() {
	local out
	out=$(in_ns "$(client_ns "$1")" iperf3 -c "$TOPO_LAN_HOST4" -t 2 -f m 2>&1) ||
		{ echo "$out"; return 1; }
	e2e_info "iperf3 from client $1: $(echo "$out" | awk '/receiver/ {print $7, $8}')"
}
e2e_check "iperf3 from the plain client" iperf 1
e2e_check "iperf3 from the AmneziaWG client" iperf 2
sessions() { [ "$(stat 'd["peers_with_session"]')" = 2 ]; }
e2e_check "two peers with a session, one port" sessions
for i in 1 2; do kill "$(cat "$TOPO_DIR/tcpdump$i.pid")" 2>/dev/null || true; done
sleep 1
form() {   # form I MODE: what client I's link carried
	local out rc=0
	out=$(python3 "$(dirname "$(readlink -f "$0")")/pcap_wg.py" "$TOPO_DIR/c$1.pcap" "$2" \
		--s1 15 --s2 68 --jmin 40 --jmax 70) || rc=$?
	while IFS= read -r l; do e2e_info "$l"; done <<<"$out"
	return "$rc"
}
e2e_check "the plain client's link carries plain WireGuard" form 1 --plain
e2e_check "the AmneziaWG client's link carries no WireGuard pattern" form 2 --obfuscated

e2e_step "accept_plain = false, live"
p0=$(stat 'd["drops"]["OBFS_PLAIN"]')
e2e_check "uapi set accept_plain=false" uapi_set "$uapi" "accept_plain=false"
no_reach() { ! ping_reach "$1" "$TOPO_LAN_HOST4" 5; }
e2e_check "plain client 1 gets nothing through" no_reach "$c1"
client_up 3
e2e_check "new plain client 3 gets nothing through" no_reach "$(client_ns 3)"
no_hs() { [ "$(client_handshake_time 3)" = 0 ]; }
e2e_check "client 3 has no handshake" no_hs
plain_counted() {
	local n
	n=$(stat 'd["drops"]["OBFS_PLAIN"]')
	e2e_info "OBFS_PLAIN: $((n - p0)) plain messages dropped"
	[ $((n - p0)) -ge 5 ]
}
e2e_check "plain messages dropped as OBFS_PLAIN" plain_counted
e2e_check "the AmneziaWG client goes on" ping_atleast "$c2" "$TOPO_LAN_HOST4" 5 5 0.2
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
