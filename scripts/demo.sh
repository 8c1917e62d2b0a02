#!/usr/bin/env bash
# The README's demo command (as root): installs what is missing, builds, and shows wgdp
# carrying a real WireGuard client's traffic, all inside network namespaces on this machine:
#
#   wireguard-go client --(WAN veth, bridge)-- wgdp (DPDK, net_af_packet) --(LAN veth)-- host
#     10.200.0.11 / 192.168.50.11               192.168.50.1 | 10.60.0.1              10.60.0.2
#
# It starts the gateway with conf/demo.conf.in filled in, shows the client's handshake
# (wg show), pings through the tunnel both ways, runs iperf3 for 5 s, asks the gateway over
# HTTP as a wg-api client would (curl), reads its Prometheus metrics, its peer events and
# DPDK's telemetry, and prints the end of the gateway's log with its counters. Where
# ../shared/peers holds the AmneziaWG peer, the gateway also speaks AmneziaWG
# (docs/obfuscation.md, accept_plain on) and an amneziawg-go client (built from there at
# first use) pings beside the wireguard-go one, on the same port. Everything it made is
# removed at the end, also on Ctrl-C or a failure.
#
# Environment: WGDP_BIN (default build/app/wgdp/wgdp; "standin" runs wireguard-go + kernel
# forwarding in the gateway's place, to try the demo itself), WGDP_LCORES (EAL -l, default
# 0: one lcore), DEMO_IPERF_SECONDS (5), DEMO_AWG=0 (no AmneziaWG client).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it creates network namespaces and installs packages)" >&2
	exit 1
fi

step() { printf '\n=== %s\n' "$*"; }
# show CMD...: print the command, then run it.
show() {
	printf '$ %s\n' "$*"
	"$@"
}

step "1. dependencies (scripts/install-deps.sh)"
bash scripts/install-deps.sh

step "2. build (meson, ninja)"
if [ ! -f build/build.ninja ]; then
	meson setup build
fi
ninja -C build

. scripts/netns.sh
bin=${WGDP_BIN:-$(topo_default_bin)}
if [ "$bin" != standin ] && ! { [ -f "$bin" ] && [ -x "$bin" ]; }; then
	echo "demo: the gateway $bin was not built" >&2
	exit 1
fi
topo_init demo
awg=''
if [ "${DEMO_AWG:-1}" != 0 ] && [ "$bin" != standin ] &&
	[ -f ../shared/peers/amneziawg-go/build.sh ]; then
	awg=1
	e2e_awg_bin
fi
AWG_H="h1=1020325451 h2=3288052141 h3=1766607858 h4=2528465083"
AWG_CONF="s1 = 15; s2 = 68; h1 = 1020325451; h2 = 3288052141L; h3 = 1766607858;
    h4 = 2528465083L; accept_plain = true;"

step "3. topology: a WireGuard client, the gateway and a LAN host in network namespaces"
topo_build 1 --psk
[ -n "$awg" ] && topo_client_add 2
c=$(client_ns 1) lan=$TOPO_NS_LAN
cat <<EOF
  client      ns $c
              WAN $(client_wan4 1), $(client_wan6 1); tunnel (wireguard-go $(client_wgif 1)) $(client_tun4 1), $(client_tun6 1)
  WAN switch  ns $TOPO_NS_SW (bridge $TOPO_SW_BR)
  gateway     ns $TOPO_NS_GW: WAN $TOPO_GW_WAN = $TOPO_GW_WAN4, $TOPO_GW_WAN6; LAN $TOPO_GW_LAN = $TOPO_GW_LAN4, $TOPO_GW_LAN6
  LAN host    ns $lan: $TOPO_LAN_HOST4, $TOPO_LAN_HOST6
EOF
[ -n "$awg" ] && echo "  client 2    ns $(client_ns 2): amneziawg-go (AmneziaWG), tunnel $(client_tun4 2)"

step "4. the gateway's configuration (conf/demo.conf.in filled in; keys hidden here)"
if [ -n "$awg" ]; then
	gw_write_config --template conf/demo.conf.in --obfs "$AWG_CONF"
else
	gw_write_config --template conf/demo.conf.in
fi
sed -E 's/((private|preshared)_key = )"[^"]*"/\1"(hidden)"/' "$TOPO_GW_CONF" | grep -v '^#' | grep -v '^$'

step "5. start the gateway"
gw_start "$bin"
client_up 1

fail() {
	echo "demo: FAILED: $*"
	echo "--- the gateway's log (last 40 lines):"
	gw_log_tail 40
	exit 1
}

