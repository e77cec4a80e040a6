"""`preuve checks`: list, filter and describe the catalogue (what InSpec, Prowler and kube-bench users expect).

Decisions:
- Filters combine (AND); a repeated filter is an OR of its values. `--requirement 10.2` matches 10.2 and 10.2.a-c
  (a chapter `10` matches all of chapter 10); `--severity high` means high *or worse*, as `--fail-on` does;
  `--domain` is the checks folder (ssh, tls, ...), `--tag` an exact tag.
- On a terminal the table wraps long cells; piped (`| grep`, `| cut`), it prints one tab-separated line per check
  with the full id, so scripts never see an id cut by a column width. `--format json` is the stable machine form.
- `describe` prints the rationale, the remediation, the SecNumCloud requirement elements with what the check shows
  of each, and the profile parameters the check reads (found in its source, with their default values).
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

from preuve.judge.catalogue import CheckInfo
from preuve.severity import SEVERITIES

PARAM = re.compile(r"\bparams\.([a-z_]+)\.([a-z_0-9]+)")


def domain_of(info: CheckInfo) -> str:
    return Path(info.path).parent.name


def _requirement_matches(wanted: str, reqs: tuple[str, ...]) -> bool:
    wanted = wanted.rstrip(".")
    return any(r == wanted or r.startswith(wanted + ".") for r in reqs)


def select(
    catalogue: dict[str, CheckInfo],
    *,
    requirement: list[str] | None = None,
    tag: list[str] | None = None,
    severity: str | None = None,
    domain: list[str] | None = None,
) -> list[CheckInfo]:
    out = []
    for info in sorted(catalogue.values(), key=lambda i: i.id):
        s = info.spec
        if requirement and not any(_requirement_matches(w, s.requirements) for w in requirement):
            continue
        if tag and not set(tag) & set(s.tags):
            continue
        if severity and SEVERITIES.index(s.severity) > SEVERITIES.index(severity):
            continue
        if domain and domain_of(info) not in domain:
            continue
        out.append(info)
    return out


def _function(info: CheckInfo) -> Any:
    module = sys.modules.get(info.spec.module)
    for obj in vars(module).values() if module else ():
        spec = getattr(obj, "__preuve_check__", None)
        if spec is not None and spec.id == info.id:
            return obj
    return None


def parameters(info: CheckInfo) -> dict[str, Any]:
    """The profile parameters (`section.name`) the check's function reads, with their default values."""
    func = _function(info)
    if func is None:
        return {}
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return {}
    from pydantic import BaseModel

    from preuve.inputs.params import Params

    defaults = Params()
    out: dict[str, Any] = {}
    for section, name in PARAM.findall(source):
        value = getattr(getattr(defaults, section, None), name, None)
        out[f"{section}.{name}"] = value.model_dump() if isinstance(value, BaseModel) else value
    return dict(sorted(out.items()))


def observed_by(info: CheckInfo) -> list[dict[str, Any]]:
    """What the check reads and who observes it: each evidence fixture its function takes, from the collectors'
    registry (the collector, the fact of its observation, the declaring module)."""
    func = _function(info)
    if func is None:
        return []
    from preuve.observe.registry import registry

    fixtures = registry().fixtures
    names = [n for n in inspect.signature(func).parameters if n in fixtures]
    return [
        {
            "fixture": n,
            "collector": fixtures[n].collector,
            "fact": fixtures[n].fact,
            "module": fixtures[n].module,
            "doc": fixtures[n].doc,
        }
        for n in names
    ]


def as_dict(info: CheckInfo, lang: str, *, full: bool = False) -> dict[str, Any]:
    s = info.spec
    d: dict[str, Any] = {
        "id": s.id,
        "title": info.title[lang],
        "requirements": list(s.requirements),
        "target": s.target,
        "severity": s.severity,
        "rule": s.rule,
        "tags": list(s.tags),
        "domain": domain_of(info),
        "path": info.path,
    }
    if full:
        d["rationale"] = info.rationale[lang]
        d["remediation"] = info.remediation[lang]
        d["requirement_elements"] = [{"element": e, "shows": why} for e, why in s.evidences]
        d["parameters"] = parameters(info)
        d["observed_by"] = observed_by(info)
    return d


