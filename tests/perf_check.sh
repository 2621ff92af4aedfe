#!/usr/bin/env bash
# Wall time of `siemc check` over each corpus folder (release build); fails
# when one takes longer than its budget. Prints the measured times.
set -euo pipefail
bin=target/release/siemc
corp="${SIEMC_CORPORA:?set SIEMC_CORPORA}"
check() { # folder budget_seconds
    local dir=$1 budget=$2 best=999
    [ -d "$corp/$dir" ] || { echo "skip $dir (absent)"; return; }
    for _ in 1 2 3; do
        local t0 t1
        t0=$(date +%s.%N)
        "$bin" check "$corp/$dir" >/dev/null 2>&1 || true
        t1=$(date +%s.%N)
        best=$(echo "$t0 $t1 $best" | awk '{d=$2-$1; print (d<$3)?d:$3}')
    done
    echo "siemc check $dir: best of 3 = ${best}s (budget ${budget}s)"
    awk -v b="$best" -v m="$budget" 'BEGIN{exit !(b<m)}' || { echo "too slow: $dir"; exit 1; }
}
check elastic 1.0
check splunk/detections 1.0
check sigma 1.0
