"""report.html: the report compliance people read, self-contained (inline CSS, no script, no external link),
French by default. Generated from the run directory alone (results.jsonl, run.json, diff.json), so
`preuve report RUN` regenerates it, in another language if asked, without touching the run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from preuve.report.coverage import (
    JUDGED,
    LEVELS,
    Coverage,
    chapter_key,
    coverage,
    evidenced_checks,
    requirements,
    totals,
)
from preuve.report.html_page import esc as _esc
from preuve.report.html_page import page
from preuve.textsafe import xml_text

NAME = "report.html"
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
SHOWN = ("pass", "fail", "error", "not_applicable", "waived")
CHAPTERS = {
    "5": ("Politiques de sécurité de l'information et gestion du risque", "Information security policies and risk"),
    "6": ("Organisation de la sécurité de l'information", "Organisation of information security"),
    "7": ("Sécurité des ressources humaines", "Human resources security"),
    "8": ("Gestion des actifs", "Asset management"),
    "9": ("Contrôle d'accès et gestion des identités", "Access control and identity management"),
    "10": ("Cryptologie", "Cryptology"),
    "11": ("Sécurité physique et environnementale", "Physical and environmental security"),
    "12": ("Sécurité liée à l'exploitation", "Operations security"),
    "13": ("Sécurité des communications", "Communications security"),
    "14": ("Acquisition, développement et maintenance des systèmes", "System acquisition, development, maintenance"),
    "15": ("Relations avec les tiers", "Supplier relationships"),
    "16": ("Gestion des incidents", "Incident management"),
    "17": ("Continuité d'activité", "Business continuity"),
    "18": ("Conformité", "Compliance"),
    "19": ("Exigences supplémentaires", "Additional requirements"),
}

T = {
    "fr": {
        "title": "Rapport d'évaluation SecNumCloud 3.2",
        "summary": "Synthèse par chapitre SecNumCloud",
        "chapter": "Chapitre",
        "pass": "conforme",
        "fail": "non conforme",
        "error": "erreur",
        "not_applicable": "non applicable",
        "waived": "dérogation",
        "manual": "non évalué (manuel)",
        "trend": "Évolution depuis l'exécution précédente",
        "posture": "Posture par chapitre (résultats)",
        "trend_chart": "Tendance des exécutions du registre (même profil)",
        "filters": "Filtrer",
        "all": "tout",
        "by_status": "statut",
        "by_chapter": "chapitre",
        "by_target": "cible",
        "count_note": "Chaque résultat est compté une fois, dans le chapitre de sa première exigence (celle de sa "
        "suite JUnit) ; un résultat qui sert plusieurs exigences les cite toutes. Les lignes s'additionnent au total.",
        "newly_observed": "nouvellement observées (erreur → échec)",
        "fr_only": "Texte du référentiel, publié en français.",
        "no_previous": "Première exécution de ce profil dans ce périmètre : pas de comparaison.",
        "previous": "Exécution précédente",
        "current": "Cette exécution",
        "new_failures": "nouvelles non-conformités",
        "fixed": "corrigées",
        "persisting": "persistantes",
        "changed_observed": "valeurs observées modifiées",
        "new_errors": "nouvelles erreurs",
        "regressions": "régressions",
        "profile_changed": "Le profil a changé (les écarts qu'il explique ne sont pas des régressions) :",
        "critical": "Non-conformités, les plus critiques d'abord",
        "none": "Aucune.",
        "sheets": "Fiches de constat",
        "finding": "Constat",
        "requirement": "Exigence",
        "target": "Cible",
        "observed": "Observé",
        "expected": "Attendu",
        "evidence": "Preuves",
        "severity": "Sévérité",
        "remediation": "Remédiation",
        "waiver": "Dérogation",
        "status": "Statut",
        "check": "Contrôle",
        "verdict": "Verdict",
        "rule": "Règle",
        "expires": "expire le",
        "approver": "approuvée par",
        "methods": "Annexe : méthodes",
        "automated_checks": "Contrôles automatisés exécutés",
        "sampling": "Échantillonnage",
        "no_sampling": "Aucun : toutes les cibles de l'inventaire ont été évaluées.",
        "versions": "Outil, profil et entrées",
        "coverage": "Couverture du référentiel SecNumCloud 3.2",
        "automated": "automatisée",
        "partial": "partielle",
        "coverage_note": "Couverture de cette exécution, calculée sur ses résultats : un élément d'exigence ne compte "
        "que si un résultat conforme, non conforme ou sous dérogation l'établit (non applicable et erreur "
        "n'établissent rien). « Automatisée » : tous les éléments de l'exigence sont établis sur le périmètre "
        "inventorié ; "
        "« partielle » : les éléments listés restent à l'auditeur ; « manuelle » : aucun élément établi.",
        "left": "éléments laissés à l'auditeur",
        "no_target": "Contrôles sélectionnés sans résultat (aucune cible dans l'inventaire) : ils n'établissent rien",
        "judged_nothing": "Contrôles sans verdict (seulement non applicable ou erreur) : ils n'établissent rien",
        "run": "Exécution",
        "profile": "Profil",
        "inventory": "Inventaire",
        "tool": "Outil",
        "started": "Début",
        "ended": "Fin",
        "replay_of": "Rejeu de",
        "chain": "Chaîne de hachage",
        "results": "Résultats",
        "all_results": "Tous les résultats",
        "seed": "graine",
        "method": "méthode",
        "population": "population",
        "selected": "retenues",
        "total": "Total",
        "requirements": "exigences",
        "served_by": "contrôles",
        "waived_banner": "{n} non-conformité(s) couverte(s) par une dérogation : comptée(s) à part, jamais "
        "comme conforme(s) ; chaque dérogation est détaillée dans les fiches de constat.",
    },
    "en": {
        "title": "SecNumCloud 3.2 assessment report",
        "summary": "Summary by SecNumCloud chapter",
        "chapter": "Chapter",
        "pass": "compliant",
        "fail": "non-compliant",
        "error": "error",
        "not_applicable": "not applicable",
        "waived": "waived",
        "manual": "not assessed (manual)",
        "trend": "Trend since the previous run",
        "no_previous": "First run of this profile in this scope: nothing to compare.",
        "previous": "Previous run",
        "current": "This run",
        "new_failures": "new non-conformities",
        "fixed": "fixed",
        "persisting": "persisting",
        "changed_observed": "changed observed values",
        "new_errors": "new errors",
        "regressions": "regressions",
        "profile_changed": "The profile changed (differences it explains are not regressions):",
        "critical": "Non-conformities, most critical first",
        "none": "None.",
        "posture": "Posture per chapter (results)",
        "trend_chart": "Trend across the runs of the ledger (same profile)",
        "filters": "Filter",
        "all": "all",
        "by_status": "status",
        "by_chapter": "chapter",
        "by_target": "target",
        "count_note": "Each result is counted once, in the chapter of its first requirement (the one naming its JUnit "
        "suite); a result serving several requirements lists them all. The rows add up to the total.",
        "newly_observed": "newly observed (error → fail)",
        "fr_only": "Text of the referential, published in French.",
        "sheets": "Finding sheets",
        "finding": "Finding",
        "requirement": "Requirement",
        "target": "Target",
        "observed": "Observed",
        "expected": "Expected",
        "evidence": "Evidence",
        "severity": "Severity",
        "remediation": "Remediation",
        "waiver": "Waiver",
        "status": "Status",
        "check": "Check",
        "verdict": "Verdict",
        "rule": "Rule",
        "expires": "expires",
        "approver": "approved by",
        "methods": "Annex: methods",
        "automated_checks": "Automated checks run",
        "sampling": "Sampling",
        "no_sampling": "None: every target of the inventory was assessed.",
        "versions": "Tool, profile and inputs",
        "coverage": "Coverage of the SecNumCloud 3.2 referential",
        "automated": "automated",
        "partial": "partial",
        "coverage_note": "Coverage of this run, computed from its results: an element of a requirement counts only "
        "when a pass, fail or waived result stands behind it (not applicable and error evidence nothing). "
        '"Automated": every element is evidenced on the inventoried scope; "partial": the elements listed are '
        'left to the auditor; "manual": no element is evidenced.',
        "left": "elements left to the auditor",
        "no_target": "Checks selected with no result (no target in the inventory): they evidence nothing",
        "judged_nothing": "Checks with no verdict (only not applicable or error): they evidence nothing",
        "run": "Run",
        "profile": "Profile",
        "inventory": "Inventory",
        "tool": "Tool",
        "started": "Started",
        "ended": "Ended",
        "replay_of": "Replay of",
        "chain": "Hash chain",
        "results": "Results",
        "all_results": "All results",
        "seed": "seed",
        "method": "method",
        "population": "population",
        "selected": "selected",
        "total": "Total",
        "requirements": "requirements",
        "served_by": "checks",
        "waived_banner": "{n} failure(s) covered by a waiver: counted apart, never as compliant; each waiver "
        "is detailed in the finding sheets.",
    },
}


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    from preuve.results.jsonl import read_jsonl

    return read_jsonl(path)


def run_coverage(run: dict[str, Any], results: list[dict[str, Any]]) -> list[Coverage]:
    """Coverage of this run, from its results and not from its selection: a check counts only through results that
    judged a target (pass, fail, waived), with the elements the catalogue says it evidences. A selected check with no
    target, or with only not_applicable/error results, counts for nothing (`run` is kept for the callers)."""
    from preuve.judge.catalogue import CatalogueError, load_catalogue

    try:
        cat = load_catalogue()
    except CatalogueError:  # a broken check elsewhere must not cost the report its coverage annex
        cat = {}
    return coverage(evidenced_checks(results, cat))


def checks_run(run: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The selected checks split by what they did: `judged` (at least one pass/fail/waived), `nothing_judged`
    (only not_applicable or error results) and `no_target` (selected, no result at all)."""
    statuses: dict[str, set[str]] = {}
    for r in results:
        statuses.setdefault(r["check_id"], set()).add(r["status"])
    selected = list(dict.fromkeys([*run.get("checks_selected", []), *statuses]))
    return {
        "judged": [c for c in selected if statuses.get(c, set()) & set(JUDGED)],
        "nothing_judged": [c for c in selected if c in statuses and not statuses[c] & set(JUDGED)],
        "no_target": [c for c in selected if c not in statuses],
    }


