# shellcheck shell=bash
# scripts/gen-netns.sh: topologies for wgdp-gen against a WireGuard server on this machine,
# for tests/gen/ and scripts/bench-gen.sh. Source it; sourcing only defines functions.
#
#   generator (ns gen-TAG-gen)                     server (ns gen-TAG-srv)
#     genTAGgw (DPDK net_af_packet, wan) ---------- genTAGsw 10.99.0.1/16   (wireguard-go:
#     genTAGgl (DPDK net_af_packet, lan) ---------- genTAGsl 10.60.0.1/24    kernel forwarding)
#                                                   (or wgdp on both ends, no addresses)
#   peers: endpoints 10.99.1.1 + k, UDP 51000; tunnel addresses 10.200.0.2 + k
#   the generator's plaintext host: 10.60.0.2
#
# With wgdp over net_memif (gtopo_wgdp_start --memif) no veth is used: the generator and
# the gateway meet on memif sockets in the work dir.
#
# Functions (each exits the script with status 1 and a message on an unexpected failure):
#   gtopo_init NAME            names, work dir, EXIT/INT/TERM traps; reaps leftovers of runs
#                              whose shell is gone
#   gtopo_keys N               N peers' keys ($GTOPO_DIR/peers.key: private, one a line;
#                              peers.wg: the server's [Peer] sections), the server's key
#   gtopo_build                the two namespaces and two veth pairs
#   gtopo_wggo_start [CPUS]    wireguard-go as the server (taskset CPUS), kernel forwarding
#   gtopo_wgdp_start BIN [--memif] [--lcores L] [--cpu N]   wgdp as the server
#   gtopo_server_stop          stop the server
#   gtopo_gen BIN [ARGS...]    run wgdp-gen against the server (the EAL part is made here);
#                              GTOPO_GEN_LCORES (default 0), GTOPO_GEN_MEM (512)
#   gtopo_server_drops         what the server counted as dropped (wgdp: its drop reasons;
#                              wireguard-go: the rx/tx drops of its interfaces)
#   gtopo_cleanup              everything made (the traps call it)

_gt_die() {
	echo "gen-netns: error: $*" >&2
	exit 1
}

_gt_off() {
	ip netns exec "$1" ethtool -K "$2" rx off tx off tso off gso off gro off >/dev/null 2>&1 ||
		_gt_die "ethtool -K $2 failed"
}

gtopo_init() {
	[ "$(id -u)" -eq 0 ] || _gt_die "network namespaces need root"
	GTOPO_TAG=$(printf '%06x' $$)
	GTOPO_NS_GEN=gen-$GTOPO_TAG-gen
	GTOPO_NS_SRV=gen-$GTOPO_TAG-srv
	GTOPO_IF=gen$GTOPO_TAG
	GTOPO_WG_IF=${GTOPO_IF}wg
	GTOPO_DIR=$(mktemp -d "/tmp/wgdp-gen-${1:-run}.XXXXXX")
	echo "$$" >"$GTOPO_DIR/owner"
	GTOPO_SRV_PID=
	GTOPO_SRV_KIND=
	GTOPO_PREFIXES=()
	trap gtopo_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	local ns tag dir
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^gen-([0-9a-f]{6})-(gen|srv)$ ]] || continue
		tag=${BASH_REMATCH[1]}
		kill -0 "$((16#$tag))" 2>/dev/null && [ "$tag" != "$GTOPO_TAG" ] && continue
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	for dir in /tmp/wgdp-gen-*.*; do
		[ -f "$dir/owner" ] && [ "$dir" != "$GTOPO_DIR" ] || continue
		kill -0 "$(cat "$dir/owner")" 2>/dev/null || rm -rf "$dir"
	done
}

