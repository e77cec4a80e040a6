"""The state of one preuve run inside pytest: inputs, targets, evidence store, results, and what the run's options
decided (scope, audit trail). Every field is typed: nothing travels under a string key."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preuve.evidence.store import EvidenceStore
from preuve.inputs.errors import InputError
from preuve.inputs.inventory import Inventory, load_inventory
from preuve.inputs.profile import Profile, load_profile
from preuve.inputs.source import Located
from preuve.inputs.targets import Target, targets
from preuve.inputs.waivers import Waiver, load_waivers
from preuve.judge.catalogue import CheckInfo
from preuve.judge.scope import Scope
from preuve.results.model import Result


@dataclass
class Options:
    inventory: Path
    profile: Path
    out: Path
    waivers: Path | None = None
    replay: Path | None = None
    netns: str | None = None
    concurrency: int = 32
    timeout: float | None = None
    lang: str = "fr"
    select: list[str] = field(default_factory=list)
    quiet: bool = False
    progress: str | None = None  # auto | bar | plain | none (preuve.report.progress)
    argv: list[str] = field(default_factory=list)


@dataclass
class RunState:
    options: Options
    inventory: Inventory
    inventory_src: Located
    profile: Profile
    waivers: list[Waiver]
    waivers_src: Located | None
    targets: dict[str, list[Target]]
    catalogue: dict[str, CheckInfo]
    store: EvidenceStore
    started_at: dt.datetime
    judged_at: dt.datetime
    results: list[Result] = field(default_factory=list)
    selected_checks: set[str] = field(default_factory=set)
    observe_seconds: float = 0.0
    deselected_by_profile: int = 0
    wanted: dict[str, bool] = field(default_factory=dict)  # check id -> kept by the profile and --select
    # --shard / --only / --targets-file, and --fail-on (run.json records their description under "scope")
    scope: Scope | None = None
    fail_on: str | None = None
    scope_record: dict[str, Any] | None = None
    # the auditor's options (preuve.run.audit_options): previous run, ledger, signing key, sample, live replay
    previous: Path | None = None
    ledger: Path | None = None
    sign_key: Path | None = None
    sampling: dict[str, Any] | None = None
    replay_of: dict[str, Any] | None = None
    # re-judging: the evidence files the recorded manifest vouches for (path -> sha256)
    admitted_evidence: dict[str, str] | None = None
    # judging: (check, target) pairs planned, the results.jsonl line of each result (serialised once), the end
    planned: int = 0
    result_lines: dict[int, bytes] = field(default_factory=dict)
    loop_finished: bool = False
    judging: dict[str, Any] | None = None
    # the observations, running on their own thread while judging starts: a preuve.run.observation.Sweep (typed
    # loosely: observation builds on this module, not the other way round)
    sweep: Any = None

    @property
    def timeout(self) -> float:
        return self.options.timeout or self.profile.params.timeout or self.inventory.defaults.timeout

    def target(self, kind: str, name: str) -> Target:
        return next(t for t in self.targets[kind] if t.name == name)


def open_run(options: Options) -> RunState:
    """Load and validate every input before anything touches the network (InputError on any problem)."""
    problems = []
    loaded: dict[str, Any] = {}

    def waivers_of(path: Path | None) -> Any:  # lifetime capped by the profile (its default if unreadable)
        profile = loaded.get("profile")
        return load_waivers(path, profile.params.waivers.max_days if profile else 365)

    steps: tuple[tuple[str, Callable[[Any], Any], Path | None], ...] = (
        ("inventory", load_inventory, options.inventory),
        ("profile", load_profile, options.profile),
        ("waivers", waivers_of, options.waivers),
    )
    for key, loader, path in steps:
        try:
            loaded[key] = loader(path)
        except InputError as exc:
            problems.extend(exc.problems)
    if not problems and options.replay is None:  # a live run enters its namespaces: they must exist
        from preuve.inputs.inventory import namespace_problems
        from preuve.observe.network.netns import problem

        inventory, located = loaded["inventory"]
        problems += namespace_problems(inventory, located, problem, scanner=not options.netns)
    if problems:
        raise InputError(problems)
    inv, inv_src = loaded["inventory"]
    waivers, waivers_src = loaded["waivers"]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # run.json keeps seconds: a replay judges at this instant
    state = RunState(
        options=options,
        inventory=inv,
        inventory_src=inv_src,
        profile=loaded["profile"],
        waivers=waivers,
        waivers_src=waivers_src,
        targets=targets(inv),
        catalogue={},  # filled once pytest has imported the check modules
        store=EvidenceStore(options.out),
        started_at=now,
        judged_at=now,
    )
    if not options.netns and inv.scanner.netns and options.replay is None:
        options.netns = inv.scanner.netns
    return state


def copy_inputs(state: RunState) -> None:
    """Keep the exact inputs in the run directory so an auditor can re-judge offline with the same ones."""
    dest = state.options.out / "inputs"
    (dest / "profile").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(state.inventory_src.path, dest / "inventory.yaml")
    for f in state.profile.files:
        shutil.copyfile(f, dest / "profile" / Path(f).name)
    if state.waivers_src is not None:
        shutil.copyfile(state.waivers_src.path, dest / "waivers.yaml")
    if state.inventory.flow_matrix:  # content-addressed, inside the run whatever path the inventory wrote
        import hashlib
        import json

        from preuve.inputs.flows import INPUTS_INDEX

        src = Path(state.inventory.flow_matrix)
        data = src.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        rel = Path("flow_matrix") / digest / src.name  # the file name stays: it names the flow_matrix target
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(data)
        raw = state.inventory_src.data.get("flow_matrix")
        index = {"flow_matrix": {"as_written": raw, "copy": rel.as_posix(), "sha256": digest}}
        (dest / INPUTS_INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    _copy_roster(state, dest)
    _copy_roster(state, dest, "software_inventory")


def _copy_roster(state: RunState, dest: Path, key: str = "roster") -> None:
    """baseline.roster (or baseline.software_inventory: `key`) given as {file: ...}: kept in inputs/ like the flow
    matrix, so a re-judge reads the same list."""
    import hashlib
    import json

    from preuve.inputs.flows import INPUTS_INDEX, recorded_input

    data = state.inventory_src.data if isinstance(state.inventory_src.data, dict) else {}
    written = (data.get("baseline") or {}).get(key) if isinstance(data.get("baseline"), dict) else None
    if not isinstance(written, dict) or not isinstance(written.get("file"), str):
        return
    here = Path(state.inventory_src.path).resolve().parent
    src = recorded_input(here, key, written["file"]) or (here / Path(written["file"]).expanduser()).resolve()
    if not src.is_file():
        return
    blob = src.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    rel = Path(key) / digest / src.name
    (dest / rel).parent.mkdir(parents=True, exist_ok=True)
    (dest / rel).write_bytes(blob)
    index_file = dest / INPUTS_INDEX
    index = json.loads(index_file.read_text()) if index_file.is_file() else {}
    index[key] = {"as_written": written["file"], "copy": rel.as_posix(), "sha256": digest}
    index_file.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
