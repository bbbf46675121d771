#!/usr/bin/env bash
# Benchmark: dispatch overhead of the render queue. 2,000 one-frame tasks of a trivial command
# (`true`) at concurrency 2 through `shotline render worker --until-idle` (every task claimed,
# started in its own process group, logged, exit recorded in SQLite) versus
# `seq 2000 | xargs -P2 -n1 true` running the same commands. Goal: within 1.5x of xargs.
# Usage: bench/render.sh [RUNS] [TASKS]   (best of RUNS, default 3; TASKS default 2000).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
TASKS=${2:-2000}
cargo build --release -q -p shotline
BIN=$PWD/target/release/shotline
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
now() { date +%s.%N; }
echo "$TASKS tasks of 'true' at concurrency 2; $(nproc) CPUs; best of $RUNS" >&2

best_xargs=
best_queue=
best_submit=
for run in $(seq "$RUNS"); do
  t0=$(now)
  seq "$TASKS" | xargs -P2 -n1 true
  t1=$(now)
  x=$(echo "$t1 - $t0" | bc -l)

  proj="$WORK/run$run"
  mkdir -p "$proj"
  printf 'render:\n  max_concurrent: 2\n' > "$proj/shotline.yaml"
  s0=$(now)
  (cd "$proj" && "$BIN" -q render submit --frames "1-$TASKS" --chunk 1 --threads 1 --name bench -- true >/dev/null)
  s1=$(now)
  (cd "$proj" && "$BIN" -q render worker --until-idle --max-concurrent 2)
  s2=$(now)
  done_tasks=$(cd "$proj" && "$BIN" render status bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tasks"]["done"])')
  [ "$done_tasks" = "$TASKS" ] || { echo "only $done_tasks of $TASKS tasks done" >&2; exit 1; }
  q=$(echo "$s2 - $s1" | bc -l)
  s=$(echo "$s1 - $s0" | bc -l)
  echo "run $run: xargs ${x}s, queue worker ${q}s (submit ${s}s)" >&2
  best_xargs=$(python3 -c "print(min(float(v) for v in '$best_xargs $x'.split()))")
  best_queue=$(python3 -c "print(min(float(v) for v in '$best_queue $q'.split()))")
  best_submit=$(python3 -c "print(min(float(v) for v in '$best_submit $s'.split()))")
done
python3 - "$best_xargs" "$best_queue" "$best_submit" "$TASKS" <<'PY'
import sys
x, q, s, n = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"| command | best of runs (s) | per task (ms) | vs xargs |")
print(f"| --- | ---: | ---: | ---: |")
print(f"| seq {n} \\| xargs -P2 -n1 true | {x:.3f} | {x / n * 1000:.2f} | 1.00x |")
print(f"| shotline render worker --until-idle (concurrency 2) | {q:.3f} | {q / n * 1000:.2f} | {q / x:.2f}x |")
print(f"| shotline render submit ({n} tasks, once) | {s:.3f} | | |")
print(f"ratio queue/xargs: {q / x:.2f}x (goal <= 1.5x)")
PY
