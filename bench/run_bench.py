"""preuve measured side by side with sslyze, testssl.sh and ssh-audit on the local lab (see README.md).

    /tmp/pv-venv/bin/python bench/run_bench.py [--runs N] [--quick] [--json bench/results.json]

Run as root (the lab and the scans live in network namespaces).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `bench` and `preuve` from this checkout

from bench.runner import main

if __name__ == "__main__":
    sys.exit(main())
