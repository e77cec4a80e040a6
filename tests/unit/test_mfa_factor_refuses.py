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

import pytest

from checks.mfa.check_ssh_mfa import check_ssh_mfa_enforced
from checks.mfa.check_web_mfa import check_web_mfa
from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.observe.errors import ObservationError
from preuve.observe.identity import ssh_mfa

# --- judgement and budget, without a network ------------------------------------------------------------------


def _judge(check, facts: dict) -> tuple[str, Judge, str]:
    judge = Judge()
    try:
        check(facts, Params(), judge) if check is check_ssh_mfa_enforced else check(facts, judge)
    except ObservationError as e:
        return "error", judge, str(e)
    return ("fail" if judge.failed else "pass"), judge, ""


def _ssh_facts(factor: dict) -> dict:
    return {
        "key_alone_authenticated": False,
        "methods_still_required": ["keyboard-interactive"],
        "factor_probe": factor,
    }


def test_partial_success_alone_is_not_a_pass():
    """The defect: a server that asks a second method but was never seen refusing anything."""
    status, _, why = _judge(check_ssh_mfa_enforced, _ssh_facts({"run": False, "reason": "not asked"}))
    assert status == "error" and "not asked" in why
    status, judge, _ = _judge(
        check_ssh_mfa_enforced,
        _ssh_facts({"run": True, "wrong_code": "accepted", "empty_answer": "not sent", "valid_code": "accepted"}),
    )
    assert status == "fail" and [e.label for e in judge.failed] == ["mfa.ssh.wrong_code"]
    status, judge, _ = _judge(
        check_ssh_mfa_enforced,
        _ssh_facts({"run": True, "wrong_code": "refused", "empty_answer": "accepted", "valid_code": "accepted"}),
    )
    assert status == "fail" and [e.label for e in judge.failed] == ["mfa.ssh.empty_answer"]
    status, _, _ = _judge(
        check_ssh_mfa_enforced,
        _ssh_facts({"run": True, "wrong_code": "refused", "empty_answer": "refused", "valid_code": "accepted"}),
    )
    assert status == "pass"


def test_web_factor_that_takes_any_code_fails():
    login = {"login_status": 303, "cookies_set": ["session"], "admin_status_after": 200}
    refused = {**login, "login_status": 401, "cookies_set": [], "admin_status_after": 302, "session": False}
    facts = {
        "anonymous": {},
        "factor_probe": {"run": True},
        "password_only": refused,
        "password_totp": {**login, "session": True},
        "wrong_otp": {**login, "session": True},
        "empty_otp": refused,
    }
    status, judge, _ = _judge(check_web_mfa, facts)
    assert status == "fail" and [e.label for e in judge.failed] == ["mfa.web.wrong_otp_session"]
    status, _, why = _judge(check_web_mfa, {**facts, "password_totp": refused})
    assert status == "error" and "right TOTP code gave no session" in why


def test_idp_login_whose_code_step_takes_anything_fails():
    from checks.mfa.check_oidc import check_oidc_factor

    def judged(flow: dict) -> tuple[str, list[str], str]:
        judge = Judge()
        try:
            check_oidc_factor({"login_flow": flow}, judge)
        except ObservationError as e:
            return "error", [], str(e)
        return ("fail" if judge.failed else "pass"), [e.label for e in judge.failed], ""

    code = {"sent": ssh_mfa.WRONG, "outcome": "code issued", "stage": "after the code"}
    flow = {
        "run": True,
        "attempts": [code],
        "wrong_code": "code issued",
        "empty_code": "refused",
        "valid_code": "code issued",
    }
    assert judged(flow)[:2] == ("fail", ["mfa.oidc.wrong_code"])
    alone = {**code, "stage": "after the password alone: no code was asked"}
    assert "mfa.oidc.code_after_password_alone" in judged({**flow, "attempts": [alone]})[1]
    assert judged({**flow, "wrong_code": "refused"})[0] == "pass"
    assert judged({"run": False, "error": "no login form"})[0] == "error"


