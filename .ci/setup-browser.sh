#!/usr/bin/env bash
# Tools for the browser SDK (sdk-wasm, @spoor/browser) and its tests in headless Chromium.
# Idempotent: each tool is checked first and installed only when missing or of the wrong version.
set -euo pipefail
cd "$(dirname "$0")/.."

# The CLI must be exactly the wasm-bindgen version in Cargo.lock (pinned `=X` in Cargo.toml).
wasm_bindgen_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
[ -n "$wasm_bindgen_version" ] || { echo "no wasm-bindgen in Cargo.lock" >&2; exit 1; }

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "wasm32-unknown-unknown: present"
else
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null || true)" = "wasm-bindgen $wasm_bindgen_version" ]; then
  echo "wasm-bindgen $wasm_bindgen_version: present"
else
  # --locked first; the registry mirror here lacks some crate versions of the CLI's own lockfile
  # (webpki-roots 1.0.11), so fall back to a fresh resolution of the same CLI version.
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --locked ||
    cargo install wasm-bindgen-cli --version "$wasm_bindgen_version"
fi

if [ -x /usr/bin/chromium ]; then
  echo "chromium: present ($(/usr/bin/chromium --version 2>/dev/null || echo unknown version))"
else
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
fi

# wasm-opt (npm binaryen; Debian's binaryen writes WASM that fails to load) and playwright-core
# (drives /usr/bin/chromium; it never downloads a browser here).
if [ -x sdk-wasm/node_modules/.bin/wasm-opt ] && [ -d sdk-wasm/node_modules/playwright-core ] &&
  [ sdk-wasm/node_modules/.package-lock.json -nt sdk-wasm/package-lock.json ]; then
  echo "sdk-wasm node_modules: present"
else
  (cd sdk-wasm && npm ci --no-audit --no-fund)
fi
