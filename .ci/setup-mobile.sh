#!/usr/bin/env bash
# Tools for the mobile SDK's tests (sdk-mobile): the Kotlin compiler from npm (Debian's kotlin 1.3
# cannot compile UniFFI's output), JNA from Debian (the JVM side of the bindings) and clang (checks
# the C header of the Swift bindings). Idempotent: each tool is checked first, installed only if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

kotlin_version=$(sed -n 's/.*"kotlin-compiler": "\([^"]*\)".*/\1/p' sdk-mobile/package.json)
kotlinc=sdk-mobile/node_modules/kotlin-compiler/bin/kotlinc
if [ -f "$kotlinc" ] && grep -q "\"version\": \"$kotlin_version\"" sdk-mobile/node_modules/kotlin-compiler/package.json 2>/dev/null; then
  echo "kotlin-compiler $kotlin_version: present"
else
  (cd sdk-mobile && npm ci --no-audit --no-fund)
fi
# npm does not keep the execute bits of the distribution's shell scripts.
chmod +x sdk-mobile/node_modules/kotlin-compiler/bin/*

missing=()
[ -f /usr/share/java/jna.jar ] || missing+=(libjna-java)
command -v clang >/dev/null || missing+=(clang)
command -v java >/dev/null || missing+=(default-jdk-headless)
if [ ${#missing[@]} -eq 0 ]; then
  echo "jna, clang, java: present"
else
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
