#!/usr/bin/env bash
# Protocol-level interop: tests/interop/wg_interop (the protocol core and a UDP socket) in
# one network namespace, Debian's wireguard-go configured with `wg` in another, joined by a
# veth pair. Usage: run.sh WG_INTEROP_BINARY initiator|responder psk|nopsk
# Exits 77 (skipped) when not root; cleans up everything it made, also on failure.
set -euo pipefail

bin=$1 mode=$2 use_psk=$3
if [ "$(id -u)" -ne 0 ]; then
	echo "interop: needs root for network namespaces; skipped"
	exit 77
fi
for tool in wireguard-go wg ip; do
	command -v "$tool" >/dev/null || { echo "interop: $tool missing (scripts/install-deps.sh)"; exit 1; }
done

tag=$(printf '%05d' $(( $$ % 100000 )))
ns_core=wgdpc$tag ns_go=wgdpg$tag
veth_core=wgvc$tag veth_go=wgvg$tag
ifname=wgi$tag
workdir=$(mktemp -d)
go_pid=

cleanup() {
	set +e
	[ -n "$go_pid" ] && kill "$go_pid" 2>/dev/null && wait "$go_pid" 2>/dev/null
	ip netns pids "$ns_go" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids "$ns_core" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns del "$ns_core" 2>/dev/null
	ip netns del "$ns_go" 2>/dev/null
	rm -f "/var/run/wireguard/$ifname.sock"
	rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns_core"
ip netns add "$ns_go"
ip link add "$veth_core" type veth peer name "$veth_go"
ip link set "$veth_core" netns "$ns_core"
ip link set "$veth_go" netns "$ns_go"
ip -n "$ns_core" addr add 192.168.77.1/24 dev "$veth_core"
ip -n "$ns_go" addr add 192.168.77.2/24 dev "$veth_go"
for ns in "$ns_core" "$ns_go"; do ip -n "$ns" link set lo up; done
ip -n "$ns_core" link set "$veth_core" up
ip -n "$ns_go" link set "$veth_go" up

core_priv=$(wg genkey); core_pub=$(echo "$core_priv" | wg pubkey)
go_priv=$(wg genkey); go_pub=$(echo "$go_priv" | wg pubkey)
echo "$go_priv" > "$workdir/go.key"
psk_args=() wg_psk=()
if [ "$use_psk" = psk ]; then
	wg genpsk > "$workdir/psk"
	psk_args=(--psk "$(cat "$workdir/psk")")
	wg_psk=(preshared-key "$workdir/psk")
fi

echo "interop: $(wireguard-go --version | head -n1), $(wg --version | cut -d' ' -f1-2)"
WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 ip netns exec "$ns_go" \
	wireguard-go -f "$ifname" >"$workdir/go.log" 2>&1 &
go_pid=$!
for _ in $(seq 50); do [ -S "/var/run/wireguard/$ifname.sock" ] && break; sleep 0.1; done
[ -S "/var/run/wireguard/$ifname.sock" ] || { cat "$workdir/go.log"; echo "interop: wireguard-go did not start"; exit 1; }

endpoint=()
[ "$mode" = responder ] && endpoint=(endpoint 192.168.77.1:51821)
ip netns exec "$ns_go" wg set "$ifname" private-key "$workdir/go.key" listen-port 51820 \
	peer "$core_pub" allowed-ips 10.200.0.2/32 "${wg_psk[@]}" "${endpoint[@]}"
ip -n "$ns_go" addr add 10.200.0.1/24 dev "$ifname"
ip -n "$ns_go" link set "$ifname" up

args=(--mode "$mode" --private-key "$core_priv" --peer-public-key "$go_pub"
	--listen-port 51821 --tunnel-local 10.200.0.2 --tunnel-remote 10.200.0.1
	--timeout 20 "${psk_args[@]}")
if [ "$mode" = initiator ]; then
	ip netns exec "$ns_core" "$bin" "${args[@]}" --endpoint 192.168.77.2:51820
	rc=$?
else
	ip netns exec "$ns_core" "$bin" "${args[@]}" &
	core_pid=$!
	sleep 0.3
	# Traffic for the core makes wireguard-go initiate the handshake.
	ip netns exec "$ns_go" ping -c 40 -i 0.5 -W 1 10.200.0.2 >"$workdir/ping.log" 2>&1 &
	rc=0
	wait "$core_pid" || rc=$?
	grep -E 'bytes from' "$workdir/ping.log" | head -n 2 || true
fi
ip netns exec "$ns_go" wg show "$ifname" | sed 's/^/interop: wg: /'
if [ "$rc" -ne 0 ]; then
	echo "interop: wireguard-go log:"; cat "$workdir/go.log"
fi
exit "$rc"
