#!/usr/bin/env bash
# Side-by-side throughput of `siemc match` and the rsigma CLI on the same
# Sysmon-shaped events and the same SigmaHQ process_creation rules.
#
# usage: benches/run.sh [EVENTS=200000]
# needs: SIEMC_CORPORA (the dev corpora root), python3, cargo (network once,
# to install rsigma 0.23.0 into target/peers).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
CORPORA=${SIEMC_CORPORA:?set SIEMC_CORPORA to the corpora root}
OUT=target/bench
mkdir -p "$OUT" target/peers
RSIGMA=target/peers/bin/rsigma
if [ ! -x "$RSIGMA" ]; then
  cargo install --locked --root target/peers rsigma --version 0.23.0
fi
cargo build --release --quiet
SIEMC=target/release/siemc

EVENTS="$OUT/sysmon-$N.ndjson"
[ -f "$EVENTS" ] || python3 benches/gen_events.py sysmon "$N" 42 > "$EVENTS"
BYTES=$(stat -c %s "$EVENTS")

# Rule sets: all process_creation rules of the dev corpus that both tools load,
# the first 100 of them, and one.
ALL="$OUT/rules-all"; R100="$OUT/rules-100"; R1="$OUT/rules-1"
rm -rf "$ALL" "$R100" "$R1"; mkdir -p "$ALL" "$R100" "$R1"
find "$CORPORA/sigma/rules/windows/process_creation" -name '*.yml' | sort > "$OUT/pc.txt"
while read -r f; do cp "$f" "$ALL/"; done < "$OUT/pc.txt"
ls "$ALL" | head -100 | while read -r f; do cp "$ALL/$f" "$R100/"; done
cp "$ALL/$(ls "$ALL" | grep -m1 proc_creation_win_certutil_download)" "$R1/" 2>/dev/null || cp "$ALL/$(ls "$ALL" | head -1)" "$R1/"

secs() { python3 -c "import sys;print(float(sys.argv[2])-float(sys.argv[1]))" "$1" "$2"; }
now() { date +%s.%N; }

printf '%-10s %-7s %12s %10s %10s %8s\n' rules tool seconds events/s MB/s alerts
for set in "$R1" "$R100" "$ALL"; do
  nrules=$(ls "$set" | wc -l)
  t0=$(now); "$SIEMC" match --quiet --rules "$set" --events "$EVENTS" > "$OUT/siemc.out" 2> "$OUT/siemc.err"; t1=$(now)
  s=$(secs "$t0" "$t1"); a=$(wc -l < "$OUT/siemc.out")
  ss=$s
  printf '%-10s %-7s %12.2f %10.0f %10.1f %8s\n' "$nrules" siemc "$s" "$(python3 -c "print($N/$s)")" "$(python3 -c "print($BYTES/$s/1e6)")" "$a"
  t0=$(now); "$RSIGMA" engine eval --quiet --output-format ndjson --rules "$set" --event "@$EVENTS" > "$OUT/rsigma.out" 2> "$OUT/rsigma.err" || true; t1=$(now)
  s=$(secs "$t0" "$t1"); a=$(grep -c . "$OUT/rsigma.out" || true)
  printf '%-10s %-7s %12.2f %10.0f %10.1f %8s\n' "$nrules" rsigma "$s" "$(python3 -c "print($N/$s)")" "$(python3 -c "print($BYTES/$s/1e6)")" "$a"
  printf '%-10s ratio   %.1fx (siemc events/s / rsigma events/s)\n' "$nrules" "$(python3 -c "print($s/$ss)")"
done
