#!/usr/bin/env bash
# Sets up (installs missing Debian packages), builds and runs every test: unit, fixture-tree and
# real-kernel tests (ctest), then the suites that live outside ctest. Run as root on a machine
# with the cgroup v1 memory controller; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export BUILD_DIR=${BUILD_DIR:-build}

# promtool checks the metrics exposition, and the end-to-end test scrapes with a real Prometheus
# server (Debian ships promtool only with the server). strace watches what the daemon writes;
# clang builds the fuzz targets; clang-format and clang-tidy check the style (scripts/lint.sh).
scripts/setup.sh --tests prometheus strace clang-14 libclang-rt-14-dev clang-format clang-tidy || exit 1
scripts/build.sh -DCGMM_TESTS=ON -DCGMM_BENCH=ON || exit 1
scripts/cleanup-test-cgroups.sh

passed=0
failed=0
failures=()
# Each suite says how long it took: the whole run must stay well inside CI's time limit.
record() {
  local name=$1 status=$2 took=$3
  if ((status == 0)); then
    passed=$((passed + 1))
    echo "=== $name: passed in $took s"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== $name: FAILED in $took s"
  fi
}
run_suite() {
  local name=$1 start=$SECONDS
  shift
  echo "=== $name"
  "$@"
  record "$name" $? $((SECONDS - start))
}
# A suite that only needs the CPU can run beside one that mostly waits (the real-kernel tests wait
# on the daemon's intervals and cooldowns, and hold no assumption of an idle machine):
# start_beside NAME COMMAND... starts it with its output kept aside; finish_beside prints it.
beside_name='' beside_pid='' beside_start=0 beside_log=$(mktemp)
trap 'rm -f "$beside_log"' EXIT
start_beside() {
  beside_name=$1 beside_start=$SECONDS
  shift
  echo "=== $beside_name: started, runs beside the next suite"
  "$@" >"$beside_log" 2>&1 &
  beside_pid=$!
}
finish_beside() {
  wait "$beside_pid"
  local status=$?
  echo "=== $beside_name"
  cat "$beside_log"
  record "$beside_name" $status $((SECONDS - beside_start))
}

start_beside "style (scripts/lint.sh)" scripts/lint.sh
run_suite "unit, fs and kernel tests (ctest)" \
  ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 300
finish_beside
scripts/cleanup-test-cgroups.sh
run_suite "fuzzing the parsers, ${FUZZ_SECONDS:-10} s a target (fuzz/run.sh)" \
  fuzz/run.sh "${FUZZ_SECONDS:-10}"
run_suite "ASan+UBSan and TSan builds (scripts/sanitize.sh)" scripts/sanitize.sh
scripts/cleanup-test-cgroups.sh
run_suite "deployment manifests, unit and image (tests/deploy/run.sh)" tests/deploy/run.sh
run_suite "monitoring kit: rules, and every dashboard query on a real daemon and Prometheus (tests/deploy/monitoring.sh)" \
  tests/deploy/monitoring.sh "$BUILD_DIR/cgroup-memory-manager"
# The package is made from the daemon built above, not from a build of its own.
run_suite "Debian package (tests/deploy/package.sh)" env PACKAGE_BUILD_DIR="$BUILD_DIR" tests/deploy/package.sh
run_suite "static binary in an empty root (tests/deploy/image.sh)" tests/deploy/image.sh
run_suite "the image on real containers, run as the DaemonSet runs it (tests/deploy/container.sh)" \
  tests/deploy/container.sh
run_suite "a podman container in a pod's cgroup, named and reclaimed (tests/deploy/podman.sh)" \
  tests/deploy/podman.sh "$BUILD_DIR/cgroup-memory-manager"
# The v2 suites on each kernel users run: Debian 12's 6.1, Debian 13's 6.12 and unstable's newest
# (VM_KERNELS picks fewer). A suite is named by the kernel's version, read once it is cached.
for suite in ${VM_KERNELS:-bookworm trixie sid}; do
  tests/vm/setup.sh "$suite" || echo "vm setup of the $suite kernel failed; its suites will fail"
  version=$(cut -d. -f1,2 ".cache/vm/kernel/$suite/release" 2>/dev/null || echo "$suite")
  run_suite "cgroup v2 kernel facts in a VM ($version)" \
    env VM_KERNEL="$suite" tests/vm/run.sh tests/vm/guest/kernel_facts.sh
  run_suite "the daemon on cgroup v2 in a VM ($version)" \
    env VM_KERNEL="$suite" tests/vm/run.sh tests/vm/guest/daemon_v2.sh \
    "$BUILD_DIR/cgroup-memory-manager" "$BUILD_DIR/tests/cgmm_fill_mark"
  run_suite "swap guard on cgroup v2 in a VM ($version)" \
    env VM_KERNEL="$suite" tests/vm/run.sh tests/vm/guest/swap_v2.sh \
    "$BUILD_DIR/cgroup-memory-manager" "$BUILD_DIR/tests/cgmm_hold_anon"
done
run_suite "benchmark command, small N (bench/scan_bench.sh --quick)" bench/scan_bench.sh --quick

echo
if ((failed)); then
  echo "failed suites: ${failures[*]}"
fi
echo "suites: $passed passed, $failed failed, in $((SECONDS / 60)) min $((SECONDS % 60)) s"
((failed == 0))
