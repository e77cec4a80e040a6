"""The direct judging loop (preuve.run.direct) gives the results pytest's own protocol gives, byte for byte.

`PREUVE_JUDGE_PROTOCOL=pytest` sends every item through pytest's runtest protocol (the reference); without it
preuve's items are judged directly. Both re-judge the same recorded lab demo (tests/fixtures/recorded-demo.tar.xz,
every check of the catalogue on real facts) and a check pack of odd checks (a skip, pytest.fail, SystemExit, a value
returned, a warning turned into an error by -W, no expectation stated, `request` asked for, an interrupt), with
--maxfail too: same results.jsonl, same exit code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import preuve
from tools.record_unit_facts import DEFAULT_OUT as ARCHIVE
from tools.record_unit_facts import unpack

PACK_CATALOGUE = "checks:\n" + "".join(
    f"  {cid}:\n    title: {{fr: {cid}, en: {cid}}}\n    rationale: {{fr: x, en: x}}\n"
    "    remediation: {fr: x, en: x}\n"
    for cid in (
        "EDGE-PATH",
        "EDGE-REQUEST",
        "EDGE-SKIP",
        "EDGE-PYTEST-FAIL",
        "EDGE-SYSTEM-EXIT",
        "EDGE-RETURNS",
        "EDGE-WARNS",
        "EDGE-NOTHING",
        "EDGE-XFAIL",
        "EDGE-NONCOMPLIANT",
        "EDGE-INTERRUPT",
        "EDGE-MARKED",
    )
)

PACK_CHECKS = """
import sys
import warnings

import pytest

from preuve.judge import check

KW = dict(requirements=["10.2.a"], target="tls_endpoint", severity="low", rule="test")


def caller():
    return sys._getframe(2).f_globals["__name__"]


@check("EDGE-PATH", **KW)
def check_path(tls, judge):
    judge.equals("caller", caller(), "preuve.run.direct")


@check("EDGE-REQUEST", **KW)
def check_request(tls, request, judge):
    judge.equals("caller", caller(), "_pytest.python")


@check("EDGE-SKIP", **KW)
def check_skip(tls, judge):
    pytest.skip("not here")


@check("EDGE-PYTEST-FAIL", **KW)
def check_pytest_fail(tls, judge):
    pytest.fail("said pytest")


@check("EDGE-SYSTEM-EXIT", **KW)
def check_system_exit(tls, judge):
    raise SystemExit(3)


@check("EDGE-RETURNS", **KW)
def check_returns(tls, params, judge):
    judge.subset("versions", [v for v, ok in sorted(tls["versions"].items()) if ok], params.tls.versions_allowed)
    return 42


@check("EDGE-WARNS", **KW)
def check_warns(tls, judge):
    warnings.warn("a user warning", UserWarning)
    judge.equals("warned", True, True)


@check("EDGE-NOTHING", **KW)
def check_nothing(tls, now, judge):
    pass


@check("EDGE-XFAIL", **KW)
def check_xfail(tls, judge):
    pytest.xfail("expected")


@check("EDGE-NONCOMPLIANT", **KW)
def check_noncompliant(tls, target, judge):
    judge.equals("name", target.name, "tls-good")


@check("EDGE-INTERRUPT", **KW)
def check_interrupt(tls, target, judge):
    if target.name == "tls-good":
        raise KeyboardInterrupt
    judge.equals("name", target.name, target.name)
"""


PACK_MARKED = """
import pytest

from preuve.judge import check

pytestmark = pytest.mark.skipif(True, reason="skipped by its module")


@check("EDGE-MARKED", requirements=["10.2.a"], target="tls_endpoint", severity="low", rule="test")
def check_marked(tls, judge):
    judge.equals("caller", "never", "called")
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack(ARCHIVE, tmp_path_factory.mktemp("recorded"))


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("edge-pack")
    (d / "catalogue.yaml").write_text(PACK_CATALOGUE)
    (d / "check_edge.py").write_text(PACK_CHECKS)
    (d / "check_marked.py").write_text(PACK_MARKED)  # a module marker: its items go through pytest's protocol
    return d


def both_ways(recorded: Path, out: Path, *args: str, addopts: str = "") -> tuple[dict, dict]:
    """Re-judge `recorded` directly and through pytest's protocol: (direct, protocol), each with its exit code,
    its results.jsonl bytes and its results by (check, target)."""
    runs = {}
    for way, env in (("direct", {}), ("protocol", {"PREUVE_JUDGE_PROTOCOL": "pytest"})):
        dest = out / way
        proc = preuve("judge", recorded, "-o", dest, "-q", *args, env={**env, "PYTEST_ADDOPTS": addopts})
        data = (dest / "results.jsonl").read_bytes()
        results = {(r["check_id"], r["target"]["name"]): r for r in map(json.loads, data.splitlines())}
        runs[way] = {"code": proc.returncode, "bytes": data, "results": results, "stderr": proc.stderr}
    return runs["direct"], runs["protocol"]


