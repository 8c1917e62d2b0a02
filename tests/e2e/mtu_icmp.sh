#!/usr/bin/env bash
# e2e: the gateway's tunnel MTU (1420). The LAN host (MTU 1500) sends packets with DF set to
# a client's tunnel address: too large ones must get ICMP fragmentation-needed (IPv4) or
# packet-too-big (IPv6) with mtu 1420 back from the gateway; ones that fit go through, up to
# exactly 1420 bytes.
# (A ping from the client would be refused by its own kernel, whose wg MTU is 1420 too.)
# Usage: mtu_icmp.sh [WGDP_BINARY|standin]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
# shellcheck source=scripts/netns.sh
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
e2e_preflight "${1:-}"
topo_init mtu_icmp
topo_build 1
gw_write_config --mtu 1420
gw_start "$WGDP_BIN"
client_up 1

c=$(client_ns 1) lan=$TOPO_NS_LAN
e2e_require "client reaches the LAN host (handshake, endpoint learned)" ping_reach "$c" "$TOPO_LAN_HOST4" 15

# too_big DEST SIZE PATTERN: ping -M "do" -s SIZE must report PATTERN and mtu 1420.
too_big() {
	local out
	out=$(in_ns "$lan" ping -n -M "do" -s "$2" -c 3 -i 0.3 -W 1 -w 4 "$1" 2>&1 || true)
	printf '%s\n' "$out"
	printf '%s\n' "$out" | grep -Ei "$3" | head -n 1 >&3
	printf '%s\n' "$out" | grep -Eiq "$3" && printf '%s\n' "$out" | grep -Eiq 'mtu ?[=:]? ?1420'
}
fits() { [ "$(ping_count "$lan" "$1" 3 0.3 -M "do" -s "$2")" -ge 2 ]; }

t4=$(client_tun4 1) t6=$(client_tun6 1)
e2e_step "IPv4, inner packets with DF set, LAN host -> $t4"
e2e_check "1450 bytes + 28: fragmentation needed, mtu 1420" too_big "$t4" 1450 'frag needed|message too long'
e2e_check "1350 bytes + 28 goes through" fits "$t4" 1350
e2e_check "1392 bytes + 28 = 1420 (exactly the MTU) goes through" fits "$t4" 1392

e2e_step "IPv6, LAN host -> $t6"
e2e_check "1450 bytes + 48: packet too big, mtu 1420" too_big "$t6" 1450 'packet too big|message too long'
e2e_check "1350 bytes + 48 goes through" fits "$t6" 1350
e2e_check "1372 bytes + 48 = 1420 (exactly the MTU) goes through" fits "$t6" 1372
e2e_check "SIGTERM: the gateway exits with status 0" gw_stop
e2e_finish
