#!/usr/bin/env bash
# Installs what `spoor bench relay` compares against: nginx (the 204 baseline)
# and wrk (to cross-check the Rust load generator against nginx). Checks first
# and installs only what is missing. Benchmarks only: no test needs these.
set -euo pipefail

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)

if [ ${#missing[@]} -eq 0 ]; then
  echo "bench/setup.sh: $( (nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1) | head -1), wrk present"
  exit 0
fi

echo "bench/setup.sh: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The package starts a system nginx on port 80; the benchmark runs its own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  "${sudo_cmd[@]}" systemctl stop nginx || true
fi
