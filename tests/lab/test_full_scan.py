"""The full profile against the lab: each weak target fails exactly the checks it should, each compliant
target passes them all, and every failure says what was observed and what was expected."""

from __future__ import annotations

import pytest

from preuve.exitcodes import Exit
from tests.unit.test_coverage_honest import SIGNALS

pytestmark = pytest.mark.lab

TLS_CHECKS = {
    "TLS-VERSIONS",
    "TLS-SUITES",
    "TLS-FORWARD-SECRECY",
    "TLS-GROUPS",
    "TLS-RENEGOTIATION",
    "TLS-COMPRESSION",
    "TLS-HSTS",
    "TLS-CERT-KEY",
    "TLS-CERT-SIGNATURE",
    "TLS-CERT-VALIDITY",
    "TLS-CERT-NAME",
    "TLS-CA-EU",
}
SSH_PROTOCOL_CHECKS = {
    "SSH-PROTOCOL",
    "SSH-KEX",
    "SSH-CIPHERS",
    "SSH-MACS",
    "SSH-HOSTKEY-ALGORITHMS",
    "SSH-HOSTKEYS",
}
SSHD_CHECKS = {
    "SSH-ROOT-LOGIN",
    "SSH-PASSWORD-AUTH",
    "SSH-EMPTY-PASSWORDS",
    "SSH-MAX-AUTH-TRIES",
    "SSH-LOGIN-GRACE-TIME",
    "SSH-FORWARDING",
    "SSH-LOG-LEVEL",
    "SSH-ALLOW-LIST",
    "SSH-USER-ENVIRONMENT",
    "SSH-STRICT-MODES",
}

# What each deliberately weak lab target must fail, and nothing else.
EXPECTED_FAILURES = {
    "tls-weak": {
        "TLS-VERSIONS",
        "TLS-SUITES",
        "TLS-FORWARD-SECRECY",
        "TLS-GROUPS",
        "TLS-HSTS",
        "TLS-CERT-KEY",
        "TLS-CERT-SIGNATURE",
        "TLS-CA-EU",
    },
    "ssh-weak": {"SSH-KEX", "SSH-CIPHERS", "SSH-MACS", "SSH-HOSTKEY-ALGORITHMS", "SSH-HOSTKEYS"} | SSHD_CHECKS,
    "tls-good": set(),
    "ssh-good": set(),
    # issue 12: compliant globally, weakened by Match blocks only (scanner's network, root, port 2222)
    "ssh-match": {"SSH-PASSWORD-AUTH", "SSH-ROOT-LOGIN", "SSH-MAX-AUTH-TRIES"},
}
ALL_CHECKS = {
    "tls-weak": TLS_CHECKS,
    "tls-good": TLS_CHECKS,
    "ssh-weak": SSH_PROTOCOL_CHECKS | SSHD_CHECKS,
    "ssh-good": SSH_PROTOCOL_CHECKS | SSHD_CHECKS,
    "ssh-match": SSH_PROTOCOL_CHECKS | SSHD_CHECKS,
}

# The observed value each failure must quote (proof that it failed for the right reason).
OBSERVED_IN_MESSAGE = {
    ("TLS-VERSIONS", "tls-weak"): "TLSv1.0",
    ("TLS-SUITES", "tls-weak"): "TLS_RSA_WITH_AES_128_CBC_SHA",
    ("TLS-FORWARD-SECRECY", "tls-weak"): "TLS_RSA_WITH_AES_256_CBC_SHA",
    ("TLS-GROUPS", "tls-weak"): "1024",
    ("TLS-HSTS", "tls-weak"): "null",
    ("TLS-CERT-KEY", "tls-weak"): "1024",
    ("TLS-CERT-SIGNATURE", "tls-weak"): "sha1",
    ("TLS-CA-EU", "tls-weak"): "C=US: US",
    ("SSH-KEX", "ssh-weak"): "diffie-hellman-group1-sha1",
    ("SSH-CIPHERS", "ssh-weak"): "3des-cbc",
    ("SSH-MACS", "ssh-weak"): "hmac-md5",
    ("SSH-HOSTKEY-ALGORITHMS", "ssh-weak"): "ssh-dss",
    ("SSH-HOSTKEYS", "ssh-weak"): "ssh-rsa 1024",
    ("SSH-ROOT-LOGIN", "ssh-weak"): "observé yes",
    ("SSH-PASSWORD-AUTH", "ssh-weak"): "observé yes",
    ("SSH-EMPTY-PASSWORDS", "ssh-weak"): "observé yes",
    ("SSH-MAX-AUTH-TRIES", "ssh-weak"): "observé 10",
    ("SSH-LOGIN-GRACE-TIME", "ssh-weak"): "observé 120",
    ("SSH-FORWARDING", "ssh-weak"): '"x11forwarding": "yes"',
    ("SSH-LOG-LEVEL", "ssh-weak"): "observé ",
    ("SSH-ALLOW-LIST", "ssh-weak"): "observé []",
    ("SSH-USER-ENVIRONMENT", "ssh-weak"): "observé yes",
    ("SSH-STRICT-MODES", "ssh-weak"): "observé no",
    # the Match-only failures name the connection context that produced them
    ("SSH-PASSWORD-AUTH", "ssh-match"): "observé yes [user=auditor,addr=198.18.1.10,laddr=198.18.2.40,lport=22",
    ("SSH-ROOT-LOGIN", "ssh-match"): "observé yes [user=root,",
    ("SSH-MAX-AUTH-TRIES", "ssh-match"): "lport=2222",
}


