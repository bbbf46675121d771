#!/usr/bin/env bash
# Benchmark: `shotline scene audit` of a 5,000-Read Nuke script (2 MB) and a 20 MB Maya ASCII
# scene (mesh data, 2,000 file textures, 100 references) against a project of 1,000 shots ×
# 10 plate versions (10,000 registered versions, 50,000 frame files), every path a Windows
# path mapped through paths.map. Time (hyperfine, and /usr/bin/time -v for peak memory) is
# compared with `grep` reading the same text (the floor) and with the script a pipeline TD
# writes: a regex over the file, then an SQLite query and a folder listing per node.
# The project is generated once and cached under bench/out/scene-project (gitignored).
# Usage: [CARGO_TARGET_DIR=target/bench] bench/scene.sh [RUNS]   (default 5). Needs hyperfine,
# python3, /usr/bin/time. SHOTLINE_BIN measures another binary (a previous commit's) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
OUT=bench/out
P=$OUT/scene-project
RES=$OUT/scene-results
mkdir -p "$OUT" "$RES"
for t in hyperfine python3 /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "bench/scene.sh: $t is required" >&2; exit 2; }
done
# CARGO_TARGET_DIR is honoured (a separate release folder keeps the debug build intact).
T=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p shotline
cargo build --release -q -p shotline-scene --example make_scene_bench
if [ ! -f "$P/.complete" ]; then
    rm -rf "$P"
    start=$(date +%s.%N)
    "$T/release/examples/make_scene_bench" "$P"
    echo "generated in $(echo "$(date +%s.%N) - $start" | bc) s" >&2
    touch "$P/.complete"
fi
P=$(cd "$P" && pwd)
BIN=${SHOTLINE_BIN:-$(cd "$T/release" && pwd)/shotline}
export SHOTLINE_CONFIG=$P/shotline.yaml
echo "$(du -h "$P/bench.nk" | cut -f1) .nk, $(du -h "$P/bench.ma" | cut -f1) .ma; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# The ad-hoc script a scene audit replaces: regex, then one query and one listing per node.
cat > "$RES/naive.py" <<'PY'
import os, re, sqlite3, sys
root, scene = sys.argv[1], sys.argv[2]
db = sqlite3.connect(os.path.join(root, ".shotline/shotline.db"))
pat = re.compile(r'(?:file|setAttr "\.ftn" -type "string")\s+"([^"]+)"')
outdated = 0
with open(scene, encoding="utf-8", errors="replace") as f:
    for line in f:
        for m in pat.finditer(line):
            p = m.group(1).replace("\\\\", "/").replace("\\", "/").replace("P:/bench/", root + "/")
            d = os.path.dirname(p)
            if not os.path.isdir(d):
                continue
            os.listdir(d)
            row = db.execute("SELECT v.item_id, v.step_id, v.number FROM versions v JOIN file_sequences f ON f.id = v.files_id WHERE f.dir = ?", (d,)).fetchone()
            if row:
                top = db.execute("SELECT max(number) FROM versions WHERE item_id = ? AND step_id = ?", row[:2]).fetchone()[0]
                outdated += top > row[2]
print(outdated)
PY

# Correctness first: every node found, the planted outdated versions reported. The empty
# scene's peak memory is the floor (the binary and the 10,000-version index): the rest is what
# reading a scene costs.
printf '//Maya ASCII 2024 scene\n' > "$P/empty.ma"
for s in nk ma empty; do
    f="$P/bench.$s"
    [ "$s" = empty ] && f="$P/empty.ma"
    "$BIN" --quiet --json scene audit "$f" > "$RES/$s.json" || true
    /usr/bin/time -v "$BIN" --quiet --json scene audit "$f" 2> "$RES/$s.time" > /dev/null || true
done
python3 - "$RES" <<'PY'
import json, sys
res = sys.argv[1]
for s, nodes in (("nk", 5001), ("ma", 2100), ("empty", 0)):
    d = json.load(open(f"{res}/{s}.json"))
    assert d["summary"]["nodes"] == nodes, d["summary"]
    assert nodes == 0 or d["summary"]["by_code"].get("outdated", 0) > 0, d["summary"]
    print(f"{s}: {d['summary']['nodes']} nodes, {d['summary']['by_code']}", file=sys.stderr)
PY

hyperfine -N --style none -i --warmup 1 --runs "$RUNS" --export-json "$RES/shotline.json" \
    -n "shotline scene audit bench.nk" "$BIN --quiet --json scene audit $P/bench.nk" \
    -n "shotline scene audit bench.ma" "$BIN --quiet --json scene audit $P/bench.ma" \
    -n "shotline scene audit empty.ma" "$BIN --quiet --json scene audit $P/empty.ma" \
    -n "grep -c file bench.nk" "grep -c file $P/bench.nk" \
    -n "grep -c file bench.ma" "grep -c file $P/bench.ma" \
    -n "python per-node script bench.nk" "python3 $RES/naive.py $P $P/bench.nk" \
    -n "python per-node script bench.ma" "python3 $RES/naive.py $P $P/bench.ma" >/dev/null

python3 - "$RES" <<'PY'
import json, re, sys
res = sys.argv[1]
rows = {r["command"]: r for r in json.load(open(f"{res}/shotline.json"))["results"]}
def rss(s):
    t = open(f"{res}/{s}.time").read()
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
print(f"peak RSS of an empty scene (binary + 10,000-version index): {rss('empty'):.0f} MiB")
print("| scene | shotline wall mean / min (s) | user + sys CPU (s) | peak RSS | grep (floor) | python per-node script wall (s) | shotline faster by |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for s in ("nk", "ma"):
    a = rows[f"shotline scene audit bench.{s}"]
    g = rows[f"grep -c file bench.{s}"]
    py = rows[f"python per-node script bench.{s}"]
    print(f"| bench.{s} | {a['mean']:.3f} / {a['min']:.3f} | {a['user']:.3f} + {a['system']:.3f} | {rss(s):.0f} MiB | {g['mean']:.4f} | {py['mean']:.3f} | {py['mean']/a['mean']:.1f}× |")
e = rows["shotline scene audit empty.ma"]
print(f"| empty.ma | {e['mean']:.3f} / {e['min']:.3f} | {e['user']:.3f} + {e['system']:.3f} | {rss('empty'):.0f} MiB | — | — | — |")
PY
