#!/usr/bin/env bash
# Prepares the cgroup v2 VM harness: installs the host tools it needs (only those missing) and
# fetches one of Debian's cloud kernels into .cache/vm/kernel/<suite>/ without installing it on
# the host. Idempotent; a second run with that suite's cache in place does no network access.
# Usage: tests/vm/setup.sh [SUITE]
#   SUITE  bookworm (Debian 12, Linux 6.1; the default, or $VM_KERNEL), trixie (Debian 13,
#          Linux 6.12) or sid (unstable, the newest kernel Debian builds).
# bookworm comes through the machine's own apt lists. The other suites are looked up in a
# temporary apt state of their own (sources list, lists, cache) pointing at the machine's Debian
# mirror with that suite's name; the machine's apt configuration is never changed.
#
# A cache dir holds: vmlinuz, lib/modules/<release>/ (the virtio modules the guest must load,
# uncompressed, with modules.dep), release, packages, modules (names for the guest's modprobe,
# one a line; empty when virtio is built in), builtin (the needed modules the kernel has built
# in) and ready (written last).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache="$repo/.cache/vm"
suite=${1:-${VM_KERNEL:-bookworm}}

# The cloud kernels have the memory controller and ext4 built in. The guest needs the virtio PCI
# transport and block driver: modules on 6.1, built in (virtio_pci) on 6.12 and later. Their
# dependencies are found through modinfo.
readonly kMetaPackage=linux-image-cloud-amd64
readonly kModules=(virtio_pci virtio_blk)
readonly kSuites=(bookworm trixie sid)
readonly kDefaultKeyring=/usr/share/keyrings/debian-archive-keyring.gpg

die() {
  echo "vm setup: $*" >&2
  exit 1
}

[[ " ${kSuites[*]} " == *" $suite "* ]] || die "unknown kernel suite '$suite' (known: ${kSuites[*]})"
dest="$cache/kernel/$suite"

# xz and zstd unpack modules: busybox modprobe in the guest loads .ko.xz but not .ko.zst.
"$repo/scripts/setup.sh" qemu-system-x86 busybox-static e2fsprogs cpio kmod dpkg xz-utils zstd

if [[ -f "$dest/ready" ]]; then
  echo "vm setup: $suite kernel $(cat "$dest/release") already in $dest"
  exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The machine's Debian mirror: the URI (and keyring) of the first source, one-line or deb822,
# that serves this machine's own release.
host_mirror() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ -n "$codename" ]] || return 1
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk -v c="$codename" -v k="$kDefaultKeyring" '
      $1 == "deb" {
        key = k
        i = 2
        if ($2 ~ /^\[/) {
          for (; i <= NF; i++) {
            if ($i ~ /signed-by=/) { key = $i; sub(/.*signed-by=/, "", key); sub(/\]$/, "", key) }
            if ($i ~ /\]$/) { i++; break }
          }
        }
        if ($(i + 1) == c) { print $i, key; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk -v c="$codename" -v k="$kDefaultKeyring" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " c " ") && uri != "")
          print uri, (key == "" ? k : key)
        types = uri = suites = key = enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { v = $0; sub(/^[^:]*:[ \t]*/, "", v) }
      tolower($1) == "types:" { types = v }
      tolower($1) == "uris:" { split(v, u, " "); uri = u[1] }
      tolower($1) == "suites:" { suites = v }
      tolower($1) == "signed-by:" { key = v }
      tolower($1) == "enabled:" { enabled = tolower(v) }
      END { flush() }' "$f"
  done | head -n 1
}

apt_opts=()
if [[ "$suite" != bookworm ]]; then
  read -r mirror keyring < <(host_mirror) || true
  [[ -n "${mirror:-}" ]] || die "no Debian mirror found in /etc/apt/sources.list{,.d/*}"
  [[ -f "$keyring" ]] || keyring=$kDefaultKeyring
  mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
  echo "deb [signed-by=$keyring] $mirror $suite main" >"$work/apt/sources.list"
  apt_opts=(
    -o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
    -o Dir::State::status=/dev/null -o APT::Sandbox::User=root
  )
  echo "vm setup: reading the $suite package list from $mirror"
  apt-get "${apt_opts[@]}" update -qq || die "apt-get update of $suite from $mirror failed"
fi

depends_of() {
  apt-cache "${apt_opts[@]}" depends "$1" 2>/dev/null | awk '$1 == "Depends:" { print $2 }' || true
}
resolve_kernel_package() {
  depends_of "$kMetaPackage" | grep -m 1 '^linux-image-[0-9]' || true
}

