#!/usr/bin/env bash
# Runs one guest script in a small VM with cgroup v2 and the memory controller, for behaviour the
# host (memory controller bound to cgroup v1) cannot show.
#
# Usage: tests/vm/run.sh GUEST_SCRIPT [FILE...]
#   GUEST_SCRIPT  busybox-ash script run as root in the guest; its exit status is the verdict.
#   FILE...       copied to /bin in the guest (e.g. the daemon's static binary; no shared
#                 libraries exist in the guest).
# Environment: VM_KERNEL (bookworm: Debian 12's cloud kernel, Linux 6.1; trixie: 6.12; sid: the
#              newest), VM_MEMORY (default 768M), VM_CPUS (2), VM_TIMEOUT seconds (600),
#              VM_DISK_SIZE (1G), VM_ACCEL (tcg), VM_KEEP_LOG=path to keep the console log.
#
# The guest's /init mounts proc, sysfs, devtmpfs, cgroup2 at /sys/fs/cgroup (with +memory in the
# root's subtree_control) and a fresh ext4 disk at /mnt (page cache there is reclaimable; the
# initramfs root is shmem and is not), runs the script, prints a result line and powers off.
# The virtio modules the kernel needs are loaded first (none when virtio is built in).
# The console is printed with carriage returns stripped. Exit status: 0 only when the result line
# reports that the guest script exited 0 on the kernel that was asked for; qemu's own exit status
# is meaningless (0 after a panic). The kernel and tools come from tests/vm/setup.sh, which is run
# here when that kernel's cache is missing.
set -euo pipefail

readonly kResultMarker=CGMM-VM-RESULT

die() {
  echo "vm: $*" >&2
  exit 1
}

(($# >= 1)) || die "usage: $0 GUEST_SCRIPT [FILE...]"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
guest_script=$1
shift
[[ -f "$guest_script" ]] || die "guest script not found: $guest_script"
for f in "$@"; do
  [[ -f "$f" ]] || die "file for the guest not found: $f"
done

suite=${VM_KERNEL:-bookworm}
[[ "$suite" =~ ^[a-z]+$ ]] || die "VM_KERNEL must be a Debian suite name (bookworm, trixie, sid), not '$suite'"
kernel="$repo/.cache/vm/kernel/$suite"
if [[ ! -f "$kernel/ready" ]] || ! command -v qemu-system-x86_64 >/dev/null ||
  [[ ! -x /bin/busybox ]] || ! command -v cpio >/dev/null || ! command -v mkfs.ext4 >/dev/null; then
  "$here/setup.sh" "$suite" || die "tests/vm/setup.sh $suite failed: no kernel or tools for the VM"
fi
[[ -f "$kernel/ready" ]] || die "no kernel in $kernel after setup"
release=$(cat "$kernel/release")
modules=$(xargs echo <"$kernel/modules")
echo "vm: booting the $suite kernel $release${modules:+ (loading $modules)}"
busybox=/bin/busybox
file "$busybox" 2>/dev/null | grep -q 'dynamically linked' &&
  die "$busybox is not static (install busybox-static)"

memory=${VM_MEMORY:-768M}
cpus=${VM_CPUS:-2}
timeout_s=${VM_TIMEOUT:-600}
disk_size=${VM_DISK_SIZE:-1G}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cgmm-vm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

root="$tmp/initramfs"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,mnt,tmp,guest,lib/modules}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp -r "$kernel/lib/modules/$release" "$root/lib/modules/"
cp "$guest_script" "$root/guest/test.sh"
cp "$here/guest/lib.sh" "$root/guest/lib.sh"
for f in "$@"; do
  cp "$f" "$root/bin/"
  chmod 0755 "$root/bin/${f##*/}"
done

cat >"$root/init" <<EOF
#!/bin/sh
# PID 1 of the test VM. Anything failing here shows as a missing result line.
/bin/busybox --install -s
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
for m in $modules; do modprobe \$m || echo "vm: modprobe \$m failed"; done
i=0
while [ ! -b /dev/vda ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
mount -t ext4 /dev/vda /mnt || echo "vm: no ext4 disk at /mnt (/dev/vda missing?)"
echo "vm: kernel \$(uname -r), \$(nproc) cpu(s), \$(awk '/MemTotal/ {print \$2 " kB"}' /proc/meminfo)"
echo "vm: running guest script"
cd /
sh /guest/test.sh
rc=\$?
cd /
sync
umount /mnt 2>/dev/null
echo "$kResultMarker exit=\$rc"
poweroff -f
EOF
chmod 0755 "$root/init" "$root/guest/test.sh"

(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$tmp/initramfs.gz"

truncate -s "$disk_size" "$tmp/disk.img"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$tmp/disk.img"

# Software emulation by default: a /dev/kvm may exist without working (nested hosts).
accel=${VM_ACCEL:-tcg}

log="$tmp/console.log"
start=$(date +%s.%N)
set +e
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
  -accel "$accel" -cpu max -smp "$cpus" -m "$memory" \
  -nodefaults -no-user-config -nographic -no-reboot \
  -kernel "$kernel/vmlinuz" -initrd "$tmp/initramfs.gz" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" \
  -drive "file=$tmp/disk.img,format=raw,if=virtio,cache=unsafe" \
  -serial stdio -monitor none </dev/null 2>&1 |
  tr -d '\r' | sed -u -e 's/\x1bc//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tee "$log"
status=("${PIPESTATUS[@]}")
set -e
end=$(date +%s.%N)
[[ -n "${VM_KEEP_LOG:-}" ]] && cp "$log" "$VM_KEEP_LOG"
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

if ((status[0] == 124 || status[0] == 137)); then
  die "timed out after ${timeout_s}s (VM killed; ran ${elapsed}s)"
fi
result=$(grep -a "^$kResultMarker exit=" "$log" | tail -n 1 || true)
if [[ -z "$result" ]]; then
  die "no result line from the guest after ${elapsed}s (init failed or kernel panicked)"
fi
# The firmware's last line and the kernel's console reset can share a line: no anchor here.
grep -aqF "vm: kernel $release," "$log" || die "the guest did not boot $release (${elapsed}s)"
rc=${result##*exit=}
if [[ "$rc" != 0 ]]; then
  die "guest script ${guest_script##*/} failed with exit status $rc on $release (${elapsed}s)"
fi
echo "vm: guest script ${guest_script##*/} passed on $release (${elapsed}s)"