gtopo_cleanup() {
	local ns p
	set +e
	trap - EXIT
	for ns in "${GTOPO_NS_GEN:-}" "${GTOPO_NS_SRV:-}"; do
		[ -n "$ns" ] || continue
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -TERM 2>/dev/null || true
	done
	if [ -n "${GTOPO_SRV_PID:-}" ]; then
		kill -TERM "$GTOPO_SRV_PID" 2>/dev/null
		for p in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
			kill -0 "$GTOPO_SRV_PID" 2>/dev/null || break
			sleep 0.2
		done
	fi
	sleep 0.2
	for ns in "${GTOPO_NS_GEN:-}" "${GTOPO_NS_SRV:-}"; do
		[ -n "$ns" ] || continue
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	[ -n "${GTOPO_SRV_PID:-}" ] && kill -KILL "$GTOPO_SRV_PID" 2>/dev/null
	for p in "${GTOPO_PREFIXES[@]}"; do rm -rf "/var/run/dpdk/$p"; done
	rm -f "/var/run/wireguard/$GTOPO_WG_IF.sock" "/var/run/wgdp/$GTOPO_WG_IF.json.sock"
	if [ "${GTOPO_KEEP:-0}" = 1 ]; then
		echo "gen-netns: kept $GTOPO_DIR"
	else
		rm -rf "${GTOPO_DIR:-/nonexistent}"
	fi
	return 0
}

