# shellcheck shell=bash disable=SC2015
# scripts/netns.sh: network-namespace test topologies for wgdp's end-to-end tests and demo.
#
# Source it (`. scripts/netns.sh`); sourcing only defines functions. Everything happens in
# topo_init and the functions after it. Needs root, iproute2, ethtool, wireguard-tools,
# wireguard-go and iputils-ping (scripts/install-deps.sh installs them).
#
# The topology (one per shell process; TAG is this shell's pid in 6 hex digits):
#
#   client i (ns wgdpe2e-TAG-c<i>)          wan switch (ns wgdpe2e-TAG-sw)      gateway (ns wgdpe2e-TAG-gw)
#     wdTAGc<i> 192.168.50.(10+i)/24  ---- wdTAGs<i> [bridge wdTAGbr] wdTAGsg ---- wdTAGwan  (DPDK net_af_packet0)
#               fd50::(10+i)/64                                                      = 192.168.50.1, fd50::1 (in wgdp)
#     wdTAGt<i> wireguard-go: 10.200.0.(10+i)/24, fd00:200::(10+i)/64            wdTAGlan  (DPDK net_af_packet1)
#                                                                                    = 10.60.0.1, fd60::1 (in wgdp)
#   LAN host (ns wgdpe2e-TAG-lan)                                                       |
#     wdTAGeth 10.60.0.2/24, fd60::2/64, default via 10.60.0.1 / fd60::1  -----------------+
#
# The gateway's interface (config `interface.name`, UAPI socket /var/run/wireguard/NAME.sock)
# is wdTAGgw. The gateway's two veth ends carry no address and no IPv6, so the kernel never
# answers for the gateway; checksum/segmentation offloads are off on every veth because
# af_packet would otherwise see partial checksums and GSO super-packets.
#
# Functions (all exit the script with status 1 and a message on an unexpected failure):
#   topo_init NAME                 make the run's names, work dir and registry; install the
#                                  EXIT/INT/TERM/HUP traps (replacing the caller's) and an ERR
#                                  trap naming the failed command (set -E); remove leftovers
#                                  (namespaces, sockets, work dirs) of runs whose shell is gone
#   topo_build N [CLIENT_OPTS]     gateway ns + wan switch + LAN host + clients 1..N
#     topo_gateway_ns, topo_wan_switch, topo_lan_host    the parts, in that order
#     topo_client_add I [--psk] [--psk-mismatch] [--unknown]
#                                  client namespace I (1..50) on the switch, with keys;
#                                  --unknown: not put in the gateway's config
#   topo_cleanup                   stop every process in the namespaces, delete namespaces,
#                                  sockets and the work dir; idempotent (the traps call it)
#   topo_leftovers [TAG]           print what of a run still exists (empty when clean)
#   topo_genkey NAME / topo_genpsk NAME   $TOPO_DIR/NAME.key + NAME.pub / NAME.psk
#   topo_hugepages MB              a hugetlbfs of the run's own with MB of free 2 MB pages
#                                  (reserved if need be, given back at cleanup); the gateway
#                                  then starts on hugepages with EAL's shared memory
#                                  (WGDP_HUGE_DIR), as packet capture needs
#   in_ns NS CMD...                run CMD in namespace NS
#   gw_write_config [--endpoints|--endpoints6] [--keepalive N] [--mtu N] [--template FILE]
#                   [--clients "1 2"] [--obfs "s1 = 15; h1 = 5; ..."]
#                                  write $TOPO_GW_CONF (libconfig) for the topology; --obfs
#                                  puts an obfuscation group in its interface
#   gw_start [BIN] [CONF]          start wgdp in the gateway ns (BIN: argument, $WGDP_BIN or
#                                  topo_default_bin, build/app/wgdp/wgdp; "standin":
#                                  wireguard-go + kernel forwarding,
#                                  to test the harness itself), wait for "wgdp: ready"
#   gw_stop [TIMEOUT]              SIGTERM, wait; returns the gateway's exit status
#   gw_signal SIG                  send a signal to the gateway;  gw_alive: is it running
#   gw_log_tail [N]                the last N lines of the gateway's log
#   client_up I [--no-endpoint] [--endpoint HOST:PORT] [--endpoint6] [--allowed-ips LIST]
#             [--keepalive N] [--listen-port N]    start and configure wireguard-go
#             [--awg "jc=4 s1=15 ..."]    amneziawg-go ($AWG_BIN, see e2e_awg_bin) instead,
#                                  with these AmneziaWG keys set over its socket
#   awg_set I "KEY=V ..."          set AmneziaWG keys on client I (amneziawg-go takes them as
#                                  a whole: keys left out become 0)
#   uapi_set SOCKET "KEY=V ..."    one set request (key=value lines) on a UAPI socket
#   client_handshake_time I        latest handshake (unix time, 0 = none) with the gateway
#   client_wait_handshake I [T]    wait up to T s (default 10) for a handshake
#   client_roam_port I PORT        wg set listen-port PORT (new source port)
#   client_roam_addr I HOSTNUM     move the client to a new WAN link with 192.168.50.HOSTNUM
#                                  and fd50::HOSTNUM (the old link is removed)
#   client_ns/client_wanif/client_wgif/client_wan4/client_wan6/client_tun4/client_tun6/
#   client_pub I                   names, addresses and public key of client I
#   lan_iperf3_server              start iperf3 -s on the LAN host and wait until it listens
#   ping_reach NS DEST [DEADLINE]  true once one echo reply comes back (default 10 s)
#   ping_count NS DEST COUNT [INTERVAL] [PING_ARGS...]   print how many replies came back
#   ping_atleast NS DEST COUNT MIN [INTERVAL]            true if >= MIN of COUNT replies
#   wait_until TIMEOUT CMD...      poll CMD every 0.2 s until it succeeds or TIMEOUT s pass
# Test helpers (tests/e2e/*.sh):
#   e2e_preflight [BIN] [TOOLS...] exit 77 unless root with the tools, /dev/net/tun and
#                                  netns; sets WGDP_BIN (BIN, $WGDP_BIN, topo_default_bin)
#   e2e_step TEXT; e2e_info TEXT   headings and information lines
#   e2e_check DESC CMD...          run CMD, print ok/FAIL (CMD's output shown on failure)
#   e2e_require DESC CMD...        the same, but a failure ends the test at once
#   e2e_finish                     print the verdict, exit 0 (all passed) or 1
#   e2e_awg_bin                    set AWG_BIN: amneziawg-go built from ../shared/peers (cached
#                                  in $WGDP_AWG_BIN, default build/amneziawg-go); exit 77
#                                  when ../shared/peers is absent
#   e2e_diag                       dump the gateway's log and the clients' state
#
# Variables set by topo_init: TOPO_TAG, TOPO_DIR (work dir: keys, configs, logs), TOPO_NS_GW,
# TOPO_NS_SW, TOPO_NS_LAN, TOPO_GW_WAN/TOPO_GW_LAN (the gateway's veth ends), TOPO_GW_IFNAME,
# TOPO_GW_CONF, TOPO_GW_LOG, TOPO_GW_PID, TOPO_GW_WAN4/6, TOPO_GW_LAN4/6, TOPO_LAN_HOST4/6,
# TOPO_LISTEN_PORT, TOPO_MTU.
# Environment: WGDP_BIN, WGDP_LCORES (EAL -l, default 0: one lcore), WGDP_LCORE_MAP (EAL
# --lcores, instead of -l), WGDP_QPAIRS (queue pairs per port: one per worker), WGDP_ARGS
# (gateway options after -c, e.g. --max-peers N), WGDP_MEM (-m, 512; 256 on hugepages),
# WGDP_HUGE_DIR (hugepages from this hugetlbfs instead of --no-huge --no-shconf: set by
# topo_hugepages MB),
# WGDP_EAL_EXTRA (more EAL options), WGDP_PORTS=tap (the gateway's ports on net_tap, each
# tap bridged in the gateway namespace to the veth end net_af_packet would use),
# WGDP_READY_TIMEOUT (30 s), TOPO_KEEP=1 (keep the work dir with the logs), TOPO_VERBOSE=1
# (echo topology commands).

