#!/usr/bin/env bash
# shotline's main job on the example show: build, generate the show (real frames with planted
# problems), list its sequences, probe its media, report disk usage and validate every shot.
# Exits 0 when validate reports every problem planted (by code); non-zero otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked --quiet
bin="$PWD/target/release/shotline"
examples/make-show.sh examples/show >/dev/null
cd examples/show

run() { echo; echo "\$ shotline $*"; "$bin" "$@"; }
run ls -R shots
set +e
run probe -R --summary shots
run disk
run validate
rc=$?
set -e
echo
if [[ $rc -ne 1 ]]; then
  echo "demo: validate exited $rc; expected 1 (problems found)" >&2
  exit 1
fi
# Every planted problem must be reported, with its stable code.
report="$("$bin" validate --json || true)"
for code in missing-frames truncated zero-byte resolution-change unexpected-file; do
  if ! grep -Eq "\"code\": ?\"$code\"" <<<"$report"; then
    echo "demo: validate did not report the planted $code problem" >&2
    exit 1
  fi
done
echo "demo: validate found every problem planted in the example show (see examples/make-show.sh)."
