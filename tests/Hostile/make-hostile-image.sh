#!/usr/bin/env bash
# Makes the hostile corpus: a 64 MiB sparse GPT disk image whose two ext4 partitions hold what a
# malicious guest could put on its disk (escaping, looping and /proc links, device nodes, FIFOs,
# sockets, setuid files, hostile names, a tree past PATH_MAX, a 1 TB sparse file, dirents whose
# names hold '/' and '..'), and a manifest OUT.img.manifest.tsv, one line per case, that the
# tests read:  part <TAB> path <TAB> kind <TAB> must-not <TAB> detail
# (path and detail C-escaped: \\ \n \t \xNN). Needs root (mknod, chown), mke2fs, debugfs, sfdisk, python3.
#
#   tests/Hostile/make-hostile-image.sh OUT.img [OUTSIDE_DIR]
#
# OUTSIDE_DIR (default /tmp/rt-hostile-outside) is the host folder the hostile links point at; a test
# plants OUTSIDE_DIR/sentinel.txt there and checks that nothing there changed or was read.
set -euo pipefail
export LC_ALL=C

OUT=${1:?usage: make-hostile-image.sh OUT.img [OUTSIDE_DIR]}
OUTSIDE=${2:-/tmp/rt-hostile-outside}
[[ $OUTSIDE == /* ]] || { echo "OUTSIDE_DIR must be absolute" >&2; exit 2; }
(( ${#OUTSIDE} <= 100 )) || { echo "OUTSIDE_DIR must be at most 100 bytes (it goes into 255-byte names)" >&2; exit 2; }

work=$(mktemp -d /tmp/rt-hostile-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
P1=$work/p1          # partition 1: the corpus
P2=$work/p2          # partition 2: dirents patched after mke2fs (names no mkdir can make)
MAN=$work/manifest.tsv
mkdir -p "$P1" "$P2"
: > "$MAN"

# C-escape one string for the manifest (byte by byte: LC_ALL=C).
esc() {
    local s=$1 out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
            '\') out+='\\' ;;
            $'\n') out+='\n' ;;
            $'\t') out+='\t' ;;
            *) if [[ $c == [[:print:]] ]]; then out+=$c; else printf -v c '\\x%02x' "'$c"; out+=$c; fi ;;
        esac
    done
    printf '%s' "$out"
}

# case PART PATH KIND MUST-NOT [DETAIL]
case_() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$(esc "$2")" "$3" "$4" "$(esc "${5:-}")" >> "$MAN"; }

# ---------------------------------------------------------------- links: never followed, never written through
mkdir -p "$P1/links"
link() { ln -s -- "$2" "$P1/links/$1"; case_ 1 "links/$1" "${3:-symlink}" "${4:-follow}" "$2"; }
link dotdot ..
link dotdot-chain ../../../../../../../../../../../..
link dotdot-outside "../../../../../../../../../../../..$OUTSIDE" symlink-outside
link dotdot-outside-file "../../../../../../../../../../../..$OUTSIDE/sentinel.txt" symlink-outside
link abs-outside "$OUTSIDE" symlink-outside
link abs-outside-file "$OUTSIDE/sentinel.txt" symlink-outside
link abs-outside-slash "$OUTSIDE/" symlink-outside
link abs-root /
link abs-etc /etc
link abs-passwd /etc/passwd
link abs-shadow /etc/shadow
link relative-in-tree ../names/plain.txt
link relative-dir ../sparse
link self self
link loop-a loop-b
link loop-b loop-a
link dot .
link dangling does/not/exist
link dangling-abs /nonexistent/rt-hostile/x
link proc-self-root /proc/self/root
link proc-self-cwd /proc/self/cwd
link proc-1-root /proc/1/root
link proc-self-fd0 /proc/self/fd/0
link proc-self-mem /proc/self/mem
link dev-mem /dev/mem
link dev-sda /dev/sda
link long-target "$(printf 'a/%.0s' {1..2000})"
link newline-target $'a\nb'
echo "plain" > "$P1/links/plain.txt"
case_ 1 links/plain.txt file none "plain"

# A path through a symlinked parent: the confined resolver must find the image's own copy of
# OUTSIDE (planted inside the image), never the host's.
mkdir -p "$P1/symparent" "$P1/$OUTSIDE"
ln -s "$OUTSIDE" "$P1/symparent/link"
ln -s "../../../../../../../..$OUTSIDE" "$P1/symparent/rel-link"
echo "inside the image" > "$P1/$OUTSIDE/inside.txt"
case_ 1 symparent/link symparent "follow-to-host" "$OUTSIDE"
case_ 1 symparent/rel-link symparent "follow-to-host" "../../../../../../../..$OUTSIDE"
case_ 1 "${OUTSIDE#/}/inside.txt" file none "inside the image"

# A folder holding a symlink where a later copy's folder goes: copy twostage/a into D (D/a/etc is
# then a link to OUTSIDE), then twostage/b/etc into D/a.
mkdir -p "$P1/twostage/a" "$P1/twostage/b/etc"
ln -s "$OUTSIDE" "$P1/twostage/a/etc"
echo "hostile-host" > "$P1/twostage/b/etc/hostname"
echo "root:*:1::::::" > "$P1/twostage/b/etc/shadow"
case_ 1 twostage/a/etc twostage-link "follow" "$OUTSIDE"
case_ 1 twostage/b/etc twostage-dir "write-through-existing-link" "hostname shadow"

# ---------------------------------------------------------------- hard links
mkdir -p "$P1/hardlinks/sub" "$P1/hardlinks/other"
echo "hard" > "$P1/hardlinks/a"
ln "$P1/hardlinks/a" "$P1/hardlinks/b"
ln "$P1/hardlinks/a" "$P1/hardlinks/sub/c"
echo "across" > "$P1/hardlinks/other/x"
ln "$P1/hardlinks/other/x" "$P1/links/hardlink-from-links"
case_ 1 hardlinks/a hardlink "link-outside-copy" "b sub/c"
case_ 1 hardlinks/b hardlink "link-outside-copy" "a"
case_ 1 hardlinks/sub/c hardlink "link-outside-copy" "a"
case_ 1 hardlinks/other/x hardlink "link-outside-copy" "links/hardlink-from-links"
case_ 1 links/hardlink-from-links hardlink "link-outside-copy" "hardlinks/other/x"

# ---------------------------------------------------------------- device nodes, FIFOs, sockets
mkdir -p "$P1/devices"
mknod "$P1/devices/null" c 1 3;        case_ 1 devices/null chardev create "1:3"
mknod "$P1/devices/mem" c 1 1;         case_ 1 devices/mem chardev create "1:1"
mknod "$P1/devices/kmsg" c 1 11;       case_ 1 devices/kmsg chardev create "1:11"
mknod "$P1/devices/odd" c 4095 1048575; case_ 1 devices/odd chardev create "4095:1048575"
mknod "$P1/devices/loop0" b 7 0;       case_ 1 devices/loop0 blockdev create "7:0"
mknod "$P1/devices/sda" b 8 0;         case_ 1 devices/sda blockdev create "8:0"
mknod "$P1/devices/vda" b 253 0;       case_ 1 devices/vda blockdev create "253:0"
mkfifo "$P1/devices/fifo";             case_ 1 devices/fifo fifo "create hang"
mkfifo "$P1/devices/fifo-suid"; chown 1000:1000 "$P1/devices/fifo-suid"; chmod 4777 "$P1/devices/fifo-suid"; case_ 1 devices/fifo-suid fifo "create hang" "4777 1000:1000"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$P1/devices/socket"
case_ 1 devices/socket socket create

# ---------------------------------------------------------------- setuid, setgid, sticky, capabilities
mkdir -p "$P1/setid"
setid() { # name mode uid:gid
    printf '#!/bin/sh\nid\n' > "$P1/setid/$1"
    chown "$3" "$P1/setid/$1"; chmod "$2" "$P1/setid/$1"
    case_ 1 "setid/$1" setid "setid-without-owner" "$2 $3"
}
setid suid-1000 4755 1000:1000
setid suid-root 4755 0:0
setid sgid-1000 2755 1000:1000
setid sgid-root-group1000 2755 0:1000
setid suid-sgid-1000 6755 1000:1000
setid suid-world-writable 4777 1000:1000
setid suid-nonexec-1000 4644 1000:1000
setid sgid-group-only 2070 0:1000
mkdir -p "$P1/setid/sgid-dir"; echo x > "$P1/setid/sgid-dir/inside"
chown 1000:1000 "$P1/setid/sgid-dir"; chmod 2775 "$P1/setid/sgid-dir"
case_ 1 setid/sgid-dir setid "setid-without-owner" "2775 1000:1000"
mkdir -p "$P1/setid/sticky-dir"; chmod 1777 "$P1/setid/sticky-dir"
case_ 1 setid/sticky-dir sticky "sticky-without-owner" "1777 0:0"
mkdir -p "$P1/setid/sticky-dir-1000"; chown 1000:1000 "$P1/setid/sticky-dir-1000"; chmod 1777 "$P1/setid/sticky-dir-1000"
case_ 1 setid/sticky-dir-1000 sticky "sticky-without-owner" "1777 1000:1000"
printf 'x\n' > "$P1/setid/sticky-file"; chown 1000:1000 "$P1/setid/sticky-file"; chmod 1755 "$P1/setid/sticky-file"
case_ 1 setid/sticky-file sticky "sticky-without-owner" "1755 1000:1000"
printf '#!/bin/sh\nid\n' > "$P1/setid/cap-setuid"; chown 1000:1000 "$P1/setid/cap-setuid"; chmod 755 "$P1/setid/cap-setuid"
setcap cap_setuid,cap_setgid+ep "$P1/setid/cap-setuid"
case_ 1 setid/cap-setuid capability "capability-restored" "cap_setuid,cap_setgid+ep"

# ---------------------------------------------------------------- names
mkdir -p "$P1/names"
name() { printf '%s\n' "$2" > "$P1/names/$1"; case_ 1 "names/$1" name "${3:-mangle}" "$2"; }
name plain.txt plain
name $'new\nline' newline
name $'trailing-newline\n' trailing-newline
name $'tab\there' tab
name 'back\slash' backslash
name '..\..\..\windows\system32' backslash-dotdot
name "$(printf 'n%.0s' {1..255})" 255-bytes
name "$(printf '\xc3\xa9%.0s' {1..127})x" 255-bytes-utf8
name '-rf' leading-dash
name '--help' leading-dashes
name ' leading space' leading-space
name 'trailing space ' trailing-space
name '*' star
name '?' question
name 'quote"d' double-quote
name "single'quote" single-quote
name 'pct%2e%2e%2f' percent
name 'q?x=1&path=..%2f' query
name 'hash#frag' hash
name $'ctrl\x01\x1b[31mred' control
name '...' three-dots
name '....' four-dots
name '.hidden' hidden
name 'colon:name' colon
name 'semi;rm -rf $HOME' shell
name $'rtl\xe2\x80\xaetxt.exe' rtl-override
name 'CON' windows-reserved
name '$(touch pwned)' command-substitution
mkdir -p "$P1/names/-dir with spaces"; echo x > "$P1/names/-dir with spaces/f"
case_ 1 "names/-dir with spaces" name mangle "folder"

# Not UTF-8: issue 11 covers these; they only must not escape or crash.
mkdir -p "$P1/nonutf8"
for n in $'\xff\xfe' $'latin1-caf\xe9' $'bad-seq-\xc3\x28' $'overlong-slash-\xc0\xaf' $'surrogate-\xed\xa0\x80'; do
    echo x > "$P1/nonutf8/$n"; case_ 1 "nonutf8/$n" nonutf8 "escape crash" "issue 11"
done

# ---------------------------------------------------------------- a tree deeper than PATH_MAX
DEPTH=300
seg=d0123456789abcdefghi   # 20 bytes: 300 levels make a 6300-byte path
( cd "$P1" && mkdir deep && cd deep && for ((i = 0; i < DEPTH; i++)); do mkdir "$seg" && cd "$seg"; done && echo "bottom of the deep tree" > leaf.txt )
case_ 1 deep deep "lose" "$DEPTH x $seg / leaf.txt"

# ---------------------------------------------------------------- sparse files
mkdir -p "$P1/sparse"
truncate -s 1T "$P1/sparse/huge-1T"
case_ 1 sparse/huge-1T sparse materialise "1099511627776 0"
truncate -s 64M "$P1/sparse/middle"
head -c 1M /dev/urandom | dd of="$P1/sparse/middle" bs=1M seek=16 conv=notrunc status=none
head -c 1M /dev/urandom | dd of="$P1/sparse/middle" bs=1M seek=40 conv=notrunc status=none
case_ 1 sparse/middle sparse materialise "67108864 2097152"
truncate -s 8M "$P1/sparse/tail"
head -c 4096 /dev/urandom | dd of="$P1/sparse/tail" bs=4096 seek=2047 conv=notrunc status=none
case_ 1 sparse/tail sparse materialise "8388608 4096"
truncate -s 256M "$P1/sparse/holes-only"
case_ 1 sparse/holes-only sparse materialise "268435456 0"

# ---------------------------------------------------------------- many entries
MANY=3000
mkdir -p "$P1/many"
( cd "$P1/many" && seq -f 'entry-%05g' $MANY | xargs touch )
case_ 1 many many "lose" "$MANY"

# ---------------------------------------------------------------- modes and times
mkdir -p "$P1/perms/noperm-dir" "$P1/perms/readonly-dir"
echo x > "$P1/perms/noperm-dir/inside"; echo x > "$P1/perms/readonly-dir/inside"
echo x > "$P1/perms/zero-mode"
chmod 000 "$P1/perms/noperm-dir" "$P1/perms/zero-mode"; chmod 555 "$P1/perms/readonly-dir"
case_ 1 perms/noperm-dir mode lose "000 with a file inside"
case_ 1 perms/readonly-dir mode lose "555 with a file inside"
case_ 1 perms/zero-mode mode lose "000"
# mke2fs -d stores 32-bit times: the ones past 2038 and before 1970 are set by debugfs afterwards.
mkdir -p "$P1/times"
declare -A TIMES=([future]=22000101000000 [epoch]=19700101000000 [pre1970]=19011214000000 [y2038]=20380119031408)
for t in "${!TIMES[@]}"; do
    echo x > "$P1/times/$t"
    case_ 1 "times/$t" mtime crash "${TIMES[$t]}"
done

# ---------------------------------------------------------------- partition 2: dirents no mkdir can make
# mke2fs writes placeholder names; then each dirent's name and name_len are rewritten in the
# folder's block (metadata_csum is off so the changed blocks still read). Linux's readdir refuses a
# name holding '/' with EIO (verify_dirent_name), and ext4 refuses a '.' as a block's last entry:
# these folders cannot be listed at all, and that must end as a clean error, never a crash or a read
# of the host path that such a name spells.
declare -a PDIR=() PLACE=() REAL=()
patched() { # dir real-name kind must-not
    local ph; ph=$(printf 'HOSTILE%02d' "${#PLACE[@]}")
    while (( ${#ph} < ${#2} )); do ph+=Q; done
    mkdir -p "$P2/$1"; echo "placeholder" > "$P2/$1/$ph"
    PDIR+=("$1"); PLACE+=("$ph"); REAL+=("$2")
    case_ 2 "$1/$2" "$3" "$4" "dirent patched"
}
up=$(printf '../%.0s' {1..40})
patched escape "${up}${OUTSIDE#/}/sentinel.txt" dirent-escape "read-host write-host"
patched escape "${up}${OUTSIDE#/}" dirent-escape "read-host write-host"
patched escape "${up}etc/hostname" dirent-escape "read-host"
patched slash "sub/inner" dirent-slash "mangle"
patched slash "/abs-in-dirent" dirent-slash "write-host"
mkdir -p "$P2/slash/sub"; echo "real inner" > "$P2/slash/sub/inner"
case_ 2 slash/sub/inner file none "real inner"
patched dots ".." dirent-dots "write-host"
patched dots "." dirent-dots "write-host"

# ---------------------------------------------------------------- build the disk
(( $(wc -l < "$MAN") >= 60 )) || { echo "only $(wc -l < "$MAN") cases" >&2; exit 1; }
fs1=$work/p1.fs fs2=$work/p2.fs
truncate -s 48M "$fs1"; truncate -s 8M "$fs2"
mke2fs -q -F -t ext4 -b 4096 -N 8192 -L hostile -d "$P1" "$fs1"
for t in "${!TIMES[@]}"; do debugfs -w -R "sif /times/$t mtime ${TIMES[$t]}" "$fs1" >/dev/null 2>&1; done
mke2fs -q -F -t ext4 -b 4096 -O ^metadata_csum,^dir_index -L dirents -d "$P2" "$fs2"
for i in "${!PLACE[@]}"; do
    blk=$(debugfs -R "blocks /${PDIR[i]}" "$fs2" 2>/dev/null | tr -s ' ' '\n' | grep -m1 .)
    python3 - "$fs2" "$blk" "${PLACE[i]}" "${REAL[i]}" <<'PY'
import os, struct, sys
path, blk = sys.argv[1], int(sys.argv[2])
place, real = os.fsencode(sys.argv[3]), os.fsencode(sys.argv[4])
with open(path, 'r+b') as f:
    f.seek(blk * 4096)
    block = bytearray(f.read(4096))
    at = 0
    while at < 4096:
        ino, rec_len, name_len, ftype = struct.unpack_from('<IHBB', block, at)
        if ino and block[at + 8:at + 8 + name_len] == place:
            assert len(real) <= rec_len - 8
            block[at + 6] = len(real)
            block[at + 8:at + 8 + len(real)] = real
            break
        at += rec_len
    else:
        sys.exit(f'placeholder {place!r} not found in block {blk}')
    f.seek(blk * 4096)
    f.write(block)
PY
done
e2fsck -fn "$fs1" >/dev/null 2>&1 || { e2fsck -fn "$fs1"; exit 1; }   # the corpus itself is a clean filesystem (partition 2 is not, by design)

rm -f "$OUT"
truncate -s 64M "$OUT"
sfdisk -q --no-reread --no-tell-kernel "$OUT" <<EOF
label: gpt
start=2048, size=48MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=hostile
size=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=dirents
EOF
dd if="$fs1" of="$OUT" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$fs2" of="$OUT" bs=1M seek=49 conv=notrunc,sparse status=none
{ printf '# hostile corpus of %s; outside=%s\n# part\tpath\tkind\tmust-not\tdetail\n' "$(basename "$OUT")" "$OUTSIDE"; cat "$MAN"; } > "$OUT.manifest.tsv"
echo "$OUT: $(wc -l < "$MAN") cases, outside=$OUTSIDE"
