#!/usr/bin/env bash
# e2e: peer events, SetPeerEnabled and SaveConfig on a running gateway with a wireguard-go
# client: it connects (handshake, up), roams to another address (roamed, old and new
# endpoint), is disabled (its packets dropped as PEER_DISABLED, its handshakes refused),
# enabled again (handshake, up), a peer is added, changed and removed; each event appears
# once, in order, in GetEvents and in the log. Then SaveConfig, a restart from the saved
# file, and the gateway reaches the client at its saved (roamed) endpoint.
# Usage: events.sh [WGDP_BINARY] [WGDPCTL_BINARY]   exit 0 pass, 1 fail, 77 skipped
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../../scripts/netns.sh"
export WGDP_EAL_EXTRA="--log-level=wgdp.peer:debug"
e2e_preflight "${1:-}" python3
ctl=${2:-$(dirname "$WGDP_BIN")/../wgdpctl/wgdpctl}
[ -x "$ctl" ] || { echo "events: wgdpctl not found at $ctl"; exit 77; }
topo_init events
topo_build 1
gw=$TOPO_GW_IFNAME pub1=$(client_pub 1) c=$(client_ns 1)
saved=$TOPO_DIR/saved.conf
# SaveConfig writes to interface.save_path, beside the configuration in the work dir.
_topo_default_template | sed "s|  mtu = @MTU@;|  mtu = @MTU@;\n  save_path = \"$saved\";|" >"$TOPO_DIR/ev.tpl"
gw_write_config --template "$TOPO_DIR/ev.tpl"
gw_start "$WGDP_BIN"
sock=/var/run/wgdp/$gw.json.sock
rpc() { "$ctl" -s "$sock" --raw "$@"; }
is() { python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1], {"d": d}) else 1)' "$1"; }
drops() { rpc GetStats | python3 -c "import json,sys; print(json.load(sys.stdin)['drops']['$1'])"; }
events() { rpc GetEvents | python3 -c 'import json,sys; print(" ".join(e["event"] for e in json.load(sys.stdin)["events"]))'; }
lan_ping() { ping_count "$TOPO_NS_LAN" "$(client_tun4 1)" "$1" 0.2; }

e2e_step "connect, roam"
client_up 1
e2e_require "client 1 reaches the LAN host" ping_reach "$c" "$TOPO_LAN_HOST4" 15
e2e_check "events: handshake, up" test "$(events)" = "handshake up"
e2e_check "the handshake was the peer's, the first" bash -c \
	"'$ctl' -s '$sock' --raw GetEvents limit=1 | python3 -c \"import json,sys; e=json.load(sys.stdin)['events'][0]; sys.exit(not (e['initiator'] == 'peer' and e['first'] and e['endpoint'] == '$(client_wan4 1):51820'))\""
old=$(client_wan4 1)
client_roam_addr 1 77
e2e_check "client 1 reaches the LAN host from its new address" ping_reach "$c" "$TOPO_LAN_HOST4" 10
e2e_check "events: ... roamed" wait_until 5 bash -c "'$ctl' -s '$sock' --raw GetEvents | grep -q roamed"
e2e_check "roamed from the old endpoint to the new" bash -c \
	"'$ctl' -s '$sock' --raw GetEvents | python3 -c \"import json,sys; r=[e for e in json.load(sys.stdin)['events'] if e['event'] == 'roamed']; sys.exit(not (len(r) == 1 and r[0]['old_endpoint'] == '$old:51820' and r[0]['endpoint'] == '192.168.50.77:51820'))\""

e2e_step "disable, enable"
d0=$(drops PEER_DISABLED)
e2e_check "SetPeerEnabled false" rpc SetPeerEnabled public_key="$pub1" enabled=false
e2e_check "ListPeers shows it disabled; wg show still lists it" bash -c \
	"'$ctl' -s '$sock' --raw ListPeers | python3 -c \"import json,sys; sys.exit(json.load(sys.stdin)['peers'][0]['enabled'])\" && wg show $gw peers | grep -qF '$pub1'"
