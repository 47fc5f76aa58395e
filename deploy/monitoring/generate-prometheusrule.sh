#!/usr/bin/env bash
# Writes the PrometheusRule of the Kubernetes monitoring component from deploy/monitoring/rules.yaml:
# its spec is the rules file's `groups:`, indented one level. Kustomize cannot embed one YAML file in
# another, so the output is checked in; run this after editing rules.yaml and commit both.
# Usage: deploy/monitoring/generate-prometheusrule.sh [--check]
#   --check: write nothing; exit 1, showing the difference, when the checked-in file is not what
#   this would write (tests/deploy/run.sh runs it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rules=$here/rules.yaml
out=$here/../kubernetes/components/monitoring/prometheusrule.yaml

render() {
  cat <<'HEADER'
# Generated from deploy/monitoring/rules.yaml by deploy/monitoring/generate-prometheusrule.sh: edit
# that file and run the script, not this file.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: cgroup-memory-manager
  labels:
    app.kubernetes.io/name: cgroup-memory-manager
spec:
HEADER
  # From `groups:` on, every non-empty line two spaces deeper: block scalars keep their shape.
  sed -n '/^groups:/,$p' "$rules" | sed 's/^./  &/'
}

if [[ ${1:-} == --check ]]; then
  if ! render | diff -u "$out" - >&2; then
    echo "$out is not what $0 writes from $rules: run it and commit the result" >&2
    exit 1
  fi
  exit 0
fi
render >"$out"
