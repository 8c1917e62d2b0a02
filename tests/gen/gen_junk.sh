#!/usr/bin/env bash
# What wgdp-gen receives on its wan port, however malformed, is counted under a reason and
# never crashes it: net_pcap replays frames made here (truncated Ethernet and ARP, ARP
# that is not for it, IPv6, IPv4 it does not play or cannot read, fragments, WireGuard
# messages of every type with wrong lengths, indices and contents, an unknown type), once
# each, while a short trial runs on net_null (--fake-sessions: no server). Every frame is
# counted exactly once and under the reason it should be.
# Usage: gen_junk.sh GEN_BIN. Exit 0 pass, 1 fail, 77 skipped (no net_pcap driver).
set -euo pipefail
gen=$1
dir=$(mktemp -d /tmp/wgdp-gen-junk.XXXXXX)
prefix=gen$$junk
trap 'rm -rf "$dir" "/var/run/dpdk/$prefix"' EXIT

python3 - "$dir/junk.pcap" "$dir/expect.json" <<'PY'
import json, struct, sys
GEN = bytes.fromhex("020000000a01")        # whatever: wgdp-gen takes every destination MAC
SRV = bytes.fromhex("020000000001")
def ip4(s): return bytes(int(x) for x in s.split("."))
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b + b"\0" * (len(b) % 2)))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def eth(t, p, src=SRV, dst=GEN): return dst + src + struct.pack("!H", t) + p
def ipv4(src, dst, proto, p, frag=0, tot=None):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot or 20 + len(p), 1, frag, 64, proto, 0,
                    ip4(src), ip4(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + p
def udp(sp, dp, p): return struct.pack("!HHHH", sp, dp, 8 + len(p), 0) + p
def wg(src="10.99.0.1", dst="10.99.1.1", sp=51820, dp=51000, p=b""):
    return eth(0x0800, ipv4(src, dst, 17, udp(sp, dp, p)))
def arp(op, sha, spa, tpa):
    return eth(0x0806, struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + ip4(spa) +
               b"\0" * 6 + ip4(tpa), src=sha, dst=b"\xff" * 6)
def le32(v): return struct.pack("<I", v)
other = bytes.fromhex("02000000bb01")
frames = [
    ("not_ours", b"\0" * 10),                                          # not even Ethernet
    ("arp_other", eth(0x0806, b"\0" * 10)),                            # truncated ARP
    ("arp_answered", arp(1, other, "10.99.0.77", "10.99.1.1")),         # who has a peer
    ("arp_other", arp(2, other, "10.99.0.77", "10.99.1.1")),            # a reply, not the server
    ("arp_other", arp(1, other, "10.99.0.77", "10.99.5.5")),            # not ours
    ("arp_other", arp(1, bytes.fromhex("010000000001"), "10.99.0.77", "10.99.1.1")),  # group MAC
    ("not_ours", eth(0x86dd, b"\x60" + b"\0" * 39)),                   # IPv6
    ("not_ours", eth(0x0800, b"\x45" + b"\0" * 10)),                   # truncated IPv4
    ("not_ours", eth(0x0800, ipv4("10.99.0.1", "10.99.1.1", 17, udp(51820, 51000, b"\4\0\0\0" * 8), tot=200))),
    ("not_ours", eth(0x0800, ipv4("10.99.0.1", "10.99.1.1", 17, udp(51820, 51000, b"\4\0\0\0" * 8), frag=0x2000))),
    ("not_ours", wg(src="10.99.0.9", p=b"\4\0\0\0" * 8)),              # not the server
    ("not_ours", wg(sp=1234, p=b"\4\0\0\0" * 8)),                      # not its port
    ("not_ours", wg(dst="10.99.1.9", p=b"\4\0\0\0" * 8)),              # a peer it does not play
    ("not_ours", wg(p=b"\4\0")),                                       # shorter than a type
    ("not_ours", eth(0x0800, ipv4("10.99.0.1", "10.99.1.1", 6, b"\0" * 20))),  # TCP
    ("unknown_index", wg(p=le32(4) + le32(0xdeadbeef) + b"\0" * 24)),  # another peer's index
    ("unknown_index", wg(p=le32(4) + le32(0x00f00000) + b"\0" * 24)),  # peer 0, no such keypair
    ("handshake_other", wg(p=le32(4) + le32(0) + b"\0" * 12)),         # data, too short
    ("handshake_other", wg(p=le32(2) + le32(1) + le32(0x00300001) + b"\0" * 80)),  # response, other peer
    ("hs_refused", wg(p=le32(2) + le32(1) + le32(0x00300000) + b"\0" * 80)),       # response, garbage
    ("handshake_other", wg(p=le32(2) + le32(1) + le32(0x00300000) + b"\0" * 70)),  # wrong length
    ("hs_refused", wg(p=le32(3) + le32(0x00300000) + b"\0" * 56)),     # cookie reply, none asked
    ("handshake_other", wg(p=le32(3) + le32(0x00300000) + b"\0" * 50)), # wrong length
    ("handshake_other", wg(p=le32(1) + b"\0" * 144)),                  # an initiation
    ("handshake_other", wg(p=le32(7) + b"\0" * 60)),                   # no such type
    ("handshake_other", wg(p=b"\xff" * 200)),
]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, (_, fr) in enumerate(frames):
        f.write(struct.pack("<IIII", 1, i, len(fr), len(fr)) + fr)
expect = {}
for reason, _ in frames:
    expect[reason] = expect.get(reason, 0) + 1
json.dump(expect, open(sys.argv[2], "w"))
print("gen_junk: %d frames: %s" % (len(frames), expect))
PY

rc=0
timeout 60 "$gen" -l 0 --no-huge -m 512 --no-pci --no-shconf --file-prefix "$prefix" \
	--log-level lib.eal:error \
	"--vdev=net_pcap0,rx_pcap=$dir/junk.pcap,tx_pcap=$dir/out.pcap" --vdev=net_null1,no-rx=1 -- \
	--wan net_pcap0 --lan net_null1 --fake-sessions --server-mac 02:00:00:00:00:01 \
	--lan-gw-mac 02:00:00:00:00:02 --peers 2 --dir both --rate 2k --duration 0.3 \
	--json "$dir/out.json" >"$dir/gen.out" 2>&1 || rc=$?
sed 's/^/  | /' "$dir/gen.out"
if [ "$rc" != 0 ]; then
	grep -qi "net_pcap" "$dir/gen.out" && ! [ -f "$dir/out.pcap" ] && { echo "gen_junk: no net_pcap; skipped"; exit 77; }
	echo "gen_junk: FAIL (wgdp-gen exited with status $rc)"
	exit 1
fi
python3 - "$dir/out.json" "$dir/expect.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["counters"]
expect = json.load(open(sys.argv[2]))
fails = 0
for k in sorted(set(c) | set(expect)):
    want = expect.get(k, 0)
    ok = c.get(k, 0) == want
    print("  %s %s: %d (want %d)" % ("ok  " if ok else "FAIL", k, c.get(k, 0), want))
    fails += not ok
print("gen_junk: %s" % ("FAIL" if fails else "PASS"))
sys.exit(1 if fails else 0)
PY
