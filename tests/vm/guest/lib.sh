# Helpers shared by the guest scripts, which tests/vm/run.sh puts at /guest/lib.sh in every
# guest (busybox ash).

# write_to FILE VALUE: one write(2) of VALUE; sets write_rc and write_err. ash's builtin echo
# reports the errno of a failed write ("sh: write error: <strerror>"); its printf does not.
# shellcheck disable=SC2034 # write_rc and write_err are read by the scripts that source this
write_to() {
  write_err=$({ echo "$2" >"$1"; } 2>&1)
  write_rc=$?
}

# kernel_at_least MAJOR MINOR: the running kernel is MAJOR.MINOR or newer.
kernel_at_least() {
  r=$(uname -r)
  major=${r%%.*}
  rest=${r#*.}
  minor=${rest%%[!0-9]*}
  [ "$major" -gt "$1" ] || { [ "$major" -eq "$1" ] && [ "$minor" -ge "$2" ]; }
}
