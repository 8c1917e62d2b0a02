#!/usr/bin/env bash
# e2e: masquerade (NAT44, docs/nat.md). The LAN host stands for the internet: it has no
# route to the tunnel addresses (its default route is removed), so only translated traffic
# can be answered. Client 1 pings it, runs iperf3 TCP, DNS-like UDP request/response and
# 64 parallel TCP and 64 UDP flows; a datagram to a closed port brings the ICMP port
# unreachable back through the translation. The LAN host's servers see no address but the
# gateway's. Client 2 is under a destination rule set that allows only UDP to port 5300:
# its UDP gets through, its ping and TCP are refused and counted (DST_REFUSED). GetStats
# counts flows and translations, ListFlows pages through them.
# With WGDP_LCORE_MAP / WGDP_QPAIRS for two workers (meson: nat_masq-2workers) packets
# arrive on both; those reaching the worker that does not own their flow are handed to the
# owner (counted), and every flow of an inside address lives on one worker.
# With WGDP_NAT_IMPORT=1 (meson: nat_import) the gateway's configuration is what
# `wgdpctl import` makes of a wg-quick server file with the recipes' PostUp MASQUERADE and
# FORWARD lines, and client 2 is put under its rule set over JSON-RPC.
# Usage: nat_masq.sh [WGDP_BINARY] [WGDPCTL_BINARY]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}" iperf3 python3
ctl=${2:-$(dirname "$WGDP_BIN")/../wgdpctl/wgdpctl}
[ -x "$ctl" ] || { echo "nat_masq: wgdpctl not found at $ctl"; exit 77; }
flows_py=$(dirname "$(readlink -f "$0")")/nat_flows.py
topo_init nat_masq
topo_build 2

# The internet host: nothing routes the tunnel prefixes back to the gateway.
in_ns "$TOPO_NS_LAN" ip route del default
cat >"$TOPO_DIR/nat.tpl" <<'TPL'
interface = {
  name = "@IFNAME@";
  private_key = "@PRIVATE_KEY@";
  listen_port = @LISTEN_PORT@;
  mtu = @MTU@;
};
ports = (
  { name = "wan"; device = "net_af_packet0"; role = "wan"; addresses = [ "192.168.50.1/24", "fd50::1/64" ]; },
  { name = "lan"; device = "net_af_packet1"; role = "lan"; addresses = [ "10.60.0.1/24", "fd60::1/64" ];
    gateway4 = "10.60.0.2"; masquerade = true; }
);
nat = { max_flows = 4096; timeouts = { udp = 60; }; };
metrics = { listen = "127.0.0.1:9586"; };
destination_rules = ( { name = "dns-only"; allow = [ "10.60.0.2 udp 5300" ]; } );
@PEERS@
TPL
gw_write_config --template "$TOPO_DIR/nat.tpl"
pub2=$(client_pub 2)
if [ "${WGDP_NAT_IMPORT:-0}" = 1 ]; then
	# A wg-quick server file as the recipes write it, with the topology's keys and peers
	# (netns.sh writes them in wg(8) form), imported; its ports are the topology's.
	{
		printf '[Interface]\nAddress = 10.200.0.1/24, fd00:200::1/64\nMTU = %s\n' "$TOPO_MTU"
		printf 'DNS = 1.1.1.1\nTable = off\n'
		printf 'PostUp = sysctl -w net.ipv4.ip_forward=1; iptables -A FORWARD -i %%i -j ACCEPT; '
		printf 'iptables -A FORWARD -o %%i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n'
		printf 'PostDown = iptables -D FORWARD -i %%i -j ACCEPT; iptables -D FORWARD -o %%i -j ACCEPT; '
		printf 'iptables -t nat -D POSTROUTING -o eth0 -j MASQUERADE\n'
		sed 1d "$TOPO_DIR/standin-wg.conf"
	} >"$TOPO_DIR/wg0.conf"
	e2e_require "wgdpctl import: the wg-quick file becomes a configuration" \
		"$ctl" import -o "$TOPO_GW_CONF" --name "$TOPO_GW_IFNAME" \
		--wan-device net_af_packet0 --wan-address 192.168.50.1/24 --wan-address fd50::1/64 \
		--device net_af_packet1 --address 10.60.0.1/24 --address fd60::1/64 \
		--gateway4 10.60.0.2 "$TOPO_DIR/wg0.conf"
	"$ctl" import --name x --address 10.60.0.1/24 "$TOPO_DIR/wg0.conf" 2>"$TOPO_DIR/import.notes" >/dev/null
	e2e_check "wgdpctl import names DNS and Table as not carried over" bash -c \
		'grep -q "not carried over: DNS" "$1" && grep -q "not carried over: Table" "$1"' _ "$TOPO_DIR/import.notes"
	e2e_check "the imported configuration masquerades the tunnel's prefix" \
		grep -q 'masquerade = { sources = \[ "10.200.0.0/24" \]; }' "$TOPO_GW_CONF"
