#!/usr/bin/env bash
# The demo: set up, bring the local lab up, scan it with the full SecNumCloud profile, write the reports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
exec .venv/bin/preuve demo "$@"
