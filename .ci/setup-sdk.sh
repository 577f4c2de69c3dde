#!/usr/bin/env bash
# The SDK core must build for the browser: install the wasm32 target if missing.
set -euo pipefail
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "wasm32-unknown-unknown: present"
else
  rustup target add wasm32-unknown-unknown
fi
