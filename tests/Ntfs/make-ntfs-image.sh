#!/usr/bin/env bash
# tests/Ntfs/make-ntfs-image.sh OUTDIR - a GPT disk with one NTFS partition, made by mkntfs and
# filled through ntfs-3g (FUSE) on this host, as Windows would have left it:
#   OUTDIR/ntfs.img        128 MiB GPT disk, partition 1 (Microsoft basic data) NTFS, label WINDATA
#   OUTDIR/expected.sha256 sha256 of every regular file, from the source bytes (not read back)
#   OUTDIR/source/         the files as they were written
# Contents: a long name (240 characters), Unicode names (accents, CJK, Cyrillic, an emoji outside
# the BMP), a compressed folder (NTFS LZNT1, the attribute set through ntfs-3g's
# system.ntfs_attrib_be), alternate data streams (user.NAME through streams_interface=xattr), a hard
# link, reparse points written as Windows writes them (system.ntfs_reparse_data): a junction into
# the volume, one to C:\Windows\System32, a relative symlink, an absolute one, and one that climbs
# out with ..\..\..; a sparse file (64 MiB, two 1 MiB extents of data); a hiberfil.sys that says the
# volume is hibernated (Fast Startup). Needs root, ntfs-3g,
# /dev/fuse, setfattr (attr), sfdisk, python3.
set -euo pipefail
out="${1:?usage: make-ntfs-image.sh OUTDIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
mnt="$work/mnt"
mkdir -p "$mnt"
cleanup() { if mountpoint -q "$mnt"; then umount "$mnt"; fi; rm -rf "$work"; }
trap 'rc=$?; cleanup; exit $rc' EXIT

src="$out/source"
rm -rf "$src"; mkdir -p "$src"
long="$(printf 'L%.0s' $(seq 1 236)).txt"
uni='Ünïcödé – 日本語 файл 🎉.txt'
mkdir -p "$src/Documents/Reports 2026" "$src/Compressed" "$src/target/inner"
printf 'hello from NTFS\n' >"$src/hello.txt"
printf 'a long name\n' >"$src/$long"
printf 'unicode name\n' >"$src/$uni"
printf 'in the target folder\n' >"$src/target/inner/t.txt"
printf 'quarterly report\n' >"$src/Documents/Reports 2026/q1.txt"
head -c 1048576 /dev/urandom >"$src/Documents/random.bin"
(yes 'compressible line of text 0123456789 abcdefghijklmnopqrstuvwxyz' || true) | head -c 3000000 >"$src/Compressed/big.txt"
head -c 200000 /dev/urandom >"$src/Compressed/random.bin"
# sparse: data at 0 and at 40 MiB, holes elsewhere (64 MiB in all)
head -c 1048576 /dev/urandom >"$work/a"; head -c 1048576 /dev/urandom >"$work/b"
dd if="$work/a" of="$src/sparse.bin" bs=1M conv=notrunc status=none
dd if="$work/b" of="$src/sparse.bin" bs=1M seek=40 conv=notrunc status=none
truncate -s 64M "$src/sparse.bin"
# hibernated, as Windows' Fast Startup leaves a volume: ntfs-3g then refuses read-write, not read-only
{ printf 'HIBR'; head -c 4092 /dev/zero; } >"$src/hiberfil.sys"

part="$work/part.img"
truncate -s 126M "$part"
# -p 2048: the partition's first sector, recorded in the boot sector as Windows expects
mkntfs -q -F -f -L WINDATA -p 2048 -H 255 -S 63 "$part" 2>/dev/null
ntfs-3g -o streams_interface=xattr "$part" "$mnt"
mkdir "$mnt/Compressed"
setfattr -n system.ntfs_attrib_be -v 0x00000800 "$mnt/Compressed"   # FILE_ATTRIBUTE_COMPRESSED: new files inside are compressed
(cd "$src" && find . -mindepth 1 -type d -printf '%P\0' | sort -z | xargs -0 -I{} mkdir -p "$mnt/{}")
(cd "$src" && find . -type f ! -name sparse.bin -printf '%P\0' | sort -z | xargs -0 -I{} cp "{}" "$mnt/{}")
cp --sparse=always "$src/sparse.bin" "$mnt/sparse.bin"
ln "$mnt/hello.txt" "$mnt/Documents/hello-hardlink.txt"
setfattr -n user.Zone.Identifier -v $'[ZoneTransfer]\r\nZoneId=3\r\n' "$mnt/Documents/random.bin"
setfattr -n user.secret -v 0x00ff10ab "$mnt/hello.txt"
reparse() { python3 - "$@" <<'EOF'
import struct, sys
# a REPARSE_DATA_BUFFER: junction (mount point) or symlink (relative: flag 1)
kind, subst, prn = sys.argv[1:4]
s, p = subst.encode('utf-16-le'), prn.encode('utf-16-le')
if kind == 'junction':
    body = struct.pack('<HHHH', 0, len(s), len(s) + 2, len(p)) + s + b'\0\0' + p + b'\0\0'
    tag = 0xA0000003
else:
    body = struct.pack('<HHHHI', 0, len(s), len(s), len(p), 1 if kind == 'relsymlink' else 0) + s + p
    tag = 0xA000000C
print('0x' + (struct.pack('<IHH', tag, len(body), 0) + body).hex())
EOF
}
mkdir "$mnt/Junction" "$mnt/System32"
setfattr -n system.ntfs_reparse_data -v "$(reparse junction '\??\C:\target' 'C:\target')" "$mnt/Junction"
setfattr -n system.ntfs_reparse_data -v "$(reparse junction '\??\C:\Windows\System32' 'C:\Windows\System32')" "$mnt/System32"
touch "$mnt/rel-link.txt" "$mnt/abs-link.txt" "$mnt/escape-link.txt"
setfattr -n system.ntfs_reparse_data -v "$(reparse relsymlink 'target\inner\t.txt' 'target\inner\t.txt')" "$mnt/rel-link.txt"
setfattr -n system.ntfs_reparse_data -v "$(reparse symlink '\??\C:\Users\x\secret.txt' 'C:\Users\x\secret.txt')" "$mnt/abs-link.txt"
setfattr -n system.ntfs_reparse_data -v "$(reparse relsymlink '..\..\..\etc\passwd' '..\..\..\etc\passwd')" "$mnt/escape-link.txt"
attr="$(getfattr --absolute-names -e hex -n system.ntfs_attrib_be "$mnt/Compressed/big.txt" | sed -n 's/.*=0x//p')"
[ $((0x$attr & 0x800)) -ne 0 ] || { echo "make-ntfs-image: Compressed/big.txt is not compressed ($attr)" >&2; exit 1; }
umount "$mnt"

(cd "$src" && find . -type f -printf '%P\0' | sort -z | xargs -0 sha256sum) >"$out/expected.sha256"
img="$out/ntfs.img"
rm -f "$img"
truncate -s 128M "$img"
printf 'label: gpt\nstart=2048, size=%d, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Basic data partition"\n' $((126 * 2048)) |
    sfdisk -q "$img" >/dev/null
dd if="$part" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
echo "$img"
