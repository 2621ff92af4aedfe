#!/usr/bin/env bash
# Bad input at scale for `siemc match` (kept out of `cargo test`: it streams
# gigabytes). Checks, each followed by a valid event that must still alert:
#   1. a multi-GB stream on stdin: peak RSS stays flat (compared with a
#      stream 1/GB-th the size)
#   2. a 100 MB single line: reported and skipped
#   3. 10,000-deep nesting: reported, no stack overflow
#   4. invalid UTF-8: reported
#   5. truncated JSON: reported
# usage: benches/bad_input.sh [GB=2]
set -euo pipefail
cd "$(dirname "$0")/.."
GB=${1:-2}
OUT=target/bench/bad
mkdir -p "$OUT"
cargo build --release --quiet
SIEMC=target/release/siemc
RULES="$OUT/rules"; mkdir -p "$RULES"
cat > "$RULES/certutil.yml" <<'EOF'
title: certutil download (bad-input check)
id: 5b3c9d30-0000-4000-8000-000000000001
logsource: {category: process_creation, product: windows}
detection:
  sel: {Image|endswith: '\certutil.exe', CommandLine|contains: 'urlcache'}
  condition: sel
level: high
EOF
GOOD='{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":"C:\\Windows\\System32\\certutil.exe","CommandLine":"certutil -urlcache -f http://x/a a"}'
fail=0
check() { # name expected-alerts expected-bad file
  local name=$1 want=$2 wantbad=$3 f=$4
  /usr/bin/time -v "$SIEMC" match --quiet --rules "$RULES" --events "$f" > "$OUT/out" 2> "$OUT/err" || true
  local got bad rss
  got=$(wc -l < "$OUT/out")
  bad=$(grep -o '[0-9]* bad records' "$OUT/err" | grep -o '^[0-9]*')
  rss=$(grep 'Maximum resident' "$OUT/err" | grep -o '[0-9]*$')
  local msg; msg=$(grep -m1 'bad record' "$OUT/err" | cut -c1-100 || true)
  if [ "$got" = "$want" ] && [ "$bad" = "$wantbad" ]; then r=ok; else r=FAIL; fail=1; fi
  printf '%-4s %-22s alerts %s (want %s), bad %s (want %s), peak RSS %s MB  %s\n' \
    "$r" "$name" "$got" "$want" "$bad" "$wantbad" "$((rss / 1024))" "$msg"
}

# 2-5: one file each, the valid event after the bad record.
python3 - "$OUT" "$GOOD" <<'EOF'
import sys
out, good = sys.argv[1], sys.argv[2].encode()
open(out + "/line100mb.json", "wb").write(b'{"CommandLine":"' + b"A" * (100 << 20) + b'"}\n' + good + b"\n")
open(out + "/deep.json", "wb").write(b'{"a":' + b"[" * 10000 + b"]" * 10000 + b"}\n" + good + b"\n")
open(out + "/deep_obj.json", "wb").write(b'{"a":' + b'{"a":' * 10000 + b"1" + b"}" * 10001 + b"\n" + good + b"\n")
open(out + "/utf8.json", "wb").write(b'{"CommandLine":"caf\xff\xfe"}\n' + good + b"\n")
open(out + "/truncated.json", "wb").write(b'{"CommandLine":"certutil -urlcache", "Image": \n' + good + b"\n")
EOF
check "100 MB single line" 1 1 "$OUT/line100mb.json"
check "10,000-deep arrays" 1 1 "$OUT/deep.json"
check "10,000-deep objects" 1 1 "$OUT/deep_obj.json"
check "invalid UTF-8" 1 1 "$OUT/utf8.json"
check "truncated JSON" 1 1 "$OUT/truncated.json"

# 1: a multi-GB stream generated on the fly into stdin.
CHUNK="$OUT/chunk.ndjson"
[ -f "$CHUNK" ] || { python3 benches/gen_events.py sysmon 60000 7 > "$CHUNK"; echo "$GOOD" >> "$CHUNK"; }
CB=$(stat -c %s "$CHUNK")
REPS=$(( (GB << 30) / CB + 1 ))
small() { cat "$CHUNK"; }
big() { for _ in $(seq "$REPS"); do cat "$CHUNK"; done; }
per=$("$SIEMC" match --quiet --rules "$RULES" --events "$CHUNK" 2>/dev/null | wc -l)
small | /usr/bin/time -v "$SIEMC" match --quiet --rules "$RULES" --events - 2> "$OUT/err1" | wc -l > /dev/null
rss1=$(grep 'Maximum resident' "$OUT/err1" | grep -o '[0-9]*$')
t0=$(date +%s)
big | /usr/bin/time -v "$SIEMC" match --quiet --rules "$RULES" --events - 2> "$OUT/err2" > "$OUT/out2"
t1=$(date +%s)
rss2=$(grep 'Maximum resident' "$OUT/err2" | grep -o '[0-9]*$')
got=$(wc -l < "$OUT/out2")
want=$((per * REPS))
gbs=$(python3 -c "print('%.1f' % ($CB * $REPS / 2**30))")
if [ "$got" = "$want" ] && [ "$rss2" -lt $((rss1 + 32768)) ]; then r=ok; else r=FAIL; fail=1; fi
printf '%-4s %-22s %s GB on stdin in %ss: alerts %s (want %s), peak RSS %s MB (one chunk of %s MB: %s MB)\n' \
  "$r" "multi-GB stream" "$gbs" "$((t1 - t0))" "$got" "$want" "$((rss2 / 1024))" "$((CB >> 20))" "$((rss1 / 1024))"
exit $fail
