#!/usr/bin/env bash
# e2e: JSON-RPC over HTTP as jamescun/wg-api serves it, with curl, against a running
# gateway carrying a wireguard-go client's traffic: every wg-api method (as wg-api's README
# writes them: no id, params {}) and wgdp's own; without tokens, with tokens (Token and
# Bearer, inline and from a file), over TLS and mutual TLS; refusals as wg-api answers
# them (a browser's Referer, the wrong method, no content type, a body that is not JSON,
# one over the limit) with nothing changed; a slowloris-style partial request closed after
# the idle timeout while the API and the tunnel go on; a non-loopback listener without a
# credential refused at start.
# Usage: http_api.sh [WGDP_BINARY]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}" curl certtool python3
topo_init http_api
topo_build 2
gw=$TOPO_GW_IFNAME pub1=$(client_pub 1) pub2=$(client_pub 2) c=$(client_ns 1)
URL=http://127.0.0.1:8182
CURL_OPTS=()

# A configuration with an http group: the topology's, plus $1.
write_conf() {
	{ _topo_default_template; printf '%s\n' "$1"; } >"$TOPO_DIR/http.tpl"
	gw_write_config --clients "1" --template "$TOPO_DIR/http.tpl"
}
# curl in the gateway's namespace (the listener is on its loopback), with CURL_OPTS.
hcurl() { in_ns "$TOPO_NS_GW" curl -s -m 10 "${CURL_OPTS[@]}" "$@"; }
# rpc METHOD PARAMS [curl options]: a body as wg-api's README sends it (no id).
rpc() {
	local m=$1 p=$2
	shift 2
	hcurl -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\": \"2.0\", \"method\": \"$m\", \"params\": $p}" "$@" "$URL"
}
status() { hcurl -o /dev/null -w '%{http_code}' "$@" "$URL"; }
# is EXPR: the JSON on stdin as d satisfies the Python expression.
is() { python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1], {"d": d}) else 1)' "$1"; }
traffic() { ping_atleast "$c" "$TOPO_LAN_HOST4" 5 5 0.2; }
peers_now() { wg show "$gw" dump | tail -n +2 | cut -f1,4,8 | sort; }
has_peer() { wg show "$gw" peers | grep -qF "$1"; }

# ---- the checks ----
device_info_no_id() {
	local r
	r=$(hcurl "$URL" -H 'Content-Type: application/json' \
		-d '{"jsonrpc": "2.0", "method": "GetDeviceInfo", "params": {}}')
	e2e_info "$r"
	is "d['id'] is None and d['result']['device']['name'] == '$gw' and d['result']['device']['num_peers'] == 1 and d['result']['device']['listen_port'] == 51820" <<<"$r"
}
list_peers() { rpc ListPeers '{}' | is "len(d['result']['peers']) == 1 and d['result']['peers'][0]['receive_bytes'] > 0 and not d['result']['peers'][0]['last_handshake'].startswith('0001')"; }
get_peer() { rpc GetPeer "{\"public_key\": \"$pub1\"}" | is "d['result']['peer']['public_key'] == '$pub1' and d['result']['peer']['protocol_version'] == 1"; }
add_peer2() {
	rpc AddPeer "{\"public_key\": \"$pub2\", \"allowed_ips\": [\"10.200.0.12/32\"], \"endpoint\": \"$(client_wan4 2):51820\", \"persistent_keep_alive\": \"25s\", \"friendly_name\": \"ignored\"}" |
		is "d['result'] == {'ok': True}"
}
keepalive_seconds() {
	rpc AddPeer "{\"public_key\": \"$pub2\", \"persistent_keep_alive\": 30}" | is "d['result']['ok']" &&
		wg show "$gw" persistent-keepalive | grep -q "$pub2.30"
}
validate_only() {
	local k
	k=$(wg genkey | wg pubkey)
	rpc AddPeer "{\"public_key\": \"$k\", \"validate_only\": true}" | is "d['result']['ok'] == False" && ! has_peer "$k"
}
wgdp_methods() {
	rpc GetStats '{}' | is "d['result']['decrypted'] > 0" &&
		rpc GetLcores '{}' | is "len(d['result']['lcores']) >= 1" &&
		rpc GetEvents '{}' | is "any(e['event'] == 'added' and e['public_key'] == '$pub2' for e in d['result']['events'])"
}
remove_peer2() { rpc RemovePeer "{\"public_key\": \"$pub2\"}" | is "d['result'] == {'ok': True}" && ! has_peer "$pub2"; }
rpc_error_200() { [ "$(status -H 'Content-Type: application/json' -d '{"method": "GetPeer", "params": {"public_key": "short"}}')" = 200 ] &&
	rpc GetPeer '{"public_key": "short"}' | is "d['error']['code'] == -32602"; }
