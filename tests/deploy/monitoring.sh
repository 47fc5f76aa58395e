#!/usr/bin/env bash
# shellcheck disable=SC2317 # helper functions are called through expect and trap
# The monitoring kit of deploy/monitoring against the real thing. The rules pass promtool's check
# and their unit tests, and every alert has a firing and a silent test case. Then a real daemon runs
# on a real cgroup v1 tree this script makes (containers that write page cache, one hot, one whose
# reclaims fail, one whose memory.stat cannot be read, named by kubelet log trees), a real Prometheus
# server scrapes it with the rules loaded, and every query of the Grafana dashboard, with its
# template variables substituted, must parse and return data; the alerts that the tree's trouble
# should start go pending (and a policy edit that does not parse, made at the end, starts its own),
# and those about the daemon itself stay silent.
# Usage: tests/deploy/monitoring.sh [BINARY]   (root; default build/cgroup-memory-manager)
# Needs the cgroup v1 memory controller at /sys/fs/cgroup/memory (skipped elsewhere; with CI set,
# failed). Everything it makes lives under /sys/fs/cgroup/memory/cgmm-test-<pid> and
# /var/tmp/cgmm-test-<pid> and is removed on exit; the daemon's bind mounts live in a private mount
# namespace and vanish with it. Ends with the line "monitoring: N passed, M failed".
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/tests/deploy
kit=$repo/deploy/monitoring
binary=${1:-$repo/${BUILD_DIR:-build}/cgroup-memory-manager}
job=cgroup-memory-manager

# shellcheck source=tests/deploy/lib.sh
source "$here/lib.sh"

