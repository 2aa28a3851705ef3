#!/usr/bin/env bash
# End-to-end check of a built restore VM (out/vm by default), for CI and by hand:
#   1. the selftest boot (restoretools.selftest=1) must print "SELFTEST OK";
#   2. when the initrd holds the agent: boot it with a token cpio (over tcp: curl speaks plain
#      HTTP), wait for GET /api/v1/status, check 401 without the token, the disk in
#      /api/v1/disks (serial drive-scsi0.img.fidx, named drive-scsi0 as Proxmox does), a file
#      read from the ext4 and one from the vfat partition, then POST /api/v1/stop and wait for
#      qemu to exit.
# Both boots go through vm/run-vm.sh, the engine's launcher (restore-agent run-vm).
#
#   vm/test-vm.sh [--vm DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
vm="$here/../out/vm"
[ "${1:-}" = --vm ] && vm="$2"
img="$vm/test/test-gpt.img"
[ -f "$img" ] || "$here/make-test-image.sh" "$img" >/dev/null
fail() { echo "test-vm: FAIL: $*" >&2; exit 1; }
serial=drive-scsi0.img.fidx
disk=drive-scsi0   # the engine names a disk by its serial without .img.fidx

echo "test-vm: selftest boot"
"$here/run-vm.sh" --kernel "$vm/vmlinux" --initrd "$vm/initrd.img" --selftest -i "$serial=$img" >/dev/null || fail "selftest"
echo "test-vm: selftest OK"

if grep -q '^agent: absent' "$vm/manifest.txt"; then
    echo "test-vm: the initrd has no agent: agent test skipped"
    exit 0
fi
st="$(mktemp -d "${TMPDIR:-/tmp}/restore-vm-test.XXXXXX")"
"$here/run-vm.sh" --kernel "$vm/vmlinux" --initrd "$vm/initrd.img" --state "$st" --idle 120 --transport tcp -i "$serial=$img" >"$st/run.out"
port="$(sed -n 's/^port=//p' "$st/run.out")" pid="$(sed -n 's/^pid=//p' "$st/run.out")"
trap 'kill "$pid" 2>/dev/null || true' EXIT
api="http://127.0.0.1:$port/api/v1"
auth="Authorization: Bearer $(cat "$st/token")"
for _ in $(seq 1500); do
    code=$(curl -s -o "$st/status.json" -w '%{http_code}' -m 2 -H "$auth" "$api/status" || true)
    [ "$code" = 200 ] && break
    kill -0 "$pid" 2>/dev/null || fail "qemu exited before the agent answered (see $st/console.log)"
    sleep 0.1
done
[ "$code" = 200 ] || fail "no answer from the agent (see $st/console.log)"
echo "test-vm: agent answered after $(awk "BEGIN{printf \"%.2f\", $(date +%s.%N)-$(cat "$st/started")}") s: $(cat "$st/status.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$api/disks")
[ "$code" = 401 ] || fail "GET disks without the token gave $code, expected 401"
disks="$(curl -sf -H "$auth" "$api/disks")" || fail "GET disks"
grep -q "\"name\":\"$disk\"" <<<"$disks" || fail "disk $disk not listed: $disks"
grep -q "\"serial\":\"$serial\"" <<<"$disks" || fail "serial $serial not listed: $disks"
got=$(curl -sf -H "$auth" "$api/content?path=/$disk/part/1/selftest.txt") || fail "content from ext4"
[ "$got" = "hello from ext4" ] || fail "ext4 content '$got'"
got=$(curl -sf -H "$auth" "$api/content?path=/$disk/part/2/selftest.txt") || fail "content from vfat"
[ "$got" = "hello from vfat" ] || fail "vfat content '$got'"
curl -sf -X POST -H "$auth" "$api/stop" >/dev/null || fail "POST stop"
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "qemu still running 30 s after stop"
grep -aq 'restore-agent exited with code 0' "$st/console.log" || fail "agent exit not logged"
trap - EXIT
rm -rf "$st"
echo "test-vm: agent OK (token, disks, ext4 and vfat reads, stop -> power off)"
