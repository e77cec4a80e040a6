"""MFA proven, not declared (issue 12, point 4): a second factor must REFUSE a wrong and an empty answer.

Before this, MFA-SSH-ENFORCED passed any server that answered *partial success* to the canary's key, so a PAM
stack of pam_permit (asks keyboard-interactive, lets anything in) passed. On the lab: sshd with pam_permit, with
a factor that takes an empty answer and one that takes any six digits, and the web twins of the TOTP console,
must fail; the real TOTP servers (pam_oath, pyotp) still pass. No canary may ever be locked by a run: the probe
keeps within the lockout budget (access.faillock_max_deny), proven by repeated scans and pam_faillock's tally.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

import paramiko
import pytest

from preuve.observe.identity import ssh_mfa, web_mfa
from tests.conftest import LAB_INVENTORY, scan

LAB = Path("/var/tmp/preuve-lab")
FACTORS = {
    "ssh-factor-permit-admin": "198.18.2.50",
    "ssh-factor-empty-admin": "198.18.2.51",
    "ssh-factor-digits-admin": "198.18.2.52",
}
SENT = {
    ssh_mfa.VALID,
    ssh_mfa.VALID_LATER,
    ssh_mfa.WRONG,
    ssh_mfa.EMPTY,
    web_mfa.VALID,
    web_mfa.VALID_LATER,
    web_mfa.PASSWORD_ONLY,
    web_mfa.WRONG,
    web_mfa.EMPTY,
}


# --- judgement and budget, without a network ------------------------------------------------------------------


# --- on the lab ------------------------------------------------------------------------------------------------


@pytest.mark.lab
def test_accept_anything_factors_fail_and_totp_passes(lab_run):
    """pam_permit (no prompt at all), an empty answer, any six digits: each fails MFA-SSH-ENFORCED for the answer it
    took; ssh-mfa (pam_oath) passes with its refusals and the right code's success on record."""
    good = lab_run.result("MFA-SSH-ENFORCED", "ssh-mfa-admin")
    assert good["status"] == "pass", good["message"]
    assert {e["label"]: e["observed"] for e in good["expectations"]}["mfa.ssh.valid_code"] == "accepted"
    wants = {
        "ssh-factor-permit-admin": "wrong_code",
        "ssh-factor-empty-admin": "empty_answer",
        "ssh-factor-digits-admin": "wrong_code",
    }
    for name, label in wants.items():
        r = lab_run.result("MFA-SSH-ENFORCED", name)
        assert r["status"] == "fail", r["message"]
        assert [e["label"] for e in r["expectations"] if not e["ok"]] == [f"mfa.ssh.{label}"], r["message"]
    permit = json.loads((lab_run.out / "observations" / "ssh_mfa" / "ssh-factor-permit-admin.json").read_text())
    attempts = permit["facts"]["factor_probe"]["attempts"]
    assert attempts[-1]["sent"] == ssh_mfa.WRONG and attempts[-1]["prompts"] == []  # asked nothing, let it in
    for name, want in (
        ("web-admin-otp-any", "wrong_otp"),
        ("web-admin-otp-empty", "empty_otp"),
        ("web-admin-otp-digits", "wrong_otp"),
    ):
        r = lab_run.result("MFA-WEB-ENFORCED", name)
        assert r["status"] == "fail" and f"mfa.web.{want}_session" in [
            e["label"] for e in r["expectations"] if not e["ok"]
        ], r["message"]
    assert lab_run.result("MFA-WEB-ENFORCED", "web-admin-mfa")["status"] == "pass"
    assert lab_run.result("MFA-OIDC-FACTOR", "web-admin-mfa-oidc")["status"] == "pass"
    r = lab_run.result("MFA-OIDC-FACTOR", "web-admin-otp-any-oidc")
    assert r["status"] == "fail" and {e["label"] for e in r["expectations"] if not e["ok"]} == {
        "mfa.oidc.wrong_code",
        "mfa.oidc.empty_code",
    }, r["message"]


@pytest.mark.lab
def test_evidence_says_what_was_sent_never_the_code(lab_run):
    for kind in ("ssh_mfa", "web_mfa", "oidc"):
        for f in (lab_run.out / "observations" / kind).glob("*.json"):
            obs = json.loads(f.read_text())
            raw = obs["raw"]
            attempts = raw.get("factor_attempts") or raw.get("attempts") or raw.get("login_flow_attempts") or []
            assert {a["sent"] for a in attempts} <= SENT, f
            assert not re.search(r'"\d{6}"', json.dumps(obs["raw"])), f  # no six-digit code anywhere


def _mfa_inventory(tmp: Path, seeds: bool) -> Path:
    import yaml

    data = yaml.safe_load(LAB_INVENTORY.read_text())
    canaries = [c for c in data["baseline"]["ssh_canaries"] if c["name"] == "ssh-mfa-admin" or c["name"] in FACTORS]
    if not seeds:
        canaries = [{k: v for k, v in c.items() if k not in ("totp", "totp_lookahead")} for c in canaries]
    frame = ("version", "name", "scanner", "defaults", "sites", "zones")
    out = {k: v for k, v in data.items() if k in frame}
    out["baseline"] = {"ssh_canaries": canaries}
    path = tmp / f"inventory-{'seeds' if seeds else 'no-seeds'}.yaml"
    path.write_text(yaml.safe_dump(out, sort_keys=False))
    return path


