#!/usr/bin/env bash
# bench/drive.sh [--repeat N] - listing a 100,000-entry folder through the Restore: drive, by
# Get-RestoreChildItem, and by Get-ChildItem on the same mount (issue 14). Uses the bench image of
# bench/run.sh (made by bench/make-image.sh if missing). Needs ./build.sh Build and root. Writes
# bench/results/drive-latest.txt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="${BENCH_WORK:-/var/tmp/restoretools-bench}"
repeat=3
while (( $# > 0 )); do
    case "$1" in
        --repeat) repeat="$2"; shift ;;
        *) echo "usage: bench/drive.sh [--repeat N]" >&2; exit 2 ;;
    esac
    shift
done
[[ $(id -u) -eq 0 ]] || { echo "bench/drive.sh: needs root (loop devices, mount)" >&2; exit 1; }
[[ -f "$root/out/RestoreTools/RestoreTools.psd1" ]] || { echo "bench/drive.sh: build first: ./build.sh Build" >&2; exit 1; }
[[ -f "$work/sample.img" ]] || bash "$here/make-image.sh" "$work" >&2
mkdir -p "$here/results"
cd "$root"
exec dotnet pwsh -NoProfile -File "$here/drive.ps1" -Image "$work/sample.img" -Repeat "$repeat" -Out "$here/results/drive-latest.txt"