package=$(resolve_kernel_package)
if [[ -z "$package" && "$suite" == bookworm ]]; then
  apt-get update -qq || true
  package=$(resolve_kernel_package)
fi
[[ -n "$package" ]] ||
  die "cannot resolve the kernel package behind $kMetaPackage in $suite (apt-cache depends found none)"

# Newer kernels split the image package into linux-binary-<abi> (vmlinuz), linux-modules-<abi>
# and linux-base-<abi> (modules.builtin): everything of that ABI the image depends on, recursively.
abi=${package#linux-image-}
packages=("$package")
for ((i = 0; i < ${#packages[@]}; i++)); do
  for dep in $(depends_of "${packages[i]}"); do
    [[ "$dep" == linux-*-"$abi" && " ${packages[*]} " != *" $dep "* ]] && packages+=("$dep")
  done
done

echo "vm setup: downloading ${packages[*]}"
# apt's sandbox user cannot write into a root-owned temp dir; the download is then done as root,
# which is what is wanted here, so its notice about that is dropped.
(cd "$work" && apt-get "${apt_opts[@]}" download -qq "${packages[@]}" 2>&1 | grep -v 'unsandboxed' >&2 || true)
for p in "${packages[@]}"; do
  deb=$(find "$work" -maxdepth 1 -name "${p}_*.deb" | head -n 1)
  [[ -n "$deb" ]] || die "apt-get download $p produced no .deb"
  dpkg-deb -x "$deb" "$work/root"
done

# 6.1 and 6.12 ship /boot/vmlinuz-<release>; the split packages ship /usr/lib/modules/<release>/vmlinuz.
vmlinuz=$(find "$work/root/boot" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | head -n 1 || true)
if [[ -n "$vmlinuz" ]]; then
  release=${vmlinuz##*/vmlinuz-}
else
  vmlinuz=$(find "$work/root/lib/modules" "$work/root/usr/lib/modules" -mindepth 2 -maxdepth 2 \
    -name vmlinuz 2>/dev/null | head -n 1 || true)
  [[ -n "$vmlinuz" ]] || die "${packages[*]} hold no /boot/vmlinuz-* nor /usr/lib/modules/*/vmlinuz"
  release=$(basename "$(dirname "$vmlinuz")")
fi
src=
for d in "$work/root/usr/lib/modules/$release" "$work/root/lib/modules/$release"; do
  [[ -d "$d" ]] && src=$d && break
done
[[ -n "$src" ]] || die "${packages[*]} hold no modules directory for $release"

# Only the needed modules are kept, uncompressed (busybox modprobe cannot read .ko.zst); depmod on
# that subset gives busybox modprobe its modules.dep.
mods="$work/out/lib/modules/$release"
mkdir -p "$mods/kernel"
cp "$vmlinuz" "$work/out/vmlinuz"
cp "$src"/modules.{order,builtin,builtin.modinfo} "$mods/" 2>/dev/null || true
builtin=()
kept=()
add_module() {
  local m=$1 ko dep
  [[ " ${builtin[*]} ${kept[*]} " == *" $m "* ]] && return 0
  if grep -q "/$m\.ko\$" "$src/modules.builtin" 2>/dev/null; then
    builtin+=("$m")
    return 0
  fi
  ko=$(find "$src" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n 1)
  [[ -n "$ko" ]] || die "module $m is neither in ${packages[*]} nor built into $release"
  case $ko in
    *.xz) xz -dc "$ko" ;;
    *.zst) zstd -dcq "$ko" ;;
    *.gz) gzip -dc "$ko" ;;
    *) cat "$ko" ;;
  esac >"$mods/kernel/$m.ko"
  kept+=("$m")
  for dep in $(modinfo -F depends "$mods/kernel/$m.ko" | tr ',' ' '); do
    add_module "$dep"
  done
}
for m in "${kModules[@]}"; do add_module "$m"; done
depmod -b "$work/out" "$release"

for m in "${kModules[@]}"; do
  [[ " ${kept[*]} " == *" $m "* ]] && echo "$m"
done >"$work/out/modules"
printf '%s\n' "${builtin[@]}" | sed '/^$/d' >"$work/out/builtin"
echo "$release" >"$work/out/release"
printf '%s\n' "${packages[@]}" >"$work/out/packages"
touch "$work/out/ready"

mkdir -p "$cache/kernel"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "vm setup: $suite kernel $release ready in $dest" \
  "(modules: ${kept[*]:-none}; built in: ${builtin[*]:-none})"
