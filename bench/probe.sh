#!/usr/bin/env bash
# Benchmark: `shotline probe` vs ffprobe per file (2-wide, as the studio tool it replaces does)
# vs exrheader, over the same N small real EXR frames (default 5000).
# Frames are generated once and cached in bench/out/probe/. Needs hyperfine, ffprobe, exrheader.
# Usage: bench/probe.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-${N:-5000}}
DIR=bench/out/probe
BIN=target/release/shotline
RES=bench/out/probe-results
mkdir -p "$RES"

for t in hyperfine ffprobe exrheader python3; do
    command -v "$t" >/dev/null || { echo "bench/probe.sh: $t is required" >&2; exit 2; }
done

cargo build --release -q -p shotline
if [ ! -f "$DIR/.frames-$N" ]; then
    rm -rf "$DIR"
    cargo run --release -q -p shotline-media --features testdata --example make_exrs -- "$DIR" "$N"
    touch "$DIR/.frames-$N"
fi
FIRST=1001
LAST=$((1000 + N))
PATTERN="$DIR/plate.####.exr"
ls "$DIR"/plate.*.exr > "$RES/list.txt"
echo "frames: $(wc -l < "$RES/list.txt") in $DIR ($(du -sh "$DIR" | cut -f1)), $(nproc) cores"
cat "$DIR"/plate.*.exr > /dev/null   # warm the page cache for every tool alike

# Correctness first: shotline must call every frame ok and the sequence clean.
"$BIN" --json probe "$PATTERN" > "$RES/shotline.jsonl"
OK=$(grep -c '"status":"ok"' "$RES/shotline.jsonl" || true)
[ "$OK" -eq "$N" ] || { echo "expected $N ok frames, got $OK" >&2; exit 1; }

hyperfine -N --warmup 1 --runs 10 --export-json "$RES/shotline.json" \
    -n "shotline probe (json)" "$BIN --json --quiet probe $PATTERN" \
    -n "shotline probe (table)" "$BIN --quiet probe $PATTERN"
hyperfine --warmup 1 --runs 5 --export-json "$RES/exrheader.json" \
    -n "exrheader" "xargs exrheader < $RES/list.txt > /dev/null"
# ffprobe takes minutes for 5000 files: one run by default (FFPROBE_RUNS=3 for more).
hyperfine --runs "${FFPROBE_RUNS:-1}" --export-json "$RES/ffprobe.json" \
    -n "ffprobe xargs -P2" \
    "xargs -P2 -n1 ffprobe -v error -print_format json -show_format -show_streams < $RES/list.txt > /dev/null"

# The exr crate's header reader vs our parser (single thread, same files).
cargo run --release -q -p shotline-media --features testdata --example compare_exr_meta -- "$DIR" \
    | tee "$RES/exr-crate.txt" || echo "(exr crate comparison skipped: example did not build)"

python3 - "$RES" "$N" <<'PY'
import json, sys
res, n = sys.argv[1], int(sys.argv[2])
def mean(f, i=0):
    return json.load(open(f"{res}/{f}.json"))["results"][i]["mean"]
s, st = mean("shotline"), mean("shotline", 1)
e, f = mean("exrheader"), mean("ffprobe")
print(f"\n{n} EXR frames, mean wall time:")
print(f"  shotline probe --json   {s*1000:9.1f} ms  ({s/n*1e6:.1f} us/frame)")
print(f"  shotline probe (table)  {st*1000:9.1f} ms")
print(f"  exrheader               {e*1000:9.1f} ms")
print(f"  ffprobe xargs -P2       {f*1000:9.1f} ms")
print(f"  shotline vs ffprobe -P2: {f/s:7.1f}x faster (goal >= 50x)")
print(f"  shotline vs exrheader:   {e/s:7.1f}x faster (goal > 1x)")
PY
