#!/usr/bin/env bash
# SQLite vs PostgreSQL for the tracking store, in one run: a 10,000-version batch registration
# and 8 concurrent publisher processes x 200 publishes (all to one shot, then each to its own
# shot) on each backend. Prints throughput and
# the PostgreSQL/SQLite ratio; raw JSON lines go to bench/out/pg/.
#
# Usage: bench/pg.sh [WORKDIR]   (default: a fresh temp dir, removed afterwards)
# Uses $SHOTLINE_TEST_PG when set, else starts a private server with scripts/pg.sh (stopped
# afterwards). Both backends fsync every commit (SQLite synchronous=FULL, PostgreSQL fsync=on).
set -euo pipefail
cd "$(dirname "$0")/.."

work="${1:-}"
cleanup=()
if [[ -z "$work" ]]; then
  work="$(mktemp -d)"
  cleanup+=("rm -rf '$work'")
fi
if [[ -z "${SHOTLINE_TEST_PG:-}" ]]; then
  eval "$(scripts/pg.sh start)"
  cleanup+=("scripts/pg.sh stop")
fi
trap 'for c in "${cleanup[@]}"; do eval "$c"; done' EXIT
out=bench/out/pg
mkdir -p "$out"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

echo "== building (release)" >&2
cargo build --release -q -p shotline-store --example pg_bench

echo "== SQLite vs PostgreSQL in $work" >&2
target/release/examples/pg_bench "$work" "$SHOTLINE_TEST_PG" | tee "$out/pg-$stamp.jsonl"
echo "results: $out/pg-$stamp.jsonl" >&2
