"""Print a run's verdicts without timings, so two runs of the same lab compare byte for byte.

    python tools/verdicts.py reports/demo                      # or .../results.jsonl
    python tools/verdicts.py reports/demo --ids-from /tmp/baseline/results.jsonl
    diff <(python tools/verdicts.py /tmp/baseline) <(python tools/verdicts.py reports/demo)

Each line of results.jsonl loses `collected_at` and `duration_ms` (timings) and `evidence` (the digests of
observation files, which hold timestamps); the rest is re-serialised with sorted keys and the lines are sorted.
`--ids-from OTHER` keeps only the check ids present in OTHER (checks added since a baseline are left out of the
comparison, so say so when you use it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DROPPED = ("collected_at", "duration_ms", "evidence")


def _results_file(path: Path) -> Path:
    return path / "results.jsonl" if path.is_dir() else path


def check_ids(path: Path) -> set[str]:
    """The check ids of a run (to restrict a comparison to the checks a baseline knew)."""
    with _results_file(path).open(encoding="utf-8") as fh:
        return {json.loads(line)["check_id"] for line in fh if line.strip()}


def project(path: Path, keep_ids: set[str] | None = None) -> list[str]:
    """The run's results as sorted canonical JSON lines, timings and evidence digests removed."""
    lines = []
    with _results_file(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            result = json.loads(line)
            if keep_ids is not None and result.get("check_id") not in keep_ids:
                continue
            for key in DROPPED:
                result.pop(key, None)
            lines.append(json.dumps(result, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    return sorted(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run directory or its results.jsonl")
    parser.add_argument("--ids-from", type=Path, help="keep only the check ids present in this run")
    args = parser.parse_args(argv)
    keep = check_ids(args.ids_from) if args.ids_from else None
    sys.stdout.write("".join(f"{line}\n" for line in project(args.run, keep)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
