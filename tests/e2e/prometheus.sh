#!/usr/bin/env bash
# e2e: a real Prometheus server (Debian's) scrapes the gateway in the e2e topology, on the
# HTTP listener's /metrics with a bearer token and on the metrics listener of its own
# (:9586, as the exporters use), and its query API returns the peer's byte counters and
# handshake (prometheus_wireguard_exporter's names and labels), the drop counters by
# reason, and wgdp's aggregates. Then 20,000 peers: the page is streamed in pieces, none
# of which holds the control lcore for more than a few milliseconds, while the tunnel goes
# on; with per-peer series off only the aggregates are left.
# Usage: prometheus.sh [WGDP_BINARY] [WGDPCTL_BINARY]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
export WGDP_ARGS="--max-peers 21000"
e2e_preflight "${1:-}" prometheus curl python3
ctl=${2:-$(dirname "$WGDP_BIN")/../wgdpctl/wgdpctl}
[ -x "$ctl" ] || { echo "prometheus: wgdpctl not found at $ctl"; exit 77; }
topo_init prometheus
topo_build 1
gw=$TOPO_GW_IFNAME pub1=$(client_pub 1) c=$(client_ns 1)
sock=/var/run/wgdp/$gw.json.sock
write_conf() {
	{ _topo_default_template; printf '%s\n' "$@"; } >"$TOPO_DIR/prom.tpl"
	gw_write_config --template "$TOPO_DIR/prom.tpl"
}
write_conf 'http = { listen = "127.0.0.1:8182"; tokens = [ "scrape-token" ]; };' \
	'metrics = { listen = "127.0.0.1:9586"; };'
gw_start "$WGDP_BIN"
client_up 1
e2e_require "client 1 reaches the LAN host" ping_reach "$c" "$TOPO_LAN_HOST4" 15
ping_atleast "$c" "$TOPO_LAN_HOST4" 5 5 0.1 >/dev/null
# Junk at the listen port: two messages too short to be WireGuard.
in_ns "$c" python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(b"\x04", ("192.168.50.1", 51820)) for _ in range(2)]'

cat >"$TOPO_DIR/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: wgdp-api
    authorization:
      credentials: scrape-token
    static_configs:
      - targets: ['127.0.0.1:8182']
  - job_name: wgdp
    static_configs:
      - targets: ['127.0.0.1:9586']
YML
in_ns "$TOPO_NS_GW" prometheus --config.file="$TOPO_DIR/prometheus.yml" \
	--storage.tsdb.path="$TOPO_DIR/tsdb" --web.listen-address=127.0.0.1:9090 \
	--log.level=warn >"$TOPO_DIR/prometheus.log" 2>&1 &
_topo_reg pid "$!"
# query PROMQL: the query API's result vector, one "labels value" a line.
query() {
	in_ns "$TOPO_NS_GW" curl -s -m 5 --data-urlencode "query=$1" http://127.0.0.1:9090/api/v1/query |
		python3 -c 'import json,sys; d=json.load(sys.stdin); [print(json.dumps(r["metric"], sort_keys=True), r["value"][1]) for r in d["data"]["result"]]'
}
value() { query "$1" | awk 'NR == 1 {print $NF}'; }
positive() { local v; v=$(value "$1"); e2e_info "$1 = ${v:-none}"; awk -v v="${v:-0}" 'BEGIN {exit !(v > 0)}'; }
targets_up() { [ "$(value 'sum(up)')" = 2 ]; }

e2e_step "Prometheus scrapes both listeners"
e2e_require "both targets up (the token accepted)" wait_until 20 targets_up
e2e_check "wireguard_received_bytes_total of client 1, with the exporter's labels" bash -c \
	"$(declare -f query in_ns); TOPO_NS_GW=$TOPO_NS_GW; query 'wireguard_received_bytes_total{job=\"wgdp\"}' | tee /dev/stderr | python3 -c \"import json,sys; l=sys.stdin.readline(); m=json.loads(l[:l.rindex(' ')]); v=float(l.split()[-1]); sys.exit(not (m['interface'] == '$gw' and m['public_key'] == '$pub1' and m['allowed_ips'] == '$(client_tun4 1)/32,$(client_tun6 1)/128' and v > 0))\""
e2e_check "wireguard_sent_bytes_total > 0" positive "wireguard_sent_bytes_total{public_key=\"$pub1\",job=\"wgdp\"}"
e2e_check "wireguard_latest_handshake_seconds: a Unix time" bash -c \
	"$(declare -f query value in_ns); TOPO_NS_GW=$TOPO_NS_GW; v=\$(value 'wireguard_latest_handshake_seconds{job=\"wgdp\"}'); echo \$v; [ \"\${v%.*}\" -gt \$((\$(date +%s) - 120)) ]"
