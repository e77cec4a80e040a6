"""Diff of two runs, keyed by (check, target): what became non-compliant, what was fixed, what persists,
which observed values changed, what can no longer be observed, and what entered or left the scope.

A verdict that changed because the profile changed (a check newly selected, a threshold tightened) is listed
with the profile change instead of as a regression, so nightly alerts fire on the infrastructure, not the ruler.
A target that went from `error` to `fail` is *newly observed*: the check could not see it before and now sees a
non-conformity that was most likely already there; it is listed apart, never counted as a regression.
Exit code of `preuve diff`: 1 when there is at least one regression (a new failure or a new error the profile does
not explain), else 0, newly observed failures included (the run's own exit code still reports them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA = "preuve.diff/1"
Key = tuple[str, str]


def _keyed(results: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    return {(r["check_id"], r["target"]["name"]): r for r in results}


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
    return out


def _params(run: Path, info: dict[str, Any]) -> dict[str, Any] | None:
    from preuve.inputs.profile import load_profile

    try:
        profile = load_profile(run / "inputs" / "profile" / info["profile"]["file"])
        return _flatten(profile.params.model_dump(mode="json"))
    except Exception:  # a run from an older tool, or a profile this version rejects: compare hashes only
        return None


def profile_change(a: Path, b: Path, ra: dict[str, Any], rb: dict[str, Any]) -> dict[str, Any] | None:
    pa, pb = ra["profile"], rb["profile"]
    if pa["sha256"] == pb["sha256"]:
        return None
    qa, qb = _params(a, ra), _params(b, rb)
    params = None
    if qa is not None and qb is not None:
        params = [
            {"param": k, "before": qa.get(k), "after": qb.get(k)}
            for k in sorted(set(qa) | set(qb))
            if qa.get(k) != qb.get(k)
        ]
    sa, sb = set(ra.get("checks_selected", [])), set(rb.get("checks_selected", []))
    return {
        "before": {k: pa[k] for k in ("id", "version", "sha256")},
        "after": {k: pb[k] for k in ("id", "version", "sha256")},
        "params_changed": params,
        "checks_selected_added": sorted(sb - sa),
        "checks_selected_removed": sorted(sa - sb),
    }


def _due_to_profile(check_id: str, change: dict[str, Any] | None) -> bool:
    """A verdict change the profile explains: the check was (de)selected, or a parameter of its domain changed."""
    if change is None:
        return False
    if check_id in change["checks_selected_added"]:
        return True
    if change["params_changed"] is None:  # cannot tell which parameters changed: do not blame the infrastructure
        return True
    domain = check_id.split("-")[0].lower()
    return any(p["param"].split(".")[0] in (domain, "timeout") for p in change["params_changed"])


def _row(
    key: Key, a: dict[str, Any] | None, b: dict[str, Any] | None, change: dict[str, Any] | None, observed_changed: bool
) -> dict[str, Any]:
    ref = b or a or {}
    row = {
        "check_id": key[0],
        "target": key[1],
        "finding_id": ref.get("finding_id"),
        "requirements": ref.get("requirements", []),
        "severity": ref.get("severity"),
        "before": a["status"] if a else None,
        "after": b["status"] if b else None,
    }
    if observed_changed:
        row["observed_before"], row["observed_after"] = (
            a.get("observed") if a else None,
            b.get("observed") if b else None,
        )
    if b:
        row["message"] = b.get("message")
    row["due_to_profile"] = _due_to_profile(key[0], change)
    return row


def _ident(path: Path, run: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": run.get("run_id"), "path": str(path), "ended_at": run.get("ended_at"), "stats": run.get("stats")}


def diff_runs(a: Path, b: Path, current: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run `a` (before) against run `b` (after). ``current``: `b`'s results.jsonl already parsed (the end of a run
    parses it once for every report), so only the previous run is read."""
    from preuve.results.jsonl import read_jsonl

    a, b = Path(a), Path(b)
    ra, rb = (json.loads((d / "run.json").read_text()) for d in (a, b))
    xa = _keyed(read_jsonl(a / "results.jsonl"))
    xb = _keyed(current if current is not None else read_jsonl(b / "results.jsonl"))
    change = profile_change(a, b, ra, rb)
    checks_a, checks_b = {k[0] for k in xa}, {k[0] for k in xb}
    targets_a, targets_b = {k[1] for k in xa}, {k[1] for k in xb}
    out: dict[str, list[dict[str, Any]]] = {
        k: []
        for k in (
            "new_failures",
            "newly_observed",
            "fixed",
            "persisting",
            "changed_observed",
            "new_errors",
            "now_waived",
        )
    }
    for key in sorted(set(xa) | set(xb)):
        ra_, rb_ = xa.get(key), xb.get(key)
        sa, sb = (ra_ or {}).get("status"), (rb_ or {}).get("status")
        lists = []
        if sb == "fail" and sa == "error":  # the probe changed, not (as far as anyone can tell) the target
            lists.append("newly_observed")
        elif sb == "fail" and sa != "fail":
            lists.append("new_failures")
        elif sa == "fail" and sb in ("pass", "not_applicable"):
            lists.append("fixed")
        elif sa == "fail" and sb == "fail":
            lists.append("persisting")
        elif sa == "fail" and sb == "waived":
            lists.append("now_waived")
        if sb == "error" and sa != "error":
            lists.append("new_errors")
        observed_changed = bool(ra_ and rb_ and ra_.get("observed") != rb_.get("observed"))
        if observed_changed:
            lists.append("changed_observed")
        if lists:  # a row is made only for a result some list shows (most of a steady run's are in none)
            row = _row(key, ra_, rb_, change, observed_changed)
            for name in lists:
                out[name].append(row)
    regressions = [r for r in out["new_failures"] + out["new_errors"] if not r["due_to_profile"]]
    return {
        "schema": SCHEMA,
        "before": _ident(a, ra),
        "after": _ident(b, rb),
        "profile_change": change,
        # Runs of two profiles (ci-quick against the full one) measure different things: said loudly.
        "profiles_differ": None
        if ra["profile"]["id"] == rb["profile"]["id"]
        else {
            "before": {k: ra["profile"].get(k) for k in ("id", "version")},
            "after": {k: rb["profile"].get(k) for k in ("id", "version")},
        },
        **out,
        "checks_added": sorted(checks_b - checks_a),
        "checks_removed": sorted(checks_a - checks_b),
        "targets_added": sorted(targets_b - targets_a),
        "targets_removed": sorted(targets_a - targets_b),
        "regressions": [{"check_id": r["check_id"], "target": r["target"], "after": r["after"]} for r in regressions],
        "counts": {k: len(v) for k, v in out.items()} | {"regressions": len(regressions)},
    }


