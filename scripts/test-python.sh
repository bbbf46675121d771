#!/usr/bin/env bash
# The Python module's tests: `pip install ./crates/python` (PEP 517, maturin build backend) into a fresh venv
# under target/, runs the pytest suite (fileseq as the reference) and imports the same wheel in
# Blender's own Python, headless. Under CI a missing tool (cargo, blender) fails the step;
# outside CI it is skipped with a note.
set -euo pipefail
cd "$(dirname "$0")/.."

missing() {
  if [[ -n "${CI:-}" ]]; then echo "test-python: $1 is required under CI" >&2; exit 1; fi
  echo "test-python: $1 not found; skipping ($2)" >&2
}

VENV=target/python-test-venv
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q fileseq pytest
if ! command -v cargo >/dev/null 2>&1; then
  missing cargo "the Python module tests"; exit 0
fi
echo "== pip install ./crates/python (PEP 517: maturin is the build backend, fetched from PyPI)"
# What a user types in a checkout: pip builds the abi3 wheel with maturin in an isolated build
# environment, from the workspace, and installs it. A dev profile keeps the test build quick;
# `pip install ./crates/python` alone builds release.
MATURIN_PEP517_ARGS="--profile dev" "$VENV/bin/python" -m pip install -q ./crates/python
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md, pathlib, shotline, shotline._shotline as ext
so = pathlib.Path(ext.__file__).name
assert ".abi3." in so, f"not an abi3 extension: {so}"
print("installed shotline", md.version("shotline"), "as", so)
PY

echo "== pytest crates/python/tests"
# After scripts/test.sh's `cargo test` this is a no-op: the same targets and features.
cargo build -q --workspace --all-targets --locked --features shotline/test-hooks
SHOTLINE_BIN=$PWD/target/debug/shotline "$VENV/bin/python" -m pytest -q crates/python/tests

echo "== the wheel inside Blender's Python"
if ! command -v blender >/dev/null 2>&1; then
  missing blender "the DCC import check"; exit 0
fi
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
EXPR="import sys; sys.path.insert(0, '$SITE'); import shotline
fs = shotline.FrameSet('1001-1100x2')
print('SHOTLINE-DCC', sys.version_info[:2] >= (3, 8), len(fs), fs.invertedFrameRange(), shotline.FrameSet('1-3') | '5')"
out=$(blender -b --factory-startup --python-exit-code 1 --python-expr "$EXPR" 2>&1) || {
  echo "$out" >&2; echo "test-python: Blender could not import the wheel" >&2; exit 1; }
line=$(grep '^SHOTLINE-DCC' <<<"$out" || true)
if [[ "$line" != "SHOTLINE-DCC True 50 1002-1098x2 1-3,5" ]]; then
  echo "$out" >&2; echo "test-python: unexpected output in Blender: '$line'" >&2; exit 1
fi
echo "blender: $line"
