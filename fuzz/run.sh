#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 300), seeded with the
# queries of the corpora when SIEMC_CORPORA is set. Needs cargo-fuzz; on a
# stable toolchain RUSTC_BOOTSTRAP=1 lets it use the sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-300}
shift || true
targets=${*:-eql kuery lucene esql spl sigma}
export RUSTC_BOOTSTRAP=1
if [ -n "${SIEMC_CORPORA:-}" ] && [ ! -d corpus/eql ]; then
    python3 seed.py "$SIEMC_CORPORA" corpus
fi
cargo fuzz build -O $targets >/dev/null 2>&1 || cargo fuzz build -O
for t in $targets; do
    mkdir -p corpus/$t
    echo "== fuzz $t for ${secs}s"
    cargo fuzz run -O $t corpus/$t -- -max_total_time=$secs -rss_limit_mb=4096 -max_len=65536 2>&1 | grep -E "Done|ERROR|panicked|SUMMARY|stat::" | tail -3
done
