"""The auditor's options of a run, as plugin options: sampling, the previous run (diff, trend), the scope's
ledger (hash chain), the signing key, and a live replay of an earlier run, kept in the run state."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from preuve.exitcodes import Exit
from preuve.run.state import RunState


def add_audit_options(g: Any) -> None:
    g.addoption("--preuve-sample", help="sample N targets per kind, or a fraction (0.2, 20%%)")
    g.addoption("--preuve-seed", default="0", help="seed of the sample (recorded in run.json)")
    g.addoption("--preuve-previous", help="run directory to compare with (default: the ledger's latest run)")
    g.addoption("--preuve-ledger", help="the scope's ledger.jsonl (default: next to the run directory)")
    g.addoption("--preuve-sign-key", help="Ed25519 private key (PEM) that signs MANIFEST.sha256")
    g.addoption("--preuve-replay-of", help="this live run replays that earlier run (same profile and sample)")


def recorded_sampling(run_dir: Path) -> dict[str, Any] | None:
    try:
        sampling: dict[str, Any] | None = json.loads((Path(run_dir) / "run.json").read_text()).get("sampling")
        return sampling
    except (OSError, ValueError):
        return None


def configure_audit(config: pytest.Config, state: RunState) -> None:
    from preuve.inputs.sampling import sample

    opt = config.getoption
    state.previous = Path(opt("--preuve-previous")) if opt("--preuve-previous") else None
    state.ledger = Path(opt("--preuve-ledger")) if opt("--preuve-ledger") else None
    key = opt("--preuve-sign-key")
    if key and not Path(key).is_file():
        pytest.exit(f"preuve: signing key {key} not found (`preuve keygen` makes one)", returncode=int(Exit.USAGE))
    if key:
        from preuve.evidence.signing import private_fingerprint

        try:
            private_fingerprint(Path(key))
        except (OSError, ValueError, TypeError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) and str(exc).startswith(str(key)) else type(exc).__name__
            pytest.exit(f"preuve: signing key {key}: not an Ed25519 private key ({reason})", returncode=int(Exit.USAGE))
    state.sign_key = Path(key) if key else None
    size, seed = opt("--preuve-sample"), opt("--preuve-seed")
    if state.options.replay is not None and size is None:  # re-judging: the recorded sample, exactly
        rec = recorded_sampling(state.options.replay)
        if rec:
            size, seed = rec["size"], rec["seed"]
    replay_of = opt("--preuve-replay-of")
    if replay_of:
        recorded = json.loads((Path(replay_of) / "run.json").read_text())
        state.replay_of = {"run_id": recorded.get("run_id"), "path": str(replay_of), "mode": "live"}
    if size is not None:
        try:
            state.targets, state.sampling = sample(state.targets, size, seed)
        except ValueError as exc:
            sys.stderr.write(f"preuve: {exc}\n")
            pytest.exit(str(exc), returncode=int(Exit.USAGE))
