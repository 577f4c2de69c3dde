#!/usr/bin/env bash
# Compares relay builds on single events, interleaved so the machine's drift
# hits each alike: `bench/relay-ab.sh ROUNDS BIN_A BIN_B ...` runs
# `BIN bench relay --only single --no-nginx --rounds 1 --connections 64` for each
# binary in turn, ROUNDS times, and prints requests/s and the relay HTTP
# threads' CPU per request (from /proc/PID/task/*/stat over 6 s of the 12 s
# measured).
# RELAY_AB_CONNECTIONS sets another concurrency (one number); RELAY_AB_ARGS adds
# options to every run (e.g. "--relay-workers 1").
set -euo pipefail
rounds=$1
shift
hz=$(getconf CLK_TCK)

# CPU seconds (user + system) of the threads named spoor-http in process $1.
http_cpu() {
  local total=0 t
  for t in /proc/"$1"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = spoor-http ] || continue
    total=$((total + $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

for _ in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    out=$(mktemp)
    # shellcheck disable=SC2086 # the extra options split on spaces on purpose
    "$bin" bench relay --only single --no-nginx --rounds 1 --connections "${RELAY_AB_CONNECTIONS:-64}" ${RELAY_AB_ARGS:-} >"$out" 2>&1 &
    pid=$!
    sleep 5
    a=$(http_cpu "$pid")
    sleep 6
    b=$(http_cpu "$pid")
    wait "$pid"
    # The relay row's "requests/s" column, found by its header.
    rps=$(awk -F'|' '/^\| target/ { for (i = 1; i <= NF; i++) if ($i == " requests/s ") c = i }
      /^\| relay/ && c { gsub(/[ ,]/, "", $c); print $c }' "$out")
    rm -f "$out"
    awk -v bin="$bin" -v rps="$rps" -v d=$((b - a)) -v hz="$hz" \
      'BEGIN { printf "%s: %d req/s, HTTP threads %.1f µs CPU per request\n", bin, rps, d / hz / 6 * 1e6 / rps }'
  done
done
