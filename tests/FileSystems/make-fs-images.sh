#!/usr/bin/env bash
# Makes one test image per filesystem with its real mkfs tool, and fills it with the same files.
#
#   tests/FileSystems/make-fs-images.sh OUTDIR
#
# Filled on this host where a tool writes files into an image without mounting it:
#   ufs1, ufs2   makefs -t ffs -o version=1|2 (NetBSD makefs takes a folder; no label option)
#   hfs          hformat -l, then hmkdir and hcopy -r (hfsutils)
#   f2fs         mkfs.f2fs -l, then sload.f2fs -f (f2fs-tools)
#   hfsplus      xorriso -as mkisofs -hfsplus: Debian 12 has no mkfs.hfsplus (hfsprogs is not in
#                bookworm), but libisofs writes a real HFS+ volume beside the ISO 9660 tree, in an
#                Apple_HFS partition of an Apple partition map; that partition is cut out as the image
# Filled in a "maker VM" (the restore VM's Debian kernel, busybox, writable virtio disks), since this
# host's kernel has none of these drivers and no tool writes files into them:
#   jfs (mkfs.jfs -L), reiserfs (mkfs.reiserfs -l), udf (mkudffs --label), nilfs2 (mkfs.nilfs2 -L),
#   minix (mkfs.minix -3, no label)
#
# OUTDIR receives: TYPE.img (64 MiB, sparse, one filesystem on the whole disk; hfsplus.img is xorriso's size), payload/ (the files
# every image holds), manifest.sha256 ("sha256  relative/path" of payload/), console.log (the maker
# VM's), .maker-stamp. The maker VM checks each image it filled by sha256 after a read-only remount.
# Cached: a matching OUTDIR/.maker-stamp means nothing to do. Needs root, qemu-system-x86_64, cpio,
# kmod and the tools above; the kernel and busybox come from vm/build-vm.sh's cache (out/cache/vm).
set -euo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
log() { echo "make-fs-images: $*" >&2; }
die() { echo "make-fs-images: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
outdir="$1"
timeout_s="${FS_MAKER_TIMEOUT:-600}"
[ "$(id -u)" = 0 ] || die "run as root"
for t in mkfs.f2fs sload.f2fs mkfs.jfs mkfs.reiserfs mkudffs mkfs.nilfs2 mkfs.minix hformat hmkdir hcopy humount makefs xorriso cpio depmod modprobe qemu-system-x86_64 sha256sum; do
    command -v "$t" >/dev/null || die "missing host tool '$t' (apt-get install --no-install-recommends f2fs-tools jfsutils reiserfsprogs udftools nilfs-tools util-linux hfsutils makefs xorriso cpio kmod qemu-system-x86)"
done
vm_types="jfs reiserfs udf nilfs2 minix"
all_types="f2fs jfs reiserfs udf nilfs2 minix hfs hfsplus ufs1 ufs2"

# ---- kernel and busybox from vm/build-vm.sh's cache -------------------------------------------
# shellcheck source=../../vm/kernel.env
. "$root/vm/kernel.env"
cache="$root/out/cache/vm/unpacked"
find_kdir() {
    local d
    for d in "$cache/${KERNEL_PACKAGE}_"*/ "$cache"/linux-image-*/; do
        [ -e "$d/.done" ] && [ -f "$d/vmlinux" ] && { echo "${d%/}"; return 0; }
    done
    return 1
}
find_bdir() {
    local d
    for d in "$cache/${BUSYBOX_PACKAGE}_"*/; do
        [ -e "$d/.done" ] && [ -x "$d/bin/busybox" ] && { echo "${d%/}"; return 0; }
    done
    return 1
}
if ! kdir="$(find_kdir)" || ! bdir="$(find_bdir)"; then
    scratch="$(mktemp -d "${TMPDIR:-/tmp}/fs-maker-vm.XXXXXX")"
    log "no unpacked kernel in $cache: running vm/build-vm.sh"
    "$root/vm/build-vm.sh" --out "$scratch" >&2 || { rm -rf "$scratch"; die "vm/build-vm.sh failed"; }
    rm -rf "$scratch"
    kdir="$(find_kdir)" || die "vm/build-vm.sh left no unpacked kernel in $cache"
    bdir="$(find_bdir)" || die "vm/build-vm.sh left no busybox in $cache"
fi
krel="$(basename "$(ls -d "$kdir"/lib/modules/*/ | head -1)")"
[ -f "$kdir/lib/modules/$krel/modules.dep" ] || die "$kdir: no modules.dep for $krel"

modules="virtio_pci virtio_blk $vm_types"
key="$( {
    sha256sum "${BASH_SOURCE[0]}" "$here/fs-maker-init" "$bdir/bin/busybox" | cut -c1-64
    for t in mkfs.f2fs sload.f2fs mkfs.jfs mkfs.reiserfs mkudffs mkfs.nilfs2 mkfs.minix hformat makefs xorriso; do sha256sum "$(command -v $t)" | cut -c1-64; done
    echo "$(basename "$kdir") $krel $modules"
} | sha256sum | cut -c1-16)"

mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
exec 9>"$outdir/.lock"
flock 9
stamp="$outdir/.maker-stamp"
done_already=1
for t in $all_types; do [ -s "$outdir/$t.img" ] || done_already=0; done
if [ $done_already = 1 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && [ -s "$outdir/manifest.sha256" ]; then
    log "up to date: $outdir ($key)"
    exit 0
fi

tmp="$(mktemp -d "$outdir/.making.XXXXXX")"
state="$tmp/vm"
vm_pid=""
cleanup() {
    if [ -n "$vm_pid" ] && kill -0 "$vm_pid" 2>/dev/null; then kill "$vm_pid" 2>/dev/null || true; fi
    if [ -s "$state/qemu.pid" ]; then
        q="$(cat "$state/qemu.pid")"
        if grep -qa "$tmp" "/proc/$q/cmdline" 2>/dev/null; then kill "$q" 2>/dev/null || true; fi
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the files every image holds --------------------------------------------------------------
p="$tmp/payload"
mkdir -p "$p/nested/deeper" "$p/folder"
echo "hello from the filesystem tests" >"$p/hello.txt"
head -c 300000 /dev/urandom >"$p/random.bin"
echo "a nested file" >"$p/nested/deeper/note.txt"
for n in one two three; do echo "folder file $n" >"$p/folder/$n.txt"; done
echo "a name with spaces" >"$p/name with spaces.txt"
(cd "$p" && find . -type f -printf '%P\n' | sort | while read -r f; do sha256sum "$f"; done) >"$tmp/manifest.sha256"

# ---- empty filesystems, and those filled here --------------------------------------------------
img() { truncate -s 64M "$tmp/$1.img"; }
img f2fs;     mkfs.f2fs -q -l f2fs-label "$tmp/f2fs.img" >/dev/null
sload.f2fs -f "$p" "$tmp/f2fs.img" >"$tmp/sload.log" 2>&1 || { cat "$tmp/sload.log" >&2; die "sload.f2fs failed"; }
img jfs;      mkfs.jfs -q -L jfs-label "$tmp/jfs.img" >/dev/null
img reiserfs; mkfs.reiserfs -q -f -l reiser-label "$tmp/reiserfs.img" >/dev/null 2>&1
img udf;      mkudffs --label=udf-label "$tmp/udf.img" >/dev/null
img nilfs2;   mkfs.nilfs2 -q -B 256 -L nilfs-label "$tmp/nilfs2.img"
img minix;    mkfs.minix -3 "$tmp/minix.img" >/dev/null
img hfs;      hformat -l "HFS Label" "$tmp/hfs.img" >/dev/null
# hfsutils keeps its current volume in $HOME/.hcwd
(
    export HOME="$tmp"
    hmount "$tmp/hfs.img" >/dev/null
    for d in nested nested:deeper folder; do hmkdir ":$d"; done
    (cd "$p" && find . -type f -printf '%P\n') | while read -r f; do hcopy -r "$p/$f" ":${f//\//:}"; done
    humount
)
# hfsplus: the Apple_HFS partition of xorriso's hybrid image. Its file data lies inside the partition
# (after the HFS+ catalog), and the kernel's hfsplus reads a bare volume as well as one in a map. The image
# keeps the partition's size: HFS+ keeps a copy of its volume header 1 KiB before the volume's end, and
# the kernel looks for it 1 KiB before the device's end.
xorriso -as mkisofs -quiet -hfsplus -V "HFS Plus Label" -o "$tmp/hybrid.iso" "$p" >/dev/null 2>&1 ||
    die "xorriso -hfsplus failed"
# Apple partition map: block 0 "ER" with the block size at byte 2; entries "PM" from block 1, each with
# its start and length (in blocks) at bytes 8 and 12 and its type at byte 48.
be32() { od -An -tu1 -j "$2" -N 4 "$1" | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }'; }
bs="$(od -An -tu1 -j 2 -N 2 "$tmp/hybrid.iso" | awk '{ print $1 * 256 + $2 }')"
[ "$(head -c 2 "$tmp/hybrid.iso")" = ER ] && [ "$bs" -gt 0 ] || die "xorriso wrote no Apple partition map"
hfs_start="" hfs_count=""
for i in 1 2 3 4 5 6 7 8; do
    e=$((i * bs))
    [ "$(dd if="$tmp/hybrid.iso" bs=1 skip=$e count=2 status=none)" = PM ] || break
    if [ "$(dd if="$tmp/hybrid.iso" bs=1 skip=$((e + 48)) count=32 status=none | tr -d '\0')" = Apple_HFS ]; then
        hfs_start="$(be32 "$tmp/hybrid.iso" $((e + 8)))" hfs_count="$(be32 "$tmp/hybrid.iso" $((e + 12)))"
    fi
done
[ -n "$hfs_start" ] || die "xorriso's partition map has no Apple_HFS partition"
dd if="$tmp/hybrid.iso" of="$tmp/hfsplus.img" bs="$bs" skip="$hfs_start" count="$hfs_count" status=none
rm -f "$tmp/hybrid.iso"
makefs -t ffs -o version=1 -s 64m "$tmp/ufs1.img" "$p" >/dev/null
makefs -t ffs -o version=2 -s 64m "$tmp/ufs2.img" "$p" >/dev/null

# ---- maker initramfs: busybox, the drivers, the payload ---------------------------------------
r="$tmp/root"
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,mnt,etc/fs-maker,lib/modules}
install -m 0755 "$bdir/bin/busybox" "$r/bin/busybox"
while read -r applet; do
    [ -e "$r/$applet" ] || [ -L "$r/$applet" ] && continue
    ln -s "$(realpath -m -s --relative-to="/$(dirname "$applet")" /bin/busybox)" "$r/$applet"
done < <("$bdir/bin/busybox" --list-full | grep -v '^bin/busybox$' | sort)
mknod -m 0600 "$r/dev/console" c 5 1
mknod -m 0666 "$r/dev/null" c 1 3
install -m 0755 "$here/fs-maker-init" "$r/init"
mods="$kdir/lib/modules/$krel"
dst="$r/lib/modules/$krel"
for m in $modules; do
    deps="$(modprobe -d "$kdir" -S "$krel" --show-depends "$m")" || die "module $m not in $krel"
    while read -r kind path _; do
        [ "$kind" = insmod ] || continue
        rel="${path#"$mods"/}"
        mkdir -p "$dst/$(dirname "$rel")"
        cp "$path" "$dst/$rel"
    done <<<"$deps"
done
cp "$mods/modules.order" "$mods/modules.builtin" "$mods/modules.builtin.modinfo" "$dst/"
depmod -b "$r" "$krel"
echo "$modules" >"$r/etc/fs-maker/modules"
cp -a "$p" "$r/payload"
cp "$tmp/manifest.sha256" "$r/etc/fs-maker/manifest.sha256"
(cd "$r" && find . -mindepth 1 -printf '%P\0' | sort -z |
    cpio --null --create --format=newc --owner=0:0 --quiet) >"$tmp/initrd.img"

# ---- the maker VM ------------------------------------------------------------------------------
disks=()
for t in $vm_types; do disks+=(-w "$t=$tmp/$t.img"); done
log "booting the maker VM for: $vm_types"
"$root/vm/run-vm.sh" --wait --state "$state" --kernel "$kdir/vmlinux" --initrd "$tmp/initrd.img" --mem 512 \
    "${disks[@]}" >"$tmp/run-vm.out" 2>&1 &
vm_pid=$!
deadline=$(( $(date +%s) + timeout_s ))
while kill -0 "$vm_pid" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { log "the maker VM did not finish in ${timeout_s}s"; exit 1; }
    sleep 1
done
rc=0; wait "$vm_pid" || rc=$?
vm_pid=""
[ -f "$state/console.log" ] || { cat "$tmp/run-vm.out" >&2; die "the maker VM left no console log"; }
tr -d '\r' <"$state/console.log" >"$tmp/console.log"
if [ $rc != 0 ] || ! grep -q '^FSMAKER-DONE ok' "$tmp/console.log"; then
    tail -40 "$tmp/console.log" >&2
    cp "$tmp/console.log" "$outdir/maker-failed.console.log"
    die "the maker VM failed (run-vm.sh exit $rc; console in $outdir/maker-failed.console.log)"
fi
for t in $vm_types; do
    grep -q "^FSMAKER-FILLED $t\$" "$tmp/console.log" || die "the maker VM did not fill $t"
done

# ---- publish -----------------------------------------------------------------------------------
rm -rf "$stamp" "$outdir/maker-failed.console.log" "$outdir/payload"
for t in $all_types; do mv -f "$tmp/$t.img" "$outdir/$t.img"; done
mv -f "$tmp/manifest.sha256" "$tmp/console.log" "$outdir/"
mv "$p" "$outdir/payload"
echo "$key" >"$stamp"
log "done: $outdir ($all_types)"