step "6. handshake: the client's first packet starts it"
ping_reach "$c" "$TOPO_LAN_HOST4" 15 || fail "no reply through the tunnel"
client_wait_handshake 1 5 || fail "no handshake"
show in_ns "$c" wg show "$(client_wgif 1)"

step "7. ping through the tunnel"
show in_ns "$c" ping -n -c 3 -i 0.3 "$TOPO_LAN_HOST4" || fail "IPv4 ping client -> LAN host"
show in_ns "$c" ping -n -c 3 -i 0.3 "$TOPO_LAN_HOST6" || fail "IPv6 ping client -> LAN host"
show in_ns "$lan" ping -n -c 3 -i 0.3 "$(client_tun4 1)" || fail "IPv4 ping LAN host -> client"

step "8. iperf3, client -> LAN host, ${DEMO_IPERF_SECONDS:-5} s"
lan_iperf3_server
show in_ns "$c" timeout 30 iperf3 -c "$TOPO_LAN_HOST4" -t "${DEMO_IPERF_SECONDS:-5}" -f m ||
	fail "iperf3"

if [ -n "$awg" ]; then
	step "8b. an AmneziaWG client (amneziawg-go) on the same port: junk, padding, custom types"
	client_up 2 --awg "jc=4 jmin=40 jmax=70 s1=15 s2=68 $AWG_H"
	ping_reach "$(client_ns 2)" "$TOPO_LAN_HOST4" 15 || fail "no reply through the AmneziaWG tunnel"
	show in_ns "$(client_ns 2)" wg show "$(client_wgif 2)"
	show in_ns "$(client_ns 2)" ping -n -c 3 -i 0.3 "$TOPO_LAN_HOST4" ||
		fail "IPv4 ping AmneziaWG client -> LAN host"
	show in_ns "$lan" ping -n -c 3 -i 0.3 "$(client_tun4 2)" ||
		fail "IPv4 ping LAN host -> AmneziaWG client"
fi

if [ -S "/var/run/wireguard/$TOPO_GW_IFNAME.sock" ]; then
	step "9. the gateway as the stock wg tool sees it (UAPI socket)"
	show timeout 5 wg show "$TOPO_GW_IFNAME" || true
fi

if [ "$bin" != standin ]; then
	api() { # api METHOD PARAMS: curl in the gateway's namespace, as wg-api's README does
		local body="{\"jsonrpc\": \"2.0\", \"method\": \"$1\", \"params\": $2}"
		printf "\$ curl -s http://127.0.0.1:8182 -H 'Content-Type: application/json' -d '%s'\n" "$body"
		in_ns "$TOPO_NS_GW" curl -s http://127.0.0.1:8182 -H "Content-Type: application/json" -d "$body"
		echo
	}
	step "10. JSON-RPC over HTTP, as a wg-api client asks (curl in the gateway's namespace)"
	api GetDeviceInfo '{}'
	api ListPeers '{}'
	api GetEvents '{}'

	step "11. Prometheus metrics (GET /metrics): the exporter's per-peer series and a few of wgdp's"
	printf '$ curl -s http://127.0.0.1:8182/metrics | grep ...\n'
	in_ns "$TOPO_NS_GW" curl -s http://127.0.0.1:8182/metrics |
		grep -E '^(wireguard_|wgdp_peers|wgdp_handshakes_total|wgdp_drops_total\{reason="(DECRYPT|REPLAY|NO_ROUTE)"|wgdp_worker_(decrypted|encrypted)_total)' || true

	step "12. DPDK's telemetry (dpdk-telemetry.py, from dpdk-dev)"
	if command -v dpdk-telemetry.py >/dev/null; then
		printf '$ echo /wgdp/stats | dpdk-telemetry.py -f wgdp%s\n' "$TOPO_TAG"
		echo /wgdp/stats | timeout 10 dpdk-telemetry.py -f "wgdp$TOPO_TAG" 2>&1 | grep '/wgdp/stats' || true
	else
		echo "(dpdk-telemetry.py is not installed: apt-get install dpdk-dev)"
	fi
fi

step "13. the gateway's counters (SIGUSR1, then SIGTERM): the end of its log"
gw_signal USR1 || true
sleep 0.5
rc=0
gw_stop || rc=$?
gw_log_tail 40
[ "$rc" = 0 ] || fail "the gateway exited with status $rc"

step "14. clean up"
topo_cleanup
echo "demo: done"
