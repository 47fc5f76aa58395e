#!/usr/bin/env bash
# shellcheck disable=SC2317 # helper functions are called through expect and trap
# Offline checks of everything under deploy/: the kustomize base, overlays and examples render, every
# rendered object matches the Kubernetes API schema, the rendered DaemonSet keeps its security settings
# and mounts, the policy example mounts a reloadable policy, the monitoring component's PodMonitor keeps
# the leaves' labels and its PrometheusRule is deploy/monitoring/rules.yaml, the YAML is lint-clean, the
# systemd unit verifies, and the Dockerfile builds the image it promises.
# Needs no cluster, no container engine and no running systemd.
# Usage: tests/deploy/run.sh   (as root it installs the missing tools; KUBECTL picks another kubectl)
# Ends with the line "deploy: N passed, M failed"; exits 1 if anything failed.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/tests/deploy
k8s=$repo/deploy/kubernetes
kubectl=${KUBECTL:-kubectl}
unit_name=cgroup-memory-manager.service
unit=$repo/deploy/systemd/$unit_name
env_file=$repo/deploy/systemd/cgroup-memory-manager.default
dockerfile=$repo/deploy/docker/Dockerfile

# shellcheck source=tests/deploy/lib.sh
source "$here/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Tools. Debian 12 ships kubectl as kubernetes-client (1.20, whose kustomize the manifests keep to);
# a kubectl already on the machine is used as it is, since the two packages hold the same file.
extra=(yamllint)
command -v "$kubectl" >/dev/null || extra+=(kubernetes-client)
command -v node >/dev/null || extra+=(nodejs)
command -v npm >/dev/null || extra+=(npm)
command -v systemd-analyze >/dev/null || extra+=(systemd)
if ! "$repo/scripts/setup.sh" "${extra[@]}"; then
  fail "the tools are installed"
  finish deploy
fi
if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1; then
  fail "npm ci in tests/deploy"
  sed 's/^/    /' "$tmp/npm.log"
  finish deploy
fi

# Render every kustomization; the checks below read the rendered output, not the sources.
declare -A dirs=([base]=base [cgroup-v1]=overlays/cgroup-v1 [cgroup-v2]=overlays/cgroup-v2
  [monitoring]=examples/monitoring [policy]=examples/policy)
rendered=()
for layout in base cgroup-v1 cgroup-v2 monitoring policy; do
  out=$tmp/$layout.yaml
  if "$kubectl" kustomize "$k8s/${dirs[$layout]}" >"$out" 2>"$tmp/err" && [[ -s $out ]]; then
    pass "kubectl kustomize deploy/kubernetes/${dirs[$layout]} renders"
    rendered+=("$layout=$out")
  else
    fail "kubectl kustomize deploy/kubernetes/${dirs[$layout]} renders"
    sed 's/^/    /' "$tmp/err"
  fi
done

# Users pick their own registry and tag with an overlay of their own.
mkdir -p "$tmp/custom"
cp -r "$k8s/base" "$tmp/custom/base"
mkdir -p "$tmp/custom/overlay"
cat >"$tmp/custom/overlay/kustomization.yaml" <<'EOF'
bases:
  - ../base
images:
  - name: cgroup-memory-manager
    newName: registry.example/cgroup-memory-manager
    newTag: 9.9.9
EOF
expect "an overlay's images: entry overrides the image" \
  bash -c "'$kubectl' kustomize '$tmp/custom/overlay' 2>/dev/null |
    grep -qx '        image: registry.example/cgroup-memory-manager:9.9.9'"

