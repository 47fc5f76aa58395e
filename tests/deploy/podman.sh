#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup is called through trap
# A container made by a real podman (Debian's, with runc and the cgroupfs manager) and placed with
# --cgroup-parent in a pod's cgroup, as a kubelet's pod would hold it, is found, named and
# reclaimed by the daemon: it writes page cache, the daemon runs once over the scratch kubepods
# tree with a kubelet log tree laid out for the pod, and the report must give the container id
# podman reports, the pod UID and the namespace, pod and container names; its reclaim is checked
# on the container cgroup's memory.stat, and podman's conmon cgroup beside it is left alone.
#
# podman keeps all its state in a scratch directory (storage root, run root, tmpdir, network
# configuration), so it never sees other containers or images on the machine. On cgroup v1 the
# cgroupfs manager makes the container's cgroup in every hierarchy: the path below each mount is
# /cgmm-test-<pid>-podman/..., and all of it is removed at the end, on failure too. The network
# is none. The base image is Debian 12 made with debootstrap (tests/deploy/base_rootfs.sh, cached
# in .cache/rootfs/) and imported with `podman import`: no registry is needed.
# Usage: tests/deploy/podman.sh [BINARY]   (root; default build/cgroup-memory-manager)
# Ends with the line "podman: N passed, M failed"; exits 1 if anything failed.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-$repo/${BUILD_DIR:-build}/cgroup-memory-manager}
# shellcheck source=tests/deploy/lib.sh
source "$repo/tests/deploy/lib.sh"
started=$SECONDS

name=cgmm-test-$$-podman
# scripts/cleanup-test-cgroups.sh removes both if this script dies without cleaning up.
scratch=/var/tmp/$name
memory=/sys/fs/cgroup/memory
uid=$(cat /proc/sys/kernel/random/uuid)
pod_cgroup=/$name/kubepods/burstable/pod$uid
container_name=cgmm-web
fill_mib=96

# Whether the blob cache podman import keeps for root (/var/lib/containers/cache, no option moves
# it) was there before: if it was not, it is removed with the rest.
had_var_lib_containers=0
[[ -e /var/lib/containers ]] && had_var_lib_containers=1

pm() {
  CONTAINERS_CONF=$scratch/containers.conf CONTAINERS_STORAGE_CONF=$scratch/storage.conf \
    podman --root "$scratch/root" --runroot "$scratch/run" --tmpdir "$scratch/tmp" \
    --network-config-dir "$scratch/net" --volumepath "$scratch/volumes" \
    --storage-driver overlay --cgroup-manager cgroupfs --runtime runc --events-backend file "$@"
}

# The cgroup mounts (every v1 hierarchy and the unified one) in which podman made our path.
our_cgroups() {
  local mount
  for mount in $(findmnt -rn -t cgroup,cgroup2 -o TARGET); do
    [[ -d $mount/$name ]] && echo "$mount/$name"
  done
}

