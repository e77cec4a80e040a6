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
# Both halves write JUnit; the last line adds them up, so the closing line counts the whole suite.
rc=0
out="$(mktemp -d)"
.venv/bin/python -m pytest -ra -n auto tests/unit --junitxml="$out/unit.xml" || rc=$?
.venv/bin/python -m pytest -ra tests/lab --junitxml="$out/lab.xml" || rc=$?
.venv/bin/python tools/junit_total.py "$out/unit.xml" "$out/lab.xml" || rc=$?
rm -rf "$out"
exit "$rc"
