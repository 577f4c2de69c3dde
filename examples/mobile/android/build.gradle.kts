// SKETCH of a Gradle module that packages the Spoor mobile SDK for Android
// (not built in CI: no Android SDK or NDK on the CI machines).
//
// Before building: cross-compile the library for each ABI with cargo-ndk
// (`cargo install cargo-ndk`, NDK r26+, `rustup target add aarch64-linux-android
// armv7-linux-androideabi x86_64-linux-android`):
//
//   cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 \
//     -o examples/mobile/android/src/main/jniLibs build --release -p spoor-mobile
//
// The Kotlin bindings are the checked-in generated ones (sdk-mobile/bindings/kotlin)
// plus the hand-written helpers (sdk-mobile/platform/kotlin).
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "dev.spoor.mobile"
    compileSdk = 35
    defaultConfig {
        minSdk = 26 // java.time.Instant in EventOptions.timestamp
        consumerProguardFiles("consumer-rules.pro") // keep JNA and dev.spoor.mobile.** (UniFFI looks them up by name)
    }
    sourceSets["main"].java.srcDirs(
        "../../../sdk-mobile/bindings/kotlin",
        "../../../sdk-mobile/platform/kotlin",
        "../kotlin",
        "src/main/kotlin",
    )
    // libspoor_mobile.so per ABI, from cargo ndk (see above).
    sourceSets["main"].jniLibs.srcDirs("src/main/jniLibs")
}

dependencies {
    // JNA as an AAR: it carries libjnidispatch.so for every Android ABI.
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    implementation("androidx.lifecycle:lifecycle-process:2.8.7")
}
