#!/usr/bin/env bash
# Benchmark: `shotline disk` against `du -s` (and `du -sb`) on a 200,000-file show-renders tree
# (2 shows x 100 shots x 2 steps x 5 versions x 100 frames, sparse files, 1% hard links).
# The tree is generated once and cached under bench/out/disk-tree (gitignored).
# Usage: bench/disk.sh [RUNS]   (default 10). Needs hyperfine, python3, GNU du.
# A/B: SHOTLINE_BIN=new/shotline BASE_BIN=old/shotline bench/disk.sh (both in one hyperfine run).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
OUT=bench/out
TREE=$OUT/disk-tree
RES=$OUT/disk-results
mkdir -p "$OUT" "$RES"
for t in hyperfine python3 du; do
    command -v "$t" >/dev/null || { echo "bench/disk.sh: $t is required" >&2; exit 2; }
done
python3 bench/qc/gen_disk_tree.py "$TREE"
# SHOTLINE_BIN: a prebuilt binary to measure instead of building this checkout's release.
# BASE_BIN: another build (e.g. the commit before a change) measured in the same run, A/B.
[ -n "${SHOTLINE_BIN:-}" ] || cargo build --release -q -p shotline
BIN=${SHOTLINE_BIN:-$PWD/target/release/shotline}
BASE_BIN=${BASE_BIN:-}
# The tree is the `show-renders` layout (<show>/shots/<shot>/renders/...).
printf 'layout:\n  preset: show-renders\n' > "$OUT/show-renders.yaml"
export SHOTLINE_CONFIG=$PWD/$OUT/show-renders.yaml
FILES=$(find "$TREE" -type f | wc -l)
echo "tree: $FILES files in $(find "$TREE" -type d | wc -l) directories; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Correctness first: same file count as find, hard links deduplicated.
GOT=$("$BIN" --json disk "$TREE" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["total"]["files"], d["hardlinks_deduplicated"])')
[ "${GOT% *}" -eq "$FILES" ] || { echo "shotline counted ${GOT% *} files, find $FILES" >&2; exit 1; }
echo "shotline: files, hard links counted once = $GOT" >&2

du -s "$TREE" >/dev/null   # warm the metadata cache for every tool alike
AB=()
if [ -n "$BASE_BIN" ]; then
    AB=(-n "base: shotline disk" "$BASE_BIN --quiet disk $TREE"
        -n "base: shotline disk --depth 3 --json" "$BASE_BIN --quiet --json disk --depth 3 $TREE")
fi
hyperfine -N --style none --warmup 2 --runs "$RUNS" --export-json "$RES/hyperfine.json" \
    -n "du -s" "du -s $TREE" \
    -n "du -sb" "du -sb $TREE" \
    -n "shotline disk" "$BIN --quiet disk $TREE" \
    -n "shotline disk --depth 3 --json" "$BIN --quiet --json disk --depth 3 $TREE" \
    "${AB[@]}" >/dev/null

python3 - "$RES/hyperfine.json" "$FILES" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
files = int(sys.argv[2])
du = next(r for r in res if r["command"] == "du -s")
print(f"{files} files; mean and min of runs (the min is the least disturbed by other load)")
print("| command | mean (s) | min (s) | du -s / this (mean) | du -s / this (min) |")
print("| --- | ---: | ---: | ---: | ---: |")
for r in res:
    print(f"| `{r['command']}` | {r['mean']:.3f} | {r['min']:.3f} | "
          f"{du['mean'] / r['mean']:.2f}x | {du['min'] / r['min']:.2f}x |")
PY