t0=$EPOCHREALTIME
since() { awk -v from="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - from }'; }
tmp=$(mktemp -d)
root=/sys/fs/cgroup/memory/cgmm-test-$$
scratch=/var/tmp/cgmm-test-$$
workers=()
daemon=
prometheus=
cleanup() {
  set +e
  [[ -n $prometheus ]] && kill "$prometheus" 2>/dev/null
  [[ -n $daemon ]] && kill "$daemon" 2>/dev/null
  # Each worker leads its own process group (setsid), so its dd, cat and sleep go with it.
  for pid in "${workers[@]}"; do kill -- "-$pid" 2>/dev/null; done
  for pid in $prometheus $daemon "${workers[@]}"; do wait "$pid" 2>/dev/null; done
  [[ -d $root ]] && find "$root" -depth -type d -exec rmdir {} + 2>/dev/null
  rm -rf "$scratch" "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Debian's prometheus package brings promtool with the server; node and npm are used as they are where
# the machine has them from elsewhere.
extra=(prometheus curl jq)
command -v node >/dev/null || extra+=(nodejs)
command -v npm >/dev/null || extra+=(npm)
if ! "$repo/scripts/setup.sh" "${extra[@]}" >"$tmp/setup.log" 2>&1; then
  fail "the tools are installed"
  sed 's/^/    /' "$tmp/setup.log"
  finish monitoring
fi
# npm ci only when node_modules is missing or older than the lock file (tests/deploy/run.sh runs it too).
if [[ ! $here/node_modules/.package-lock.json -nt $here/package-lock.json ]] &&
  ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1; then
  fail "npm ci in tests/deploy"
  sed 's/^/    /' "$tmp/npm.log"
  finish monitoring
fi
echo "promtool: $(promtool --version 2>&1 | head -1)"

# Shows the report of a checker (its PASS and FAIL lines) and counts it in.
count_report() {
  local out=$1 n_pass n_fail
  cat "$out"
  n_pass=$(grep -c '^PASS ' "$out")
  n_fail=$(grep -c '^FAIL ' "$out")
  passed=$((passed + n_pass))
  failed=$((failed + n_fail))
}

# --- The rules, offline.
rules_start=$EPOCHREALTIME
expect "promtool check rules deploy/monitoring/rules.yaml" promtool check rules "$kit/rules.yaml"
expect "promtool test rules deploy/monitoring/rules_test.yaml" \
  bash -c "cd '$kit' && promtool test rules rules_test.yaml"
(cd "$here" && node rules_coverage.mjs "$kit/rules.yaml" "$kit/rules_test.yaml") >"$tmp/coverage.log" 2>&1
coverage_rc=$?
count_report "$tmp/coverage.log"
((coverage_rc != 0)) && ! grep -q '^FAIL ' "$tmp/coverage.log" && fail "rules_coverage.mjs ran to the end (exit $coverage_rc)"

# A check is only worth something if it fails on the mistake it guards against.
mkdir -p "$tmp/guard"
cp "$kit/rules.yaml" "$kit/rules_test.yaml" "$tmp/guard/"
cat >>"$tmp/guard/rules.yaml" <<'EOF'
      - alert: CgmmUntested
        expr: cgmm_leaves == 0
        labels:
          severity: warning
        annotations:
          summary: s
          description: d
EOF
guard_coverage() {
  local out
  out=$(cd "$here" && node rules_coverage.mjs "$tmp/guard/rules.yaml" "$tmp/guard/rules_test.yaml")
  if ! grep -q '^FAIL CgmmUntested has a test case that fires it' <<<"$out" ||
    ! grep -q '^FAIL CgmmUntested has a test case where it does not fire' <<<"$out"; then
    grep -v ^PASS <<<"$out"
    return 1
  fi
}
expect "rules_coverage.mjs fails an alert that no test fires or keeps silent" guard_coverage
guard_annotation() {
  sed 's/reads back the page cache its reclaims free/reads back its page cache/' "$kit/rules.yaml" >"$tmp/guard/rules.yaml"
  cmp -s "$kit/rules.yaml" "$tmp/guard/rules.yaml" && { echo "the edit changed nothing"; return 1; }
  if (cd "$tmp/guard" && promtool test rules rules_test.yaml) >"$tmp/guard/promtool.log" 2>&1 ||
    ! grep -q 'alertname: CgmmLeafHotCache' "$tmp/guard/promtool.log"; then
    cat "$tmp/guard/promtool.log"
    return 1
  fi
}
expect "promtool test rules fails when an alert's summary is not the one tested" guard_annotation
echo "cost: rules $(since "$rules_start") s"

# --- A real daemon on a real tree, scraped by a real Prometheus.
if [[ $(id -u) -ne 0 || ! -f /sys/fs/cgroup/memory/memory.stat ]]; then
  if [[ -n ${CI:-} ]]; then
    fail "the live checks need root and the cgroup v1 memory controller at /sys/fs/cgroup/memory"
  else
    echo "SKIP the live checks: they need root and the cgroup v1 memory controller at /sys/fs/cgroup/memory"
  fi
  finish monitoring
fi
live_start=$EPOCHREALTIME
if [[ ! -x $binary ]]; then
  fail "the daemon $binary is there to run (build it, or name it: tests/deploy/monitoring.sh BINARY)"
  finish monitoring
fi

# A kubepods tree (the cgroupfs driver's layout) with the kubelet's log trees that name it.
parent=$root/kubepods
logs=$scratch/logs
mkdir -p "$logs/pods" "$logs/containers" "$scratch/files"
declare -A leaf_of
# add_container NAMESPACE POD CONTAINER QOS POD_UID CONTAINER_ID [POD_LIMIT]: its cgroup, and its
# names unless NAMESPACE is "-" (a container the node cannot name).
add_container() {
  local ns=$1 pod=$2 container=$3 qos=$4 uid=$5 id=$6 limit=${7:-}
  local pod_dir=$parent/$qos/pod$uid
  mkdir -p "$pod_dir/$id"
  [[ -n $limit ]] && echo "$limit" >"$pod_dir/memory.limit_in_bytes"
  leaf_of[$pod/$container]=$pod_dir/$id
  [[ $ns == - ]] && return
  mkdir -p "$logs/pods/${ns}_${pod}_$uid/$container"
  : >"$logs/pods/${ns}_${pod}_$uid/$container/0.log"
  ln -s "$logs/pods/${ns}_${pod}_$uid/$container/0.log" "$logs/containers/${pod}_${ns}_$container-$id.log"
}
cid() { printf '%s' "$1" | sha256sum | cut -c1-64; }  # a container ID: 64 hex digits
add_container shop web-0 nginx burstable 6c1f0b2a-8d3e-4f5a-9b7c-1e2d3f4a5b6c "$(cid web)" 64M
add_container shop cache-0 redis burstable 9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b "$(cid cache)" 64M
add_container batch etl-0 loader burstable 3b1f9e0c-7d2a-4b5c-8d7e-8f90a1b2c3d4 "$(cid loader)" 64M
add_container batch etl-0 worker burstable 3b1f9e0c-7d2a-4b5c-8d7e-8f90a1b2c3d4 "$(cid worker)"
add_container - - sidecar besteffort 8a7b6c5d-4e3f-4a2b-9c1d-0e1f2a3b4c5d "$(cid sidecar)"

# run_in LEAF SCRIPT: a worker in the leaf's cgroup, leading its own process group.
run_in() {
  # shellcheck disable=SC2016 # the worker's shell expands its own arguments
  setsid bash -c 'echo $$ >"$1/cgroup.procs" && shift && eval "$1"' worker "$1" "$2" &
  workers+=($!)
}
files=$scratch/files
# web streams new files: 4 MiB every half second, over its 16 MiB threshold (25% of 64 MiB) at once.
run_in "${leaf_of[web-0/nginx]}" "n=0; while :; do dd if=/dev/zero of=$files/web-\$((n % 8)) bs=1M count=4 status=none;
  n=\$((n + 1)); sleep 0.5; done"
# cache reads the same 24 MiB again and again: what a reclaim frees comes back (hot cache).
run_in "${leaf_of[cache-0/redis]}" "dd if=/dev/zero of=$files/cache bs=1M count=24 conv=fsync status=none;
  while :; do cat $files/cache >/dev/null; sleep 0.2; done"
# loader wrote 24 MiB once and left; the daemon cannot reclaim it (its force_empty is read-only below).
run_in "${leaf_of[etl-0/loader]}" "dd if=/dev/zero of=$files/loader bs=1M count=24 conv=fsync status=none"
run_in "${leaf_of[-/sidecar]}" "dd if=/dev/zero of=$files/sidecar bs=1M count=2 conv=fsync status=none"
wait "${workers[-1]}" "${workers[-2]}"  # the two that write once: their cache is in before the daemon starts

port_free() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
  console.log(s.address().port); s.close(); })'; }
