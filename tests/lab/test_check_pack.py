"""Out-of-tree check packs and the testinfra-style `host` fixture (issue 16 item 6).

The documented example pack (examples/check-pack) runs on the lab: its checks pass and fail for the right reason,
every command testinfra sent is recorded as evidence, the run verifies, and re-judging offline gives the same
verdicts without touching the hosts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FULL_PROFILE, REPO, Run, lab_inventory, preuve

PACK = REPO / "examples" / "check-pack"
IDS = {"SITE-SSHD-ALLOW-LIST", "SITE-SSHD-CONFIG-OWNER", "SITE-OPENSSH-PACKAGE", "SITE-SCANNER-UNPRIVILEGED"}


# --- units: the replaying backend and pack loading -------------------------------------------------------------


# --- on the lab ------------------------------------------------------------------------------------------------


def _core(data: dict) -> None:
    data["hosts"] = [h for h in data["hosts"] if h["name"] in ("ssh-good", "ssh-weak")]


@pytest.fixture(scope="module")
def pack_run(lab_module, tmp_path_factory) -> Run:
    tmp = tmp_path_factory.mktemp("pack")
    inv = lab_inventory(tmp, _core, keep=("hosts",))
    out = tmp / "run"
    proc = preuve(
        "run",
        "-i",
        inv,
        "-p",
        FULL_PROFILE,
        "-o",
        out,
        "-q",
        "--checks-dir",
        PACK,
        "--select",
        "SITE-*",
        "--lang",
        "en",
    )
    return Run(proc, out)


@pytest.mark.lab
def test_example_pack_passes_and_fails_for_the_right_reason(pack_run):
    assert pack_run.code == 1, pack_run.proc.stderr  # non-compliant: ssh-weak has no allow list
    good, weak = pack_run.statuses("ssh-good"), pack_run.statuses("ssh-weak")
    assert set(good) == set(weak) == IDS
    assert all(s == "pass" for s in good.values()), good
    assert weak == {**{i: "pass" for i in IDS}, "SITE-SSHD-ALLOW-LIST": "fail"}
    r = pack_run.result("SITE-SSHD-ALLOW-LIST", "ssh-weak")
    assert "AllowUsers or AllowGroups present: observed false; expected: true" in r["message"]["en"]
    assert pack_run.result("SITE-SCANNER-UNPRIVILEGED", "ssh-good")["status"] == "pass"


@pytest.mark.lab
def test_every_testinfra_command_is_recorded_as_evidence_and_the_run_verifies(pack_run):
    r = pack_run.result("SITE-SSHD-ALLOW-LIST", "ssh-weak")
    paths = [e["path"] for e in r["evidence"]]
    assert paths == ["observations/host_commands/ssh-weak.json"]
    obs = json.loads((pack_run.out / paths[0]).read_text())
    recorded = {c["command"]: c for c in obs["facts"]["commands"]}
    grep = next(c for c in recorded if c.startswith("grep -qs -- ") and c.endswith("/weak.conf"))
    assert recorded[grep]["rc"] == 1, "grep found nothing: the answer behind the fail"
    assert "id -u" in recorded and recorded["id -u"]["stdout"].strip() != "0"
    assert set(obs["query"]["checks"]) == IDS and obs["query"]["user"] == "auditor"
    proc = preuve("verify", pack_run.out)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.lab
def test_pack_run_rejudges_offline_with_the_same_verdicts(pack_run, tmp_path):
    j = preuve("judge", pack_run.out, "--checks-dir", PACK, "--select", "SITE-*", "-o", tmp_path / "j", "-q")
    assert j.returncode == 1, j.stderr
    again = Run(j, tmp_path / "j")
    for host in ("ssh-good", "ssh-weak"):
        assert again.statuses(host) == pack_run.statuses(host)


@pytest.mark.lab
def test_a_check_asking_an_unrecorded_command_is_an_error_not_a_guess(pack_run, tmp_path):
    """Re-judging with a pack whose check now runs another command: no answer on record -> error."""
    other = tmp_path / "pack"
    other.mkdir()
    (other / "catalogue.yaml").write_text((PACK / "catalogue.yaml").read_text())
    source = (PACK / "check_site.py").read_text().replace('host.run("id -u")', 'host.run("id -u -n")')
    (other / "check_site.py").write_text(source)
    j = preuve(
        "judge",
        pack_run.out,
        "--checks-dir",
        other,
        "--select",
        "SITE-SCANNER-*",
        "-o",
        tmp_path / "j",
        "-q",
        "--lang",
        "en",
    )
    again = Run(j, tmp_path / "j")
    r = again.result("SITE-SCANNER-UNPRIVILEGED", "ssh-good")
    assert r["status"] == "error" and "command not recorded while observing" in r["message"]["en"], r["message"]
    assert Path(again.out / "results.jsonl").exists()
