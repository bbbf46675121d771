#!/usr/bin/env bash
# Benchmark: `shotline ls -R` (and `-R -l`) against `find -type f`, fileseq's
# findSequencesOnDisk looped over every directory, and `lsseq -R`, on a generated tree of
# 200 shots x 10 sequences x 100 frames, some gaps, 3 plain files per shot (200,198 files).
# Usage: bench/ls.sh [RUNS]   (best and median of RUNS, default 10: shared machines are noisy).
# Needs hyperfine, and python3 with fileseq and lsseq. The tree is cached under bench/out/
# (gitignored); delete bench/out/ls-tree* to regenerate.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
OUT=bench/out
TREE=$OUT/ls-tree
mkdir -p "$OUT"
python3 bench/ls/gen_tree.py "$TREE" 200
cargo build --release -q -p shotline
BIN=$PWD/target/release/shotline
echo "tree: $(find "$TREE" -type f | wc -l) files in $(find "$TREE" -type d | wc -l) directories; $(nproc) CPUs; load $(cut -d" " -f1-3 /proc/loadavg); $RUNS runs each" >&2

declare -A CMD=(
  [find]="find $TREE -type f"
  [find_stat]="find $TREE -type f -printf '%s %T@ %p\\n'"
  [ls_R]="$BIN ls -R $TREE"
  [ls_Rl]="$BIN ls -R -l $TREE"
  [ls_R_json]="$BIN ls -R --json $TREE"
  [fileseq]="python3 bench/ls/fileseq_walk.py $TREE"
  [lsseq]="lsseq -R $TREE"
)
ORDER=(find find_stat ls_R ls_Rl ls_R_json fileseq lsseq)
# Warm the page cache so every tool sees the same (cached) metadata.
find "$TREE" -type f >/dev/null
for name in "${ORDER[@]}"; do
  hyperfine -N --style none --warmup 1 --runs "$RUNS" --output null \
    --export-json "$OUT/ls-$name.json" "${CMD[$name]}" >/dev/null
done
python3 - "$OUT" "${ORDER[@]}" <<'PY'
import json, sys
out, names = sys.argv[1], sys.argv[2:]
res = {n: json.load(open(f"{out}/ls-{n}.json"))["results"][0] for n in names}
best = {n: min(r["times"]) for n, r in res.items()}
cpu = {n: r["user"] + r["system"] for n, r in res.items()}
med = {n: r["median"] for n, r in res.items()}
label = {"find": "find DIR -type f", "find_stat": "find DIR -type f -printf (stat)",
         "ls_R": "shotline ls -R", "ls_Rl": "shotline ls -R -l",
         "ls_R_json": "shotline ls -R --json", "fileseq": "fileseq findSequencesOnDisk loop",
         "lsseq": "lsseq -R"}
print("| command | wall s (best) | wall s (median) | CPU s (user+sys) | best vs find | median vs find | fileseq / this (best) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for n in names:
    t = best[n]
    print(f"| `{label[n]}` | {t:.3f} | {med[n]:.3f} | {cpu[n]:.3f} | {t / best['find']:.2f}x "
          f"| {med[n] / med['find']:.2f}x | {best['fileseq'] / t:.1f}x |")
PY
