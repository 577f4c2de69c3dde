#!/usr/bin/env bash
# Instructions per single-event request of relay builds, counted by callgrind
# over all of the relay's threads (user space only): a measure the VM's drift
# in speed does not move, for changes too small for `bench/relay-ab.sh` to see.
# `bench/relay-instructions.sh BIN ...` starts `BIN relay` under callgrind on a
# loopback port, sends 300 events to warm it up, zeroes the counters, sends
# 2,000 events one after another on one keep-alive connection and prints the
# instructions per request. One request per group commit, so the log writer's
# work per group counts in full. Needs valgrind and python3.
set -euo pipefail
port=${RELAY_INSTRUCTIONS_PORT:-18090}
requests=2000

send() {
  python3 - "$port" "$1" <<'EOF'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
body = (b'{"eventId":"0190a8f0-7c1e-7a3b-9b1e-3f2d4c5b6a79","type":"track","eventName":"product_clicked",'
        b'"userId":"u456","anonymousId":"anon_789","timestamp":"2026-12-01T04:00:00.000Z",'
        b'"sentAt":"2026-12-01T04:00:00.000Z","properties":{"productId":"p123","category":"shoes","surface":"home"},'
        b'"context":{"device":"mobile","appVersion":"1.2.3","ip":"1.2.3.4","userAgent":"Mozilla/5.0 (Macintosh; '
        b'Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",'
        b'"locale":"en-US","page":{"path":"/products/p123","url":"https://shop.example/products/p123"}}}')
headers = {"Content-Type": "application/json", "Authorization": "Bearer wk-instructions-1"}
connection = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    connection.request("POST", "/api/events", body, headers)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"the relay answered {response.status}")
EOF
}

for bin in "$@"; do
  dir=$(mktemp -d)
  SPOOR_WRITE_KEY=wk-instructions-1 SPOOR_READ_KEY=rk-instructions-1 \
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
    "$bin" relay --data-dir "$dir/data" --listen "127.0.0.1:$port" >"$dir/relay.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
    sleep 1
  done
  send 300
  callgrind_control -z "$pid" >/dev/null
  send "$requests"
  callgrind_control -d "$pid" >/dev/null
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  # The dump after zeroing is the first numbered part.
  total=$(awk '/^summary:/ { s += $2 } END { print s }' "$dir/cg.out.1")
  echo "$bin: $((total / requests)) instructions per request"
  rm -rf "$dir"
done
