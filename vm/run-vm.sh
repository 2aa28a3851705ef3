#!/usr/bin/env bash
# Starts a restore VM for scripts and by hand through the engine's own launcher
# (`restore-agent run-vm`, src/Agent/RunVmCommand.cs -> RestoreVmManager.Launch): the kernel
# command line, CPU flags, drives and transport live in src/Engine/RestoreVm only.
#
#   vm/run-vm.sh -i NAME=PATH [-i NAME=PATH ...] [options]     (vm/run-vm.sh --help for all)
#
#   -i NAME=PATH        attach PATH read-only (below a throw-away overlay), serial NAME
#   -w NAME=PATH        attach raw PATH writable (test fixtures filled in a maker VM)
#   --state DIR         the VM's folder: console.log, qemu.pid, token, qemu.cmdline, started
#   --kernel FILE / --initrd FILE   default out/vm/vmlinux, out/vm/initrd.img
#   --transport auto|virtio-serial|tcp|vsock   (curl needs tcp: virtio-serial answers are framed)
#   --idle S, --mem MB, --smp N, --accel auto|kvm|tcg, --append ARGS, --no-recovery
#   --selftest          boot with restoretools.selftest=1 and wait; exit 0 on "SELFTEST OK"
#   --wait              stay until the VM powers off
#
# Prints transport=, endpoint=, port= (tcp only), pid=, state=, console=, token-file=. The agent
# (tcp) answers on http://127.0.0.1:PORT/ with 'Authorization: Bearer <token>'. Stop the VM with
# POST /api/v1/stop or `kill PID`. RESTORE_AGENT overrides the launcher binary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
agent="${RESTORE_AGENT:-$root/out/agent/restore-agent}"
[ -x "$agent" ] || { echo "run-vm: error: no $agent (build it with './build.sh Agent')" >&2; exit 1; }
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v qemu-img >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "run-vm: error: qemu-system-x86_64 and qemu-img are missing" >&2; exit 1; }
    echo "run-vm: installing qemu-system-x86 and qemu-utils (--no-install-recommends)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 qemu-utils >/dev/null
fi
exec "$agent" run-vm "$@"
