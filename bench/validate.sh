#!/usr/bin/env bash
# Benchmark: `shotline validate` throughput on 100,000 real EXR frames (16x16 RGB half zip,
# each encoded separately by the exr crate) in a show-renders tree: 2 shows x 50 shots x 2
# sequences x 500 frames, with a truncated and a missing frame in some shots. Compared with
# `exrheader` reading the same headers (xargs-batched) and `find` as the floor.
# The tree is generated once and cached under bench/out/validate-tree (gitignored).
# Usage: bench/validate.sh [RUNS]   (default 5). Needs hyperfine, exrheader.
# A/B: SHOTLINE_BIN=new/shotline BASE_BIN=old/shotline bench/validate.sh (one hyperfine run).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
OUT=bench/out
TREE=$OUT/validate-tree
RES=$OUT/validate-results
mkdir -p "$OUT" "$RES"
for t in hyperfine exrheader python3; do
    command -v "$t" >/dev/null || { echo "bench/validate.sh: $t is required" >&2; exit 2; }
done
# SHOTLINE_BIN: a prebuilt binary to measure instead of building this checkout's release.
# BASE_BIN: another build (e.g. the commit before a change) measured in the same run, A/B.
[ -n "${SHOTLINE_BIN:-}" ] || cargo build --release -q -p shotline
if [ ! -f "$TREE/.complete" ]; then
    rm -rf "$TREE"
    cargo build --release -q -p shotline-qc --example make_show
    start=$(date +%s.%N)
    target/release/examples/make_show "$TREE" 2 50 2 500
    echo "generated in $(echo "$(date +%s.%N) - $start" | bc) s" >&2
    touch "$TREE/.complete"
fi
BIN=${SHOTLINE_BIN:-$PWD/target/release/shotline}
BASE_BIN=${BASE_BIN:-}
# The tree is the `show-renders` layout (<show>/shots/<shot>/renders/<seq>/).
printf 'layout:\n  preset: show-renders\n' > "$OUT/show-renders.yaml"
export SHOTLINE_CONFIG=$PWD/$OUT/show-renders.yaml
FRAMES=$(find "$TREE" -name '*.exr' | wc -l)
echo "frames: $FRAMES ($(du -sh "$TREE" | cut -f1)); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
find "$TREE" -name '*.exr' > "$RES/list.txt"
xargs cat < "$RES/list.txt" > /dev/null   # warm the page cache for every tool alike

# Correctness first: every frame seen, the planted problems found (truncated and missing frames).
"$BIN" --json validate "$TREE" > "$RES/report.json" || true
python3 - "$RES/report.json" "$FRAMES" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
assert s["frames"] == int(sys.argv[2]), s
assert s["by_code"].get("truncated", 0) > 0 and s["by_code"].get("missing-frames", 0) > 0, s
print(f"report: {s['frames']} frames, {s['errors']} errors, {s['by_code']}", file=sys.stderr)
PY

AB=()
if [ -n "$BASE_BIN" ]; then
    AB=(-n "base: shotline validate --json" "$BASE_BIN --quiet --json validate $TREE"
        -n "base: shotline validate --no-headers" "$BASE_BIN --quiet --json validate --no-headers $TREE")
fi
hyperfine -N --style none -i --warmup 1 --runs "$RUNS" --export-json "$RES/shotline.json" \
    -n "shotline validate --json" "$BIN --quiet --json validate $TREE" \
    -n "shotline validate --no-headers" "$BIN --quiet --json validate --no-headers $TREE" \
    -n "find -name '*.exr'" "find $TREE -name *.exr" \
    "${AB[@]}" >/dev/null
hyperfine --style none -i --warmup 1 --runs 2 --export-json "$RES/exrheader.json" \
    -n "exrheader (xargs)" "xargs exrheader < $RES/list.txt > /dev/null" >/dev/null

python3 - "$RES" "$FRAMES" <<'PY'
import json, sys
res, n = sys.argv[1], int(sys.argv[2])
rows = json.load(open(f"{res}/shotline.json"))["results"] + json.load(open(f"{res}/exrheader.json"))["results"]
ex = rows[-1]
print(f"{n} EXR frames; mean and min of runs")
print("| command | mean (s) | min (s) | frames/s (min) | exrheader / this (mean) |")
print("| --- | ---: | ---: | ---: | ---: |")
for r in rows:
    print(f"| `{r['command']}` | {r['mean']:.3f} | {r['min']:.3f} | {n / r['min']:,.0f} | "
          f"{ex['mean'] / r['mean']:.1f}x |")
PY
