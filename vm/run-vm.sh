#!/usr/bin/env bash
# Reference launcher for the restore VM (manual use and tests, until Start-RestoreVM exists).
#
#   vm/run-vm.sh -i NAME=PATH [-i NAME=PATH ...] [options]
#
#   -i NAME=PATH        attach PATH read-only as a virtio disk whose serial is NAME (20 chars max)
#   -w, --rw-image NAME=PATH   attach raw PATH writable, serial NAME (test fixtures built in a VM)
#   --state DIR         per-VM folder: console.log, qemu.pid, token, initrd (default: a new
#                       folder under ${TMPDIR:-/tmp})
#   --kernel FILE       default out/vm/vmlinux
#   --initrd FILE       base initrd, default out/vm/initrd.img
#   --token TOKEN       the agent's token (default: 32 random bytes, hex); written to DIR/token
#   --cmdline-token     TESTS ONLY: pass the token as restoretools.token= instead of appending
#                       a token cpio to the initrd
#   --idle SECONDS      agent idle timeout (restoretools.idle=, default 600)
#   --selftest          boot with restoretools.selftest=1 and wait; exit 0 on "SELFTEST OK"
#   --wait              stay in the foreground until the VM powers off
#   --machine q35       the only machine type (microvm hangs in the stock kernel's TSC
#                       calibration under TCG here: no PIT/HPET reference)
#   --accel auto|kvm|tcg    default auto: kvm only when /dev/kvm works and kvm_intel/kvm_amd is
#                       loaded (a paravirtual /dev/kvm without them cannot run a stock kernel)
#   --mem MB            default 512
#   --smp N             default 2
#   --append ARGS       extra kernel command line (repeatable)
#
# Prints: port=N pid=N state=DIR console=FILE token-file=FILE (one per line). The agent then
# answers on http://127.0.0.1:PORT/ with 'Authorization: Bearer <token>'. Stop the VM with
# POST /api/v1/stop or `kill PID`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
kernel="$root/out/vm/vmlinux"
initrd="$root/out/vm/initrd.img"
state="" token="" cmdline_token=0 idle=600 selftest=0 wait=0 machine=q35 accel=auto mem=512 smp=2 extra=""
images=()

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; }
die() { echo "run-vm: error: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case "$1" in
        -i|--image) images+=("ro:$2"); shift 2 ;;
        -w|--rw-image) images+=("rw:$2"); shift 2 ;;
        --state) state="$2"; shift 2 ;;
        --kernel) kernel="$2"; shift 2 ;;
        --initrd) initrd="$2"; shift 2 ;;
        --token) token="$2"; shift 2 ;;
        --cmdline-token) cmdline_token=1; shift ;;
        --idle) idle="$2"; shift 2 ;;
        --selftest) selftest=1; wait=1; shift ;;
        --wait) wait=1; shift ;;
        --machine) machine="$2"; shift 2 ;;
        --accel) accel="$2"; shift 2 ;;
        --mem) mem="$2"; shift 2 ;;
        --smp) smp="$2"; shift 2 ;;
        --append) extra="${extra:+$extra }$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[ -f "$kernel" ] || die "no kernel $kernel (run vm/build-vm.sh)"
[ -f "$initrd" ] || die "no initrd $initrd (run vm/build-vm.sh)"
if ! command -v qemu-system-x86_64 >/dev/null; then
    [ "$(id -u)" = 0 ] || die "qemu-system-x86_64 is missing"
    echo "run-vm: installing qemu-system-x86 (--no-install-recommends)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
fi

# ---- accelerator ----------------------------------------------------------------------------
kvm_usable() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    grep -qE '^(kvm_intel|kvm_amd) ' /proc/modules 2>/dev/null && return 0
    [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]
}
case "$accel" in
    auto) if kvm_usable; then accel=kvm; else accel=tcg; fi ;;
    kvm|tcg) ;;
    *) die "--accel auto|kvm|tcg" ;;
esac
# TCG: max (with qemu64 crc32c-intel, ext4's checksums, fails to load), less ERMS/FSRM: with them
# the kernel copies and clears memory with rep movsb/stosb, which TCG runs one byte per step;
# without them it uses unrolled 8-byte moves (/init ~0.3 s and the agent's answer ~0.55 s earlier).
if [ "$accel" = kvm ]; then cpu=host; else cpu=max,erms=off,fsrm=off; fi
case "$machine" in
    q35) machine_opt="q35" ;;
    *) die "--machine q35 (microvm does not boot the stock kernel under TCG)" ;;
esac

# ---- state folder, token ------------------------------------------------------------------
if [ -z "$state" ]; then state="$(mktemp -d "${TMPDIR:-/tmp}/restore-vm.XXXXXX")"; fi
mkdir -p "$state"
chmod 0700 "$state"
state="$(cd "$state" && pwd)"
[ -n "$token" ] || token="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
(umask 077; printf '%s' "$token" >"$state/token")
# Kernel parameters that shorten the boot (measured under TCG, as in RestoreVmManager.cs):
#   cryptomgr.notests  no self-tests of the crypto algorithms at boot (~0.45 s)
#   noreplace-smp      keep the LOCK prefixes; with one CPU the kernel otherwise rewrites each of
#                      them (~0.2 s of code patching); locked instructions are correct on one CPU
append="console=ttyS0 quiet panic=-1 cryptomgr.notests noreplace-smp restoretools.idle=$idle"
[ $selftest = 1 ] && append="$append restoretools.selftest=1"
if [ $cmdline_token = 1 ]; then
    append="$append restoretools.token=$token"
    vm_initrd="$initrd"
