#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup is called through trap
# What can be proved of the container image without a container engine: the binary is fully
# static, and it runs in an empty root holding nothing but itself, with the host's cgroup v1 memory
# hierarchy bind-mounted, as the scratch image does: --version, then --once --dry-run over a real
# test tree. The mounts live in a private mount namespace and vanish with it.
# Usage: tests/deploy/image.sh [BINARY]   (root; default build/cgroup-memory-manager)
# Ends with the line "image: N passed, M failed".
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-$repo/${BUILD_DIR:-build}/cgroup-memory-manager}
# shellcheck source=tests/deploy/lib.sh
source "$repo/tests/deploy/lib.sh"

root=$(mktemp -d)
tree=/sys/fs/cgroup/memory/cgmm-test-$$-image
cleanup() {
  rm -rf "$root"
  [[ -d $tree ]] && find "$tree" -depth -type d -exec rmdir {} +
}
trap cleanup EXIT

if file -L "$binary" | grep -q "statically linked" && ! ldd "$binary" >/dev/null 2>&1; then
  pass "binary links no shared library"
else
  fail "binary links no shared library: $(file -L "$binary")"
fi

install -m 0755 "$binary" "$root/cgroup-memory-manager"
mkdir -p "$root/sys/fs/cgroup/memory"
mkdir -p "$tree/kubepods/burstable/pod1b6f2a4e-0c5d-4c1e-9e2a-3b7f0a9d1c11/c1"
echo 64M >"$tree/kubepods/burstable/pod1b6f2a4e-0c5d-4c1e-9e2a-3b7f0a9d1c11/memory.limit_in_bytes"

in_empty_root() {
  unshare --mount --propagation private -- bash -c '
    mount --bind /sys/fs/cgroup/memory "$1/sys/fs/cgroup/memory" && shift && exec chroot "$@"' \
    _ "$root" "$root" /cgroup-memory-manager "$@"
}

if out=$(in_empty_root --version 2>&1) && [[ $out == "cgroup-memory-manager "* ]]; then
  pass "--version in an empty root: $out"
else
  fail "--version in an empty root: $out"
fi

if out=$(in_empty_root --parent "$tree/kubepods" --once --dry-run 2>&1) &&
  grep -q "pod 1b6f2a4e-0c5d-4c1e-9e2a-3b7f0a9d1c11 container c1\|kubepods/burstable/pod1b6f2a4e-0c5d-4c1e-9e2a-3b7f0a9d1c11/c1" <<<"$out" &&
  grep -q "below threshold" <<<"$out"; then
  pass "--once --dry-run over a real tree in an empty root"
else
  fail "--once --dry-run over a real tree in an empty root:"
  printf '%s\n' "$out" | sed 's/^/    /'
fi

finish image
