#!/usr/bin/env bash
# Ramses benchmark: listing 2,000 shots with their data from `shotline ramses serve`.
#   batched    `shotline ramses shots`              getProjects + one getObjects&type=RamShot
#   per-object `shotline ramses shots --per-object` getShots, then one getData per shot
#   python     what Ramses-Py's RamDaemonInterface does: getShots, then getData per shot
#              (a connection per query, one recv), the pattern the old add-ons use
# Prints seconds per listing and the ratios; raw JSON lines go to bench/out/ramses/.
#
# Usage: bench/ramses.sh [SHOTS] [RUNS]      (defaults 2000 shots, 3 runs; best run kept)
#        SHOTLINE_BIN=target/debug/shotline bench/ramses.sh   to skip the release build
set -euo pipefail
cd "$(dirname "$0")/.."
shots="${1:-2000}"
runs="${2:-3}"
out=bench/out/ramses
mkdir -p "$out"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
bin="${SHOTLINE_BIN:-}"
if [[ -z "$bin" ]]; then
  echo "== building (release)" >&2
  cargo build --release -q -p shotline --bin shotline
  bin=target/release/shotline
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

work="$(mktemp -d)"
serve_pid=""
cleanup() { [[ -n "$serve_pid" ]] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export SHOTLINE_USER=bench NO_COLOR=1
unset SHOTLINE_DB SHOTLINE_CONFIG

echo "== project with $shots shots in $work" >&2
( cd "$work"
  "$bin" init --code BENCH -q >/dev/null
  "$bin" step add COMP --kind shot -q >/dev/null
  { echo "code,sequence,in,out"
    for ((i = 1; i <= shots; i++)); do printf 'SH%05d,SQ%02d,1001,%d\n' "$i" $((i % 20)) $((1001 + i % 90)); done
  } > shots.csv
  "$bin" shot import shots.csv -q >/dev/null )

"$bin" --config "$work/shotline.yaml" ramses serve --port 0 --json > "$work/serve.out" 2>/dev/null &
serve_pid=$!
for _ in $(seq 100); do [[ -s "$work/serve.out" ]] && break; sleep 0.05; done
port="$(sed -n 's/.*"serving":"[^"]*:\([0-9]*\)".*/\1/p' "$work/serve.out")"
printf 'ramses:\n  port: %s\n  cache_ttl_ms: 0\n' "$port" >> "$work/shotline.yaml"
echo "== ramses serve on port $port" >&2

best() { # best wall time of $runs runs of "$@", stdout discarded; echo seconds and line count
  local b="" n=0
  for ((r = 0; r < runs; r++)); do
    local s e
    s=$(date +%s.%N); n=$("$@" | wc -l); e=$(date +%s.%N)
    local t; t=$(echo "$e - $s" | bc -l)
    if [[ -z "$b" ]] || (( $(echo "$t < $b" | bc -l) )); then b=$t; fi
  done
  echo "$b $n"
}

cd "$work"
read -r t_batch n_batch < <(best "$bin" ramses shots --json)
read -r t_per n_per < <(best "$bin" ramses shots --json --per-object)
py_client() {
  python3 - "$port" <<'PY'
import json, socket, sys
port = int(sys.argv[1])
def post(q):  # as Ramses-Py's __post: connect, sendall, one recv, close
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("localhost", port)); s.sendall(q.encode("utf-8"))
    data = b""
    while True:  # one recv(65536) truncates big replies; read to the end to be fair
        chunk = s.recv(65536)
        if not chunk: break
        data += chunk
    s.close(); return json.loads(data)
proj = post("getCurrentProject")["content"]["uuid"]
for uuid in post("getShots&projectUuid=%s&sequenceUuid=" % proj)["content"]["shots"]:
    print(post("getData&uuid=" + uuid)["content"]["data"])
PY
}
if command -v python3 >/dev/null; then
  read -r t_py n_py < <(best py_client)
else
  t_py=""; n_py=0
fi
cd - >/dev/null

ratio() { echo "scale=1; $1 / $2" | bc -l; }
printf '%-52s %8.3f s  (%d shots)\n' "batched: shotline ramses shots (2 queries)" "$t_batch" "$n_batch" >&2
printf '%-52s %8.3f s  (%d shots)  %sx slower\n' "per-object: shotline ramses shots --per-object" "$t_per" "$n_per" "$(ratio "$t_per" "$t_batch")" >&2
[[ -n "$t_py" ]] && printf '%-52s %8.3f s  (%d shots)  %sx slower\n' "Ramses-Py pattern (python, getData per shot)" "$t_py" "$n_py" "$(ratio "$t_py" "$t_batch")" >&2
{
  echo "{\"bench\":\"ramses_shots_batched\",\"shots\":$n_batch,\"seconds\":$t_batch}"
  echo "{\"bench\":\"ramses_shots_per_object\",\"shots\":$n_per,\"seconds\":$t_per}"
  [[ -n "$t_py" ]] && echo "{\"bench\":\"ramses_shots_python_per_object\",\"shots\":$n_py,\"seconds\":$t_py}"
} > "$out/ramses-$stamp.jsonl"
echo "results: $out/ramses-$stamp.jsonl" >&2
