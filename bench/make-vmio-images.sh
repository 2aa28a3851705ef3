#!/usr/bin/env bash
# make-vmio-images.sh WORKDIR - the images of bench/vm.sh --io (issue 15): the same files on
# ext4, xfs and FAT32, each a raw filesystem (no partition table):
#   big.bin   50 MB of random data
#   small/    8 files (the listing with its first mount)
#   many/     10,000 files of 1-4 KiB in ONE folder (the tar; FAT's slow case)
# ext4 and xfs are filled through a loop mount of this host (mke2fs -d links entries one by one
# into an unindexed folder); FAT32 with mcopy (this host has no vfat).
set -euo pipefail
work="$1"
src="$work/vmio-src"
rm -rf "$src"
mkdir -p "$src/small" "$src/many"
python3 - "$src" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(15)
pool = os.urandom(8 << 20)
with open(os.path.join(root, "big.bin"), "wb") as f:
    f.write(os.urandom(50 * 1000 * 1000))
for i in range(8):
    with open(os.path.join(root, "small", f"s{i}.txt"), "w") as f:
        f.write(f"small file {i}\n")
for i in range(10000):
    n = rnd.randint(1024, 4096)
    o = rnd.randrange(0, len(pool) - n)
    with open(os.path.join(root, "many", f"f{i:05}.bin"), "wb") as f:
        f.write(pool[o:o + n])
PY
mnt="$(mktemp -d)"
for fs in ext4 xfs; do
    img="$work/vmio-$fs.img"
    rm -f "$img" "$img.tmp"
    truncate -s 320M "$img.tmp"
    if [ $fs = ext4 ]; then mke2fs -q -F -t ext4 "$img.tmp"; else mkfs.xfs -q -f "$img.tmp"; fi
    mount -o loop "$img.tmp" "$mnt"
    cp -a "$src/." "$mnt/"
    umount "$mnt"
    mv "$img.tmp" "$img"
done
rmdir "$mnt"
img="$work/vmio-fat.img"
rm -f "$img" "$img.tmp"
truncate -s 160M "$img.tmp"
mkfs.fat -F 32 "$img.tmp" >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -s -Q -i "$img.tmp" "$src/big.bin" "$src/small" "$src/many" ::/
mv "$img.tmp" "$img"
rm -rf "$src"
echo "make-vmio-images: done: $work/vmio-{ext4,xfs,fat}.img" >&2
