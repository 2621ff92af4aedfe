#!/bin/sh
# Install Microsoft's Kusto language service for tests/kql_external.rs.
# Usage: tests/kusto/setup.sh; then SIEMC_KUSTO_NODE=tests/kusto cargo test --test kql_external
set -e
cd "$(dirname "$0")"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
