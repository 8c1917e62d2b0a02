#!/usr/bin/env bash
# e2e: DPDK's own tools against a running gateway. dpdk-telemetry.py reads wgdp's commands
# (/wgdp/info, /wgdp/stats, /wgdp/drops, /wgdp/lcores, /wgdp/ports, /wgdp/peers,
# /wgdp/peer, /wgdp/events) and EAL's own (/ethdev/list) in the usual test launch
# (--no-huge --no-shconf). Packet capture needs EAL's shared memory, so the gateway then
# runs on hugepages of a hugetlbfs of the test's own: dpdk-dumpcap captures the WAN port
# (the encrypted UDP) and the LAN port (the plaintext ICMP) while a client pings, without
# losing a ping, and tcpdump reads both files.
# Usage: dpdk_tools.sh [WGDP_BINARY]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}" python3 dpdk-telemetry.py dpdk-dumpcap tcpdump
topo_init dpdk_tools
topo_build 1
gw=$TOPO_GW_IFNAME pub1=$(client_pub 1) c=$(client_ns 1) prefix=wgdp$TOPO_TAG
gw_write_config
# tel CMD...: dpdk-telemetry.py's answers, one JSON object a line.
tel() {
	printf '%s\n' "$@" | timeout 10 dpdk-telemetry.py -f "$prefix" 2>&1 |
		python3 -c '
import json, sys
text = sys.stdin.read()
dec = json.JSONDecoder()
i = 0
while True:
    i = text.find("{", i)
    if i < 0:
        break
    try:
        v, i = dec.raw_decode(text, i)
        print(json.dumps(v))
    except ValueError:
        i += 1'
}
is() { python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); sys.exit(0 if eval(sys.argv[1], {"d": d}) else 1)' "$1"; }
answer() { tel "$1" | grep -F "\"$1\"" | head -1; }

e2e_step "telemetry, in the usual launch (--no-huge --no-shconf)"
gw_start "$WGDP_BIN"
client_up 1
e2e_require "client 1 reaches the LAN host" ping_reach "$c" "$TOPO_LAN_HOST4" 15
e2e_check "the start-up lines name the tools" grep -q "telemetry: dpdk-telemetry.py -f $prefix" "$TOPO_GW_LOG"
e2e_check "capture is off without shared memory, and says so" grep -q "packet capture: off" "$TOPO_GW_LOG"
e2e_check "/wgdp/info" bash -c "$(declare -f tel answer is); prefix=$prefix; answer /wgdp/info | is \"d['/wgdp/info']['interface'] == '$gw' and d['/wgdp/info']['peers'] == 1\""
e2e_check "/wgdp/stats: decrypted packets, a completed handshake" bash -c "$(declare -f tel answer is); prefix=$prefix; answer /wgdp/stats | is \"d['/wgdp/stats']['decrypted'] > 0 and d['/wgdp/stats']['handshakes_completed'] >= 1\""
e2e_check "/wgdp/drops: every reason by name" bash -c "$(declare -f tel answer is); prefix=$prefix; answer /wgdp/drops | is \"'DECRYPT' in d['/wgdp/drops'] and 'PEER_DISABLED' in d['/wgdp/drops']\""
e2e_check "/wgdp/lcores, /wgdp/ports" bash -c "$(declare -f tel answer is); prefix=$prefix; answer /wgdp/lcores | is \"'control' in d['/wgdp/lcores']\" && answer /wgdp/ports | is \"d['/wgdp/ports']['wan']['role'] == 'wan'\""
e2e_check "/wgdp/peers and /wgdp/peer,KEY" bash -c "$(declare -f tel answer is); prefix=$prefix; answer /wgdp/peers | is \"d['/wgdp/peers']['total'] == 1 and d['/wgdp/peers']['0']['public_key'] == '$pub1'\" && tel /wgdp/peer,$pub1 | grep -F /wgdp/peer | is \"d['/wgdp/peer']['peer']['rx_bytes'] > 0\""
e2e_check "/wgdp/events" bash -c "$(declare -f tel answer is); prefix=$prefix; answer /wgdp/events | is \"d['/wgdp/events']['1']['event'] == 'handshake'\""
e2e_check "EAL's own telemetry is on: /ethdev/list" bash -c "$(declare -f tel answer is); prefix=$prefix; answer /ethdev/list | is \"d['/ethdev/list'] == [0, 1]\""
e2e_info "$(tel /wgdp/stats | head -1 | cut -c1-300)"
e2e_check "the tunnel is unaffected" ping_atleast "$c" "$TOPO_LAN_HOST4" 5 5 0.2
e2e_check "SIGTERM: exit 0" gw_stop

