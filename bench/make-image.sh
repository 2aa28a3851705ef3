#!/usr/bin/env bash
# make-image.sh WORKDIR - builds the benchmark's sample ext4 image in WORKDIR/sample.img:
#   big.bin                      1 GiB of random data
#   tree/dNN/dNN/fNN.bin         20 x 20 x 50 = 20,000 files of 1-16 KiB random data
#   wide/                        100,000 empty files
#   wide10k/                     10,000 empty files (the subset for the memory check)
set -euo pipefail
work="$1"
src="$work/src"
img="$work/sample.img"
rm -rf "$src" "$img" "$img.tmp"
mkdir -p "$src"
echo "make-image: 1 GiB random file" >&2
head -c 1G /dev/urandom > "$src/big.bin"
echo "make-image: the 20,000-file tree" >&2
python3 - "$src" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(4)
pool = os.urandom(16 << 20)          # slices of one random pool: fast, and not compressible
for a in range(20):
    for b in range(20):
        d = os.path.join(root, "tree", f"d{a:02}", f"d{b:02}")
        os.makedirs(d)
        for c in range(50):
            n = rnd.randint(1024, 16384)
            o = rnd.randrange(0, len(pool) - n)
            with open(os.path.join(d, f"f{c:02}.bin"), "wb") as f:
                f.write(pool[o:o + n])
PY
echo "make-image: mke2fs -d (sparse 3 GiB)" >&2
truncate -s 3G "$img.tmp"
mke2fs -q -F -t ext4 -i 8192 -L rtbench -d "$src" "$img.tmp"
# The wide folders go in through the kernel: mke2fs -d links entries into an unindexed folder one
# by one (quadratic: over 15 minutes for 100,000), the kernel builds an htree as a live system has.
echo "make-image: the 100,000 / 10,000-entry folders (through a loop mount)" >&2
fill="$work/fill"
mkdir -p "$fill"
mount -o loop "$img.tmp" "$fill"
trap 'umount "$fill" 2>/dev/null || true' EXIT
python3 - "$fill" <<'PY'
import os, sys
for name, count in (("wide", 100_000), ("wide10k", 10_000)):
    d = os.path.join(sys.argv[1], name)
    os.makedirs(d)
    for i in range(count):
        os.close(os.open(os.path.join(d, f"entry-{i:06}"), os.O_CREAT | os.O_WRONLY, 0o644))
PY
umount "$fill"
trap - EXIT
rmdir "$fill"
mv "$img.tmp" "$img"
rm -rf "$src"
echo "make-image: done: $(du -h --apparent-size "$img" | cut -f1) apparent, $(du -h "$img" | cut -f1) used" >&2
