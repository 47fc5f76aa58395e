#!/usr/bin/env bash
# Measures the daemon's scan against the kernel's floor on real cgroup v1 trees of 1,000 and
# 10,000 leaves, then on a 100,000-leaf fixture tree (userspace cost alone), and plots CPU per
# leaf per scan against the number of leaves. Needs root and the cgroup v1 memory controller.
# Usage: bench/scan_bench.sh [--quick]
#   --quick: a 200-leaf cgroup tree and a 2,000-leaf fixture, few scans, no plot, and a short
#   run of cgmm_poll_bench (checks that the commands work; about 15 s)
# Results: $BUILD_DIR/bench/results.txt, results.csv and scan_cpu.png (to update BENCHMARKS.md,
# copy the figures into its table and scan_cpu.png into bench/).
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build}

quick=false
for arg in "$@"; do
  case $arg in
    --quick) quick=true ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
  esac
done

scripts/setup.sh --tests
scripts/build.sh
bin=$BUILD_DIR/bench/cgmm_scan_bench
out=$BUILD_DIR/bench
csv=$out/results.csv
: >"$csv"

# The bench removes its trees itself, also on SIGINT/SIGTERM; this catches a crash.
cleanup() {
  local d
  for d in /sys/fs/cgroup/memory/cgmm-bench-* /dev/shm/cgmm-bench-*; do
    [[ -d $d ]] || continue
    find "$d" -depth -name memory.stat -type f -delete 2>/dev/null || true
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

run() {
  echo "=== cgmm_scan_bench $*"
  "$bin" --csv "$csv" "$@"
}

if $quick; then
  run --leaves 200 --scans 20 --churn-rounds 3
  run --fixture --leaves 2000 --scans 5 --churn-rounds 2
  echo "=== cgmm_poll_bench (the cgroup v2 watch between scans)"
  "$BUILD_DIR/bench/cgmm_poll_bench" --leaves 100 --seconds 1
  exit 0
fi

{
  for n in 1000 2000 5000 10000; do
    run --leaves "$n"
  done
  run --fixture --leaves 100000 --scans 5 --churn-rounds 3
  if [[ -x $BUILD_DIR/bench/cgmm_parse_bench ]]; then
    echo "=== parsers"
    "$BUILD_DIR/bench/cgmm_parse_bench" --benchmark_min_time=0.2
  fi
} 2>&1 | tee "$out/results.txt"

bench/plot.sh "$csv" "$out/scan_cpu.png"
echo "wrote $out/results.txt, $csv and $out/scan_cpu.png"
