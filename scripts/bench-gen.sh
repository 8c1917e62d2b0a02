#!/usr/bin/env bash
# scripts/bench-gen.sh: the same wgdp-gen load against wgdp and against wireguard-go as the
# concentrator, side by side on this machine (docs/performance.md, "wgdp against
# wireguard-go"). A benchmark, not a test: it prints figures and never fails on them.
#
#   bash scripts/bench-gen.sh [BUILD_DIR]       (as root; BUILD_DIR default build-release)
#
# For each run (BENCH_RUNS, default 3), each peer count (BENCH_PEERS, "1 1000") and each
# target in turn, so that the targets are measured side by side:
#   wgdp          the gateway on its own lcore (CPU 1), ports on net_af_packet over veths
#   wireguard-go  Debian's wireguard-go pinned to CPU 1 with taskset, kernel forwarding
#   wgdp-memif    the gateway on CPU 1 on net_memif: no kernel between it and the generator
# wgdp-gen runs on CPU 0 with one lcore and makes, per size (BENCH_SIZES, "64 512 1420
# imix"), one trial as fast as it can and then a zero-loss search (loss tolerance
# BENCH_TOLERANCE percent, default 0.01), peers -> plaintext side (the server decrypts;
# BENCH_DIR=down or both for the other way). The table is the median over the runs of
# each figure, and the ratio wgdp / wireguard-go of the medians.
# BENCH_OUT (default /tmp/wgdp-bench-gen.DATE) keeps every run's JSON; BENCH_RUNS=0 with
# BENCH_OUT of an earlier run prints its tables again. wgdp-gen runs with -m 512 (BENCH_GEN_MEM)
# and pools of at most 150,000 packets (BENCH_POOL), so a trial as fast as it can may end
# before BENCH_DURATION: its rate is what was sent over the time it took.
# The machine's load average is printed with each run: the tables are only as good as the
# CPUs were free (a busy-polling DPDK process loses packets whenever it is preempted).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
gen=$build/app/wgdp-gen/wgdp-gen wgdp=$build/app/wgdp/wgdp
[ -x "$gen" ] && [ -x "$wgdp" ] || { echo "build first: meson setup $build -Dbuildtype=release && ninja -C $build"; exit 1; }
gen=$(readlink -f "$gen") wgdp=$(readlink -f "$wgdp")
runs=${BENCH_RUNS:-3}
peers_list=${BENCH_PEERS:-"1 1000"}
sizes=${BENCH_SIZES:-"64 512 1420 imix"}
targets=${BENCH_TARGETS:-"wgdp wireguard-go wgdp-memif"}
tol=${BENCH_TOLERANCE:-0.01}
dir=${BENCH_DIR:-up}
out=${BENCH_OUT:-/tmp/wgdp-bench-gen.$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"

# shellcheck source=scripts/gen-netns.sh
. scripts/gen-netns.sh

one() {   # one target, one peer count, one run: JSON into $out
	local target=$1 peers=$2 run=$3 json=$out/$1-$2-$3.json
	(
		gtopo_init bench
		gtopo_keys "$peers"
		gtopo_build
		case $target in
		wgdp) gtopo_wgdp_start "$wgdp" --lcores 1 ;;
		wgdp-memif) gtopo_wgdp_start "$wgdp" --lcores 1 --memif ;;
		wireguard-go) gtopo_wggo_start 1 ;;
		esac
		GTOPO_GEN_LCORES=0 GTOPO_GEN_MEM=${BENCH_GEN_MEM:-512} gtopo_gen "$gen" \
			--dir "$dir" --sizes "${sizes// /,}" --search --tolerance "$tol" \
			--duration "${BENCH_DURATION:-1}" --pool "${BENCH_POOL:-150000}" \
			--max-steps "${BENCH_STEPS:-8}" --resolution 0.03 --json "$json" \
			>"$out/$target-$peers-$run.log" 2>&1 || echo "  (wgdp-gen failed: $out/$target-$peers-$run.log)"
	)
}

echo "wgdp-gen against wgdp and wireguard-go: runs $runs, peers $peers_list, sizes $sizes, dir $dir"
echo "command: $(env | grep '^BENCH_' | sort | tr '\n' ' ')bash scripts/bench-gen.sh $*"
echo "CPU: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs; output in $out"
for ((r = 1; r <= runs; r++)); do
	for peers in $peers_list; do
		for t in $targets; do
			printf 'run %d, %s peers, %s ... ' "$r" "$peers" "$t"
			s=$SECONDS
			one "$t" "$peers" "$r"
			echo "$((SECONDS - s)) s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
		done
	done
done

python3 - "$out" "$dir" <<'EOF'
import glob, json, os, statistics, sys
out, d = sys.argv[1], sys.argv[2]
dirs = ["up", "down"] if d == "both" else [d]
res = {}   # (target, peers, size) -> {"max": [...], "zl": [...], "p50": [...], "p99": [...]}
for f in glob.glob(os.path.join(out, "*.json")):
    target, peers, run = os.path.basename(f)[:-5].rsplit("-", 2)
    doc = json.load(open(f))
    firsts = {}
    for t in doc.get("trials", []):
        if t["trial"] == 0:
            firsts[t["size"]] = t
    for size, t in firsts.items():
        e = res.setdefault((target, int(peers), size), {"max": [], "zl": [], "p50": [], "p99": []})
        e["max"].append(min(t[x]["received_pps"] for x in dirs))
    for z in doc.get("search", []):
        e = res.setdefault((target, int(peers), z["size"]), {"max": [], "zl": [], "p50": [], "p99": []})
        if dirs[0] in z:
            e["zl"].append(min(z[x]["offered_pps"] for x in dirs))
            e["p50"].append(z[dirs[0]]["latency_ns"]["p50"])
            e["p99"].append(z[dirs[0]]["latency_ns"]["p99"])
        else:
            e["zl"].append(0.0)
med = lambda v: statistics.median(v) if v else float("nan")
keys = sorted({(p, s) for (_, p, s) in res}, key=lambda k: (k[0], k[1] == "imix", int(k[1]) if k[1] != "imix" else 0))
def get(t, p, s, k):
    return med(res.get((t, p, s), {}).get(k, []))
print()
print("received Mpps at the most wgdp-gen offers (median of runs), and the ratio:")
print("| peers | size | wgdp | wireguard-go | wgdp / wireguard-go | wgdp on memif |")
print("|---:|---:|---:|---:|---:|---:|")
for p, s in keys:
    a, b, c = (get(t, p, s, "max") / 1e6 for t in ("wgdp", "wireguard-go", "wgdp-memif"))
    print("| %s | %s | %.3f | %.3f | %.2fx | %.3f |" % (f"{p:,}", s, a, b, a / b if b else float("nan"), c))
print()
print("zero-loss rate, Mpps offered (median of runs), and latency at that rate (us, p50 / p99):")
print("| peers | size | wgdp | wireguard-go | wgdp / wireguard-go | wgdp on memif | wgdp p50/p99 | wireguard-go p50/p99 | memif p50/p99 |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for p, s in keys:
    z = [get(t, p, s, "zl") / 1e6 for t in ("wgdp", "wireguard-go", "wgdp-memif")]
    lat = ["%.0f / %.0f" % (get(t, p, s, "p50") / 1e3, get(t, p, s, "p99") / 1e3) for t in ("wgdp", "wireguard-go", "wgdp-memif")]
    print("| %s | %s | %.3f | %.3f | %.2fx | %.3f | %s | %s | %s |" % (f"{p:,}", s, z[0], z[1], z[0] / z[1] if z[1] else float("nan"), z[2], *lat))
EOF