def _valid_login_works(address: str) -> bool:
    """The canary's key, then oathtool's code for the current step (pam_oath's used steps forgotten first)."""
    from preuve_lab import hosts, netns
    from preuve_lab.paths import LabPaths

    hosts.reset_oath(LabPaths.current())
    seed = (LAB / "keys" / "canary.totp").read_text().strip()
    code = subprocess.run(["oathtool", "--totp", seed], capture_output=True, text=True, check=True).stdout.strip()
    with netns.enter("pv-admin"):
        t = paramiko.Transport(socket.create_connection((address, 22), timeout=5))
        try:
            t.start_client(timeout=5)
            t.auth_publickey("pvadmin", paramiko.PKey.from_path(str(LAB / "keys" / "canary")))
            t.auth_interactive("pvadmin", lambda title, instr, prompts: [code for _ in prompts])
            return t.is_authenticated()
        except paramiko.AuthenticationException:
            return False
        finally:
            t.close()


@pytest.mark.lab
def test_no_canary_is_ever_locked_by_runs_in_a_row(lab, tmp_path):
    """Three scans in a row with the seed, then three without (tally fresh, scanner ledger fresh): pam_faillock's
    tally of the canary never reaches deny=5, the third seedless run refuses to send anything wrong (error, saying
    why), and the right login still works at the end."""
    from preuve_lab import hosts, mfa_factors
    from preuve_lab.paths import LabPaths

    paths = LabPaths.current()
    hosts.reset_oath(paths)  # pam_oath forgets the steps earlier scans used (this run's ledger starts empty)
    names = ["ssh-mfa", *(n.removesuffix("-admin") for n in FACTORS)]

    def reset() -> None:
        for n in names:
            d = mfa_factors.tally_dir(paths, n) if n != "ssh-mfa" else LAB / "hosts" / "ssh-mfa" / "log" / "faillock"
            subprocess.run(["faillock", "--dir", str(d), "--user", "pvadmin", "--reset"], check=True)

    reset()
    env = {"PREUVE_STATE_DIR": str(tmp_path / "state")}
    for i in range(3):
        run = scan(
            tmp_path / f"seeds-{i}", "--select", "MFA-SSH-ENFORCED", inventory=_mfa_inventory(tmp_path, True), env=env
        )
        assert run.statuses("ssh-mfa-admin") == {"MFA-SSH-ENFORCED": "pass"}, run.proc.stderr
        assert mfa_factors.tally(paths, "ssh-mfa") == 2  # the wrong and the empty answer, cleared next run
        for name in FACTORS:
            assert run.statuses(name) == {"MFA-SSH-ENFORCED": "fail"}
    reset()
    env = {"PREUVE_STATE_DIR": str(tmp_path / "state-no-seed")}
    results = []
    for i in range(3):
        run = scan(
            tmp_path / f"no-seeds-{i}",
            "--select",
            "MFA-SSH-ENFORCED",
            inventory=_mfa_inventory(tmp_path, False),
            env=env,
        )
        results.append(run.result("MFA-SSH-ENFORCED", "ssh-mfa-admin"))
        assert mfa_factors.tally(paths, "ssh-mfa") == min(2 * (i + 1), 4)
    assert [r["status"] for r in results] == ["pass", "pass", "error"], results[-1]["message"]
    assert "access.faillock_max_deny=5" in results[-1]["message"]["en"]
    assert _valid_login_works("198.18.2.12"), "the canary must not be locked"
    assert mfa_factors.tally(paths, "ssh-mfa") == 0


@pytest.mark.lab
def test_a_locked_canary_gets_nothing_more(lab, tmp_path, monkeypatch):
    """Locked by someone else (five wrong codes), the canary is not pushed further: the right code is refused once,
    the server's lock message is recorded and quoted, no retry and no wrong answer follow; then it is unlocked."""
    from preuve.observe.ssh.host import SshTarget
    from preuve_lab import hosts, mfa_factors, netns
    from preuve_lab.paths import LabPaths

    monkeypatch.setenv("PREUVE_STATE_DIR", str(tmp_path / "state"))
    paths = LabPaths.current()
    tally_dir = LAB / "hosts" / "ssh-mfa" / "log" / "faillock"
    target = SshTarget(host="198.18.2.12", port=22, user="pvadmin", known_hosts=str(LAB / "hosts" / "known_hosts"))
    key = (LAB / "keys" / "canary").read_text()
    seed = (LAB / "keys" / "canary.totp.base32").read_text().strip()
    probe = ssh_mfa.FactorProbe(seed, lookahead=2, max_deny=5, interval_s=900)
    try:
        with netns.enter("pv-admin"):
            k = ssh_mfa.load_key(key, "lab")
            for _ in range(5):
                assert (
                    ssh_mfa._attempt(
                        target, "pvadmin", k, "keyboard-interactive", "wrong", "000000" if seed else "", 5
                    )["outcome"]
                    == "refused"
                )
            assert mfa_factors.tally(paths, "ssh-mfa") == 5
            facts, _ = ssh_mfa.collect(target, "pvadmin", key, probe=probe, timeout=5)
        factor = facts["factor_probe"]
        assert not factor["run"] and [a["sent"] for a in factor["attempts"]] == [ssh_mfa.VALID]
        assert "locked due to 5 failed logins" in factor["reason"] and mfa_factors.tally(paths, "ssh-mfa") == 5
    finally:
        subprocess.run(["faillock", "--dir", str(tally_dir), "--user", "pvadmin", "--reset"], check=True)
        hosts.reset_oath(paths)
