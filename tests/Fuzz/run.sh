#!/usr/bin/env bash
# The long fuzz run of the partition-table readers and filesystem probes, as one command:
#   tests/Fuzz/run.sh [SECONDS] [--afl | --random] [--seed N]
# --afl (the default when it can run): coverage-guided, afl++ driving restore-fuzz through SharpFuzz,
#   with RestoreTools.Engine.dll instrumented; installs afl++ (Debian) and SharpFuzz.CommandLine
#   (NuGet, into the state folder) when missing. New queue entries are kept in tests/Fuzz/afl-queue.
# --random: the random-mutation runner alone (inputs/s, crashes, hangs, allocations over 256 MiB).
# Crashing and hanging inputs are saved under tests/Fuzz/findings/ (replay: restore-fuzz replay FILE).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds=300 mode=afl seed="$RANDOM"
while [ $# -gt 0 ]; do
    case "$1" in
        --afl) mode=afl ;;
        --random) mode=random ;;
        --seed) seed="$2"; shift ;;
        *) seconds="$1" ;;
    esac
    shift
done
state="$root/.state/fuzz"
findings="$here/findings"
mkdir -p "$state" "$findings"

run_random() {
    dotnet build "$here/RestoreTools.Fuzz.csproj" -c Release -v q --nologo >/dev/null
    dotnet "$here/bin/Release/net10.0/restore-fuzz.dll" run "$seconds" --seed "$seed" --findings "$findings"
}

if [ "$mode" = random ]; then run_random; exit; fi

# ---- afl++ with SharpFuzz ----------------------------------------------------------------------
if ! command -v afl-fuzz >/dev/null; then
    echo "run.sh: installing afl++"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null) \
        || { echo "run.sh: afl++ could not be installed; random mutation instead" >&2; run_random; exit; }
fi
if [ ! -x "$state/tools/sharpfuzz" ]; then
    dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$state/tools" >/dev/null
fi

bin="$state/afl-bin"
rm -rf "$bin"
dotnet publish "$here/RestoreTools.Fuzz.csproj" -c Release -o "$bin" -v q --nologo >/dev/null
# The tool targets .NET 8/9; only the engine is instrumented (coverage of the parsers, not of the harness).
DOTNET_ROLL_FORWARD=Major "$state/tools/sharpfuzz" "$bin/RestoreTools.Engine.dll" >/dev/null

out="$state/afl-out"
rm -rf "$out"
in="$state/afl-in"
rm -rf "$in"; mkdir -p "$in"
cp "$here"/corpus/*.bin "$in"/
[ -d "$here/afl-queue" ] && cp "$here"/afl-queue/* "$in"/ 2>/dev/null || true

echo "fuzz: afl++ for $seconds s on $(ls "$in" | wc -l) seeds"
start=$(date +%s)
AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 \
AFL_FORKSRV_INIT_TMOUT=60000 AFL_NO_AFFINITY=1 \
    afl-fuzz -V "$seconds" -i "$in" -o "$out" -t 2000 -m none -- dotnet "$bin/restore-fuzz.dll" afl \
    > "$state/afl.log" 2>&1 || { tail -30 "$state/afl.log" >&2; echo "run.sh: afl-fuzz failed; random mutation instead" >&2; run_random; exit; }
elapsed=$(( $(date +%s) - start ))

stats="$out/default/fuzzer_stats"
get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
execs=$(get execs_done); crashes=$(get saved_crashes); hangs=$(get saved_hangs); corpus=$(get corpus_count)
for f in "$out"/default/crashes/id:* "$out"/default/hangs/id:*; do
    [ -e "$f" ] || continue
    kind=$(basename "$(dirname "$f")")
    cp "$f" "$findings/afl-${kind%s}-$(sha256sum "$f" | cut -c1-16).bin"
done
# Keep the queue entries that reached new edges (small files) so the next run starts from them.
mkdir -p "$here/afl-queue"
for f in "$out"/default/queue/id:*+cov*; do
    [ -e "$f" ] || continue
    case "$f" in *orig:*) continue ;; esac
    [ "$(stat -c %s "$f")" -le 65536 ] && cp "$f" "$here/afl-queue/$(sha256sum "$f" | cut -c1-16).bin"
done
echo "fuzz: afl++ $execs inputs in $elapsed s ($(( execs / (elapsed > 0 ? elapsed : 1) ))/s), crashes $crashes, hangs $hangs, queue $corpus; findings in $findings"
[ "$crashes" = 0 ] && [ "$hangs" = 0 ]
