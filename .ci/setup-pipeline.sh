#!/usr/bin/env bash
# The pipeline's Parquet agreement test and benchmark read raw/ with DuckDB from PyPI,
# installed into .venv at the repo root (only when it is not importable yet).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ] && .venv/bin/python -c 'import duckdb' 2>/dev/null; then
  echo "duckdb: present ($(.venv/bin/python -c 'import duckdb; print(duckdb.__version__)'))"
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    apt-get update
    apt-get install -y python3-venv
    rm -rf .venv
    python3 -m venv .venv
  fi
fi
.venv/bin/pip install --quiet duckdb
echo "duckdb: installed ($(.venv/bin/python -c 'import duckdb; print(duckdb.__version__)'))"
