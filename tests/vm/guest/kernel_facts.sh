#!/bin/sh
# Guest script (busybox ash) for tests/vm/run.sh: proves the cgroup v2 kernel facts the daemon
# relies on, on a Kubernetes-shaped tree (systemd cgroup driver, containerd). Exits non-zero on
# the first fact that does not hold; prints the measured numbers either way.
set -u

readonly kMiB=1048576
readonly kCg=/sys/fs/cgroup
readonly kPodUid=0d1c7f4e_8a2b_4c3d_9e5f_6a7b8c9d0e1f
readonly kCid1=1111111111111111111111111111111111111111111111111111111111111111
readonly kCid2=2222222222222222222222222222222222222222222222222222222222222222

fail() {
  echo "FAIL: $*"
  exit 1
}
pass() { echo "ok: $*"; }

# stat_of CGROUP KEY: one value of memory.stat.
stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$1/memory.stat"; }
mib() { echo "$(($1 / kMiB)) MiB ($1 bytes)"; }

# write_to and kernel_at_least, shared by the guest scripts (tests/vm/run.sh puts it there).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

# fill CGROUP FILE MIB: a process inside CGROUP writes MIB MiB of clean page cache to FILE.
fill() {
  sh -c 'echo $$ >"$1/cgroup.procs" && dd if=/dev/zero of="$2" bs=1M count="$3" 2>/dev/null && sync' \
    fill "$1" "$2" "$3" || fail "could not write $3 MiB to $2 from $1"
}

echo "kernel $(uname -r)"

grep -qw memory "$kCg/cgroup.controllers" || fail "memory controller not available in cgroup2"
grep -qw memory "$kCg/cgroup.subtree_control" || fail "+memory not in the root's subtree_control"
pass "+memory enabled in $kCg/cgroup.subtree_control"

kubepods=$kCg/kubepods.slice
burstable=$kubepods/kubepods-burstable.slice
pod=$burstable/kubepods-burstable-pod$kPodUid.slice
leaf1=$pod/cri-containerd-$kCid1.scope
leaf2=$pod/cri-containerd-$kCid2.scope
for dir in "$kubepods" "$burstable" "$pod"; do
  mkdir "$dir" || fail "mkdir $dir"
  echo +memory >"$dir/cgroup.subtree_control" || fail "enable +memory in $dir"
done
mkdir "$leaf1" "$leaf2" || fail "mkdir leaves"
echo 256M >"$pod/memory.max" || fail "set memory.max on the pod slice"
[ "$(cat "$pod/memory.max")" = $((256 * kMiB)) ] || fail "pod memory.max reads $(cat "$pod/memory.max")"
for leaf in "$leaf1" "$leaf2"; do
  [ -f "$leaf/memory.stat" ] || fail "no memory.stat in $leaf"
  [ -f "$leaf/memory.reclaim" ] || fail "no memory.reclaim in $leaf"
  [ "$(cat "$leaf/memory.max")" = max ] || fail "leaf memory.max is $(cat "$leaf/memory.max"), want max"
done
pass "tree ${leaf1#"$kCg"/} and a second leaf; memory.max $(cat "$pod/memory.max") on the pod slice only"

before=$(stat_of "$leaf1" file)
fill "$leaf1" /mnt/leaf1.dat 40
filled=$(stat_of "$leaf1" file)
rise=$((filled - before))
echo "leaf1 file before: $(mib "$before"), after writing 40 MiB: $(mib "$filled"), rise $(mib "$rise")"
[ "$rise" -ge $((36 * kMiB)) ] && [ "$rise" -le $((48 * kMiB)) ] ||
  fail "file of leaf1 rose by $rise bytes, want about 40 MiB"
[ -z "$(cat "$leaf1/cgroup.procs")" ] || fail "leaf1 still has processes"
pass "40 MiB written from inside leaf1 is charged to its memory.stat file"

write_to "$leaf1/memory.reclaim" 20M
[ "$write_rc" -eq 0 ] || fail "echo 20M > memory.reclaim failed: $write_err"
reclaimed=$(stat_of "$leaf1" file)
echo "leaf1 file before memory.reclaim 20M: $(mib "$filled"), after: $(mib "$reclaimed"), dropped $(mib $((filled - reclaimed)))"
[ $((filled - reclaimed)) -ge $((18 * kMiB)) ] || fail "memory.reclaim 20M dropped file by only $((filled - reclaimed)) bytes"
pass "memory.reclaim 20M drops file by at least 20M (may overshoot)"

# "swappiness=" in memory.reclaim exists from Linux 6.11 (seen on 6.12 and 7.2); 6.1 rejects it.
before_swappiness=$(stat_of "$leaf1" file)
write_to "$leaf1/memory.reclaim" "10M swappiness=0"
after_swappiness=$(stat_of "$leaf1" file)
echo "write '10M swappiness=0' to memory.reclaim: exit $write_rc, printed: $write_err;" \
  "file $(mib "$before_swappiness") -> $(mib "$after_swappiness")"
if kernel_at_least 6 11; then
  [ "$write_rc" -eq 0 ] || fail "swappiness=0 was rejected; Linux 6.11 and later take it"
  [ "$after_swappiness" -lt "$before_swappiness" ] || fail "memory.reclaim '10M swappiness=0' freed no file pages"
  pass "memory.reclaim takes swappiness=0 on $(uname -r) and reclaims file pages with it"
