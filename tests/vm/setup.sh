#!/usr/bin/env bash
# Prepares the cgroup v2 VM harness: installs the host tools it needs (only those missing) and
# fetches Debian's cloud kernel into .cache/vm/kernel/ without installing it on the host.
# Idempotent; a second run with the cache in place does no network access.
# Usage: tests/vm/setup.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache="$repo/.cache/vm"
kernel_dir="$cache/kernel"

# The cloud kernel has the memory controller and ext4 built in; only virtio is modular.
readonly kMetaPackage=linux-image-cloud-amd64
readonly kModules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk)

"$repo/scripts/setup.sh" qemu-system-x86 busybox-static e2fsprogs cpio kmod dpkg

if [[ -f "$kernel_dir/current/ready" ]]; then
  echo "vm setup: kernel $(cat "$kernel_dir/current/release") already in $kernel_dir"
  exit 0
fi

resolve_kernel_package() {
  apt-cache depends "$kMetaPackage" 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ { print $2; exit }' || true
}

package=$(resolve_kernel_package)
if [[ -z "$package" ]]; then
  apt-get update -qq || true
  package=$(resolve_kernel_package)
fi
if [[ -z "$package" ]]; then
  echo "vm setup: cannot resolve the kernel package behind $kMetaPackage (apt-cache depends found none)" >&2
  exit 1
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "vm setup: downloading $package"
# apt's sandbox user cannot write into a root-owned temp dir; the download is then done as root,
# which is what is wanted here, so its notice about that is dropped.
(cd "$work" && apt-get download -qq "$package" 2>&1 | grep -v 'unsandboxed' >&2 || true)
deb=$(find "$work" -maxdepth 1 -name "${package}_*.deb" | head -n 1)
if [[ -z "$deb" ]]; then
  echo "vm setup: apt-get download $package produced no .deb" >&2
  exit 1
fi

dpkg-deb -x "$deb" "$work/root"
vmlinuz=$(find "$work/root/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n 1)
if [[ -z "$vmlinuz" ]]; then
  echo "vm setup: $deb holds no /boot/vmlinuz-*" >&2
  exit 1
fi
release=${vmlinuz##*/vmlinuz-}

# Only the virtio modules are kept; depmod on that subset gives busybox modprobe its modules.dep.
dest="$kernel_dir/$release"
rm -rf "$dest.partial"
mkdir -p "$dest.partial/lib/modules/$release/kernel"
cp "$vmlinuz" "$dest.partial/vmlinuz"
for m in "${kModules[@]}"; do
  ko=$(find "$work/root/lib/modules/$release" -name "$m.ko*" | head -n 1)
  if [[ -z "$ko" ]]; then
    echo "vm setup: module $m not found in $package" >&2
    exit 1
  fi
  cp "$ko" "$dest.partial/lib/modules/$release/kernel/"
done
cp "$work/root/lib/modules/$release"/modules.{order,builtin,builtin.modinfo} \
  "$dest.partial/lib/modules/$release/" 2>/dev/null || true
depmod -b "$dest.partial" "$release"
echo "$release" >"$dest.partial/release"
echo "$package" >"$dest.partial/package"
touch "$dest.partial/ready"

rm -rf "$dest"
mv "$dest.partial" "$dest"
ln -sfn "$release" "$kernel_dir/current"
echo "vm setup: kernel $release ready in $dest"
