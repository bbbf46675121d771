#!/usr/bin/env bash
# shotline's main job on the example show: build, generate the show (real frames with planted
# problems), list its sequences, probe its media and validate every shot.
# Exits 0 when shotline found exactly the kind of problems planted; non-zero otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked --quiet
bin="$PWD/target/release/shotline"
examples/make-show.sh examples/show >/dev/null
cd examples/show

run() { echo; echo "\$ shotline $*"; "$bin" "$@"; }
run ls -R demo
set +e
run probe -R demo/shots/SH010
run validate
rc=$?
set -e
echo
if [[ $rc -eq 1 ]]; then
  echo "validate exited 1: it found the problems planted in the example show (see examples/make-show.sh)."
  exit 0
fi
echo "validate exited $rc; expected 1 (problems found)" >&2
exit 1
