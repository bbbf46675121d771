#!/usr/bin/env bash
# Benchmark: the `shotline` Python module against fileseq in the same interpreter:
#   1. parsing 10,000 frame-range strings (FrameSet(s) and len());
#   2. finding every sequence in the `bench/ls` tree (200 shots x 10 sequences x 100 frames,
#      200,198 files): shotline.find_sequences(root, recursive=True) against fileseq's
#      findSequencesOnDisk over every directory os.walk finds.
# Usage: bench/python.sh [RUNS] [SHOTS]   (best of RUNS, default 5; SHOTS default 200).
# Builds a release wheel into a venv under target/bench-python-venv. Needs maturin and fileseq.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
SHOTS=${2:-200}
OUT=bench/out
TREE=$OUT/ls-tree
[[ $SHOTS != 200 ]] && TREE=$OUT/ls-tree-$SHOTS
VENV=target/bench-python-venv
mkdir -p "$OUT"
python3 bench/ls/gen_tree.py "$TREE" "$SHOTS"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q maturin fileseq
rm -rf target/wheels-bench
"$VENV/bin/maturin" build --release -q -m crates/python/Cargo.toml -o target/wheels-bench
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps target/wheels-bench/*.whl
echo "tree: $(find "$TREE" -type f | wc -l) files; $(nproc) CPUs; load $(cut -d" " -f1-3 /proc/loadavg); best of $RUNS" >&2
"$VENV/bin/python" - "$TREE" "$RUNS" <<'PY'
import os, random, sys, time
import fileseq, shotline

tree, runs = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
def expr():
    parts = []
    for _ in range(rng.randint(1, 4)):
        a = rng.randint(-100, 5000); b = a + rng.randint(0, 200)
        parts.append(rng.choice([f"{a}", f"{a}-{b}", f"{a}-{b}x{rng.randint(2, 9)}",
                                 f"{b}-{a}", f"{a}-{b}y{rng.randint(2, 9)}"]))
    return ",".join(parts)
exprs = [expr() for _ in range(10_000)]

def best(fn):
    times = []
    for _ in range(runs):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return min(times)

def fileseq_walk():
    n = 0
    for d, dirs, _ in os.walk(tree):
        dirs.sort()
        n += len(fileseq.findSequencesOnDisk(d))
    return n

rows = [
    ("parse 10,000 frame ranges + len()",
     best(lambda: [len(fileseq.FrameSet(e)) for e in exprs]),
     best(lambda: [len(shotline.FrameSet(e)) for e in exprs])),
    ("find every sequence in the tree",
     best(fileseq_walk),
     best(lambda: shotline.find_sequences(tree, recursive=True))),
]
assert sum(1 for s in shotline.find_sequences(tree, recursive=True)) == sum(
    1 for d, _, _ in os.walk(tree) for s in fileseq.findSequencesOnDisk(d) if s.frameSet())
print("| task | fileseq s (best) | shotline s (best) | speed-up |")
print("| --- | ---: | ---: | ---: |")
for name, ref, ours in rows:
    print(f"| {name} | {ref:.3f} | {ours:.4f} | {ref / ours:.1f}x |")
PY
