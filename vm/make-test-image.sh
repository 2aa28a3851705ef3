#!/usr/bin/env bash
# Builds a small GPT test disk for the restore VM without loop devices:
#   partition 1: ext4 (mkfs.ext4 -d) with selftest.txt and etc/hostname
#   partition 2: vfat (mkfs.vfat + mcopy) with selftest.txt
#
#   vm/make-test-image.sh [OUT]     (default out/vm/test/test-gpt.img)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../out/vm/test/test-gpt.img}"
need=()
command -v sfdisk >/dev/null || need+=(fdisk)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v mkfs.vfat >/dev/null || need+=(dosfstools)
command -v mcopy >/dev/null || need+=(mtools)
[ ${#need[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}" E2FSPROGS_FAKE_TIME="${SOURCE_DATE_EPOCH:-0}"
mkdir -p "$(dirname "$out")"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

# 64 MiB disk: p1 ext4 at 1 MiB, 40 MiB; p2 vfat at 41 MiB, 22 MiB
rm -f "$out"; truncate -s 64M "$out"
sfdisk -q "$out" <<'PT'
label: gpt
label-id: 5B5A6E0C-7A43-4C1B-9F5E-000000000001
start=2048, size=81920, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=5B5A6E0C-7A43-4C1B-9F5E-000000000011, name=root
start=83968, size=45056, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=5B5A6E0C-7A43-4C1B-9F5E-000000000012, name=efi
PT

mkdir -p "$tmp/ext/etc"
echo "hello from ext4" >"$tmp/ext/selftest.txt"
echo "restore-test" >"$tmp/ext/etc/hostname"
truncate -s 40M "$tmp/p1"
mkfs.ext4 -q -F -L rt-root -U 5b5a6e0c-7a43-4c1b-9f5e-0000000000e4 -E root_owner=0:0 -d "$tmp/ext" "$tmp/p1"
dd if="$tmp/p1" of="$out" bs=512 seek=2048 conv=notrunc status=none

truncate -s 22M "$tmp/p2"
mkfs.vfat -n RT-EFI -i 12345678 "$tmp/p2" >/dev/null
echo "hello from vfat" >"$tmp/hello.txt"
MTOOLS_SKIP_CHECK=1 mcopy -i "$tmp/p2" -m "$tmp/hello.txt" ::/selftest.txt
dd if="$tmp/p2" of="$out" bs=512 seek=83968 conv=notrunc status=none
echo "$out"
