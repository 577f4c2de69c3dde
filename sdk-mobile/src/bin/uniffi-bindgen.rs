//! `uniffi-bindgen` built from the workspace, so the bindings always match the
//! `uniffi` version the library uses:
//! `uniffi-bindgen generate --library libspoor_mobile.so --language kotlin --out-dir DIR`.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

fn main() {
    uniffi::uniffi_bindgen_main()
}