def test_exit_code_is_non_compliant(lab_run):
    assert lab_run.code == Exit.NON_COMPLIANT, lab_run.proc.stderr


@pytest.mark.parametrize("target", sorted(EXPECTED_FAILURES))
def test_each_target_fails_exactly_what_it_should(lab_run, target):
    statuses = lab_run.statuses(target)
    assert set(statuses) == ALL_CHECKS[target], "every check must judge every target of its kind"
    failed = {c for c, s in statuses.items() if s == "fail"}
    assert failed == EXPECTED_FAILURES[target]
    assert {s for c, s in statuses.items() if c not in failed} == {"pass"}


@pytest.mark.parametrize(("check", "target"), sorted(OBSERVED_IN_MESSAGE))
def test_failure_quotes_observed_and_expected(lab_run, check, target):
    r = lab_run.result(check, target)
    assert r["status"] == "fail"
    assert OBSERVED_IN_MESSAGE[(check, target)] in r["message"]["fr"]
    assert "attendu" in r["message"]["fr"] and "expected" in r["message"]["en"]
    assert r["remediation"]["fr"] and r["remediation"]["en"]
    assert r["evidence"] and all(len(e["sha256"]) == 64 for e in r["evidence"])


def test_every_result_carries_expected_observed_and_evidence(lab_run):
    for r in lab_run.results:
        if r["status"] in ("pass", "fail", "waived"):  # not_applicable says why instead
            assert r["expected"] and r["observed"], r["check_id"]
        # a signal check (tests/unit/test_coverage_honest.py SIGNALS) evidences no requirement on its own, on purpose
        assert (r["requirements"] or r["check_id"] in SIGNALS) and r["evidence"], r["check_id"]
        for ev in r["evidence"]:
            assert (lab_run.out / ev["path"]).is_file()


def test_ssh_host_facts_come_from_one_connection(lab_run):
    import json

    obs = json.loads((lab_run.out / "observations/ssh_host/ssh-good.json").read_text())
    assert obs["ok"] and obs["facts"]["host_key"]["trusted"] == "known_hosts"
    assert "sshd -T" in json.dumps(obs["query"]["commands"])


def test_ssh_match_is_compliant_outside_its_match_blocks(lab_run):
    """What `sshd -T` without connection context judges (the naive view): every other context of ssh-match is
    compliant, so only the per-connection evaluation finds its three weaknesses; the server's answer to `none`
    confirms the password one from the scanner's network."""
    import json

    obs = json.loads((lab_run.out / "observations/ssh_host/ssh-match.json").read_text())
    fact = obs["facts"]["sshd_effective"]
    assert set(fact["criteria"]) == {"address", "user", "localport"}
    assert "password" in fact["offered"]["methods"]
    base = fact["base"]["config"]
    other = next(c for c in fact["contexts"] if (c["user"], c["addr"], c["lport"]) == ("auditor", "198.18.2.1", "22"))
    merged = {**base, **other["config"]}
    assert (merged["passwordauthentication"], merged["maxauthtries"], merged["permitrootlogin"]) == (
        ["no"],
        ["2"],
        ["no"],
    )
    assert lab_run.result("SSH-PASSWORD-AUTH", "ssh-good")["status"] == "pass"
    # the `none` request from the namespace vantage points: the admin zone (Match Address) is offered passwords,
    # the production zone is not, the zones the router keeps out are unreachable (not errors)
    replies = {r["vantage"]: r for r in fact["offered_from_vantages"]}
    assert "password" in replies["admin-ns"]["methods"] and replies["prod-ns"]["methods"] == ["publickey"]
    assert "unreachable" in replies["pub-ns"] and "error" not in replies["pub-ns"]
    offered = lab_run.result("SSH-PASSWORD-AUTH", "ssh-match")["observed"]["ssh.auth_offered"]
    assert "password (offered from vantage admin-ns)" in offered


def test_mfa_ssh_config_counts_root_and_sudo_rule_holders(lab_run):
    """Administrators are not only sudo/wheel/admin members: root and alice (one sudo rule, no admin group, read
    through `sudo -l -U` with the scanning account's `list` privilege) are counted, and said unable to log in."""
    for host, status in (("ssh-mfa", "pass"), ("ssh-key-only", "fail")):
        r = lab_run.result("MFA-SSH-CONFIG", host)
        observed = r["observed"]["mfa.ssh.authenticationmethods"]
        assert r["status"] == status
        assert observed["alice"] == "cannot log in: refused by the Allow/Deny lists (sudo-rule)"
        assert observed["root"] == "cannot log in: PermitRootLogin no (root, sudo-rule)"
        assert observed["auditor"].startswith("scanning account, not judged")
