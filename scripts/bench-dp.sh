#!/usr/bin/env bash
# scripts/bench-dp.sh [RUNS] [WGDP_BENCH ARGS...]: the data-path benchmark run RUNS times
# (default 5) as separate processes, with the medians of the runs' medians, min and max.
#
# One wgdp-bench process gives steady figures within itself but not always across
# processes on a shared VM (where its buffers land decides some of the cache behaviour),
# so the figures of docs/performance.md are the median over several processes of each
# process's own median, and every ratio is taken within one process first (the data path
# against the raw AEAD measured beside it). Runs on 2 MB hugepages (reserved here) when
# it can, from a release build:
#   meson setup build-release-gcc -Dbuildtype=release && ninja -C build-release-gcc
#   bash scripts/bench-dp.sh 5 --peers 1,1000,100000 --mem 2048
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
runs=${1:-5}
shift || true
bench=${WGDP_BENCH:-$here/../build-release-gcc/app/bench/wgdp-bench}
[ -x "$bench" ] || { echo "bench-dp: $bench not built (see the header)"; exit 1; }
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ -w "$hp" ] && [ "$(cat "$hp")" -lt 1200 ]; then echo 1200 >"$hp" || true; fi
if [ -r "$hp" ] && [ "$(cat "$hp")" -ge 1200 ]; then export WGDP_SIM_HUGE=1; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ((r = 1; r <= runs; r++)); do
	"$bench" "$@" >"$out/run$r.txt" 2>&1 || { echo "bench-dp: run $r failed"; tail "$out/run$r.txt"; exit 1; }
	printf 'run %d done\n' "$r" >&2
done
sed -n '1,6p' "$out/run1.txt"
python3 - "$out" "$runs" <<'EOF'
import re, statistics, sys
d, runs = sys.argv[1], int(sys.argv[2])
raw = {}    # (size, dir, column) -> [medians]
dp = {}     # (peers, size, dir) -> [Mpps]
ratio = {}  # (peers, size, dir) -> [data path / raw of its engine]
vs1 = {}    # (peers, size, dir) -> [data path / raw ipsec-mb 1-by-1]
for r in range(1, runs + 1):
    text = open("%s/run%d.txt" % (d, r)).read()
    cols = None
    rawrun = {}
    for line in text.splitlines():
        if line.startswith(" size  dir") and "[" not in line and cols is None:
            pass
        m = re.match(r"^ size  dir\s+(.*)$", line)
        if m and cols is None:
            cols = re.split(r"\s{2,}", m.group(1).strip())
            continue
        m = re.match(r"^\s*(\d+|IMIX)\s+(encrypt|decrypt)\s+(.*\])\s*$", line)
        if m and cols:
            vals = re.findall(r"([\d.]+) \[", m.group(3))
            for c, v in zip(cols, vals):
                rawrun[(m.group(1), m.group(2), c)] = float(v)
                raw.setdefault((m.group(1), m.group(2), c), []).append(float(v))
        m = re.match(r"^\s*(\d+)\s+(\d+)\s+(encrypt|decrypt) \S+\s+([\d.]+) \[.*\]\s+[\d.]+\s+([\d.]+)\s+([\d.]+)%", line)
        if m:
            k = (int(m.group(1)), int(m.group(2)), m.group(3))
            dp.setdefault(k, []).append(float(m.group(4)))
            ratio.setdefault(k, []).append(float(m.group(6)) / 100)
            one = rawrun.get((m.group(2), m.group(3), "ipsec-mb 1-by-1"))
            if one:
                vs1.setdefault(k, []).append(float(m.group(4)) / one)
def fmt(v):
    return "%7.3f [%6.3f, %6.3f]" % (statistics.median(v), min(v), max(v))
print("\nraw AEAD, Mpps: median of %d processes' medians [min, max]" % runs)
cs = sorted({k[2] for k in raw}, key=lambda c: list(dict.fromkeys(k[2] for k in raw)).index(c))
for c in cs:
    print("  %-16s" % c, end="")
print()
for size in ["64", "128", "256", "512", "1420", "IMIX"]:
    for dr in ["encrypt", "decrypt"]:
        if (size, dr, cs[0]) not in raw:
            continue
        print("%5s %-7s" % (size, dr), end="")
        for c in cs:
            print(" %7.3f" % statistics.median(raw[(size, dr, c)]) + " " * 8, end="")
        print()
print("\ndata path (one worker), Mpps and ratios: median over processes [min, max]")
print("  peers  size  dir      Mpps                        / raw of its engine       / raw ipsec-mb 1-by-1")
for k in sorted(dp):
    print("%7d %5d  %-7s %s   %s   %s" % (k[0], k[1], k[2], fmt(dp[k]), fmt(ratio[k]),
                                         fmt(vs1[k]) if k in vs1 else "-"))
peers = sorted({k[0] for k in dp})
if len(peers) > 1:
    print("\nmany peers / one peer (medians)")
    for p in peers[1:]:
        for size in sorted({k[1] for k in dp}):
            for dr in ["encrypt", "decrypt"]:
                a, b = dp.get((p, size, dr)), dp.get((peers[0], size, dr))
                if a and b:
                    print("  %7d / %d  %5d %-7s %.2f" % (p, peers[0], size, dr,
                          statistics.median(a) / statistics.median(b)))
EOF