def _chapters(results: list[dict[str, Any]], cov: list[Coverage]) -> list[dict[str, Any]]:
    """Counts per chapter that add up to the run's total: each result once, in the chapter of its first
    requirement (see preuve/report/charts.py); results of a signal check with no requirement in a row of their own."""
    from preuve.report.charts import NO_CHAPTER, chapter_of

    rows: dict[str, dict[str, Any]] = {
        ch: {"id": ch, "title": names, **{s: 0 for s in SHOWN}, "manual": 0} for ch, names in CHAPTERS.items()
    }
    for r in results:
        ch = chapter_of(r)
        if ch not in rows:
            rows[ch] = {
                "id": ch,
                "title": ("sans exigence (signal)", "no requirement (signal)"),
                **{s: 0 for s in SHOWN},
                "manual": 0,
            }
        if r["status"] in SHOWN:
            rows[ch][r["status"]] += 1
    if NO_CHAPTER in rows:
        rows[NO_CHAPTER] = rows.pop(NO_CHAPTER)  # last
    for c in cov:
        if c.level == "manual" and c.requirement.chapter in rows:
            rows[c.requirement.chapter]["manual"] += 1
    return list(rows.values())


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _sheets(problems: list[dict[str, Any]], lang: str, reqs: dict[str, Any]) -> str:
    """The finding sheets, written here rather than by the template (a template loop over hundreds of findings
    was most of the report's time): the same bytes the template wrote, whitespace included."""
    t = T[lang]
    if not problems:
        return f"<p>{_esc(t['none'])}</p>\n"
    fr_only = "" if lang == "fr" else f'<span class="muted">{_esc(t["fr_only"])}</span>'
    dts = {k: f"<dt>{_esc(t[k])}</dt>" for k in T["fr"]}
    out = []
    for r in problems:
        status, fid, sev, target = _esc(r["status"]), _esc(r["finding_id"]), _esc(r["severity"]), r["target"]
        req_cell = "".join(
            f'<b>{_esc(q)}</b> <span lang="fr">{_esc(reqs[q].text if q in reqs else "")}</span><br>'
            for q in r["requirements"]
        )
        port = f":{_esc(target['port'])}" if target.get("port") else ""
        evidence = (
            "".join(
                f'<a class="mono" href="{_esc(e["path"])}">{_esc(e["path"])}</a> '
                f'<span class="mono muted">sha256 {_esc(e["sha256"])}</span><br>'
                for e in r["evidence"]
            )
            or "—"
        )
        out.append(
            f'<div class="sheet st-{status}" id="{fid}">\n'
            f'  <h3><span class="mono">{fid}</span> — {_esc(r["title"][lang])} '
            f'<span class="s-{status}">[{_esc(t[r["status"]])}]</span></h3>\n'
            '  <dl class="kv">\n'
            f'    {dts["severity"]}<dd><span class="sev-{sev}">{sev}</span></dd>\n'
            f"    {dts['requirement']}<dd>{req_cell}{fr_only}</dd>\n"
            f"    {dts['rule']}<dd>{_esc(r['rule'])} ({_esc(r['check_id'])})</dd>\n"
            f'    {dts["target"]}<dd>{_esc(target["name"])} <span class="mono muted">{_esc(target["kind"])} '
            f"{_esc(target['address'])}{port}</span></dd>\n"
            f"    {dts['verdict']}<dd>{_esc(r['message'][lang])}</dd>\n"
            f'    {dts["observed"]}<dd class="mono">{_esc(_json(r["observed"]))}</dd>\n'
            f'    {dts["expected"]}<dd class="mono">{_esc(_json(r["expected"]))}</dd>\n'
            f"    {dts['evidence']}<dd>{evidence}</dd>\n"
        )
        if r["remediation"]:
            out.append(f"{dts['remediation']}<dd>{_esc(r['remediation'][lang])}</dd>")
        w = r["waiver"]
        if w:
            out.append(
                f"{dts['waiver']}<dd>{_esc(w['id'])} — {_esc(w['justification'])} ({_esc(t['approver'])} "
                f"{_esc(w['approver'])}, {_esc(t['expires'])} {_esc(w['expires'])}"
                f"{', EXPIRED' if w.get('expired') else ''})</dd>"
            )
        out.append("  </dl>\n</div>\n")
    return "".join(out)


