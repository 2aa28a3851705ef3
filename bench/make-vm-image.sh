#!/usr/bin/env bash
# make-vm-image.sh WORKDIR - the restore VM benchmark's image, WORKDIR/vmtree.img (bench/vm.sh, issue 6):
# a raw ext4 (no partition table, 256 MiB) holding tree/dNN/dNN/fNN.bin: 10 x 10 x 30 = 3,000
# files of 1-64 KiB random data, about 100 MB in 111 folders.
set -euo pipefail
work="$1"
src="$work/vmtree-src"
img="$work/vmtree.img"
rm -rf "$src" "$img" "$img.tmp"
mkdir -p "$src"
python3 - "$src" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(6)
pool = os.urandom(32 << 20)          # slices of one random pool: fast, and not compressible
total = 0
for a in range(10):
    for b in range(10):
        d = os.path.join(root, "tree", f"d{a:02}", f"d{b:02}")
        os.makedirs(d)
        for c in range(30):
            n = rnd.randint(1024, 65536)
            o = rnd.randrange(0, len(pool) - n)
            with open(os.path.join(d, f"f{c:02}.bin"), "wb") as f:
                f.write(pool[o:o + n])
            total += n
print(f"make-vm-image: 3,000 files, {total / 1e6:.1f} MB", file=sys.stderr)
PY
truncate -s 256M "$img.tmp"
mke2fs -q -F -t ext4 -L rtvmbench -d "$src" "$img.tmp"
mv "$img.tmp" "$img"
rm -rf "$src"
echo "make-vm-image: done: $img ($(du -h "$img" | cut -f1) used)" >&2
