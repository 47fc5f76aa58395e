# shellcheck shell=bash
# shellcheck disable=SC2034 # passed and failed are read by the scripts that source this
# What the deploy scripts share: PASS/FAIL lines, their counts and the closing summary line.
# Source it, then call pass/fail/expect; finish NAME prints "NAME: N passed, M failed" and exits
# with 0 only when nothing failed.

passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
# expect NAME COMMAND...: passes when COMMAND succeeds; its output is shown only on failure.
expect() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name"; printf '%s\n' "$out" | sed 's/^/    /'; fi
}
finish() {
  echo "$1: $passed passed, $failed failed"
  ((failed == 0))
  exit
}