def _result_rows(results: list[dict[str, Any]], lang: str, row_class: list[str]) -> str:
    """The table of every result (see _sheets: written here, the same bytes as the template's loop)."""
    t = T[lang]
    return "".join(
        f'<tr class="{_esc(cls)}"><td>{_esc(r["check_id"])}</td><td>{_esc(r["target"]["name"])}</td>'
        f'<td class="s-{_esc(r["status"])}">{_esc(t[r["status"]])}</td><td>{_esc(", ".join(r["requirements"]))}</td>'
        f'<td class="mono">{_esc(r["finding_id"])}</td></tr>\n'
        for r, cls in zip(results, row_class, strict=True)
    )


def render(
    run_dir: Path,
    lang: str = "fr",
    results: list[dict[str, Any]] | None = None,
    diff: dict[str, Any] | None = None,
    cov: list[Coverage] | None = None,
) -> str:
    """``results``, ``diff``, ``cov``: results.jsonl, diff.json and the run's coverage as the caller already
    has them (the end of a run makes them once for every report); read or computed here when not given."""
    # no control character from a target reaches the browser
    return xml_text(page(context(run_dir, lang, results, diff, cov)))


def context(
    run_dir: Path,
    lang: str = "fr",
    results: list[dict[str, Any]] | None = None,
    diff: dict[str, Any] | None = None,
    cov: list[Coverage] | None = None,
) -> dict[str, Any]:
    """What the page shows, computed from the run directory (see `render`)."""
    run_dir = Path(run_dir)
    run = json.loads((run_dir / "run.json").read_text())
    if results is None:
        results = _read_jsonl(run_dir / "results.jsonl")
    if diff is None and (run_dir / "diff.json").exists():
        diff = json.loads((run_dir / "diff.json").read_text())
    cov = cov if cov is not None else run_coverage(run, results)
    reqs = requirements()
    problems = [r for r in results if r["status"] in ("fail", "waived", "error")]
    problems.sort(
        key=lambda r: (
            {"fail": 0, "waived": 1, "error": 2}[r["status"]],
            SEVERITY_ORDER.get(r["severity"], 9),
            r["check_id"],
            r["target"]["name"],
        )
    )
    cov_sorted = sorted(cov, key=lambda c: chapter_key(c.requirement.id))
    from preuve.report import charts

    chapters = _chapters(results, cov)
    li = 0 if lang == "fr" else 1
    names = {ch["id"]: ch["title"][li] for ch in chapters}
    labels = {**{s: T[lang][s] for s in SHOWN}, "posture": T[lang]["posture"], "trend_chart": T[lang]["trend_chart"]}
    trend_points = charts.ledger_points(run_dir, run)
    filters = charts.filters(results)
    return {
        "t": T[lang],
        "lang": lang,
        "li": li,
        "run": run,
        "diff": diff,
        "chapters": chapters,
        "shown": SHOWN,
        "posture_svg": charts.posture_svg(chapters, names, labels),
        "trend_svg": charts.trend_svg(trend_points, labels),
        "trend_points": trend_points,
        "filters": filters,
        "sheets": _sheets(problems, lang, reqs),
        "result_rows": _result_rows(results, lang, filters["row_class"]),
        "fails": [r for r in problems if r["status"] == "fail"],
        "coverage": cov_sorted,
        "cov_totals": totals(cov),
        "levels": LEVELS,
        "checks_run": checks_run(run, results),
    }


def write_report(
    run_dir: Path,
    lang: str = "fr",
    out: Path | None = None,
    results: list[dict[str, Any]] | None = None,
    diff: dict[str, Any] | None = None,
    cov: list[Coverage] | None = None,
) -> Path:
    path = Path(out) if out else Path(run_dir) / NAME
    path.write_text(render(run_dir, lang, results, diff, cov), encoding="utf-8")
    return path
