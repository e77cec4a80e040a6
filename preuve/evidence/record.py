"""One observation: what was asked of which target, when, how long it took, and what came back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Observation(BaseModel):
    """Stored as canonical JSON under observations/<collector>/<target>.json; its sha256 binds results to it.

    `ok` false means the target could not be observed (unreachable, timeout, host key mismatch...): checks
    that need it report `error`, never `pass`.
    """

    model_config = ConfigDict(frozen=True)

    collector: str
    target: str
    # The full identity of the observed target (kind, name, address, port): evidence is matched on all of it,
    # so two targets that share a name never share an observation (set by EvidenceStore.put).
    identity: dict[str, Any] | None = None
    query: dict[str, Any]
    started_at: str
    duration_ms: float
    ok: bool
    error: str | None = None
    error_kind: str | None = None
    facts: dict[str, Any] = {}
    raw: Any = None
    tool: str = ""

    @property
    def relpath(self) -> str:
        return f"observations/{self.collector}/{self.target}.json"
