#!/usr/bin/env bash
# Tracking-store benchmark: batch registration vs one transaction per row, listing 100,000
# versions vs N+1 queries, 8 concurrent publisher processes x 200, and the real CLI listing the
# 100,000 versions. Prints throughput and ratios; raw JSON lines go to bench/out/store/.
#
# Usage: bench/store.sh [WORKDIR]   (default: a fresh temp dir, removed afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."

work="${1:-}"
if [[ -z "$work" ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
out=bench/out/store
mkdir -p "$out"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

echo "== building (release)" >&2
cargo build --release -q -p shotline-store --example store_bench
cargo build --release -q -p shotline --bin shotline

echo "== store benchmark in $work" >&2
target/release/examples/store_bench "$work" | tee "$out/store-$stamp.jsonl"

list_db="$(sed -n 's/^{"list_db":"\(.*\)"}$/\1/p' "$out/store-$stamp.jsonl")"
echo >&2
echo "== CLI: shotline versions ls over 100,000 versions" >&2
for fmt in --json ""; do
  start=$(date +%s.%N)
  n=$(SHOTLINE_DB="$list_db" target/release/shotline versions ls $fmt -q | wc -l)
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  printf '%-44s %12.0f lines/s  (%d lines, %.2f s)\n' \
    "shotline versions ls ${fmt:-(table)}" "$(echo "$n / $secs" | bc -l)" "$n" "$secs" >&2
  echo "{\"bench\":\"cli_versions_ls${fmt:+_json}\",\"items\":$n,\"seconds\":$secs}" >> "$out/store-$stamp.jsonl"
done
echo >&2
echo "results: $out/store-$stamp.jsonl" >&2
