#!/usr/bin/env bash
# Makes the fuzz seed corpus (tests/Fuzz/corpus/*.bin) from disks built by the real tools: sfdisk and
# fdisk tables (GPT and DOS with logical partitions, 512- and 4096-byte sectors) and one filesystem of
# each kind the probes know. Each image is packed (restore-fuzz pack) into its non-zero blocks near the
# start and the end, so a seed is a few KiB to a few dozen KiB. Run again after changing the list.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/corpus}"
work="$(mktemp -d /tmp/rt-fuzz-corpus.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export LC_ALL=C

dotnet build "$here/RestoreTools.Fuzz.csproj" -c Release -v q --nologo >/dev/null
fuzz=(dotnet "$here/bin/Release/net10.0/restore-fuzz.dll")
mkdir -p "$out"
pack() { "${fuzz[@]}" pack "$@"; }

cd "$work"
mkdir -p content/sub
echo hello > content/hello.txt
head -c 5000 /dev/zero | tr '\0' x > content/sub/file.bin

# ---- partition tables -----------------------------------------------------------------------------
truncate -s 8M gpt512.img
sfdisk -q gpt512.img <<'T'
label: gpt
size=1M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system"
size=2M, type=L, name="root"
size=1M, type=S
type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="lvm"
T
pack gpt512.img "$out/gpt-512.bin"

truncate -s 8M gpt4k.img
printf 'g\nn\n1\n\n+1M\nn\n2\n\n+2M\nn\n4\n\n\nt\n1\n1\nx\nn\n2\nmy data\nr\nw\n' | fdisk -b 4096 gpt4k.img >/dev/null
pack --4k gpt4k.img "$out/gpt-4096.bin"

truncate -s 16M mbr512.img
sfdisk -q mbr512.img <<'T'
label: dos
label-id: 0x1234abcd
size=1M, type=83, bootable
size=1M, type=7
type=5
size=1M, type=83
size=1M, type=82
type=83
T
pack --head 16777216 mbr512.img "$out/mbr-logical-512.bin"

truncate -s 16M mbr4k.img
printf 'o\nn\np\n1\n\n+1M\nn\ne\n2\n\n\nn\n\n+1M\nn\n\n+1M\nn\n\n\nw\n' | fdisk -b 4096 mbr4k.img >/dev/null
pack --4k --head 16777216 mbr4k.img "$out/mbr-logical-4096.bin"

# A GPT disk whose partitions hold filesystems: the probes run on the partitions' slices.
truncate -s 12M gptfs.img
sfdisk -q gptfs.img <<'T'
label: gpt
start=2048, size=4M, type=L, name="ext4"
size=4M, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="fat"
T
mkfs.ext4 -q -F -L inner -E offset=$((2048 * 512)) gptfs.img 4096 >/dev/null
mkfs.vfat -n INNERFAT --offset $((10240)) gptfs.img 4096 >/dev/null
pack --head 12582912 gptfs.img "$out/gpt-with-filesystems.bin"

# ---- filesystems on the whole disk --------------------------------------------------------------
fs() { # name size command... (the image is the last argument)
    local name="$1" size="$2"; shift 2
    truncate -s "$size" "$name.img"
    "$@" "$name.img" >/dev/null 2>&1
}
fs ext2 2M mkfs.ext2 -q -F -L ext2label
fs ext3 4M mkfs.ext3 -q -F -L ext3label
fs ext4 4M mkfs.ext4 -q -F -L ext4label -O metadata_csum
fs ext4-1k 4M mkfs.ext4 -q -F -b 1024 -L small
fs vfat12 2M mkfs.vfat -F 12 -n FAT12LABEL
fs vfat16 16M mkfs.vfat -F 16 -n FAT16LABEL
fs vfat32 40M mkfs.vfat -F 32 -n FAT32LABEL
fs exfat 4M mkfs.exfat -L exlabel
fs ntfs 4M mkntfs -q -F -Q -L ntfslabel
fs swap 1M mkswap -L swaplabel
fs xfs 300M mkfs.xfs -q -f -L xfslabel
fs btrfs 120M mkfs.btrfs -q -f -L btrfslabel
mksquashfs content squashfs.img -quiet -noappend >/dev/null
mkfs.erofs -U 0123abcd-0000-4000-8000-00000000e20f erofs.img content >/dev/null 2>&1   # erofs-utils 1.5: no label option
mkfs.erofs -zlz4hc erofs-lz4.img content >/dev/null 2>&1
genisoimage -quiet -J -V "ISO LABEL" -o iso.img content
genisoimage -quiet -V PLAINISO -o iso-plain.img content
makefs -t ffs -o version=1 -s 8m ufs1.img content >/dev/null
makefs -t ffs -o version=2 -s 8m ufs2.img content >/dev/null
for v in luks1 luks2; do
    truncate -s 20M "$v.img"
    echo -n secret | cryptsetup luksFormat -q --type "$v" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
        --key-file - "$v.img" $([ "$v" = luks2 ] && echo --label cryptlabel) >/dev/null
done

for img in ext2 ext3 ext4 ext4-1k vfat12 vfat16 vfat32 exfat swap squashfs erofs erofs-lz4 iso iso-plain ufs1 ufs2; do
    pack "$img.img" "$out/fs-$img.bin"
done
pack --head 65536 --tail 4096 ntfs.img "$out/fs-ntfs.bin"     # boot sector, \$MFT's first records, backup boot sector
pack --head 1048576 xfs.img "$out/fs-xfs.bin"
pack --head 1048576 btrfs.img "$out/fs-btrfs.bin"
# LUKS: the header and JSON areas only, not the random key material.
pack --head 65536 --tail 0 luks1.img "$out/fs-luks1.bin"
pack --head 65536 --tail 0 luks2.img "$out/fs-luks2.bin"
# LVM, MD and ZFS: hand-built headers (the tools want block devices or are not in Debian).
"${fuzz[@]}" synth "$out"
ls -l "$out" | awk 'NR > 1 { n++; s += $5 } END { print n " seeds, " s " bytes" }'
