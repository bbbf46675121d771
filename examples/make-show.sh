#!/usr/bin/env bash
# Generates the example show: small but real EXR, DPX, PNG frames and a QuickTime movie, made
# by ffmpeg, in the default `shots` layout (shots/<shot>/<step>/v<version>/, the tree ingest
# writes; docs/layout.md), with problems planted
# on purpose so that `shotline validate` has something to find:
#   SH010 comp   : frame 1013 missing, frame 1020 truncated
#   SH020 comp   : frame 1007 zero bytes, an unexpected notes.txt
#   SH030 plate  : resolution changes at frame 1006
# Usage: examples/make-show.sh [OUT_DIR]   (default: examples/show; re-running replaces it)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/show}"
command -v ffmpeg >/dev/null || { echo "make-show: ffmpeg is required (scripts/setup.sh installs it)" >&2; exit 2; }

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cp "$here/shotline.yaml" "$out.tmp/shotline.yaml"
shots="$out.tmp/shots"

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
src() { echo "testsrc2=size=$1:rate=24,format=$2"; }

# SH010: a 24-frame EXR comp (ZIP16, half float) and a clean lighting render.
d="$shots/SH010/comp/v001"; mkdir -p "$d"
ff -f lavfi -i "$(src 64x36 gbrpf32le)" -frames:v 24 -c:v exr -compression zip16 -format half \
   -start_number 1001 "$d/SH010_comp_v001.%04d.exr"
rm "$d/SH010_comp_v001.1013.exr"
truncate -s 600 "$d/SH010_comp_v001.1020.exr"
d="$shots/SH010/lighting/v003"; mkdir -p "$d"
ff -f lavfi -i "$(src 64x36 gbrapf32le)" -frames:v 24 -c:v exr -compression rle \
   -start_number 1001 "$d/SH010_lighting_v003.%04d.exr"

# SH020: a 10-bit DPX comp with a zero-byte frame, and a stray file.
d="$shots/SH020/comp/v002"; mkdir -p "$d"
ff -f lavfi -i "$(src 64x36 gbrp10le)" -frames:v 12 -c:v dpx -start_number 1001 "$d/SH020_comp_v002.%04d.dpx"
: > "$d/SH020_comp_v002.1007.dpx"
echo "call the vendor about 1007" > "$d/notes.txt"

# SH030: PNG plate whose resolution changes half-way, and a review movie with a timecode.
d="$shots/SH030/plate/v001"; mkdir -p "$d"
ff -f lavfi -i "$(src 64x36 rgb24)" -frames:v 5 -start_number 1001 "$d/SH030_plate_v001.%04d.png"
ff -f lavfi -i "$(src 48x27 rgb24)" -frames:v 5 -start_number 1006 "$d/SH030_plate_v001.%04d.png"
d="$shots/SH030/review/v001"; mkdir -p "$d"
ff -f lavfi -i "$(src 64x36 yuv420p)" -frames:v 24 -c:v mjpeg -timecode 01:00:00:00 "$d/SH030_review_v001.mov"

rm -rf "$out"
mv "$out.tmp" "$out"
echo "example show written to $out"