def _table(rows: list[CheckInfo], lang: str, out: Any) -> None:
    if not out.isatty():  # piped: full values, one line per check, tab-separated
        out.write("id\trequirements\ttarget\tseverity\trule\ttitle\n")
        for i in rows:
            s = i.spec
            out.write("\t".join([s.id, ",".join(s.requirements), s.target, s.severity, s.rule, i.title[lang]]) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    table.add_column("id", no_wrap=True)  # ids are never cut: other columns wrap
    for name in ("requirements", "target", "severity", "rule", "title"):
        table.add_column(name, overflow="fold")
    for i in rows:
        s = i.spec
        table.add_row(s.id, ", ".join(s.requirements), s.target, s.severity, s.rule, i.title[lang])
    Console(file=out).print(table)


def _describe(info: CheckInfo, lang: str, out: Any) -> None:
    d = as_dict(info, lang, full=True)
    head = {
        "fr": ("Exigences", "Justification", "Correction", "Paramètres du profil", "aucun", "Observé par"),
        "en": ("Requirements", "Rationale", "Remediation", "Profile parameters", "none", "Observed by"),
    }[lang]
    lines = [
        f"{d['id']}: {d['title']}",
        f"  severity {d['severity']}, target {d['target']}, rule {d['rule']}, domain {d['domain']}"
        + (f", tags {', '.join(d['tags'])}" if d["tags"] else ""),
        f"  {d['path']}",
        "",
        f"{head[0]}:",
    ]
    for e in d["requirement_elements"]:
        lines.append(f"  {e['element']}" + (f": {e['shows']}" if e["shows"] else ""))
    lines += ["", f"{head[1]}:", f"  {d['rationale']}", "", f"{head[2]}:", f"  {d['remediation']}", "", f"{head[3]}:"]
    lines += [f"  {k} = {json.dumps(v, ensure_ascii=False)}" for k, v in d["parameters"].items()] or [f"  {head[4]}"]
    lines += ["", f"{head[5]}:"]
    lines += [
        f"  {o['fixture']}: collector {o['collector']}"
        + (f", fact {o['fact']}" if o["fact"] else "")
        + f" ({o['module']}): {o['doc']}"
        for o in d["observed_by"]
    ] or [f"  {head[4]}"]
    out.write("\n".join(lines) + "\n")


def cmd_checks(a: argparse.Namespace) -> int:
    try:
        return _checks(a)
    except BrokenPipeError:  # `preuve checks | head`: the reader had enough
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _checks(a: argparse.Namespace) -> int:
    from preuve.exitcodes import Exit
    from preuve.judge.catalogue import CatalogueError, load_catalogue
    from preuve.judge.packs import use

    use(a.checks_dir)
    try:
        catalogue = load_catalogue()
    except CatalogueError as exc:
        print(f"preuve checks: {exc}", file=sys.stderr)
        return int(Exit.INVALID_INPUT)
    out = sys.stdout
    if getattr(a, "action", None) == "describe":
        missing = [i for i in a.ids if i not in catalogue]
        if missing:
            near = sorted(c for c in catalogue if any(m.lower() in c.lower() for m in missing))[:10]
            print(
                f"preuve checks describe: unknown check id {', '.join(missing)}"
                + (f" (did you mean {', '.join(near)}?)" if near else ""),
                file=sys.stderr,
            )
            return int(Exit.USAGE)
        if a.format == "json":
            json.dump([as_dict(catalogue[i], a.lang, full=True) for i in a.ids], out, ensure_ascii=False, indent=2)
            out.write("\n")
            return 0
        for n, i in enumerate(a.ids):
            if n:
                out.write("\n")
            _describe(catalogue[i], a.lang, out)
        return 0
    rows = select(catalogue, requirement=a.requirement, tag=a.tag, severity=a.severity, domain=a.domain)
    if a.format == "json":
        json.dump([as_dict(i, a.lang) for i in rows], out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        _table(rows, a.lang, out)
    return 0


def add_parser(sub: Any) -> None:
    c = sub.add_parser("checks", help="list (and filter) the catalogue of checks; `checks describe ID` for one")
    c.add_argument("action", nargs="?", choices=["list", "describe"], default="list")
    c.add_argument("ids", nargs="*", metavar="ID", help="describe: check ids")
    c.add_argument("--lang", default="fr", choices=["fr", "en"])
    c.add_argument(
        "--format",
        default="table",
        choices=["table", "json"],
        help="table (tab-separated when piped, full ids) or json",
    )
    c.add_argument("--requirement", action="append", metavar="REQ", help="e.g. 10.2 (prefix; repeatable)")
    c.add_argument("--tag", action="append", help="exact tag (repeatable)")
    c.add_argument("--severity", choices=SEVERITIES, help="this severity or worse")
    c.add_argument("--domain", action="append", help="checks folder: ssh, tls, ... (repeatable)")
    c.add_argument("--checks-dir", action="append", metavar="DIR", help="include a check pack of your own")
    c.set_defaults(func=cmd_checks)
