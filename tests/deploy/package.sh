#!/usr/bin/env bash
# shellcheck disable=SC2317 # helper functions are called through expect and trap
# Builds the Debian package, checks what it holds, installs it on this machine, runs the installed
# daemon and verifies the installed unit, then removes and purges it and checks nothing is left.
# Usage: tests/deploy/package.sh   (as root; builds in $PACKAGE_BUILD_DIR, default build-package,
# its own build directory with the tests off; an existing build directory is used as it is)
# It refuses to touch a cgroup-memory-manager package that was installed before it started, and
# purges the one it installed even when a check fails.
# Ends with the line "package: N passed, M failed"; exits 1 if anything failed.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$repo/${PACKAGE_BUILD_DIR:-build-package}
name=cgroup-memory-manager
binary=/usr/bin/$name
unit=/usr/lib/systemd/system/$name.service
env_file=/etc/default/$name
man_page=/usr/share/man/man8/$name.8.gz

# shellcheck source=tests/deploy/lib.sh
source "$repo/tests/deploy/lib.sh"
status() { dpkg-query -W -f='${db:Status-Abbrev}' "$name" 2>/dev/null | tr -d ' '; }

tmp=$(mktemp -d)
installed_by_us=0
cleanup() {
  if ((installed_by_us)) && [[ -n $(status) ]]; then dpkg --purge "$name" >/dev/null 2>&1; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

if [[ $(id -u) -ne 0 ]]; then
  fail "runs as root (it installs the package)"
  finish package
fi
case $(status) in
  "" | un) ;;
  *)
    fail "$name is not installed before the test (found: $(status)); purge it first"
    finish package
    ;;
esac
if ! "$repo/scripts/setup.sh" help2man systemd; then
  fail "the tools are installed"
  finish package
fi

# A build tree that exists (the test command passes its own) keeps its options: only the daemon is
# built there, and the package holds nothing else. A new one is configured without the tests.
build_args=(-DCGMM_TESTS=OFF -DCGMM_BENCH=OFF)
[[ -f $build/CMakeCache.txt ]] && build_args=()
if ! BUILD_DIR=$build BUILD_TARGET=cgroup-memory-manager "$repo/scripts/build.sh" "${build_args[@]}" \
  >"$tmp/build.log" 2>&1; then
  fail "the daemon builds"
  tail -20 "$tmp/build.log" | sed 's/^/    /'
  finish package
fi
rm -f "$build"/*.deb
if ! (cd "$build" && cpack -G DEB) >"$tmp/cpack.log" 2>&1; then
  fail "cpack -G DEB builds the package"
  tail -20 "$tmp/cpack.log" | sed 's/^/    /'
  finish package
fi
debs=("$build"/*.deb)
version=$(sed -n 's/^project(cgroup-memory-manager VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
deb=$build/${name}_${version}_$(dpkg --print-architecture).deb
expect "cpack -G DEB builds exactly ${deb##*/}" test "${#debs[@]}" -eq 1 -a -f "$deb"
if [[ ! -f $deb ]]; then finish package; fi

# The package's files, directories left out.
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $NF}' | sed 's|^\.||' | sort >"$tmp/files"
printf '%s\n' "$env_file" "$binary" "$unit" "$man_page" | sort >"$tmp/expected"
expect "package holds the binary, the unit, the environment file and the man page" \
  diff -u "$tmp/expected" "$tmp/files"
expect "package is in section admin" test "$(dpkg-deb -f "$deb" Section)" = admin
expect "package depends on nothing" test -z "$(dpkg-deb -f "$deb" Depends)"
expect "package names a maintainer" bash -c "dpkg-deb -f '$deb' Maintainer | grep -q '<.*@.*>'"
expect "$env_file is a conffile" bash -c "dpkg-deb -I '$deb' conffiles | grep -qx '$env_file'"
mkdir "$tmp/x" && dpkg-deb -x "$deb" "$tmp/x"
expect "packaged binary is static" bash -c "! ldd '$tmp/x$binary' >/dev/null 2>&1"

if ! dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1; then
  fail "dpkg -i installs the package"
  sed 's/^/    /' "$tmp/dpkg.log"
  installed_by_us=1
  finish package
fi
installed_by_us=1
pass "dpkg -i installs the package"
expect "package is installed" test "$(status)" = ii
expect "$binary --version names version $version" \
  bash -c "out=\$('$binary' --version) && grep -q -- '$version' <<<\"\$out\""
# The installed unit with its real ExecStart=, and its Documentation= man page resolved by man.
verify_installed() {
  local out man_opt=--man=yes
  command -v man >/dev/null || man_opt=--man=no
  out=$(cd "$tmp" && systemd-analyze verify "$man_opt" "$unit" 2>&1) || { echo "$out"; return 1; }
  [[ -z $out ]] || { echo "$out"; return 1; }
}
expect "systemd-analyze verify passes on the installed unit" verify_installed
expect "man page is a section 8 page of the installed version" \
  bash -c "zcat '$man_page' | grep -q '^\.TH CGROUP-MEMORY-MANAGER \"8\" .*$version'"

expect "dpkg -r removes the package" dpkg -r "$name"
expect "dpkg -r leaves only the conffile" \
  bash -c "[[ ! -e '$binary' && ! -e '$unit' && ! -e '$man_page' && -f '$env_file' ]] &&
    [[ \$(dpkg-query -W -f='\${db:Status-Abbrev}' '$name' | tr -d ' ') == rc ]]"
expect "dpkg --purge purges the package" dpkg --purge "$name"
left_behind() {
  local f left=0
  while read -r f; do
    if [[ -e $f ]]; then echo "left behind: $f"; left=1; fi
  done <"$tmp/files"
  [[ -z $(status) || $(status) == un ]] || { echo "dpkg still knows it: $(status)"; left=1; }
  ((left == 0))
}
expect "no file of the package is left after purge" left_behind

finish package
