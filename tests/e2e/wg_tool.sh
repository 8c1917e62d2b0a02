#!/usr/bin/env bash
# e2e: the stock `wg` tool against a running gateway, over the userspace API socket
# (/var/run/wireguard/NAME.sock), with a wireguard-go client passing traffic before and
# after each change: show, show all dump, showconf, set peer (allowed-ips, endpoint,
# persistent-keepalive), peer remove, listen-port, private-key, setconf, syncconf.
# Usage: wg_tool.sh [WGDP_BINARY]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}"
topo_init wg_tool
topo_build 2
gw_write_config --clients "1"
gw_start "$WGDP_BIN"
client_up 1

c=$(client_ns 1) gw=$TOPO_GW_IFNAME
pub1=$(client_pub 1) pub2=$(client_pub 2)
traffic() { ping_atleast "$c" "$TOPO_LAN_HOST4" 5 5 0.2; }
gwwg() { wg "$@"; }   # the gateway's socket lives in the shared /var/run/wireguard

e2e_require "client 1 reaches the LAN host (handshake)" ping_reach "$c" "$TOPO_LAN_HOST4" 15

e2e_step "wg show, wg show all dump, wg showconf"
out=$(gwwg show "$gw")
e2e_check "wg show names the interface" grep -q "interface: $gw" <<<"$out"
e2e_check "wg show shows the gateway's public key" grep -q "public key: $(cat "$TOPO_DIR/gw.pub")" <<<"$out"
e2e_check "wg show shows client 1 with its endpoint" grep -q "endpoint: $(client_wan4 1):" <<<"$out"
e2e_check "wg show shows a recent handshake" grep -q "latest handshake: .*second\|latest handshake: Now" <<<"$out"
dump=$(gwwg show all dump)
e2e_check "dump: interface line with the private key, public key, port, fwmark off" \
	awk -v g="$gw" -v p="$(cat "$TOPO_DIR/gw.pub")" -F'\t' '$1 == g && $3 == p && $4 == 51820 && $5 == "off" {f=1} END {exit !f}' <<<"$dump"
e2e_check "dump: peer line with allowed IPs, a handshake time and byte counts" \
	awk -v k="$pub1" -F'\t' '$2 == k && $5 ~ /10.200.0.11\/32/ && $6 > 0 && $7 > 0 && $8 > 0 {f=1} END {exit !f}' <<<"$dump"
conf=$(gwwg showconf "$gw")
e2e_check "showconf has [Interface] with ListenPort and PrivateKey" \
	bash -c 'grep -q "^ListenPort = 51820" <<<"$1" && grep -q "^PrivateKey = " <<<"$1"' _ "$conf"
e2e_check "showconf has client 1 as [Peer]" grep -q "^PublicKey = $pub1" <<<"$conf"

e2e_step "wg set peer: add client 2 live, change it, remove it"
e2e_require "wg set adds client 2" gwwg set "$gw" peer "$pub2" allowed-ips 10.200.0.12/32,fd00:200::12/128 \
	endpoint "$(client_wan4 2):51820" persistent-keepalive 25
e2e_check "client 2 appears with its allowed IPs and keepalive" \
	bash -c 'wg show "$1" dump | awk -v k="$2" -F"\t" '"'"'$1 == k && $4 ~ /10.200.0.12\/32/ && $8 == 25 {f=1} END {exit !f}'"'" _ "$gw" "$pub2"
client_up 2
e2e_check "client 2 reaches the LAN host" ping_reach "$(client_ns 2)" "$TOPO_LAN_HOST4" 15
e2e_check "client 1 unaffected" traffic
e2e_check "wg set allowed-ips replaces client 2's list" gwwg set "$gw" peer "$pub2" allowed-ips 10.200.0.12/32
e2e_check "the IPv6 prefix is gone" bash -c '! wg show "$1" allowed-ips | grep -q "fd00:200::12"' _ "$gw"
e2e_check "client 2 keeps its session (still reaches the LAN host)" ping_reach "$(client_ns 2)" "$TOPO_LAN_HOST4" 5
e2e_check "wg set peer remove" gwwg set "$gw" peer "$pub2" remove
e2e_check "client 2 is gone from wg show" bash -c '! wg show "$1" peers | grep -q "$2"' _ "$gw" "$pub2"
e2e_check "client 1 unaffected" traffic

