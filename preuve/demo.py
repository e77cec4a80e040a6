"""`preuve demo`: the lab up, the full profile run against it, the reports written and pointed at."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from pathlib import Path

from preuve.exitcodes import Exit

REPO = Path(__file__).resolve().parents[1]


def demo(a: argparse.Namespace, scan: Callable[[argparse.Namespace], int]) -> int:
    """`scan` is `preuve run` (preuve.cli.cmd_run), given by the command line: the demo does not import it back."""
    import preuve_lab as lab

    print("preuve demo: bringing the lab up (network namespaces pv-*, 198.18.0.0/15, no route out)…")
    lab.up()
    from preuve_lab.lockout import fresh_canaries

    fresh_canaries(lab.LabPaths.current())  # the demo may run twice in a row: its canaries start fresh each time
    out = Path(a.out)
    if out.exists():
        shutil.rmtree(out)
    ledger = out.parent / f"{out.name}.ledger.jsonl"  # the demo replaces its run, so it starts its own chain
    ledger.unlink(missing_ok=True)
    run = argparse.Namespace(
        inventory=REPO / "inventories" / "lab.yaml",
        profile=REPO / "profiles" / "secnumcloud-3.2.yaml",
        waivers=None,
        out=out,
        select=None,
        lang=a.lang,
        quiet=False,
        concurrency=32,
        timeout=None,
        netns=None,
        ledger=ledger,
    )
    code = scan(run)
    if code in (Exit.COMPLIANT, Exit.NON_COMPLIANT, Exit.INCOMPLETE):
        print(f"\nThe lab has weak targets on purpose: findings are expected (exit code {code}).")
        print(
            f"Reports: {out.resolve()}/report.html, junit.xml, results.jsonl, run.json, MANIFEST.sha256 "
            f"(check: cd {out} && sha256sum -c MANIFEST.sha256)"
        )
        return 0
    return code
