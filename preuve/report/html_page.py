"""report.html's page, written in Python: what preuve/data/report.html.j2 wrote with jinja2 (trim_blocks,
lstrip_blocks, autoescape), byte for byte (tests/unit/test_report_html_page.py renders that template, kept in
tests/fixtures/report-loops/, against this on several runs). Without jinja2 no run imports it (~30 ms) nor loads
a compiled template, and the page is written in a few milliseconds.

Every value from the run goes through `esc` (markupsafe.escape's five characters); `posture_svg`, `trend_svg`,
`sheets` and `result_rows` are markup already (escaped where they were made).
"""

from __future__ import annotations

from typing import Any

STYLE = """body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 13px; color: #1b1b1b; margin: 24px auto; max-width: 1100px; }
h1 { font-size: 22px; border-bottom: 3px solid #000091; padding-bottom: 6px; }
h2 { font-size: 17px; color: #000091; margin-top: 28px; border-bottom: 1px solid #ccd; }
h3 { font-size: 14px; margin: 0 0 6px 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.fail, .s-fail { color: #b00020; font-weight: bold; }
.pass, .s-pass { color: #18753c; }
.error, .s-error { color: #b34000; font-weight: bold; }
.waived, .s-waived { color: #6a6af4; }
.sheet { border: 1px solid #bbb; border-left: 6px solid #b00020; padding: 8px 12px; margin: 10px 0; page-break-inside: avoid; }
.sheet.st-error { border-left-color: #b34000; } .sheet.st-waived { border-left-color: #6a6af4; }
.sev-critical { background: #b00020; color: #fff; padding: 0 4px; } .sev-high { background: #e1000f; color: #fff; padding: 0 4px; }
.sev-medium { background: #fc5d00; color: #fff; padding: 0 4px; } .sev-low { background: #999; color: #fff; padding: 0 4px; }
code, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all; }
.muted { color: #666; }
dl.kv { display: grid; grid-template-columns: 180px 1fr; gap: 2px 12px; margin: 4px 0; }
dl.kv dt { font-weight: bold; } dl.kv dd { margin: 0; }
svg.chart { display: block; margin: 8px 0; max-width: 100%; height: auto; }
.filterbar { margin: 6px 0; }
"""  # noqa: E501 (the stylesheet as it was written)

_COUNT_KEYS = ("regressions", "new_failures", "newly_observed", "fixed", "persisting", "changed_observed", "new_errors")


