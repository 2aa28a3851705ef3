#!/usr/bin/env bash
# Checks, on this host (no device-mapper), what tests/Lvm/make-lvm-images.sh made:
#
#   tests/Lvm/check-lvm-images.sh OUTDIR
#
# - attaches read-only loop devices over lvm-a partition 2, lvm-b and lvm-c partition 5 (its own,
#   detached at exit) and lets lvm2 read the metadata with activation off, scanning only them;
# - prints pvs, vgs and lvs -a, and compares the LV layout with OUTDIR/lvs.txt from the maker VM;
# - mounts every linear LV made of one run of extents (lv-root, lv-origin, home, var) read-only
#   through a loop at its byte offset and compares its files with OUTDIR/manifest.sha256;
# - checks that the images are byte-identical afterwards.
set -euo pipefail
export LC_ALL=C LVM_SUPPRESS_FD_WARNINGS=1
die() { echo "check-lvm-images: error: $*" >&2; exit 1; }
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
O="$(cd "$1" && pwd)"
for f in lvm-a.img lvm-b.img lvm-c.img manifest.sha256 lvs.txt; do [ -f "$O/$f" ] || die "no $O/$f"; done

loops=() mnt="" work="$(mktemp -d "${TMPDIR:-/tmp}/check-lvm.XXXXXX")"
cleanup() {
    if [ -n "$mnt" ] && mountpoint -q "$mnt"; then umount "$mnt"; fi
    for l in "${loops[@]}"; do losetup -d "$l"; done
    rm -rf "$work"
}
trap cleanup EXIT
(cd "$O" && sha256sum lvm-a.img lvm-b.img lvm-c.img) >"$work/images.sha256"

# start_sector IMAGE PARTNO (sfdisk's dump, in 512-byte sectors)
start_sector() { sfdisk -d "$1" | awk -v p="$1$2" '$1 == p {for (i = 1; i <= NF; i++) if ($i == "start=") {gsub(",", "", $(i+1)); print $(i+1)}}'; }
size_sector() { sfdisk -d "$1" | awk -v p="$1$2" '$1 == p {for (i = 1; i <= NF; i++) if ($i == "size=") {gsub(",", "", $(i+1)); print $(i+1)}}'; }
a2=$(start_sector "$O/lvm-a.img" 2) a2s=$(size_sector "$O/lvm-a.img" 2)
c5=$(start_sector "$O/lvm-c.img" 5) c5s=$(size_sector "$O/lvm-c.img" 5)
[ -n "$a2" ] && [ -n "$c5" ] || die "partition 2 of lvm-a or 5 of lvm-c not found"
# attach ARGS...: a read-only loop, named in $loop (not in $(...): the list of loops to detach
# must be the parent shell's)
attach() { loop=$(losetup -r -f --show "$@"); loops+=("$loop"); }
attach -o $((a2 * 512)) --sizelimit $((a2s * 512)) "$O/lvm-a.img"; la=$loop
attach "$O/lvm-b.img"; lb=$loop
attach -o $((c5 * 512)) --sizelimit $((c5s * 512)) "$O/lvm-c.img"; lc=$loop
echo "loops (read-only): lvm-a p2=$la lvm-b=$lb lvm-c p5=$lc"

mkdir -p "$work/lock"
CONF="devices{use_devicesfile=0 obtain_device_list_from_udev=0 filter=[\"a|^$la\$|\",\"a|^$lb\$|\",\"a|^$lc\$|\",\"r|.*|\"]}
 backup{backup=0 archive=0} activation{udev_sync=0 udev_rules=0 monitoring=0}
 global{use_lvmpolld=0 locking_dir=\"$work/lock\"}"
lv_() { local c="$1"; shift; lvm "$c" --config "$CONF" --driverloaded n "$@" 2> >(grep -v 'Activation disabled' >&2); }
lv_ pvs -o pv_name,vg_name,pv_size,pe_start,pv_pe_count,pv_pe_alloc_count
lv_ vgs
lv_ lvs -a -o lv_name,vg_name,lv_size,segtype,devices,seg_pe_ranges

# The same layout as the VM reported (its disks were vda, vdb, vdc in that order)
lv_ lvs -a -o lv_name,vg_name,segtype,devices,seg_pe_ranges |
    sed "s|$la\\b|/dev/vda2|g; s|$lb\\b|/dev/vdb|g; s|$lc\\b|/dev/vdc5|g" | awk '{$1 = $1; print}' | sort >"$work/lvs.host"
awk '{$1 = $1; print}' "$O/lvs.txt" | sort >"$work/lvs.vm"
diff "$work/lvs.vm" "$work/lvs.host" >&2 || die "lvs on this host differs from the maker VM's lvs.txt"
echo "layout: the same as the maker VM's lvs.txt ($(wc -l <"$work/lvs.vm") lines)"

# The linear one-run LVs: loop at partition + pe_start + first extent x extent size
mnt="$work/mnt"; mkdir -p "$mnt"
fail=0
for spec in "vg-data/lv-root:$la:lvm-a.img:$a2" "vg-data/lv-origin:$la:lvm-a.img:$a2" \
            "vg_single/home:$lc:lvm-c.img:$c5" "vg_single/var:$lc:lvm-c.img:$c5"; do
    IFS=: read -r lv pv img part <<<"$spec"
    read -r ranges size < <(lv_ lvs --noheadings --units b --nosuffix -o seg_pe_ranges,lv_size "$lv")
    [ "$(lv_ lvs --noheadings -o seg_count "$lv" | tr -d ' ')" = 1 ] || die "$lv has more than one segment"
    first=${ranges#*:}; first=${first%-*}
    pe_start=$(lv_ pvs --noheadings --units b --nosuffix -o pe_start "$pv" | tr -d ' ')
    ext=$(lv_ vgs --noheadings --units b --nosuffix -o vg_extent_size "${lv%/*}" | tr -d ' ')
    off=$((part * 512 + pe_start + first * ext))
    attach -o "$off" --sizelimit "$size" "$O/$img"
    mount -t ext4 -o ro,noload "$loop" "$mnt"
    (cd "$mnt" && find . -type f | sort | while read -r f; do
        sha256sum "$f" | sed "s|  \./|  $lv/|"; done) >"$work/files"
    umount "$mnt"
    if grep "  $lv/" "$O/manifest.sha256" | diff - "$work/files" >&2; then
        echo "$lv: offset $off in $img, $size bytes: $(wc -l <"$work/files") files match the manifest"
    else
        echo "$lv: files differ from the manifest" >&2; fail=1
    fi
done
(cd "$O" && sha256sum --quiet -c "$work/images.sha256") || die "an image changed"
echo "images unchanged"
[ $fail = 0 ] || die "files differ"
echo "check-lvm-images: ok"