e2e_step "wg set listen-port: the data path moves to the new port"
e2e_require "wg set listen-port 51900" gwwg set "$gw" listen-port 51900
e2e_check "wg show reports 51900" bash -c '[ "$(wg show "$1" listen-port)" = 51900 ]' _ "$gw"
client_wg 1 set "$(client_wgif 1)" peer "$(cat "$TOPO_DIR/gw.pub")" endpoint "$TOPO_GW_WAN4:51900"
e2e_check "client 1 reaches the LAN host through port 51900" traffic

e2e_step "wg set private-key: new identity, the client follows"
wg genkey >"$TOPO_DIR/gw2.key"
wg pubkey <"$TOPO_DIR/gw2.key" >"$TOPO_DIR/gw2.pub"
e2e_require "wg set private-key" gwwg set "$gw" private-key "$TOPO_DIR/gw2.key"
e2e_check "wg show reports the new public key" bash -c '[ "$(wg show "$1" public-key)" = "$2" ]' _ "$gw" "$(cat "$TOPO_DIR/gw2.pub")"
client_wg 1 set "$(client_wgif 1)" peer "$(cat "$TOPO_DIR/gw.pub")" remove
client_wg 1 set "$(client_wgif 1)" peer "$(cat "$TOPO_DIR/gw2.pub")" endpoint "$TOPO_GW_WAN4:51900" \
	allowed-ips "$TOPO_CLIENT_ALLOWED"
e2e_check "client 1 handshakes with the new key and reaches the LAN host" ping_reach "$c" "$TOPO_LAN_HOST4" 15

e2e_step "wg setconf and wg syncconf with wg-format files"
cat >"$TOPO_DIR/set.conf" <<CONF
[Interface]
PrivateKey = $(cat "$TOPO_DIR/gw2.key")
ListenPort = 51900

[Peer]
PublicKey = $pub1
AllowedIPs = 10.200.0.11/32, fd00:200::11/128

[Peer]
PublicKey = $pub2
AllowedIPs = 10.200.0.12/32
CONF
e2e_require "wg setconf" gwwg setconf "$gw" "$TOPO_DIR/set.conf"
e2e_check "setconf: exactly the two peers" bash -c '[ "$(wg show "$1" peers | wc -l)" = 2 ]' _ "$gw"
e2e_check "client 1 keeps its session through setconf (its key is in the file)" traffic
sed '/^\[Peer\]$/,$d' "$TOPO_DIR/set.conf" >"$TOPO_DIR/sync.conf"
printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.200.0.11/32, fd00:200::11/128\n' "$pub1" >>"$TOPO_DIR/sync.conf"
e2e_require "wg syncconf" gwwg syncconf "$gw" "$TOPO_DIR/sync.conf"
e2e_check "syncconf: client 2 removed, client 1 kept" bash -c '[ "$(wg show "$1" peers)" = "$2" ]' _ "$gw" "$pub1"
e2e_check "client 1 keeps its session through syncconf" traffic

e2e_step "a malformed request is refused and changes nothing"
e2e_check "a bad allowed IP is refused" bash -c '! wg set "$1" peer "$2" allowed-ips 10.200.0.300/32 2>/dev/null' _ "$gw" "$pub2"
e2e_check "raw garbage on the socket gets errno and a closed connection" \
	bash -c 'printf "set=1\nbogus_key=1\n\n" | timeout 5 socat - UNIX-CONNECT:/var/run/wireguard/$1.sock 2>/dev/null | grep -q "^errno=" || python3 -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(\"/var/run/wireguard/\"+sys.argv[1]+\".sock\")
s.sendall(b\"set=1\nbogus_key=1\n\n\"); d=s.recv(4096); sys.exit(0 if d.startswith(b\"errno=\") and d != b\"errno=0\n\n\" else 1)" "$1"' _ "$gw"
e2e_check "peers unchanged" bash -c '[ "$(wg show "$1" peers)" = "$2" ]' _ "$gw" "$pub1"
e2e_check "client 1 still passes traffic" traffic
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_check "the socket is removed" bash -c '[ ! -e "/var/run/wireguard/$1.sock" ]' _ "$gw"
e2e_finish
