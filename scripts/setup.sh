#!/usr/bin/env bash
# Installs the Debian packages needed to build the daemon, only those that are missing; with
# --tests also what the tests and benchmarks build with (GoogleTest, GoogleMock, Google Benchmark).
# The container image's build stage runs it without --tests, so it carries no test library.
# Usage: scripts/setup.sh [--tests] [extra-package ...]
set -euo pipefail

packages=(build-essential cmake pkg-config
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libyaml-cpp-dev)
if [[ ${1:-} == --tests ]]; then
  shift
  packages+=(libgtest-dev libgmock-dev libbenchmark-dev)
fi
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
