// swift-tools-version:5.9
// SKETCH of a Swift package for the Spoor mobile SDK (not built in CI: no Swift
// toolchain can be installed on the CI machines; see docs/mobile.md for what
// of the iOS path CI does verify). Run ./build-xcframework.sh on a Mac first:
// it builds SpoorMobileFFI.xcframework (the static library per platform with
// the generated C header and module map) and copies the generated Swift
// bindings into Sources/SpoorMobile.
import PackageDescription

let package = Package(
    name: "SpoorMobile",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "SpoorMobile", targets: ["SpoorMobile"]),
    ],
    targets: [
        // libspoor_mobile.a for iOS devices and the simulator, with SpoorMobileFFI.h and module.modulemap.
        .binaryTarget(name: "SpoorMobileFFI", path: "SpoorMobileFFI.xcframework"),
        // sdk-mobile/bindings/swift/SpoorMobile.swift (generated) and sdk-mobile/platform/swift/SpoorJson.swift.
        .target(name: "SpoorMobile", dependencies: ["SpoorMobileFFI"], path: "Sources/SpoorMobile"),
        // The usage example.
        .target(name: "ShopExample", dependencies: ["SpoorMobile"], path: "Sources/ShopExample"),
    ]
)
