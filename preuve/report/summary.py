"""The terminal summary: counts, then what failed and what could not be observed, most severe first."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from preuve.results.model import Result
from preuve.severity import SEVERITIES
from preuve.textsafe import terminal_line

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


HOST_KEY = re.compile(
    r"ssh (?P<user>[^@\s]+)@(?P<host>\S+):(?P<port>\d+): host key unknown for (?P<name>\S+) "
    r"\((?P<type>\S+) (?P<fp>\S+)\) in known_hosts (?P<kh>.+?); "
)
HOST_KEY_WORDS = {
    "fr": (
        "Clé d'hôte inconnue ({n} cible(s), {c} résultat(s) non jugé(s)) : vérifier l'empreinte hors bande, puis "
        "l'ajouter à known_hosts (ou `trust_on_first_use: true` dans l'inventaire, consigné comme tel)"
    ),
    "en": (
        "Unknown host key ({n} target(s), {c} result(s) not judged): check the fingerprint out of band, then add "
        "it to known_hosts (or `trust_on_first_use: true` in the inventory, recorded as such)"
    ),
}


def _width() -> int | None:
    """A terminal: its own width (rich reads COLUMNS too). A CI log: COLUMNS if set, else 160."""
    if sys.stdout.isatty():
        return None
    try:
        return max(40, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return 160


def _unknown_host_keys(bad: list[Result]) -> tuple[list[Result], dict[str, tuple[re.Match[str], int]]]:
    """Errors caused by an unknown host key, one entry per target (with how many results it left unjudged);
    the other results as they were."""
    keys: dict[str, tuple[re.Match[str], int]] = {}
    rest = []
    for r in bad:
        m = HOST_KEY.search(r.message.get("en", "")) if r.status == "error" else None
        if m is None:
            rest.append(r)
            continue
        found = keys.get(r.target["name"])
        keys[r.target["name"]] = (found[0] if found else m, (found[1] if found else 0) + 1)
    return rest, keys


def print_summary(
    results: list[Result],
    run: dict[str, Any],
    out: str,
    lang: str = "fr",
    console: Console | None = None,
    limit: int = 40,
) -> None:
    w = WORDS[lang]
    console = console or Console(highlight=False, width=_width())
    stats = run["stats"]
    line = "  ".join(f"[{STYLE[s]}]{w[s]}: {n}[/]" for s, n in stats.items() if n)
    console.print(
        f"[bold]preuve[/] {_safe(run['profile']['id'])} {_safe(run['profile']['version'])} — {w['title']}: {line}"
    )
    if stats.get("waived"):  # never lost among the other counts: each one is a failure a waiver hides
        console.print(f"[bold magenta]{w['waived_line'].format(n=stats['waived'])}[/]")
    bad = [r for r in results if r.status in ("fail", "error")]
    bad.sort(key=lambda r: (r.status != "fail", SEVERITIES.index(r.severity), r.check_id, r.target["name"]))
    bad, unknown_keys = _unknown_host_keys(bad)
    if bad:
        table = Table(show_lines=False, expand=False)
        table.add_column("", no_wrap=True)
        table.add_column(w["check"], overflow="fold")
        table.add_column(w["target"], overflow="fold")
        table.add_column(w["verdict"], overflow="fold", ratio=1)  # wraps: the offending value is never cut
        for r in bad[:limit]:
            table.add_row(
                f"[{STYLE[r.status]}]{w[r.status]}[/]",
                _safe(f"{r.check_id} ({r.severity})"),
                _safe(r.target["name"]),
                _safe(r.message[lang]),
            )
        console.print(table)
        if len(bad) > limit:
            console.print(f"… {len(bad) - limit} more in results.jsonl")
    if unknown_keys:  # one line per target with the fix, not one row per check it left unjudged
        count = sum(c for _, c in unknown_keys.values())
        console.print(f"[yellow]{HOST_KEY_WORDS[lang].format(n=len(unknown_keys), c=count)}:[/]")
        for name, (m, _) in sorted(unknown_keys.items()):
            port = "" if m["port"] == "22" else f"-p {m['port']} "
            kh = m["kh"] if m["kh"] != "(none given)" else "KNOWN_HOSTS (and set ssh.known_hosts in the inventory)"
            console.print(
                _safe(f"  {name}: {m['type']} {m['fp']} — ssh-keyscan {port}{m['host']} >> {kh}"), soft_wrap=True
            )
    html = Path(out) / "report.html"
    where = f"{html}" if html.exists() else f"{out}/"
    console.print(
        f"{w['where']}: {_safe(where)} ({_safe(str(out))}/: results.jsonl, junit.xml, run.json, MANIFEST.sha256)",
        soft_wrap=True,
    )
