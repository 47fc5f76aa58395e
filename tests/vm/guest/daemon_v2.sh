#!/bin/sh
# Guest script (busybox ash) for tests/vm/run.sh: runs the real daemon against a Kubernetes-shaped
# cgroup v2 tree and judges it by memory.stat `file` of the leaves, never by its logs.
#   tests/vm/run.sh tests/vm/guest/daemon_v2.sh build/cgroup-memory-manager build/tests/cgmm_fill_mark
# Both binaries must be static (the guest has no shared libraries).
#
# Tree (systemd driver, containerd), limits in memory.max:
#   kubepods.slice/kubepods-burstable.slice/
#     pod A slice, 256M:  hot (own 64M), cold (own 64M), inherit (none), big (own 1G)
#     pod B slice, 512M:  roomy (none)
#     pod C slice, none:  alone, guarded (memory.high 200M each, no memory.max on the path)
# With --threshold 25% of the effective limit (smallest memory.max on the path):
#   hot 16M, cold 16M, inherit 64M (pod A), big 64M (pod A, not its own 1G), roomy 128M (pod B).
set -u

readonly kDaemon=/bin/cgroup-memory-manager
readonly kMiB=1048576
readonly kCg=/sys/fs/cgroup
readonly kParent=$kCg/kubepods.slice
readonly kCooldown=30
readonly kLogs=/tmp/daemon-logs

burstable=$kParent/kubepods-burstable.slice
pod_a=$burstable/kubepods-burstable-poda1a1a1a1_0000_4000_8000_00000000000a.slice
pod_b=$burstable/kubepods-burstable-podb2b2b2b2_0000_4000_8000_00000000000b.slice
scope() { echo "cri-containerd-$(printf "%064d" 0 | tr 0 "$1").scope"; }
hot=$pod_a/$(scope a)
cold=$pod_a/$(scope b)
inherit=$pod_a/$(scope c)
big=$pod_a/$(scope d)
roomy=$pod_b/$(scope e)
leaves="$hot $cold $inherit $big $roomy"

daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ]; then
    kill "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
  fi
}
trap cleanup EXIT

