"""The hash chain of a scope's runs: ledger.jsonl, one canonical line per run, appended at the end of each run.

Each run records the manifest sha256 of the run before it (run.json `chain`), and each ledger line records the
sha256 of the line before it. Deleting, replacing or reordering a run (or a ledger line) breaks a link that
`preuve verify` names. Cutting the *end* of the chain is only detectable against a copy of the head kept
elsewhere (a signed run, a timestamp, the auditor's last diff): see README, "Integrity".
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from preuve.evidence.canonical import dumps

NAME = "ledger.jsonl"


def default_ledger(run_dir: Path) -> Path:
    """One ledger per scope: the folder that holds the scope's run directories."""
    return Path(run_dir).resolve().parent / NAME


def manifest_sha256(run_dir: Path) -> str | None:
    m = Path(run_dir) / "MANIFEST.sha256"
    return hashlib.sha256(m.read_bytes()).hexdigest() if m.is_file() else None


class LedgerError(ValueError):
    """A ledger line that is not a ledger entry: named by file and line, never a traceback."""


_KEYS = ("seq", "run_id", "path", "manifest_sha256", "prev_manifest_sha256", "prev_entry_sha256")


def read_ledger(ledger: Path) -> list[tuple[bytes, dict[str, Any]]]:
    if not ledger.exists():
        return []
    out = []
    for n, line in enumerate(ledger.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            e = json.loads(line)
        except ValueError:
            raise LedgerError(f"{ledger.name}:{n}: not a JSON ledger entry") from None
        if (
            not isinstance(e, dict)
            or any(k not in e for k in _KEYS)
            or not isinstance(e["seq"], int)
            or not isinstance(e["path"], str)
        ):
            raise LedgerError(f"{ledger.name}:{n}: not a ledger entry (needs {', '.join(_KEYS)})")
        out.append((line, e))
    return out


@contextlib.contextmanager
def locked(ledger: Path) -> Iterator[None]:
    """Serialise runs of one scope between reading the chain head and appending to it."""
    ledger.parent.mkdir(parents=True, exist_ok=True)
    with open(ledger.with_name(ledger.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), start.resolve())).as_posix()


def chain_link(ledger: Path, run_dir: Path) -> dict[str, Any]:
    """What run.json records about its predecessor (read under `locked`)."""
    entries = read_ledger(ledger)
    last = entries[-1][1] if entries else None
    return {
        "ledger": _rel(ledger, Path(run_dir)),
        "seq": (last["seq"] + 1) if last else 1,
        "prev_run_id": last["run_id"] if last else None,
        "prev_path": last["path"] if last else None,
        "prev_manifest_sha256": last["manifest_sha256"] if last else None,
    }


def append(ledger: Path, run_dir: Path, run: dict[str, Any]) -> dict[str, Any]:
    """Append the finished run (its manifest written) to the ledger (call under `locked`)."""
    entries = read_ledger(ledger)
    entry = {
        "seq": run["chain"]["seq"],
        "run_id": run["run_id"],
        "path": _rel(run_dir, ledger.parent),
        "ended_at": run["ended_at"],
        "manifest_sha256": manifest_sha256(run_dir),
        "prev_manifest_sha256": run["chain"]["prev_manifest_sha256"],
        "prev_entry_sha256": hashlib.sha256(entries[-1][0]).hexdigest() if entries else None,
    }
    with ledger.open("ab") as fh:
        fh.write(dumps(entry) + b"\n")
    return entry


def previous_run(ledger: Path, run_dir: Path, profile_id: str | None = None) -> Path | None:
    """The latest run of the scope that still exists, is not run_dir and (when given) was judged with the same
    profile id: the baseline of diff and trend (a ci-quick run is never the trend of a full-profile run)."""
    here = Path(run_dir).resolve()
    for _, e in reversed(read_ledger(ledger)):
        p: Path = (ledger.parent / e["path"]).resolve()
        if p == here or not (p / "results.jsonl").is_file():
            continue
        if profile_id is not None:
            try:
                if json.loads((p / "run.json").read_text())["profile"]["id"] != profile_id:
                    continue
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return p
    return None


def verify_chain(ledger: Path, run_dir: Path | None = None) -> tuple[list[str], int | None]:
    """(every broken link of the chain up to run_dir's entry, each naming the run or ledger line concerned;
    run_dir's seq). Runs after run_dir are not checked: deleting a later run never breaks an earlier one."""
    problems: list[str] = []
    entries = read_ledger(ledger)
    if not entries:
        return [f"{ledger}: the ledger is missing or empty"], None
    mine = manifest_sha256(run_dir) if run_dir is not None else None
    upto = next((i for i, (_, e) in enumerate(entries) if e["manifest_sha256"] == mine), None)
    seq = entries[upto][1]["seq"] if upto is not None else None
    if upto is not None:
        entries = entries[: upto + 1]
    prev_line: bytes | None = None
    prev: dict[str, Any] | None = None
    known = {e["manifest_sha256"]: e for _, e in entries}
    for n, (line, e) in enumerate(entries, 1):
        where = f"{ledger.name}:{n} (run {e['path']}, seq {e['seq']})"
        want_prev_line = hashlib.sha256(prev_line).hexdigest() if prev_line is not None else None
        if e.get("prev_entry_sha256") != want_prev_line:
            problems.append(f"{where}: does not follow the line before it (a ledger line was deleted or changed)")
        want_prev = prev["manifest_sha256"] if prev else None
        if e.get("prev_manifest_sha256") != want_prev:
            gone = e.get("prev_manifest_sha256") not in known
            problems.append(
                f"{where}: its previous run has manifest {str(e.get('prev_manifest_sha256'))[:16]}…, "
                + (
                    "which no longer appears in the chain: a run was deleted from the chain"
                    if gone
                    else "which is not the run before it: runs were reordered"
                )
            )
        if prev is not None and e["seq"] != prev["seq"] + 1:
            problems.append(f"{where}: sequence number {e['seq']} follows {prev['seq']} (a run was removed)")
        d = ledger.parent / e["path"]
        if not d.is_dir():
            problems.append(f"run {e['path']} (seq {e['seq']}, run_id {e['run_id']}): missing, deleted from the chain")
        else:
            actual = manifest_sha256(d)
            if actual != e["manifest_sha256"]:
                problems.append(
                    f"run {e['path']}: MANIFEST.sha256 differs from the ledger (the run was changed or replaced)"
                )
            try:
                recorded = json.loads((d / "run.json").read_text()).get("chain") or {}
            except (OSError, ValueError):
                recorded = {}
            if recorded.get("prev_manifest_sha256") != e.get("prev_manifest_sha256"):
                problems.append(f"run {e['path']}: run.json's previous-run hash disagrees with the ledger")
        prev_line, prev = line, e
    if run_dir is not None:
        if mine not in known:
            problems.append(f"{run_dir}: not in the ledger {ledger} (its entry was deleted or it was never appended)")
        else:
            try:
                claimed = (json.loads((Path(run_dir) / "run.json").read_text()).get("chain") or {}).get("seq")
            except (OSError, ValueError, AttributeError):
                claimed = None
            if claimed != seq:
                problems.append(f"{run_dir}: run.json claims seq {claimed}, the ledger has it at seq {seq}")
    return problems, seq