if ((${#rendered[@]})); then
  (cd "$here" && node validate.mjs "${rendered[@]}") >"$tmp/validate.log" 2>&1
  validate_rc=$?
  cat "$tmp/validate.log"
  n_pass=$(grep -c '^PASS ' "$tmp/validate.log")
  n_fail=$(grep -c '^FAIL ' "$tmp/validate.log")
  passed=$((passed + n_pass))
  failed=$((failed + n_fail))
  ((validate_rc != 0 && n_fail == 0)) && fail "validate.mjs ran to the end (exit $validate_rc)"
fi

# A check is only worth something if it fails on the mistake it guards against. check_variant NAME
# LAYOUT FILE SED-SCRIPT REGEX...: renders LAYOUT from a copy of deploy/kubernetes whose FILE the
# script edited, and passes when every REGEX matches a line of validate.mjs's report on it.
check_variant() {
  local layout=$2 file=$3 script=$4 copy=$tmp/variant-$1 re
  shift 4
  mkdir -p "$copy"
  cp -r "$k8s/." "$copy"
  sed -e "$script" "$k8s/$file" >"$copy/$file"
  if cmp -s "$k8s/$file" "$copy/$file"; then echo "the edit changed nothing in $file"; return 1; fi
  "$kubectl" kustomize "$copy/${dirs[$layout]}" >"$copy/out.yaml" 2>"$copy/err" || { cat "$copy/err"; return 1; }
  (cd "$here" && node validate.mjs "$layout=$copy/out.yaml") >"$copy/report" 2>&1
  for re in "$@"; do
    grep -Eq "$re" "$copy/report" || { echo "no line matches: $re"; grep '^FAIL' "$copy/report"; return 1; }
  done
}
expect "validate.mjs fails a writable mount of /var/log/pods" \
  check_variant writable-logs base base/daemonset.yaml \
  '/mountPath: \/var\/log\/pods$/{n;s/readOnly: true/readOnly: false/}' '^FAIL base: host /var/log/pods'
expect "validate.mjs fails a /var/log/containers mounted elsewhere" \
  check_variant moved-logs base base/daemonset.yaml \
  's|mountPath: /var/log/containers$|mountPath: /host/var/log/containers|' '^FAIL base: host /var/log/containers'
expect "validate.mjs fails a /var/log/pods volume of type DirectoryOrCreate" \
  check_variant created-logs base base/daemonset.yaml \
  '/path: \/var\/log\/pods$/{n;s/type: ""/type: DirectoryOrCreate/}' '^FAIL base: host /var/log/pods'
policy=examples/policy
expect "validate.mjs fails a policy ConfigMap mounted with subPath" \
  check_variant subpath policy $policy/daemonset-policy.yaml \
  's|mountPath: /etc/cgroup-memory-manager/policy$|&/policy.yaml\n              subPath: policy.yaml|' \
  '^FAIL policy: the policy ConfigMap is mounted as a directory'
# With the hash the generated name changes, and kustomize must rewrite the volume's reference to it.
expect "validate.mjs fails a policy ConfigMap with a content hash; its volume follows the hashed name" \
  check_variant hashed policy $policy/kustomization.yaml '/^generatorOptions:/,/disableNameSuffixHash/d' \
  '^FAIL policy: the policy ConfigMap has no content hash' '^PASS policy: the policy ConfigMap is mounted'
expect "validate.mjs fails a policy file without a rules list" \
  check_variant norules policy $policy/policy.yaml 's/^rules:/rule:/' '^FAIL policy: .* list of rules'
# shellcheck disable=SC2016 # a sed script: $a appends a line
expect "validate.mjs fails a policy file that is not YAML" \
  check_variant notyaml policy $policy/policy.yaml '$a\  - match: [' '^FAIL policy: .* list of rules'

# The PrometheusRule is generated from the rules file, and checked in: kustomize cannot embed a file.
expect "the component's PrometheusRule is what generate-prometheusrule.sh writes from rules.yaml" \
  "$repo/deploy/monitoring/generate-prometheusrule.sh" --check
stale_prometheusrule() {
  local copy=$tmp/variant-rules
  mkdir -p "$copy"
  cp -r "$repo/deploy" "$copy/"
  sed -i 's/^        for: 10m$/        for: 20m/' "$copy/deploy/monitoring/rules.yaml"
  cmp -s "$repo/deploy/monitoring/rules.yaml" "$copy/deploy/monitoring/rules.yaml" && { echo "the edit changed nothing"; return 1; }
  ! "$copy/deploy/monitoring/generate-prometheusrule.sh" --check
}
expect "generate-prometheusrule.sh --check fails when rules.yaml changed and the PrometheusRule did not" \
  stale_prometheusrule
monitoring=components/monitoring
expect "validate.mjs fails a PrometheusRule that is not rules.yaml" \
  check_variant edited-rule monitoring $monitoring/prometheusrule.yaml 's/^          for: 10m$/          for: 20m/' \
  '^FAIL monitoring: PrometheusRule holds the groups of deploy/monitoring/rules.yaml'
expect "validate.mjs fails a PodMonitor that leaves the daemon pod's namespace label on the leaves' series" \
  check_variant kept-namespace monitoring $monitoring/podmonitor.yaml 's/regex: namespace|pod|container$/regex: pod|container/' \
  "^FAIL monitoring: PodMonitor keeps the daemon pod's namespace, pod and container off the leaves' series"
expect "validate.mjs fails a PodMonitor without the job label the rules match" \
  check_variant no-job monitoring $monitoring/podmonitor.yaml '/^  jobLabel:/d' \
  '^FAIL monitoring: PodMonitor names the job cgroup-memory-manager'

expect "yamllint --strict is clean over deploy/" \
  yamllint --strict -c "$repo/.yamllint" "$repo/deploy" "$repo/.yamllint"

# systemd-analyze verify insists that ExecStart= exists, so it checks a copy pointed at a stub.
mkdir -p "$tmp/unit" "$tmp/bin"
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/cgroup-memory-manager"
chmod +x "$tmp/bin/cgroup-memory-manager"
sed "s|^ExecStart=/usr/bin/cgroup-memory-manager|ExecStart=$tmp/bin/cgroup-memory-manager|" \
  "$unit" >"$tmp/unit/$unit_name"
verify_unit() {
  local out
  out=$(cd "$tmp/unit" && systemd-analyze verify --man=no "$tmp/unit/$unit_name" 2>&1) || {
    echo "$out"
    return 1
  }
  # Unknown or misspelt keys are only warnings: any output is a failure.
  [[ -z $out ]] || { echo "$out"; return 1; }
}
expect "systemd-analyze verify passes with no warning" verify_unit
expect "unit starts /usr/bin/cgroup-memory-manager" grep -qx 'ExecStart=/usr/bin/cgroup-memory-manager' "$unit"
expect "unit reads the optional /etc/default/cgroup-memory-manager" \
  grep -qx 'EnvironmentFile=-/etc/default/cgroup-memory-manager' "$unit"
for setting in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/sys/fs/cgroup CapabilityBoundingSet= \
  AmbientCapabilities= ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' Restart=on-failure; do
  expect "unit sets $setting" grep -qx "$setting" "$unit"
done
expect "unit sets MemoryMax= and RestartSec=" \
  bash -c "grep -q '^MemoryMax=[0-9]' '$unit' && grep -q '^RestartSec=[0-9]' '$unit'"
# Either one makes /sys/fs/cgroup read-only, and the daemon exists to write there.
expect "unit keeps the cgroup hierarchy writable" \
  bash -c "! grep -Eq '^(ProtectKernelTunables|ProtectControlGroups)=(yes|true|on|1)' '$unit'"
security_ok() {
  (cd "$tmp/unit" && systemd-analyze security --offline=yes --threshold=30 --no-pager "$tmp/unit/$unit_name") \
    >"$tmp/security.log" 2>&1 || { tail -3 "$tmp/security.log"; return 1; }
}
expect "systemd-analyze security rates the unit's exposure at most 3.0" security_ok
sed -n 's/.*Overall exposure level for .*: \([0-9.]* [A-Z]*\).*/    exposure: \1/p' "$tmp/security.log"

options=(PARENT THRESHOLD INTERVAL COOLDOWN DRY_RUN LOG_LEVEL LOG_FORMAT LISTEN RECLAIM_TARGET EXCLUDE_SHMEM
  NOTIFICATIONS POD_LOGS_DIR CONTAINER_LOGS_DIR POLICY)
expect "environment file sets nothing by default" bash -c "! grep -Ev '^(#|$)' '$env_file'"
for o in "${options[@]}"; do
  expect "environment file documents CGMM_$o" grep -q "^#CGMM_$o=" "$env_file"
done
for default in CGMM_THRESHOLD=25% CGMM_INTERVAL=10 CGMM_COOLDOWN=30 CGMM_LOG_LEVEL=info \
  CGMM_POD_LOGS_DIR=/var/log/pods CGMM_CONTAINER_LOGS_DIR=/var/log/containers; do
  expect "environment file shows the default $default" grep -qx "#$default" "$env_file"
done

for script in postinst prerm postrm; do
  expect "Debian $script is a valid POSIX shell script" sh -n "$repo/deploy/debian/$script"
done

# The Dockerfile cannot be built without a container engine; check what it promises.
stages=$(grep -E '^FROM ' "$dockerfile")
expect "image builds on debian:12" bash -c "head -1 <<<'$stages' | grep -qx 'FROM debian:12 AS build'"
expect "final image is scratch" bash -c "tail -1 <<<'$stages' | grep -qx 'FROM scratch'"
expect "build stage installs with scripts/setup.sh" grep -q '^RUN scripts/setup.sh' "$dockerfile"
expect "build stage builds without tests and benchmarks" \
  grep -q 'scripts/build.sh -DCGMM_TESTS=OFF -DCGMM_BENCH=OFF' "$dockerfile"
expect "final image holds only the binary" \
  bash -c "sed -n '/^FROM scratch/,\$p' '$dockerfile' | grep -E '^(COPY|ADD|RUN)' |
    grep -qx 'COPY --from=build /build/cgroup-memory-manager /usr/bin/cgroup-memory-manager' &&
    [[ \$(sed -n '/^FROM scratch/,\$p' '$dockerfile' | grep -cE '^(COPY|ADD|RUN)') == 1 ]]"
expect "entrypoint is the binary in exec form" \
  grep -qx 'ENTRYPOINT \["/usr/bin/cgroup-memory-manager"\]' "$dockerfile"
expect "image runs as uid 0 and says why" \
  bash -c "grep -qx 'USER 0:0' '$dockerfile' && grep -q 'no capability' '$dockerfile'"
expect "files the Dockerfile copies by name exist" \
  bash -c "grep -E '^COPY [^-]' '$dockerfile' | awk '{print \$2}' | grep -v '^\.\$' |
    while read -r f; do [[ -e '$repo'/\$f ]] || { echo \"missing \$f\"; exit 1; }; done"
expect ".dockerignore keeps build trees, node_modules and .git out of the context" \
  bash -c "grep -qx '.git' '$repo/.dockerignore' && grep -qx 'build\*/' '$repo/.dockerignore' &&
    grep -qx '\*\*/node_modules' '$repo/.dockerignore'"

finish deploy
