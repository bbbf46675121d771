#!/usr/bin/env bash
# Benchmark: `shotline review` vs the same ffmpeg encode typed by hand (same preset, same
# filters: sRGB transfer, letterbox, six burn-ins, slate, thumbnail) on N frames (default 500).
# Goal: shotline within 1.1x of the hand-typed encode (its own work negligible next to ffmpeg).
# Needs ffmpeg, fc-match and hyperfine. Usage: bench/review.sh [N] [WIDTHxHEIGHT]
# SHOTLINE_BIN=path uses that binary instead of building a release one.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-${N:-500}}
SIZE=${2:-320x180}
W=${SIZE%x*}
H=${SIZE#*x}
OUT=bench/out/review
BIN=${SHOTLINE_BIN:-$PWD/target/release/shotline}
for t in hyperfine ffmpeg; do
    command -v "$t" >/dev/null || { echo "bench/review.sh: $t is required" >&2; exit 2; }
done
[ -n "${SHOTLINE_BIN:-}" ] || cargo build --release -q -p shotline

rm -rf "$OUT" && mkdir -p "$OUT/proj/renders/SH010/comp/v001"
FR="$OUT/proj/renders/SH010/comp/v001"
ffmpeg -v error -f lavfi -i "testsrc2=s=${SIZE}:r=24" -frames:v "$N" -start_number 1001 "$FR/comp.%04d.png"
cd "$OUT/proj"
export SHOTLINE_USER=bench NO_COLOR=1
"$BIN" -q init --code BENCH --width "$W" --height "$H" --fps 24 >/dev/null
"$BIN" -q step add COMP --kind shot >/dev/null
"$BIN" -q shot add SH010 --in 1001 --out $((1000 + N)) >/dev/null
"$BIN" -q publish --shot SH010 --step COMP "renders/SH010/comp/v001/comp.%04d.png" >/dev/null
cat >> shotline.yaml <<'YAML'
review:
  default_preset: h264
YAML

# What shotline asks ffmpeg to do, typed by hand: the same inputs, graph and encoder settings.
mkdir -p hand && cd hand
for i in $(seq 0 $((N - 1))); do ln -sf "../renders/SH010/comp/v001/comp.$((1001 + i)).png" "$(printf 'f%08d.png' "$i")"; done
ln -sf "../renders/SH010/comp/v001/comp.$((1001 + N / 2)).png" still.png
ln -sf "$(fc-match -f '%{file}' 'DejaVu Sans:style=Book')" font.ttf
printf 'BENCH SH010\n' > slot0.txt; printf 'COMP v001\n' > slot1.txt; printf 'bench 2026-01-01\n' > slot2.txt
printf '1001-%d\n' $((1000 + N)) > slot3.txt
printf '%%{eif:mod(trunc((n+0)/86400),24):d:2}:%%{eif:mod(trunc((n+0)/1440),60):d:2}:%%{eif:mod(trunc((n+0)/24),60):d:2}:%%{eif:mod(n+0,24):d:2}' > slot4.txt
printf '%%{eif:n+(1001):d}' > slot5.txt
printf 'Project BENCH\nShot SH010\n' > slate.txt
FS=$(( H / 28 > 8 ? H / 28 : 8 )); M=$(( H / 40 > 2 ? H / 40 : 2 )); SFS=$(( H / 24 > 6 ? H / 24 : 6 ))
DT="fontfile=font.ttf:fontsize=$FS:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=2"
FIT="scale=$W:$H:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=$W:$H:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1"
cat > graph.txt <<G
[0:v]$FIT,drawtext=textfile=slot0.txt:$DT:x=$M:y=$M,drawtext=textfile=slot1.txt:$DT:x=(w-text_w)/2:y=$M,drawtext=textfile=slot2.txt:$DT:x=w-text_w-$M:y=$M,drawtext=textfile=slot3.txt:$DT:x=$M:y=h-text_h-$M,drawtext=textfile=slot4.txt:$DT:x=(w-text_w)/2:y=h-text_h-$M,drawtext=textfile=slot5.txt:$DT:x=w-text_w-$M:y=h-text_h-$M[pic];
[1:v]$FIT,split=2[still][thumb];
color=c=0x202020:s=${W}x${H}:r=24/1,trim=end_frame=1,setsar=1[bg];
[still]scale=$((W / 2)):$((H / 2)):force_original_aspect_ratio=decrease:force_divisible_by=2[small];
[bg][small]overlay=x=W-w-$M:y=H-h-$M,drawtext=fontfile=font.ttf:textfile=slate.txt:fontsize=$SFS:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=2:x=$M:y=$M[slate];
[slate][pic]concat=n=2:v=1:a=0,format=yuv420p[movie]
G
HAND="ffmpeg -y -hide_banner -nostdin -nostats -v error -framerate 24/1 -start_number 0 -i f%08d.png -i still.png -filter_complex_script graph.txt -map [movie] -frames:v $((N + 1)) -c:v libx264 -preset medium -movflags +faststart -pix_fmt yuv420p -crf 18 -timecode 23:59:59:23 -f mp4 hand.mp4 -map [thumb] -frames:v 1 -update 1 -c:v mjpeg -f image2 hand.jpg"
cd ..

echo "frames: $N at $SIZE, $(nproc) cores"
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-json review-results.json \
    -n "ffmpeg by hand" "cd hand && $HAND" \
    -n "shotline review" \
    --prepare "rm -rf renders/SH010/comp/review" \
    "$BIN -q review --shot SH010 --step COMP --latest"
