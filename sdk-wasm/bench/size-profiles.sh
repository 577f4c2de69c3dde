#!/usr/bin/env bash
# Size of spoor_wasm_bg.wasm (raw and gzip -9) for each build profile knob the
# brief asks about: opt-level "s" vs "z", LTO on vs off, wasm-opt -Oz on vs off.
# Prints one Markdown table row per combination. Takes ~10 min on 2 cores.
# Usage: sdk-wasm/bench/size-profiles.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
printf '| opt-level | lto | wasm-opt -Oz | wasm raw | wasm gzip | spoor.js gzip |\n|---|---|---|---|---|---|\n'
for level in s z; do
  for lto in true false; do
    for opt in 1 0; do
      SPOOR_WASM_OPT_LEVEL=$level SPOOR_WASM_LTO=$lto SPOOR_WASM_OPT=$opt bash "$here/build.sh" >/dev/null 2>&1
      wasm="$here/npm/dist/spoor_wasm_bg.wasm"
      js="$here/npm/dist/spoor.js"
      printf '| %s | %s | %s | %d | %d | %d |\n' "$level" "$lto" "$([ $opt = 1 ] && echo yes || echo no)" \
        "$(wc -c <"$wasm")" "$(gzip -9 -c "$wasm" | wc -c)" "$(gzip -9 -c "$js" | wc -c)"
    done
  done
done
# Leave the default build in place.
bash "$here/build.sh" >/dev/null 2>&1