port=$(port_free)
prom_port=$(port_free)
target=127.0.0.1:$port
prom=http://127.0.0.1:$prom_port
node_name=$(hostname -s 2>/dev/null || echo test-node)

# The daemon, in a private mount namespace where the loader's memory.force_empty is a read-only file
# and the worker's memory.stat a file that does not parse: reclaims that fail and a leaf that cannot
# be read, as on a node with a broken cgroup mount, seen by this daemon only.
printf 'nonsense\n' >"$scratch/memory.stat"
mkdir -p "$scratch/policy"
printf 'rules:\n  - name: shop\n    match:\n      namespace: shop\n    threshold: 25%%\n' >"$scratch/policy/policy.yaml"
: >"$scratch/memory.force_empty"
# shellcheck disable=SC2016 # the namespace's shell expands its own arguments
unshare --mount --propagation private -- bash -c '
  mount --bind "$1" "$2/memory.force_empty" && mount -o remount,bind,ro "$2/memory.force_empty" &&
    mount --bind "$3" "$4/memory.stat" && shift 4 && exec "$@"' _ \
  "$scratch/memory.force_empty" "${leaf_of[etl-0/loader]}" "$scratch/memory.stat" "${leaf_of[etl-0/worker]}" \
  "$binary" --parent "$parent" --threshold 25% --interval 2 --cooldown 2 --listen "$target" \
  --policy "$scratch/policy/policy.yaml" --pod-logs-dir "$logs/pods" --container-logs-dir "$logs/containers" \
  >"$scratch/daemon.log" 2>&1 &
daemon=$!

cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $kit/rules.yaml
scrape_configs:
  # What the PodMonitor of deploy/kubernetes/components/monitoring gives: job, instance and node, and
  # no namespace, pod or container of the daemon's own pod over the leaves' own.
  - job_name: $job
    static_configs:
      - targets: ['$target']
        labels:
          node: '$node_name'
EOF
prometheus "--config.file=$tmp/prometheus.yml" "--storage.tsdb.path=$tmp/data" \
  "--web.listen-address=127.0.0.1:$prom_port" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
prometheus=$!