e2e_check "the junk under its drop reason: wgdp_drops_total{reason=\"WG_SHORT\"}" positive 'wgdp_drops_total{reason="WG_SHORT",job="wgdp"}'
e2e_check "every drop reason is a series" bash -c \
	"$(declare -f query value in_ns); TOPO_NS_GW=$TOPO_NS_GW; [ \$(value 'count(wgdp_drops_total{job=\"wgdp\"})') -ge 37 ]"
e2e_check "wgdp's own: peers, sessions, handshakes, the AEAD engine" bash -c \
	"$(declare -f query value in_ns); TOPO_NS_GW=$TOPO_NS_GW; [ \$(value 'wgdp_peers{job=\"wgdp\"}') = 1 ] && [ \$(value 'wgdp_peers_with_session{job=\"wgdp\"}') = 1 ] && [ \$(value 'wgdp_handshakes_total{job=\"wgdp\"}') -ge 1 ] && query 'wgdp_info{job=\"wgdp\"}' | grep -q aead_engine"
e2e_check "per port and per worker counters" bash -c \
	"$(declare -f query value in_ns); TOPO_NS_GW=$TOPO_NS_GW; [ \$(value 'wgdp_port_rx_packets_total{port=\"wan\",job=\"wgdp\"}') -gt 0 ] && [ \$(value 'sum(wgdp_worker_decrypted_total{job=\"wgdp\"})') -gt 0 ]"
e2e_check "the same from the API listener, scraped with the token" positive "wireguard_received_bytes_total{public_key=\"$pub1\",job=\"wgdp-api\"}"
e2e_check "without the token the API listener's /metrics is forbidden" bash -c \
	"[ \"\$(ip netns exec $TOPO_NS_GW curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8182/metrics)\" = 403 ]"

e2e_step "20,000 peers: the page in pieces"
python3 - 20000 >"$TOPO_DIR/bulk.json" <<'PY'
import base64, json, os, sys
n = int(sys.argv[1])
json.dump({"peers": [{"public_key": base64.b64encode(os.urandom(32)).decode(),
                      "allowed_ips": [f"10.{100 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}/32"]}
                     for i in range(n)]}, sys.stdout)
PY
e2e_require "AddPeers of 20,000" bash -c "'$ctl' -s '$sock' --raw AddPeers - <'$TOPO_DIR/bulk.json' >/dev/null"
metrics_stat() { "$ctl" -s "$sock" --raw GetStats | python3 -c 'import json,sys; print(json.load(sys.stdin)["metrics"][sys.argv[1]])' "$1"; }
pieces0=$(metrics_stat pieces)
in_ns "$c" ping -n -q -i 0.01 -c 400 "$TOPO_LAN_HOST4" >"$TOPO_DIR/ping.out" 2>&1 &
pinger=$!
t0=$(date +%s.%N)
e2e_check "GET /metrics: 60,000 per-peer series and the aggregates" bash -c \
	"[ \$(ip netns exec $TOPO_NS_GW curl -s -m 30 http://127.0.0.1:9586/metrics | grep -c '^wireguard_') = 60003 ]"
t1=$(date +%s.%N)
wait "$pinger" || true
e2e_info "the page took $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') s; tunnel pings meanwhile: $(grep -E 'packets|rtt' "$TOPO_DIR/ping.out" | tr '\n' ' ')"
# The page is made in pieces of at most 256 peers: three per-peer families of 20,000 peers
# take at least 3 x 20,000 / 256 of them. What a piece cost in CPU time is a figure for the
# log (a busy machine stretches it), not a check.
pieces=$(( $(metrics_stat pieces) - pieces0 ))
e2e_info "the page came in $pieces pieces, the longest costing the control lcore $(awk -v v="$(metrics_stat piece_max_ns)" 'BEGIN {printf "%.3f", v / 1e6}') ms of CPU"
e2e_check "the page came in pieces of at most 256 peers (at least 235)" test "$pieces" -ge 235
e2e_check "no tunnel ping lost meanwhile" grep -q ' 0% packet loss' "$TOPO_DIR/ping.out"
e2e_check "Prometheus keeps scraping (20,001 peers)" wait_until 20 bash -c \
	"$(declare -f query value in_ns); TOPO_NS_GW=$TOPO_NS_GW; [ \"\$(value 'wgdp_peers{job=\"wgdp\"}')\" = 20001 ]"
e2e_check "SIGTERM: exit 0" gw_stop

e2e_step "per-peer series off"
write_conf 'metrics = { listen = "127.0.0.1:9586"; per_peer = false; };'
gw_start "$WGDP_BIN"
e2e_check "no wireguard_* series, the aggregates stay" bash -c \
	"p=\$(ip netns exec $TOPO_NS_GW curl -s -m 10 http://127.0.0.1:9586/metrics); ! grep -q '^wireguard_' <<<\"\$p\" && grep -q '^wgdp_peers{' <<<\"\$p\" && grep -q '^wgdp_drops_total{reason=\"DECRYPT\"}' <<<\"\$p\""
e2e_check "SIGTERM: exit 0" gw_stop
e2e_finish