# answer STATUS BODY CURL_ARGS...: the status and the plain-text body are wg-api's.
answer() {
	local want_status=$1 want_body=$2 got body
	shift 2
	got=$(hcurl -w '|%{http_code}' "$@" "$URL")
	body=${got%|*}
	body=${body%$'\n'}   # Go's http.Error ends the text with a newline
	e2e_info "HTTP ${got##*|}: $body"
	[ "${got##*|}" = "$want_status" ] && { [ -z "$want_body" ] || [ "$body" = "$want_body" ]; }
}
add2=
slow_client() {
	in_ns "$TOPO_NS_GW" python3 - >"$TOPO_DIR/slow.out" 2>&1 <<'PY' &
import socket, time
s = socket.create_connection(("127.0.0.1", 8182))
s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le")
t0 = time.time()
s.settimeout(10)
data = s.recv(100)
print(f"closed after {time.time() - t0:.1f} s, {len(data)} bytes")
PY
	echo $! >"$TOPO_DIR/slow.pid"
}
slow_closed() {
	wait "$(cat "$TOPO_DIR/slow.pid")" || true
	e2e_info "$(cat "$TOPO_DIR/slow.out")"
	grep -Eq "closed after [1-4]\.[0-9] s" "$TOPO_DIR/slow.out"
}

e2e_step "1. plain HTTP on loopback, no tokens: every method, as wg-api's README sends them"
write_conf 'http = { listen = "127.0.0.1:8182"; max_request_bytes = 65536; idle_timeout = 2; };'
gw_start "$WGDP_BIN"
client_up 1
e2e_require "client 1 reaches the LAN host" ping_reach "$c" "$TOPO_LAN_HOST4" 15
e2e_check "the log names the listener" grep -q "JSON-RPC over HTTP on http://127.0.0.1:8182" "$TOPO_GW_LOG"
e2e_check "GetDeviceInfo without an id: id null, wg-api's Device" device_info_no_id
e2e_check "ListPeers: client 1 with bytes and a handshake" list_peers
e2e_check "GetPeer: client 1" get_peer
e2e_check "AddPeer client 2, with a parameter wg-api would ignore" add_peer2
client_up 2
e2e_check "client 2 reaches the LAN host" ping_reach "$(client_ns 2)" "$TOPO_LAN_HOST4" 15
e2e_check "persistent_keep_alive in seconds as well as \"25s\"" keepalive_seconds
e2e_check "validate_only changes nothing" validate_only
e2e_check "wgdp's own methods: GetStats, GetLcores, GetEvents" wgdp_methods
e2e_check "RemovePeer client 2" remove_peer2
e2e_check "a JSON-RPC error is HTTP 200 with an error object" rpc_error_200