cleanup() {
  if [[ -d $scratch/root ]]; then
    pm rm --all --force --time 0 >/dev/null 2>&1
  fi
  local dir pids
  for dir in $(our_cgroups); do
    # Processes podman left in our cgroups (none once it removed the container) are ours.
    for _ in {1..10}; do
      read -ra pids < <(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | tr '\n' ' ')
      ((${#pids[@]})) || break
      kill -KILL "${pids[@]}" 2>/dev/null
      sleep 0.2
    done
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ -d $dir ]] && echo "podman: could not remove $dir"
  done
  if [[ -d $scratch ]]; then
    findmnt -rn -o TARGET | grep "^$scratch/" | sort -r | xargs -r umount -l
    rm -rf "$scratch"
  fi
  if ((!had_var_lib_containers)) && [[ -d /var/lib/containers ]]; then
    rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
    rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null
  fi
}
trap cleanup EXIT
# Cleans up, says what the run cost and ends with the summary line.
end() {
  cleanup
  trap - EXIT
  echo "podman: took $((SECONDS - started)) s"
  finish podman
}

if [[ $(id -u) -ne 0 ]]; then
  fail "runs as root (it runs podman and makes cgroups)"
  end
fi
if [[ ! -d $memory ]] || [[ $(stat -f -c %T "$memory") != cgroupfs ]]; then
  fail "the cgroup v1 memory controller is mounted at $memory"
  end
fi
if [[ ! -x $binary ]]; then
  fail "the daemon is built: $binary"
  end
fi
mkdir -p "$scratch"/{root,run,tmp,net,volumes,logs/pods,logs/containers}
if ! "$repo/scripts/setup.sh" podman runc jq >"$scratch/setup.log" 2>&1; then
  fail "podman, runc and jq are installed"
  sed 's/^/    /' "$scratch/setup.log"
  end
fi

rootfs_start=$SECONDS
if ! tarball=$("$repo/tests/deploy/base_rootfs.sh"); then
  fail "a Debian 12 root file system is made (tests/deploy/base_rootfs.sh)"
  end
fi
echo "podman: base root file system ready in $((SECONDS - rootfs_start)) s: $tarball"

# Nothing from the host's podman configuration: runc (crun refuses this host's mix of cgroup v1
# and v2), files for events, no networks.
cat >"$scratch/containers.conf" <<'EOF'
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOF
cat >"$scratch/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$scratch/root"
runroot = "$scratch/run"
EOF

version=$(pm version --format '{{.Client.Version}}' 2>&1)
if ! pm import - localhost/debian:12 <"$tarball" >"$scratch/import.log" 2>&1; then
  fail "podman $version imports the base image"
  sed 's/^/    /' "$scratch/import.log"
  end
fi
pass "podman $version imports the base image"

# Explicit ulimits: podman's defaults ask for more than this host's hard limits allow, and runc
# then fails to set RLIMIT_NPROC.
if ! pm run --detach --name "$container_name" --network none \
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --memory 256m \
  --cgroup-parent "$pod_cgroup" localhost/debian:12 sleep infinity >"$scratch/run.log" 2>&1; then
  fail "podman runs a container with --cgroup-parent $pod_cgroup"
  sed 's/^/    /' "$scratch/run.log"
  end
fi
pass "podman runs a container with --cgroup-parent=<scratch>/kubepods/burstable/pod<uid>"

id=$(pm inspect --format '{{.Id}}' "$container_name")
cgroup=$(pm inspect --format '{{.State.CgroupPath}}' "$container_name")
conmon_pid=$(pm inspect --format '{{.State.ConmonPid}}' "$container_name")
container_dir=$memory$cgroup
conmon_dir=$memory$pod_cgroup/conmon
expect "podman names the container's cgroup <parent>/libpod-<id>" \
  test "$cgroup" = "$pod_cgroup/libpod-$id"
expect "podman puts conmon in <parent>/conmon" \
  grep -qx "[0-9]*:memory:$pod_cgroup/conmon" "/proc/$conmon_pid/cgroup"

# The container writes page cache: a fresh file on the overlay's upper directory (on disk),
# synced so that its pages are clean and reclaimable.
cache() { awk '$1 == "cache" {print $2}' "$1/memory.stat"; }
expect "the container writes $fill_mib MiB to a file" \
  pm exec "$container_name" sh -c "dd if=/dev/zero of=/var/tmp/fill bs=1M count=$fill_mib status=none && sync"
before=$(cache "$container_dir")
conmon_before=$(cache "$conmon_dir")
echo "podman: memory.stat cache before: container $((before >> 20)) MiB, conmon $((conmon_before >> 10)) KiB"
expect "the kernel charges the container's writes to its cgroup" \
  test "$before" -ge $(((fill_mib - 8) << 20))

# The kubelet's log trees for the pod, laid out as the kubelet writes them.
pod_dir=$scratch/logs/pods/shop_web-0_$uid
mkdir -p "$pod_dir/web"
: >"$pod_dir/web/0.log"
ln -s "$pod_dir/web/0.log" "$scratch/logs/containers/web-0_shop_web-$id.log"

if ! "$binary" --parent "$memory/$name/kubepods" --threshold 25% --once --output json \
  --pod-logs-dir "$scratch/logs/pods" --container-logs-dir "$scratch/logs/containers" \
  >"$scratch/report.json" 2>"$scratch/daemon.log"; then
  fail "the daemon runs once over the tree"
  sed 's/^/    /' "$scratch/daemon.log"
  end
fi
pass "the daemon runs once over the tree"
after=$(cache "$container_dir")
echo "podman: memory.stat cache after: container $((after >> 20)) MiB, conmon $(($(cache "$conmon_dir") >> 10)) KiB"

row() { jq -e --arg suffix "$1" '.cgroups[] | select(.cgroup | endswith($suffix))' "$scratch/report.json"; }
# field LEAF_SUFFIX JQ_FILTER EXPECTED: the report's row for the leaf has that value.
field() {
  local got
  got=$(row "$1" | jq -r "$2") || { echo "no row for $1 in:"; cat "$scratch/report.json"; return 1; }
  [[ $got == "$3" ]] || { echo "$2: got \"$got\", want \"$3\""; return 1; }
}
leaf=/pod$uid/libpod-$id
expect "the report has the container's leaf" row "$leaf"
expect "the leaf's container id is the one podman reports" field "$leaf" .container_id "$id"
expect "the leaf's pod UID is the pod's" field "$leaf" .pod_uid "$uid"
expect "the leaf's QoS class is burstable" field "$leaf" .qos burstable
expect "the leaf is named shop/web-0/web from the kubelet's log trees" \
  field "$leaf" '[.namespace, .pod, .container] | join("/")' shop/web-0/web
expect "the leaf's limit is the container's 256 MiB" field "$leaf" .limit_bytes $((256 << 20))
expect "the leaf is reclaimed" field "$leaf" '.action + " " + .result' "reclaim done"
expect "memory.stat: the container's cache went from $((before >> 20)) MiB to under 8 MiB" \
  test "$after" -lt $((8 << 20))
expect "conmon's leaf is podman's runtime, named by its pod only" \
  field "/pod$uid/conmon" '[.reason, .pod_uid, .container_id, .namespace, .pod, .container] | join(" ")' \
  "runtime $uid  shop web-0 "
expect "the report has no other leaf" \
  test "$(jq '.cgroups | length' "$scratch/report.json")" -eq 2

end
