#!/usr/bin/env bash
# Builds the restore VM: an uncompressed kernel (vmlinux) and a reproducible initramfs.
#
#   vm/build-vm.sh [--agent PATH] [--out DIR] [--cache DIR] [--compress none|lz4|zstd|gzip] [--no-ntfs-3g]
#
# Output (default out/vm/):
#   vmlinux          the Debian kernel, decompressed from vmlinuz (boots through its PVH entry)
#   initrd.img       busybox, /init, the agent, kernel modules (boot + filesystems), the marker
#   kernel.release   the kernel release (uname -r) inside the VM
#   manifest.txt     packages, versions, sha256 of the outputs, whether the agent is inside
#
# The kernel and busybox-static packages are fetched with `apt-get download` into the cache
# (default out/cache/vm/) and unpacked with `dpkg -x`; they are never installed. So are ntfs-3g,
# libntfs-3g89 and libc6: NTFS is read through ntfs-3g (FUSE) with the fuse module loaded at boot,
# as this kernel has no NTFS driver (why not a kernel with ntfs3: docs/restore-vm.md, NTFS);
# --no-ntfs-3g leaves them out. Host tools that
# are missing (cpio, kmod, xz-utils; lz4 or zstd for those --compress) are installed with
# apt-get --no-install-recommends.
# The initramfs is uncompressed by default: under TCG the kernel unpacks it fastest that way
# (zstd -12 cost ~0.2-0.3 s more to /init, lz4 about the same as none; see docs/restore-vm.md).
# The initramfs is reproducible: sorted file list, owner 0:0, every mtime SOURCE_DATE_EPOCH
# (default 0), cpio --reproducible, compressor without timestamps.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$root/out/vm"
cache="$root/out/cache/vm"
agent="$root/out/agent/restore-agent"
agent_given=0
compress=none
ntfs3g=1

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --agent) agent="$2"; agent_given=1; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --cache) cache="$2"; shift 2 ;;
        --compress) compress="$2"; shift 2 ;;
        --no-ntfs-3g) ntfs3g=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "build-vm: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
case "$compress" in none|lz4|zstd|gzip) ;; *) echo "build-vm: --compress none|lz4|zstd|gzip" >&2; exit 2 ;; esac

log() { echo "build-vm: $*" >&2; }
die() { echo "build-vm: error: $*" >&2; exit 1; }

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}"
export LC_ALL=C
umask 022

