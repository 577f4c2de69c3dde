#!/usr/bin/env bash
# The mobile SDK's benchmark for BENCHMARKS.md ("## Mobile SDK"): the cost of
# track() from Kotlin on the JVM across the FFI, beside the same method called
# from Rust (the baseline), and the size of the host build of the library.
# Needs .ci/setup-mobile.sh. Usage: sdk-mobile/scripts/bench.sh [rounds] [calls per round]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-20}
calls=${2:-5000}
target=${CARGO_TARGET_DIR:-$PWD/target}
kotlin_home=$PWD/sdk-mobile/node_modules/kotlin-compiler
jna=/usr/share/java/jna.jar
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build ${CARGO_LOCKED---locked} --quiet --release -p spoor-mobile --lib
cargo bench ${CARGO_LOCKED---locked} --quiet -p spoor-mobile --bench track --no-run 2>/dev/null
"$kotlin_home/bin/kotlinc" -nowarn -jvm-target 17 -cp "$jna" -d "$work/bench.jar" \
  sdk-mobile/bindings/kotlin sdk-mobile/platform/kotlin sdk-mobile/kotlin-tests/Harness.kt sdk-mobile/kotlin-tests/TrackBench.kt

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
java -Djna.library.path="$target/release" -cp "$work/bench.jar:$jna:$kotlin_home/lib/kotlin-stdlib.jar" \
  dev.spoor.mobile.tests.TrackBench "$work/kotlin-data" "$rounds" "$calls"
cargo bench ${CARGO_LOCKED---locked} --quiet -p spoor-mobile --bench track -- "$rounds" "$calls"

lib=$target/release/libspoor_mobile.so
strip --strip-all -o "$work/stripped.so" "$lib"
gzip -9 -c "$work/stripped.so" >"$work/stripped.so.gz"
size() { stat -c %s "$1" | awk '{printf "%.2f MiB (%d bytes)", $1 / 1048576, $1}'; }
echo "library  release build as built (debug = 1: line tables) $(size "$lib")"
echo "library  stripped (what an app ships per ABI)          $(size "$work/stripped.so")"
echo "library  stripped + gzip -9 (download size)            $(size "$work/stripped.so.gz")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
