#!/usr/bin/env bash
# Makes real LVM test images with real lvm2, inside a small "maker VM".
#
#   tests/Lvm/make-lvm-images.sh OUTDIR
#
# Why a VM: this host's kernel has no device-mapper, so lvm2 can write metadata here but cannot
# activate an LV, and thin pools, old-style snapshots, raid1, mirror and striped LVs can neither be
# made nor filled. The maker VM boots the restore VM's Debian kernel (dm-mod, dm-thin-pool,
# dm-snapshot, dm-raid, dm-mirror as modules) under qemu with the host's own lvm and mke2fs
# (Debian 12 userland) in a busybox initramfs; tests/Lvm/maker-init runs the job there and powers off.
#
# OUTDIR receives (all sparse raw images):
#   lvm-a.img  128 MiB GPT: 1 = 16 MiB plain ext4 "plain" (bench.bin), 2 = PV of vg-data
#   lvm-b.img  128 MiB, no table: the whole disk is the second PV of vg-data
#   lvm-c.img   96 MiB MBR: 1 = extended, 5 = logical partition holding the PV of vg_single
#   (with LVM_MAKER_BENCH_MB over 4, lvm-a, lvm-b, the plain partition, lv-root and lv-striped grow)
#   manifest.sha256   "sha256  VG/LV/relative/path" for every file in every LV
#   plain.sha256      "sha256  part1/relative/path" for lvm-a's plain partition
#   lvs.txt, pvs.txt  lvs -a / pvs as lvm2 saw them in the VM (VM device names /dev/vdX)
#   console.log       the maker VM's console
#   .maker-stamp      the hash of this script's version and inputs
# vg-data (extent 4 MiB, PVs lvm-a p2 + lvm-b): lv-root (linear, one run on lvm-a), lv-split
# (linear, one segment per PV), lv-striped (2 stripes, 64 KiB), lv-raid1 (raid1 -m1, synced, then leg 0 left stale by a degraded write),
# lv-mirror (mirror -m1, core log, synced), pool (thin pool) with thin1 and thin2, lv-origin with
# the old-style snapshot lv-snap (the origin changed after the snapshot: both differ).
# vg_single (lvm-c p5): home, var (linear).
# Every LV holds ext4 labelled with the LV's name: LV.txt naming VG/LV, random.bin (1-3 MB),
# nested/level1.txt, nested/deeper/note.txt; lv-root and lv-striped also bench.bin, the same file
# as on the plain partition. The VGs are left deactivated.
#
# Cached: when OUTDIR/.maker-stamp matches, nothing is done. The maker initramfs is cached in
# out/cache/lvm-maker/<hash>/. The kernel and busybox come from vm/build-vm.sh's cache
# (out/cache/vm/unpacked), which is filled by running vm/build-vm.sh when it is missing.
# Environment: LVM_MAKER_BENCH_MB (default 3, up to 512) size of bench.bin, e.g. 100 for the
# bench; LVM_MAKER_TIMEOUT (seconds, default 1200) for the VM run. Runs on one OUTDIR are
# serialised with flock on OUTDIR/.lock. Takes about 15 s here (TCG), most of it the VM.
# Needs root, qemu-system-x86_64, lvm2, e2fsprogs, fdisk, cpio, kmod.
set -euo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
log() { echo "make-lvm-images: $*" >&2; }
die() { echo "make-lvm-images: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
outdir="$1"
bench_mb="${LVM_MAKER_BENCH_MB:-3}"
timeout_s="${LVM_MAKER_TIMEOUT:-1200}"
[[ $bench_mb =~ ^[1-9][0-9]{0,2}$ ]] && [ "$bench_mb" -le 512 ] || die "LVM_MAKER_BENCH_MB must be 1..512"
# Up to 4 MB bench.bin fits the base layout; a larger one grows the plain partition, lv-root and
# lv-striped by extra_mb (bench.bin + 1/8 for ext4, a multiple of 8 MiB: 2 stripes of 4 MiB
# extents) and the disks with them (lvm-a holds the plain partition, lv-root and half of lv-striped).
extra_mb=0
[ "$bench_mb" -le 4 ] || extra_mb=$(( (bench_mb + bench_mb / 8 + 7) / 8 * 8 ))
[ "$(id -u)" = 0 ] || die "run as root"
for t in lvm mke2fs sfdisk flock cpio depmod modprobe qemu-system-x86_64 sha256sum; do
    command -v "$t" >/dev/null || die "missing host tool '$t' (apt-get install --no-install-recommends lvm2 e2fsprogs fdisk cpio kmod qemu-system-x86)"
done
lvm_bin="$(command -v lvm)" mke2fs_bin="$(command -v mke2fs)"

# LVs that must appear in the manifest, as VG/LV
expected_lvs="vg-data/lv-root vg-data/lv-split vg-data/lv-striped vg-data/lv-raid1 vg-data/lv-mirror
vg-data/thin1 vg-data/thin2 vg-data/lv-origin vg-data/lv-snap vg_single/home vg_single/var"

# ---- kernel and busybox from vm/build-vm.sh's cache -----------------------------------------
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
    # build-vm.sh fills the cache; its own outputs go to a scratch folder (out/vm is left alone)
    scratch="$(mktemp -d "${TMPDIR:-/tmp}/lvm-maker-vm.XXXXXX")"
    log "no unpacked kernel in $cache: running vm/build-vm.sh"
    "$root/vm/build-vm.sh" --out "$scratch" >&2 || { rm -rf "$scratch"; die "vm/build-vm.sh failed"; }
    rm -rf "$scratch"
    kdir="$(find_kdir)" || die "vm/build-vm.sh left no unpacked kernel in $cache"
    bdir="$(find_bdir)" || die "vm/build-vm.sh left no busybox in $cache"
fi
krel="$(basename "$(ls -d "$kdir"/lib/modules/*/ | head -1)")"
[ -f "$kdir/lib/modules/$krel/modules.dep" ] || die "$kdir: no modules.dep for $krel"

# ---- cache key --------------------------------------------------------------------------------
modules="virtio_pci virtio_blk dm-mod dm-thin-pool dm-snapshot dm-raid dm-mirror raid1 ext4"
key="$( {
    sha256sum "${BASH_SOURCE[0]}" "$here/maker-init" "$lvm_bin" "$mke2fs_bin" "$bdir/bin/busybox" | cut -c1-64
    echo "$(basename "$kdir") $krel $modules"
} | sha256sum | cut -c1-16)"

mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
# one maker per OUTDIR at a time (test fixtures may start together); the second then finds it done
exec 9>"$outdir/.lock"
flock 9
stamp="$outdir/.maker-stamp"
stamp_value="$key bench=$bench_mb"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_value" ] &&
   [ -f "$outdir/lvm-a.img" ] && [ -f "$outdir/lvm-b.img" ] && [ -f "$outdir/lvm-c.img" ] && [ -s "$outdir/manifest.sha256" ]; then
    log "up to date: $outdir ($stamp_value)"
    exit 0
fi

# ---- maker initramfs ------------------------------------------------------------------------
icache="$root/out/cache/lvm-maker/$key"
initrd="$icache/initrd.img"
if [ ! -f "$initrd" ]; then
    log "building the maker initramfs ($key)"
    mkdir -p "$icache"
    work="$(mktemp -d "$icache/.build.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    r="$work/root"
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,mnt,etc/lvm-maker,lib64,lib/modules}
    # the real tools first, so that busybox's mke2fs applet never shadows e2fsprogs
    install -m 0755 "$lvm_bin" "$r/usr/sbin/lvm"
    install -m 0755 "$mke2fs_bin" "$r/usr/sbin/mke2fs"
    [ -f /etc/mke2fs.conf ] && install -m 0644 /etc/mke2fs.conf "$r/etc/mke2fs.conf"
    for lib in $(ldd "$lvm_bin" "$mke2fs_bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u); do
        mkdir -p "$r$(dirname "$lib")"
        cp -L "$lib" "$r$lib"
    done
    install -m 0755 "$bdir/bin/busybox" "$r/bin/busybox"
    while read -r applet; do
        [ -e "$r/$applet" ] || [ -L "$r/$applet" ] && continue
        ln -s "$(realpath -m -s --relative-to="/$(dirname "$applet")" /bin/busybox)" "$r/$applet"
    done < <("$bdir/bin/busybox" --list-full | grep -v '^bin/busybox$' | sort)
    mknod -m 0600 "$r/dev/console" c 5 1
    mknod -m 0666 "$r/dev/null" c 1 3
    install -m 0755 "$here/maker-init" "$r/init"
    # modules with their dependencies, as build-vm.sh picks them; busybox modprobe loads them in order
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
    echo "$modules" >"$r/etc/lvm-maker/modules"
    (cd "$r" && find . -mindepth 1 -printf '%P\0' | sort -z |
        cpio --null --create --format=newc --owner=0:0 --quiet) >"$work/initrd.img"
    mv "$work/initrd.img" "$initrd"
    rm -rf "$work"
    trap - EXIT
    log "initramfs: $initrd ($(stat -c %s "$initrd") bytes)"
    # older keys' initramfs are never used again
    for old in "$root/out/cache/lvm-maker"/*/; do
        [ "${old%/}" = "$icache" ] || rm -rf "${old%/}"
    done
fi

# ---- blank images, partitioned here -------------------------------------------------------------
tmp="$(mktemp -d "$outdir/.making.XXXXXX")"
state="$tmp/vm"
vm_pid=""
cleanup() {
    # the qemu this run started (its pid file, checked against its command line), nothing else
    if [ -n "$vm_pid" ] && kill -0 "$vm_pid" 2>/dev/null; then kill "$vm_pid" 2>/dev/null || true; fi
    if [ -s "$state/qemu.pid" ]; then
        q="$(cat "$state/qemu.pid")"
        if grep -qa "$tmp" "/proc/$q/cmdline" 2>/dev/null; then kill "$q" 2>/dev/null || true; fi
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

truncate -s $((128 + extra_mb * 5 / 2))M "$tmp/lvm-a.img"
truncate -s $((128 + extra_mb / 2))M "$tmp/lvm-b.img"
truncate -s 96M "$tmp/lvm-c.img"
# GPT: a 16 MiB (+ extra) Linux filesystem, then Linux LVM to the end
plain_sectors=$(( (16 + extra_mb) * 2048 ))
sfdisk -q -X gpt "$tmp/lvm-a.img" <<EOF >/dev/null
start=2048, size=$plain_sectors, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="plain"
start=$((2048 + plain_sectors)), type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="lvm"
EOF
# MBR: one extended partition over the disk, one logical partition (5) of type 8e inside it
sfdisk -q -X dos "$tmp/lvm-c.img" <<'EOF' >/dev/null
start=2048, type=5
start=4096, type=8e
EOF

# ---- the maker VM -------------------------------------------------------------------------------
log "booting the maker VM"
t0=$(date +%s.%N)
"$root/vm/run-vm.sh" --wait --state "$state" --kernel "$kdir/vmlinux" --initrd "$initrd" --mem $((768 + bench_mb)) \
    --append "lvmmaker.bench=$bench_mb lvmmaker.extra=$extra_mb" \
    -w "lvm-a=$tmp/lvm-a.img" -w "lvm-b=$tmp/lvm-b.img" -w "lvm-c=$tmp/lvm-c.img" >"$tmp/run-vm.out" 2>&1 &
vm_pid=$!
deadline=$(( $(date +%s) + timeout_s ))
while kill -0 "$vm_pid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log "the maker VM did not finish in ${timeout_s}s; stopping it"
        if [ -f "$state/console.log" ]; then
            tr -d '\r' <"$state/console.log" >"$outdir/maker-failed.console.log"
            tail -20 "$outdir/maker-failed.console.log" >&2
        fi
        exit 1   # cleanup stops the qemu of this run
    fi
    sleep 1
done
rc=0; wait "$vm_pid" || rc=$?
vm_pid=""
t1=$(date +%s.%N)
console="$state/console.log"
[ -f "$console" ] || { cat "$tmp/run-vm.out" >&2; die "the maker VM left no console log (run-vm.sh exit $rc)"; }
tr -d '\r' <"$console" >"$tmp/console.log"
if [ $rc != 0 ] || ! grep -q '^LVMMAKER-DONE ok' "$tmp/console.log"; then
    cat "$tmp/run-vm.out" >&2
    grep -v '^LVMMAKER-\(SHA\|PLAIN\|LVS\|PVS\) ' "$tmp/console.log" | tail -30 >&2
    grep '^LVMMAKER-FAIL' "$tmp/console.log" >&2 || true
    cp "$tmp/console.log" "$outdir/maker-failed.console.log"
    die "the maker VM failed (run-vm.sh exit $rc; console in $outdir/maker-failed.console.log)"
fi
log "maker VM done in $(awk "BEGIN{printf \"%.1f\", $t1-$t0}") s"

# ---- collect and check --------------------------------------------------------------------------
sed -n 's/^LVMMAKER-SHA //p' "$tmp/console.log" | sort -k2 >"$tmp/manifest.sha256"
sed -n 's/^LVMMAKER-PLAIN //p' "$tmp/console.log" | sort -k2 >"$tmp/plain.sha256"
sed -n 's/^LVMMAKER-LVS //p' "$tmp/console.log" >"$tmp/lvs.txt"
sed -n 's/^LVMMAKER-PVS //p' "$tmp/console.log" >"$tmp/pvs.txt"
bad=0
for f in lvm-a.img lvm-b.img lvm-c.img; do
    [ -s "$tmp/$f" ] || { log "missing image $f"; bad=1; }
done
grep -Evq '^[0-9a-f]{64}  [^ ]' "$tmp/manifest.sha256" && { log "malformed manifest lines"; bad=1; }
for lv in $expected_lvs; do
    txt="${lv#*/}.txt"
    [ "$lv" = vg-data/lv-snap ] && txt=lv-origin.txt   # a snapshot holds its origin's files
    for file in "$txt" random.bin nested/deeper/note.txt; do
        grep -q "  $lv/$file\$" "$tmp/manifest.sha256" || { log "manifest has no $lv/$file"; bad=1; }
    done
    grep -q "^ *${lv#*/} *${lv%/*} " "$tmp/lvs.txt" || { log "lvs.txt has no $lv"; bad=1; }
done
grep -q '  part1/bench.bin$' "$tmp/plain.sha256" || { log "plain.sha256 has no part1/bench.bin"; bad=1; }
# the snapshot must differ from its origin, and the bench file be the same everywhere
[ "$(grep '  vg-data/lv-origin/random.bin$' "$tmp/manifest.sha256" | cut -c1-64)" != \
  "$(grep '  vg-data/lv-snap/random.bin$' "$tmp/manifest.sha256" | cut -c1-64)" ] || { log "lv-snap equals lv-origin"; bad=1; }
[ "$(grep -E '  (part1|vg-data/lv-root|vg-data/lv-striped)/bench.bin$' "$tmp/manifest.sha256" "$tmp/plain.sha256" -h | cut -c1-64 | sort -u | wc -l)" = 1 ] ||
    { log "bench.bin differs between the plain partition, lv-root and lv-striped"; bad=1; }
[ $bad = 0 ] || { cp "$tmp/console.log" "$outdir/maker-failed.console.log"; die "the maker VM's output is incomplete (console in $outdir/maker-failed.console.log)"; }

# ---- publish --------------------------------------------------------------------------------------
rm -f "$stamp" "$outdir/maker-failed.console.log"
for f in lvm-a.img lvm-b.img lvm-c.img manifest.sha256 plain.sha256 lvs.txt pvs.txt console.log; do
    mv -f "$tmp/$f" "$outdir/$f"
done
echo "$stamp_value" >"$stamp"
log "done: $outdir ($(wc -l <"$outdir/manifest.sha256") files in $(echo $expected_lvs | wc -w) LVs)"
