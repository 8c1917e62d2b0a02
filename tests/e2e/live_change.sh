#!/usr/bin/env bash
# e2e: live peer changes without loss. Client 1 (peer A) pings the LAN host every 10 ms
# while 25 other peers are added, changed (allowed IPs v4 and v6, endpoint, keepalive,
# preshared key) and removed, one `wg set` at a time and in bulk; A loses nothing, and A's
# own allowed IPs, endpoint, keepalive and preshared key are changed too without ending its
# session (same handshake time, counters keep growing from where they were).
# Usage: live_change.sh [WGDP_BINARY]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}"
topo_init live_change
topo_build 1
gw_write_config
gw_start "$WGDP_BIN"
client_up 1

c=$(client_ns 1) gw=$TOPO_GW_IFNAME pub1=$(client_pub 1)
e2e_require "client 1 reaches the LAN host (handshake)" ping_reach "$c" "$TOPO_LAN_HOST4" 15
hs0=$(wg show "$gw" latest-handshakes | awk -v k="$pub1" '$1 == k {print $2}')

in_ns "$c" ping -n -q -i 0.01 -c 1500 -W 1 "$TOPO_LAN_HOST4" >"$TOPO_DIR/live-ping.log" 2>&1 &
ping_pid=$!
sleep 0.5

e2e_step "25 peers added, changed and removed while A pings every 10 ms"
keys=()
for i in $(seq 1 25); do keys+=("$(wg genkey | wg pubkey)"); done
for i in $(seq 1 25); do
	wg set "$gw" peer "${keys[i-1]}" allowed-ips "10.201.$i.0/24,fd00:201:$i::/64" \
		endpoint "192.168.50.$((100 + i)):51820" persistent-keepalive 0
done
conf="$TOPO_DIR/bulk.conf"
: >"$conf"
for i in $(seq 1 25); do
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.202.%d.0/24, fd00:202:%d::/64\nPersistentKeepalive = 0\n\n' \
		"${keys[i-1]}" "$i" "$i" >>"$conf"
done
wg addconf "$gw" "$conf"
e2e_check "26 peers now" bash -c '[ "$(wg show "$1" peers | wc -l)" = 26 ]' _ "$gw"
psk=$(wg genpsk); echo "$psk" >"$TOPO_DIR/p.psk"
for i in $(seq 1 25); do
	wg set "$gw" peer "${keys[i-1]}" allowed-ips "10.203.$i.0/24" preshared-key "$TOPO_DIR/p.psk" \
		endpoint "[fd50::$((100 + i))]:51820"
done

e2e_step "A's own settings change under its live session"
rx0=$(wg show "$gw" transfer | awk -v k="$pub1" '$1 == k {print $2}')
ep1=$(wg show "$gw" endpoints | awk -v k="$pub1" '$1 == k {print $2}')
wg set "$gw" peer "$pub1" allowed-ips "10.200.0.11/32,fd00:200::11/128,10.210.0.0/16" persistent-keepalive 7
# A preshared key only enters the next handshake: the running session is not touched.
wg set "$gw" peer "$pub1" preshared-key "$TOPO_DIR/p.psk"
wg set "$gw" peer "$pub1" preshared-key /dev/null
wg set "$gw" peer "$pub1" endpoint "$ep1"
wg set "$gw" peer "$pub1" allowed-ips "10.200.0.11/32,fd00:200::11/128"
for i in $(seq 1 25); do wg set "$gw" peer "${keys[i-1]}" remove; done
e2e_check "1 peer left" bash -c '[ "$(wg show "$1" peers | wc -l)" = 1 ]' _ "$gw"

wait "$ping_pid" || true
loss=$(grep -o '[0-9.]*% packet loss' "$TOPO_DIR/live-ping.log" | cut -d% -f1)
e2e_info "$(grep -E 'packets transmitted' "$TOPO_DIR/live-ping.log")"
e2e_check "A lost nothing (1500 pings every 10 ms)" test "$loss" = 0
hs1=$(wg show "$gw" latest-handshakes | awk -v k="$pub1" '$1 == k {print $2}')
e2e_check "A kept its session (same handshake time $hs0)" test "$hs0" = "$hs1"
rx1=$(wg show "$gw" transfer | awk -v k="$pub1" '$1 == k {print $2}')
e2e_check "A's counters kept counting ($rx0 -> $rx1 bytes received)" test "$rx1" -gt "$rx0"
e2e_check "A's keepalive is 7 s" bash -c 'wg show "$1" persistent-keepalive | grep -q "$2.*7"' _ "$gw" "$pub1"
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
