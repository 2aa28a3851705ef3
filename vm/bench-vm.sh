#!/usr/bin/env bash
# Measures restore VM boots from the host: seconds from starting qemu to the markers on the
# serial console and to the agent's first HTTP answer.
#
#   vm/bench-vm.sh [--runs N] [--mode selftest|agent] [run-vm.sh options...]
#
# selftest: time to "/init running", "boot modules loaded", "SELFTEST OK" and qemu's exit.
# agent:    time to "/init running", "boot modules loaded", the first answer of
#           GET /api/v1/status (with the token), then POST /api/v1/stop and qemu's exit.
# Without -i the test image from vm/make-test-image.sh is attached.
# One line per run, then the median of each column.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs=3 mode=selftest
pass=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --mode) mode="$2"; shift 2 ;;
        *) pass+=("$1"); shift ;;
    esac
done
has_image=0
for a in "${pass[@]+"${pass[@]}"}"; do [ "$a" = -i ] && has_image=1; done
if [ $has_image = 0 ]; then
    img="$here/../out/vm/test/test-gpt.img"
    [ -f "$img" ] || "$here/make-test-image.sh" "$img" >/dev/null
    pass+=(-i "drive-scsi0.img.fidx=$img")
fi
now() { date +%s.%N; }
since() { awk "BEGIN{printf \"%.2f\", $(now)-$1}"; }
# qemu's CPU time (user+system, s): with TCG this is the guest's work, less skewed by a busy host
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$1/stat" 2>/dev/null || echo -; }

results=()
for r in $(seq "$runs"); do
    st="$(mktemp -d "${TMPDIR:-/tmp}/restore-vm-bench.XXXXXX")"
    extra=()
    if [ "$mode" = selftest ]; then extra=(--append restoretools.selftest=1); else extra=(--transport tcp); fi   # curl: plain HTTP
    "$here/run-vm.sh" --state "$st" "${extra[@]}" "${pass[@]}" >"$st/run.out"
    start="$(cat "$st/started")"
    port="$(sed -n 's/^port=//p' "$st/run.out")"
    pid="$(sed -n 's/^pid=//p' "$st/run.out")"
    token="$(cat "$st/token")"
    t_init=- t_mods=- t_done=- t_exit=- c_done=-
    while :; do
        [ "$t_init" = - ] && grep -aq 'restore-vm: .* init ' "$st/console.log" 2>/dev/null && t_init=$(since "$start")
        [ "$t_mods" = - ] && grep -aq 'boot modules loaded' "$st/console.log" 2>/dev/null && t_mods=$(since "$start")
        if [ "$mode" = selftest ]; then
            [ "$t_done" = - ] && grep -aq '^SELFTEST' "$st/console.log" 2>/dev/null && { t_done=$(since "$start"); c_done=$(cpu_of "$pid"); }
        elif [ "$t_done" = - ] && [ "$t_mods" != - ]; then
            code=$(curl -s -o /dev/null -w '%{http_code}' -m 1 -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/status" || true)
            if [ "$code" = 200 ]; then
                t_done=$(since "$start"); c_done=$(cpu_of "$pid")
                curl -s -o /dev/null -X POST -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/stop" || true
            fi
        fi
        if ! kill -0 "$pid" 2>/dev/null; then t_exit=$(since "$start"); break; fi
        if awk "BEGIN{exit !($(now)-$start > 300)}"; then kill "$pid"; t_exit=timeout; break; fi
        sleep 0.02
    done
    status=ok
    [ "$mode" = selftest ] && ! grep -aq '^SELFTEST OK' "$st/console.log" && status=FAILED
    [ "$mode" = agent ] && [ "$t_done" = - ] && status=FAILED
    line="run $r: init $t_init  modules $t_mods  $( [ "$mode" = selftest ] && echo selftest || echo first-answer) $t_done (qemu cpu $c_done s)  exit $t_exit  [$status] load $(cut -d' ' -f1 /proc/loadavg)"
    echo "$line"
    results+=("$t_init $t_mods $t_done $t_exit $c_done")
    [ "$status" = ok ] && rm -rf "$st" || echo "  kept $st" >&2
done
printf '%s\n' "${results[@]}" | awk '
    { for (i = 1; i <= 5; i++) v[i, NR] = $i } END {
        n = NR; printf "median: "
        split("init modules done exit cpu-at-done", name, " ")
        for (i = 1; i <= 5; i++) {
            m = 0; for (j = 1; j <= n; j++) a[j] = v[i, j] + 0
            for (j = 1; j <= n; j++) for (k = j + 1; k <= n; k++) if (a[k] < a[j]) { t = a[j]; a[j] = a[k]; a[k] = t }
            printf "%s %.2f  ", name[i], (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
        }
        print ""
    }'
