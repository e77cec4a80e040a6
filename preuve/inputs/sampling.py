"""Sampling targets for an audit plan: N (or a fraction) per group, reproducible from a seed, recorded.

A PASSI audit plan says how targets were sampled; the auditor who replays must get the same sample. The pick is a
pure function of (seed, group, target names): targets are ranked by sha256(seed|group|name) and the first N of each
group (target kind) are kept. No PRNG state, so any implementation (or a shell one-liner) reproduces it.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from preuve.inputs.targets import Target

METHOD = "per-kind ranking by sha256(seed|kind|name), first N (N = size, or ceil(fraction x population), >= 1)"


def parse_size(text: str) -> float:
    """'5' -> 5 targets per group; '0.2' or '20%' -> a fraction of each group."""
    t = str(text).strip()
    value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    fraction = "." in t or t.endswith("%")
    if value <= 0 or (fraction and value > 1) or (not fraction and value != int(value)):
        raise ValueError(f"sample size {text!r}: a positive integer or a fraction in (0, 1]")
    return value


def population_sha256(names: list[str]) -> str:
    return hashlib.sha256(json.dumps(sorted(names)).encode()).hexdigest()


def sample(targets: dict[str, list[Target]], size: str, seed: str) -> tuple[dict[str, list[Target]], dict[str, Any]]:
    """The sampled targets by kind, and the record for run.json."""
    value = parse_size(size)
    frac = "." in str(size) or str(size).endswith("%")
    kept: dict[str, list[Target]] = {}
    groups: dict[str, Any] = {}
    for kind, found in targets.items():
        names = [t.name for t in found]
        n = min(len(found), math.ceil(value * len(found))) if frac else min(len(found), int(value))
        ranked = sorted(found, key=lambda t: hashlib.sha256(f"{seed}|{kind}|{t.name}".encode()).hexdigest())
        chosen = sorted(ranked[:n], key=lambda t: t.name)
        kept[kind] = [t for t in found if t in chosen]
        if found:
            groups[kind] = {
                "population": len(found),
                "population_sha256": population_sha256(names),
                "selected": [t.name for t in chosen],
            }
    record = {
        "mode": "fraction" if frac else "count",
        "size": str(size),
        "seed": str(seed),
        "method": METHOD,
        "population_sha256": population_sha256([f"{k}/{t.name}" for k, ts in targets.items() for t in ts]),
        "groups": groups,
    }
    return kept, record
