#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined) into their own
# build directory and runs each for a bounded time, starting from the seed corpus in
# fuzz/corpus/<target>/. New interesting inputs go to the build directory, never into the repo.
# A crash or property violation fails the run; the input is saved as
# $FUZZ_BUILD_DIR/artifacts/<target>-crash-<sha1> (add it to fuzz/corpus/<target>/ once fixed).
# Usage: fuzz/run.sh [seconds per target, default 20] [target ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
all_targets=(memory_stat_fuzz units_fuzz pod_identity_fuzz http_request_fuzz kubelet_names_fuzz
  policy_file_fuzz)
targets=("$@")
if (($# == 0)); then
  targets=("${all_targets[@]}")
fi

scripts/setup.sh clang-14 libclang-rt-14-dev
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCGMM_FUZZ=ON -DCGMM_TESTS=OFF -DCGMM_BENCH=OFF -DCGMM_STATIC=OFF >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target "${targets[@]}"

mkdir -p "$build_dir/artifacts"
failed=()
for t in "${targets[@]}"; do
  work="$build_dir/corpus/$t"
  mkdir -p "$work"
  echo "=== fuzzing $t for ${seconds}s"
  if ! "$build_dir/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$build_dir/artifacts/$t-" \
    "$work" "fuzz/corpus/$t" >"$build_dir/$t.log" 2>&1; then
    failed+=("$t")
    tail -n 40 "$build_dir/$t.log"
  fi
  grep -E '^stat::number_of_executed_units|^Done' "$build_dir/$t.log" || true
done

if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]} (inputs in $build_dir/artifacts/)"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a finding"
