#!/usr/bin/env bash
# The test suite: set up, then run every test (real sshd, nginx, network namespaces; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
.venv/bin/ruff check preuve lab checks tests bench tools
.venv/bin/ruff format --check preuve lab checks tests bench tools
.venv/bin/mypy  # the engine (preuve/), configured in pyproject.toml [tool.mypy]
if [ "$#" -gt 0 ]; then  # e.g. ci/test.sh tests/lab/test_full_scan.py -x
  exec .venv/bin/python -m pytest -ra "$@"
fi
# tests/unit: no root, no lab, in parallel (pytest-xdist); tests/lab: the one shared lab, one test at a time.
rc=0
.venv/bin/python -m pytest -ra -n auto tests/unit || rc=$?
.venv/bin/python -m pytest -ra tests/lab || rc=$?
exit "$rc"
