"""The auditor's files of a run, around the core ones: the link to the previous run (hash chain), the
derived reports (diff.json, report.html, OSCAL, CISO Assistant CSV), and, after the manifest, the signature
and the ledger entry. Everything derived is generated from results.jsonl and run.json, never from live state.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preuve.evidence import ledger as ledger_mod
from preuve.evidence.canonical import write_atomic
from preuve.report.gc_pause import gc_paused


@dataclass(frozen=True)
class TrailOptions:
    """What the run's options decided for its audit trail (the driver fills it from the run state)."""

    out: Path
    lang: str = "fr"
    ledger: Path | None = None  # --preuve-ledger (default: next to the run directory)
    sign_key: Path | None = None
    previous: Path | None = None  # --preuve-previous (default: the ledger's latest run of the same profile)
    replay_of: dict[str, Any] | None = None  # the run this one re-judges (or replays live, mode "live")
    sampling: dict[str, Any] | None = None


def preload(run_dir: Path | None = None) -> None:
    """What the end of a run's reports read or compile, loaded ahead of time: meant for the driver's warm-up
    thread, while the run waits on the network (each is cached; an error here only loses the head start).
    `run_dir`: the run directory once its inputs are copied (the inventory the JUnit and SARIF locations read)."""
    from preuve.report import html  # noqa: F401 (its modules: the page is written without a template)
    from preuve.report.coverage import requirements
    from preuve.report.exports import ciso_library
    from preuve.report.locate import inventory_lines

    requirements()  # the referential (YAML): coverage, OSCAL titles, CSV
    ciso_library()  # CISO Assistant's node split (YAML)
    if run_dir is not None:
        inventory_lines(Path(run_dir) / "inputs" / "inventory.yaml")


@contextlib.contextmanager
def audit_trail(options: TrailOptions, run: dict[str, Any]) -> Iterator[Trail]:
    """Hold the scope's ledger from choosing the previous run until this run is appended to it."""
    ledger = Path(options.ledger or ledger_mod.default_ledger(options.out))
    with ledger_mod.locked(ledger):
        trail = Trail(options, run, ledger)
        yield trail


def outside_reason(options: TrailOptions, run: dict[str, Any]) -> str | None:
    """Why this run stays outside the scope's hash chain (None: it is chained).

    The chain records the scope's real observations, whatever their profile: each `preuve run` that judged
    something. A re-judge (`preuve judge`) is an experiment on recorded evidence: outside the chain unless
    --ledger names one, so deleting a scratch re-judge never breaks the chain. A run that selected nothing
    (a --select typo) judged nothing and is not chained either."""
    replay = options.replay_of or {}
    if replay and replay.get("mode") != "live" and not options.ledger:
        return (
            f"re-judge of run {replay.get('run_id')}: re-judges stay outside the chain unless "
            "`preuve judge --ledger` is given"
        )
    if (run.get("judging") or {}).get("planned", 1) == 0:
        return "nothing was selected: no check was judged on any target"
    return None


class Trail:
    def __init__(self, options: TrailOptions, run: dict[str, Any], ledger: Path):
        self.out, self.ledger, self.lang = options.out, ledger, options.lang
        self.sign_key: Path | None = options.sign_key
        self.outside = outside_reason(options, run)
        replay = options.replay_of or {}
        prev = options.previous
        if prev is None and self.outside and replay.get("path"):
            prev = Path(replay["path"])  # a re-judge is compared with the run it re-judges
        elif prev is None and not self.outside:
            prev = ledger_mod.previous_run(ledger, self.out, run["profile"]["id"])  # same profile only
        self.previous = Path(prev) if prev else None
        run["chain"] = (
            {"ledger": None, "outside": self.outside} if self.outside else ledger_mod.chain_link(ledger, self.out)
        )
        run["previous"] = str(self.previous) if self.previous else None
        run["sampling"] = options.sampling
        if self.sign_key:
            from preuve.evidence.signing import private_fingerprint

            run["signer"] = {"fingerprint": private_fingerprint(self.sign_key)}  # verify holds the run to it
        self.run = run

    def write_derived(self, beside: Callable[[], None] | None = None) -> None:
        """diff.json (against the previous run), report.html, OSCAL assessment-results, CISO Assistant CSV, SARIF,
        the Prowler crosswalk; `beside`: another writer of the run's end (JUnit). The exports are written by a
        forked child while this process writes the diff and the pages (both_cores.py)."""
        from preuve.report.both_cores import both
        from preuve.report.exports import CSV_FILE, OSCAL_FILE, write_ciso_csv, write_oscal
        from preuve.report.html import run_coverage, write_report
        from preuve.report.prowler import PROWLER_FILE, write_prowler
        from preuve.report.rights import write_rights
        from preuve.report.sarif import SARIF_FILE, write_sarif
        from preuve.results.jsonl import read_jsonl

        with gc_paused():  # see gc_pause.py: a full collection over the whole run's objects, for nothing
            results = read_jsonl(self.out / "results.jsonl")  # parsed once, for every report and the diff
            cov = run_coverage(self.run, results)

            # `beside` (JUnit, ~30 ms at 1,200 results) goes where there is room: with the exports (OSCAL alone is
            # ~50 ms) when the pages wait on a diff against the previous run (~30 ms), with the pages otherwise
            diffing = self.previous is not None and (self.previous / "results.jsonl").is_file()

            def exports() -> None:
                write_oscal(self.out / OSCAL_FILE, results, self.run, cov, self.lang)
                write_ciso_csv(self.out / CSV_FILE, results, cov, self.lang)
                write_prowler(self.out / PROWLER_FILE, results)
                write_rights(self.out, results)  # identity-rights.csv/json when ACC-RIGHTS-TABLE was judged
                if beside is not None and diffing:
                    beside()

            def pages() -> None:
                diff = self._diff(results) if diffing else None
                write_report(self.out, self.lang, results=results, diff=diff, cov=cov)
                write_sarif(self.out / SARIF_FILE, self.out, self.lang, results=results)
                if beside is not None and not diffing:
                    beside()

            both(exports, pages, len(results))

    def _diff(self, results: list[dict[str, Any]]) -> dict[str, Any] | None:
        """diff.json against the previous run (None when there is none, or it cannot be read)."""
        from preuve.results.diff import diff_runs

        if self.previous is None:
            return None
        try:
            diff: dict[str, Any] = diff_runs(self.previous, self.out, current=results)
        except (OSError, ValueError, KeyError) as exc:
            sys.stderr.write(f"preuve: no diff against {self.previous}: {exc}\n")
            return None
        data = json.dumps(diff, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        write_atomic(self.out / "diff.json", data)
        return diff

    def seal(self) -> None:
        """After MANIFEST.sha256: sign it (optional), then append the run to the scope's ledger."""
        if self.sign_key:
            from preuve.evidence.signing import sign_run

            sign_run(self.out, self.sign_key)
        if not self.outside:
            ledger_mod.append(self.ledger, self.out, self.run)
