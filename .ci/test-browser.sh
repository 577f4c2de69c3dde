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
# The pages load the package from its `npm pack` tarball, unpacked: what a site installs.
pack_dir="$(mktemp -d)"
trap 'rm -rf "$pack_dir"' EXIT
(cd sdk-wasm/npm && npm pack --silent --pack-destination "$pack_dir" >/dev/null)
tar -xzf "$pack_dir"/spoor-browser-*.tgz -C "$pack_dir"
export SPOOR_PACKAGE_DIR="$pack_dir/package"
cd sdk-wasm
node --test --test-concurrency=1 --test-timeout=120000 test/*.test.mjs
