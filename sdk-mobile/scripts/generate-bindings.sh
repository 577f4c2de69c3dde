#!/usr/bin/env bash
# Regenerates the Kotlin and Swift bindings of the mobile SDK from the host
# build of libspoor_mobile, with the uniffi-bindgen built from this workspace
# (so the generator always matches the `uniffi` version the library uses).
#
#   sdk-mobile/scripts/generate-bindings.sh            # rewrites sdk-mobile/bindings
#   sdk-mobile/scripts/generate-bindings.sh OUT_DIR    # writes OUT_DIR/{kotlin,swift} (CI compares)
#
# The bindings depend only on the library's exported interface, not on the
# platform it was built for, so the host build serves Android and iOS alike.
# CARGO_LOCKED= (empty) builds without --locked, for a working tree whose Cargo.lock is mid-change.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-sdk-mobile/bindings}
target=${CARGO_TARGET_DIR:-$PWD/target}

# The bin first, then the library alone, so the .so left in place is the one
# built without the `bindgen` feature.
cargo build ${CARGO_LOCKED---locked} --quiet -p spoor-mobile --features bindgen --bin uniffi-bindgen
cargo build ${CARGO_LOCKED---locked} --quiet -p spoor-mobile --lib
case "$(uname -s)" in
  Darwin) lib=$target/debug/libspoor_mobile.dylib ;;
  *) lib=$target/debug/libspoor_mobile.so ;;
esac

rm -rf "$out/kotlin" "$out/swift"
for language in kotlin swift; do
  # --no-format: the output must not depend on whether ktlint or swift-format is installed.
  "$target/debug/uniffi-bindgen" generate --no-format --library "$lib" \
    --language "$language" --out-dir "$out/$language" >/dev/null
done
echo "bindings written to $out/{kotlin,swift}"
