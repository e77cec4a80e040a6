"""Every check judged on recorded facts, both ways, without root or lab: the facts of a real lab demo run
(tests/fixtures/recorded-demo.tar.xz, written by tools/record_unit_facts.py from `reports/demo` after
`flock /tmp/preuve-lab.lock bash ci/demo.sh`) are re-judged by `preuve judge`, offline, as an auditor would.

- the re-judged verdicts are the recorded ones (every field but timings and evidence digests);
- every check of the catalogue is in the recording, or in NOT_RECORDED (visible, with the reason);
- every recorded check passes on some target and fails on another, or is in ONE_WAY with where the other way is
  shown (a lab test that builds the target the demo does not scan).

Both lists can only shrink: an entry that the recording now covers fails the test until it is removed. A check added
after the recording fails here until it is either recorded again (`python tools/record_unit_facts.py` after a demo)
or listed in NOT_RECORDED with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preuve.exitcodes import Exit
from preuve.judge.catalogue import load_catalogue
from tests.conftest import preuve
from tools.record_unit_facts import DEFAULT_OUT as ARCHIVE
from tools.record_unit_facts import refusals, statuses, unpack
from tools.verdicts import project

# Catalogue checks the recording does not hold (added after it was made, or not in the demo's profile).
NOT_RECORDED: dict[str, str] = {}

# Recorded checks seen one way only in the demo, and where the other way is shown on the lab.
ONE_WAY: dict[str, str] = {
    "AUDIT-EVENTS": "no pass: no auditd runs in the lab (both hosts fail); the pass side on recorded rule files in "
    "tests/unit/test_malware_and_log_daemons.py",
    "LOG-DAEMON-PRIVILEGES": "no pass: rsyslogd and syslog-ng run as root on both lab hosts; the pass side in "
    "tests/lab/test_host_protection_both_ways.py",
    "IPSEC-TUNNELS-UP": "no pass here: ipsec-gw's IKE SA is up but this sandboxed kernel refuses the CHILD SA (xfrm: "
    "ENOSYS), see tests/lab/test_network_coverage_both_ways.py; passes where the kernel has IPsec",
    "ACC-RIGHTS-TABLE": "no fail: it fails only where keys come from an AuthorizedKeysCommand, and no lab host has "
    "one yet (the failing lab target does not exist)",
    "BACKUP-TRANSPORT": "no pass: 8 repositories are local (not_applicable), the remote one is the weak one; "
    "the compliant remote repository passes in tests/lab/test_storage_both_ways.py",
    "S3-ENDPOINT-IP-COUNTRY": "only not_applicable: the lab S3 endpoints are not on public addresses; both ways on "
    "recorded facts in tests/unit/test_s3_tls_and_self_hosted.py and on the lab in tests/lab/test_storage_both_ways.py",
    "BACKUP-DATA-CHECK": "no fail: every demo repository holds data; the empty one fails in "
    "tests/unit/test_absence_is_a_finding.py and tests/lab/test_storage_both_ways.py",
    "NET-ADMIN-PUBLIC": "no fail: the demo scans the compliant router; the drifted router fails in "
    "tests/lab/test_segmentation_probes.py",
    "NET-FLOW-ALLOWED": "no fail: the compliant router in the demo; the drifted one fails in "
    "tests/lab/test_segmentation_probes.py",
    "NET-FLOW-DENIED": "no fail: the compliant router in the demo; the drifted one fails in "
    "tests/lab/test_segmentation_probes.py",
    "NET-FLOW-JUSTIFIED": "no fail: the lab matrix justifies every flow; a flow without justification fails in "
    "tests/unit/test_segmentation_inputs.py",
    "NET-UNDECLARED-HOSTS": "no fail: the lab inventory declares every live address; a real pv-dmz sweep with "
    "tls-weak undeclared fails in tests/unit/test_undeclared_hosts.py and live in "
    "tests/lab/test_undeclared_hosts_sweep.py",
    "NET-MAP-REVIEWED": "no fail: the lab matrix declares a recent review; an old or missing date fails in "
    "tests/unit/test_flow_matrix_review_date.py",
    "NET-HOST-FIREWALL": "no fail: compliant hosts in the demo; the drifted host fails in "
    "tests/lab/test_segmentation_probes.py",
    "NET-HOST-LISTEN": "no fail: compliant hosts in the demo; the drifted host fails in "
    "tests/lab/test_segmentation_probes.py",
    "SSH-PROTOCOL": "no fail: every lab sshd speaks SSH-2 only; made to fail in tests/lab/test_check_edges.py",
    "TLS-CERT-NAME": "no fail: lab certificates match their names; judged against a wrong name in "
    "tests/lab/test_check_edges.py",
    "TLS-CERT-VALIDITY": "no fail: no lab daemon serves an expired certificate by default; made to fail in "
    "tests/lab/test_check_edges.py",
    "TLS-COMPRESSION": "no fail: no lab nginx compresses; made to fail in tests/lab/test_check_edges.py",
    "TLS-RENEGOTIATION": "no fail: no lab nginx allows client renegotiation; made to fail in "
    "tests/lab/test_check_edges.py",
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recorded run directory, unpacked."""
    return unpack(ARCHIVE, tmp_path_factory.mktemp("recorded") / "run")


