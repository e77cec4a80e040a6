#!/usr/bin/env bash
# The test suite: set up, then run every test (real sshd, nginx, network namespaces; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
.venv/bin/ruff check preuve lab checks tests bench tools
.venv/bin/ruff format --check preuve lab checks tests bench tools
exec .venv/bin/python -m pytest -ra "$@"
