#!/usr/bin/env bash
# bench/lvm.sh [--repeat N] - LVM through a restore VM (issue 12): bucket listing of 2 VGs with 11
# LVs, and a 100 MB file read from a linear LV, a striped LV and a plain partition of the same
# image, with a host loop-mount reference. The images are made once by real lvm2 in the maker VM
# (tests/Lvm/make-lvm-images.sh, LVM_MAKER_BENCH_MB=100) under $BENCH_WORK (default
# /var/tmp/restoretools-bench). Needs ./build.sh Agent VmImage and root. Writes
# bench/results/lvm-latest.txt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="${BENCH_WORK:-/var/tmp/restoretools-bench}"
repeat=3
while (( $# > 0 )); do
    case "$1" in
        --repeat) repeat="$2"; shift ;;
        *) echo "usage: bench/lvm.sh [--repeat N]" >&2; exit 2 ;;
    esac
    shift
done
[[ $(id -u) -eq 0 ]] || { echo "bench/lvm.sh: needs root (loop mount, drop_caches)" >&2; exit 1; }
[[ -f "$root/out/vm/initrd.img" && -f "$root/out/RestoreTools/RestoreTools.psd1" ]] ||
    { echo "bench/lvm.sh: build first: ./build.sh Build Agent VmImage" >&2; exit 1; }
LVM_MAKER_BENCH_MB=100 bash "$root/tests/Lvm/make-lvm-images.sh" "$work/lvm-100" >&2
mkdir -p "$here/results"
cd "$root"
exec dotnet pwsh -NoProfile -File "$here/lvm.ps1" -Images "$work/lvm-100" -Repeat "$repeat" -Out "$here/results/lvm-latest.txt"
