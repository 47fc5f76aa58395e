#!/usr/bin/env bash
# Removes cgroups and scratch files left by test or demo runs whose process is gone (a crashed
# test cannot clean up after itself). Touches only cgmm-test-<pid>-* and cgmm-demo-<pid> entries,
# in every cgroup hierarchy: a container engine's test (tests/deploy/podman.sh) has its container
# made in all of them.
set -u
for dir in /sys/fs/cgroup/*/cgmm-test-* /sys/fs/cgroup/*/cgmm-demo-*; do
  [[ -d $dir ]] || continue
  base=${dir##*/}
  pid=${base#cgmm-test-}
  pid=${pid#cgmm-demo-}
  pid=${pid%%-*}
  [[ $pid =~ ^[0-9]+$ ]] || continue
  kill -0 "$pid" 2>/dev/null && continue
  echo "removing leftover $dir"
  find "$dir" -depth -mindepth 0 -type d -exec rmdir {} + 2>/dev/null
done
for dir in /var/tmp/cgmm-test-* /var/tmp/cgmm-demo-*; do
  [[ -d $dir ]] || continue
  base=${dir##*/}
  pid=${base#cgmm-test-}
  pid=${pid#cgmm-demo-}
  pid=${pid%%-*}
  [[ $pid =~ ^[0-9]+$ ]] || continue
  kill -0 "$pid" 2>/dev/null || rm -rf "$dir"
done
exit 0
