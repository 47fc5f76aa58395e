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
cd "$(dirname "$0")/.."
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

status=0
for kind in "${kinds[@]}"; do
  start=$SECONDS
  case $kind in
    asan)
      dir=${ASAN_BUILD_DIR:-build-asan}
      configure_and_build "$dir" \
        "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
        all || { status=1; continue; }
      scripts/cleanup-test-cgroups.sh
      ctest --test-dir "$dir" --output-on-failure --timeout 300 || status=1
      ;;
    tsan)
      dir=${TSAN_BUILD_DIR:-build-tsan}
      configure_and_build "$dir" "-fsanitize=thread -fno-omit-frame-pointer" \
        cgroup-memory-manager cgmm_unit_tests cgmm_kernel_tests || { status=1; continue; }
      scripts/cleanup-test-cgroups.sh
      ctest --test-dir "$dir" --output-on-failure --timeout 300 \
        -R '^(unit\.HttpServer|kernel\.)' || status=1
      ;;
    *)
      echo "sanitize: unknown kind $kind (asan or tsan)" >&2
      exit 2
      ;;
  esac
  scripts/cleanup-test-cgroups.sh
  echo "sanitize: $kind took $((SECONDS - start))s"
done
exit $status
