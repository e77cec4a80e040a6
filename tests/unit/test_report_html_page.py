"""report.html is written in Python (preuve/report/html_page.py) instead of a jinja2 template (its import and
compiled template cost every run ~30 ms): the page must stay byte for byte what the template wrote. The template is
kept as the reference in tests/fixtures/report-loops/report.html.j2 and rendered here against the same context,
on a recorded run and on variants reaching every branch (trend chart, profile change, profiles that differ,
sampling, replay, waivers, hash chain in or outside the ledger, build identity, checks that judged nothing)."""

from __future__ import annotations

import copy
import json
import tarfile
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import pytest

from preuve.report import charts, html
from preuve.report.html_page import page

FIXTURES = Path(__file__).parents[1] / "fixtures"
NASTY = "x<y>&'\"é"


def _reference(ctx: dict[str, Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(FIXTURES / "report-loops"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    safe = {k: markupsafe.Markup(ctx[k]) for k in ("posture_svg", "trend_svg", "sheets", "result_rows")}
    return env.get_template("report.html.j2").render(**{**ctx, **safe})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("recorded")
    with tarfile.open(FIXTURES / "recorded-demo.tar.xz") as tar:
        tar.extractall(d, filter="data")
    return d


def _diff(profiles_differ: bool) -> dict[str, Any]:
    row = {"check_id": "TLS-X", "target": f"t{NASTY}", "before": "error", "after": "fail", "due_to_profile": True}
    return {
        "before": {"run_id": f"prev{NASTY}", "stats": {"pass": 3, "fail": 1}},
        "counts": {"regressions": 1, "fixed": 2},
        "profiles_differ": {"before": {"id": "a", "version": "1"}, "after": {"id": f"b{NASTY}", "version": "2"}}
        if profiles_differ
        else None,
        "newly_observed": [row],
        "new_failures": [row, {**row, "before": None, "due_to_profile": False}],
        "fixed": [{**row, "before": "fail", "after": "pass"}],
        "profile_change": {
            "before": {"sha256": "a" * 64},
            "after": {"sha256": "b" * 64},
            "params_changed": [{"param": f"tls.min{NASTY}"}, {"param": "timeout"}],
        },
    }


def _variants(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    out = [ctx]
    v = copy.deepcopy(ctx)
    v["diff"] = _diff(profiles_differ=True)
    v["trend_points"] = [*v["trend_points"], *v["trend_points"]]
    v["trend_svg"] = charts.trend_svg(v["trend_points"], {s: s for s in (*charts.STATUSES, "trend_chart")})
    v["run"]["replay_of"] = {"run_id": f"r{NASTY}", "path": f"/p{NASTY}"}
    v["run"]["stats"]["waived"] = 2
    v["run"]["sampling"] = {
        "method": "sha256-rank",
        "seed": NASTY,
        "mode": "count",
        "size": "2",
        "population_sha256": "c" * 64,
        "groups": {
            "host": {"population": 5, "selected": ["a", f"b{NASTY}"]},
            "tls_endpoint": {"population": 1, "selected": []},
        },
    }
    v["run"]["chain"] = {"seq": 4, "prev_manifest_sha256": None}
    v["run"]["tool"]["commit"] = f"abc{NASTY}"
    v["checks_run"] = {"judged": [], "nothing_judged": ["A", f"B{NASTY}"], "no_target": ["C"]}
    v["fails"] = []
    out.append(v)
    w = copy.deepcopy(v)
    w["diff"] = _diff(profiles_differ=False)
    w["diff"]["profile_change"]["params_changed"] = None
    w["diff"]["newly_observed"], w["diff"]["new_failures"], w["diff"]["fixed"] = [], [], []
    w["run"]["chain"] = {"ledger": None, "outside": f"re-judge{NASTY}"}
    w["run"]["tool"].pop("commit")
    w["run"]["tool"]["distribution"] = {"sha256": "d" * 64}
    out.append(w)
    x = copy.deepcopy(w)
    x["run"]["chain"] = {"ledger": None, "outside": None}
    x["run"]["tool"]["distribution"] = None
    x["diff"]["profile_change"] = None
    out.append(x)
    y = copy.deepcopy(x)
    y["run"].pop("chain")
    y["chapters"], y["coverage"] = [], []
    out.append(y)
    return out


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_page_is_the_template(recorded: Path, lang: str) -> None:
    ctx = html.context(recorded, lang)
    for n, variant in enumerate(_variants(ctx)):
        assert page(variant) == _reference(variant), f"variant {n}"


def test_render_is_the_page_made_xml_safe(recorded: Path) -> None:
    results = [json.loads(line) for line in (recorded / "results.jsonl").read_text().split("\n") if line]
    results[0]["message"]["fr"] += " \x1b[31m"
    text = html.render(recorded, "fr", results=results)
    assert "\x1b" not in text and "\\x1b[31m" in text
