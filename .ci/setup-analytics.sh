#!/usr/bin/env bash
# DuckDB (from PyPI) in .venv at the repo root: the independent engine the
# analytics agreement tests and the analytics benchmark compare against.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    apt-get update && apt-get install -y python3-venv
    python3 -m venv .venv
  fi
fi
if .venv/bin/python -c 'import duckdb' 2>/dev/null; then
  echo "duckdb $(.venv/bin/python -c 'import duckdb; print(duckdb.__version__)') already in .venv"
else
  .venv/bin/pip install --quiet duckdb
  echo "installed duckdb $(.venv/bin/python -c 'import duckdb; print(duckdb.__version__)') into .venv"
fi