def esc(value: Any) -> str:
    """What the template's autoescape wrote for a value (markupsafe.escape: & < > ' ")."""
    s = value if isinstance(value, str) else str(value)
    if "&" in s:
        s = s.replace("&", "&amp;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if "'" in s:
        s = s.replace("'", "&#39;")
    if '"' in s:
        s = s.replace('"', "&#34;")
    return s


def _join(items: Any, sep: str = ", ") -> str:
    return esc(sep.join(str(i) for i in items))


def page(c: dict[str, Any]) -> str:
    """The page for the context `render` makes (the names the template used)."""
    t, run, lang, shown = c["t"], c["run"], c["lang"], c["shown"]
    stats, profile, inventory = run["stats"], run["profile"], run["inventory"]
    o: list[str] = [
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(lang)}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src "
        'data:">\n'
        f"<title>{esc(t['title'])} — {esc(profile['id'])} — {esc(run['started_at'])}</title>\n"
        "<style>\n",
        STYLE,
        f'{esc(c["filters"]["css"])}\n</style>\n</head>\n<body>\n<h1>{esc(t["title"])}</h1>\n<dl class="kv">\n',
        f'  <dt>{esc(t["run"])}</dt><dd class="mono">{esc(run["run_id"])}</dd>\n',
        f"  <dt>{esc(t['profile'])}</dt><dd>{esc(profile['id'])} {esc(profile['version'])} "
        f'<span class="mono muted">sha256 {esc(profile["sha256"])}</span></dd>\n',
        f"  <dt>{esc(t['inventory'])}</dt><dd>{esc(inventory['name'])} "
        f'<span class="mono muted">sha256 {esc(inventory["sha256"])}</span></dd>\n',
        f"  <dt>{esc(t['started'])} / {esc(t['ended'])}</dt><dd>{esc(run['started_at'])} / "
        f"{esc(run['ended_at'])} (UTC)</dd>\n",
    ]
    replay = run.get("replay_of")
    if replay:
        o.append(f'<dt>{esc(t["replay_of"])}</dt><dd class="mono">{esc(replay["run_id"])} ({esc(replay["path"])})</dd>')
    o.append("</dl>\n")
    if stats.get("waived"):
        banner = esc(t["waived_banner"].format(n=stats["waived"]))
        o.append(f'<p class="waived-banner s-waived" id="waived"><strong>{banner}</strong></p>\n')
    o.append(f'\n<h2 id="summary">{esc(t["summary"])}</h2>\n<table class="summary">\n')
    heads = "".join(f"<th>{esc(t[s])}</th>" for s in shown)
    o.append(f"  <tr><th>{esc(t['chapter'])}</th>{heads}<th>{esc(t['manual'])}</th></tr>\n")
    li = c["li"]
    for ch in c["chapters"]:
        num = f"{esc(ch['id'])}. " if ch["id"] != "—" else ""
        cells = "".join(f'<td class="n{" " + esc(s) if ch[s] else ""}">{esc(ch[s])}</td>' for s in shown)
        o.append(
            f'  <tr><td>{num}{esc(ch["title"][li])}</td>{cells}<td class="n muted">{esc(ch["manual"])}</td></tr>\n'
        )
    totals = "".join(f'<th class="n">{esc(stats[s])}</th>' for s in shown)
    o.append(
        f"  <tr><th>{esc(t['total'])} ({esc(t['results'])})</th>{totals}"
        f'<th class="n">{esc(c["cov_totals"]["manual"])}</th></tr>\n</table>\n'
        f'<p class="muted" id="count-note">{esc(t["count_note"])}</p>\n'
        f'<h3 id="posture">{esc(t["posture"])}</h3>\n{c["posture_svg"]}\n\n<h2 id="trend">{esc(t["trend"])}</h2>\n'
    )
    if len(c["trend_points"]) > 1:
        o.append(f"<h3>{esc(t['trend_chart'])}</h3>\n{c['trend_svg']}")
    diff = c["diff"]
    if diff:
        o.append(_trend(diff, t, lang, shown, stats))
    else:
        o.append(f'<p class="muted">{esc(t["no_previous"])}</p>\n')
    o.append(f'\n<h2 id="critical">{esc(t["critical"])}</h2>\n')
    fails = c["fails"]
    if fails:
        o.append(
            f"<table>\n  <tr><th>{esc(t['finding'])}</th><th>{esc(t['severity'])}</th><th>{esc(t['requirement'])}</th>"
            f"<th>{esc(t['check'])}</th><th>{esc(t['target'])}</th><th>{esc(t['verdict'])}</th></tr>\n"
        )
        for r in fails:
            fid, sev = esc(r["finding_id"]), esc(r["severity"])
            o.append(
                f'  <tr><td class="mono"><a href="#{fid}">{fid}</a></td><td><span class="sev-{sev}">{sev}</span></td>'
                f"<td>{_join(r['requirements'])}</td><td>{esc(r['check_id'])}</td><td>{esc(r['target']['name'])}</td>"
                f"<td>{esc(r['message'][lang])}</td></tr>\n"
            )
        o.append("</table>\n")
    else:
        o.append(f"<p>{esc(t['none'])}</p>")
    f = c["filters"]
    radio = '<input class="fr-input" type="radio" name="{0}" id="{0}-{1}">'
    o.append(
        f'\n<h2 id="sheets">{esc(t["sheets"])}</h2>\n{c["sheets"]}\n<h2 id="results">{esc(t["all_results"])}</h2>\n'
        '<div id="filters">\n<input class="fr-input" type="radio" name="fs" id="fs-all" checked>'
        + "".join(radio.format("fs", esc(k)) for _, k in f["statuses"])
        + '<input class="fr-input" type="radio" name="fc" id="fc-all" checked>'
        + "".join(radio.format("fc", esc(k)) for _, k in f["chapters"])
        + '<input class="fr-input" type="radio" name="ft" id="ft-all" checked>'
        + "".join(radio.format("ft", esc(i)) for i, _ in f["targets"])
        + f'<div class="filterbar" id="filter-status">{esc(t["filters"])} — {esc(t["by_status"])} : '
        f'<label for="fs-all">{esc(t["all"])}</label>'
        + "".join(f'<label for="fs-{esc(k)}" class="s-{esc(s)}">{esc(t[s])}</label>' for s, k in f["statuses"])
        + f'</div>\n<div class="filterbar" id="filter-chapter">{esc(t["by_chapter"])} : '
        f'<label for="fc-all">{esc(t["all"])}</label>'
        + "".join(f'<label for="fc-{esc(k)}">{esc(ch)}</label>' for ch, k in f["chapters"])
        + f'</div>\n<div class="filterbar" id="filter-target">{esc(t["by_target"])} : '
        f'<label for="ft-all">{esc(t["all"])}</label>'
        + "".join(f'<label for="ft-{esc(i)}">{esc(name)}</label>' for i, name in f["targets"])
        + '</div>\n<table id="results-table">\n'
        f"  <tr><th>{esc(t['check'])}</th><th>{esc(t['target'])}</th><th>{esc(t['status'])}</th>"
        f"<th>{esc(t['requirement'])}</th><th>{esc(t['finding'])}</th></tr>\n"
        f"{c['result_rows']}</table>\n</div>\n\n"
        f'<h2 id="methods">{esc(t["methods"])}</h2>\n<h3>{esc(t["automated_checks"])}</h3>\n'
    )
    checks = c["checks_run"]
    o.append(f'<p id="checks-judged">{_join(checks["judged"])}</p>\n')
    if checks["nothing_judged"]:
        o.append(
            f'<p class="muted" id="checks-nothing-judged">{esc(t["judged_nothing"])} : '
            f"{_join(checks['nothing_judged'])}</p>"
        )
    if checks["no_target"]:
        o.append(f'<p class="muted" id="checks-no-target">{esc(t["no_target"])} : {_join(checks["no_target"])}</p>')
    o.append(f"<h3>{esc(t['sampling'])}</h3>\n")
    sampling = run.get("sampling")
    if sampling:
        o.append(
            f"<p>{esc(t['method'])} : {esc(sampling['method'])} ; {esc(t['seed'])} <code>{esc(sampling['seed'])}</code>"
            f" ; {esc(sampling['mode'])} {esc(sampling['size'])} ; {esc(t['population'])} sha256 "
            f"<code>{esc(sampling['population_sha256'])}</code></p>\n"
            f"<table><tr><th></th><th>{esc(t['population'])}</th><th>{esc(t['selected'])}</th></tr>\n"
        )
        for kind, g in sampling["groups"].items():
            o.append(
                f'<tr><td>{esc(kind)}</td><td class="n">{esc(g["population"])}</td><td>{_join(g["selected"])}</td></tr>'
            )
        o.append("</table>\n")
    else:
        o.append(f"<p>{esc(t['no_sampling'])}</p>")
    tool = run["tool"]
    if tool.get("commit"):
        built = esc(tool["commit"])
    elif (tool.get("distribution") or {}).get("sha256"):
        built = f"files sha256 {esc(tool['distribution']['sha256'])}"
    else:
        built = ""
    o.append(
        f'<h3>{esc(t["versions"])}</h3>\n<dl class="kv">\n'
        f"  <dt>{esc(t['tool'])}</dt><dd>{esc(tool['name'])} {esc(tool['version'])} "
        f'<span class="mono muted">{built}</span> (Python {esc(tool["python"])})</dd>\n'
        f"  <dt>{esc(t['profile'])}</dt><dd>{_join(profile['chain'], ' → ')} "
        f'<span class="mono muted">sha256 {esc(profile["sha256"])}</span></dd>\n'
        f'  <dt>{esc(t["inventory"])}</dt><dd class="mono">sha256 {esc(inventory["sha256"])}</dd>\n'
    )
    chain = run.get("chain")
    if chain and chain.get("seq"):
        o.append(
            f'<dt>{esc(t["chain"])}</dt><dd class="mono">#{esc(chain["seq"])} ← '
            f"{esc(chain['prev_manifest_sha256'] or '—')}</dd>"
        )
    elif chain:
        o.append(f"<dt>{esc(t['chain'])}</dt><dd>{esc(chain.get('outside') or '—')}</dd>")
    cov_totals, coverage = c["cov_totals"], c["coverage"]
    levels = " · ".join(
        f"{esc(t[lv] if lv != 'manual' else t['manual'])} : <b>{esc(cov_totals[lv])}</b>" for lv in c["levels"]
    )
    o.append(
        f'</dl>\n<h3 id="coverage">{esc(t["coverage"])}</h3>\n'
        f"<p>{levels} ({len(coverage)} {esc(t['requirements'])})</p>\n"
        f'<p class="muted">{esc(t["coverage_note"])}</p>\n<table>\n'
        f"  <tr><th>{esc(t['requirement'])}</th><th></th><th>{esc(t['served_by'])}</th><th>{esc(t['left'])}</th></tr>\n"
    )
    for cv in coverage:
        left = (
            " ; ".join(f'<span class="mono">{esc(e.id)}</span> {esc(e.text)}' for e in cv.left)
            if cv.level == "partial"
            else ""
        )
        level = esc(t[cv.level] if cv.level != "manual" else t["manual"])
        o.append(
            f"<tr><td>{esc(cv.requirement.id)}</td><td>{level}</td><td>{_join(cv.checks)}</td><td>{left}</td></tr>\n"
        )
    o.append("</table>\n</body>\n</html>")
    return "".join(o)