show_logs() {
  for log in "$kLogs"/*.log; do
    [ -f "$log" ] || continue
    echo "---- $log (last 40 lines)"
    tail -n 40 "$log"
  done
}
fail() {
  echo "FAIL: $*"
  show_logs
  exit 1
}
pass() { echo "ok: $*"; }
# fail_later WHAT: a failed check that does not stop the rest; the script fails at its end.
late_failures=
fail_later() {
  echo "FAIL (the other checks go on): $*"
  late_failures="$late_failures
  $*"
}

name_of() {
  case $1 in
    "$hot") echo hot ;;
    "$cold") echo cold ;;
    "$inherit") echo inherit ;;
    "$big") echo big ;;
    "$roomy") echo roomy ;;
    *) echo "$1" ;;
  esac
}
file_of() { awk '$1 == "file" { print $2 }' "$1/memory.stat"; }
mib_of() { echo $(($(file_of "$1") / kMiB)); }
uptime_s() { awk '{ printf "%d", $1 }' /proc/uptime; }
# alive PID: running and not yet a zombie (kill -0 succeeds on an unreaped child).
alive() {
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$state" ] && [ "$state" != Z ]
}
# kernel_at_least, shared by the guest scripts (tests/vm/run.sh puts it there).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

report() {
  line="$1:"
  for leaf in $leaves; do line="$line $(name_of "$leaf")=$(mib_of "$leaf")M"; done
  echo "$line"
}

# fill LEAF MIB: replaces LEAF's data file with MIB MiB of clean page cache charged to LEAF.
fill() {
  data=/mnt/$(name_of "$1").dat
  rm -f "$data"
  sh -c 'echo $$ >"$1/cgroup.procs" && dd if=/dev/zero of="$2" bs=1M count="$3" 2>/dev/null && sync' \
    fill "$1" "$data" "$2" || fail "could not write $2 MiB from $(name_of "$1")"
}
# reset: removing the data files frees their page cache.
reset() {
  rm -f /mnt/*.dat
  sync
  for leaf in $leaves; do
    [ "$(file_of "$leaf")" -lt "$kMiB" ] || fail "$(name_of "$leaf") keeps $(mib_of "$leaf") MiB after reset"
  done
}

# run_once NAME ARGS...: one --once run of the daemon; it must exit 0.
run_once() {
  name=$1
  shift
  "$kDaemon" --parent "$kParent" --once --log-level debug "$@" >"$kLogs/$name.log" 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || fail "$name: '$kDaemon $*' exited $rc"
}

expect_kept() { # LEAF BEFORE_BYTES WHAT
  now=$(file_of "$1")
  [ "$now" -ge $(($2 - kMiB)) ] ||
    fail "$3: $(name_of "$1") dropped from $(($2 / kMiB)) to $((now / kMiB)) MiB, expected to keep its cache"
}
expect_below() { # LEAF MIB WHAT
  now=$(file_of "$1")
  [ "$now" -lt $(($2 * kMiB)) ] ||
    fail "$3: $(name_of "$1") still holds $((now / kMiB)) MiB, expected below $2 MiB"
}

build_tree() {
  for dir in "$kParent" "$burstable" "$pod_a" "$pod_b"; do
    mkdir "$dir" && echo +memory >"$dir/cgroup.subtree_control" || fail "create $dir with +memory"
  done
  for leaf in $leaves; do mkdir "$leaf" || fail "mkdir $leaf"; done
  echo 256M >"$pod_a/memory.max" && echo 512M >"$pod_b/memory.max" &&
    echo 64M >"$hot/memory.max" && echo 64M >"$cold/memory.max" && echo 1G >"$big/memory.max" ||
    fail "set memory.max"
  [ "$(cat "$inherit/memory.max")" = max ] && [ "$(cat "$roomy/memory.max")" = max ] ||
    fail "inherit and roomy must have no memory.max of their own"
  pass "tree under $kParent built"
}

[ -x "$kDaemon" ] || fail "$kDaemon missing: pass the static daemon binary to tests/vm/run.sh"
mkdir -p "$kLogs"
build_tree

# Over threshold: hot 40>16, inherit 80>64, big 80>64 (only against pod A's limit).
# Under: cold 8<16, roomy 64<128 (over pod A's 64M or hot's 16M, so a global minimum fails it).
reset
fill "$hot" 40
fill "$cold" 8
fill "$inherit" 80
fill "$big" 80
fill "$roomy" 64
report "filled"
snapshot=
for leaf in $leaves; do snapshot="$snapshot $(file_of "$leaf")"; done

run_once dry-run --threshold 25% --dry-run
report "after --dry-run --once"
set -- $snapshot # split on purpose: one size per leaf
for leaf in $leaves; do
  expect_kept "$leaf" "$1" "--dry-run"
  shift
done
pass "--dry-run --once changes nothing"

run_once once --threshold 25%
report "after --once --threshold 25%"
expect_below "$hot" 8 "--once"
expect_below "$inherit" 32 "--once"
expect_below "$big" 32 "--once"
set -- $snapshot # split on purpose: one size per leaf
expect_kept "$cold" "$2" "--once"
expect_kept "$roomy" "$5" "--once"
pass "leaves over 25% of their effective limit are reclaimed well below it; leaves under keep their cache"
pass "a leaf without memory.max is judged against its pod slice's limit; own limits above the pod's do not count"
# Kernels before 6.11 reject "swappiness=" with EINVAL: the reclaims above worked through the
# fallback to plain amounts, which the daemon says once per run. From 6.11 the kernel takes
# "swappiness=0" and there is no fallback to tell.
fallbacks=$(grep -c "does not take swappiness=" "$kLogs/once.log")
if kernel_at_least 6 11; then
  [ "$fallbacks" -eq 0 ] || fail "swappiness fallback logged $fallbacks times on $(uname -r), which takes swappiness="
  pass "memory.reclaim with swappiness=0 on $(uname -r): no fallback"
else
  [ "$fallbacks" -eq 1 ] || fail "swappiness fallback logged $fallbacks times in one run, expected once"
  pass "memory.reclaim without swappiness= on $(uname -r): fallback used and logged once"
fi

# Absolute threshold with a target: reclaim leaves at most the target, and not everything.
reset
fill "$hot" 40
fill "$cold" 8
fill "$inherit" 60
report "filled"
cold_before=$(file_of "$cold")
run_once target --threshold 32MiB --reclaim-target 24MiB
report "after --once --threshold 32MiB --reclaim-target 24MiB"
for leaf in "$hot" "$inherit"; do
  now=$(file_of "$leaf")
  # Slab freed during the same reclaim counts toward the amount on 6.1, hence the 2 MiB slack.
  [ "$now" -le $((26 * kMiB)) ] || fail "--reclaim-target: $(name_of "$leaf") holds $((now / kMiB)) MiB, want at most 24"
  [ "$now" -ge "$kMiB" ] || fail "--reclaim-target: $(name_of "$leaf") was emptied, want about 24 MiB kept"
done
expect_kept "$cold" "$cold_before" "--reclaim-target"
pass "--reclaim-target 24MiB leaves at most the target and keeps some cache"
# "Down to the target" also means not far below it. One write of the whole excess overshoots
# on 6.1 (kernel_facts.sh: 150 MiB asked of 190, all taken), so there this fails until the
# daemon reclaims in steps with a read between them; 6.12 and later take the amount asked.
target_ok=1
for leaf in "$hot" "$inherit"; do
  now=$(file_of "$leaf")
  if [ "$now" -lt $((22 * kMiB)) ]; then
    target_ok=
    fail_later "--reclaim-target: $(name_of "$leaf") holds $((now / kMiB)) MiB, want about the 24 MiB target (at least 22) on $(uname -r)"
  fi
done
if [ -n "$target_ok" ]; then
  pass "--reclaim-target 24MiB keeps at least 22 MiB: the reclaim stops near the target"
else
  grep " reclaimed pod " "$kLogs/target.log"
fi

# The case seen on 6.1: a 400 MiB limit, 190 MiB of clean cache, --threshold 25% and
# --reclaim-target 10%. The reclaim ends within 5% of the limit (20 MiB) of the 40 MiB target.
reset
echo 400M >"$roomy/memory.max" || fail "set memory.max of roomy"
fill "$roomy" 190
run_once precise --threshold 25% --reclaim-target 10%
now=$(mib_of "$roomy")
echo max >"$roomy/memory.max"
grep " reclaimed " "$kLogs/precise.log"
if [ "$now" -ge 20 ] && [ "$now" -le 60 ]; then
  pass "--reclaim-target 10% of 400 MiB: 190 MiB of cache reclaimed down to $now MiB (target 40 MiB, within 20)"
else
  fail_later "--reclaim-target 10% of 400 MiB: roomy holds $now MiB, want 40 MiB within 20, on $(uname -r)"
fi

# Cooldown: a running daemon reclaims hot once, then leaves the refilled hot alone until the
# cooldown has passed, while still reclaiming another leaf that goes over in the meantime.
reset
fill "$hot" 40
"$kDaemon" --parent "$kParent" --threshold 25% --interval 1 --cooldown "$kCooldown" --log-level debug \
  >"$kLogs/running.log" 2>&1 &
daemon_pid=$!
start=$(uptime_s)
while [ "$(file_of "$hot")" -ge $((16 * kMiB)) ]; do
  alive "$daemon_pid" || fail "the running daemon exited"
  [ $(($(uptime_s) - start)) -lt 30 ] || fail "running daemon did not reclaim hot within 30 s"
  sleep 0.5
done
first=$(uptime_s)
echo "running daemon reclaimed hot after $((first - start)) s: $(mib_of "$hot") MiB left"
fill "$hot" 40
fill "$inherit" 80
report "refilled hot inside its cooldown, filled inherit"
# Watch hot for at most 20 s after its first reclaim was seen, well inside the 30 s cooldown.
while :; do
  alive "$daemon_pid" || fail "the running daemon exited"
  [ "$(file_of "$hot")" -ge $((16 * kMiB)) ] ||
    fail "cooldown: hot reclaimed again $(($(uptime_s) - first)) s after its first reclaim (cooldown ${kCooldown} s)"
  elapsed=$(($(uptime_s) - first))
  if [ "$(file_of "$inherit")" -lt $((32 * kMiB)) ] && [ "$elapsed" -ge 10 ]; then break; fi
  [ "$elapsed" -lt 20 ] || fail "cooldown: inherit (not cooling down) was not reclaimed within 20 s"
  sleep 0.5
done
report "inside hot's cooldown"
pass "cooldown holds for hot; inherit is reclaimed meanwhile"
while [ "$(file_of "$hot")" -ge $((16 * kMiB)) ]; do
  alive "$daemon_pid" || fail "the running daemon exited"
  [ $(($(uptime_s) - first)) -lt $((kCooldown + 30)) ] ||
    fail "cooldown: hot not reclaimed again within $((kCooldown + 30)) s of its first reclaim"
  sleep 0.5
done
echo "hot reclaimed again $(($(uptime_s) - first)) s after its first reclaim"
pass "hot is reclaimed again once the cooldown has passed"

kill -TERM "$daemon_pid"
i=0
while alive "$daemon_pid" && [ $i -lt 100 ]; do
  sleep 0.1
  i=$((i + 1))
done
alive "$daemon_pid" && fail "daemon still running 10 s after SIGTERM"
wait "$daemon_pid"
echo "daemon exited with status $? after SIGTERM"
daemon_pid=

# Between scans: with --interval 60 the next scan is a minute away, yet each leaf pushed over its
# threshold is reclaimed within moments, because memory.current is read at a pace set by each
# leaf's distance to its threshold. Latency: from the writer's clock at the crossing byte to the
# daemon's reclaim_start (both the guest's wall clock, milliseconds).
readonly kFill=/bin/cgmm_fill_mark
# log_ms TIME: "2026-11-29T08:47:36.342Z" -> milliseconds since the epoch.
log_ms() {
  secs=$(date -u -D '%Y-%m-%dT%H:%M:%S' -d "${1%.*}" +%s) || return 1
  frac=${1##*.}
  frac=$(echo "${frac%Z}" | sed 's/^0*//')
  echo $((secs * 1000 + ${frac:-0}))
}
# start_daemon NAME ARGS...: runs the daemon in the background until its first scan is logged.
start_daemon() {
  log=$kLogs/$1.log
  shift
  "$kDaemon" --parent "$kParent" --log-format json --log-level debug "$@" >"$log" 2>&1 &
  daemon_pid=$!
  i=0
  until grep -q '"event":"scan_first"' "$log"; do
    alive "$daemon_pid" || fail "daemon exited before its first scan"
    [ $i -lt 300 ] || fail "no first scan within 30 s"
    sleep 0.1
    i=$((i + 1))
  done
}
stop_daemon() {
  kill -TERM "$daemon_pid"
  wait "$daemon_pid"
  rc=$?
  daemon_pid=
  [ "$rc" -eq 0 ] || fail "daemon exited $rc after SIGTERM"
}