# --- internals -------------------------------------------------------------------------------

_topo_say() { printf 'netns: %s\n' "$*"; }
# Messages go to stdout, in order with the tests' output, except inside $(...).
_topo_err() {
	if [ "${BASH_SUBSHELL:-0}" -gt 0 ]; then printf '%s\n' "$*" >&2; else printf '%s\n' "$*"; fi
}
_topo_die() {
	_topo_err "netns: error: $*"
	exit 1
}
_topo_reg() { printf '%s\n' "$*" >>"$TOPO_REG"; }
_topo_run() {
	[ "${TOPO_VERBOSE:-0}" = 1 ] && printf '+ %s\n' "$*" >&2
	"$@"
}

# _topo_alive PID: the process exists and is not a zombie.
_topo_alive() {
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	line=${line##*) }
	case ${line%% *} in Z | X | x | '') return 1 ;; esac
	return 0
}

# _topo_ppid PID: parent pid (empty if gone).
_topo_ppid() {
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || return 0
	line=${line##*) }
	line=${line#* }
	printf '%s\n' "${line%% *}"
}

_topo_require_init() {
	[ -n "${TOPO_DIR:-}" ] && [ -d "$TOPO_DIR" ] || _topo_die "topo_init has not been called"
}

_topo_on_exit() {
	local rc=$?
	topo_cleanup
	exit "$rc"
}

_topo_on_signal() {
	trap '' INT TERM HUP
	printf '\nnetns: caught SIG%s, cleaning up\n' "$1"
	exit "$2"
}

_topo_on_err() {
	local rc=$1 line=$2 cmd=$3
	_topo_err "netns: command failed (exit $rc) at ${BASH_SOURCE[1]:-?}:$line: $cmd"
}

# _topo_kill_ns NS SIGNAL: signal every process inside namespace NS.
_topo_kill_ns() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null) || return 0
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill "-$2" $pids 2>/dev/null || true
}

