#!/usr/bin/env bash
# Side-by-side throughput of `siemc match` and the rsigma CLI on the same
# events and the same SigmaHQ process_creation rules (1, the first 100, all),
# on two Sysmon streams:
#   sysmon     a realistic mix of EventIDs (about 7% process creations; see
#              benches/gen_events.py for the weights and why)
#   sysmon-pc  process creations only: every event meets every rule's log
#              source, the worst case for routing
# and, siemc only (no peer reads Elastic rules), ECS process events with the
# dev corpus's Elastic Windows rules and with the project's rules/elastic.
# Times are wall clock of the whole command (rule loading included), best of
# $RUNS runs; siemc's and rsigma's runs alternate. Prints a markdown table
# at the end.
#
# usage: benches/run.sh [EVENTS=200000] [RUNS=1]
# needs: SIEMC_CORPORA (the dev corpora root), python3, cargo (network once,
# to install rsigma 0.23.0 into target/peers).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
RUNS=${2:-1}
CORPORA=${SIEMC_CORPORA:?set SIEMC_CORPORA to the corpora root}
OUT=target/bench
mkdir -p "$OUT" target/peers
RSIGMA=target/peers/bin/rsigma
if [ ! -x "$RSIGMA" ]; then
  cargo install --locked --root target/peers rsigma --version 0.23.0
fi
cargo build --release --quiet
SIEMC=target/release/siemc

gen() { # shape -> file
  local f="$OUT/$1-$N-$(md5sum benches/gen_events.py | cut -c1-8).ndjson"
  [ -f "$f" ] || python3 benches/gen_events.py "$1" "$N" 42 > "$f"
  echo "$f"
}

# Rule sets: all process_creation rules of the dev corpus, the first 100 of
# them, and one.
ALL="$OUT/rules-all"; R100="$OUT/rules-100"; R1="$OUT/rules-1"
rm -rf "$ALL" "$R100" "$R1"; mkdir -p "$ALL" "$R100" "$R1"
find "$CORPORA/sigma/rules/windows/process_creation" -name '*.yml' | sort > "$OUT/pc.txt"
while read -r f; do cp "$f" "$ALL/"; done < "$OUT/pc.txt"
ls "$ALL" | head -100 | while read -r f; do cp "$ALL/$f" "$R100/"; done
cp "$ALL/$(ls "$ALL" | grep -m1 proc_creation_win_certutil_download)" "$R1/" 2>/dev/null || cp "$ALL/$(ls "$ALL" | head -1)" "$R1/"
EW="$OUT/rules-elastic-windows"
rm -rf "$EW"; mkdir -p "$EW"
cp "$CORPORA"/elastic/rules/windows/*.toml "$EW/"

now() { date +%s.%N; }
# wall time of one run of a command, the shortest of it and $2 (if any);
# its stdout goes to $1, its stderr to $1.err
run_min() {
  local out=$1 b=$2 t0 t1; shift 2
  t0=$(now); "$@" > "$out" 2> "$out.err" || true; t1=$(now)
  python3 -c "import sys;a=float(sys.argv[2])-float(sys.argv[1]);b=sys.argv[3];print(a if b=='' else min(a,float(b)))" "$t0" "$t1" "$b"
}
# best wall time of RUNS runs of a command; its stdout goes to $1
timeit() {
  local b="" out=$1; shift
  for _ in $(seq "$RUNS"); do
    b=$(run_min "$out" "$b" "$@")
  done
  echo "$b"
}
# siemc and rsigma, RUNS runs each, alternating (the machine's speed drifts
# over seconds: both tools meet the same drift); sets SS and RS, the best
# wall times
timepair() {
  local set=$1 events=$2
  SS=""; RS=""
  for _ in $(seq "$RUNS"); do
    SS=$(run_min "$OUT/siemc.out" "$SS" "$SIEMC" match --quiet --rules "$set" --events "$events")
    RS=$(run_min "$OUT/rsigma.out" "$RS" "$RSIGMA" engine eval --quiet --output-format ndjson --rules "$set" --event "@$events")
  done
}
rate() { python3 -c "import sys;print('%.0f'%(float(sys.argv[1])/float(sys.argv[2])))" "$@"; }
mbs() { python3 -c "import sys;print('%.1f'%(float(sys.argv[1])/float(sys.argv[2])/1e6))" "$@"; }

TABLE="$OUT/table.md"
{
  echo "| events | rules | siemc events/s | siemc MB/s | rsigma events/s | rsigma MB/s | ratio | alerts (siemc / rsigma) |"
  echo "|---|---|---:|---:|---:|---:|---:|---|"
} > "$TABLE"
printf '%-10s %-6s %-7s %8s %10s %8s %8s\n' events rules tool seconds events/s MB/s alerts
for shape in sysmon sysmon-pc; do
  EVENTS=$(gen $shape); BYTES=$(stat -c %s "$EVENTS")
  for set in "$R1" "$R100" "$ALL"; do
    n=$(ls "$set" | wc -l)
    timepair "$set" "$EVENTS"
    ss=$SS; rs=$RS
    sa=$(wc -l < "$OUT/siemc.out")
    ra=$(grep -c . "$OUT/rsigma.out" || true)
    printf '%-10s %-6s %-7s %8.2f %10s %8s %8s\n' $shape "$n" siemc "$ss" "$(rate "$N" "$ss")" "$(mbs "$BYTES" "$ss")" "$sa"
    printf '%-10s %-6s %-7s %8.2f %10s %8s %8s\n' $shape "$n" rsigma "$rs" "$(rate "$N" "$rs")" "$(mbs "$BYTES" "$rs")" "$ra"
    ratio=$(python3 -c "import sys;print('%.1f'%(float(sys.argv[1])/float(sys.argv[2])))" "$rs" "$ss")
    printf '%-10s %-6s ratio   %sx\n' $shape "$n" "$ratio"
    same=$([ "$sa" = "$ra" ] && echo "$sa" || echo "$sa / $ra DIFFER")
    echo "| $shape | $n Sigma process_creation | $(rate "$N" "$ss") | $(mbs "$BYTES" "$ss") | $(rate "$N" "$rs") | $(mbs "$BYTES" "$rs") | ${ratio}× | $same |" >> "$TABLE"
  done
done
EVENTS=$(gen ecs); BYTES=$(stat -c %s "$EVENTS")
for set in "$EW" rules/elastic; do
  ss=$(timeit "$OUT/siemc.out" "$SIEMC" match --quiet --rules "$set" --events "$EVENTS")
  sa=$(wc -l < "$OUT/siemc.out")
  n=$(grep -o '^siemc match: [0-9]* rules' "$OUT/siemc.out.err" | grep -o '[0-9]*' || echo "?")
  printf '%-10s %-6s %-7s %8.2f %10s %8s %8s\n' ecs "$n" siemc "$ss" "$(rate "$N" "$ss")" "$(mbs "$BYTES" "$ss")" "$sa"
  echo "| ecs | $n Elastic (\`$(basename "$set")\`, siemc runs) | $(rate "$N" "$ss") | $(mbs "$BYTES" "$ss") | – | – | – | $sa |" >> "$TABLE"
done
echo
echo "Command: SIEMC_CORPORA=... benches/run.sh $N $RUNS  ($N events per stream; $(nproc) cores)"
echo
cat "$TABLE"
