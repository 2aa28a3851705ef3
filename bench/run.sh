#!/usr/bin/env bash
# bench/run.sh [--fresh] [--repeat N] [--only tar,raw,list,mem] - the RestoreTools benchmark (issue 4).
# Builds bench/RestoreTools.Bench (Release), makes the sample image once (in $BENCH_WORK, default
# /var/tmp/restoretools-bench; rebuilt with --fresh or when older than make-image.sh), runs the
# measurements and prints the table. Exit 0 even when a goal is missed; non-zero only when something broke.
# Needs root: loop devices, mount, drop_caches.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${BENCH_WORK:-/var/tmp/restoretools-bench}"
fresh=0
pass=()
while (( $# > 0 )); do
    case "$1" in
        --fresh) fresh=1 ;;
        --repeat|--only) pass+=("$1" "$2"); shift ;;
        *) echo "usage: bench/run.sh [--fresh] [--repeat N] [--only tar,raw,list,mem]" >&2; exit 2 ;;
    esac
    shift
done
[[ $(id -u) -eq 0 ]] || { echo "bench/run.sh: needs root (loop devices, mount, drop_caches)" >&2; exit 1; }
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

echo "bench: building (Release)" >&2
dotnet build "$here/RestoreTools.Bench/RestoreTools.Bench.csproj" -c Release -v q -nologo -clp:ErrorsOnly >&2

mkdir -p "$work"
img="$work/sample.img"
if (( fresh )) || [[ ! -f "$img" || "$img" -ot "$here/make-image.sh" ]]; then
    echo "bench: making the sample image in $work (takes a minute or two)" >&2
    "$here/make-image.sh" "$work"
else
    echo "bench: reusing $img" >&2
fi

mkdir -p "$here/results"
exec dotnet "$here/RestoreTools.Bench/bin/Release/net10.0/RestoreTools.Bench.dll" \
    --image "$img" --work "$work" --out "$here/results/latest.txt" "${pass[@]}"
