#!/usr/bin/env bash
# bench/agent.sh [--repeat N] [--requests N] [--only abcd] - the agent benchmark (issues 5, 15).
# Starts the real NativeAOT agent (out/agent/restore-agent; build it with ./build.sh Agent) on a Unix
# socket with the sample image attached (--image bench=..., made by make-image.sh as for run.sh) and
# measures: (a) latency of GET status and resolve, 1 keep-alive connection and 16 concurrent ones;
# (b) tar export of the 20,000-file tree through the socket vs GNU tar on the agent's own mount;
# (c) the agent's peak memory (VmHWM) during a 1 GiB raw export; (d) spawn -> first answer.
# Exit 0 even when a goal is missed; non-zero only when something broke. Needs root.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="${BENCH_WORK:-/var/tmp/restoretools-bench}"
agent="${BENCH_AGENT:-$root/out/agent/restore-agent}"
pass=()
while (( $# > 0 )); do
    case "$1" in
        --repeat|--requests|--only) pass+=("$1" "$2"); shift ;;
        *) echo "usage: bench/agent.sh [--repeat N] [--requests N] [--only abcd]" >&2; exit 2 ;;
    esac
    shift
done
[[ $(id -u) -eq 0 ]] || { echo "bench/agent.sh: needs root (loop devices, mount)" >&2; exit 1; }
[[ -x "$agent" ]] || { echo "bench/agent.sh: no $agent: build it with './build.sh Agent'" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench/agent.sh: needs curl" >&2; exit 1; }
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

echo "bench: building (Release)" >&2
dotnet build "$here/RestoreTools.AgentBench/RestoreTools.AgentBench.csproj" -c Release -v q -nologo -clp:ErrorsOnly >&2

mkdir -p "$work"
img="$work/sample.img"
if [[ ! -f "$img" ]]; then   # shared with run.sh, which rebuilds it (--fresh)
    echo "bench: making the sample image in $work (takes a minute or two)" >&2
    "$here/make-image.sh" "$work"
fi
mkdir -p "$here/results" "$work/agent"
exec dotnet "$here/RestoreTools.AgentBench/bin/Release/net10.0/RestoreTools.AgentBench.dll" agent \
    --agent "$agent" --image "$img" --work "$work/agent" --repo "$root" --out "$here/results/agent-latest.txt" "${pass[@]}"