_topo_reap_stale() {
	local ns tag pid sock
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^wgdpe2e-([0-9a-f]{6})- ]] || continue
		tag=${BASH_REMATCH[1]}
		pid=$((16#$tag))
		if [ "$tag" = "$TOPO_TAG" ] || ! kill -0 "$pid" 2>/dev/null; then
			_topo_say "removing $ns, left over by run $pid which is gone"
			_topo_kill_ns "$ns" KILL
			ip netns del "$ns" 2>/dev/null || true
		fi
	done
	local dir line m
	for dir in /tmp/wgdp-e2e-*; do
		[ -f "$dir/registry" ] && [ "$dir" != "$TOPO_DIR" ] || continue
		read -r line 2>/dev/null <"$dir/registry" || continue
		[[ $line =~ ^run\ ([0-9a-f]{6})\ ([0-9]+)$ ]] || continue
		if ! kill -0 "${BASH_REMATCH[2]}" 2>/dev/null || [ "${BASH_REMATCH[1]}" = "$TOPO_TAG" ]; then
			# A hugetlbfs it mounted (topo_hugepages), and the pages it reserved.
			for m in $(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts); do
				rm -f "$m"/* 2>/dev/null
				umount "$m" 2>/dev/null
			done
			awk '$1 == "hugepages" {print $2}' "$dir/registry" | while read -r m; do
				_topo_hugepages_give_back "$m"
			done
			rm -rf "$dir"
		fi
	done
	for sock in /var/run/wireguard/wd??????*.sock; do
		[ -e "$sock" ] || continue
		tag=${sock#/var/run/wireguard/wd}
		tag=${tag:0:6}
		[[ $tag =~ ^[0-9a-f]{6}$ ]] || continue
		pid=$((16#$tag))
		if [ "$tag" = "$TOPO_TAG" ] || ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$sock"
		fi
	done
}

# _topo_ns_add NS: create a namespace (registered first), lo up, no DAD delays.
_topo_ns_add() {
	local ns=$1
	_topo_reg ns "$ns"
	_topo_run ip netns add "$ns"
	_topo_run ip -n "$ns" link set lo up
	in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 >/dev/null
}

_topo_offloads_off() {
	in_ns "$1" ethtool -K "$2" rx off tx off tso off gso off gro off >/dev/null 2>&1 ||
		_topo_die "ethtool -K $2 (in $1) failed"
}

# _topo_veth NS1 IF1 NS2 IF2: a veth pair created directly inside the two namespaces,
# offloads off on both ends.
_topo_veth() {
	_topo_run ip link add name "$2" netns "$1" type veth peer name "$4" netns "$3"
	_topo_offloads_off "$1" "$2"
	_topo_offloads_off "$3" "$4"
}

_topo_no_ipv6() {
	in_ns "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" >/dev/null
}

_topo_client_check() {
	_topo_require_init
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 50 ] || _topo_die "client number '$1' not in 1..50"
}

# --- names and addresses -----------------------------------------------------------------------

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

client_ns() { printf '%s\n' "$TOPO_PREFIX-c$1"; }
client_wanif() {
	if [ -s "$TOPO_DIR/c$1.wanif" ]; then cat "$TOPO_DIR/c$1.wanif"; else printf '%s\n' "${TOPO_IFP}c$1"; fi
}
client_swif() { printf '%s\n' "${TOPO_IFP}s$1"; }
client_wgif() { printf '%s\n' "${TOPO_IFP}t$1"; }
client_wan4() {
	if [ -s "$TOPO_DIR/c$1.wan4" ]; then cat "$TOPO_DIR/c$1.wan4"; else printf '192.168.50.%d\n' $((10 + $1)); fi
}
client_wan6() {
	if [ -s "$TOPO_DIR/c$1.wan6" ]; then cat "$TOPO_DIR/c$1.wan6"; else printf 'fd50::%d\n' $((10 + $1)); fi
}
client_tun4() { printf '10.200.0.%d\n' $((10 + $1)); }
client_tun6() { printf 'fd00:200::%d\n' $((10 + $1)); }
client_pub() { cat "$TOPO_DIR/c$1.pub"; }
client_port() { cat "$TOPO_DIR/c$1.port" 2>/dev/null || printf '%s\n' "$TOPO_LISTEN_PORT"; }
topo_clients() { cat "$TOPO_DIR/clients" 2>/dev/null || true; }

# --- setup and teardown --------------------------------------------------------------------------

topo_init() {
	local name=${1:-topo}
	[ -z "${TOPO_DIR:-}" ] || _topo_die "topo_init: a topology already exists in this process ($TOPO_DIR)"
	[ "$(id -u)" -eq 0 ] || _topo_die "network namespaces need root"
	# shellcheck disable=SC2034 # for the callers
	TOPO_NAME=$name
	TOPO_TAG=$(printf '%06x' $$)
	TOPO_PREFIX=wgdpe2e-$TOPO_TAG
	TOPO_IFP=wd$TOPO_TAG
	TOPO_NS_GW=$TOPO_PREFIX-gw
	TOPO_NS_SW=$TOPO_PREFIX-sw
	TOPO_NS_LAN=$TOPO_PREFIX-lan
	TOPO_GW_WAN=${TOPO_IFP}wan      # gateway WAN veth end (DPDK net_af_packet0)
	TOPO_GW_LAN=${TOPO_IFP}lan      # gateway LAN veth end (DPDK net_af_packet1)
	TOPO_SW_BR=${TOPO_IFP}br        # the WAN bridge
	TOPO_SW_GW=${TOPO_IFP}sg        # bridge port towards the gateway
	TOPO_LAN_IF=${TOPO_IFP}eth      # the LAN host's interface
	TOPO_GW_IFNAME=${TOPO_IFP}gw    # the gateway's interface name (UAPI socket)
	TOPO_GW_WAN4=192.168.50.1 TOPO_GW_WAN6=fd50::1
	TOPO_GW_LAN4=10.60.0.1 TOPO_GW_LAN6=fd60::1
	TOPO_LAN_HOST4=10.60.0.2 TOPO_LAN_HOST6=fd60::2
	TOPO_LISTEN_PORT=51820
	TOPO_MTU=1420
	TOPO_CLIENT_ALLOWED=10.60.0.0/24,fd60::/64,10.200.0.0/24,fd00:200::/64
	TOPO_DIR=$(mktemp -d "/tmp/wgdp-e2e-$name.XXXXXX")
	TOPO_REG=$TOPO_DIR/registry
	echo "run $TOPO_TAG $$" >"$TOPO_REG"
	TOPO_GW_CONF=$TOPO_DIR/wgdp.conf
	TOPO_GW_LOG=$TOPO_DIR/wgdp.log
	TOPO_GW_PID=
	TOPO_GW_STANDIN=0
	TOPO_GW_MTU=$TOPO_MTU
	TOPO_CLEANED=0
	set -E
	trap '_topo_on_err $? $LINENO "$BASH_COMMAND"' ERR
	trap _topo_on_exit EXIT
	trap '_topo_on_signal INT 130' INT
	trap '_topo_on_signal TERM 143' TERM
	trap '_topo_on_signal HUP 129' HUP
	_topo_reap_stale
	topo_genkey gw
	_topo_say "run $TOPO_TAG ($name): work dir $TOPO_DIR"
}

topo_cleanup() {
	local - kind val ns pid deadline busy
	set +eu
	trap - ERR
	[ "${TOPO_CLEANED:-1}" = 0 ] || return 0
	TOPO_CLEANED=1
	local -a nss=() pids=() socks=() dirs=() links=() mounts=() huge=()
	if [ -f "${TOPO_REG:-}" ]; then
		while read -r kind val; do
			case $kind in
			ns) nss+=("$val") ;;
			pid) pids+=("$val") ;;
			sock) socks+=("$val") ;;
			dir) dirs+=("$val") ;;
			link) links+=("$val") ;;
			mount) mounts+=("$val") ;;
			hugepages) huge+=("$val") ;;
			esac
		done <"$TOPO_REG"
	fi
	# Our own children first (the gateway, wireguard-go, pings), then whatever else runs in
	# the namespaces; SIGTERM, a short grace, then SIGKILL.
	for pid in "${pids[@]}"; do
		[ "$(_topo_ppid "$pid")" = "$$" ] && kill -TERM "$pid" 2>/dev/null
	done
	for ns in "${nss[@]}"; do _topo_kill_ns "$ns" TERM; done
	deadline=$((SECONDS + 3))
	while :; do
		busy=0
		for pid in "${pids[@]}"; do
			[ "$(_topo_ppid "$pid")" = "$$" ] && _topo_alive "$pid" && busy=1
		done
		for ns in "${nss[@]}"; do
			for pid in $(ip netns pids "$ns" 2>/dev/null); do _topo_alive "$pid" && busy=1; done
		done
		[ "$busy" = 0 ] || [ "$SECONDS" -ge "$deadline" ] && break
		sleep 0.05
	done
	if [ "$busy" = 1 ]; then
		for pid in "${pids[@]}"; do
			[ "$(_topo_ppid "$pid")" = "$$" ] && kill -KILL "$pid" 2>/dev/null
		done
		for ns in "${nss[@]}"; do _topo_kill_ns "$ns" KILL; done
	fi
	for pid in "${pids[@]}"; do
		[ "$(_topo_ppid "$pid")" = "$$" ] && wait "$pid" 2>/dev/null
	done
	local i
	for ((i = ${#nss[@]} - 1; i >= 0; i--)); do
		ip netns del "${nss[i]}" 2>/dev/null
	done
	for val in "${links[@]}"; do ip link del "$val" 2>/dev/null; done
	for val in "${mounts[@]}"; do rm -f "$val"/* 2>/dev/null; umount "$val" 2>/dev/null; done
	for val in "${huge[@]}"; do _topo_hugepages_give_back "$val"; done
	for val in "${socks[@]}"; do rm -f "$val"; done
	for val in "${dirs[@]}"; do rm -rf "$val"; done
	if [ -n "${TOPO_DIR:-}" ] && [ -d "$TOPO_DIR" ]; then
		if [ "${TOPO_KEEP:-0}" = 1 ]; then
			sed -i '1s/^run /kept /' "$TOPO_REG"
			_topo_say "kept the logs in $TOPO_DIR"
		else
			rm -rf "$TOPO_DIR"
		fi
	fi
	_topo_say "cleaned up run ${TOPO_TAG:-?}"
	return 0
}

# topo_leftovers [TAG]: print the namespaces, links and sockets of a run that still exist.
topo_leftovers() {
	local tag=${1:-$TOPO_TAG}
	ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^wgdpe2e-$tag-" | sed 's/^/netns /' || true
	ip -o link 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^wd$tag" | sed 's/^/link /' || true
	ls /var/run/wireguard/wd"$tag"*.sock 2>/dev/null | sed 's/^/socket /' || true
	ps -eo pid=,args= | grep -E "wd$tag|wgdp$tag" | grep -v grep | sed 's/^/process /' || true
}

topo_genkey() {
	_topo_require_init
	(umask 077 && wg genkey >"$TOPO_DIR/$1.key")
	wg pubkey <"$TOPO_DIR/$1.key" >"$TOPO_DIR/$1.pub"
}

topo_genpsk() {
	_topo_require_init
	(umask 077 && wg genpsk >"$TOPO_DIR/$1.psk")
}

# topo_gateway_ns: the gateway's namespace. Its veth ends are added by topo_wan_switch and
# topo_lan_host; IPv6 is off for everything created in it.
topo_gateway_ns() {
	_topo_require_init
	_topo_ns_add "$TOPO_NS_GW"
	in_ns "$TOPO_NS_GW" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0 >/dev/null
}

# topo_wan_switch: the WAN segment, a bridge in its own namespace, with the gateway's WAN
# veth attached. Clients attach with topo_client_add.
topo_wan_switch() {
	_topo_require_init
	_topo_ns_add "$TOPO_NS_SW"
	in_ns "$TOPO_NS_SW" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	_topo_run ip -n "$TOPO_NS_SW" link add "$TOPO_SW_BR" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	_topo_run ip -n "$TOPO_NS_SW" link set "$TOPO_SW_BR" up
	_topo_veth "$TOPO_NS_GW" "$TOPO_GW_WAN" "$TOPO_NS_SW" "$TOPO_SW_GW"
	_topo_no_ipv6 "$TOPO_NS_GW" "$TOPO_GW_WAN"
	_topo_run ip -n "$TOPO_NS_GW" link set "$TOPO_GW_WAN" up
	_topo_run ip -n "$TOPO_NS_SW" link set "$TOPO_SW_GW" master "$TOPO_SW_BR" up
}

# topo_lan_host: the plain host behind the gateway's LAN port.
topo_lan_host() {
	_topo_require_init
	local ns=$TOPO_NS_LAN
	_topo_ns_add "$ns"
	_topo_veth "$TOPO_NS_GW" "$TOPO_GW_LAN" "$ns" "$TOPO_LAN_IF"
	_topo_no_ipv6 "$TOPO_NS_GW" "$TOPO_GW_LAN"
	_topo_run ip -n "$TOPO_NS_GW" link set "$TOPO_GW_LAN" up
	_topo_run ip -n "$ns" addr add "$TOPO_LAN_HOST4/24" dev "$TOPO_LAN_IF"
	_topo_run ip -n "$ns" addr add "$TOPO_LAN_HOST6/64" dev "$TOPO_LAN_IF" nodad
	_topo_run ip -n "$ns" link set "$TOPO_LAN_IF" up
	_topo_run ip -n "$ns" route add default via "$TOPO_GW_LAN4" dev "$TOPO_LAN_IF"
	_topo_run ip -n "$ns" -6 route add default via "$TOPO_GW_LAN6" dev "$TOPO_LAN_IF"
}

# topo_client_add I [--psk] [--psk-mismatch] [--unknown]
#   --psk           a preshared key shared with the gateway
#   --psk-mismatch  the gateway and the client get different preshared keys
#   --unknown       the gateway's config does not list this client
topo_client_add() {
	local i=$1
	shift
	_topo_client_check "$i"
	local psk=0 mismatch=0 unknown=0
	while [ $# -gt 0 ]; do
		case $1 in
		--psk) psk=1 ;;
		--psk-mismatch) psk=1 mismatch=1 ;;
		--unknown) unknown=1 ;;
		*) _topo_die "topo_client_add: unknown option $1" ;;
		esac
		shift
	done
	local ns wanif swif
	ns=$(client_ns "$i") wanif=$(client_wanif "$i") swif=$(client_swif "$i")
	_topo_ns_add "$ns"
	_topo_veth "$ns" "$wanif" "$TOPO_NS_SW" "$swif"
	_topo_no_ipv6 "$TOPO_NS_SW" "$swif"
	_topo_run ip -n "$TOPO_NS_SW" link set "$swif" master "$TOPO_SW_BR" up
	_topo_run ip -n "$ns" addr add "$(client_wan4 "$i")/24" dev "$wanif"
	_topo_run ip -n "$ns" addr add "$(client_wan6 "$i")/64" dev "$wanif" nodad
	_topo_run ip -n "$ns" link set "$wanif" up
	_topo_run ip -n "$ns" route add default via "$TOPO_GW_WAN4" dev "$wanif"
	_topo_run ip -n "$ns" -6 route add default via "$TOPO_GW_WAN6" dev "$wanif"
	topo_genkey "c$i"
	rm -f "$TOPO_DIR/c$i.psk" "$TOPO_DIR/c$i.client.psk" "$TOPO_DIR/c$i.unknown"
	if [ "$psk" = 1 ]; then topo_genpsk "c$i"; fi
	if [ "$mismatch" = 1 ]; then topo_genpsk "c$i.client"; fi
	if [ "$unknown" = 1 ]; then : >"$TOPO_DIR/c$i.unknown"; fi
	echo "$i" >>"$TOPO_DIR/clients"
}

# topo_build N [CLIENT_OPTS...]: the whole topology with clients 1..N (options for all).
topo_build() {
	local n=$1 i
	shift
	topo_gateway_ns
	topo_wan_switch
	topo_lan_host
	for ((i = 1; i <= n; i++)); do topo_client_add "$i" "$@"; done
	_topo_say "topology up: gateway ns $TOPO_NS_GW (WAN $TOPO_GW_WAN, LAN $TOPO_GW_LAN)," \
		"switch $TOPO_NS_SW, LAN host $TOPO_NS_LAN, $n client(s)"
}

# --- hugepages, for what needs shared memory (packet capture) ---------------------------------

_topo_hugepages_give_back() {
	local n=$1 cur
	cur=$(cat /proc/sys/vm/nr_hugepages)
	[ "$cur" -ge "$n" ] && echo $((cur - n)) >/proc/sys/vm/nr_hugepages 2>/dev/null
	return 0
}

# topo_hugepages MB: a hugetlbfs of this run's own (2 MB pages) with at least MB free, for
# a gateway started without --no-huge (WGDP_HUGE_DIR): packet capture needs EAL's shared
# memory, which --no-huge does not give. Pages are reserved if too few are free and given
# back at cleanup. Returns 1 (and says why) when they cannot be had.
topo_hugepages() {
	_topo_require_init
	local mb=$1 need free add dir=$TOPO_DIR/huge
	need=$(((mb + 1) / 2))
	free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	if [ "$free" -lt "$need" ]; then
		add=$((need - free))
		echo $(($(cat /proc/sys/vm/nr_hugepages) + add)) >/proc/sys/vm/nr_hugepages 2>/dev/null || true
		_topo_reg hugepages "$add"
		free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
		if [ "$free" -lt "$need" ]; then
			_topo_say "only $free free 2 MB hugepages of the $need needed"
			return 1
		fi
	fi
	mkdir -p "$dir"
	_topo_reg mount "$dir"
	mount -t hugetlbfs -o pagesize=2M nodev "$dir" || return 1
	WGDP_HUGE_DIR=$dir
	export WGDP_HUGE_DIR
	_topo_say "hugetlbfs at $dir, $free pages free"
}

# --- the gateway -----------------------------------------------------------------------------

_topo_default_template() {
	cat <<'EOF'
# wgdp configuration for the end-to-end topology, written by scripts/netns.sh
interface = {
  name = "@IFNAME@";
  private_key = "@PRIVATE_KEY@";
  listen_port = @LISTEN_PORT@;
  mtu = @MTU@;
};
ports = (
  { name = "wan"; device = "net_af_packet0"; role = "wan"; addresses = [ "192.168.50.1/24", "fd50::1/64" ]; },
  { name = "lan"; device = "net_af_packet1"; role = "lan"; addresses = [ "10.60.0.1/24", "fd60::1/64" ]; gateway4 = "10.60.0.2"; }
);
@PEERS@
EOF
}

# gw_write_config [--endpoints|--endpoints6] [--keepalive N] [--mtu N] [--template FILE]
#                 [--clients "I J ..."]
# Writes $TOPO_GW_CONF: every client (or those listed) not added with --unknown is a peer with
# allowed_ips 10.200.0.(10+i)/32 and fd00:200::(10+i)/128. --endpoints gives each peer its
# client's WAN address and port as endpoint (--endpoints6: the IPv6 one). A template has the
# placeholders @IFNAME@ @PRIVATE_KEY@ @LISTEN_PORT@ @MTU@ @WAN_IF@ @LAN_IF@ (the gateway's
# veth ends) @PEERS@. Also writes the same in
# wg(8) format for the stand-in.
gw_write_config() {
	_topo_require_init
	local endpoints='' keepalive='' mtu=$TOPO_MTU template='' clients='' obfs=''
	while [ $# -gt 0 ]; do
		case $1 in
		--obfs) obfs=$2; shift ;;
		--endpoints) endpoints=4 ;;
		--endpoints6) endpoints=6 ;;
		--keepalive) keepalive=$2; shift ;;
		--mtu) mtu=$2; shift ;;
		--template) template=$2; shift ;;
		--clients) clients=$2; shift ;;
		*) _topo_die "gw_write_config: unknown option $1" ;;
		esac
		shift
	done
	[ -n "$clients" ] || clients=$(topo_clients)
	TOPO_GW_MTU=$mtu
	local peers='' wgconf i entry ep sep=''
	wgconf=$(printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n' \
		"$(cat "$TOPO_DIR/gw.key")" "$TOPO_LISTEN_PORT")
	for i in $clients; do
		[ -e "$TOPO_DIR/c$i.unknown" ] && continue
		entry="  { public_key = \"$(client_pub "$i")\";"
		wgconf+=$'\n\n[Peer]\nPublicKey = '"$(client_pub "$i")"
		if [ -s "$TOPO_DIR/c$i.psk" ]; then
			entry+=" preshared_key = \"$(cat "$TOPO_DIR/c$i.psk")\";"
			wgconf+=$'\nPresharedKey = '"$(cat "$TOPO_DIR/c$i.psk")"
		fi
		ep=''
		case $endpoints in
		4) ep="$(client_wan4 "$i"):$(client_port "$i")" ;;
		6) ep="[$(client_wan6 "$i")]:$(client_port "$i")" ;;
		esac
		if [ -n "$ep" ]; then
			entry+=" endpoint = \"$ep\";"
			wgconf+=$'\nEndpoint = '"$ep"
		fi
		entry+=" allowed_ips = [ \"$(client_tun4 "$i")/32\", \"$(client_tun6 "$i")/128\" ];"
		wgconf+=$'\nAllowedIPs = '"$(client_tun4 "$i")/32, $(client_tun6 "$i")/128"
		if [ -n "$keepalive" ]; then
			entry+=" persistent_keepalive = $keepalive;"
			wgconf+=$'\nPersistentKeepalive = '"$keepalive"
		fi
		entry+=" }"
		peers+="$sep$entry"
		sep=$',\n'
	done
	peers=$'peers = (\n'"$peers"$'\n);'
	local tpl
	if [ -n "$template" ]; then
		[ -r "$template" ] || _topo_die "gw_write_config: cannot read template $template"
		tpl=$(cat "$template")
	else
		tpl=$(_topo_default_template)
	fi
	tpl=${tpl//@IFNAME@/"$TOPO_GW_IFNAME"}
	tpl=${tpl//@PRIVATE_KEY@/"$(cat "$TOPO_DIR/gw.key")"}
	tpl=${tpl//@LISTEN_PORT@/"$TOPO_LISTEN_PORT"}
	tpl=${tpl//@MTU@/"$mtu"}
	tpl=${tpl//@WAN_IF@/"$TOPO_GW_WAN"}
	tpl=${tpl//@LAN_IF@/"$TOPO_GW_LAN"}
	tpl=${tpl//@PEERS@/"$peers"}
	# WGDP_PORTS=tap: the same ports on net_tap (gw_start bridges the taps to the veths)
	[ "${WGDP_PORTS:-af_packet}" = tap ] && tpl=${tpl//net_af_packet/net_tap}
	if [ -n "$obfs" ]; then
		local head='interface = {'
		tpl=${tpl/"$head"/"$head"$'\n'"  obfuscation = { $obfs };"}
	fi
	(umask 077 && printf '%s\n' "$tpl" >"$TOPO_GW_CONF")
	(umask 077 && printf '%s\n' "$wgconf" >"$TOPO_DIR/standin-wg.conf")
}

gw_alive() { [ -n "${TOPO_GW_PID:-}" ] && _topo_alive "$TOPO_GW_PID"; }

gw_log_tail() { tail -n "${1:-40}" "$TOPO_GW_LOG" 2>/dev/null || true; }

# topo_default_bin: the gateway meson builds in the source tree's build/ directory.
topo_default_bin() {
	local root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	if [ -d "$root/build/app/wgdp" ]; then
		printf '%s\n' "$root/build/app/wgdp/wgdp"
	else
		printf '%s\n' "$root/build/app/wgdp"
	fi
}

# gw_start [BIN] [CONF]
gw_start() {
	_topo_require_init
	local bin=${1:-${WGDP_BIN:-}} conf=${2:-$TOPO_GW_CONF}
	[ -n "$bin" ] || bin=$(topo_default_bin)
	[ -z "${TOPO_GW_PID:-}" ] || _topo_die "gw_start: the gateway already runs (pid $TOPO_GW_PID)"
	[ -r "$conf" ] || _topo_die "gw_start: no configuration $conf (gw_write_config)"
	# The sockets the gateway makes by default (docs/configuration.md).
	_topo_reg sock "/var/run/wireguard/$TOPO_GW_IFNAME.sock"
	_topo_reg sock "/var/run/wgdp/$TOPO_GW_IFNAME.json.sock"
	: >"$TOPO_GW_LOG"
	if [ "$bin" = standin ]; then
		_topo_standin_start
		return 0
	fi
	[ -f "$bin" ] && [ -x "$bin" ] || _topo_die "gw_start: gateway binary '$bin' not found or not executable"
	bin=$(readlink -f "$bin")
	_topo_reg dir "/var/run/dpdk/wgdp$TOPO_TAG"
	# WGDP_LCORE_MAP (EAL --lcores, e.g. "0@0,1@1,2@1") places more lcores than the machine
	# has cores; each worker needs its own queue pair on every port (qpairs).
	local -a lcores=(-l "${WGDP_LCORES:-0}")
	local qp=""
	[ -n "${WGDP_LCORE_MAP:-}" ] && lcores=("--lcores=$WGDP_LCORE_MAP")
	[ -n "${WGDP_QPAIRS:-}" ] && qp=",qpairs=$WGDP_QPAIRS"
	# Without hugepages EAL's memory is the process's own (--no-shconf: no multi-process);
	# with WGDP_HUGE_DIR (topo_hugepages) it is shared, as packet capture needs.
	local -a mem=(--no-huge -m "${WGDP_MEM:-512}" --no-shconf)
	[ -n "${WGDP_HUGE_DIR:-}" ] && mem=(--huge-dir "$WGDP_HUGE_DIR" -m "${WGDP_MEM:-256}")
	local -a cmd=("$bin" "${lcores[@]}" "${mem[@]}" --no-pci --file-prefix "wgdp$TOPO_TAG")
	if [ "${WGDP_PORTS:-af_packet}" = tap ]; then
		cmd+=("--vdev=net_tap0,iface=${TOPO_IFP}tw" "--vdev=net_tap1,iface=${TOPO_IFP}tl")
	else
		cmd+=("--vdev=net_af_packet0,iface=$TOPO_GW_WAN$qp" "--vdev=net_af_packet1,iface=$TOPO_GW_LAN$qp")
	fi
	# shellcheck disable=SC2206
	[ -n "${WGDP_EAL_EXTRA:-}" ] && cmd+=($WGDP_EAL_EXTRA)
	cmd+=(-- -c "$conf")
	# shellcheck disable=SC2206
	[ -n "${WGDP_ARGS:-}" ] && cmd+=($WGDP_ARGS)
	_topo_say "starting the gateway: ip netns exec $TOPO_NS_GW ${cmd[*]}"
	ip netns exec "$TOPO_NS_GW" "${cmd[@]}" >"$TOPO_GW_LOG" 2>&1 &
	TOPO_GW_PID=$!
	_topo_reg pid "$TOPO_GW_PID"
	local deadline=$((SECONDS + ${WGDP_READY_TIMEOUT:-30}))
	while ! grep -q 'wgdp: ready' "$TOPO_GW_LOG"; do
		if ! _topo_alive "$TOPO_GW_PID"; then
			local rc=0
			wait "$TOPO_GW_PID" || rc=$?
			TOPO_GW_PID=
			printf 'netns: the gateway exited (status %s) before it was ready; its log:\n' "$rc"
			sed 's/^/  | /' "$TOPO_GW_LOG"
			_topo_die "gateway did not start"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			printf 'netns: no "wgdp: ready" within %s s; the log so far:\n' "${WGDP_READY_TIMEOUT:-30}"
			sed 's/^/  | /' "$TOPO_GW_LOG"
			_topo_die "gateway did not become ready"
		fi
		sleep 0.1
	done
	[ "${WGDP_PORTS:-af_packet}" != tap ] || _topo_tap_bridge
	_topo_say "gateway ready (pid $TOPO_GW_PID, log $TOPO_GW_LOG)"
}

# WGDP_PORTS=tap: once the gateway has started its ports (net_tap made the two tap
# interfaces in the gateway namespace at EAL start, and set their MACs when the ports
# started), bridge each to its veth end, so the topology is the same as with net_af_packet.
# The kernel side of a tap and the bridges carry no address and no IPv6.
_topo_tap_bridge() {
	local ns=$TOPO_NS_GW side tap veth br
	for side in w l; do
		tap=${TOPO_IFP}t$side br=${TOPO_IFP}b$side
		veth=$TOPO_GW_WAN
		[ "$side" = l ] && veth=$TOPO_GW_LAN
		_topo_run ip -n "$ns" link add "$br" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
		in_ns "$ns" sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1" "net.ipv6.conf.$tap.disable_ipv6=1" >/dev/null
		_topo_offloads_off "$ns" "$tap"
		# net_tap gives the kernel side of the tap the DPDK port's own MAC; a bridge would
		# take that MAC as its own and keep every frame for the gateway instead of passing
		# it to the tap. The kernel side gets a MAC of its own (locally administered).
		_topo_run ip -n "$ns" link set "$tap" address "02:74:${TOPO_TAG:0:2}:${TOPO_TAG:2:2}:${TOPO_TAG:4:2}:0$([ "$side" = w ] && echo 1 || echo 2)"
		_topo_run ip -n "$ns" link set "$tap" master "$br" up
		_topo_run ip -n "$ns" link set "$veth" master "$br" up
		_topo_run ip -n "$ns" link set "$br" up
	done
	_topo_say "net_tap: ${TOPO_IFP}tw and ${TOPO_IFP}tl bridged to $TOPO_GW_WAN and $TOPO_GW_LAN"
}

# The stand-in gateway: wireguard-go and the kernel's forwarding in the gateway namespace,
# with the same addresses, keys, peers and MTU. It checks the harness, not wgdp.
_topo_standin_start() {
	local ns=$TOPO_NS_GW dev
	# shellcheck disable=SC2034 # for the callers: 1 while the stand-in runs
	TOPO_GW_STANDIN=1
	for dev in "$TOPO_GW_WAN" "$TOPO_GW_LAN"; do
		in_ns "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=0" "net.ipv6.conf.$dev.accept_dad=0" >/dev/null
	done
	in_ns "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=0 net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.send_redirects=0 >/dev/null
	ip -n "$ns" addr add "$TOPO_GW_WAN4/24" dev "$TOPO_GW_WAN"
	ip -n "$ns" addr add "$TOPO_GW_WAN6/64" dev "$TOPO_GW_WAN" nodad
	ip -n "$ns" addr add "$TOPO_GW_LAN4/24" dev "$TOPO_GW_LAN"
	ip -n "$ns" addr add "$TOPO_GW_LAN6/64" dev "$TOPO_GW_LAN" nodad
	_topo_say "starting the STAND-IN gateway (wireguard-go + kernel forwarding), not wgdp"
	LOG_LEVEL=verbose WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		ip netns exec "$ns" wireguard-go -f "$TOPO_GW_IFNAME" >"$TOPO_GW_LOG" 2>&1 &
	TOPO_GW_PID=$!
	_topo_reg pid "$TOPO_GW_PID"
	wait_until 10 test -S "/var/run/wireguard/$TOPO_GW_IFNAME.sock" ||
		_topo_die "stand-in wireguard-go did not start: $(cat "$TOPO_GW_LOG")"
	in_ns "$ns" wg setconf "$TOPO_GW_IFNAME" "$TOPO_DIR/standin-wg.conf"
	ip -n "$ns" link set "$TOPO_GW_IFNAME" mtu "$TOPO_GW_MTU" up
	ip -n "$ns" route add 10.200.0.0/24 dev "$TOPO_GW_IFNAME"
	ip -n "$ns" -6 route add fd00:200::/64 dev "$TOPO_GW_IFNAME"
	echo "wgdp: ready (stand-in: wireguard-go + kernel forwarding)" >>"$TOPO_GW_LOG"
	_topo_say "stand-in gateway ready (pid $TOPO_GW_PID)"
}

gw_signal() {
	gw_alive || _topo_die "gw_signal: the gateway is not running"
	kill "-$1" "$TOPO_GW_PID"
}

# gw_stop [TIMEOUT]: SIGTERM and wait (default 15 s, then SIGKILL). Returns the exit status.
gw_stop() {
	local timeout=${1:-15} pid=${TOPO_GW_PID:-} rc=0
	[ -n "$pid" ] || _topo_die "gw_stop: the gateway was not started"
	kill -TERM "$pid" 2>/dev/null || true
	local deadline=$((SECONDS + timeout))
	while _topo_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
	if _topo_alive "$pid"; then
		_topo_say "the gateway did not stop within $timeout s of SIGTERM; SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	TOPO_GW_PID=
	_topo_say "gateway stopped, exit status $rc"
	return "$rc"
}

# --- clients -----------------------------------------------------------------------------------

# client_up I [--no-endpoint] [--endpoint HOST:PORT] [--endpoint6] [--allowed-ips LIST]
#             [--keepalive N] [--listen-port N]
# Starts wireguard-go in client I's namespace and configures it with wg: the gateway as its
# one peer (endpoint 192.168.50.1:51820 unless told otherwise), the tunnel addresses
# 10.200.0.(10+i)/24 and fd00:200::(10+i)/64, and a route through the tunnel for every
# allowed-ips prefix outside the tunnel subnets.
client_up() {
	local i=$1
	shift
	_topo_client_check "$i"
	local endpoint="$TOPO_GW_WAN4:$TOPO_LISTEN_PORT" allowed=$TOPO_CLIENT_ALLOWED
	local keepalive='' port awg=''
	port=$(client_port "$i")
	while [ $# -gt 0 ]; do
		case $1 in
		--awg) awg=$2; shift ;;
		--no-endpoint) endpoint='' ;;
		--endpoint) endpoint=$2; shift ;;
		--endpoint6) endpoint="[$TOPO_GW_WAN6]:$TOPO_LISTEN_PORT" ;;
		--allowed-ips) allowed=$2; shift ;;
		--keepalive) keepalive=$2; shift ;;
		--listen-port) port=$2; shift ;;
		*) _topo_die "client_up: unknown option $1" ;;
		esac
		shift
	done
	local ns wgif sock pid
	ns=$(client_ns "$i") wgif=$(client_wgif "$i")
	sock=/var/run/wireguard/$wgif.sock
	_topo_reg sock "$sock"
	if [ -n "$awg" ]; then
		# amneziawg-go's socket is in /var/run/amneziawg; wg finds it through a link.
		[ -n "${AWG_BIN:-}" ] || _topo_die "client_up --awg: no AWG_BIN (call e2e_awg_bin)"
		_topo_reg sock "/var/run/amneziawg/$wgif.sock"
		mkdir -p /var/run/wireguard
		LOG_LEVEL=verbose ip netns exec "$ns" "$AWG_BIN" -f "$wgif" \
			>"$TOPO_DIR/c$i.wireguard-go.log" 2>&1 &
		pid=$!
		wait_until 10 test -S "/var/run/amneziawg/$wgif.sock" ||
			_topo_die "amneziawg-go for client $i did not start: $(cat "$TOPO_DIR/c$i.wireguard-go.log")"
		ln -sf "/var/run/amneziawg/$wgif.sock" "$sock"
	else
		LOG_LEVEL=verbose WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
			ip netns exec "$ns" wireguard-go -f "$wgif" >"$TOPO_DIR/c$i.wireguard-go.log" 2>&1 &
		pid=$!
	fi
	_topo_reg pid "$pid"
	echo "$pid" >"$TOPO_DIR/c$i.pid"
	wait_until 10 test -S "$sock" ||
		_topo_die "wireguard-go for client $i did not start: $(cat "$TOPO_DIR/c$i.wireguard-go.log")"
	local -a args=(private-key "$TOPO_DIR/c$i.key" listen-port "$port"
		peer "$(cat "$TOPO_DIR/gw.pub")" allowed-ips "$allowed")
	if [ -s "$TOPO_DIR/c$i.client.psk" ]; then
		args+=(preshared-key "$TOPO_DIR/c$i.client.psk")
	elif [ -s "$TOPO_DIR/c$i.psk" ]; then
		args+=(preshared-key "$TOPO_DIR/c$i.psk")
	fi
	[ -n "$endpoint" ] && args+=(endpoint "$endpoint")
	[ -n "$keepalive" ] && args+=(persistent-keepalive "$keepalive")
	_topo_run in_ns "$ns" wg set "$wgif" "${args[@]}"
	[ -n "$awg" ] && awg_set "$i" "$awg"
	echo "$port" >"$TOPO_DIR/c$i.port"
	_topo_run ip -n "$ns" addr add "$(client_tun4 "$i")/24" dev "$wgif"
	_topo_run ip -n "$ns" addr add "$(client_tun6 "$i")/64" dev "$wgif" nodad
	_topo_run ip -n "$ns" link set "$wgif" up
	local prefix
	for prefix in ${allowed//,/ }; do
		case $prefix in
		10.200.0.0/24 | fd00:200::/64) ;; # on the interface's own subnet already
		*:*) _topo_run ip -n "$ns" -6 route replace "$prefix" dev "$wgif" ;;
		*) _topo_run ip -n "$ns" route replace "$prefix" dev "$wgif" ;;
		esac
	done
	_topo_say "client $i up: $ns, $wgif $(client_tun4 "$i") $(client_tun6 "$i")," \
		"WAN $(client_wan4 "$i") port $port, endpoint ${endpoint:-none}"
}

# uapi_set SOCKET "KEY=V ...": one set request; fails unless the answer is errno=0.
uapi_set() {
	python3 - "$1" "$2" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(("set=1\n" + "".join(kv + "\n" for kv in sys.argv[2].split()) + "\n").encode())
reply = b""
while not reply.endswith(b"\n\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    reply += chunk
sys.exit(0 if reply.strip() == b"errno=0" else print(reply.decode().strip()) or 1)
PYEOF
}

# awg_set I "KEY=V ...": AmneziaWG keys on client I's amneziawg-go.
awg_set() {
	uapi_set "/var/run/amneziawg/$(client_wgif "$1").sock" "$2" ||
		_topo_die "client $1: amneziawg-go refused $2"
}

client_wg() {
	local i=$1
	shift
	in_ns "$(client_ns "$i")" wg "$@"
}

client_handshake_time() {
	local out
	out=$(client_wg "$1" show "$(client_wgif "$1")" latest-handshakes 2>/dev/null) || out=''
	out=${out%%$'\n'*}
	out=${out##*[[:space:]]}
	printf '%s\n' "${out:-0}"
}

_topo_has_handshake() { [ "$(client_handshake_time "$1")" != 0 ]; }

client_wait_handshake() {
	wait_until "${2:-10}" _topo_has_handshake "$1"
}

# client_roam_port I PORT: the client sends from a new UDP port from now on.
client_roam_port() {
	client_wg "$1" set "$(client_wgif "$1")" listen-port "$2"
	echo "$2" >"$TOPO_DIR/c$1.port"
	_topo_say "client $1 now uses UDP port $2"
}

# client_roam_addr I HOSTNUM: the client moves to another link, as a laptop from one network
# to another: a new veth to the WAN switch with 192.168.50.HOSTNUM/24 and fd50::HOSTNUM/64
# comes up, the old link goes away. The gateway sees the client's packets come from the new
# address. wireguard-go (Debian's 0.0.20220316) keeps sending from the old, now deleted,
# source address ("sticky socket") until its peer's endpoint is set again, so the client's
# endpoint for the gateway is re-set to the same value, as a roaming client's network hook
# would do; the gateway still has to learn the new address from the authenticated packets.
client_roam_addr() {
	local i=$1 num=$2 old ns oldif newif swif k
	ns=$(client_ns "$i") old=$(client_wan4 "$i") oldif=$(client_wanif "$i")
	k=$(($(cat "$TOPO_DIR/c$i.roams" 2>/dev/null || echo 0) + 1))
	echo "$k" >"$TOPO_DIR/c$i.roams"
	newif=${TOPO_IFP}c${i}r$k swif=${TOPO_IFP}s${i}r$k
	_topo_veth "$ns" "$newif" "$TOPO_NS_SW" "$swif"
	_topo_no_ipv6 "$TOPO_NS_SW" "$swif"
	ip -n "$TOPO_NS_SW" link set "$swif" master "$TOPO_SW_BR" up
	ip -n "$ns" addr add "192.168.50.$num/24" dev "$newif"
	ip -n "$ns" addr add "fd50::$num/64" dev "$newif" nodad
	ip -n "$ns" link set "$newif" up
	ip -n "$ns" link del "$oldif"
	ip -n "$ns" route replace default via "$TOPO_GW_WAN4" dev "$newif"
	ip -n "$ns" -6 route replace default via "$TOPO_GW_WAN6" dev "$newif"
	local wgif ep
	wgif=$(client_wgif "$i")
	ep=$(client_wg "$i" show "$wgif" endpoints | awk 'NR == 1 {print $2}')
	if [ -n "$ep" ] && [ "$ep" != "(none)" ]; then
		client_wg "$i" set "$wgif" peer "$(cat "$TOPO_DIR/gw.pub")" endpoint "$ep"
	fi
	echo "$newif" >"$TOPO_DIR/c$i.wanif"
	echo "192.168.50.$num" >"$TOPO_DIR/c$i.wan4"
	echo "fd50::$num" >"$TOPO_DIR/c$i.wan6"
	_topo_say "client $i moved from $old ($oldif) to 192.168.50.$num ($newif)"
}

# --- the LAN host --------------------------------------------------------------------------------

_topo_iperf3_listening() {
	in_ns "$TOPO_NS_LAN" ss -Hltn 'sport = :5201' 2>/dev/null | grep -q .
}

lan_iperf3_server() {
	_topo_require_init
	ip netns exec "$TOPO_NS_LAN" iperf3 -s >"$TOPO_DIR/iperf3-server.log" 2>&1 &
	_topo_reg pid "$!"
	wait_until 10 _topo_iperf3_listening || _topo_die "iperf3 server did not start"
}

# --- polling and pings --------------------------------------------------------------------------

# wait_until TIMEOUT CMD...: poll every 0.2 s.
wait_until() {
	local timeout=$1
	shift
	local deadline=$((SECONDS + timeout))
	while :; do
		"$@" && return 0
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# ping_reach NS DEST [DEADLINE]: one reply within DEADLINE seconds (echoes every 0.2 s).
ping_reach() {
	in_ns "$1" ping -n -q -c 1 -i 0.2 -w "${3:-10}" "$2" >/dev/null 2>&1
}

# ping_count NS DEST COUNT [INTERVAL] [PING_ARGS...]: prints the number of replies.
ping_count() {
	local ns=$1 dest=$2 count=$3 interval=${4:-0.2} out
	shift 4 2>/dev/null || shift $#
	local deadline
	deadline=$(awk -v c="$count" -v i="$interval" 'BEGIN { printf "%d", c * i + 3 }')
	out=$(in_ns "$ns" ping -n -q -c "$count" -i "$interval" -W 1 -w "$deadline" "$@" "$dest" 2>&1 || true)
	printf '%s\n' "$out" | awk '/packets transmitted/ { for (i = 1; i <= NF; i++) if ($i ~ /^received/) print $(i-1) }' |
		grep . || echo 0
}

# ping_atleast NS DEST COUNT MIN [INTERVAL]
ping_atleast() {
	local got
	got=$(ping_count "$1" "$2" "$3" "${5:-0.2}")
	e2e_info "$got of $3 echo replies from $2 (need $4)"
	[ "$got" -ge "$4" ]
}

# --- test helpers -------------------------------------------------------------------------------

# e2e_preflight [BIN] [TOOLS...]
e2e_awg_bin() {
	local root peers out
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	peers=$root/../shared/peers/amneziawg-go
	if [ ! -f "$peers/build.sh" ]; then
		echo "e2e ${E2E_NAME:-awg}: ../shared/peers/amneziawg-go is absent (the AmneziaWG" \
			"peer is built from there); skipped"
		exit 77
	fi
	out=${WGDP_AWG_BIN:-$root/build/amneziawg-go}
	[ -x "$out" ] || echo "e2e: building amneziawg-go into $out (about a minute, once)"
	AWG_BIN=$(bash "$peers/build.sh" "$out" | tail -n 1) && [ -x "$AWG_BIN" ] ||
		_topo_die "amneziawg-go did not build (bash $peers/build.sh $out)"
}

e2e_preflight() {
	local bin=${1:-} tool
	[ $# -gt 0 ] && shift
	E2E_NAME=${E2E_NAME:-$(basename "$0" .sh)}
	E2E_CHECKS=0 E2E_FAILS=0
	if [ "$(id -u)" -ne 0 ]; then
		echo "e2e $E2E_NAME: needs root (network namespaces); skipped"
		exit 77
	fi
	for tool in ip wg wireguard-go ethtool ping ss awk "$@"; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "e2e $E2E_NAME: $tool missing (bash scripts/install-deps.sh); skipped"
			exit 77
		fi
	done
	if [ ! -c /dev/net/tun ]; then
		echo "e2e $E2E_NAME: no /dev/net/tun for wireguard-go; skipped"
		exit 77
	fi
	local probe
	probe=wgdpe2e-probe-$$
	if ! ip netns add "$probe" 2>/dev/null; then
		echo "e2e $E2E_NAME: cannot create network namespaces here; skipped"
		exit 77
	fi
	ip netns del "$probe" 2>/dev/null || true
	WGDP_BIN=${bin:-${WGDP_BIN:-$(topo_default_bin)}}
	if [ "$WGDP_BIN" != standin ] && ! { [ -f "$WGDP_BIN" ] && [ -x "$WGDP_BIN" ]; }; then
		echo "e2e $E2E_NAME: gateway binary $WGDP_BIN not found (build it, or pass its path)" >&2
		exit 1
	fi
	[ "$WGDP_BIN" = standin ] || WGDP_BIN=$(readlink -f "$WGDP_BIN")
	export WGDP_BIN
	echo "e2e $E2E_NAME: gateway $WGDP_BIN"
}

e2e_step() { printf '== %s\n' "$*"; }

e2e_info() {
	if { true >&3; } 2>/dev/null; then
		printf '       %s\n' "$*" >&3
	else
		printf '       %s\n' "$*"
	fi
}

# e2e_check DESC CMD...: CMD's output is shown only when it fails; e2e_info lines always.
# A failure is counted (e2e_finish reports it) and the test goes on: returns 0.
e2e_check() {
	_e2e_run "$@" || true
}

# e2e_require DESC CMD...: the same, but a failure ends the test at once.
e2e_require() {
	_e2e_run "$@" && return 0
	e2e_diag
	echo "e2e ${E2E_NAME:-?}: FAIL (a required check failed)"
	exit 1
}

_e2e_run() {
	local desc=$1 out info rc=0
	shift
	E2E_CHECKS=$((${E2E_CHECKS:-0} + 1))
	out=$(mktemp "$TOPO_DIR/check.XXXXXX")
	info=$(mktemp "$TOPO_DIR/info.XXXXXX")
	"$@" 3>"$info" >"$out" 2>&1 || rc=$?
	if [ "$rc" = 0 ]; then
		printf '  ok   %s\n' "$desc"
		cat "$info"
	else
		E2E_FAILS=$((${E2E_FAILS:-0} + 1))
		printf '  FAIL %s (status %s)\n' "$desc" "$rc"
		cat "$info"
		sed 's/^/       | /' "$out"
	fi
	rm -f "$out" "$info"
	return "$rc"
}

e2e_diag() {
	local i
	echo "---- diagnostics ----"
	if [ -s "${TOPO_GW_LOG:-}" ]; then
		echo "gateway log (last 60 lines of $TOPO_GW_LOG):"
		gw_log_tail 60 | sed 's/^/  | /'
	fi
	if [ -S "/var/run/wireguard/${TOPO_GW_IFNAME:-none}.sock" ]; then
		echo "wg show $TOPO_GW_IFNAME (the gateway's UAPI):"
		timeout 5 wg show "$TOPO_GW_IFNAME" 2>&1 | sed 's/^/  | /'
	fi
	for i in $(topo_clients); do
		[ -S "/var/run/wireguard/$(client_wgif "$i").sock" ] || continue
		echo "client $i: wg show:"
		timeout 5 ip netns exec "$(client_ns "$i")" wg show "$(client_wgif "$i")" 2>&1 | sed 's/^/  | /'
		echo "client $i: wireguard-go log (last 15 lines):"
		tail -n 15 "$TOPO_DIR/c$i.wireguard-go.log" 2>/dev/null | sed 's/^/  | /'
	done
	echo "---------------------"
}

e2e_finish() {
	if [ "${E2E_FAILS:-0}" -gt 0 ]; then
		e2e_diag
		echo "e2e ${E2E_NAME:-?}: FAIL ($E2E_FAILS of $E2E_CHECKS checks failed)"
		exit 1
	fi
	echo "e2e ${E2E_NAME:-?}: PASS ($E2E_CHECKS checks)"
	exit 0
}