e2e_step "packet capture: the gateway on hugepages (shared memory), dpdk-dumpcap on both ports"
if ! topo_hugepages 256; then
	e2e_info "no hugepages to be had: capture not tested"
	e2e_finish
fi
gw_start "$WGDP_BIN"
# The client still holds the session with the gateway that stopped: a fresh one.
client_wg 1 set "$(client_wgif 1)" peer "$(cat "$TOPO_DIR/gw.pub")" remove
client_wg 1 set "$(client_wgif 1)" peer "$(cat "$TOPO_DIR/gw.pub")" allowed-ips "$TOPO_CLIENT_ALLOWED" \
	endpoint "$TOPO_GW_WAN4:$TOPO_LISTEN_PORT"
e2e_check "capture is ready, and says how" grep -q "packet capture: dpdk-dumpcap --file-prefix=$prefix" "$TOPO_GW_LOG"
e2e_require "client 1 reaches the LAN host" ping_reach "$c" "$TOPO_LAN_HOST4" 15
e2e_check "dpdk-dumpcap lists the ports" bash -c "timeout 20 dpdk-dumpcap --file-prefix=$prefix -D 2>&1 | tee /dev/stderr | grep -q net_af_packet1"
# One capture per port (dpdk-dumpcap 22.11 takes one interface), both at once.
for p in 0 1; do
	timeout 30 dpdk-dumpcap --file-prefix="$prefix" -i "net_af_packet$p" -a duration:7 -q \
		-w "$TOPO_DIR/port$p.pcapng" >"$TOPO_DIR/dumpcap$p.log" 2>&1 &
	echo $! >>"$TOPO_DIR/dumpcap.pids"
done
sleep 3
e2e_check "no ping lost while capturing" ping_atleast "$c" "$TOPO_LAN_HOST4" 10 10 0.2
for p in $(cat "$TOPO_DIR/dumpcap.pids"); do wait "$p" || true; done
e2e_info "$(grep -h "Packets received" "$TOPO_DIR"/dumpcap?.log)"
e2e_check "the WAN port: encrypted UDP to the listen port" bash -c \
	"tcpdump -nn -r '$TOPO_DIR/port0.pcapng' 'udp port 51820' 2>/dev/null | grep -c '192.168.50.1.51820: UDP' | awk '{exit !(\$1 >= 10)}'"
e2e_check "the LAN port: the plaintext pings" bash -c \
	"tcpdump -nn -r '$TOPO_DIR/port1.pcapng' icmp 2>/dev/null | grep -c '10.200.0.11 > 10.60.0.2: ICMP echo request' | awk '{exit !(\$1 >= 10)}'"
e2e_check "no plaintext on the WAN, no WireGuard on the LAN" bash -c \
	"[ \$(tcpdump -nn -r '$TOPO_DIR/port0.pcapng' icmp 2>/dev/null | wc -l) = 0 ] && [ \$(tcpdump -nn -r '$TOPO_DIR/port1.pcapng' 'udp port 51820' 2>/dev/null | wc -l) = 0 ]"
e2e_info "WAN: $(tcpdump -nn -r "$TOPO_DIR/port0.pcapng" 'udp port 51820' 2>/dev/null | head -2)"
e2e_info "LAN: $(tcpdump -nn -r "$TOPO_DIR/port1.pcapng" icmp 2>/dev/null | head -2)"
e2e_check "telemetry on hugepages too" bash -c "$(declare -f tel answer is); prefix=$prefix; answer /wgdp/stats | is \"d['/wgdp/stats']['decrypted'] > 0\""
e2e_check "SIGTERM: exit 0" gw_stop
e2e_finish
