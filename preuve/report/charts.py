"""What report.html shows rather than tells: the posture per chapter, the trend across the runs of the scope's
ledger (same profile id), and filters of the results table by status, chapter and target. Inline SVG and CSS
only: no script, no external resource (the report's Content-Security-Policy forbids both), so it works air-gapped,
in a mail client and with JavaScript off. The filters are radio buttons and generated CSS rules (`:checked ~`).

Counting: a result is counted once, in the chapter of its first requirement (the requirement that names its
JUnit class and suite); a result serving several requirements is listed with all of them but never counted twice,
so the chapter rows add up to the run's total. A result of a signal check with no requirement has its own row.
"""

from __future__ import annotations

import json
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

STATUSES = ("pass", "fail", "error", "waived", "not_applicable")
COLOURS = {"pass": "#18753c", "fail": "#b00020", "error": "#b34000", "waived": "#6a6af4", "not_applicable": "#9a9a9a"}
NO_CHAPTER = "—"


def chapter_of(result: dict[str, Any]) -> str:
    reqs = result.get("requirements") or []
    return reqs[0].split(".")[0] if reqs else NO_CHAPTER


def posture_svg(rows: list[dict[str, Any]], names: dict[str, str], labels: dict[str, str]) -> str:
    """One horizontal bar per chapter that has results, split by status (widths proportional to the counts)."""
    shown = [r for r in rows if sum(r[s] for s in STATUSES)]
    width, label_w, bar_h, gap = 900, 330, 18, 6
    height = 30 + len(shown) * (bar_h + gap)
    most = max([sum(r[s] for s in STATUSES) for r in shown] or [1])
    out = [
        f'<svg id="posture-chart" class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img"><title>{escape(labels["posture"])}</title>'
    ]
    x: float = label_w
    for s in STATUSES:  # legend
        out.append(
            f'<rect x="{x}" y="4" width="10" height="10" fill="{COLOURS[s]}"/>'
            f'<text x="{x + 14}" y="13" font-size="11">{escape(labels[s])}</text>'
        )
        x += 18 + 7 * len(labels[s])
    for i, r in enumerate(shown):
        y = 24 + i * (bar_h + gap)
        num = f"{escape(r['id'])}. " if r["id"] != NO_CHAPTER else ""
        out.append(f'<text x="0" y="{y + 13}" font-size="11">{num}{escape(names.get(r["id"], "")[:44])}</text>')
        x = float(label_w)
        for s in STATUSES:
            if r[s]:
                w = (width - label_w - 40) * r[s] / most
                out.append(
                    f'<rect class="bar s-{s}" data-chapter="{escape(r["id"])}" x="{x:.1f}" y="{y}" '
                    f'width="{w:.1f}" height="{bar_h}" fill="{COLOURS[s]}"><title>{escape(labels[s])}: '
                    f"{r[s]}</title></rect>"
                )
                x += w
        out.append(f'<text x="{x + 4:.1f}" y="{y + 13}" font-size="11">{sum(r[s] for s in STATUSES)}</text>')
    out.append("</svg>")
    return "".join(out)


def ledger_points(run_dir: Path, run: dict[str, Any], limit: int = 30) -> list[dict[str, Any]]:
    """The runs of the scope's ledger judged with this run's profile id, oldest first, then this run (appended
    to the ledger only after its report is written): run id, end time and counts per status."""
    from preuve.evidence.ledger import LedgerError, default_ledger, read_ledger

    chain = run.get("chain") or {}
    ledger = (run_dir / chain["ledger"]) if chain.get("ledger") else default_ledger(run_dir)
    points: list[dict[str, Any]] = []
    try:
        entries = read_ledger(ledger)
    except (LedgerError, OSError):
        entries = []
    here = run_dir.resolve()
    seq = chain.get("seq")
    for _, e in reversed(entries):  # newest first: a ledger of years of nightly runs is read back `limit` runs only
        if len(points) >= limit - 1:
            break
        p = (ledger.parent / e["path"]).resolve()
        if p == here or (isinstance(seq, int) and e["seq"] >= seq):  # a report regenerated later: no later run
            continue
        try:
            other = json.loads((p / "run.json").read_text())
        except (OSError, ValueError):
            continue  # a run deleted since: the chain's business (preuve verify), not the chart's
        if other.get("profile", {}).get("id") == run["profile"]["id"] and isinstance(other.get("stats"), dict):
            points.append({"run_id": other.get("run_id"), "ended_at": other.get("ended_at"), "stats": other["stats"]})
    points.reverse()
    points.append({"run_id": run["run_id"], "ended_at": run.get("ended_at"), "stats": run.get("stats") or {}})
    return points[-limit:]


