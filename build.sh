#!/usr/bin/env bash
# build.sh - thin bootstrap for RestoreTools.
#   ./build.sh Demo      build, make the sample image, run demo/Demo.ps1
#   ./build.sh Test      build, make the sample image, run xunit + Pester
#   ./build.sh [Build|Sample|Clean] [-Configuration Debug]
#   ./build.sh Clean Build           (several tasks: bare words or Clean,Build)
# Installs missing Debian packages (tools/debian-packages.txt), restores the local dotnet
# tools (pwsh, see dotnet-tools.json) and hands over to build.ps1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# ---- Debian packages ---------------------------------------------------------------------
missing=()
while read -r pkg; do
    pkg="${pkg%%#*}"; pkg="${pkg//[[:space:]]/}"
    [[ -z "$pkg" ]] && continue
    if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed$'; then
        missing+=("$pkg")
    fi
done < tools/debian-packages.txt
if (( ${#missing[@]} > 0 )); then
    echo "build.sh: installing missing Debian packages: ${missing[*]}"
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || { echo "build.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ---- dotnet + pwsh -----------------------------------------------------------------------
command -v dotnet >/dev/null 2>&1 || { echo "build.sh: the .NET SDK 10 ('dotnet') is not on PATH" >&2; exit 1; }
dotnet tool restore >/dev/null || { echo "build.sh: 'dotnet tool restore' failed" >&2; dotnet tool restore; exit 1; }

# Several tasks (`./build.sh Clean Build` or `./build.sh Clean,Build`): pwsh -File cannot
# bind a string[] from one argument, so use -Command with validated words.
tasks=()
while (( $# > 0 )) && [[ "$1" =~ ^[A-Za-z]+(,[A-Za-z]+)*$ ]]; do
    IFS=, read -r -a words <<< "$1"; tasks+=("${words[@]}"); shift
done
if (( ${#tasks[@]} > 1 )); then
    rest=()
    while (( $# > 0 )); do
        [[ "$1" =~ ^-?[A-Za-z0-9_.]+$ ]] || { echo "build.sh: unsupported argument '$1' with several tasks" >&2; exit 2; }
        rest+=("$1"); shift
    done
    task_list="$(IFS=,; echo "${tasks[*]}")"
    exec dotnet pwsh -NoProfile -NonInteractive -Command "& ./build.ps1 -Task $task_list ${rest[*]}; exit \$LASTEXITCODE"
fi
exec dotnet pwsh -NoProfile -File build.ps1 "${tasks[@]}" "$@"
