#!/usr/bin/env bash
# What a page loads to track events, raw and gzip -9, for @spoor/browser and
# for other analytics packages, each measured from its npm tarball
# (`npm pack NAME`) the same way: the self-contained browser build the
# package ships (no source maps, no lazily loaded extras).
# Usage: sdk-wasm/bench/size-compare.sh   (after sdk-wasm/build.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# name | files inside the tarball's package/ directory (space-separated)
packages=(
  "@segment/analytics-next|dist/umd/index.js"
  "posthog-js|dist/array.js"
  "posthog-js|dist/module.slim.js"
  "@rudderstack/analytics-js|dist/npm/modern/esm/index.mjs"
)

row() { # label version tarball files...
  local label=$1 version=$2 tarball=$3 dir=$4
  shift 4
  local raw=0 gz=0 names=""
  for f in "$@"; do
    raw=$((raw + $(wc -c <"$dir/$f")))
    gz=$((gz + $(gzip -9 -c "$dir/$f" | wc -c)))
    names="$names${names:+ + }$f"
  done
  printf '| %s %s | %s | %d | %.1f KB | %d | %.1f KB | %d |\n' "$label" "$version" "$names" "$raw" "$(awk "BEGIN{print $raw/1024}")" "$gz" "$(awk "BEGIN{print $gz/1024}")" "$(wc -c <"$tarball")"
}

printf '| package | files a page loads | raw bytes | raw | gzip bytes | gzip | npm tarball bytes |\n|---|---|---|---|---|---|---|\n'

(cd "$here/npm" && npm pack --silent --pack-destination "$work" >/dev/null)
mkdir -p "$work/spoor" && tar -xzf "$work"/spoor-browser-*.tgz -C "$work/spoor"
version=$(node -p "require('$work/spoor/package/package.json').version")
row "@spoor/browser" "$version" "$(ls "$work"/spoor-browser-*.tgz)" "$work/spoor/package" dist/spoor.js dist/spoor_wasm_bg.wasm

for entry in "${packages[@]}"; do
  name=${entry%%|*}
  files=${entry#*|}
  safe=$(echo "$name" | tr '@/' '__')
  if [ ! -d "$work/$safe" ]; then
    mkdir -p "$work/$safe"
    tarball=$(cd "$work/$safe" && npm pack "$name" --silent 2>/dev/null | tail -1)
    tar -xzf "$work/$safe/$tarball" -C "$work/$safe"
    echo "$tarball" >"$work/$safe/.tarball"
  fi
  tarball="$work/$safe/$(cat "$work/$safe/.tarball")"
  version=$(node -p "require('$work/$safe/package/package.json').version")
  # shellcheck disable=SC2086
  row "$name" "$version" "$tarball" "$work/$safe/package" $files
done