_WORDS = {
    "fr": {
        "title": "Évolution depuis {a}",
        "differ": "ATTENTION, PROFILS DIFFÉRENTS (PROFILES DIFFER) : {b} → {a} ; les deux exécutions ne mesurent pas "
        "la même chose, les écarts ci-dessous ne sont pas une tendance",
        "new_failures": "nouvelles non-conformités",
        "newly_observed": "nouvellement observées (erreur → échec, pas une régression)",
        "fixed": "corrigées",
        "persisting": "persistantes",
        "changed_observed": "valeurs observées modifiées",
        "new_errors": "nouvelles erreurs (cible non observable)",
        "now_waived": "désormais sous dérogation",
        "regressions": "régressions",
        "profile": "profil modifié : {b} → {a} ; paramètres : {p}",
        "scope": "périmètre : cibles +{ta} −{tr}, contrôles +{ca} −{cr}",
        "by_profile": "(due au changement de profil)",
    },
    "en": {
        "title": "Changes since {a}",
        "differ": "WARNING, PROFILES DIFFER: {b} → {a}; the two runs do not measure the same thing, the changes "
        "below are not a trend",
        "new_failures": "new non-conformities",
        "newly_observed": "newly observed (error → fail, not a regression)",
        "fixed": "fixed",
        "persisting": "persisting",
        "changed_observed": "changed observed values",
        "new_errors": "new errors (target not observable)",
        "now_waived": "now waived",
        "regressions": "regressions",
        "profile": "profile changed: {b} → {a}; parameters: {p}",
        "scope": "scope: targets +{ta} −{tr}, checks +{ca} −{cr}",
        "by_profile": "(explained by the profile change)",
    },
}


def summary_lines(d: dict[str, Any], lang: str = "fr") -> list[str]:
    w = _WORDS[lang]
    lines = [w["title"].format(a=d["before"]["path"])]
    differ = d.get("profiles_differ")
    if differ:
        name = lambda p: f"{p['id']} {p['version']}"  # noqa: E731
        lines.insert(0, w["differ"].format(b=name(differ["before"]), a=name(differ["after"])))
    for k in (
        "regressions",
        "new_failures",
        "newly_observed",
        "fixed",
        "persisting",
        "changed_observed",
        "new_errors",
        "now_waived",
    ):
        lines.append(f"  {w[k]}: {d['counts'].get(k, 0)}")
    for r in d["new_failures"] + d["new_errors"]:
        tag = f" {w['by_profile']}" if r["due_to_profile"] else ""
        lines.append(f"    {r['after'].upper():5} {r['check_id']}[{r['target']}] ({r['before']} → {r['after']}){tag}")
    for r in d.get("newly_observed", []):
        lines.append(f"    NEWLY OBSERVED {r['check_id']}[{r['target']}] (error → fail)")
    for r in d["fixed"]:
        lines.append(f"    FIXED {r['check_id']}[{r['target']}]")
    c = d["profile_change"]
    if c:
        params = ", ".join(p["param"] for p in c["params_changed"] or []) or "?"
        lines.append("  " + w["profile"].format(b=c["before"]["sha256"][:12], a=c["after"]["sha256"][:12], p=params))
    n = {k: len(d[k]) for k in ("targets_added", "targets_removed", "checks_added", "checks_removed")}
    lines.append(
        "  "
        + w["scope"].format(
            ta=n["targets_added"], tr=n["targets_removed"], ca=n["checks_added"], cr=n["checks_removed"]
        )
    )
    return lines