else
    printf '%s' "$token" | "$here/append-token.sh" "$initrd" - "$state/initrd.img"
    vm_initrd="$state/initrd.img"
fi
[ -z "$extra" ] || append="$append $extra"

# ---- disks ----------------------------------------------------------------------------------
qesc() { printf '%s' "${1//,/,,}"; }   # qemu option values: ',' is written ',,'
image_format() {
    local path="$1" fmt=""
    case "${path,,}" in
        *.qcow2|*.qcow) echo qcow2; return ;;
        *.img|*.raw|*.fidx|*.bin|*.iso|*.dd) echo raw; return ;;
    esac
    if command -v qemu-img >/dev/null; then
        fmt="$(qemu-img info --output=json -- "$path" 2>/dev/null | sed -n 's/.*"format": *"\([a-z0-9]*\)".*/\1/p' | head -1)"
    elif [ "$(head -c 4 "$path" | od -An -tx1 | tr -d ' ')" = 514649fb ]; then
        fmt=qcow2
    fi
    case "$fmt" in qcow2) echo qcow2 ;; *) echo raw ;; esac
}
drive_args=()
n=0
for spec in "${images[@]}"; do
    mode="${spec%%:*}" spec="${spec#*:}" opt=-i
    [ "$mode" = rw ] && opt=-w
    name="${spec%%=*}" path="${spec#*=}"
    [ "$name" != "$spec" ] && [ -n "$name" ] || die "$opt NAME=PATH, got '$spec'"
    [ -f "$path" ] || [ -b "$path" ] || die "$opt $name: no file '$path'"
    if [ ${#name} -gt 20 ]; then
        echo "run-vm: warning: serial '$name' is longer than 20 characters; the VM sees '${name:0:20}'" >&2
        name="${name:0:20}"
    fi
    if [ "$mode" = rw ]; then
        # always raw: a writable disk is never probed for a format (a guest could write a qcow2 header)
        [ -w "$path" ] || die "-w $name: '$path' is not writable"
        drive_opts="format=raw"
    else
        drive_opts="format=$(image_format "$path"),readonly=on"
    fi
    drive_args+=(-drive "file=$(qesc "$(realpath "$path")"),if=none,id=d$n,$drive_opts"
                 -device "virtio-blk-pci,drive=d$n,serial=$(qesc "$name")")
    n=$((n + 1))
done

# ---- port -----------------------------------------------------------------------------------
port_free() {
    if command -v ss >/dev/null; then
        [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
    else
        ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

console="$state/console.log"
pidfile="$state/qemu.pid"
for attempt in 1 2 3 4 5; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    port_free "$port" || continue
    args=(-accel "$accel" -cpu "$cpu" -machine "$machine_opt" -m "$mem" -smp "$smp"
          -nodefaults -no-user-config -display none -no-reboot
          -serial "file:$console"
          -kernel "$kernel" -initrd "$vm_initrd" -append "$append"
          "${drive_args[@]}"
          -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-10.0.2.15:8000"
          -device "virtio-net-pci,netdev=n0,romfile="
          -pidfile "$pidfile")
    rm -f "$console" "$pidfile"
    printf '%s\n' "qemu-system-x86_64 ${args[*]}" | sed "s/restoretools.token=[^ ]*/restoretools.token=…/" >"$state/qemu.cmdline"
    start=$(date +%s.%N)
    echo "$start" >"$state/started"
    if [ $wait = 1 ]; then
        qemu-system-x86_64 "${args[@]}" 2>"$state/qemu.err" &
        qpid=$!
        for _ in $(seq 50); do [ -s "$pidfile" ] && break; kill -0 $qpid 2>/dev/null || break; sleep 0.02; done
        if ! kill -0 $qpid 2>/dev/null && grep -q "hostfwd\|Could not set up host forwarding" "$state/qemu.err"; then continue; fi
        printf 'port=%s\npid=%s\nstate=%s\nconsole=%s\ntoken-file=%s\n' "$port" "$qpid" "$state" "$console" "$state/token"
        rc=0; wait $qpid || rc=$?
        end=$(date +%s.%N)
        [ $rc = 0 ] || { cat "$state/qemu.err" >&2; die "qemu exited with code $rc"; }
        echo "elapsed=$(awk "BEGIN{printf \"%.2f\", $end-$start}")"
        if [ $selftest = 1 ]; then
            grep -a 'selftest:\|SELFTEST\|restore-vm:' "$console" >&2 || true
            grep -aq '^SELFTEST OK' "$console" || die "selftest failed (see $console)"
        fi
        exit 0
    else
        if qemu-system-x86_64 "${args[@]}" -daemonize 2>"$state/qemu.err"; then
            printf 'port=%s\npid=%s\nstate=%s\nconsole=%s\ntoken-file=%s\n' "$port" "$(cat "$pidfile")" "$state" "$console" "$state/token"
            exit 0
        fi
        grep -q "hostfwd\|host forwarding" "$state/qemu.err" && continue
        cat "$state/qemu.err" >&2
        die "qemu failed to start"
    fi
done
die "no free port found for the host forward"
