#!/usr/bin/env bash
# Regenerates the Kotlin and Swift bindings of the mobile SDK from the host
# build of libspoor_mobile, with the crate's own uniffi-bindgen bin (so the
# generator always matches the `uniffi` version the library uses).
#
#   sdk-mobile/scripts/generate-bindings.sh            # rewrites sdk-mobile/bindings
#   sdk-mobile/scripts/generate-bindings.sh OUT_DIR    # writes OUT_DIR/{kotlin,swift} (CI compares)
#
# UNIFFI_BINDGEN and SPOOR_MOBILE_LIB (paths) use an already built bin and
# library (.ci/test-mobile.sh passes those of `cargo test`); otherwise this
# builds them with `cargo build -p spoor-mobile`. CARGO_LOCKED= (empty) builds
# without --locked. The bindings depend only on the library's exported
# interface, not on the platform it was built for: the host build serves
# Android and iOS alike.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-sdk-mobile/bindings}
target=${CARGO_TARGET_DIR:-$PWD/target}
bindgen=${UNIFFI_BINDGEN:-}
lib=${SPOOR_MOBILE_LIB:-}
if [ -z "$bindgen" ] || [ -z "$lib" ]; then
  cargo build ${CARGO_LOCKED---locked} --quiet -p spoor-mobile
  bindgen=$target/debug/uniffi-bindgen
  case "$(uname -s)" in
    Darwin) lib=$target/debug/libspoor_mobile.dylib ;;
    *) lib=$target/debug/libspoor_mobile.so ;;
  esac
fi

rm -rf "$out/kotlin" "$out/swift"
for language in kotlin swift; do
  # --no-format: the output must not depend on whether ktlint or swift-format is installed.
  "$bindgen" generate --no-format --library "$lib" --language "$language" --out-dir "$out/$language" >/dev/null
done
echo "bindings written to $out/{kotlin,swift}"
