#!/usr/bin/env bash
# The mobile SDK's checks that need more than cargo (after .ci/setup-mobile.sh):
#  1. the checked-in Kotlin and Swift bindings are what the library generates now;
#  2. Swift: the generated C header compiles (clang -fsyntax-only -x c), and a C
#     program built from it links against the library and finds the contract
#     version and every checksum the Swift bindings verify at load time;
#  3. Kotlin: the bindings, the platform helpers, examples/mobile/kotlin and the tests compile with the
#     Kotlin compiler from npm, and the tests run on the JVM (JNA from Debian)
#     against the host build of the library and a real relay on loopback.
# Usage: .ci/test-mobile.sh [kotlin test name filter...]
# KEEP_WORK=1 keeps the scratch directory (relay data, client data dirs) for a look afterwards.
# CARGO_LOCKED= (empty) builds without --locked.
# MOBILE_CARGO_SCOPE="-p spoor-mobile -p spoor-cli" (default --workspace) narrows what cargo test builds.
# SPOOR_BIN=path uses that spoor binary for the relay (then spoor-cli need not be in the scope).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scope=${MOBILE_CARGO_SCOPE:---workspace}
kotlin_home=$root/sdk-mobile/node_modules/kotlin-compiler
jna=/usr/share/java/jna.jar
for tool in "$kotlin_home/bin/kotlinc" "$jna" "$(command -v clang || echo clang)" "$(command -v java || echo java)"; do
  [ -e "$tool" ] || { echo "missing $tool: run .ci/setup-mobile.sh" >&2; exit 1; }
done

section() { printf '\n--> %s\n' "$*"; }
work=$(mktemp -d)
relay_pid=
cleanup() {
  if [ -n "$relay_pid" ]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
  if [ -n "${KEEP_WORK:-}" ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

section "build: libspoor_mobile (host), uniffi-bindgen, the spoor relay"
# The artifacts of `cargo test`: after scripts/test-all.sh's `cargo test --workspace`
# this is a no-op (a `cargo build -p ...` would resolve features differently and
# rebuild much of the tree). Its JSON messages say where each artifact is.
cargo test $scope ${CARGO_LOCKED---locked} --quiet --no-run --message-format=json >"$work/artifacts.json"
artifact() { grep -o "$1" "$work/artifacts.json" | head -n 1 | sed 's/.*"\(\/[^"]*\)"$/\1/'; }
lib=$(artifact '"[^"]*/libspoor_mobile\.\(so\|dylib\)"')
bindgen=$(artifact '"executable":"[^"]*/uniffi-bindgen"')
SPOOR_BIN=${SPOOR_BIN:-$(artifact '"executable":"[^"]*/spoor"')}
for built in "$lib" "$bindgen" "$SPOOR_BIN"; do
  [ -n "$built" ] && [ -x "$built" ] || {
    echo "cargo test $scope --no-run did not build libspoor_mobile, uniffi-bindgen and spoor (got: '$lib' '$bindgen' '$SPOOR_BIN')" >&2
    exit 1
  }
done
lib_dir=$work/lib
mkdir -p "$lib_dir" && cp "$lib" "$lib_dir/"
echo "library: $lib"
UNIFFI_BINDGEN=$bindgen SPOOR_MOBILE_LIB=$lib sdk-mobile/scripts/generate-bindings.sh "$work/bindings"

section "bindings are current"
if ! diff -ru sdk-mobile/bindings "$work/bindings"; then
  echo "sdk-mobile/bindings is stale: run sdk-mobile/scripts/generate-bindings.sh and commit the result" >&2
  exit 1
fi
echo "sdk-mobile/bindings matches the library"

section "Swift: the C header"
header=sdk-mobile/bindings/swift/SpoorMobileFFI.h
clang -fsyntax-only -x c -std=c11 -Wall -Wextra -Werror -Wno-pragma-once-outside-header "$header"
echo "clang -fsyntax-only -x c: $header is valid C"
# The checks the Swift bindings run when they load the library, as C.
{
  echo '#include <stdio.h>'
  echo "#include \"$root/$header\""
  echo 'int main(void) { int bad = 0;'
  sed -n 's/.*let bindings_contract_version = \([0-9]*\).*/  if (ffi_spoor_mobile_uniffi_contract_version() != \1) { puts("contract version differs"); bad++; }/p' \
    sdk-mobile/bindings/swift/SpoorMobile.swift
  sed -n 's/.*if (\(uniffi_spoor_mobile_checksum_[a-z_]*\)() != \([0-9]*\)).*/  if (\1() != \2) { puts("checksum differs: \1"); bad++; }/p' \
    sdk-mobile/bindings/swift/SpoorMobile.swift
  echo '  return bad; }'
} >"$work/abi_check.c"
checks=$(grep -c 'if (' "$work/abi_check.c")
[ "$checks" -ge 10 ] || { echo "found only $checks checks in SpoorMobile.swift" >&2; exit 1; }
clang -std=c11 -Wall -Werror -Wno-pragma-once-outside-header "$work/abi_check.c" -L"$lib_dir" -lspoor_mobile -o "$work/abi_check"
LD_LIBRARY_PATH=$lib_dir "$work/abi_check"
echo "the header links against libspoor_mobile and all $checks load-time checks of the Swift bindings pass"

section "Kotlin: compile bindings, platform helpers, the example and the tests"
kotlin_lib=$kotlin_home/lib
"$kotlin_home/bin/kotlinc" -nowarn -jvm-target 17 -cp "$jna:$kotlin_lib/kotlin-test.jar" -d "$work/mobile-tests.jar" \
  sdk-mobile/bindings/kotlin sdk-mobile/platform/kotlin examples/mobile/kotlin sdk-mobile/kotlin-tests
classpath=$work/mobile-tests.jar:$jna:$kotlin_lib/kotlin-stdlib.jar:$kotlin_lib/kotlin-test.jar

section "relay on loopback"
relay_data=$work/relay-data
write_key=mobile-test-write-key
cat >"$work/spoor.toml" <<TOML
[[sources]]
name = "android"
write_key = "$write_key"
# Lifecycle events have no schema in the tracking plan: keep them, flagged.
on_invalid = "flag"
TOML
"$SPOOR_BIN" up --config "$work/spoor.toml" --data-dir "$relay_data" --listen 127.0.0.1:0 >"$work/relay.log" 2>&1 &
relay_pid=$!
endpoint=
for _ in $(seq 1 300); do
  endpoint=$(sed -n 's/^spoor .*listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$work/relay.log")
  [ -n "$endpoint" ] && break
  kill -0 "$relay_pid" 2>/dev/null || { cat "$work/relay.log"; echo "the relay exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$endpoint" ] || { cat "$work/relay.log"; echo "the relay did not start" >&2; exit 1; }
echo "relay at $endpoint"

section "Kotlin tests on the JVM"
SPOOR_TEST_ENDPOINT=$endpoint SPOOR_TEST_WRITE_KEY=$write_key SPOOR_TEST_RELAY_DATA=$relay_data \
  SPOOR_BIN=$SPOOR_BIN SPOOR_TEST_WORK=$work/clients \
  java -Djna.library.path="$lib_dir" -cp "$classpath" dev.spoor.mobile.tests.MobileTests "$@"
