#!/usr/bin/env bash
# New-SampleImage.sh - build the RestoreTools sample disk image without loop devices.
#
#   tools/New-SampleImage.sh [--force] [OUTPUT]      (default OUTPUT: out/sample/sample.img)
#
# Result: a 256 MiB GPT image (sfdisk on a plain file) with
#   p1  ext4  label rootfs  /etc/hostname, /etc/passwd, /home/alice/notes.txt,
#                           /etc/localtime -> /usr/share/zoneinfo/UTC (+ the target file)
#   p2  xfs   label data    /reports/2026/summary.txt
#   p3  vfat  label EFI     /EFI/BOOT/readme.txt
# Each filesystem is made on its own plain file (mkfs.ext4 -d, mkfs.xfs -p protofile,
# mkfs.vfat + mcopy) and copied into the image with dd conv=notrunc. No loop device and
# no mount is used. Skips work when OUTPUT exists and is newer than this script.
# The layout and file contents below are what tests may rely on: change them together.
set -euo pipefail

force=0
if [[ "${1:-}" == "--force" ]]; then force=1; shift; fi
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/out/sample/sample.img}"
script="${BASH_SOURCE[0]}"

if [[ $force -eq 0 && -f "$out" && "$out" -nt "$script" ]]; then
    echo "Sample image is up to date: $out"
    exit 0
fi

for tool in sfdisk mkfs.ext4 mkfs.xfs mkfs.vfat mmd mcopy dd truncate; do
    command -v "$tool" >/dev/null 2>&1 || { echo "New-SampleImage.sh: missing tool '$tool' (run ./build.sh, which installs tools/debian-packages.txt)" >&2; exit 1; }
done

# ---- layout (512-byte sectors) ---------------------------------------------------------
SECTOR=512
IMAGE_MIB=256
P1_START=2048;   P1_SIZE=204800   # 100 MiB ext4  rootfs
P2_START=206848; P2_SIZE=204800   # 100 MiB xfs   data
P3_START=411648; P3_SIZE=65536    #  32 MiB vfat  EFI
DISK_GUID=5E5A3B1C-0000-4000-8000-000000000001
P1_GUID=5E5A3B1C-0000-4000-8000-000000000011
P2_GUID=5E5A3B1C-0000-4000-8000-000000000012
P3_GUID=5E5A3B1C-0000-4000-8000-000000000013
EXT4_UUID=5e5a3b1c-0000-4000-8000-0000000000e4
XFS_UUID=5e5a3b1c-0000-4000-8000-0000000000f5
VFAT_ID=5E5A0003
LINUX_FS_TYPE=0FC63DAF-8483-4772-8E79-3D69D8477DE4
ESP_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B

outdir="$(dirname "$out")"
mkdir -p "$outdir"
work="$(mktemp -d "$outdir/.sample-work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# ---- partition 1: ext4 "rootfs" from a directory ----------------------------------------
root="$work/rootfs"
mkdir -p "$root/etc" "$root/home/alice" "$root/usr/share/zoneinfo"
printf 'restore-demo\n' > "$root/etc/hostname"
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
PASSWD
printf 'Alice notes: the quarterly backup lives on the data volume.\n' > "$root/home/alice/notes.txt"
printf 'UTC0\n' > "$root/usr/share/zoneinfo/UTC"
ln -s /usr/share/zoneinfo/UTC "$root/etc/localtime"
chmod 755 "$root" "$root/etc" "$root/home" "$root/usr" "$root/usr/share" "$root/usr/share/zoneinfo"
chmod 700 "$root/home/alice"
chmod 644 "$root/etc/hostname" "$root/etc/passwd" "$root/usr/share/zoneinfo/UTC"
chmod 600 "$root/home/alice/notes.txt"
chown -R 0:0 "$root"
chown -R 1000:1000 "$root/home/alice"
truncate -s $((P1_SIZE * SECTOR)) "$work/p1.ext4"
mkfs.ext4 -q -F -b 4096 -L rootfs -U "$EXT4_UUID" -E root_owner=0:0 -d "$root" "$work/p1.ext4"

# ---- partition 2: xfs "data" from a protofile ------------------------------------------
printf 'Summary 2026: 3 restores, 0 failures.\n' > "$work/summary.txt"
cat > "$work/xfs.proto" <<PROTO
/dev/null
0 0
d--755 0 0
reports d--755 0 0
2026 d--755 0 0
summary.txt ---644 0 0 $work/summary.txt
\$
\$
\$
PROTO
truncate -s $((P2_SIZE * SECTOR)) "$work/p2.xfs"
# mkfs.xfs >= 5.19 refuses filesystems below 300 MB unless all three fstests variables are set.
TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 \
    mkfs.xfs -q -f -L data -m uuid="$XFS_UUID" -p "$work/xfs.proto" "$work/p2.xfs"

# ---- partition 3: vfat "EFI" filled with mtools -----------------------------------------
printf 'RestoreTools sample EFI system partition.\r\n' > "$work/readme.txt"
truncate -s $((P3_SIZE * SECTOR)) "$work/p3.vfat"
mkfs.vfat -n EFI -i "$VFAT_ID" "$work/p3.vfat" >/dev/null
mmd -i "$work/p3.vfat" ::/EFI ::/EFI/BOOT
mcopy -i "$work/p3.vfat" "$work/readme.txt" ::/EFI/BOOT/readme.txt

# ---- the disk: GPT on a plain file, then the filesystems at their offsets ---------------
img="$work/sample.img"
truncate -s "${IMAGE_MIB}M" "$img"
sfdisk --quiet --no-reread --no-tell-kernel "$img" <<SFDISK
label: gpt
label-id: $DISK_GUID
unit: sectors
first-lba: 2048
sector-size: 512

start=$P1_START, size=$P1_SIZE, type=$LINUX_FS_TYPE, uuid=$P1_GUID, name="rootfs"
start=$P2_START, size=$P2_SIZE, type=$LINUX_FS_TYPE, uuid=$P2_GUID, name="data"
start=$P3_START, size=$P3_SIZE, type=$ESP_TYPE, uuid=$P3_GUID, name="EFI"
SFDISK
dd if="$work/p1.ext4" of="$img" bs=$SECTOR seek=$P1_START conv=notrunc,sparse status=none
dd if="$work/p2.xfs"  of="$img" bs=$SECTOR seek=$P2_START conv=notrunc,sparse status=none
dd if="$work/p3.vfat" of="$img" bs=$SECTOR seek=$P3_START conv=notrunc,sparse status=none
mv -f "$img" "$out"

echo "Made sample image $out ($IMAGE_MIB MiB, GPT):"
printf '  part 1  ext4  rootfs  offset %10d  /etc/hostname /etc/passwd /etc/localtime -> /usr/share/zoneinfo/UTC /home/alice/notes.txt\n' $((P1_START * SECTOR))
printf '  part 2  xfs   data    offset %10d  /reports/2026/summary.txt\n' $((P2_START * SECTOR))
printf '  part 3  vfat  EFI     offset %10d  /EFI/BOOT/readme.txt\n' $((P3_START * SECTOR))
