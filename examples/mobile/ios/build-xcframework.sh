#!/usr/bin/env bash
# SKETCH (macOS with Xcode; not run in CI): builds SpoorMobileFFI.xcframework
# for Package.swift and copies the Swift bindings next to it.
set -euo pipefail
cd "$(dirname "$0")"
repo=$(cd ../../.. && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios
for triple in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
  # iOS links statically: build the library as a staticlib for each target.
  (cd "$repo" && cargo rustc --locked --release -p spoor-mobile --lib --crate-type staticlib --target "$triple")
done
rm -rf build SpoorMobileFFI.xcframework && mkdir -p build/headers build/simulator
cp "$repo/sdk-mobile/bindings/swift/SpoorMobileFFI.h" build/headers/
cp "$repo/sdk-mobile/bindings/swift/SpoorMobileFFI.modulemap" build/headers/module.modulemap
lipo -create "$target/aarch64-apple-ios-sim/release/libspoor_mobile.a" \
  "$target/x86_64-apple-ios/release/libspoor_mobile.a" -output build/simulator/libspoor_mobile.a
xcodebuild -create-xcframework \
  -library "$target/aarch64-apple-ios/release/libspoor_mobile.a" -headers build/headers \
  -library build/simulator/libspoor_mobile.a -headers build/headers \
  -output SpoorMobileFFI.xcframework
mkdir -p Sources/SpoorMobile
cp "$repo/sdk-mobile/bindings/swift/SpoorMobile.swift" "$repo/sdk-mobile/platform/swift/SpoorJson.swift" Sources/SpoorMobile/
