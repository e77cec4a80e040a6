"""`preuve merge`: the run directories of a sharded sweep (`--shard i/n`) become one run directory.

Identical in content to a single-machine run: the shards judged disjoint targets with the same inputs, so their
results concatenated and sorted are the single run's results.jsonl (same ordering, same canonical bytes, same
evidence paths and digests since observation files are copied byte for byte). junit.xml, run.json and the manifest
are then produced by the same code as any run (preuve.run.finish). Only what is inherently per-execution
differs: run_id, UTC times, durations.

Nothing is merged blindly: each shard must pass its own manifest, all must share the inventory, profile and waivers
digests, and every shard 1..n must be present exactly once.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import shutil
from pathlib import Path
from typing import Any

from preuve.evidence.manifest import verify_manifest
from preuve.exitcodes import Exit
from preuve.results.writer import read_results


class MergeError(Exception):
    """The shard directories cannot be merged (missing shard, different inputs, tampered files)."""


def _load(run_dir: Path) -> dict[str, Any]:
    if not (run_dir / "run.json").is_file() or not (run_dir / "results.jsonl").is_file():
        raise MergeError(f"{run_dir}: not a run directory (run.json or results.jsonl missing)")
    problems = verify_manifest(run_dir)
    if problems:
        raise MergeError(f"{run_dir}: does not match its manifest: {'; '.join(problems[:3])}")
    run: dict[str, Any] = json.loads((run_dir / "run.json").read_text())
    return run


def _check_shards(runs: list[tuple[Path, dict[str, Any]]]) -> None:
    first_dir, first = runs[0]
    for d, run in runs:
        for key in ("profile", "inventory", "waivers"):
            if run[key]["sha256"] != first[key]["sha256"]:
                raise MergeError(f"{d}: {key} differs from {first_dir} (sha256): not shards of one sweep")
        if run.get("checks_selected") != first.get("checks_selected"):
            raise MergeError(f"{d}: selected checks differ from {first_dir}")
    shards: dict[str, Path] = {}
    for d, run in runs:
        shard = (run.get("scope") or {}).get("shard")
        if not shard:
            raise MergeError(f"{d}: not a shard (run without --shard i/n)")
        if shard in shards:
            raise MergeError(f"{d}: shard {shard} given twice (also {shards[shard]})")
        shards[shard] = d
    totals = {s.split("/")[1] for s in shards}
    if len(totals) != 1:
        raise MergeError(f"shards of different splits: {sorted(shards)}")
    n = int(totals.pop())
    missing = [f"{i}/{n}" for i in range(1, n + 1) if f"{i}/{n}" not in shards]
    if missing:
        raise MergeError(f"missing shard(s) {', '.join(missing)}: the merged run would be incomplete")


def _copy_observations(src: Path, out: Path) -> None:
    for path in sorted((src / "observations").glob("*/*.json")):
        dest = out / path.relative_to(src)
        if dest.exists():
            if not filecmp.cmp(path, dest, shallow=False):
                raise MergeError(f"{path}: another shard recorded a different observation for the same target")
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def merge(shard_dirs: list[Path], out: Path, *, lang: str = "fr", quiet: bool = False) -> Exit:
    """Merge the shards into `out` (created; must not hold anything) and return the merged run's exit code."""
    from preuve.inputs.errors import InputError
    from preuve.run.finish import finish_run
    from preuve.run.state import Options, copy_inputs, open_run

    if out.exists() and any(out.iterdir()):
        raise MergeError(f"run directory {out} exists and is not empty")
    runs = [(Path(d), _load(Path(d))) for d in shard_dirs]
    _check_shards(runs)
    first_dir, first = runs[0]
    inputs = first_dir / "inputs"
    waivers = inputs / "waivers.yaml"
    options = Options(
        inventory=inputs / "inventory.yaml",
        profile=inputs / "profile" / first["profile"]["file"],
        out=out,
        waivers=waivers if waivers.exists() else None,
        replay=first_dir,  # the inputs are recorded ones: no vantage point is entered
        netns=first["scanner"].get("netns"),
        lang=lang,
        quiet=quiet,
    )
    try:
        state = open_run(options)
    except InputError as exc:
        raise MergeError(f"{first_dir}: recorded inputs do not load: {'; '.join(map(str, exc.problems))}") from None
    out.mkdir(parents=True, exist_ok=True)
    copy_inputs(state)
    seen: dict[str, Path] = {}
    for d, run in runs:
        _copy_observations(d, out)
        for r in read_results(d / "results.jsonl"):
            if r.finding_id in seen:
                raise MergeError(f"{d}: {r.check_id} on {r.target['name']} also judged in {seen[r.finding_id]}")
            seen[r.finding_id] = d
            state.results.append(r)
        state.selected_checks.update(run.get("checks_selected", []))
    state.store.load()
    state.started_at = min(_parse_time(r["started_at"]) for _, r in runs)
    state.judged_at = state.started_at
    state.observe_seconds = max(r.get("observe_seconds", 0.0) for _, r in runs)
    fail_on = {(r.get("scope") or {}).get("fail_on") for _, r in runs}
    state.fail_on = fail_on.pop() if len(fail_on) == 1 else None
    state.scope_record = {"merged_shards": sorted(r["scope"]["shard"] for _, r in runs)}
    return finish_run(state, interrupted=any(r.get("interrupted") for _, r in runs))
