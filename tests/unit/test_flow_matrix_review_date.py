"""NET-MAP-REVIEWED (13.1.b): the flow matrix declares when the mapping was last reviewed, and that date is younger
than network.map_review_max_days. Judged by a real `preuve run` on a matrix file (no network: a flow_matrix target
only reads the file); a malformed or future date is a lint error with file:line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from preuve.exitcodes import Exit
from tests.conftest import REPO, preuve
from tests.unit.test_segmentation_inputs import GOOD_YAML, MATRIX_ONLY, lint, write

TODAY = dt.datetime.now(dt.UTC).date()


def run_check(tmp: Path, flows: str, name: str = "flows.yaml") -> dict:
    out = tmp / "run"
    inv = write(tmp, flows, name, inventory=MATRIX_ONLY)
    profile = REPO / "profiles" / "secnumcloud-3.2.yaml"
    proc = preuve("run", "-i", inv, "-p", profile, "-o", out, "-q", "--select", "NET-MAP-REVIEWED")
    assert proc.returncode in (Exit.COMPLIANT, Exit.NON_COMPLIANT), proc.stderr
    (result,) = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return result


def with_review(days_ago: int) -> str:
    when = (TODAY - dt.timedelta(days=days_ago)).isoformat()
    return GOOD_YAML.replace("version: 1\n", f"version: 1\nreviewed_on: {when}\n")


def test_a_review_younger_than_a_year_passes(tmp_path):
    r = run_check(tmp_path, with_review(200))
    assert r["status"] == "pass", r["message"]


def test_a_review_older_than_a_year_fails_quoting_date_line_and_limit(tmp_path):
    r = run_check(tmp_path, with_review(400))
    when = (TODAY - dt.timedelta(days=400)).isoformat()
    msg = r["message"]["en"]
    assert r["status"] == "fail", msg
    assert f"reviewed_on {when} (flows.yaml:2)" in msg and "400" in msg and "366" in msg, msg


def test_a_matrix_without_review_date_fails_not_errors(tmp_path):
    r = run_check(tmp_path, GOOD_YAML)
    assert r["status"] == "fail" and "no reviewed_on" in r["message"]["en"], r["message"]


def test_malformed_and_future_dates_are_lint_errors_with_file_and_line(tmp_path):
    code, err = lint(write(tmp_path, GOOD_YAML.replace("version: 1\n", "version: 1\nreviewed_on: last spring\n")))
    assert code != 0 and "flows.yaml:2" in err, err
    future = (TODAY + dt.timedelta(days=3)).isoformat()
    code, err = lint(write(tmp_path, GOOD_YAML.replace("version: 1\n", f"version: 1\nreviewed_on: {future}\n")))
    assert code != 0 and "flows.yaml:2" in err and "in the future" in err, err


CSV = """\
id,src,dst,dst_hosts,proto,ports,service,justification,owner
# reviewed_on: WHEN,,,,,,,,
F-1,pub,prod,,tcp,443,web,front end,web
"""


def test_a_csv_matrix_declares_its_review_in_a_comment_row(tmp_path):
    recent = (TODAY - dt.timedelta(days=10)).isoformat()
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    assert run_check(tmp_path / "a", CSV.replace("WHEN", recent), "flows.csv")["status"] == "pass"
    old = (TODAY - dt.timedelta(days=500)).isoformat()
    r = run_check(tmp_path / "b", CSV.replace("WHEN", old), "flows.csv")
    assert r["status"] == "fail" and f"reviewed_on {old} (flows.csv:2)" in r["message"]["en"], r["message"]
    code, err = lint(write(tmp_path, CSV.replace("WHEN", "soon"), "flows.csv"))
    assert code != 0 and "flows.csv:2" in err, err


def test_the_lab_matrix_declares_a_real_review_date():
    """The lab's date is a static declaration (inventories/lab-flows.yaml says why): valid, not in the future."""
    from preuve.inputs.flows import load_matrix

    declared = load_matrix(REPO / "inventories" / "lab-flows.yaml").spec.reviewed_on
    assert declared is not None and declared <= TODAY
