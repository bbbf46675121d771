#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: installs what is missing, then formatting,
# lints and every test (unit, integration against the real binary, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --tests

# A real single-node Slurm cluster for the farm tests, stopped however this script ends.
eval "$(scripts/slurm.sh start)"
# A private PostgreSQL server: the store's and the tracking CLI's tests run on it as well
# (SHOTLINE_TEST_PG; each test creates its own database).
eval "$(scripts/pg.sh start)"
trap 'scripts/pg.sh stop; scripts/slurm.sh stop' EXIT

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked --features shotline/test-hooks -- -D warnings
echo "== cargo test (with the test-only hooks: crash tests pause at exact points)"
cargo test --workspace --locked --features shotline/test-hooks

# ---------------------------------------------------------------------------------------------
# The Python module (crates/python): wheel, pytest against fileseq, import inside Blender.
echo "== python module"
scripts/test-python.sh
