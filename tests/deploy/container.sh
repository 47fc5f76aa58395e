#!/usr/bin/env bash
# shellcheck disable=SC2317 # helper functions are called through expect and trap
# The container image the way the DaemonSet runs it, on containers a real runtime made:
#   - starts a private dockerd (its own data root, socket and cgroup parent; no network setup);
#   - builds deploy/docker/Dockerfile on a Debian 12 base image made locally (no registry);
#   - starts three containers (runc, the cgroupfs driver) in a kubelet-like tree
#     kubepods/burstable/pod<uid>/<container id>, each writing page cache, two over the threshold,
#     and lays out the kubelet's log trees that name them;
#   - runs the image with the rendered cgroup-v1 overlay's security settings, limits, environment
#     and mounts (tests/deploy/pod_to_docker.mjs; only CGMM_PARENT is pointed at the test's tree);
#   - checks from memory.stat that exactly the two were reclaimed, the names the daemon gives them
#     in /metrics, the probes' /healthz from outside the container, and a clean exit on SIGTERM;
#     and that without the cgroup mount the image exits 2.
# Everything lives in a scratch directory and a scratch cgroup (in every hierarchy) of its own,
# removed at the end, also when a check fails. The base root file system is cached
# (tests/deploy/base_rootfs.sh).
# Usage: tests/deploy/container.sh   (root; KUBECTL picks another kubectl)
# Ends with the line "container: N passed, M failed"; exits 1 if anything failed.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/tests/deploy
kubectl=${KUBECTL:-kubectl}
# shellcheck source=tests/deploy/lib.sh
source "$here/lib.sh"

readonly kMiB=$((1024 * 1024))
scratch=$(mktemp -d /var/tmp/cgmm-container.XXXXXX)
cg=cgmm-test-$$-container # the scratch cgroup's name, in every hierarchy
tree=/sys/fs/cgroup/memory/$cg
sock=$scratch/docker.sock
exec_root=$scratch/exec
dockerd_pid=
docker() { /usr/bin/docker -H "unix://$sock" "$@"; }

alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }
# Stops a process this script started, by its pid: TERM, then KILL after 20 s.
stop_pid() {
  local pid=$1 i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 200; i++)); do alive "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
}
cleanup() {
  if alive "$dockerd_pid"; then
    docker ps -aq 2>/dev/null | xargs -r /usr/bin/docker -H "unix://$sock" rm -f >/dev/null 2>&1
    stop_pid "$dockerd_pid"
    # dockerd stops the containerd it started; after a KILL that one is left to stop here.
    stop_pid "$(cat "$exec_root/containerd/containerd.pid" 2>/dev/null)"
  fi
  # Mounts under the scratch directory only (netns/default, a killed container's root), deepest first.
  findmnt -rn -o TARGET | grep "^$scratch/" | sort -r | xargs -r -n 1 umount -l 2>/dev/null
  local h
  for h in /sys/fs/cgroup/*/; do
    [[ -d $h$cg ]] && find "$h$cg" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$scratch"
}
trap cleanup EXIT

if [[ $(id -u) -ne 0 ]]; then
  fail "runs as root (it starts dockerd)"
  finish container
fi
if ! "$repo/scripts/setup.sh" docker.io curl >/dev/null || ! rootfs=$("$here/base_rootfs.sh"); then
  fail "docker.io is installed and the base root file system is made"
  finish container
fi
if [[ ! -d $here/node_modules ]] && ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >/dev/null 2>&1; then
  fail "npm ci in tests/deploy"
  finish container
fi

# A private dockerd: nothing of it outlives the test, and it touches no other container, network
# or cgroup on the machine. Containers without --cgroup-parent go to $cg/docker.
echo '{}' >"$scratch/daemon.json"
/usr/sbin/dockerd --config-file "$scratch/daemon.json" --data-root "$scratch/data" \
  --exec-root "$exec_root" -H "unix://$sock" --pidfile "$scratch/dockerd.pid" \
  --iptables=false --ip6tables=false --bridge=none --ip-masq=false \
  --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent="/$cg/docker" \
  --storage-driver=overlay2 >"$scratch/dockerd.log" 2>&1 &
dockerd_pid=$!
for ((i = 0; i < 300; i++)); do
  docker version >/dev/null 2>&1 && break
  alive "$dockerd_pid" || break
  sleep 0.1
done
if ! docker version >/dev/null 2>&1; then
  fail "a private dockerd starts"
  tail -20 "$scratch/dockerd.log" | sed 's/^/    /'
  finish container
fi
pass "a private dockerd starts ($(docker version -f '{{.Server.Version}}'))"

# The manifest decides how the image runs: render the overlay and translate its pod.
mkdir -p "$scratch/var/log/pods" "$scratch/var/log/containers"
if ! "$kubectl" kustomize "$repo/deploy/kubernetes/overlays/cgroup-v1" >"$scratch/rendered.yaml" 2>"$scratch/err" ||
  ! (cd "$here" && node pod_to_docker.mjs "$scratch/rendered.yaml" \
    --host-path /sys/fs/cgroup=/sys/fs/cgroup \
    --host-path /var/log/pods="$scratch/var/log/pods" \
    --host-path /var/log/containers="$scratch/var/log/containers" \
    --env CGMM_PARENT="$tree/kubepods") >"$scratch/pod.txt" 2>>"$scratch/err"; then
  fail "the cgroup-v1 overlay renders and translates to docker run"
  sed 's/^/    /' "$scratch/err"
  finish container
fi
run_args=()
probes=()
image=
while read -r what value; do
  case $what in
    arg) run_args+=("$value") ;;
    probe) probes+=("$value") ;;
    image) image=$value ;;
  esac
done <"$scratch/pod.txt"
pass "the cgroup-v1 overlay translates to docker run ${run_args[*]} $image"

if docker import "$rootfs" debian:12 >/dev/null; then
  pass "the base image debian:12 is imported from a local root file system"
else
  fail "the base image debian:12 is imported from a local root file system"
fi
# The image the DaemonSet names, built from the repository's Dockerfile.
start=$SECONDS
if DOCKER_BUILDKIT=0 docker build --network host -q -f "$repo/deploy/docker/Dockerfile" -t "$image" "$repo" \
  >"$scratch/build.log" 2>&1; then
  size=$(docker image inspect -f '{{.Size}}' "$image")
  pass "deploy/docker/Dockerfile builds $image in $((SECONDS - start)) s, $((size / 1024)) KiB"
else
  fail "deploy/docker/Dockerfile builds $image"
  tail -30 "$scratch/build.log" | sed 's/^/    /'
  finish container
fi
if ((size < 8 * kMiB)); then
  pass "the image is the static binary alone: $((size / 1024)) KiB"
else
  fail "the image is the static binary alone: $((size / 1024)) KiB"
fi

# Three pods of the kubelet's cgroupfs layout, one container each with a 256 MiB limit (the
# overlay's 25% threshold: 64 MiB); web and batch write 120 MiB of files, sidecar 16 MiB.
names=(web batch sidecar)
declare -A uid=([web]=0c4d5e6f-1a2b-4c3d-8e9f-0a1b2c3d4e5f [batch]=1d5e6f70-2b3c-4d4e-9fa0-1b2c3d4e5f60
  [sidecar]=2e6f7081-3c4d-4e5f-a0b1-2c3d4e5f6071)
declare -A namespace=([web]=shop [batch]=jobs [sidecar]=shop)
declare -A write_mib=([web]=120 [batch]=120 [sidecar]=16)
declare -A id leaf before
for c in "${names[@]}"; do
  pod_cg=/$cg/kubepods/burstable/pod${uid[$c]}
  if ! id[$c]=$(docker run -d --network none --memory 256m --cgroup-parent="$pod_cg" debian:12 \
    sh -c "dd if=/dev/zero of=/cache.bin bs=1M count=${write_mib[$c]} conv=fsync 2>/dev/null && exec sleep infinity"); then
    fail "container $c starts under $pod_cg"
    finish container
  fi
  leaf[$c]=/sys/fs/cgroup/memory$pod_cg/${id[$c]}
  # The kubelet's log trees: the pod's directory names its namespace, the link its container.
  pod_name=$c-7c9d5b
  pod_dir=${namespace[$c]}_${pod_name}_${uid[$c]}
  mkdir -p "$scratch/var/log/pods/$pod_dir/$c"
  : >"$scratch/var/log/pods/$pod_dir/$c/0.log"
  ln -s "/var/log/pods/$pod_dir/$c/0.log" \
    "$scratch/var/log/containers/${pod_name}_${namespace[$c]}_$c-${id[$c]}.log"
done
kubelet_layout() {
  local l
  for l in "${leaf[@]}"; do
    [[ $l =~ /kubepods/burstable/pod[0-9a-f-]{36}/[0-9a-f]{64}$ && -d $l ]] || { echo "not so: $l"; return 1; }
  done
}
expect "runc made each container's cgroup as pod<uid>/<64-hex id>" kubelet_layout

cache_of() { awk '$1 == "total_cache" { print $2 }' "${leaf[$1]}/memory.stat" 2>/dev/null; }
mib() { echo "$(($1 / kMiB)) MiB"; }
for c in "${names[@]}"; do
  want=$((write_mib[$c] * kMiB))
  for ((i = 0; i < 600; i++)); do
    (($(cache_of "$c") >= want)) && break
    sleep 0.1
  done
  before[$c]=$(cache_of "$c")
  if ((before[$c] >= want)); then
    pass "container $c holds $(mib "${before[$c]}") of page cache"
  else
    fail "container $c holds $(mib "$want") of page cache (has $(mib "${before[$c]:-0}"))"
  fi
done

# The daemon, as the DaemonSet runs it. Probes and scrapes come from outside the container into
# its network namespace, as the kubelet's do; the namespace holds only loopback.
if ! daemon=$(docker run -d --name cgroup-memory-manager "${run_args[@]}" "$image"); then
  fail "the image runs with the DaemonSet's settings"
  finish container
fi
daemon_pid=$(docker inspect -f '{{.State.Pid}}' "$daemon")
port=${probes[0]##* }
get() { nsenter -t "$daemon_pid" -n curl -fsS --max-time 5 "http://127.0.0.1:$port$1"; }
metric() { get /metrics | awk -v name="$1" '$1 == name { print $2 }'; }

# Every leaf is judged in one scan; the two reclaims finish when both counters say so.
for ((i = 0; i < 600; i++)); do
  [[ $(get /metrics 2>/dev/null | awk '/^cgmm_reclaims_total/ { n += $2 } END { print n + 0 }') -ge 2 ]] && break
  alive "$daemon_pid" || break
  sleep 0.1
done
get /metrics >"$scratch/metrics.txt" 2>&1
for c in "${names[@]}"; do
  after=$(cache_of "$c")
  if ((write_mib[$c] > 64)); then
    if ((after < 5 * kMiB)); then
      pass "container $c was reclaimed: memory.stat total_cache $(mib "${before[$c]}") -> $(mib "$after")"
    else
      fail "container $c was reclaimed: memory.stat total_cache $(mib "${before[$c]}") -> $(mib "$after")"
    fi
  elif ((after * 2 >= before[$c])); then
    pass "container $c, under the threshold, was left alone: $(mib "${before[$c]}") -> $(mib "$after")"
  else
    fail "container $c, under the threshold, was left alone: $(mib "${before[$c]}") -> $(mib "$after")"
  fi
done
reclaimed=$(awk '/^cgmm_reclaims_total/ { n += $2 } END { print n + 0 }' "$scratch/metrics.txt")
if [[ $reclaimed == 2 ]]; then
  pass "the daemon counts exactly two reclaims"
else
  fail "the daemon counts exactly two reclaims (counted $reclaimed)"
  grep '^cgmm_reclaims_total' "$scratch/metrics.txt" | sed 's/^/    /'
fi
for c in "${names[@]}"; do
  expect "the daemon names container $c by namespace, pod, container, pod uid and id" \
    grep -F "namespace=\"${namespace[$c]}\",pod=\"$c-7c9d5b\",container=\"$c\",pod_uid=\"${uid[$c]}\",container_id=\"${id[$c]}\"" \
    "$scratch/metrics.txt"
done
reclaim_logged() {
  local logs c
  logs=$(docker logs "$daemon" 2>&1 | grep '"event":"reclaim"')
  for c in web batch; do
    grep -q "\"container\":\"$c\"" <<<"$logs" || { echo "no reclaim event names $c:"; echo "$logs"; return 1; }
  done
}
expect "the JSON log's reclaim events name the two reclaimed containers" reclaim_logged
if command -v promtool >/dev/null; then
  expect "promtool check metrics accepts the exposition" bash -c "promtool check metrics <'$scratch/metrics.txt'"
fi
for probe in "${probes[@]}"; do
  read -r kind path _ <<<"$probe"
  expect "the $kind (GET $path on port $port) answers 200 from outside the container" get "$path"
done

# SIGTERM (docker stop, as the kubelet does at the end of the grace period's start) ends it cleanly.
docker stop -t 25 "$daemon" >/dev/null
status=$(docker inspect -f '{{.State.ExitCode}}' "$daemon")
if [[ $status == 0 ]]; then
  pass "SIGTERM stops the daemon with exit status 0"
else
  fail "SIGTERM stops the daemon with exit status 0 (got $status)"
  docker logs "$daemon" 2>&1 | tail -5 | sed 's/^/    /'
fi

# Without the host's cgroup mount there is nothing to manage: a usage error, not a crash loop of
# reclaims on the wrong tree.
no_mount=()
for ((i = 0; i < ${#run_args[@]}; i++)); do
  if [[ ${run_args[i]} == --volume && ${run_args[i + 1]} == /sys/fs/cgroup:* ]]; then
    i=$((i + 1))
  else
    no_mount+=("${run_args[i]}")
  fi
done
docker run --name no-mount "${no_mount[@]}" "$image" >"$scratch/no-mount.log" 2>&1
status=$(docker inspect -f '{{.State.ExitCode}}' no-mount)
if [[ $status == 2 ]] && grep -q "$tree/kubepods" "$scratch/no-mount.log"; then
  pass "without the cgroup mount the image exits 2 naming the parent"
else
  fail "without the cgroup mount the image exits 2 naming the parent (got $status)"
  tail -3 "$scratch/no-mount.log" | sed 's/^/    /'
fi

finish container
