#!/usr/bin/env bash
# The cgroup v2 watch between scans, measured in the qemu VM of tests/vm (software emulation:
# absolute times are the emulator's, compare the modes of one run): latency from crossing
# to reclaim start over 20 crossings, and idle CPU on 1,000 leaves with the watch on, off, and
# off with a 1 s interval.
# Usage: bench/notify_v2_bench.sh   (root; builds first; about 3 minutes)
# VM_KERNEL picks the guest's kernel as in tests/vm/run.sh (bookworm: 6.1, the default; trixie:
# 6.12; sid: the newest); the output names the kernel it ran.
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build}
scripts/build.sh -DCGMM_TESTS=ON >/dev/null
VM_TIMEOUT=1500 VM_MEMORY=1024M tests/vm/run.sh bench/vm/notify_v2.sh \
  "$BUILD_DIR/cgroup-memory-manager" "$BUILD_DIR/tests/cgmm_fill_mark" |
  grep -E '^(==|latency|min |--|1,000|FAIL|vm: (booting|guest))'
