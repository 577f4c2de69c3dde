#!/usr/bin/env bash
# Builds the npm package @spoor/browser into sdk-wasm/npm/dist:
#   spoor.js             the SDK as one minified ES module (our JS + wasm-bindgen's glue)
#   spoor_wasm_bg.wasm   spoor-core + spoor-wasm, size-optimized by wasm-opt -Oz (SPOOR_WASM_OPT=0: not)
#   index.d.ts           TypeScript types
# Needs what .ci/setup-browser.sh installs (wasm32 target, wasm-bindgen-cli, npm dev deps).
# Usage: sdk-wasm/build.sh [--pack]   (--pack also runs `npm pack` into sdk-wasm/npm)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
npm_dir="$here/npm"
bin="$here/node_modules/.bin"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

for tool in "$bin/wasm-opt" "$bin/esbuild"; do
  [ -x "$tool" ] || { echo "missing $tool: run .ci/setup-browser.sh" >&2; exit 1; }
done
command -v wasm-bindgen >/dev/null || { echo "missing wasm-bindgen: run .ci/setup-browser.sh" >&2; exit 1; }

# Size profile for the browser (the workspace's release profile keeps debug info
# for the servers): measured in BENCHMARKS.md "Browser SDK".
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${SPOOR_WASM_OPT_LEVEL:-z}"
export CARGO_PROFILE_RELEASE_LTO="${SPOOR_WASM_LTO:-true}"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_DEBUG=0
export CARGO_PROFILE_RELEASE_PANIC=abort
export CARGO_PROFILE_RELEASE_STRIP=false
# SPOOR_CARGO_LOCKED= (empty) builds without --locked while the workspace is mid-change.
RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" cargo build -Zbuild-std=std,panic_abort -p spoor-wasm --target wasm32-unknown-unknown --release ${SPOOR_CARGO_LOCKED-"--locked"}

rm -rf "$npm_dir/pkg" "$npm_dir/dist"
mkdir -p "$npm_dir/dist"
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section --out-dir "$npm_dir/pkg" \
  "$target_dir/wasm32-unknown-unknown/release/spoor_wasm.wasm"
# wasm-opt -Oz: on the current core it makes the gzip smaller too (it did not before the core
# shed serde_json's Value; BENCHMARKS.md, "Browser SDK"). SPOOR_WASM_OPT=0 turns it off.
if [ "${SPOOR_WASM_OPT:-1}" = 1 ]; then
  "$bin/wasm-opt" -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-reference-types --enable-multivalue --enable-mutable-globals \
    "$npm_dir/pkg/spoor_wasm_bg.wasm" -o "$npm_dir/dist/spoor_wasm_bg.wasm"
else
  cp "$npm_dir/pkg/spoor_wasm_bg.wasm" "$npm_dir/dist/spoor_wasm_bg.wasm"
fi

version="$(node -p "require('$npm_dir/package.json').version")"
"$bin/esbuild" "$npm_dir/src/index.js" --bundle --format=esm --minify --target=es2020 \
  --define:__SPOOR_VERSION__="\"$version\"" --log-level=warning --outfile="$npm_dir/dist/spoor.js"
cp "$npm_dir/src/index.d.ts" "$npm_dir/dist/index.d.ts"

js=$(wc -c <"$npm_dir/dist/spoor.js")
wasm=$(wc -c <"$npm_dir/dist/spoor_wasm_bg.wasm")
js_gz=$(gzip -9 -c "$npm_dir/dist/spoor.js" | wc -c)
wasm_gz=$(gzip -9 -c "$npm_dir/dist/spoor_wasm_bg.wasm" | wc -c)
echo "@spoor/browser $version: spoor.js $js B ($js_gz B gzip), spoor_wasm_bg.wasm $wasm B ($wasm_gz B gzip), total $((js + wasm)) B ($((js_gz + wasm_gz)) B gzip)"

if [ "${1:-}" = --pack ]; then
  (cd "$npm_dir" && npm pack --silent)
fi
