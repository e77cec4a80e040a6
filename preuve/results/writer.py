"""results.jsonl: canonical JSON, one result per line, ordered by (check, target) for stable diffs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from preuve.evidence.canonical import dumps, write_atomic
from preuve.results.jsonl import read_jsonl
from preuve.results.model import STATUSES, Result


def sort_results(results: list[Result]) -> list[Result]:
    return sorted(results, key=lambda r: (r.check_id, r.target["name"]))


def write_results(results: list[Result], path: Path, lines: dict[int, bytes] | None = None) -> None:
    """`lines`: canonical JSON already made for some results (by id, while they are alive), reused as is."""
    lines = lines or {}
    write_atomic(
        path, b"".join((lines.get(id(r)) or dumps(r.model_dump(mode="json"))) + b"\n" for r in sort_results(results))
    )


def read_results(path: Path) -> list[Result]:
    return [Result.model_validate(r) for r in read_jsonl(path)]


def counts(results: list[Result]) -> dict[str, int]:
    c: Counter[str] = Counter(r.status for r in results)
    return {s: c.get(s, 0) for s in STATUSES}
