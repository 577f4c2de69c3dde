#!/usr/bin/env bash
# Runs every test of Spoor. This is the test command README.md gives, and what
# .ci/run calls on a fresh machine: it installs what the tests need (each
# .ci/setup-*.sh checks first and installs only what is missing), checks
# formatting and lints, runs the Rust tests, then every .ci/test-*.sh (the
# browser, mobile and other suites driven by non-Rust runners).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

section() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

section toolchain
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

for setup in .ci/setup-*.sh; do
  [ -e "$setup" ] || continue
  section "setup: $setup"
  bash "$setup"
done

section "cargo fmt --check"
cargo fmt --all -- --check

section "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

section "cargo test"
mkdir -p target
set +e
cargo test --workspace --locked 2>&1 | tee target/test-output.txt
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '[0-9]+ passed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
echo "cargo: $passed passed, $failed failed"
[ "$status" -eq 0 ] || { echo "cargo test failed"; exit "$status"; }

for suite in .ci/test-*.sh; do
  [ -e "$suite" ] || continue
  section "suite: $suite"
  bash "$suite"
done

section "all tests passed in $(( $(date +%s) - started )) s"