@pytest.fixture(scope="module")
def rejudged(recorded: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rejudged") / "run"
    proc = preuve("judge", recorded, "-o", out, "-q")
    assert proc.returncode in (Exit.COMPLIANT, Exit.NON_COMPLIANT), proc.stdout + proc.stderr
    return out


def test_the_recording_is_a_real_lab_run_with_nothing_secret(recorded):
    info = json.loads((recorded / "run.json").read_text())
    assert info["inventory"]["name"] == "preuve-lab" and info["scanner"]["netns"] == "pv-admin"
    assert len(statuses(recorded)) >= 80
    errors = {c for c, n in statuses(recorded).items() if n["error"]}
    assert not errors, errors
    assert refusals(recorded) == []  # no error result, no withheld observation, no key material, no cloud secret
    assert sorted(p.name for p in recorded.iterdir()) == [
        "MANIFEST.sha256",
        "inputs",
        "observations",
        "results.jsonl",
        "run.json",
    ]  # only what judging needs


def test_rejudged_verdicts_are_the_recorded_ones(recorded, rejudged):
    ids = set(statuses(recorded))
    assert project(rejudged, ids) == project(recorded), (
        "a check judges the recorded facts differently: if on purpose, record again "
        "(demo, then python tools/record_unit_facts.py) and say why in the commit"
    )


def test_every_catalogue_check_is_recorded_or_listed(recorded):
    catalogue = set(load_catalogue())
    recorded_ids = set(statuses(recorded))
    missing = catalogue - recorded_ids - set(NOT_RECORDED)
    assert not missing, (
        f"checks with no recorded facts: {sorted(missing)}: run the demo and python tools/record_unit_facts.py, "
        "or list them in NOT_RECORDED with the reason"
    )
    assert not set(NOT_RECORDED) & recorded_ids, (
        f"recorded now, remove from NOT_RECORDED: {set(NOT_RECORDED) & recorded_ids}"
    )
    assert set(NOT_RECORDED) <= catalogue, f"not in the catalogue any more: {set(NOT_RECORDED) - catalogue}"


def test_every_recorded_check_passes_somewhere_and_fails_somewhere(recorded, rejudged):
    recorded_ids = set(statuses(recorded))
    seen = {cid: n for cid, n in statuses(rejudged).items() if cid in recorded_ids}
    assert set(seen) == recorded_ids
    one_way = {cid for cid, n in seen.items() if not n["pass"] or not n["fail"]}
    assert one_way <= set(ONE_WAY), {cid: dict(seen[cid]) for cid in one_way - set(ONE_WAY)}
    assert set(ONE_WAY) <= one_way, f"seen both ways now, remove from ONE_WAY: {set(ONE_WAY) - one_way}"