# query PROMQL: the result's series, one JSON object a line; fails when the query does.
query() {
  curl -sfG --max-time 5 "$prom/api/v1/query" --data-urlencode "query=$1" |
    jq -ce 'select(.status == "success") | .data.result[]'
}
# The hot container's alert names it by the daemon's labels for it, not by the daemon pod's.
hot_alert="ALERTS{alertname=\"CgmmLeafHotCache\", alertstate=\"pending\", severity=\"info\", node=\"$node_name\""
hot_alert+=", namespace=\"shop\", pod=\"cache-0\", container=\"redis\", rule=\"shop\"}"
# Prometheus has scraped the daemon and evaluated the rules over what it saw, once each of these has
# data: the counters moved twice (rates), a reclaim judged (refault ratio), the alerts that the tree
# starts pending.
ready=(
  "up{job=\"$job\"} == 1"
  'node:cgmm_reclaims:rate5m{result="done"} > 0'
  'node:cgmm_reclaims:rate5m{result="failed"} > 0'
  'node:cgmm_errors:rate5m{kind="read_stats"} > 0'
  'node_namespace:cgmm_leaf_reclaims:changes5m{namespace="shop"} > 0'
  'rate(cgmm_reclaim_duration_seconds_count[1m]) > 0'
  'ALERTS{alertname="CgmmReclaimsFailing", alertstate="pending"}'
  'ALERTS{alertname="CgmmCgroupsUnreadable", alertstate="pending"}'
  "$hot_alert"
)
# Bounded so that a daemon or a Prometheus that never gets there ends the run; how soon it gets there
# decides nothing.
deadline=$((SECONDS + 60))
declare -A seen=()
n_seen=0
while ((n_seen < ${#ready[@]})) && ((SECONDS < deadline)) && kill -0 "$daemon" 2>/dev/null &&
  kill -0 "$prometheus" 2>/dev/null; do
  for q in "${ready[@]}"; do
    if [[ -z ${seen[$q]:-} && -n $(query "$q" 2>/dev/null) ]]; then
      seen[$q]=1
      n_seen=$((n_seen + 1))
    fi
  done
  ((n_seen < ${#ready[@]})) && sleep 0.5
done
for q in "${ready[@]}"; do
  if [[ -n ${seen[$q]:-} ]]; then pass "Prometheus sees $q"; else fail "Prometheus sees $q"; fi
done
if ((n_seen < ${#ready[@]})); then
  echo "    daemon log (last lines):"
  tail -20 "$scratch/daemon.log" | sed 's/^/    /'
  echo "    prometheus log:"
  tail -20 "$tmp/prometheus.log" | sed 's/^/    /'
fi
echo "cost: tree, daemon and Prometheus up and scraped $(since "$live_start") s"

queries_start=$EPOCHREALTIME
dashboard_check() {  # DASHBOARD REPORT
  (cd "$here" && node dashboard_queries.mjs --dashboard "$1" --rules "$kit/rules.yaml" --prometheus "$prom" \
    --set "job=$job" --set "node=$node_name" --set "instance=$target" --set namespace=shop) >"$2" 2>&1
}
# The guard first: a panel whose metric is misspelt is caught, by its title and its query.
sed 's/max by (namespace) (cgmm_leaf_refault_ratio{/max by (namespace) (cgmm_leaf_refault_ration{/' \
  "$kit/dashboard.json" >"$tmp/misspelt.json"
guard_misspelt() {
  cmp -s "$kit/dashboard.json" "$tmp/misspelt.json" && { echo "the edit changed nothing"; return 1; }
  dashboard_check "$tmp/misspelt.json" "$tmp/misspelt.log" && { echo "the check passed"; return 1; }
  if [[ $(grep -c '^FAIL ' "$tmp/misspelt.log") != 1 ]] ||
    ! grep -q '^FAIL panel "Highest refault ratio by namespace" query A returns data: no data' "$tmp/misspelt.log" ||
    ! grep -q '^    .*cgmm_leaf_refault_ration{' "$tmp/misspelt.log"; then
    grep -A1 '^FAIL' "$tmp/misspelt.log"
    return 1
  fi
}
expect "dashboard_queries.mjs fails a panel with a misspelt metric, naming the panel and its query" guard_misspelt
dashboard_check "$kit/dashboard.json" "$tmp/dashboard.log"
dashboard_rc=$?
count_report "$tmp/dashboard.log"
((dashboard_rc != 0)) && ! grep -q '^FAIL ' "$tmp/dashboard.log" &&
  fail "dashboard_queries.mjs ran to the end (exit $dashboard_rc)"
echo "cost: dashboard queries $(since "$queries_start") s"

# Healthy, the daemon raises nothing about itself. (Not CgmmTargetDown: one slow scrape of the
# loaded machine makes it pending, and up == 1 above is its healthy side.)
quiet_about_itself() {
  local out
  out=$(query 'ALERTS{alertname=~"CgmmTargetAbsent|CgmmDaemonRestarting|CgmmScanStale|CgmmPolicyReloadFailed"}')
  [[ -z $out ]] || { echo "$out"; return 1; }
}
expect "no alert about the daemon itself is pending or firing while it scans" quiet_about_itself

# A policy edit that does not parse: the daemon keeps the last good policy and says so.
printf 'rules:\n  - match: [\n' >"$scratch/policy/policy.yaml.new"
mv "$scratch/policy/policy.yaml.new" "$scratch/policy/policy.yaml"
policy_alert() {
  local deadline=$((SECONDS + 30))
  until [[ -n $(query "ALERTS{alertname=\"CgmmPolicyReloadFailed\", alertstate=\"pending\", node=\"$node_name\"}") ]]; do
    ((SECONDS < deadline)) || { query 'cgmm_policy_last_reload_successful'; return 1; }
    sleep 0.5
  done
}
expect "CgmmPolicyReloadFailed goes pending once an edit of the policy file does not parse" policy_alert
expect "the daemon is still running" kill -0 "$daemon"

echo "cost: $(since "$t0") s in all"
finish monitoring
