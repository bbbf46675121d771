#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: installs what is missing, then formatting,
# lints and every test (unit, integration against the real binary, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --tests

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked

# ---------------------------------------------------------------------------------------------
# The Python module (crates/python): wheel, pytest against fileseq, import inside Blender.
echo "== python module"
scripts/test-python.sh
