#!/usr/bin/env bash
# Benchmark: sending a 1,000-chunk job to Slurm. `shotline render submit --farm slurm` (spec
# resolved, 1,000 tasks and attempts in SQLite, the batch script written, ONE `sbatch --array`)
# and the time until every task is visible with its Slurm state in `render status` (one
# `squeue` call read back into the queue), against:
#   - a hand-written `sbatch --array=0-999` of an equivalent script (the floor: Slurm itself);
#   - one `sbatch` per chunk, as a naive farm submitter does (measured on 100, scaled to 1,000).
# Needs a running cluster (scripts/slurm.sh start). Every job it submits is cancelled at the end.
# Usage: bench/farm.sh [RUNS] [TASKS]   (best of RUNS, default 3; TASKS default 1000)
#        SHOTLINE_BIN=target/debug/shotline bench/farm.sh   (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
TASKS=${2:-1000}
NAIVE=100
if [[ -z ${SHOTLINE_BIN:-} ]]; then
  cargo build --release -q -p shotline
  SHOTLINE_BIN=$PWD/target/release/shotline
fi
BIN=$(realpath "$SHOTLINE_BIN")
eval "$(scripts/slurm.sh env)"
sinfo -h >/dev/null || { echo "no Slurm cluster (scripts/slurm.sh start)" >&2; exit 2; }
WORK=$(mktemp -d)
submitted=()
cleanup() {
  [[ ${#submitted[@]} -gt 0 ]] && scancel "${submitted[@]}" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
now() { date +%s.%N; }
min() { python3 -c "import sys; print(min(float(v) for v in sys.argv[1:]))" "$@"; }
echo "$TASKS chunks of 'true' sent to Slurm ($(sinfo -h -o '%D node(s), %c CPUs')); best of $RUNS" >&2

cat > "$WORK/plain.sh" <<'SCRIPT'
#!/bin/bash
true
SCRIPT

b_submit=(); b_visible=(); b_array=(); b_naive=()
for run in $(seq "$RUNS"); do
  proj="$WORK/run$run"
  mkdir -p "$proj"
  # Held (--hold), so the cluster does not start running them while we measure.
  printf 'render:\n  max_concurrent: 4\n  slurm: {sbatch_args: [--hold]}\n' > "$proj/shotline.yaml"
  t0=$(now)
  out=$(cd "$proj" && "$BIN" render submit --farm slurm --json --frames "1-$TASKS" --chunk 1 --name bench -- true)
  t1=$(now)
  array=${out#*\"farm_job\": \"}; array=${array%%\"*}
  submitted+=("$array")
  (cd "$proj" && "$BIN" render status bench --json > "$WORK/status.json")
  t2=$(now)
  seen=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for t in d["task_list"] if t["attempt"] and t["attempt"]["farm_task"]))' "$WORK/status.json")
  [[ $seen == "$TASKS" ]] || { echo "only $seen of $TASKS tasks visible" >&2; exit 1; }
  scancel "$array"

  a0=$(now)
  plain=$(sbatch --parsable --hold --array="0-$((TASKS - 1))%4" -o /dev/null "$WORK/plain.sh")
  squeue -h -r -j "$plain" -o '%i' | wc -l >/dev/null
  a1=$(now)
  submitted+=("$plain")
  scancel "$plain"

  n0=$(now)
  for i in $(seq "$NAIVE"); do
    submitted+=("$(sbatch --parsable --hold -o /dev/null "$WORK/plain.sh")")
  done
  n1=$(now)
  scancel "${submitted[@]}" 2>/dev/null || true

  s=$(echo "$t1 - $t0" | bc -l); v=$(echo "$t2 - $t0" | bc -l)
  a=$(echo "$a1 - $a0" | bc -l); n=$(echo "($n1 - $n0) * $TASKS / $NAIVE" | bc -l)
  echo "run $run: shotline submit ${s}s, all visible ${v}s; sbatch --array + squeue ${a}s; one sbatch per chunk ${n}s (scaled)" >&2
  b_submit+=("$s"); b_visible+=("$v"); b_array+=("$a"); b_naive+=("$n")
done
S=$(min "${b_submit[@]}"); V=$(min "${b_visible[@]}"); A=$(min "${b_array[@]}"); N=$(min "${b_naive[@]}")
printf 'submit %.3fs, every task visible in render status %.3fs\n' "$S" "$V"
printf 'hand-written sbatch --array + squeue: %.3fs  -> shotline/array %.2fx\n' "$A" "$(echo "$V / $A" | bc -l)"
printf 'one sbatch per chunk (naive, scaled from %d): %.3fs  -> naive/shotline %.1fx\n' "$NAIVE" "$N" "$(echo "$N / $V" | bc -l)"
