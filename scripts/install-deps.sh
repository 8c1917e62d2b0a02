#!/usr/bin/env bash
# Installs every Debian package that wgdp's build, tests and demo need.
# Idempotent: only missing packages are installed; a machine that has them all is left alone.
set -euo pipefail

PKGS=(
	# build
	build-essential meson ninja-build pkg-config clang libclang-rt-dev
	# libraries (DESIGN.md, dependencies)
	libdpdk-dev dpdk libipsec-mb-dev libsodium-dev libb2-dev libconfig-dev libjansson-dev libpcap-dev
	# the HTTP listener (JSON-RPC as wg-api serves it, Prometheus metrics) and its TLS
	libmicrohttpd-dev libgnutls28-dev
	# real peers and test tooling
	wireguard-go wireguard-tools iproute2 iputils-ping iperf3 python3 procps
	# end-to-end tests: offloads off on the veths the gateway's af_packet ports use;
	# tcpdump for the AmneziaWG fingerprint check and to read the packet captures
	ethtool tcpdump
	# the AmneziaWG peer (amneziawg-go, built from ../shared/peers at test time, offline)
	golang-go golang-golang-x-crypto-dev golang-golang-x-net-dev golang-golang-x-sys-dev
	golang-github-tevino-abool-dev
	# the operator's tools in the e2e tests: curl against the HTTP listener, certtool for
	# its test certificates, a Prometheus server scraping the gateway, DPDK's
	# dpdk-telemetry.py and dpdk-dumpcap (both in dpdk-dev)
	curl gnutls-bin prometheus dpdk-dev
	# man pages (made at build time), the Debian package and the install tests:
	# dpkg-buildpackage, dh with dh_installsystemd, systemd-analyze verify, man, git ls-files
	scdoc debhelper dpkg-dev systemd man-db git
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
