#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 300), seeded with the
# queries of the corpora when SIEMC_CORPORA is set. Needs cargo-fuzz; on a
# stable toolchain RUSTC_BOOTSTRAP=1 lets it use the sanitizer flags.
# Prints each target's run count; on a crash, the panic, and exits 1 after
# running the remaining targets.
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-300}
shift || true
targets=${*:-eql kuery lucene esql spl sigma}
export RUSTC_BOOTSTRAP=1
if [ -n "${SIEMC_CORPORA:-}" ] && [ ! -d corpus/eql ]; then
    python3 seed.py "$SIEMC_CORPORA" corpus
fi
cargo fuzz build -O >/dev/null 2>&1 || { echo "cargo fuzz build failed"; exit 1; }
status=0
for t in $targets; do
    mkdir -p corpus/$t
    echo "== fuzz $t for ${secs}s"
    if ! cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=4096 -max_len=65536 >"corpus/$t.log" 2>&1; then
        grep -a -A3 "panicked\|ERROR" "corpus/$t.log" | head -20
        status=1
    fi
    grep -a "Done" "corpus/$t.log" | tail -1
done
exit $status
