#!/usr/bin/env bash
# Benchmark: `shotline ingest` (hash while copying, fsync, read-back verification, atomic rename,
# MHL, sidecar, thumbnail, ledger) vs `cp -r`, `cp -r` + `sync`, and `rsync -a` of the same
# delivery tree, as ratios in one run. Both verification modes are measured: `--verify cache`
# (re-read through the page cache) and the default `--verify storage` (cached pages dropped,
# re-read from the disk).
#
# The delivery (default 400 real DPX frames of ~5 MB, 2 GB) is generated once with ffmpeg and
# cached in bench/out/ingest/delivery. Page caches cannot be dropped here (no root on the hosts
# we run on), so the source is read once before the runs: every tool reads it from the page
# cache alike, and `sync` runs between tools so no run pays for the previous one's dirty pages.
# Note the asymmetry: `cp -r` and `rsync -a` leave data in the page cache unsynced and never read
# it back; shotline fsyncs every file and re-reads it after dropping its cached pages.
#
# Usage: bench/ingest.sh [FRAMES]   (env RUNS=3 repetitions, THREADS=N for --threads, NO_BUILD=1)
set -euo pipefail
cd "$(dirname "$0")/.."

FRAMES=${1:-${FRAMES:-400}}
RUNS=${RUNS:-3}
OUT=bench/out/ingest
SRC=$OUT/delivery
BIN=target/release/shotline
for t in ffmpeg rsync cp python3; do
    command -v "$t" >/dev/null || { echo "bench/ingest.sh: $t is required" >&2; exit 2; }
done

# NO_BUILD=1 reuses an existing release binary (other crates of the workspace may be mid-edit).
if [ -z "${NO_BUILD:-}" ] || [ ! -x "$BIN" ]; then
    cargo build --release -q -p shotline
fi
if [ ! -f "$OUT/.frames-$FRAMES" ]; then
    rm -rf "$SRC"
    mkdir -p "$SRC/SQ010"
    # 1184x720 RGB 16-bit DPX = 5.1 MB per frame, every frame different.
    ffmpeg -v error -nostdin -f lavfi -i "testsrc2=size=1184x720:rate=24" -frames:v "$FRAMES" \
        -pix_fmt rgb48be -c:v dpx -start_number 1001 "$SRC/SQ010/SH020_bg01.%04d.dpx"
    touch "$OUT/.frames-$FRAMES"
fi
BYTES=$(du -sb "$SRC" | cut -f1)
echo "delivery: $FRAMES frames, $((BYTES / 1000000)) MB in $SRC; $(nproc) cores; runs: $RUNS"
cat "$SRC"/SQ010/*.dpx > /dev/null   # warm the page cache for every tool alike

now() { date +%s.%N; }
declare -A BEST
run() { # name, command...
    local name=$1; shift
    local best=""
    for i in $(seq "$RUNS"); do
        rm -rf "$OUT/dst"; mkdir -p "$OUT/dst"; sync
        local t0 t1
        t0=$(now); "$@" >/dev/null; t1=$(now)
        local d; d=$(python3 -c "print($t1-$t0)")
        best=$(python3 -c "print(min(float('$d'), float('${best:-1e9}')))")
    done
    BEST[$name]=$best
    printf '  %-34s %7.2f s  %7.0f MB/s\n' "$name" "$best" "$(python3 -c "print($BYTES/1e6/$best)")"
}

PROJ=$OUT/dst/project
ingest() { # verify mode
    mkdir -p "$PROJ"
    printf 'project:\n  code: BENCH\n' > "$PROJ/shotline.yaml"
    (cd "$PROJ" && "$OLDPWD/$BIN" -q ingest --verify "$1" ${THREADS:+--threads $THREADS} \
        "$OLDPWD/$SRC")
}
cp_sync() { cp -r "$SRC" "$OUT/dst/copy" && sync; }

echo "best of $RUNS (wall time):"
run "cp -r" cp -r "$SRC" "$OUT/dst/copy"
run "cp -r + sync" cp_sync
run "rsync -a" rsync -a "$SRC/" "$OUT/dst/copy/"
run "shotline ingest --verify cache" ingest cache
run "shotline ingest (verify storage)" ingest storage

# Correctness of the last ingest: every frame copied, MHL verifies with the reference tool.
VDIR=$PROJ/shots/SQ010/SH020/PLATE/bg01_v001
N=$(find "$VDIR" -name '*.dpx' | wc -l)
[ "$N" -eq "$FRAMES" ] || { echo "expected $FRAMES frames in $VDIR, found $N" >&2; exit 1; }
if command -v ascmhl-debug >/dev/null; then
    ascmhl-debug verify "$VDIR" >/dev/null && echo "ascmhl-debug verify: OK"
fi

python3 - "${BEST[cp -r]}" "${BEST[cp -r + sync]}" "${BEST[rsync -a]}" \
    "${BEST[shotline ingest --verify cache]}" "${BEST[shotline ingest (verify storage)]}" <<'PY'
import sys
cp, cps, rs, sc, ss = map(float, sys.argv[1:])
print("\nratios (shotline ingest / tool; goal <= 1.3 vs cp -r):")
print(f"  {'':18}{'verify cache':>14}{'verify storage':>16}")
for name, t in (("vs cp -r", cp), ("vs cp -r + sync", cps), ("vs rsync -a", rs)):
    print(f"  {name:18}{sc/t:13.2f}x{ss/t:15.2f}x")
PY
rm -rf "$OUT/dst"