# ---- host tools -------------------------------------------------------------------------
need=()
command -v cpio >/dev/null || need+=(cpio)
command -v depmod >/dev/null || need+=(kmod)
command -v modprobe >/dev/null || need+=(kmod)
command -v xz >/dev/null || need+=(xz-utils)
[ "$compress" != zstd ] || command -v zstd >/dev/null || need+=(zstd)
[ "$compress" != lz4 ] || command -v lz4 >/dev/null || need+=(lz4)
command -v apt-get >/dev/null || die "apt-get is needed (Debian host)"
apt_updated=0
apt_update() { [ $apt_updated = 1 ] || { log "apt-get update"; apt-get update -qq; apt_updated=1; }; }
if [ ${#need[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing host tools (${need[*]}) and not root"
    apt_update
    log "installing host tools: ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ "$(id -u)" = 0 ] || die "run as root (the initramfs needs the /dev/console node)"

# ---- packages ---------------------------------------------------------------------------
# shellcheck source=kernel.env
. "$here/kernel.env"
mkdir -p "$cache"

# (apt-cache show PKG=VERSION exits 0 even when the version is unknown; madison lists them)
have_version() { apt-cache madison "$1" 2>/dev/null | awk -v v="$2" '$3 == v {f=1} END {exit !f}'; }
have_package() { apt-cache show "$1" >/dev/null 2>&1; }

# fetch PACKAGE [VERSION] -> prints the .deb path (cached by name and version)
fetch() {
    local pkg="$1" ver="${2:-}" spec deb
    if [ -z "$ver" ]; then
        ver="$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')"
    fi
    deb="$(ls "$cache/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -1 || true)"
    if [ -z "$deb" ]; then
        spec="$pkg=$ver"
        log "apt-get download $spec"
        (cd "$cache" && apt-get download -q "$spec" 2>&1 | grep -v 'unsandboxed' >&2) || die "apt-get download $spec failed"
        deb="$(ls "$cache/${pkg}_${ver/:/%3a}_"*.deb | head -1)"
    fi
    echo "$deb"
}

kpkg="$KERNEL_PACKAGE" kver="$KERNEL_PACKAGE_VERSION" pin_note="pinned"
if ! have_version "$kpkg" "$kver" && ! ls "$cache/${kpkg}_${kver}_"*.deb >/dev/null 2>&1; then
    apt_update
    if have_version "$kpkg" "$kver"; then :
    elif have_package "$kpkg"; then
        kver="$(apt-cache policy "$kpkg" | awk '/Candidate:/ {print $2}')"
        pin_note="pinned version gone, took candidate"
        log "warning: $KERNEL_PACKAGE=$KERNEL_PACKAGE_VERSION is no longer in the archive; using $kver (update vm/kernel.env)"
    else
        kpkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
        [ -n "$kpkg" ] || die "cannot resolve linux-image-amd64's kernel package"
        kver="$(apt-cache policy "$kpkg" | awk '/Candidate:/ {print $2}')"
        pin_note="pinned package gone, resolved from linux-image-amd64"
        log "warning: $KERNEL_PACKAGE is gone; using $kpkg=$kver from linux-image-amd64 (update vm/kernel.env)"
    fi
fi
kdeb="$(fetch "$kpkg" "$kver")"
have_package "$BUSYBOX_PACKAGE" || apt_update
bdeb="$(fetch "$BUSYBOX_PACKAGE")"
krel="${kpkg#linux-image-}"
ntfs3g_debs=()
if [ $ntfs3g = 1 ]; then
    have_package ntfs-3g || apt_update
    for p in $NTFS3G_PACKAGES; do ntfs3g_debs+=("$(fetch "$p")"); done
fi

# ---- unpack -----------------------------------------------------------------------------
kdir="$cache/unpacked/$(basename "$kdeb" .deb)"
if [ ! -e "$kdir/.done" ]; then
    log "dpkg -x $(basename "$kdeb")"
    rm -rf "$kdir"; mkdir -p "$kdir"
    dpkg -x "$kdeb" "$kdir"
    depmod -b "$kdir" "$krel"
    touch "$kdir/.done"
fi
bdir="$cache/unpacked/$(basename "$bdeb" .deb)"
if [ ! -e "$bdir/.done" ]; then
    rm -rf "$bdir"; mkdir -p "$bdir"
    dpkg -x "$bdeb" "$bdir"
    touch "$bdir/.done"
fi
[ -f "$kdir/boot/vmlinuz-$krel" ] || die "no boot/vmlinuz-$krel in $kdeb"
[ -d "$kdir/lib/modules/$krel" ] || die "no lib/modules/$krel in $kdeb"
[ -x "$bdir/bin/busybox" ] || die "no bin/busybox in $bdeb"
ndir="$cache/unpacked/ntfs-3g"
if [ $ntfs3g = 1 ]; then
    rm -rf "$ndir"; mkdir -p "$ndir"
    for d in "${ntfs3g_debs[@]}"; do dpkg -x "$d" "$ndir"; done
    [ -x "$ndir/bin/ntfs-3g" ] || die "no bin/ntfs-3g in ${ntfs3g_debs[0]}"
fi

mkdir -p "$out"
work="$(mktemp -d "$out/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# ---- vmlinux ----------------------------------------------------------------------------
# As the kernel's scripts/extract-vmlinux: find a compressor's magic in the bzImage, decompress
# from there (trailing bytes make the decompressor complain; the output is complete) and keep
# the first result that is an ELF file.
extract_vmlinux() {
    local img="$1" dst="$2" name magic cmd off
    for spec in 'xz|\xfd\x37\x7a\x58\x5a\x00|xz -dc' \
                'zstd|\x28\xb5\x2f\xfd|zstd -dcq' \
                'gzip|\x1f\x8b\x08|gzip -dc' \
                'lzma|\x5d\x00\x00\x00|xz -dc --format=lzma' \
                'bzip2|\x42\x5a\x68|bzip2 -dc' \
                'lz4|\x02\x21\x4c\x18|lz4 -dc'; do
        IFS='|' read -r name magic cmd <<<"$spec"
        command -v "${cmd%% *}" >/dev/null || continue
        for off in $(grep -obUaP "$magic" "$img" 2>/dev/null | cut -d: -f1 | head -5); do
            tail -c "+$((off + 1))" "$img" | $cmd >"$dst" 2>/dev/null || true
            if [ "$(head -c 4 "$dst" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
                log "vmlinux: $name stream at offset $off"
                return 0
            fi
        done
    done
    return 1
}
if [ ! -f "$kdir/vmlinux" ]; then
    extract_vmlinux "$kdir/boot/vmlinuz-$krel" "$work/vmlinux" || die "no compressed ELF kernel found in vmlinuz-$krel"
    cp "$work/vmlinux" "$kdir/vmlinux.tmp" && mv "$kdir/vmlinux.tmp" "$kdir/vmlinux"
else
    cp "$kdir/vmlinux" "$work/vmlinux"
fi

# ---- initramfs tree ---------------------------------------------------------------------
rootfs="$work/root"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,mnt,restore,etc/restoretools,lib/modules}
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/restore"
install -m 0755 "$bdir/bin/busybox" "$rootfs/bin/busybox"
# applet links, as `busybox --install -s` would make them (relative, so the tree is relocatable).
# modprobe goes to /usr/sbin, not /sbin: /sbin/modprobe is the kernel's built-in modprobe path, and
# during boot the kernel asks it for crypto templates (crypto-hmac(sha256), ...: 6 runs of busybox
# modprobe that find nothing); without that file they fail at once. /init then points
# /proc/sys/kernel/modprobe at /usr/sbin/modprobe.
while read -r applet; do
    [ "$applet" = bin/busybox ] && continue
    [ "$applet" = sbin/modprobe ] && applet=usr/sbin/modprobe
    [ -e "$rootfs/$applet" ] || [ -L "$rootfs/$applet" ] && continue
    dir="$(dirname "$applet")"
    # -s: the host's own /bin may be a link to usr/bin (merged /usr); the initramfs has no /usr/bin/busybox
    rel="$(realpath -m -s --relative-to="/$dir" /bin/busybox)"
    ln -s "$rel" "$rootfs/$applet"
done < <("$bdir/bin/busybox" --list-full | sort)
mknod -m 0600 "$rootfs/dev/console" c 5 1
mknod -m 0666 "$rootfs/dev/null" c 1 3
install -m 0755 "$here/init" "$rootfs/init"
install -m 0755 "$here/selftest" "$rootfs/usr/bin/restore-selftest"
cat >"$rootfs/etc/restoretools/restore-vm" <<EOF
RestoreTools restore VM
kernel $krel ($kpkg $kver)
EOF
echo "restore-vm" >"$rootfs/etc/hostname"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$rootfs/etc/hosts"

agent_note="absent"
if [ -f "$agent" ]; then
    install -m 0755 "$agent" "$rootfs/usr/bin/restore-agent"
    agent_note="$(sha256sum "$agent" | cut -c1-64) $(stat -c %s "$agent") bytes from $agent"
    log "agent: $agent"
else
    [ $agent_given = 1 ] && die "--agent $agent: no such file"
    log "NOTE: no agent at $agent: building without /usr/bin/restore-agent (the VM then only runs the selftest)"
fi

ntfs3g_note="absent"
if [ $ntfs3g = 1 ]; then
    # ntfs-3g, the library it links and the C library with its loader: nothing else is dynamic in here.
    install -m 0755 "$ndir/bin/ntfs-3g" "$rootfs/usr/bin/ntfs-3g"
    mkdir -p "$rootfs/lib/x86_64-linux-gnu" "$rootfs/lib64"
    cp -a "$ndir"/lib/x86_64-linux-gnu/libntfs-3g.so.89* "$ndir/lib/x86_64-linux-gnu/libc.so.6" \
        "$ndir/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$rootfs/lib/x86_64-linux-gnu/"
    ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$rootfs/lib64/ld-linux-x86-64.so.2"
    ntfs3g_note="$(for d in "${ntfs3g_debs[@]}"; do basename "$d" .deb; done | tr '\n' ' ')"
    log "ntfs-3g: $ntfs3g_note"
fi

# ---- kernel modules ---------------------------------------------------------------------
# Boot modules are loaded by /init; filesystem modules are loaded on demand by the kernel
# (request_module("fs-TYPE") -> /usr/sbin/modprobe, busybox, reading modules.dep and modules.alias).
# Each module's appended signature is stripped: this kernel checks signatures but does not
# enforce them (no module.sig_enforce, no lockdown), and the check's sha256 over the module costs
# TCG ~0.1 s at the first ext4 mount (ext4, jbd2, ...) and ~0.04 s for the boot modules. An
# unsigned module taints the kernel ("E"), nothing else.
# fuse: the agent serves FAT from user space through it (Mounting/FatFuseMount), and ntfs-3g NTFS.
boot_modules="virtio_pci virtio_blk virtio_net virtio_console vmw_vsock_virtio_transport fuse"
# qemu_fw_cfg: a VM resumed from a boot snapshot reads its token from fw_cfg (restoretools.snapshot=1)
snapshot_modules="qemu_fw_cfg"
# device-mapper for LVM: dm-mod (linear and striped built in) when the engine opens
# /dev/mapper/control, the thin-pool and snapshot targets when a table names them. Raid and mirror
# LVs are read from one leg with a linear table, so dm-raid and dm-mirror are not needed.
dm_modules="dm-mod dm-thin-pool dm-snapshot"
fs_modules="ext4 xfs btrfs vfat nls_cp437 nls_ascii nls_iso8859-1 nls_utf8 isofs squashfs ufs erofs exfat ntfs3 f2fs jfs reiserfs udf nilfs2 minix hfs hfsplus"
# Loaded by a boot-snapshot VM before it is saved: the filesystems most images hold, so that a
# resumed VM's first mount of them costs no request_module (under TCG ext4's modules take ~0.15 s
# to load and xfs's ~0.5 s, on the first listing of each resumed VM). The rest stay on demand.
snapshot_fs_modules="ext4 xfs vfat nls_cp437 nls_ascii nls_utf8 btrfs"
# strip_signature FILE: a signed module ends in the PKCS#7 signature, a struct module_signature
# (12 bytes, the last 4 the signature's length, big-endian) and "~Module signature appended~\n".
strip_signature() {
    local f="$1" size siglen
    [ "$(tail -c 28 "$f")" = "~Module signature appended~" ] || return 0
    size=$(stat -c %s "$f")
    siglen=$(tail -c 32 "$f" | head -c 4 | od -An -tu1 | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}')
    [ "$siglen" -gt 0 ] && [ $((size - 40 - siglen)) -gt 0 ] || die "$f: bad module signature trailer"
    truncate -s $((size - 40 - siglen)) "$f"
    [ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || die "$f: not ELF after stripping the signature"
}
mods="$kdir/lib/modules/$krel"
dst="$rootfs/lib/modules/$krel"
mkdir -p "$dst"
missing=()
for m in $boot_modules $snapshot_modules $dm_modules $fs_modules; do
    if ! deps="$(modprobe -d "$kdir" -S "$krel" --show-depends "$m" 2>/dev/null)"; then
        missing+=("$m"); continue
    fi
    while read -r kind path _; do
        [ "$kind" = insmod ] || continue
        rel="${path#"$mods"/}"
        # Compressed modules (Debian 6.12: .ko.xz) go in as plain .ko: under TCG the kernel's own xz
        # decompression at each load costs more than the larger cpio, and the signature is inside.
        case "$rel" in
            *.ko.xz) rel="${rel%.xz}"; unpack=(xz -dc) ;;
            *.ko.zst) rel="${rel%.zst}"; unpack=(zstd -dcq) ;;
            *.ko.gz) rel="${rel%.gz}"; unpack=(gzip -dc) ;;
            *) unpack=(cat) ;;
        esac
        [ -e "$dst/$rel" ] && continue
        mkdir -p "$dst/$(dirname "$rel")"
        "${unpack[@]}" "$path" >"$dst/$rel"
        strip_signature "$dst/$rel"
    done <<<"$deps"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ -f "$mods/$f" ] && cp "$mods/$f" "$dst/$f"
