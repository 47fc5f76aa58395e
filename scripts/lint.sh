#!/usr/bin/env bash
# Style checks of the daemon's sources: clang-format (the repo's .clang-format) on every file under
# src/, then clang-tidy (the repo's .clang-tidy, every warning an error) on every src/ .cpp file.
# Exits non-zero if either reports anything. Needs clang-format and clang-tidy (scripts/test.sh
# installs them). Uses $BUILD_DIR/compile_commands.json (default build/), configuring that build
# directory first if it has none. Options: LINT_JOBS (parallel clang-tidy runs, default nproc).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build_dir=${BUILD_DIR:-build}
jobs=${LINT_JOBS:-$(nproc)}

# Debian names the tools with and without the version; take whichever is there.
tool() {
  local name
  for name in "$1" "$1-14"; do
    if command -v "$name" >/dev/null; then
      echo "$name"
      return
    fi
  done
  echo "lint: $1 is not installed (scripts/setup.sh clang-format clang-tidy)" >&2
  return 1
}
format=$(tool clang-format) || exit 1
tidy=$(tool clang-tidy) || exit 1

status=0

mapfile -t sources < <(find src -type f \( -name '*.cpp' -o -name '*.h' \) | sort)
echo "lint: $format on ${#sources[@]} files under src/"
if ! "$format" --style=file --dry-run -Werror "${sources[@]}"; then
  echo "lint: clang-format: files above differ from .clang-format (fix: $format -i FILE)" >&2
  status=1
fi

if [[ ! -f $build_dir/compile_commands.json ]]; then
  # Configuring is enough: clang-tidy needs the compile commands, not the objects.
  echo "lint: configuring $build_dir for its compile_commands.json"
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCGMM_TESTS=OFF \
    -DCGMM_BENCH=OFF >/dev/null || exit 1
fi

mapfile -t units < <(find src -type f -name '*.cpp' | sort)
echo "lint: $tidy on ${#units[@]} files under src/ ($jobs at a time)"
# One run per file, its output kept whole; a file's warnings and errors fail it
# (--warnings-as-errors), limited to the checks .clang-tidy enables.
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
export tidy build_dir log
# shellcheck disable=SC2016 # the inner script expands its own variables
printf '%s\n' "${units[@]}" | xargs -P "$jobs" -n 1 bash -c '
  out=$log/${1//\//_}.txt
  if ! "$tidy" -p "$build_dir" --quiet --warnings-as-errors="*" "$1" >"$out" 2>&1; then
    echo "$1" >>"$log/failed"
  fi' lint
# A header's findings come once for every file that includes it: show each finding once (with
# its source lines), then how many distinct findings each check has. The "N warnings generated."
# lines count what the header filter hides, not findings.
cat "$log"/*.txt | awk '
  /^[0-9]+ (warning|error)s? .*(generated|treated as errors)\.$/ { next }
  /^[^ ]+:[0-9]+:[0-9]+: (warning|error|note): / { key = $0; keep = !(key in seen); seen[key] = 1
    if (keep && match($0, /\[[a-z0-9.-]+(,-warnings-as-errors)?\]$/)) {
      check = substr($0, RSTART + 1, RLENGTH - 2); sub(/,-warnings-as-errors$/, "", check)
      count[check]++
    } }
  keep { print }
  END { for (c in count) printf "lint: clang-tidy %s: %d\n", c, count[c] | "sort" }'
if [[ -s $log/failed ]]; then
  echo "lint: clang-tidy reported findings in $(wc -l <"$log/failed") files:" >&2
  sed 's/^/  /' "$log/failed" >&2
  status=1
fi

((status == 0)) && echo "lint: clean"
exit "$status"