else
	sed -i "s|public_key = \"$pub2\";|& destination_rules = \"dns-only\";|" "$TOPO_GW_CONF"
	grep -q 'destination_rules = "dns-only"' "$TOPO_GW_CONF" || _topo_die "could not put client 2 under the rule set"
fi
gw_start "$WGDP_BIN"
client_up 1
client_up 2

seen=$TOPO_DIR/seen.log
: >"$seen"
in_ns "$TOPO_NS_LAN" python3 "$flows_py" serve 5300 "$seen" >"$TOPO_DIR/serve.log" 2>&1 &
lan_iperf3_server
wait_until 10 grep -q listening "$TOPO_DIR/serve.log" || _topo_die "the echo server did not start"

c1=$(client_ns 1) c2=$(client_ns 2) host=$TOPO_LAN_HOST4
sock=/var/run/wgdp/$TOPO_GW_IFNAME.json.sock
rpc() { "$ctl" -s "$sock" --raw "$@"; }
stat_of() { rpc GetStats | python3 -c 'import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1], {"s": s}))' "$1"; }

no_route_back() { ! in_ns "$TOPO_NS_LAN" ip route get "$(client_tun4 1)" >/dev/null 2>&1; }
e2e_require "the LAN host has no route to the tunnel addresses" no_route_back

e2e_step "client 1 through the masquerade to $host"
e2e_require "ping reaches it (handshake)" ping_reach "$c1" "$host" 15
e2e_check "10 pings, at least 9 answered" ping_atleast "$c1" "$host" 10 9 0.2
run_iperf() {
	local j=$TOPO_DIR/iperf3.json
	in_ns "$c1" timeout 30 iperf3 -c "$host" -t 4 -J --connect-timeout 5000 >"$j" || true
	python3 - "$j" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if "error" in d:
    print("iperf3 error: " + d["error"]); sys.exit(1)
r = d["end"]["sum_received"]
print("received %d bytes: %.1f Mbit/s" % (r["bytes"], r["bits_per_second"] / 1e6))
sys.exit(0 if r["bytes"] > 0 else 1)
PY
}
e2e_check "iperf3 TCP for 4 s completes" run_iperf
e2e_check "UDP request/response (DNS-like)" in_ns "$c1" python3 "$flows_py" udp "$host" 5300 1
e2e_check "64 parallel TCP connections, each echoes 64 KiB" in_ns "$c1" python3 "$flows_py" tcp "$host" 5300 64
e2e_check "64 parallel UDP flows, each 5 exchanges" in_ns "$c1" python3 "$flows_py" udp "$host" 5300 64
e2e_check "UDP to a closed port: the port unreachable comes back translated" \
	in_ns "$c1" python3 "$flows_py" refused "$host" 5399
only_gateway() {
	local n others
	n=$(wc -l <"$seen")
	others=$(grep -cv "^$TOPO_GW_LAN4\$" "$seen" || true)
	e2e_info "the LAN host saw $n connections and datagrams, $others not from $TOPO_GW_LAN4"
	[ "$n" -gt 128 ] && [ "$others" = 0 ]
}
e2e_check "the LAN host saw only the gateway's address" only_gateway

e2e_step "counters and listings"
e2e_check "GetStats: flows, flows created and translations both ways" bash -c \
	'[ "$1" -gt 0 ] && [ "$2" -ge 130 ] && [ "$3" -gt 1000 ] && [ "$4" -gt 1000 ]' _ \
	"$(stat_of 's["nat"]["flows"]')" "$(stat_of 's["nat"]["created"]')" \
	"$(stat_of 's["nat"]["translated_out"]')" "$(stat_of 's["nat"]["translated_in"]')"