def test_recorded_demo_judged_directly_gives_the_same_bytes(recorded, tmp_path):
    direct, protocol = both_ways(recorded, tmp_path)
    assert direct["code"] == protocol["code"] == 1, direct["stderr"] + protocol["stderr"]
    assert len(direct["results"]) > 500
    assert direct["bytes"] == protocol["bytes"]


def test_odd_checks_give_the_same_results_both_ways(recorded, pack, tmp_path):
    select = ("--checks-dir", str(pack), "--select", "EDGE-[!I]*")  # all but EDGE-INTERRUPT
    direct, protocol = both_ways(recorded, tmp_path, *select, addopts="-W error::UserWarning")
    assert direct["code"] == protocol["code"] == 1, direct["stderr"][-3000:] + protocol["stderr"][-3000:]
    path = {k[1]: r["status"] for k, r in direct["results"].items() if k[0] == "EDGE-PATH"}
    assert set(path.values()) == {"pass"}, "the pack's items were judged directly"
    assert {r["status"] for k, r in protocol["results"].items() if k[0] == "EDGE-PATH"} == {"fail"}
    del direct["results"]
    by_check = {}
    for (cid, _), r in protocol["results"].items():
        by_check.setdefault(cid, set()).add(r["status"])
    assert by_check["EDGE-REQUEST"] == {"pass"}, "an item asking for `request` goes through pytest's protocol"
    assert by_check["EDGE-SKIP"] == {"not_applicable"}
    assert by_check["EDGE-PYTEST-FAIL"] == by_check["EDGE-SYSTEM-EXIT"] == by_check["EDGE-XFAIL"] == {"error"}
    assert by_check["EDGE-WARNS"] == {"error"}, "-W error::UserWarning applies to directly judged checks"
    assert by_check["EDGE-NOTHING"] == {"error"} and by_check["EDGE-NONCOMPLIANT"] == {"pass", "fail"}
    assert by_check["EDGE-MARKED"] == {"not_applicable"}, "the module's skipif mark applies"
    strip = [line for line in direct["bytes"].splitlines() if b'"EDGE-PATH"' not in line]
    assert strip == [line for line in protocol["bytes"].splitlines() if b'"EDGE-PATH"' not in line]


@pytest.mark.parametrize("addopts", ["--maxfail=3", "-x"])
def test_maxfail_stops_both_ways_at_the_same_pair(recorded, pack, tmp_path, addopts):
    ids = ("EDGE-NONCOMPLIANT", "EDGE-REQUEST", "EDGE-SKIP", "EDGE-RETURNS", "EDGE-PYTEST-FAIL", "EDGE-SYSTEM-EXIT")
    select = [arg for cid in ids for arg in ("--select", cid)]  # not EDGE-PATH: it fails through the protocol
    direct, protocol = both_ways(recorded, tmp_path, "--checks-dir", str(pack), *select, addopts=addopts)
    assert direct["code"] == protocol["code"]
    assert direct["bytes"] == protocol["bytes"]
    assert any("did not finish judging" in r["message"]["en"] for r in direct["results"].values())


def test_an_interrupt_in_a_check_ends_both_ways_alike(recorded, pack, tmp_path):
    direct, protocol = both_ways(recorded, tmp_path, "--checks-dir", str(pack), "--select", "EDGE-INTERRUPT")
    assert direct["code"] == protocol["code"] == 2
    assert direct["bytes"] == protocol["bytes"]
    assert direct["results"][("EDGE-INTERRUPT", "tls-good")]["status"] == "error"


def test_a_pack_using_testinfra_host_mixes_both_paths_alike(recorded, tmp_path):
    """examples/check-pack's checks take `host` (not a fixture the direct loop gives): they go through pytest's
    protocol between directly judged items, in the same run."""
    pack = Path(__file__).parents[2] / "examples" / "check-pack"
    direct, protocol = both_ways(
        recorded, tmp_path, "--checks-dir", str(pack), "--select", "SITE-*", "--select", "SSH-*"
    )
    assert direct["code"] == protocol["code"]
    assert direct["bytes"] == protocol["bytes"]
    assert {cid for cid, _ in direct["results"]} >= {"SITE-SSHD-ALLOW-LIST", "SSH-KEX"}
