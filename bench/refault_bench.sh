#!/usr/bin/env bash
# Refault feedback (cgroup v1), measured on real cgroups: a hot leaf that reads the same 80 MiB of
# files in a loop and a cold leaf that streams new files, each under a 400 MiB limit with a 10%
# threshold, watched by the daemon (--interval 1 --cooldown 2) for SECONDS seconds, once with the
# feedback and once without (--no-refault-backoff). For each run: the reclaims of each leaf, what
# they freed, what of it the hot leaf read back (the daemon's count and the kernel's
# workingset_refault_file), and the cache each leaf held (sampled every 0.25 s).
# Usage: bench/refault_bench.sh [SECONDS]   (root; builds the daemon first; default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build}
BUILD_TARGET=cgroup-memory-manager scripts/build.sh >/dev/null
daemon=$BUILD_DIR/cgroup-memory-manager
seconds=${1:-60}
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || {
  echo "refault_bench: SECONDS must be a positive whole number, not '$seconds'" >&2
  exit 2
}

readonly kMiB=$((1024 * 1024))
page=$(getconf PAGESIZE)
root=/sys/fs/cgroup/memory/cgmm-bench-$$
scratch=/var/tmp/cgmm-bench-$$
pids=()

stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
remove_tree() {
  local cg _
  [[ -d $root ]] || return 0
  # A worker's last dd or cat may still be running in its cgroup: wait for it to leave.
  for cg in "$root"/*/; do
    for _ in $(seq 50); do
      [[ -s "$cg/cgroup.procs" ]] || break
      sleep 0.2
    done
  done
  find "$root" -depth -type d -exec rmdir {} + 2>/dev/null || true
}
cleanup() {
  stop_all
  remove_tree
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$root/$1/memory.stat"; }
# Runs the rest of the command line in the background inside cgroup $1.
in_cgroup() {
  local cg=$1
  shift
  (
    echo "$BASHPID" >"$root/$cg/cgroup.procs"
    exec "$@"
  ) &
  pids+=($!)
}
metric() { # PORT NAME: an unlabelled metric's value from the daemon's /metrics
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  awk -v n="$2" '$1 == n { printf "%.0f", $2 }' <&3
  exec 3<&-
}
# Sums a numeric field of the log's "reclaim" events of one leaf.
reclaim_sum() { # LOG LEAF FIELD
  grep '"event":"reclaim"' "$1" | grep "/$2\"" | grep -o "\"$3\":[0-9]*" |
    awk -F: '{ s += $2 } END { printf "%.0f", s }'
}

run() { # MODE (feedback | no-feedback)
  local mode=$1 port=$((20000 + RANDOM % 20000)) log=$scratch/$1.log
  mkdir -p "$root/hot" "$root/cold" "$scratch/$mode"
  for cg in hot cold; do echo 400M >"$root/$cg/memory.limit_in_bytes"; done
  local hot_files=()
  for i in $(seq 8); do hot_files+=("$scratch/$mode/hot-$i"); done
  # The hot leaf's 80 MiB, written from inside it, then read again and again with short pauses.
  # shellcheck disable=SC2016 # the inner scripts expand their own variables
  in_cgroup hot sh -c 'for f; do dd if=/dev/zero of="$f" bs=1M count=10 conv=fsync status=none; done
    while :; do cat "$@" >/dev/null; sleep 0.2; done' sh "${hot_files[@]}"
  # The cold leaf: a new 8 MiB file, synced, every 0.2 s, never read again.
  # shellcheck disable=SC2016
  in_cgroup cold sh -c 'i=0; while :; do i=$((i + 1))
    dd if=/dev/zero of="$1/cold-$i" bs=1M count=8 conv=fsync status=none; sleep 0.2; done' \
    sh "$scratch/$mode"
  sleep 3 # the hot files written and in the cache
  local args=(--parent "$root" --threshold 10% --interval 1 --cooldown 2 --log-format json
    --listen "127.0.0.1:$port")
  [[ $mode == feedback ]] || args+=(--no-refault-backoff)
  local kernel_before
  kernel_before=$(stat_of hot workingset_refault_file)
  "$daemon" "${args[@]}" 2>"$log" &
  local daemon_pid=$!
  local cold_max=0 cold_sum=0 hot_sum=0 samples=0 end=$((SECONDS + seconds)) c
  while ((SECONDS < end)); do
    c=$(stat_of cold cache)
    ((c > cold_max)) && cold_max=$c
    cold_sum=$((cold_sum + c))
    hot_sum=$((hot_sum + $(stat_of hot cache)))
    samples=$((samples + 1))
    sleep 0.25
  done
  local refaulted
  refaulted=$(metric "$port" cgmm_reclaim_refaulted_bytes_total)
  kill "$daemon_pid"
  wait "$daemon_pid" || true
  local kernel=$((($(stat_of hot workingset_refault_file) - kernel_before) * page))
  stop_all

  local hot_n cold_n hot_freed cold_freed
  hot_n=$(grep '"event":"reclaim"' "$log" | grep -c '/hot"' || true)
  cold_n=$(grep '"event":"reclaim"' "$log" | grep -c '/cold"' || true)
  hot_freed=$(reclaim_sum "$log" hot freed_bytes)
  cold_freed=$(reclaim_sum "$log" cold freed_bytes)
  local freed=$((hot_freed + cold_freed))
  echo "== $mode (${seconds} s)"
  echo "reclaims: hot $hot_n, cold $cold_n (hot/cold $(awk -v h="$hot_n" -v c="$cold_n" \
    'BEGIN { printf "%.2f", c ? h / c : 0 }'))"
  echo "freed: hot $((hot_freed / kMiB)) MiB, cold $((cold_freed / kMiB)) MiB"
  echo "refaulted (the daemon's count): $((refaulted / kMiB)) MiB, $(awk -v r="$refaulted" \
    -v f="$freed" 'BEGIN { printf "%.1f", f ? 100 * r / f : 0 }')% of all freed"
  echo "hot leaf's refaults (the kernel's count): $((kernel / kMiB)) MiB;" \
    "its mean cache $((hot_sum / samples / kMiB)) MiB"
  echo "cold leaf's cache: mean $((cold_sum / samples / kMiB)) MiB, most $((cold_max / kMiB)) MiB" \
    "(threshold 40 MiB)"
  remove_tree
}

run feedback
run no-feedback