def trend_svg(points: list[dict[str, Any]], labels: dict[str, str]) -> str:
    """One stacked column per run (fail, error, waived at the bottom: what needs work), oldest on the left."""
    width, height, top, bottom = 900, 220, 20, 40
    n = max(len(points), 1)
    col = min(60.0, (width - 60) / n * 0.7)
    step = (width - 60) / n
    most = max([sum(int(p["stats"].get(s, 0) or 0) for s in STATUSES) for p in points] or [1]) or 1
    out = [
        f'<svg id="trend-chart" class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img"><title>{escape(labels["trend_chart"])}'
        f'</title><line x1="50" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#999"/>'
        f'<text x="0" y="{top + 10}" font-size="11">{most}</text>'
    ]
    for i, p in enumerate(points):
        x = 55 + i * step
        y = float(height - bottom)
        for s in ("fail", "error", "waived", "pass", "not_applicable"):
            v = int(p["stats"].get(s, 0) or 0)
            if v:
                h = (height - bottom - top) * v / most
                y -= h
                out.append(
                    f'<rect class="col s-{s}" x="{x:.1f}" y="{y:.1f}" width="{col:.1f}" height="{h:.1f}" '
                    f'fill="{COLOURS[s]}"><title>{escape(str(p["run_id"]))} {escape(str(p["ended_at"]))}: '
                    f"{escape(labels[s])} {v}</title></rect>"
                )
        out.append(
            f'<text x="{x:.1f}" y="{height - bottom + 14}" font-size="10">'
            f"{escape(str(p['ended_at'] or '')[:10])}</text>"
            f'<text x="{x:.1f}" y="{height - bottom + 27}" font-size="10" fill="#b00020">'
            f"{int(p['stats'].get('fail', 0) or 0)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def filter_css(chapters: list[str], n_targets: int) -> str:
    """Each radio hides the rows that do not match it; the three groups combine (status AND chapter AND target)."""
    rules = [
        ".fr-input{position:absolute;opacity:0;pointer-events:none}",
        ".filterbar label{display:inline-block;border:1px solid #99a;border-radius:3px;padding:0 5px;"
        "margin:1px;cursor:pointer;font-size:12px}",
    ]
    groups = [("fs", list(STATUSES), "rs"), ("fc", chapters, "rc"), ("ft", [str(i) for i in range(n_targets)], "rt")]
    for g, values, cls in groups:
        rules.append(f"#{g}-all:checked~.filterbar label[for={g}-all]{{background:#000091;color:#fff}}")
        for v in values:
            key = _css_key(v)
            rules.append(
                f"#{g}-{key}:checked~table tr.row:not(.{cls}-{key}){{display:none}}"
                f"#{g}-{key}:checked~.filterbar label[for={g}-{key}]{{background:#000091;color:#fff}}"
            )
    return "\n".join(rules)


@lru_cache(maxsize=4096)  # a handful of statuses and chapters, one per target: 1,200 rows ask again and again
def _css_key(v: str) -> str:
    """A chapter id, a status or a target index as a CSS identifier part."""
    return "".join(c if c.isalnum() or c in "-_" else "x" for c in v)


def filters(results: list[dict[str, Any]]) -> dict[str, Any]:
    """What the template needs: the chapters and targets present, each result's row classes."""
    of = [chapter_of(r) for r in results]
    chapters = sorted(set(of), key=lambda c: int(c) if c.isdigit() else 99)
    targets = sorted({r["target"]["name"] for r in results})
    index = {t: i for i, t in enumerate(targets)}
    rows = [
        f"row rs-{_css_key(r['status'])} rc-{_css_key(ch)} rt-{index[r['target']['name']]}"
        for r, ch in zip(results, of, strict=True)
    ]
    return {
        "chapters": [(c, _css_key(c)) for c in chapters],
        "targets": list(enumerate(targets)),
        "row_class": rows,
        "css": filter_css(chapters, len(targets)),
        "statuses": [(s, _css_key(s)) for s in STATUSES],
    }
