#!/usr/bin/env bash
# Builds the project under sanitizers, each into its own build directory, and runs the tests:
#   asan: AddressSanitizer + UndefinedBehaviorSanitizer (leaks included), the whole ctest suite
#         (unit, fixture-tree and real-kernel tests; the kernel tests run the sanitized daemon);
#   tsan: ThreadSanitizer, the threaded parts: the HTTP listener tests and the real-kernel tests,
#         whose daemon runs its scan, reclaim workers and listener threads.
# Any sanitizer report fails the run. Builds are dynamic (CGMM_STATIC=OFF: the sanitizer runtimes
# are shared libraries) at -O1, with clang, which compiles this code base about twice as fast as
# gcc under the sanitizers.
# Usage: scripts/sanitize.sh [asan] [tsan]   (both by default)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
kinds=("$@")
if ((${#kinds[@]} == 0)); then
  kinds=(asan tsan)
fi

scripts/setup.sh --tests clang-14 libclang-rt-14-dev || exit 1

# Child processes (the daemon started by the kernel tests) inherit these through
# tests/support/daemon_process.cpp.
export ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# Tests whose bounds measure the allocator (resident memory) read this: a sanitizer's allocator
# holds freed memory in quarantine and shadow memory grows with it, so those bounds do not apply.
# So does the test that leaves the daemon no spare descriptor: the runtimes need some.
export CGMM_SANITIZED=1

configure_and_build() {
  local dir=$1 flags=$2
  shift 2
  cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
    -DCGMM_STATIC=OFF -DCGMM_BENCH=OFF >/dev/null || return 1
  cmake --build "$dir" -j"$(nproc)" --target "$@"
}

asan_dir=${ASAN_BUILD_DIR:-build-asan}
tsan_dir=${TSAN_BUILD_DIR:-build-tsan}
build_asan() {
  configure_and_build "$asan_dir" \
    "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" all
}
build_tsan() {
  configure_and_build "$tsan_dir" "-fsanitize=thread -fno-omit-frame-pointer" \
    cgroup-memory-manager cgmm_unit_tests cgmm_kernel_tests
}
test_asan() {
  scripts/cleanup-test-cgroups.sh
  ctest --test-dir "$asan_dir" --output-on-failure --timeout 300
}
test_tsan() {
  scripts/cleanup-test-cgroups.sh
  ctest --test-dir "$tsan_dir" --output-on-failure --timeout 300 -R '^(unit\.HttpServer|kernel\.)'
}

want_asan=0 want_tsan=0
for kind in "${kinds[@]}"; do
  case $kind in
    asan) want_asan=1 ;;
    tsan) want_tsan=1 ;;
    *)
      echo "sanitize: unknown kind $kind (asan or tsan)" >&2
      exit 2
      ;;
  esac
done

status=0
asan_built=0
if ((want_asan)); then
  start=$SECONDS
  if build_asan; then asan_built=1; else status=1; fi
  echo "sanitize: asan build took $((SECONDS - start))s"
fi
# The TSan build needs the CPU and the ASan tests mostly wait on the kernel and the daemon's
# intervals, so the build runs beside them; its output follows theirs.
tsan_log=$(mktemp)
trap 'rm -f "$tsan_log"' EXIT
if ((want_tsan)); then
  tsan_start=$SECONDS
  build_tsan >"$tsan_log" 2>&1 &
  tsan_pid=$!
fi
if ((asan_built)); then
  start=$SECONDS
  test_asan || status=1
  echo "sanitize: asan tests took $((SECONDS - start))s"
fi
if ((want_tsan)); then
  wait "$tsan_pid"
  tsan_built=$?
  cat "$tsan_log"
  echo "sanitize: tsan build took $((SECONDS - tsan_start))s (beside the asan tests)"
  if ((tsan_built == 0)); then
    start=$SECONDS
    test_tsan || status=1
    echo "sanitize: tsan tests took $((SECONDS - start))s"
  else
    status=1
  fi
fi
scripts/cleanup-test-cgroups.sh
exit $status