# gtopo_keys N
gtopo_keys() {
	local n=$1 i priv pub a b
	GTOPO_PEERS=$n
	umask 077
	wg genkey >"$GTOPO_DIR/server.key"
	wg pubkey <"$GTOPO_DIR/server.key" >"$GTOPO_DIR/server.pub"
	: >"$GTOPO_DIR/peers.key"
	: >"$GTOPO_DIR/peers.wg"
	: >"$GTOPO_DIR/peers.conf"
	for ((i = 0; i < n; i++)); do
		priv=$(wg genkey)
		pub=$(wg pubkey <<<"$priv")
		a=$(((2 + i) >> 8)) b=$(((2 + i) & 255))
		echo "$priv" >>"$GTOPO_DIR/peers.key"
		printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.200.%d.%d/32\n' "$pub" "$a" "$b" \
			>>"$GTOPO_DIR/peers.wg"
		printf '%s  { public_key = "%s"; allowed_ips = [ "10.200.%d.%d/32" ]; }' \
			"$([ "$i" = 0 ] || echo ,)" "$pub" "$a" "$b" >>"$GTOPO_DIR/peers.conf"
		echo >>"$GTOPO_DIR/peers.conf"
	done
	chmod 600 "$GTOPO_DIR"/*.key
}

gtopo_build() {
	local ns
	for ns in "$GTOPO_NS_GEN" "$GTOPO_NS_SRV"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	done
	ip link add "${GTOPO_IF}gw" netns "$GTOPO_NS_GEN" type veth peer "${GTOPO_IF}sw" netns "$GTOPO_NS_SRV"
	ip link add "${GTOPO_IF}gl" netns "$GTOPO_NS_GEN" type veth peer "${GTOPO_IF}sl" netns "$GTOPO_NS_SRV"
	_gt_off "$GTOPO_NS_GEN" "${GTOPO_IF}gw"
	_gt_off "$GTOPO_NS_GEN" "${GTOPO_IF}gl"
	_gt_off "$GTOPO_NS_SRV" "${GTOPO_IF}sw"
	_gt_off "$GTOPO_NS_SRV" "${GTOPO_IF}sl"
	for ns in gw gl; do ip -n "$GTOPO_NS_GEN" link set "${GTOPO_IF}$ns" up; done
	for ns in sw sl; do ip -n "$GTOPO_NS_SRV" link set "${GTOPO_IF}$ns" up; done
}

_gt_wait_sock() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# gtopo_wggo_start [CPUS]: wireguard-go with the peers, forwarding between its tunnel and
# the lan veth; pinned to CPUS (taskset list) if given.
gtopo_wggo_start() {
	local ns=$GTOPO_NS_SRV cpus=${1:-}
	local -a pin=()
	[ -n "$cpus" ] && pin=(taskset -c "$cpus")
	ip -n "$ns" addr add 10.99.0.1/16 dev "${GTOPO_IF}sw"
	ip -n "$ns" addr add 10.60.0.1/24 dev "${GTOPO_IF}sl"
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0 >/dev/null
	WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 ip netns exec "$ns" "${pin[@]}" \
		wireguard-go -f "$GTOPO_WG_IF" >"$GTOPO_DIR/server.log" 2>&1 &
	GTOPO_SRV_PID=$!
	GTOPO_SRV_KIND=wireguard-go
	_gt_wait_sock "/var/run/wireguard/$GTOPO_WG_IF.sock" || _gt_die "wireguard-go did not start"
	ip netns exec "$ns" wg set "$GTOPO_WG_IF" private-key "$GTOPO_DIR/server.key" listen-port 51820
	ip netns exec "$ns" wg addconf "$GTOPO_WG_IF" "$GTOPO_DIR/peers.wg"
	ip -n "$ns" addr add 10.200.0.1/16 dev "$GTOPO_WG_IF"
	ip -n "$ns" link set "$GTOPO_WG_IF" mtu 1420 up
	# the sink is the kernel's neighbour: let it ARP like any host
	GTOPO_GEN_WAN="net_af_packet0,iface=${GTOPO_IF}gw"
	GTOPO_GEN_LAN="net_af_packet1,iface=${GTOPO_IF}gl"
}

# gtopo_wgdp_start BIN [--memif] [--lcores L] [--cpu N]: wgdp as the server, its ports on
# net_af_packet over the veths (default) or on net_memif sockets shared with the generator.
gtopo_wgdp_start() {
	local bin=$1 memif=0 lcores=0
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--memif) memif=1 ;;
		--lcores) lcores=$2; shift ;;
		*) _gt_die "gtopo_wgdp_start: unknown option $1" ;;
		esac
		shift
	done
	local wan lan prefix=wgdpgen$GTOPO_TAG
	local -a eal=(-l "$lcores" --no-huge -m "${GTOPO_WGDP_MEM:-512}" --no-pci --file-prefix "$prefix")
	GTOPO_PREFIXES+=("$prefix")
	if [ "$memif" = 1 ]; then
		# memif registers a multi-process action, which --no-shconf refuses: the process
		# keeps a shared config under its own prefix (removed by gtopo_cleanup).
		wan="net_memif0,role=server,socket=$GTOPO_DIR/wan.sock,socket-abstract=no,id=0"
		lan="net_memif1,role=server,socket=$GTOPO_DIR/lan.sock,socket-abstract=no,id=0"
		GTOPO_GEN_WAN="net_memif0,role=client,socket=$GTOPO_DIR/wan.sock,socket-abstract=no,id=0"
		GTOPO_GEN_LAN="net_memif1,role=client,socket=$GTOPO_DIR/lan.sock,socket-abstract=no,id=0"
		GTOPO_GEN_SHCONF=1
	else
		eal+=(--no-shconf)
		wan="net_af_packet0,iface=${GTOPO_IF}sw"
		lan="net_af_packet1,iface=${GTOPO_IF}sl"
		GTOPO_GEN_WAN="net_af_packet0,iface=${GTOPO_IF}gw"
		GTOPO_GEN_LAN="net_af_packet1,iface=${GTOPO_IF}gl"
	fi
	cat >"$GTOPO_DIR/wgdp.conf" <<EOF
interface = { name = "$GTOPO_WG_IF"; private_key_file = "$GTOPO_DIR/server.key"; listen_port = 51820; mtu = 1420; };
ports = (
  { name = "wan"; device = "${wan%%,*}"; role = "wan"; addresses = [ "10.99.0.1/16" ]; },
  { name = "lan"; device = "${lan%%,*}"; role = "lan"; addresses = [ "10.60.0.1/24" ]; gateway4 = "10.60.0.2"; }
);
peers = (
$(cat "$GTOPO_DIR/peers.conf")
);
EOF
	: >"$GTOPO_DIR/server.log"
	ip netns exec "$GTOPO_NS_SRV" "$bin" "${eal[@]}" "--vdev=$wan" "--vdev=$lan" -- \
		-c "$GTOPO_DIR/wgdp.conf" --max-peers "$((GTOPO_PEERS + 16))" \
		>"$GTOPO_DIR/server.log" 2>&1 &
	GTOPO_SRV_PID=$!
	GTOPO_SRV_KIND=wgdp
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q 'wgdp: ready' "$GTOPO_DIR/server.log" && return 0
		kill -0 "$GTOPO_SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/  | /' "$GTOPO_DIR/server.log" >&2
	_gt_die "wgdp did not become ready"
}

gtopo_server_stop() {
	[ -n "$GTOPO_SRV_PID" ] || return 0
	kill -TERM "$GTOPO_SRV_PID" 2>/dev/null || true
	wait "$GTOPO_SRV_PID" 2>/dev/null || true
	GTOPO_SRV_PID=
}

# gtopo_gen BIN [ARGS...]: wgdp-gen in the generator's namespace (memif: beside the gateway).
gtopo_gen() {
	local bin=$1 prefix=wgdpgen${GTOPO_TAG}g$RANDOM
	shift
	local -a eal=(-l "${GTOPO_GEN_LCORES:-0}" --no-huge -m "${GTOPO_GEN_MEM:-512}" --no-pci
		--file-prefix "$prefix" --log-level lib.eal:error)
	[ "${GTOPO_GEN_SHCONF:-0}" = 1 ] || eal+=(--no-shconf)
	GTOPO_PREFIXES+=("$prefix")
	ip netns exec "$GTOPO_NS_GEN" "$bin" "${eal[@]}" "--vdev=$GTOPO_GEN_WAN" "--vdev=$GTOPO_GEN_LAN" \
		-- --wan "${GTOPO_GEN_WAN%%,*}" --lan "${GTOPO_GEN_LAN%%,*}" \
		--server-key "@$GTOPO_DIR/server.pub" --keys "$GTOPO_DIR/peers.key" \
		--peers "$GTOPO_PEERS" "$@"
	local rc=$?
	rm -rf "/var/run/dpdk/$prefix"
	return $rc
}

# gtopo_server_drops: one number, what the server says it dropped.
gtopo_server_drops() {
	case $GTOPO_SRV_KIND in
	wgdp)
		# every drop reason, and what its ports missed (net_af_packet: the kernel's ring)
		timeout 10 "${GTOPO_WGDPCTL:-wgdpctl}" -s "/var/run/wgdp/$GTOPO_WG_IF.json.sock" GetStats |
			python3 -c 'import json, sys
r = json.load(sys.stdin)
r = r.get("result", r)
n = sum(r.get("drops", {}).values())
for p in r.get("ports", []):
    n += p.get("imissed", 0) + p.get("oerrors", 0) + p.get("kernel_ring_drops", 0)
print(n)'
		;;
	wireguard-go)
		local n=0 dev v
		for dev in "$GTOPO_WG_IF" "${GTOPO_IF}sw" "${GTOPO_IF}sl"; do
			for v in rx_dropped tx_dropped; do
				n=$((n + $(ip netns exec "$GTOPO_NS_SRV" cat "/sys/class/net/$dev/statistics/$v" 2>/dev/null || echo 0)))
			done
		done
		# a full UDP receive buffer is where wireguard-go loses packets first
		v=$(ip netns exec "$GTOPO_NS_SRV" awk '/^Udp:/ { if (h) { print $4; exit } h = 1 }' /proc/net/snmp)
		echo "$((n + ${v:-0}))"
		;;
	*) echo 0 ;;
	esac
}
