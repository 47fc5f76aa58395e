#!/usr/bin/env bash
# A live demonstration on real cgroups: installs what is missing, builds, creates a small
# kubepods-like tree under the cgroup v1 memory hierarchy, fills page cache in some containers,
# runs the daemon on it and shows memory.stat before and after. Cleans everything up on exit.
# Run as root. Options: DEMO_SECONDS (how long the daemon runs, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build}

scripts/setup.sh
# The daemon alone: the tests and benchmarks take minutes to build and the demo needs none of them.
BUILD_TARGET=cgroup-memory-manager scripts/build.sh >/dev/null
bin=$BUILD_DIR/cgroup-memory-manager

root=/sys/fs/cgroup/memory/cgmm-demo-$$
scratch=/var/tmp/cgmm-demo-$$
pod_a=$root/kubepods/burstable/pod6c1f0b2a-8d3e-4f5a-9b7c-1e2d3f4a5b6c
pod_b=$root/kubepods/besteffort/pod9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b
leaves=("$pod_a/web" "$pod_a/sidecar" "$pod_b/batch")
writers=()
daemon=

cleanup() {
  set +e
  [[ -n $daemon ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  # Each writer leads its own process group (setsid), so its sleep goes with it.
  for pid in "${writers[@]}"; do kill -- "-$pid" 2>/dev/null; done
  for pid in "${writers[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$scratch"
  [[ -d $root ]] && find "$root" -depth -type d -exec rmdir {} + 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ -f /sys/fs/cgroup/memory/memory.stat ]] || {
  echo "demo: needs the cgroup v1 memory hierarchy at /sys/fs/cgroup/memory" >&2
  exit 1
}

mkdir -p "${leaves[@]}" "$scratch"
echo 256M >"$pod_a/memory.limit_in_bytes"   # a pod limit; its containers inherit it
echo 128M >"$pod_a/web/memory.limit_in_bytes"

# A writer lives in a container and writes a fresh file every few seconds, as a log-heavy or
# file-processing workload does. Its page cache is charged to that container.
start_writer() {  # cgroup, MiB per file, seconds between files
  setsid bash -c '
    cg=$1 mib=$2 pause=$3 out=$4
    echo $$ >"$cg/cgroup.procs"
    n=0
    while :; do
      dd if=/dev/zero of="$out-$n" bs=1M count="$mib" conv=fsync status=none
      n=$((n + 1))
      sleep "$pause"
    done' writer "$1" "$2" "$3" "$scratch/${1##*/}" &
  writers+=($!)
}

show() {
  printf '%-14s %10s %12s %10s\n' container "cache MiB" "limit MiB" "shmem MiB"
  for cg in "${leaves[@]}"; do
    awk -v name="${cg##*/}" '
      $1 == "cache" { c = $2 } $1 == "shmem" { s = $2 } $1 == "hierarchical_memory_limit" { l = $2 }
      END { printf "%-14s %10.1f %12s %10.1f\n", name, c / 1048576,
              (l > 2^62 ? "none" : sprintf("%.0f", l / 1048576)), s / 1048576 }' "$cg/memory.stat"
  done
}

echo "== demo tree: $root/kubepods"
echo "   web: 128 MiB limit, writes 40 MiB every 8 s (threshold 25% = 32 MiB)"
echo "   sidecar: no limit of its own, pod limit 256 MiB, writes 8 MiB once (threshold 64 MiB)"
echo "   batch: besteffort, no limit anywhere: a percentage threshold never applies"
start_writer "$pod_a/web" 40 8
start_writer "$pod_a/sidecar" 8 3600
start_writer "$pod_b/batch" 40 3600
sleep 3
echo
echo "== memory.stat before the daemon starts"
show
echo
echo "== cgroup-memory-manager --parent $root/kubepods --threshold 25% --interval 2 --cooldown 10"
"$bin" --parent "$root/kubepods" --threshold 25% --interval 2 --cooldown 10 &
daemon=$!
sleep 3
echo
echo "== memory.stat 3 s later: web was over its threshold and is reclaimed"
show
echo
sleep "$((${DEMO_SECONDS:-20} - 3))"
kill -TERM "$daemon"
wait "$daemon" || true
daemon=
echo
echo "== memory.stat at the end (web kept writing; it is reclaimed at most once per cooldown)"
show
echo
echo "== a one-off report of the same tree: cgroup-memory-manager --once --dry-run"
"$bin" --parent "$root/kubepods" --once --dry-run --log-level warn