# Every page of ListFlows (limit 25), walked by next_offset: as many flows as "total" said,
# each from client 1's tunnel address to the gateway's, TCP, UDP and ICMP among them.
list_pages() {
	python3 - "$ctl" "$sock" <<'PY'
import json, subprocess, sys
ctl, sock = sys.argv[1:3]
flows, offset, pages, total = [], 0, 0, None
while offset is not None and pages < 1000:
    r = json.loads(subprocess.run([ctl, "-s", sock, "--raw", "ListFlows", "limit=25",
                                   "offset=%d" % offset], check=True,
                                  capture_output=True, text=True).stdout)
    assert len(r["flows"]) <= 25, r
    flows += r["flows"]
    total = r["total"] if total is None else total
    offset, pages = r["next_offset"], pages + 1
print("       ListFlows: %d flows in %d pages (total %d)" % (len(flows), pages, total))
# Flows may expire or start between pages, never this fast at these timeouts.
assert len(flows) == total and pages >= 2, (len(flows), total)
for f in flows:
    assert f["outside"].startswith("10.60.0.1:") and f["inside"].startswith("10.200.0.1"), f
assert {"tcp", "udp", "icmp"} <= {f["protocol"] for f in flows}, {f["protocol"] for f in flows}
PY
}
e2e_check "ListFlows pages: every flow masqueraded to $TOPO_GW_LAN4, TCP, UDP and ICMP" list_pages
metrics_nat() {
	local page
	page=$(in_ns "$TOPO_NS_GW" curl -s -m 10 http://127.0.0.1:9586/metrics)
	grep -Eq '^wgdp_nat_flows [1-9]' <<<"$page" &&
		grep -Eq '^wgdp_nat_translated_out_total [1-9]' <<<"$page" &&
		grep -q '^# TYPE wgdp_nat_table_full_total counter' <<<"$page"
}
if [ "${WGDP_NAT_IMPORT:-0}" != 1 ] && command -v curl >/dev/null; then
	e2e_check "Prometheus /metrics: wgdp_nat_flows and the NAT counters" metrics_nat
fi
if [ -n "${WGDP_QPAIRS:-}" ]; then
	e2e_check "two workers: packets were handed to their flow's owner" bash -c '[ "$1" -gt 0 ]' _ \
		"$(stat_of 's["nat"]["handed_off"]')"
	# A flow's owner is a hash of its inside address (docs/nat.md): one worker per client.
	e2e_check "two workers: every flow of an inside address on one worker" bash -c \
		'"$1" -s "$2" --raw ListFlows limit=1000 | python3 -c "import json,sys; w={}; [w.setdefault(f[\"inside\"].rsplit(\":\", 1)[0], set()).add(f[\"worker\"]) for f in json.load(sys.stdin)[\"flows\"]]; print(w); sys.exit(not w or any(len(v) != 1 for v in w.values()))"' _ "$ctl" "$sock"
fi

no_ping() { [ "$(ping_count "$1" "$host" 3 0.2)" = 0 ]; }
no_tcp() { ! in_ns "$1" timeout 10 python3 "$flows_py" tcp "$host" 5300 1; }
e2e_step "destination rules: client 2 may send only UDP to $host:5300"
if [ "${WGDP_NAT_IMPORT:-0}" = 1 ]; then
	e2e_check "SetRules and SetPeerRules: client 2 under dns-only, live" bash -c \
		'"$1" -s "$2" --raw SetRules name=dns-only "allow=[\"10.60.0.2 udp 5300\"]" >/dev/null &&
		 "$1" -s "$2" --raw SetPeerRules public_key="$3" rule_set=dns-only >/dev/null' _ "$ctl" "$sock" "$pub2"
fi
refused0=$(stat_of 's["drops"]["DST_REFUSED"]')
e2e_check "its UDP to port 5300 is answered" in_ns "$c2" python3 "$flows_py" udp "$host" 5300 4
e2e_check "its ping is refused" no_ping "$c2"
e2e_check "its TCP is refused" no_tcp "$c2"
refused_more() {
	local now
	now=$(stat_of 's["drops"]["DST_REFUSED"]')
	e2e_info "DST_REFUSED: $refused0 before, $now after"
	[ "$now" -ge $((refused0 + 3)) ]
}
e2e_check "the refusals are counted (DST_REFUSED)" refused_more
e2e_check "SetRules: the set allows ICMP too, live" rpc SetRules name=dns-only \
	'allow=["10.60.0.2 udp 5300", "10.60.0.2 icmp"]'
e2e_check "now its ping is answered" ping_atleast "$c2" "$host" 5 4 0.2
e2e_check "client 1 (under no set) still gets through" ping_atleast "$c1" "$host" 5 4 0.2
e2e_check "SetMasquerade off: client 1's new flows leave untranslated and go unanswered" \
	rpc SetMasquerade port=lan enabled=false
e2e_check "  ... its ping is not answered" no_ping "$c1"
e2e_check "SetMasquerade on again: answered again" rpc SetMasquerade port=lan enabled=true
e2e_check "  ... its ping is answered" ping_atleast "$c1" "$host" 5 4 0.2
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
