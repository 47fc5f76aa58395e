#!/bin/sh
# Guest script (busybox ash) for bench/notify_v2_bench.sh, run by tests/vm/run.sh: the cgroup v2
# watch between scans (memory.current paced by each leaf's distance to its threshold).
#  1. latency from the byte that takes a leaf's cache over its threshold (the writer's clock) to
#     the daemon's reclaim_start, --interval 60, over 20 crossings;
#  2. idle CPU of the daemon on 1,000 quiet leaves: watch on, off, and off with a 1 s interval.
set -u
readonly kDaemon=/bin/cgroup-memory-manager
readonly kFill=/bin/cgmm_fill_mark
readonly kParent=/sys/fs/cgroup/kubepods.slice
readonly kSamples=20
readonly kMiB=1048576

daemon_pid=
cleanup() { [ -z "$daemon_pid" ] || { kill "$daemon_pid"; wait "$daemon_pid"; }; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
log_ms() {
  secs=$(date -u -D '%Y-%m-%dT%H:%M:%S' -d "${1%.*}" +%s) || return 1
  frac=${1##*.}
  frac=$(echo "${frac%Z}" | sed 's/^0*//')
  echo $((secs * 1000 + ${frac:-0}))
}
start() { # LOG ARGS...
  log=$1
  shift
  "$kDaemon" --parent "$kParent" --threshold 25% --log-format json "$@" >"$log" 2>&1 &
  daemon_pid=$!
  n=0
  until grep -q '"event":"scan_first"' "$log"; do
    kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited: $(tail -n 5 "$log")"
    [ $n -lt 300 ] || fail "no first scan within 30 s"
    sleep 0.1
    n=$((n + 1))
  done
}
stop() { kill "$daemon_pid"; wait "$daemon_pid"; daemon_pid=; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

mkdir "$kParent" && echo +memory >"$kParent/cgroup.subtree_control" || fail "parent"
for p in $(seq 0 99); do
  pod=$kParent/pod$p.slice
  mkdir "$pod" && echo +memory >"$pod/cgroup.subtree_control" && echo 256M >"$pod/memory.max" ||
    fail "pod $p"
  for c in $(seq 0 9); do mkdir "$pod/c$c.scope" || fail "leaf $p/$c"; done
done
echo "1,000 leaves under $kParent (100 pod slices of 256 MiB, 10 leaves each)"

echo "== latency over $kSamples crossings, --interval 60 (threshold 64 MiB, 25% of each pod's 256 MiB)"
start /tmp/latency.log --interval 60 --cooldown 30 --log-level debug
all=
for i in $(seq 1 $kSamples); do
  leaf=$kParent/pod$i.slice/c0.scope
  mark=$("$kFill" "$leaf" /mnt/fill.dat 80 64) || fail "writer"
  n=0
  until line=$(grep '"event":"reclaim_start"' /tmp/latency.log | grep "pod$i.slice/c0.scope" | head -n 1) &&
    [ -n "$line" ]; do
    [ $n -lt 300 ] || fail "no reclaim of pod$i within 30 s"
    sleep 0.1
    n=$((n + 1))
  done
  at=$(log_ms "$(echo "$line" | sed 's/.*"time":"\([^"]*\)".*/\1/')")
  all="$all $((at - mark))"
  rm -f /mnt/fill.dat
done
stop
echo "latency (ms):$all"
echo "$all" | tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | awk '
  { v[NR] = $1 }
  END { printf "min %d ms, median %d ms, p90 %d ms, max %d ms (n=%d)\n",
        v[1], v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR], NR }'

echo "== idle CPU on 1,000 quiet leaves (64 MiB under their thresholds), 30 s after start-up"
hz=100
for mode in "--interval 10 --notifications" "--interval 10 --no-notifications" \
  "--interval 1 --no-notifications"; do
  start /tmp/idle.log --log-level info $mode # split on purpose: the options
  sleep 10
  before=$(ticks "$daemon_pid")
  sleep 30
  after=$(ticks "$daemon_pid")
  stop
  echo "$mode: $(((after - before) * 1000 / hz)) ms CPU in 30 s"
done
