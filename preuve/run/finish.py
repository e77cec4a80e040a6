"""End of a run: results.jsonl first (the source of truth), then everything derived from it, manifest last."""

from __future__ import annotations

import json
from pathlib import Path

from preuve.evidence.canonical import write_atomic
from preuve.evidence.manifest import write_manifest
from preuve.exitcodes import Exit
from preuve.report.bundle import TrailOptions, audit_trail
from preuve.report.gate import gate
from preuve.report.junit import write_junit
from preuve.results.writer import counts, sort_results, write_results
from preuve.run.runinfo import run_info
from preuve.run.state import RunState


def warm_up(run_dir: Path | None = None) -> None:
    """Load what the end of a run needs (report modules, referential, CISO split, the copied inventory's line map)
    ahead of time; called on a background thread while the run waits on the network, so that the wait is not
    wasted (preuve.report.bundle.preload)."""
    from preuve.report.bundle import preload

    preload(run_dir)


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
        # diff.json, report.html, OSCAL, CISO Assistant CSV, SARIF, Prowler; JUnit alongside
        trail.write_derived(beside=lambda: write_junit(results, out / "junit.xml", run))
        write_manifest(out)
        trail.seal()  # signature, ledger entry
    if not state.options.quiet:
        from preuve.report.summary import print_summary  # rich is loaded only when something is shown

        print_summary(results, run, str(out), state.options.lang)
    return code


def exit_process(code: int) -> int:
    """End the process of a finished `preuve run`/`preuve judge` now: every output is written and closed by then
    (results, reports, manifest, ledger, summary), and tearing the interpreter down (modules, garbage collection of
    the run's objects) cost 0.1-0.2 s more for nothing. Standard streams are flushed and the atexit handlers run
    (logging, temporary directories' finalizers, anything a library registered), as a normal exit does; only the
    teardown is skipped. Returns `code` (a normal exit follows) when a non-daemon thread is still running, which a
    normal exit would wait for, or when a stream cannot be flushed (the normal exit reports it as it always has)."""
    import atexit
    import os
    import sys
    import threading

    main = threading.main_thread()
    if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return code
    streams = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    try:
        for stream in streams:
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return code
    atexit._run_exitfuncs()
    for stream in streams:
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
