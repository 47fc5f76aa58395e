#!/usr/bin/env bash
# Memory threshold notifications (cgroup v1), measured on real cgroups:
#  1. latency: from the byte that takes a leaf's cache over its threshold (the writer's clock) to
#     the daemon starting its reclaim, with --interval 60, over N leaves (the kernel test
#     NotifyV1.ReclaimStartsMomentsAfterTheCacheCrossesItsThreshold with more samples);
#  2. idle cost: CPU the daemon uses per minute on 1,000 quiet leaves, notifications on and off.
# Usage: bench/notify_bench.sh [samples]   (root; builds first; default 30 samples)
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build}
scripts/build.sh -DCGMM_TESTS=ON >/dev/null
samples=${1:-30}

echo "== latency over $samples crossings, --interval 60"
line=$(CGMM_NOTIFY_SAMPLES=$samples "$BUILD_DIR/tests/cgmm_kernel_tests" \
  --gtest_filter='NotifyV1.ReclaimStartsMomentsAfterTheCacheCrossesItsThreshold' |
  grep "latency with notifications")
echo "$line"
tr ' ' '\n' <<<"${line#*: }" | grep -E '^[0-9]+$' | sort -n | awk '
  { v[NR] = $1 }
  END { printf "min %d ms, median %d ms, p90 %d ms, max %d ms (n=%d)\n",
        v[1], v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR], NR }'

root=/sys/fs/cgroup/memory/cgmm-bench-$$
cleanup() { [[ -d $root ]] && find "$root" -depth -type d -exec rmdir {} + 2>/dev/null; true; }
trap cleanup EXIT
echo
echo "== idle CPU on 1,000 leaves (kubepods/burstable/pod<n>/<c>, 1 GiB pod limits, no cache)"
for p in $(seq 0 99); do
  pod=$root/kubepods/burstable/pod$p
  mkdir -p "$pod"
  echo 1G >"$pod/memory.limit_in_bytes"
  for c in $(seq 0 9); do mkdir "$pod/c$c"; done
done
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
for mode in --notifications --no-notifications; do
  "$BUILD_DIR/cgroup-memory-manager" --parent "$root/kubepods" --log-level warn "$mode" &
  pid=$!
  sleep 15 # start-up, first scan, and the registrations (about 10 ms each) made between scans
  before=$(ticks "$pid")
  sleep 60
  after=$(ticks "$pid")
  kill "$pid"
  wait "$pid" || true
  echo "$mode: $(((after - before) * 1000 / hz)) ms CPU in 60 s (--interval 10, 6 scans, after start-up)"
done
