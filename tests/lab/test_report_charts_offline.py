"""report.html drawn by headless Chromium inside a network namespace with no interface up (`unshare -n`, root):
the charts render with no network at all. The writers themselves are tested without root in
tests/unit/test_outputs_consumers.py."""

from __future__ import annotations

import json

from preuve.report.charts import chapter_of
from tests.support import synthetic_run


def test_report_charts_render_in_headless_chromium_without_network(tmp_path):
    """Two runs of the same profile in one scope: the second report draws the posture per chapter and the trend of
    both, with filters, in Chromium inside a network namespace with no interface up (no network at all)."""
    import os
    import re
    import shutil
    import subprocess

    import pytest

    from preuve.report.html import write_report

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (ci/setup.sh installs it)")
    scope = tmp_path / "scope"
    scope.mkdir()
    runs = []
    for name, fails in (("run-a", 120), ("run-b", None)):
        d = synthetic_run.run_dir(tmp_path / name)
        shutil.move(d, scope / name)
        info = json.loads((scope / name / "run.json").read_text())
        rs = [json.loads(x) for x in (scope / name / "results.jsonl").read_text().splitlines()]
        info["stats"] = {
            s: sum(r["status"] == s for r in rs) for s in ("pass", "fail", "error", "waived", "not_applicable")
        }
        info["stats"]["fail"] = fails or info["stats"]["fail"]
        info["run_id"] = name
        (scope / name / "run.json").write_text(json.dumps(info))
        runs.append((name, info, rs))
    entry = {
        "seq": 1,
        "run_id": "run-a",
        "path": "run-a",
        "manifest_sha256": "0" * 64,
        "prev_manifest_sha256": None,
        "prev_entry_sha256": None,
    }
    (scope / "ledger.jsonl").write_text(json.dumps(entry) + "\n")
    report = write_report(scope / "run-b", "fr")
    html = report.read_text()
    assert "<script" not in html and "src=" not in html and 'href="http' not in html
    # the summary rows add up to the total, each result counted once
    rs_b = runs[1][2]
    table = html[html.index('<table class="summary">') : html.index("</table>", html.index('<table class="summary">'))]
    fails = [int(x) for x in re.findall(r'<td class="n fail">(\d+)</td>', table)]
    assert sum(fails) == sum(r["status"] == "fail" for r in rs_b)

    def run_chromium(*args: str) -> subprocess.CompletedProcess:
        profile = tmp_path / f"chrome-{len(args)}"
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
        ]
        return subprocess.run(
            ["unshare", "-n", chromium, *flags, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": str(profile)},
        )

    shot = tmp_path / "report.png"
    proc = run_chromium("--window-size=1280,1400", f"--screenshot={shot}", report.as_uri())
    assert shot.exists(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    dom = run_chromium("--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    assert 'id="posture-chart"' in page and 'id="trend-chart"' in page
    # one fail bar per chapter with a failure; a signal check's failure (no requirement) has its own row
    assert page.count('class="bar s-fail"') == len({chapter_of(r) for r in rs_b if r["status"] == "fail"})
    assert page.count('<rect class="col s-fail"') == 2  # one column per run of the ledger, this one included
    # regenerated later, once a third run is in the ledger: the trend stops at this run (its chain seq)
    info_a = json.loads((scope / "run-a" / "run.json").read_text())
    info_a["chain"] = {"ledger": "../ledger.jsonl", "seq": 1, "prev_manifest_sha256": None}
    (scope / "run-a" / "run.json").write_text(json.dumps(info_a))
    later = {**entry, "seq": 2, "run_id": "run-b", "path": "run-b"}
    (scope / "ledger.jsonl").write_text(json.dumps(entry) + "\n" + json.dumps(later) + "\n")
    assert write_report(scope / "run-a", "fr").read_text().count('<rect class="col s-fail"') == 0  # alone: no trend
    assert 'id="filter-status"' in page and 'id="filter-chapter"' in page and 'id="filter-target"' in page
    assert "net::ERR_" not in dom.stderr