def _trend(diff: dict[str, Any], t: dict[str, str], lang: str, shown: Any, stats: dict[str, Any]) -> str:
    """The comparison with the previous run (the template's `{% if diff %}` branch)."""
    o = []
    differ = diff.get("profiles_differ")
    if differ:
        b, a = differ["before"], differ["after"]
        head = "PROFILS DIFFÉRENTS" if lang == "fr" else "PROFILES DIFFER"
        tail = (
            "les deux exécutions ne mesurent pas la même chose ; ce n'est pas une tendance."
            if lang == "fr"
            else "the two runs do not measure the same thing; this is not a trend."
        )
        o.append(
            f'<p class="fail"><b>{head}</b> : {esc(b["id"])} {esc(b["version"])} → {esc(a["id"])} '
            f"{esc(a['version'])} — {tail}</p>"
        )
    before = diff["before"]
    heads = "".join(f"<th>{esc(t[s])}</th>" for s in shown)
    prev = "".join(f'<td class="n">{esc((before["stats"] or {}).get(s, 0))}</td>' for s in shown)
    now = "".join(f'<td class="n">{esc(stats[s])}</td>' for s in shown)
    counts = " · ".join(f"{esc(t[k])} : <b>{esc(diff['counts'].get(k, 0))}</b>" for k in _COUNT_KEYS)
    o.append(
        f"<table>\n  <tr><th></th>{heads}</tr>\n"
        f'  <tr><td>{esc(t["previous"])} <span class="mono muted">{esc(before["run_id"])}</span></td>{prev}</tr>\n'
        f"  <tr><td>{esc(t['current'])}</td>{now}</tr>\n</table>\n<p>{counts}</p>\n"
    )
    newly = f" — {esc(t['newly_observed'])}"
    for rows, cls, extra in (
        (diff.get("newly_observed"), "fail", lambda r: newly),
        (diff["new_failures"], "fail", lambda r: _due(r, t)),
        (diff["fixed"], "pass", lambda r: ""),
    ):
        if rows:
            o.append(f"<ul>{''.join(_change(r, cls, extra(r)) for r in rows)}</ul>")
    change = diff["profile_change"]
    if change:
        params = change["params_changed"]
        listed = (": " + ", ".join(f"<code>{esc(p['param'])}</code>" for p in params)) if params else ""
        o.append(
            f'<p>{esc(t["profile_changed"])} <span class="mono">{esc(change["before"]["sha256"][:12])} → '
            f"{esc(change['after']['sha256'][:12])}</span>{listed}</p>"
        )
    return "".join(o)


def _change(r: dict[str, Any], cls: str, tail: str) -> str:
    """One line of the drift lists: check [target] (status before → after), then what the list adds."""
    return (
        f'<li class="{cls}">{esc(r["check_id"])} [{esc(r["target"])}] ({esc(r["before"] or "—")} → '
        f"{esc(r['after'])}){tail}</li>"
    )


def _due(r: dict[str, Any], t: dict[str, str]) -> str:
    return f' <span class="muted">— {esc(t["profile_changed"])}</span>' if r["due_to_profile"] else ""
