"""What this scanner already did to each MFA canary: failures it caused and the last TOTP step it used.

The factor probes (MFA-SSH-ENFORCED, MFA-WEB-ENFORCED) send deliberately wrong answers, which the target's lockout
counts (pam_faillock: failures within `fail_interval`, 15 min by default), and log in with a right code, which a
TOTP verifier refuses when its step was already used (pam_oath, RFC 6238 §5.2). So before sending anything a probe
asks the ledger (1) how many of its failures the canary may still hold, to refuse a run that would lock it, and
(2) which step it may use without replaying one of its own. A successful login clears the count, as pam_faillock
does (``authsucc`` or its account phase) and as web applications do.

One small JSON file per canary on the scanner machine (``$PREUVE_STATE_DIR/canaries/<key>.json``, default
``~/.local/state/preuve/``), named by the sha256 of "kind|address|user" and locked while a probe runs (two runs on
one machine take turns on a canary; different canaries are probed concurrently): no secret and no code is ever
written, only times, counts and step numbers. Two scanner machines do not share it: give each its own canary.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def directory() -> Path:
    base = os.environ.get("PREUVE_STATE_DIR") or Path.home() / ".local" / "state" / "preuve"
    return Path(base) / "canaries"


def key(kind: str, where: str, user: str) -> str:
    return hashlib.sha256(f"{kind}|{where}|{user}".encode()).hexdigest()[:32]


@contextmanager
def entry(kind: str, where: str, user: str) -> Iterator[dict[str, Any]]:
    """The canary's record, locked for the duration of the probe and written back at the end (whatever happened)."""
    d = directory()
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    p = d / f"{key(kind, where, user)}.json"
    with open(p.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            record = json.loads(p.read_text()) if p.is_file() else {}
        except (OSError, ValueError):
            record = {}
        record = {"failures": [], "last_step": None, **record}
        try:
            yield record
        finally:
            tmp = p.with_suffix(".tmp")
            tmp.write_text(json.dumps(record, sort_keys=True))
            tmp.replace(p)


def pending(record: dict[str, Any], interval_s: float, now: float | None = None) -> int:
    """Failures this scanner caused that the target may still count (not cleared, younger than interval_s)."""
    now = time.time() if now is None else now
    return sum(n for t, n in record["failures"] if now - t < interval_s)


def failed(record: dict[str, Any], n: int = 1) -> None:
    if n:
        record["failures"] = [*record["failures"][-50:], [time.time(), n]]


def cleared(record: dict[str, Any]) -> None:
    """A right login went through: the target's failure count is back to zero."""
    record["failures"] = []