done
depmod -b "$rootfs" "$krel"
# busybox modprobe reads only the text files; drop the binary indexes
rm -f "$dst"/*.bin "$dst/modules.devname" "$dst/modules.softdep" "$dst/modules.weakdep"
[ ${#missing[@]} -eq 0 ] || log "modules not in this kernel (skipped): ${missing[*]}"
echo "$boot_modules" >"$rootfs/etc/restoretools/boot-modules"
echo "$fs_modules" >"$rootfs/etc/restoretools/fs-modules"
echo "$snapshot_fs_modules" >"$rootfs/etc/restoretools/snapshot-fs-modules"

# ---- cpio ---------------------------------------------------------------------------------
find "$rootfs" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
case "$compress" in
    none) comp=(cat) ;;
    lz4) comp=(lz4 -l -9 -q -c) ;;        # -l: the legacy frame format, the only one the kernel reads
    zstd) comp=(zstd -q -12 -T0 -c) ;;   # -19 is 9% smaller but ten times slower to build
    gzip) comp=(gzip -n -9 -c) ;;
esac
(cd "$rootfs" && find . -mindepth 1 -printf '%P\0' | sort -z |
    cpio --null --create --format=newc --reproducible --owner=0:0 --quiet) | "${comp[@]}" >"$work/initrd.img"

# ---- publish ----------------------------------------------------------------------------
mv -f "$work/vmlinux" "$out/vmlinux"
mv -f "$work/initrd.img" "$out/initrd.img"
echo "$krel" >"$out/kernel.release"
{
    echo "kernel-package: $kpkg $kver ($pin_note)"
    echo "kernel-release: $krel"
    echo "busybox: $(basename "$bdeb")"
    echo "agent: $agent_note"
    echo "compression: $compress"
    echo "ntfs-3g: $ntfs3g_note"
    echo "modules: $(cd "$dst" && find . -name '*.ko*' | wc -l) files, signatures stripped"
    echo "missing-modules: ${missing[*]:-none}"
    echo "source-date-epoch: $SOURCE_DATE_EPOCH"
    (cd "$out" && sha256sum vmlinux initrd.img)
} >"$out/manifest.txt"
log "done: $out/vmlinux ($(stat -c %s "$out/vmlinux") bytes), $out/initrd.img ($(stat -c %s "$out/initrd.img") bytes, $compress)"
[ -f "$rootfs/usr/bin/restore-agent" ] || log "NOTE: the initrd has no agent"
