"""The verdict rules: only stated, met expectations pass; waivers are shown, never hidden; expired ones fail."""

from __future__ import annotations

import datetime as dt

import pytest

from preuve.judge.check_api import Judge, NonCompliance, NotApplicable
from preuve.observe.errors import ObservationError
from tests.conftest import REPO


def _result(judge: Judge, exc: BaseException | None):
    """build_result with the real catalogue entry of TLS-VERSIONS, no waiver."""
    from preuve.inputs.targets import Target
    from preuve.judge.catalogue import load_catalogue
    from preuve.judge.result_builder import build_result

    target = Target("tls_endpoint", "web", "198.18.3.10", 443, None, None, (), None)
    info = load_catalogue()["TLS-VERSIONS"]
    return build_result(info, target, judge, [], [], exc, waivers=[], judged_at=dt.datetime.now(dt.UTC))


def test_a_check_that_states_nothing_cannot_pass():
    r = _result(Judge(), None)
    assert r.status == "error" and "no expectation" in r.message["en"]


def test_met_expectations_pass_with_observed_and_expected():
    j = Judge()
    j.subset("tls.versions", ["TLSv1.3"], ["TLSv1.2", "TLSv1.3"])
    r = _result(j, None)
    assert r.status == "pass"
    assert r.observed == {"tls.versions": ["TLSv1.3"]} and r.expected == {"tls.versions": ["TLSv1.2", "TLSv1.3"]}


def test_failed_expectation_names_the_offending_values():
    j = Judge()
    j.subset("tls.versions", ["TLSv1.0", "TLSv1.2"], ["TLSv1.2", "TLSv1.3"])
    r = _result(j, NonCompliance("x"))
    assert r.status == "fail"
    assert 'non conformes : ["TLSv1.0"]' in r.message["fr"] and "attendu" in r.message["fr"]
    assert r.remediation is not None


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (ObservationError("timeout"), "error"),
        (KeyError("versions"), "error"),
        (NotApplicable("no HTTP"), "not_applicable"),
    ],
)
def test_anything_but_a_judged_expectation_is_not_a_pass(exc, status):
    assert _result(Judge(), exc).status == status


def test_judge_operators():
    j = Judge()
    assert j.at_least("a", 2048, 2048) and not j.at_least("b", None, 1)
    assert j.at_most("c", 2, 3) and not j.at_most("d", 4, 3)
    assert j.excludes("e", ["x"], ["y"]) and not j.excludes("f", ["y"], ["y"])
    assert j.one_of("g", "VERBOSE", ["VERBOSE"]) and not j.non_empty("h", [])
    assert not j.each("i", {"k1": True, "k2": False})
    assert [e.label for e in j.failed] == ["b", "d", "f", "h", "i"]
    assert j.failed[-1].offending == ["k2"]


def test_packaged_check_folders_match_pyproject():
    """setup.py computes the package list from the folders: every check folder and preuve sub-package ships."""
    import runpy

    packages = set(runpy.run_path(str(REPO / "setup.py"), run_name="setup_list")["packages"]())
    folders = {f"preuve_checks.{p.name}" for p in (REPO / "checks").iterdir() if (p / "__init__.py").exists()}
    engine = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "preuve").rglob("__init__.py")}
    assert folders | engine | {"preuve_lab", "preuve_profiles"} <= packages, sorted(folders | engine - packages)