e2e_step "refusals as wg-api answers them, nothing changed"
before=$(peers_now)
add2="{\"jsonrpc\":\"2.0\",\"method\":\"AddPeer\",\"params\":{\"public_key\":\"$pub2\",\"allowed_ips\":[\"10.200.0.12/32\"]}}"
e2e_check "GET: 405 method not allowed" answer 405 "method not allowed"
e2e_check "PUT: 405" answer 405 "" -X PUT -H 'Content-Type: application/json' -d "$add2"
e2e_check "no content type: 400" answer 400 'unknown content type ""' -H 'Content-Type:' -d "$add2"
e2e_check "text/plain: 400" answer 400 'unknown content type "text/plain"' -H 'Content-Type: text/plain' -d "$add2"
e2e_check "a browser's Referer: 403 forbidden" answer 403 forbidden -H 'Content-Type: application/json' -H 'Referer: http://example.com/' -d "$add2"
e2e_check "not JSON: 400 invalid request" bash -c 'hcurl() { ip netns exec "$1" curl -s -w "|%{http_code}" "${@:2}"; }; r=$(hcurl "$1" -H "Content-Type: application/json" -d "{\"method\": " "$2"); echo "$r"; [[ $r == "invalid request: "*"|400" ]]' _ "$TOPO_NS_GW" "$URL"
head -c 70000 /dev/zero | tr '\0' ' ' >"$TOPO_DIR/big.json"
e2e_check "a body over max_request_bytes: 413" answer 413 "" -H 'Content-Type: application/json' --data-binary @"$TOPO_DIR/big.json"
e2e_check "the peers are as before" test "$(peers_now)" = "$before"

e2e_step "a slow client: half a request, then nothing"
slow_client
sleep 0.5
e2e_check "the API answers meanwhile" rpc_error_200
e2e_check "the tunnel carries traffic meanwhile" traffic
e2e_check "the slow connection is closed after the idle timeout (2 s)" slow_closed
e2e_check "SIGTERM: exit 0" gw_stop

e2e_step "2. tokens (inline and from a file) over TLS"
certs=$TOPO_DIR/pki
mkdir -p "$certs"
mkca() { # mkca NAME: a self-signed CA
	certtool --generate-privkey --key-type ecdsa --outfile "$certs/$1.key" 2>/dev/null
	printf 'cn = "%s"\nca\ncert_signing_key\nexpiration_days = 2\n' "$1" >"$certs/$1.tmpl"
	certtool --generate-self-signed --load-privkey "$certs/$1.key" --template "$certs/$1.tmpl" \
		--outfile "$certs/$1.pem" 2>/dev/null
}
mkcert() { # mkcert NAME CA server|client
	certtool --generate-privkey --key-type ecdsa --outfile "$certs/$1.key" 2>/dev/null
	if [ "$3" = server ]; then
		printf 'cn = "wgdp"\nip_address = "127.0.0.1"\ntls_www_server\nexpiration_days = 2\n' >"$certs/$1.tmpl"
	else
		printf 'cn = "%s"\ntls_www_client\nexpiration_days = 2\n' "$1" >"$certs/$1.tmpl"
	fi
	certtool --generate-certificate --load-privkey "$certs/$1.key" --load-ca-certificate "$certs/$2.pem" \
		--load-ca-privkey "$certs/$2.key" --template "$certs/$1.tmpl" --outfile "$certs/$1.pem" 2>/dev/null
}
mkca ca
mkca rogue
mkcert server ca server
mkcert operator ca client
mkcert intruder rogue client
printf '# API tokens\nfrom-the-file\n' >"$TOPO_DIR/tokens"
write_conf "http = { listen = \"127.0.0.1:8182\"; tokens = [ \"s3cret\" ]; tokens_file = \"$TOPO_DIR/tokens\";
  tls_certificate = \"$certs/server.pem\"; tls_key = \"$certs/server.key\"; };"
