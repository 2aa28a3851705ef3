#!/usr/bin/env bash
# bench/ntfs.sh [--vm NAME=DIR]... [--resumes N] [--reads N] - NTFS vs ext4 through a restore VM (issue 13).
# For each restore VM build (default: out/vm; DIR holds vmlinux and initrd.img, e.g. one made by
# `vm/build-vm.sh --ntfs-3g --out DIR`), through Start-RestoreVM (the module, as a user runs it):
#   initramfs size; first start (boot, snapshot saved, resumed), resumes (median of --resumes, default 3),
#   cold boot (-NoSnapshot); then on one disk holding the same tree on NTFS (partition 1, made by mkntfs
#   and filled through ntfs-3g) and on ext4 (partition 2): the first mount, reading a 100 MB file
#   (Copy-RestoreItem) and a tar export of 10,000 small files (Export-RestoreItem), each first cold
#   (the first read after the mount) and then warm (best of --reads more, default 2).
# Needs root, ntfs-3g, /dev/fuse, qemu, the module in out/RestoreTools (./build.sh Build Agent VmImage).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="${BENCH_WORK:-/var/tmp/restoretools-bench}/ntfs"
vms=() resumes=3 reads=2
while (( $# > 0 )); do
    case "$1" in
        --vm) vms+=("$2"); shift ;;
        --resumes) resumes="$2"; shift ;;
        --reads) reads="$2"; shift ;;
        *) echo "usage: bench/ntfs.sh [--vm NAME=DIR]... [--resumes N] [--reads N]" >&2; exit 2 ;;
    esac
    shift
done
(( ${#vms[@]} > 0 )) || vms=("out/vm=$root/out/vm")
[[ $(id -u) -eq 0 ]] || { echo "bench/ntfs.sh: needs root" >&2; exit 1; }
command -v ntfs-3g >/dev/null || { echo "bench/ntfs.sh: needs ntfs-3g" >&2; exit 1; }
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# The disk: GPT, partition 1 NTFS, partition 2 ext4, each with big.bin (100 MB random) and
# small/dNN/fNNN.txt (100 x 100 = 10,000 files of 1-4 KiB).
img="$work/ntfs-ext4.img"
mkdir -p "$work"
if [[ ! -f "$img" ]]; then
    echo "bench: making $img" >&2
    src="$work/src" mnt="$work/mnt"
    rm -rf "$src"; mkdir -p "$src" "$mnt"
    head -c 100000000 /dev/urandom >"$src/big.bin"
    python3 - "$src" <<'PY'
import os, random, sys
rnd = random.Random(13)
for a in range(100):
    d = os.path.join(sys.argv[1], "small", f"d{a:02}")
    os.makedirs(d)
    for b in range(100):
        with open(os.path.join(d, f"f{b:03}.txt"), "wb") as f:
            f.write(os.urandom(rnd.randint(1024, 4096)))
PY
    truncate -s 240M "$work/p1.img" "$work/p2.img"
    mkntfs -q -F -f -L ntfsbench -p 2048 "$work/p1.img" 2>/dev/null
    ntfs-3g "$work/p1.img" "$mnt"
    cp -r "$src/." "$mnt/"
    umount "$mnt"
    mke2fs -q -F -t ext4 -L ext4bench -d "$src" "$work/p2.img"
    truncate -s 484M "$img.tmp"
    printf 'label: gpt\nstart=2048, size=491520, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\nstart=493568, size=491520, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' | sfdisk -q "$img.tmp" >/dev/null
    dd if="$work/p1.img" of="$img.tmp" bs=1M seek=1 conv=notrunc,sparse status=none
    dd if="$work/p2.img" of="$img.tmp" bs=512 seek=493568 conv=notrunc,sparse status=none
    mv "$img.tmp" "$img"
    rm -rf "$src" "$mnt" "$work/p1.img" "$work/p2.img"
fi

vmlist="$(IFS=';'; echo "${vms[*]}")"
exec dotnet pwsh -NoProfile -File "$here/ntfs.ps1" -Module "$root/out/RestoreTools/RestoreTools.psd1" -Image "$img" \
    -Work "$work" -Resumes "$resumes" -Reads "$reads" -Vm "$vmlist"