[ -x "$kFill" ] || fail "$kFill missing: pass it to tests/vm/run.sh"
reset
start_daemon between --threshold 25% --interval 60 --cooldown 30
latencies=
for pair in "$hot 16" "$cold 16" "$inherit 64" "$big 64" "$roomy 128"; do
  set -- $pair # split on purpose: leaf and threshold in MiB
  leaf=$1
  name=$(name_of "$leaf")
  # 2 MiB past the threshold: the reclaim may start while the writer is still at it, and what it
  # writes afterwards must not take the cache back over (the leaf is then in its cooldown).
  mark=$("$kFill" "$leaf" "/mnt/$name.dat" $(($2 + 2)) "$2") || fail "$name: writer failed"
  i=0
  until line=$(grep '"event":"reclaim_start"' "$log" | grep "${leaf##*/}" | head -n 1) && [ -n "$line" ]; do
    alive "$daemon_pid" || fail "the running daemon exited"
    [ $i -lt 200 ] || fail "$name: no reclaim within 20 s of crossing its threshold (interval 60 s)"
    sleep 0.1
    i=$((i + 1))
  done
  at=$(log_ms "$(echo "$line" | sed 's/.*"time":"\([^"]*\)".*/\1/')") || fail "bad time in: $line"
  latency=$((at - mark))
  latencies="$latencies $latency"
  # A fast path reads memory.current within a second of any crossing; the rest is the check.
  [ "$latency" -lt 5000 ] || fail "$name: reclaim started $latency ms after the crossing"
  i=0
  while [ "$(file_of "$leaf")" -ge $(($2 * kMiB)) ]; do
    [ $i -lt 100 ] || fail "$name: still $(mib_of "$leaf") MiB 10 s after its reclaim started"
    sleep 0.1
    i=$((i + 1))
  done
done
echo "latency from crossing to reclaim start, --interval 60 (ms):$latencies"
# Paced reads see these writers within 50 ms; a plain once-a-second read would average 500 ms.
median=$(echo "$latencies" | tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | sed -n 3p)
[ "$median" -lt 250 ] || fail "median latency $median ms, expected under 250 ms"
stop_daemon
pass "between scans, every leaf over its threshold is reclaimed within 5 s (median ${median} ms), not at the next scan"

# The same without the fast path: nothing happens until the next scan, a minute away.
reset
start_daemon no-fast-path --threshold 25% --interval 60 --cooldown 30 --no-notifications
"$kFill" "$hot" /mnt/hot.dat 32 16 >/dev/null || fail "hot: writer failed"
sleep 5
expect_kept "$hot" $((32 * kMiB)) "--no-notifications"
stop_daemon
pass "with --no-notifications the same crossing waits for the next scan"

# The kubelet's working set on /metrics: memory.current less memory.stat inactive_file, at
# least 0. roomy's 40 MiB of fresh, synced cache is inactive, so its working set is far below its
# usage. The page is a scan old and memory.stat is flushed lazily (every 2 s): read both until
# they agree within 2 MiB.
working_set_of() { # PAGE LEAF
  echo "$1" | awk -v leaf="${2##*/}" 'index($0, "cgmm_leaf_working_set_bytes{") == 1 && index($0, leaf) { print $NF }'
}
reset
fill "$roomy" 40
ip link set lo up || fail "metrics: cannot bring up lo for --listen"
start_daemon metrics --threshold 25% --interval 1 --listen 127.0.0.1:9102
i=0
while :; do
  page=$(wget -q -O - http://127.0.0.1:9102/metrics) || page=
  gauge=$(working_set_of "$page" "$roomy")
  current=$(cat "$roomy/memory.current")
  inactive=$(awk '$1 == "inactive_file" { print $2 }' "$roomy/memory.stat")
  expected=0
  [ "$current" -le "$inactive" ] || expected=$((current - inactive))
  if [ -n "$gauge" ]; then
    off=$((gauge - expected))
    [ "$off" -ge 0 ] || off=$((-off))
    [ "$off" -gt $((2 * kMiB)) ] || break
  fi
  alive "$daemon_pid" || fail "metrics: the running daemon exited"
  [ $i -lt 100 ] || fail "metrics: roomy's working set on the page is '$gauge', memory.current $current less inactive_file $inactive is $expected"
  sleep 0.2
  i=$((i + 1))
done
[ "$gauge" -lt $((current - 30 * kMiB)) ] ||
  fail "metrics: roomy's working set $gauge is not 30 MiB below its usage $current"
stop_daemon
pass "roomy's working set on /metrics is $((gauge / kMiB)) MiB: memory.current $((current / kMiB)) MiB less inactive_file $((inactive / kMiB)) MiB"

# Refault feedback: a leaf that reads back what a reclaim freed keeps its cache for longer (hot
# cache). The kernel counts the read-back in memory.stat `workingset_refault_file`, in pages. On
# 6.1 a reclaim that empties the leaf's cache also drops the kernel's record of what it evicted
# (kernel_facts.sh), so the reclaim here keeps a target (10% of hot's 64 MiB). Should a memcg
# reclaim still drop that record (seen on v1 now and then), none of the read-back counts: the
# leaf is then reclaimed again after its cooldown and read back again, up to three times.
refaults_of() { awk '$1 == "workingset_refault_file" { print $2 }' "$1/memory.stat"; }
reset
fill "$hot" 40
start_daemon refault --threshold 25% --reclaim-target 10% --interval 1 --cooldown 3
refaulted=0
for try in 1 2 3; do
  i=0
  while [ "$(file_of "$hot")" -ge $((16 * kMiB)) ]; do
    alive "$daemon_pid" || fail "the running daemon exited"
    [ $i -lt 300 ] || fail "refault: hot not reclaimed within 30 s (try $try)"
    sleep 0.1
    i=$((i + 1))
  done
  before=$(refaults_of "$hot")
  sh -c 'echo $$ >"$1/cgroup.procs" && cat "$2" >/dev/null' read "$hot" /mnt/hot.dat ||
    fail "could not read hot's file back from hot"
  refaulted=$((($(refaults_of "$hot") - before) * 4096))
  [ "$refaulted" -lt $((20 * kMiB)) ] || break
  echo "refault: the kernel counted $((refaulted / kMiB)) MiB of the 34 freed (try $try); again"
done
[ "$refaulted" -ge $((20 * kMiB)) ] || fail "refault: the kernel never counted the read-back as refaults"
i=0
until grep '"event":"reclaim_refaulted"' "$log" | grep -q "${hot##*/}"; do
  alive "$daemon_pid" || fail "the running daemon exited"
  [ $i -lt 200 ] || fail "refault: no reclaim_refaulted for hot within 20 s of reading back $((refaulted / kMiB)) MiB"
  sleep 0.1
  i=$((i + 1))
done
# Held back as hot cache (2 cooldowns from the harmful reclaim): the cache read back stays.
kept=$(mib_of "$hot")
[ "$kept" -ge 16 ] || fail "refault: hot holds $kept MiB after reclaim_refaulted, want its read-back cache kept"
stop_daemon
pass "a leaf that read back $((refaulted / kMiB)) MiB (kernel's count) is judged hot and keeps $kept MiB over its 16 MiB threshold"

# memory.high (Kubernetes Memory QoS) without any memory.max: the leaf's effective limit is its
# memory.high, and the kernel throttles a leaf whose usage reaches it (memory.events `high`).
# A workload streams 600 MiB through new files at a modest pace, first alone, then with the
# daemon at --threshold 50%: judged by memory.events, never by timing.
#   Pace: 4 MiB files, each synced, then 20 ms of sleep: 40 to 60 MiB/s under TCG on a 2-core
#   host (600 MiB in 10 to 16 s on 6.1, 6.12 and 7.2). The writer shares the emulated CPUs with
#   the daemon, so a busier host slows both; the sleeps leave the daemon's threads room.
#   Margin: from the threshold (100 MiB) to memory.high (200 MiB) is 100 MiB, 1.7 s of writing at
#   60 MiB/s. The daemon needs far less: memory.current is read at least every 250 ms near the
#   level, a reclaim of 100 MiB of clean cache takes about 0.1 s, and memory.peak stayed at
#   105-106 MiB on every kernel: 6 of the 100 MiB used. --cooldown 1 is shorter than the 1.7 s
#   the cache needs to refill to the threshold, so no cooldown holds a due reclaim back.
#   Cost: about 30 s of VM time per kernel, both streams included.
readonly kHighMiB=200
readonly kStreamMiB=600
pod_c=$burstable/kubepods-burstable-podc3c3c3c3_0000_4000_8000_00000000000c.slice
alone=$pod_c/$(scope f)
guarded=$pod_c/$(scope 1)
high_events() { awk '$1 == "high" { print $2 }' "$1/memory.events"; }
peak_mib() {
  if [ -f "$1/memory.peak" ]; then echo "$(($(cat "$1/memory.peak") / kMiB)) MiB"; else echo unknown; fi
}
# stream LEAF: the workload, its files kept until the leaf's count is read.
stream() {
  dir=/mnt/stream-${1##*/}
  mkdir -p "$dir" || fail "mkdir $dir"
  took=$("$kFill" --stream "$1" "$dir" "$kStreamMiB" 4 20) || fail "stream into ${1##*/} failed"
  echo "streamed $kStreamMiB MiB into ${1##*/} in $took ms: memory.events high $(high_events "$1"), memory.peak $(peak_mib "$1")"
}
reset
if ! mkdir "$pod_c" || ! echo +memory >"$pod_c/cgroup.subtree_control" || ! mkdir "$alone" "$guarded"; then
  fail "create $pod_c and its leaves"
fi
for leaf in "$alone" "$guarded"; do
  echo "${kHighMiB}M" >"$leaf/memory.high" || fail "set memory.high of ${leaf##*/}"
done
for dir in "$kParent" "$burstable" "$pod_c" "$alone" "$guarded"; do
  [ "$(cat "$dir/memory.max")" = max ] || fail "$dir must have no memory.max"
done

"$kDaemon" --parent "$kParent" --once --dry-run --threshold 50% --output json --log-level warn \
  >"$kLogs/high-report.json" 2>"$kLogs/high-report.log" || fail "--once --output json failed"
# The leaf's own object: from its "cgroup" line to the brace that closes it.
entry=$(awk -v leaf="${guarded##*/}" 'index($0, "\"cgroup\": ") && index($0, leaf) { on = 1 }
  on { print } on && /^    }/ { exit }' "$kLogs/high-report.json")
if ! echo "$entry" | grep -q "\"limit_bytes\": $((kHighMiB * kMiB)),$" ||
  ! echo "$entry" | grep -q '"limit_kind": "high"'; then
  fail "the report does not give ${guarded##*/} memory.high ($kHighMiB MiB) as its limit: $entry"
fi
pass "a leaf with memory.high and no memory.max: limit $kHighMiB MiB, limit_kind high in the report"

stream "$alone"
alone_high=$(high_events "$alone")
rm -rf "/mnt/stream-${alone##*/}"
[ "$alone_high" -gt 0 ] || fail "without the daemon ${alone##*/} was never throttled (memory.events high 0)"
pass "without the daemon the stream runs into memory.high: memory.events high $alone_high"

start_daemon high --threshold 50% --cooldown 1
stream "$guarded"
guarded_high=$(high_events "$guarded")
reclaims=$(grep '"event":"reclaim"' "$log" | grep -c "${guarded##*/}")
stop_daemon
rm -rf "/mnt/stream-${guarded##*/}"
[ "$guarded_high" -eq 0 ] ||
  fail "with the daemon ${guarded##*/} was still throttled: memory.events high $guarded_high after $reclaims reclaims"
[ "$reclaims" -gt 0 ] || fail "the daemon never reclaimed ${guarded##*/}"
grep '"event":"reclaim_start"' "$log" | grep "${guarded##*/}" | grep -q '"limit_kind":"high"' ||
  fail "the daemon's reclaim_start events do not say limit_kind high"
pass "with the daemon (--threshold 50% of memory.high) the same stream is never throttled: $reclaims reclaims, memory.events high 0"

if [ -n "$late_failures" ]; then
  echo "FAIL: checks that failed above:$late_failures"
  exit 1
fi
echo "all daemon checks hold"
