#!/usr/bin/env bash
# spoor-core is sans-IO and must build for wasm32-unknown-unknown (no getrandom, no clock, no sqlite).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p spoor-core --target wasm32-unknown-unknown --locked
# Without `std`, as the browser SDK builds it (`no_std` + `alloc`).
cargo build -p spoor-core --target wasm32-unknown-unknown --no-default-features --locked
echo "spoor-core builds for wasm32-unknown-unknown (with and without std)"
