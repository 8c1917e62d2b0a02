#!/usr/bin/env bash
# wgdp-gen against a real server, 10 peers, a short run in both directions at a rate the
# server keeps up with (IMIX and 1420 bytes):
#   every session comes up; every packet sent is received, or lost where the server (or
#   our own port) counted a drop; nothing duplicated, stale, corrupt or for the wrong peer;
#   every reply decrypted (no bad tag, replay, unknown index or bad padding); every peer
#   got traffic through in both directions.
# Usage: gen_vs.sh GEN_BIN TARGET [WGDP_BIN WGDPCTL_BIN]
#   TARGET: wireguard-go | wgdp (net_af_packet over veths) | wgdp-memif
# Exit 0 pass, 1 fail, 77 skipped (not root, tools missing).
set -euo pipefail
gen=$1 target=$2 wgdp=${3:-} wgdpctl=${4:-}
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=scripts/gen-netns.sh
. "$here/../../scripts/gen-netns.sh"

skip() { echo "gen_vs $target: $*; skipped"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
for t in ip wg ethtool python3 taskset; do command -v "$t" >/dev/null || skip "$t missing"; done
[ "$target" != wireguard-go ] || command -v wireguard-go >/dev/null || skip "wireguard-go missing"
[ "$target" = wireguard-go ] || [ -x "$wgdp" ] || { echo "no wgdp binary '$wgdp'"; exit 1; }

gtopo_init "vs-$target"
gtopo_keys 10
gtopo_build
case $target in
wireguard-go) gtopo_wggo_start ;;
wgdp) gtopo_wgdp_start "$wgdp" --lcores 1 ;;
wgdp-memif) gtopo_wgdp_start "$wgdp" --lcores 1 --memif ;;
*) echo "unknown target $target"; exit 2 ;;
esac
GTOPO_WGDPCTL=$wgdpctl

out=$GTOPO_DIR/gen.json
rc=0
drops_before=$(gtopo_server_drops)
GTOPO_GEN_LCORES=0 gtopo_gen "$gen" --dir both --rate 5k --duration 1 --sizes imix,1420 \
	--per-peer --drain-ms 500 --json "$out" | tee "$GTOPO_DIR/gen.out" || rc=$?
drops_after=$(gtopo_server_drops)
if [ "$rc" != 0 ]; then
	echo "wgdp-gen failed (status $rc); the server's log:"
	tail -n 30 "$GTOPO_DIR/server.log" | sed 's/^/  | /'
	exit 1
fi

python3 - "$out" "$GTOPO_DIR/gen.out" "$((drops_after - drops_before))" <<'EOF'
import json, re, sys
doc = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
target_drops = int(sys.argv[3])
fails = []
def check(what, ok):
    print(("  ok   " if ok else "  FAIL ") + what)
    if not ok:
        fails.append(what)

m = re.search(r"sessions up: (\d+) of (\d+)", text)
check("all 10 sessions up", m is not None and m.group(1) == m.group(2) == "10")
trials = doc.get("trials", [])
check("two trials (imix, 1420), both directions", len(trials) == 2 and
      all("up" in t and "down" in t for t in trials))
for t in trials:
    for d in ("up", "down"):
        x = t[d]
        name = "%s %s" % (t["size"], d)
        own = t["gen_missed_lan" if d == "up" else "gen_missed_wan"]
        check("%s: sent %d = received %d + lost %d" % (name, x["sent"], x["received"], x["lost"]),
              x["sent"] > 2000 and x["sent"] == x["received"] + x["lost"])
        check("%s: lost %d <= drops counted by the server %d + by our own port %d" %
              (name, x["lost"], target_drops, own), x["lost"] <= target_drops + own)
        check("%s: no duplicate, stale, corrupt or misrouted packet" % name,
              x["dup"] == 0 and x["stale"] == 0 and x["bad"] == 0 and x["wrong_peer"] == 0)
        check("%s: latency measured (p50 %d ns, max %d ns)" % (name, x["latency_ns"]["p50"],
              x["latency_ns"]["max"]), 0 < x["latency_ns"]["p50"] <= x["latency_ns"]["max"])
c = doc["counters"]
check("replies: no bad tag, replay, unknown index or bad padding (%s)" %
      {k: c[k] for k in ("decrypt_failed", "replay", "unknown_index", "bad_padding")},
      c["decrypt_failed"] == 0 and c["replay"] == 0 and c["unknown_index"] == 0 and
      c["bad_padding"] == 0)
peers = doc.get("peers", [])
check("every peer carried traffic both ways in every trial",
      len(peers) == 2 and all(len(p) == 10 and all(q["up"]["received"] > 0 and
      q["down"]["received"] > 0 for q in p) for p in peers))
print("gen_vs: %s (%d checks failed)" % ("FAIL" if fails else "PASS", len(fails)))
sys.exit(1 if fails else 0)
EOF