e2e_check "no session: the LAN host's pings to the client are lost" test "$(lan_ping 5)" = 0
e2e_check "nor do the client's own get through" test "$(ping_count "$c" "$TOPO_LAN_HOST4" 5 0.2)" = 0
e2e_check "its packets counted as PEER_DISABLED" bash -c "[ \$('$ctl' -s '$sock' --raw GetStats | python3 -c \"import json,sys; print(json.load(sys.stdin)['drops']['PEER_DISABLED'])\") -gt $d0 ]"
e2e_check "SetPeerEnabled true" rpc SetPeerEnabled public_key="$pub1" enabled=true
e2e_check "the client is back" ping_reach "$c" "$TOPO_LAN_HOST4" 15
e2e_check "an unknown peer: -32602" bash -c "! '$ctl' -s '$sock' SetPeerEnabled public_key=$(wg genkey | wg pubkey) enabled=false 2>&1 | grep -q ok"

e2e_step "add, change (a repeat is no change), remove"
k=$(wg genkey | wg pubkey)
e2e_check "AddPeer" rpc AddPeer public_key="$k" allowed_ips=10.250.0.0/24
e2e_check "AddPeer, the same again" rpc AddPeer public_key="$k" allowed_ips=10.250.0.0/24
e2e_check "AddPeer, another allowed IP" rpc AddPeer public_key="$k" allowed_ips=10.250.0.0/24,10.251.0.0/24
e2e_check "SaveConfig" bash -c "'$ctl' -s '$sock' --raw SaveConfig | python3 -c \"import json,sys; r=json.load(sys.stdin); sys.exit(not (r['ok'] and r['path'] == '$saved' and r['peers'] == 2))\""
e2e_check "RemovePeer" rpc RemovePeer public_key="$k"
want="handshake up roamed disabled enabled handshake up added changed removed"
e2e_check "GetEvents: each event once, in order" test "$(events)" = "$want"
e2e_info "events: $(events)"
log_events() { grep -o 'wgdp.peer: event [0-9]*: peer [^ ]* [a-z]*' "$TOPO_GW_LOG" | awk '{print $3, $6}' | tr -d :; }
api_events() { rpc GetEvents | python3 -c 'import json,sys; [print(e["seq"], e["event"]) for e in json.load(sys.stdin)["events"]]'; }
e2e_check "the log has the same events, once each, in order" bash -c '[ "$1" = "$2" ]' _ "$(log_events | sed 's/ completed//')" "$(api_events | sed 's/ handshake$/ handshake/')"
e2e_info "$(grep 'wgdp.peer: event' "$TOPO_GW_LOG" | sed 's/^/log: /')"
e2e_check "GetEvents from a cursor: only what came after" bash -c \
	"'$ctl' -s '$sock' --raw GetEvents cursor=9 | python3 -c \"import json,sys; d=json.load(sys.stdin); sys.exit(not ([e['event'] for e in d['events']] == ['changed', 'removed'] and d['next_cursor'] == 11 and d['lost'] == 0))\""

e2e_step "the saved file: atomic, root-only, readable by the gateway"
e2e_check "mode 0600, no temporary file left" bash -c "[ \"\$(stat -c %a '$saved')\" = 600 ] && ! ls '$saved'.tmp.* 2>/dev/null"
e2e_check "it holds client 1's roamed endpoint" grep -q 'endpoint = "192.168.50.77:51820"' "$saved"
e2e_check "SIGTERM: exit 0" gw_stop
gw_start "$WGDP_BIN" "$saved"
e2e_check "restarted from it: both peers, the added one with its two allowed IPs" bash -c \
	"wg show $gw allowed-ips | grep -F '$k' | grep -q '10.251.0.0/24' && wg show $gw peers | grep -qF '$pub1'"
e2e_check "the gateway reaches the client at the saved endpoint (LAN host pings first)" \
	bash -c "for i in 1 2 3 4 5 6 7 8 9 10; do ip netns exec $TOPO_NS_LAN ping -c1 -W1 -q $(client_tun4 1) >/dev/null && exit 0; done; exit 1"
e2e_check "the handshake was the gateway's" bash -c \
	"'$ctl' -s '$sock' --raw GetEvents | python3 -c \"import json,sys; e=[e for e in json.load(sys.stdin)['events'] if e['event'] == 'handshake']; sys.exit(not (e and e[0]['initiator'] == 'gateway' and e[0]['endpoint'] == '192.168.50.77:51820'))\""
e2e_check "SIGTERM: exit 0" gw_stop
e2e_finish