class _FakeServer:
    """Stands in for the connections: records what the probe sends, answers as told."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers, self.sent = answers, []

    def attempt(self, target, user, key, method, sent, answer, timeout):
        self.sent.append(sent)
        assert sent != ssh_mfa.EMPTY or answer == ""
        return {
            "sent": sent,
            "method": method,
            "info_requests": 1,
            "prompts": ["Code:"],
            "messages": [],
            "ms": 1.0,
            "outcome": self.answers[sent],
        }


@pytest.fixture
def ledger_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PREUVE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def _probe(monkeypatch, answers: dict[str, str], seed: str | None, max_deny: int = 5) -> tuple[dict, _FakeServer]:
    fake = _FakeServer(answers)
    monkeypatch.setattr(ssh_mfa, "_attempt", fake.attempt)
    target = ssh_mfa.SshTarget(host="198.18.2.12", port=22, user="pvadmin")
    probe = ssh_mfa.FactorProbe(seed, lookahead=3, max_deny=max_deny, interval_s=900)  # 4 runs, no wait
    return ssh_mfa.probe_factor(target, "pvadmin", None, "keyboard-interactive", probe, 5), fake


SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
REFUSING = {ssh_mfa.VALID: "accepted", ssh_mfa.WRONG: "refused", ssh_mfa.EMPTY: "refused"}


def test_the_run_that_would_lock_the_canary_sends_nothing_wrong(monkeypatch, ledger_dir):
    """Without a seed nothing clears the tally between runs: two runs add 4 failures; a third would reach
    faillock_max_deny=5, so it sends nothing wrong and says why (error), instead of locking the canary."""
    outs = [_probe(monkeypatch, REFUSING, None)[0] for _ in range(2)]
    assert all(o["run"] and o["wrong_code"] == o["empty_answer"] == "refused" for o in outs)
    third, fake = _probe(monkeypatch, REFUSING, None)
    assert not third["run"] and fake.sent == []
    assert "access.faillock_max_deny=5" in third["reason"] and "to 6 within 900 s" in third["reason"]
    status, _, why = _judge(check_ssh_mfa_enforced, _ssh_facts(third))
    assert status == "error" and "the canary would be locked" in why


def test_a_right_login_first_clears_the_budget(monkeypatch, ledger_dir):
    """With the seed, each run starts with the right code, which clears pam_faillock's tally: runs never add up."""
    for _ in range(4):
        out, fake = _probe(monkeypatch, REFUSING, SEED)
        assert out["run"] and fake.sent == [ssh_mfa.VALID, ssh_mfa.WRONG, ssh_mfa.EMPTY]
        assert out["budget"]["scanner_failures_pending"] == 0
    steps = json.loads(next(ledger_dir.glob("canaries/*.json")).read_text())
    assert set(steps) == {"failures", "last_step"} and len(steps["failures"]) == 2  # times and counts, no code


def test_a_budget_too_small_for_two_failures_is_refused(monkeypatch, ledger_dir):
    out, fake = _probe(monkeypatch, REFUSING, SEED, max_deny=2)
    assert not out["run"] and fake.sent == [ssh_mfa.VALID] and "access.faillock_max_deny=2" in out["reason"]


def test_right_code_refused_twice_sends_nothing_wrong(monkeypatch, ledger_dir):
    answers = {ssh_mfa.VALID: "refused", ssh_mfa.VALID_LATER: "refused"}
    out, fake = _probe(monkeypatch, answers, SEED)
    assert not out["run"] and fake.sent == [ssh_mfa.VALID, ssh_mfa.VALID_LATER]
    assert "refused on two steps" in out["reason"]


def test_wrong_code_accepted_stops_there(monkeypatch, ledger_dir):
    out, fake = _probe(monkeypatch, {**REFUSING, ssh_mfa.WRONG: "accepted"}, SEED)
    assert fake.sent == [ssh_mfa.VALID, ssh_mfa.WRONG] and out["wrong_code"] == "accepted"


def test_wrong_code_is_never_a_valid_one():
    import time

    import pyotp

    now = int(time.time()) // 30
    valid = {pyotp.TOTP(SEED).at((now + k) * 30) for k in range(-20, 21)}
    codes = {ssh_mfa.wrong_code(SEED) for _ in range(300)}
    assert not codes & valid and all(re.fullmatch(r"\d{6}", c) for c in codes)


# --- on the lab ------------------------------------------------------------------------------------------------