gw_start "$WGDP_BIN"
URL=https://127.0.0.1:8182
CURL_OPTS=(--cacert "$certs/ca.pem")
before=$(peers_now)
e2e_check "no token: 403 forbidden, over TLS" answer 403 forbidden -H 'Content-Type: application/json' -d '{"method": "GetDeviceInfo"}'
e2e_check "a wrong token: 403" answer 403 forbidden -H 'Authorization: Token nope' -H 'Content-Type: application/json' -d '{"method": "GetDeviceInfo"}'
e2e_check "the token without its scheme: 403" answer 403 forbidden -H 'Authorization: s3cret' -H 'Content-Type: application/json' -d '{"method": "GetDeviceInfo"}'
e2e_check "no token, wrong method: 403 first (wg-api's order)" answer 403 forbidden
e2e_check "AddPeer without the token: 403, nothing changed" bash -c "$(declare -f hcurl answer); $(declare -p CURL_OPTS URL TOPO_NS_GW); e2e_info() { echo \"\$*\"; }; in_ns() { ip netns exec \"\$@\"; }; answer 403 forbidden -H 'Content-Type: application/json' -d '$add2'"
e2e_check "the peers are as before" test "$(peers_now)" = "$before"
e2e_check "Authorization: Token s3cret: 200" bash -c "$(declare -f hcurl rpc is in_ns); $(declare -p CURL_OPTS URL TOPO_NS_GW); rpc GetDeviceInfo '{}' -H 'Authorization: Token s3cret' | is \"d['result']['device']['num_peers'] == 1\""
e2e_check "Authorization: Bearer, the file's token: 200" bash -c "$(declare -f hcurl rpc is in_ns); $(declare -p CURL_OPTS URL TOPO_NS_GW); rpc GetDeviceInfo '{}' -H 'Authorization: Bearer from-the-file' | is \"d['result']\""
e2e_check "AddPeer with the token" bash -c "$(declare -f hcurl rpc is in_ns); $(declare -p CURL_OPTS URL TOPO_NS_GW); rpc AddPeer '{\"public_key\": \"$pub2\"}' -H 'Authorization: Token s3cret' | is \"d['result']['ok']\" && wg show $gw peers | grep -qF '$pub2'"
e2e_check "plain HTTP to the TLS listener gets no answer" bash -c "! ip netns exec $TOPO_NS_GW curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{}' http://127.0.0.1:8182 | grep -q 200"
e2e_check "SIGTERM: exit 0" gw_stop

e2e_step "3. mutual TLS on every address: a client certificate from the CA"
write_conf "http = { listen = \"0.0.0.0:8182\"; tls_certificate = \"$certs/server.pem\"; tls_key = \"$certs/server.key\"; tls_client_ca = \"$certs/ca.pem\"; };"
gw_start "$WGDP_BIN"
e2e_check "no client certificate: 403" answer 403 forbidden -H 'Content-Type: application/json' -d '{"method": "GetDeviceInfo"}'
e2e_check "a certificate from another CA: refused" bash -c "! ip netns exec $TOPO_NS_GW curl -s -m 5 --cacert $certs/ca.pem --cert $certs/intruder.pem --key $certs/intruder.key -H 'Content-Type: application/json' -d '{\"method\": \"GetDeviceInfo\"}' $URL | grep -q result"
e2e_check "the operator's certificate: 200" bash -c "$(declare -f hcurl rpc is in_ns); $(declare -p URL TOPO_NS_GW); CURL_OPTS=(--cacert $certs/ca.pem --cert $certs/operator.pem --key $certs/operator.key); rpc GetDeviceInfo '{}' | is \"d['result']['device']['name'] == '$gw'\""
e2e_check "SIGTERM: exit 0" gw_stop

e2e_step "4. a non-loopback listener without a credential is refused at start"
write_conf 'http = { listen = "0.0.0.0:8182"; };'
refused() {
	! in_ns "$TOPO_NS_GW" "$WGDP_BIN" -l 0 --no-huge -m 64 --no-pci --no-shconf --no-telemetry \
		--file-prefix "wgdp${TOPO_TAG}x" -- -c "$TOPO_GW_CONF" >"$TOPO_DIR/refused.log" 2>&1 &&
		grep -q "is not a loopback address" "$TOPO_DIR/refused.log"
}
e2e_check "wgdp refuses the file and says why" refused
e2e_info "$(grep -m1 "loopback" "$TOPO_DIR/refused.log" || true)"
e2e_finish
