"""End of a run: results.jsonl first (the source of truth), then everything derived from it, manifest last."""

from __future__ import annotations

import json

from preuve.evidence.canonical import write_atomic
from preuve.evidence.manifest import write_manifest
from preuve.exitcodes import Exit
from preuve.report.bundle import TrailOptions, audit_trail
from preuve.report.gate import gate
from preuve.report.junit import write_junit
from preuve.results.writer import counts, sort_results, write_results
from preuve.run.runinfo import run_info
from preuve.run.state import RunState


def warm_up() -> None:
    """Load what the end of a run needs (report modules, template, referential) ahead of time; called on a
    background thread while the run waits on the network, so that the wait is not wasted."""
    from preuve.report import bundle, exports, html  # noqa: F401
    from preuve.report.coverage import requirements

    requirements()
    html._template()


def exit_code(stats: dict[str, int]) -> Exit:
    if stats["fail"]:
        return Exit.NON_COMPLIANT
    if stats["error"] or not any(stats.values()):  # nothing judged is not compliance
        return Exit.INCOMPLETE
    return Exit.COMPLIANT


def finish_run(state: RunState, interrupted: bool = False) -> Exit:
    out = state.options.out
    results = sort_results(state.results)
    code = gate(exit_code(counts(results)), results, state.fail_on)
    if interrupted and code == Exit.COMPLIANT:
        code = Exit.INCOMPLETE
    write_results(results, out / "results.jsonl", state.result_lines)
    run = run_info(state, int(code), interrupted)
    options = TrailOptions(
        out=out,
        lang=state.options.lang,
        ledger=state.ledger,
        sign_key=state.sign_key,
        previous=state.previous,
        replay_of=state.replay_of,
        sampling=state.sampling,
    )
    with audit_trail(options, run) as trail:  # chain link, sampling, previous run: recorded in run.json
        write_atomic(out / "run.json", json.dumps(run, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n")
        write_junit(results, out / "junit.xml", run)
        trail.write_derived()  # diff.json, report.html, OSCAL, CISO Assistant CSV
        write_manifest(out)
        trail.seal()  # signature, ledger entry
    if not state.options.quiet:
        from preuve.report.summary import print_summary  # rich is loaded only when something is shown

        print_summary(results, run, str(out), state.options.lang)
    return code