else
  [ "$write_rc" -ne 0 ] || fail "swappiness=0 was accepted; kernels before 6.11 reject it"
  case $write_err in
    *"Invalid argument"*) pass "memory.reclaim rejects swappiness= with EINVAL on $(uname -r)" ;;
    *) fail "swappiness=0 failed with something other than EINVAL" ;;
  esac
fi

fill "$leaf2" /mnt/leaf2.dat 8
small=$(stat_of "$leaf2" file)
write_to "$leaf2/memory.reclaim" 64M
after=$(stat_of "$leaf2" file)
echo "write 64M to memory.reclaim of leaf2 holding $(mib "$small"): exit $write_rc, printed: $write_err; file after: $(mib "$after")"
[ "$write_rc" -ne 0 ] || fail "asking for more than is reclaimable succeeded"
case $write_err in
  *"Resource temporarily unavailable"*) pass "memory.reclaim beyond what is reclaimable fails with EAGAIN (partial success)" ;;
  *) fail "over-asking memory.reclaim failed with something other than EAGAIN" ;;
esac
[ "$after" -lt "$small" ] || fail "the partial reclaim freed nothing"

# One large request, 150 MiB of a leaf's 190 MiB of clean cache: 6.1 overshoots and takes about
# all of it, 6.12 and 7.2 take the amount asked (kernels between 6.1 and 6.12 were not measured).
# A daemon that must keep a target therefore reclaims in steps and reads between them.
fill "$leaf2" /mnt/leaf2.dat 190
large=$(stat_of "$leaf2" file)
write_to "$leaf2/memory.reclaim" 150M
left=$(stat_of "$leaf2" file)
echo "write 150M to memory.reclaim of leaf2 holding $(mib "$large"): exit $write_rc, printed: $write_err;" \
  "file after: $(mib "$left"), dropped $(mib $((large - left)))"
[ "$write_rc" -eq 0 ] || fail "memory.reclaim 150M of 190M failed: $write_err"
if kernel_at_least 6 12; then
  [ "$left" -ge $((large - 152 * kMiB)) ] && [ "$left" -le $((large - 148 * kMiB)) ] ||
    fail "memory.reclaim 150M dropped $(mib $((large - left))), expected 150 MiB give or take 2 on $(uname -r)"
  pass "memory.reclaim 150M of 190M takes what was asked on $(uname -r)"
else
  [ "$left" -lt $((20 * kMiB)) ] ||
    fail "memory.reclaim 150M of 190M left $(mib "$left"): 6.1 was measured to overshoot to about 0"
  pass "memory.reclaim 150M of 190M overshoots on $(uname -r): $(mib "$left") left of the 40 MiB expected"
fi

# Refaults: a file read back soon after memory.reclaim took it counts in memory.stat
# workingset_refault_file, which the daemon's refault feedback reads. On 6.1 that count is lost
# when the reclaim asks for more than the leaf has left (the steps after the cache ran out:
# measured 0 of 40 MiB), and kept when the reclaim leaves some of it (35 of 36 MiB); 6.12 and
# 7.2 count all of it either way.
refaults() { stat_of "$1" workingset_refault_file; }
# read_back CGROUP FILE: bytes counted as refaults while a process inside CGROUP reads FILE.
read_back() {
  r0=$(refaults "$1")
  sh -c 'echo $$ >"$1/cgroup.procs" && cat "$2" >/dev/null' read "$1" "$2" || fail "could not read $2"
  echo $((($(refaults "$1") - r0) * 4096))
}
rm -f /mnt/leaf2.dat
sync
fill "$leaf2" /mnt/kept.dat 40
for step in 15M 8M 4M 3M; do write_to "$leaf2/memory.reclaim" "$step"; done
kept=$(stat_of "$leaf2" file)
counted=$(read_back "$leaf2" /mnt/kept.dat)
freed=$((40 * kMiB - kept))
echo "40 MiB, reclaimed in 4 steps to $(mib "$kept"), read back: $(mib "$counted") counted as refaults"
[ "$counted" -ge $((freed * 3 / 4)) ] ||
  fail "of the $(mib "$freed") reclaimed and read back only $(mib "$counted") counted as refaults"
pass "what a reclaim that leaves some cache freed counts as refaults when read back"
rm -f /mnt/kept.dat
sync
fill "$leaf2" /mnt/all.dat 40
for step in 20M 10M 5M 5M; do write_to "$leaf2/memory.reclaim" "$step"; done
emptied=$(stat_of "$leaf2" file)
counted=$(read_back "$leaf2" /mnt/all.dat)
echo "40 MiB, reclaimed in 4 steps to $(mib "$emptied"), read back: $(mib "$counted") counted as refaults"
if kernel_at_least 6 12; then
  [ "$counted" -ge $((36 * kMiB)) ] || fail "a leaf's emptied cache read back counted only $(mib "$counted") on $(uname -r)"
  pass "what a reclaim that empties the cache freed counts as refaults when read back on $(uname -r)"
else
  pass "a reclaim that empties the cache on $(uname -r) may lose its refaults: $(mib "$counted") of 40 counted"
fi
rm -f /mnt/all.dat

echo "all kernel facts hold"
