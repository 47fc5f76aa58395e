#!/usr/bin/env bash
# Prints the path of a Debian 12 minimal root file system as a tar archive, the base image the
# container tests import (`docker import`, `podman import`) because no registry can be reached.
# It is made once with debootstrap from Debian's mirror (about 45 s) and kept in the repository's
# .cache/rootfs/ (ignored by git) for later runs; concurrent callers wait for one another.
# Usage: tests/deploy/base_rootfs.sh   (root: debootstrap needs it; installs debootstrap if missing)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=$repo/.cache/rootfs
tarball=$cache/debian-12-minbase.tar
mkdir -p "$cache"

exec 9>"$cache/lock"
flock 9
if [[ ! -s $tarball ]]; then
  "$repo/scripts/setup.sh" debootstrap >&2
  dir=$(mktemp -d "$cache/bookworm.XXXXXX")
  trap 'rm -rf "$dir" "$tarball.part"' EXIT
  echo "base_rootfs: debootstrap --variant=minbase bookworm (once; kept in $cache)" >&2
  if ! debootstrap --variant=minbase bookworm "$dir" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1; then
    tail -20 "$cache/debootstrap.log" >&2
    exit 1
  fi
  # Packages lists and the package cache are not needed in the image.
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
fi
echo "$tarball"
