"""run.json: what was run, by which tool, with which inputs (hashes), when, and how it ended."""

from __future__ import annotations

import datetime as dt
import getpass
import platform
import uuid
from pathlib import Path
from typing import Any

from preuve.provenance import tool_provenance
from preuve.results.writer import counts
from preuve.run.state import RunState


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _inventory_file(state: RunState) -> str:
    """The inventory as given, relative to the current directory (the CI project root) when below it."""
    from preuve.report.locate import _rel

    return _rel(Path(state.inventory_src.path))


def run_info(state: RunState, exit_code: int, interrupted: bool) -> dict[str, Any]:
    p, inv = state.profile, state.inventory
    return {
        "schema": "preuve.run/1",
        "run_id": str(uuid.uuid4()),
        "started_at": _iso(state.started_at),
        "ended_at": _iso(dt.datetime.now(dt.UTC)),
        "interrupted": interrupted,
        "tool": {
            "name": "preuve",
            # Version and the installed files' hash; a commit only for an editable checkout (preuve.provenance).
            **tool_provenance(),
            "python": platform.python_version(),
        },
        "referential": {"name": "SecNumCloud", "version": "3.2", "date": "2022-03-08"},
        "profile": {
            "id": p.id,
            "version": p.version,
            "sha256": p.sha256,
            "chain": p.chain,
            "file": Path(p.files[-1]).name,
        },
        "inventory": {
            "name": inv.name,
            "sha256": state.inventory_src.sha256,
            "file": _inventory_file(state),  # SARIF and JUnit point at its lines
            "targets": {k: len(v) for k, v in state.targets.items()},
        },
        "waivers": {
            "sha256": state.waivers_src.sha256 if state.waivers_src else None,
            "count": len(state.waivers),
        },
        "scanner": {"hostname": platform.node(), "operator": _operator(), "netns": state.options.netns},
        "replay_of": state.replay_of,
        "scope": state.scope_record,  # --shard / --only / --fail-on (preuve merge reads it)
        "checks_selected": sorted(state.selected_checks),
        "observations": len(state.store),
        "observe_seconds": round(state.observe_seconds, 3),
        "stats": counts(state.results),
        # Did every planned (check, target) pair get judged? `preuve verify` fails a run that says no.
        "judging": state.judging
        or {
            "complete": not interrupted,
            "reason": "interrupted" if interrupted else None,
            "planned": len(state.results),
        },
        "exit_code": exit_code,
    }


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
