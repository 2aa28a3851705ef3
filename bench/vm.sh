#!/usr/bin/env bash
# bench/vm.sh [--boots N] [--repeat N] [--compare N] - the restore VM benchmark (issue 6).
# (a) RestoreVmManager.Start (the code behind Start-RestoreVM) to the first authenticated answer of
#     the agent in the VM, median of --boots (default 5), with qemu's CPU seconds and the boot phases
#     from the serial console; KVM is used only where Accelerators.Detect allows it (not here: TCG);
#     then --compare N (default 3, 0 = off) boots of vm/run-vm.sh with --smp 2 and --smp 1 as a reference;
# (b) recursive list and tar export of a ~100 MB, 3,000-file tree (make-vm-image.sh) through the VM,
#     vs ls -lR / GNU tar on a read-only loop mount of the same image on the host.
# bench/vm.sh --io [--rounds N] [--no-fat] [--transport auto|tcp|virtio-serial] [--cpus N] - issue 15: a small
#     folder listed with its first mount, a 50 MB file and a tar of 10,000 files in one folder on
#     ext4, xfs and FAT32 (make-vmio-images.sh), through AgentClient in a running VM, with a host
#     loop mount of the same image as the reference in the same run (FAT32: VM only, no vfat here);
#     --cpus: the VM's vCPUs (default: as Start-RestoreVM, 2 on a host of 2 cores or more).
# Needs out/vm/{vmlinux,initrd.img} (./build.sh VmImage), qemu-system-x86, curl, root.
# Exit 0 even when a goal is missed; non-zero only when something broke.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="${BENCH_WORK:-/var/tmp/restoretools-bench}"
vmdir="${BENCH_VM:-$root/out/vm}"
pass=() io=0
while (( $# > 0 )); do
    case "$1" in
        --boots|--repeat|--compare|--rounds|--transport|--cpus) pass+=("$1" "$2"); shift ;;
        --io) io=1 ;;
        --no-fat) pass+=(--fat 0) ;;
        *) echo "usage: bench/vm.sh [--boots N] [--repeat N] [--compare N] | --io [--rounds N] [--no-fat] [--transport T] [--cpus N]" >&2; exit 2 ;;
    esac
    shift
done
[[ $(id -u) -eq 0 ]] || { echo "bench/vm.sh: needs root (loop mount, drop_caches)" >&2; exit 1; }
for f in vmlinux initrd.img; do
    [[ -f "$vmdir/$f" ]] || { echo "bench/vm.sh: no $vmdir/$f: build it with './build.sh Agent VmImage'" >&2; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "bench/vm.sh: needs qemu-system-x86 (apt-get install --no-install-recommends qemu-system-x86)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench/vm.sh: needs curl" >&2; exit 1; }
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

echo "bench: building (Release)" >&2
dotnet build "$here/RestoreTools.AgentBench/RestoreTools.AgentBench.csproj" -c Release -v q -nologo -clp:ErrorsOnly >&2

mkdir -p "$work/vm"
if [[ $io == 1 ]]; then
    if [[ ! -f "$work/vmio-fat.img" ]]; then
        echo "bench: making the transfer images $work/vmio-*.img" >&2
        "$here/make-vmio-images.sh" "$work"
    fi
    mkdir -p "$here/results" "$work/vmio"
    for fs in ext4 xfs fat; do ln -sf "$work/vmio-$fs.img" "$work/vmio/vmio-$fs.img"; done
    exec dotnet "$here/RestoreTools.AgentBench/bin/Release/net10.0/RestoreTools.AgentBench.dll" vmio \
        --kernel "$vmdir/vmlinux" --initrd "$vmdir/initrd.img" --work "$work/vmio" --repo "$root" \
        --out "$here/results/vmio-latest.txt" "${pass[@]}"
fi
img="$work/vmtree.img"
if [[ ! -f "$img" ]]; then
    echo "bench: making the VM bench image $img" >&2
    "$here/make-vm-image.sh" "$work"
fi
mkdir -p "$here/results"
exec dotnet "$here/RestoreTools.AgentBench/bin/Release/net10.0/RestoreTools.AgentBench.dll" vm \
    --kernel "$vmdir/vmlinux" --initrd "$vmdir/initrd.img" --image "$img" --work "$work/vm" --repo "$root" \
    --out "$here/results/vm-latest.txt" "${pass[@]}"
