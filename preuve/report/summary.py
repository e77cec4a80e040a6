"""The terminal summary: counts, then what failed and what could not be observed, most severe first."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from preuve.judge.verdicts import SEVERITIES
from preuve.report.textsafe import terminal_line
from preuve.results.model import Result

WORDS = {
    "fr": {
        "pass": "conforme",
        "fail": "non conforme",
        "error": "erreur",
        "not_applicable": "non applicable",
        "waived": "dérogation",
        "manual": "manuel",
        "title": "Résultats",
        "where": "Rapports",
        "check": "contrôle",
        "target": "cible",
        "verdict": "observé / attendu",
        "waived_line": "Dérogations : {n} non-conformité(s) couverte(s) par une dérogation (voir results.jsonl)",
    },
    "en": {
        "pass": "pass",
        "fail": "fail",
        "error": "error",
        "not_applicable": "not applicable",
        "waived": "waived",
        "manual": "manual",
        "title": "Results",
        "where": "Reports",
        "check": "check",
        "target": "target",
        "verdict": "observed / expected",
        "waived_line": "Waivers: {n} failure(s) covered by a waiver (see results.jsonl)",
    },
}
STYLE = {
    "pass": "green",
    "fail": "bold red",
    "error": "yellow",
    "waived": "magenta",
    "not_applicable": "dim",
    "manual": "cyan",
}


def _safe(text: str) -> str:
    """Target-controlled text for the terminal: escape sequences and control characters made visible, rich
    markup (`[bold]`) shown as typed rather than interpreted."""
    return escape(terminal_line(text))


def _short(message: str, width: int = 180) -> str:
    """The terminal shows the gist; results.jsonl and the reports keep the whole verdict."""
    return message if len(message) <= width else message[: width - 1] + "…"


def print_summary(
    results: list[Result],
    run: dict[str, Any],
    out: str,
    lang: str = "fr",
    console: Console | None = None,
    limit: int = 40,
) -> None:
    w = WORDS[lang]
    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 160)  # CI logs: wide
    stats = run["stats"]
    line = "  ".join(f"[{STYLE[s]}]{w[s]}: {n}[/]" for s, n in stats.items() if n)
    console.print(
        f"[bold]preuve[/] {_safe(run['profile']['id'])} {_safe(run['profile']['version'])} — {w['title']}: {line}"
    )
    if stats.get("waived"):  # never lost among the other counts: each one is a failure a waiver hides
        console.print(f"[bold magenta]{w['waived_line'].format(n=stats['waived'])}[/]")
    bad = [r for r in results if r.status in ("fail", "error")]
    bad.sort(key=lambda r: (r.status != "fail", SEVERITIES.index(r.severity), r.check_id, r.target["name"]))
    if bad:
        table = Table(show_lines=False, expand=False)
        for col in ("", w["check"], w["target"], w["verdict"]):
            table.add_column(col, overflow="fold")
        for r in bad[:limit]:
            table.add_row(
                f"[{STYLE[r.status]}]{w[r.status]}[/]",
                _safe(f"{r.check_id} ({r.severity})"),
                _safe(r.target["name"]),
                _safe(_short(r.message[lang])),
            )
        console.print(table)
        if len(bad) > limit:
            console.print(f"… {len(bad) - limit} more in results.jsonl")
    console.print(f"{w['where']}: {_safe(str(out))}/ (results.jsonl, junit.xml, run.json, MANIFEST.sha256)")
