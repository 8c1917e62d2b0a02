#!/usr/bin/env bash
# wgdp-gen with net_null as the sink (no server: --fake-sessions gives the peers random
# session keys): 10 peers, both directions at a fixed rate, then as fast as it can.
#   every packet of the offered load is made and sent (sent = rate x duration, or the pool),
#   none comes back, each is counted lost and nothing else;
#   then both ports' net_null also receive (mbufs of whatever their pool held): every such
#   frame is counted as a drop ("not ours"), nothing is taken for a reply or for a packet
#   of ours, no crash.
# Usage: gen_null.sh GEN_BIN. Exit 0 pass, 1 fail.
set -euo pipefail
gen=$1
dir=$(mktemp -d /tmp/wgdp-gen-null.XXXXXX)
prefix=gen$$null
trap 'rm -rf "$dir" "/var/run/dpdk/$prefix"' EXIT

run() {   # run NAME WAN_VDEV LAN_VDEV GEN_OPTIONS...
	local name=$1 wan=$2 lan=$3
	shift 3
	timeout 60 "$gen" -l 0 --no-huge -m 512 --no-pci --no-shconf --file-prefix "$prefix" \
		--log-level lib.eal:error "--vdev=$wan" "--vdev=$lan" -- \
		--wan net_null0 --lan net_null1 --fake-sessions --server-mac 02:00:00:00:00:01 \
		--lan-gw-mac 02:00:00:00:00:02 --peers 10 --dir both --pool 65536 \
		--json "$dir/$name.json" "$@" >"$dir/$name.out" 2>&1 || {
		echo "wgdp-gen ($name) failed:"; sed 's/^/  | /' "$dir/$name.out"; exit 1; }
	sed 's/^/  | /' "$dir/$name.out"
}
run fixed net_null0,no-rx=1 net_null1,no-rx=1 --rate 20k --duration 0.5 --sizes 64,imix
run max net_null0,no-rx=1 net_null1,no-rx=1 --rate max --duration 1 --sizes 1420
run junk net_null0 net_null1 --rate 20k --duration 0.5 --sizes 512

python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
fails = []
def check(what, ok):
    print(("  ok   " if ok else "  FAIL ") + what)
    if not ok:
        fails.append(what)
def load(n):
    return json.load(open("%s/%s.json" % (d, n)))

for name, expect in (("fixed", 10000), ("max", 65536), ("junk", 10000)):
    doc = load(name)
    trials = doc["trials"]
    check("%s: %d trials, both directions" % (name, len(trials)),
          len(trials) == (2 if name == "fixed" else 1) and all("up" in t and "down" in t for t in trials))
    for t in trials:
        for k in ("up", "down"):
            x = t[k]
            check("%s %s %s: sent %d (about %d), received %d, lost %d" % (name, t["size"], k,
                  x["sent"], expect, x["received"], x["lost"]),
                  abs(x["sent"] - expect) <= 2 and x["received"] == 0 and x["lost"] == x["sent"]
                  and x["dup"] == 0 and x["stale"] == 0 and x["bad"] == 0 and x["wrong_peer"] == 0)
    c = doc["counters"]
    taken = sum(c[k] for k in ("keepalives", "handshake_other", "unknown_index", "replay",
                               "decrypt_failed", "bad_padding", "cookies", "arp_answered"))
    if name == "junk":
        check("junk: what net_null received counted as not ours (%d), nothing else (%d)" %
              (c["not_ours"], taken), c["not_ours"] > 1000 and taken == 0)
    else:
        check("%s: nothing received, nothing counted (%s)" % (name, c),
              c["not_ours"] == 0 and taken == 0)
print("gen_null: %s (%d checks failed)" % ("FAIL" if fails else "PASS", len(fails)))
sys.exit(1 if fails else 0)
PY
