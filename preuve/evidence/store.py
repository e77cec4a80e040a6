"""The evidence store: observations written once, read by the judges, re-read offline for replay.

Files are named by collector and target (readable, stable across runs so `diff` and humans can find them);
integrity comes from the sha256 recorded in every result and in MANIFEST.sha256.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from preuve.evidence.canonical import dumps, sha256, write_atomic
from preuve.evidence.record import Observation
from preuve.evidence.redact import REDACTOR


class EvidenceRef(tuple):
    """(path relative to the run directory, sha256 of the file)."""

    __slots__ = ()

    def __new__(cls, path: str, digest: str) -> EvidenceRef:
        return super().__new__(cls, (path, digest))

    @property
    def path(self) -> str:
        return self[0]

    @property
    def sha256(self) -> str:
        return self[1]


class EvidenceStore:
    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self._obs: dict[tuple[str, str], tuple[Observation, EvidenceRef]] = {}
        self._lock = threading.Lock()

    def put(self, obs: Observation) -> EvidenceRef:
        """Redact, serialise canonically, write atomically, remember the digest."""
        clean = Observation.model_validate(REDACTOR.value(obs.model_dump()))
        data = dumps(clean.model_dump()) + b"\n"
        write_atomic(self.run_dir / clean.relpath, data)
        ref = EvidenceRef(clean.relpath, sha256(data))
        with self._lock:
            self._obs[(clean.collector, clean.target)] = (clean, ref)
        return ref

    def get(self, collector: str, target: str) -> tuple[Observation, EvidenceRef] | None:
        with self._lock:
            return self._obs.get((collector, target))

    def load(self) -> int:
        """Read every recorded observation back (offline replay). Returns how many were loaded."""
        count = 0
        for path in sorted((self.run_dir / "observations").glob("*/*.json")):
            data = path.read_bytes()
            obs = Observation.model_validate(json.loads(data))
            self._obs[(obs.collector, obs.target)] = (obs, EvidenceRef(obs.relpath, sha256(data)))
            count += 1
        return count

    def __len__(self) -> int:
        return len(self._obs)
