#!/usr/bin/env bash
# Writes a per-start initrd: the base initrd, zero-padded to a 512-byte boundary, followed by a
# second (uncompressed) newc cpio archive that holds only /restore (0700) and /restore/token
# (0400). The kernel unpacks concatenated archives into the same rootfs; the token never touches
# the disk images and the base initrd stays shared and unchanged.
#
#   vm/append-token.sh <base-initrd> <token> <out-initrd>
#
# <token> may be '-' to read the token from stdin (keeps it out of the process list).
set -euo pipefail
if [ $# -ne 3 ]; then
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
base="$1" token="$2" out="$3"
[ -f "$base" ] || { echo "append-token: no initrd '$base'" >&2; exit 1; }
[ "$token" = - ] && token="$(cat)"
[ -n "$token" ] || { echo "append-token: empty token" >&2; exit 1; }
case "$token" in *[!A-Za-z0-9._~+/=-]*) echo "append-token: the token has characters outside [A-Za-z0-9._~+/=-]" >&2; exit 1 ;; esac
command -v cpio >/dev/null || { echo "append-token: cpio is missing (apt-get install cpio)" >&2; exit 1; }

umask 077
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -m 0700 "$tmp/restore"
printf '%s' "$token" >"$tmp/restore/token"
chmod 0400 "$tmp/restore/token"
touch -h -d @0 "$tmp/restore" "$tmp/restore/token"

outtmp="$out.tmp.$$"
cp "$base" "$outtmp"
size=$(stat -c %s "$outtmp")
pad=$(( (512 - size % 512) % 512 ))
[ $pad -eq 0 ] || head -c $pad /dev/zero >>"$outtmp"
(cd "$tmp" && printf 'restore\0restore/token\0' |
    cpio --null --create --format=newc --reproducible --owner=0:0 --quiet) >>"$outtmp"
chmod 0600 "$outtmp"
mv -f "$outtmp" "$out"
