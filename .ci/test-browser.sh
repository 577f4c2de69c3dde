#!/usr/bin/env bash
# Browser SDK suite: builds @spoor/browser (sdk-wasm/build.sh) and the relay
# binary, then runs the tests in real headless Chromium (/usr/bin/chromium,
# driven by playwright-core) against a real relay on loopback. The tests start
# the relay, a static server and Chromium themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

cargo build -p spoor-cli --locked
export SPOOR_BIN="$target_dir/debug/spoor"
bash sdk-wasm/build.sh
# The package must pack into a tarball a page can import.
(cd sdk-wasm/npm && npm pack --dry-run --json >/dev/null)
cd sdk-wasm
node --test --test-concurrency=1 --test-timeout=120000 test/*.test.mjs
