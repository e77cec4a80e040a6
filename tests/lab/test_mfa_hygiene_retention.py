"""Issue 5 on the lab: MFA proven by real logins, hygiene from /etc/shadow, log retention; each check both ways.

ssh-mfa is the compliant host (PAM OATH TOTP after the key, yescrypt/bcrypt hashes, persistent journal kept a
year, logs rotated past six months); ssh-key-only is its non-compliant twin. Every failure must quote what was
observed; no canary secret may appear in any output.
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import paramiko
import pytest

from tests.conftest import scan

pytestmark = pytest.mark.lab

LAB = Path("/var/tmp/preuve-lab")
CANARY_KEY = LAB / "keys" / "canary"
CANARY_TOTP = LAB / "keys" / "canary.totp"
MFA, KEY_ONLY = "198.18.2.12", "198.18.2.13"
WEB_PASSWORD = LAB / "keys" / "web-admin.password"
WEB_TOTP = LAB / "keys" / "web-admin.totp"
WEB_CA = LAB / "webadmin" / "cert.pem"
WEB_SECRETS: list[str] = []

# (check, target) -> expected status, and for failures what the message must quote.
EXPECTED = {
    ("MFA-SSH-ENFORCED", "ssh-mfa-admin"): ("pass", None),
    ("MFA-SSH-ENFORCED", "ssh-key-only-admin"): ("fail", "observé true"),
    ("MFA-SSH-ENFORCED", "ssh-factor-permit-admin"): ("fail", "code faux (6 chiffres) après la clé : observé accepted"),
    ("MFA-SSH-ENFORCED", "ssh-factor-empty-admin"): ("fail", "réponse vide après la clé : observé accepted"),
    ("MFA-SSH-ENFORCED", "ssh-factor-digits-admin"): ("fail", "code faux (6 chiffres) après la clé : observé accepted"),
    ("MFA-SSH-CONFIG", "ssh-mfa"): ("pass", None),
    ("MFA-SSH-CONFIG", "ssh-key-only"): ("fail", '"pvadmin": "any"'),
    ("HYG-PASSWORD-HASHES", "ssh-mfa"): ("pass", None),
    ("HYG-PASSWORD-HASHES", "ssh-key-only"): ("fail", '"alice": "md5crypt"'),
    ("HYG-EMPTY-PASSWORDS", "ssh-mfa"): ("pass", None),
    ("HYG-EMPTY-PASSWORDS", "ssh-key-only"): ("fail", '["carol"]'),
    ("HYG-SHARED-SALTS", "ssh-mfa"): ("pass", None),
    ("HYG-SHARED-SALTS", "ssh-key-only"): ("fail", '"dave": ["erin"]'),
    ("HYG-HASHING-METHOD", "ssh-mfa"): ("pass", None),
    ("HYG-HASHING-METHOD", "ssh-key-only"): ("fail", "observé MD5"),
    ("LOG-JOURNALD-RETENTION", "ssh-mfa"): ("pass", None),
    ("LOG-JOURNALD-RETENTION", "ssh-key-only"): ("fail", "observé volatile"),
    ("LOG-LOGROTATE-RETENTION", "ssh-mfa"): ("pass", None),
    ("LOG-LOGROTATE-RETENTION", "ssh-key-only"): ("fail", "maxage 30 d"),
    ("LOG-FORWARDING-CONFIG", "ssh-mfa"): ("pass", None),
    ("LOG-FORWARDING-CONFIG", "ssh-key-only"): ("fail", "198.18.4.3:514 udp plaintext"),
    ("LOG-FORWARDING-LIVE", "ssh-mfa"): ("pass", None),
    ("LOG-FORWARDING-LIVE", "ssh-key-only"): ("fail", '"syslog-ng d_unverified": {"ca": "none'),
    ("TIME-SYNC", "ssh-mfa"): ("pass", None),
    ("TIME-SYNC", "ssh-key-only"): ("fail", "observé Not synchronised"),
    ("TIME-OFFSET", "ssh-mfa"): ("pass", None),
    ("TIME-OFFSET", "ssh-key-only"): ("fail", "observé null"),
    ("TIME-SOURCES-INTERNAL", "ssh-mfa"): ("pass", None),
    ("TIME-SOURCES-INTERNAL", "ssh-key-only"): ("fail", "pool 2.debian.pool.ntp.org"),
    ("MFA-WEB-UNAUTHENTICATED", "web-admin-mfa"): ("pass", None),
    ("MFA-WEB-UNAUTHENTICATED", "web-admin-password-only"): ("fail", '"status": 200'),
    ("MFA-WEB-ENFORCED", "web-admin-mfa"): ("pass", None),
    ("MFA-WEB-ENFORCED", "web-admin-password-only"): ("fail", "mot de passe du compte témoin : observé true"),
    **{("MFA-WEB-UNAUTHENTICATED", f"web-admin-otp-{m}"): ("pass", None) for m in ("any", "empty", "digits")},
    ("MFA-WEB-ENFORCED", "web-admin-otp-any"): ("fail", "code faux (6 chiffres) : observé true"),
    ("MFA-WEB-ENFORCED", "web-admin-otp-empty"): ("fail", "code vide : observé true"),
    ("MFA-WEB-ENFORCED", "web-admin-otp-digits"): ("fail", "code faux (6 chiffres) : observé true"),
    ("TIME-LOG-TIMESTAMPS", "ssh-mfa"): ("pass", None),
    ("TIME-LOG-TIMESTAMPS", "ssh-key-only"): ("fail", '"/var/log/messages": "'),
    ("LOG-FILE-ACCESS", "ssh-mfa"): ("pass", None),
    ("LOG-FILE-ACCESS", "ssh-key-only"): ("fail", '"/var/log/app.log (666)"'),
    # rsyslogd and syslog-ng run as root on both lab hosts, as Debian ships them (the pass side: a real rsyslogd
    # dropping to nobody, tests/lab/test_host_protection_both_ways.py)
    ("LOG-DAEMON-PRIVILEGES", "ssh-mfa"): ("fail", "root (euid 0)"),
    ("LOG-DAEMON-PRIVILEGES", "ssh-key-only"): ("fail", "root (euid 0)"),
    ("LOCK-FAILLOCK", "ssh-mfa"): ("pass", None),
    ("LOCK-FAILLOCK", "ssh-key-only"): ("fail", '"pam_faillock in sshd auth stack": []'),
}
EXTRA_QUOTES = {  # further proof that each failure is for the right reason
    ("HYG-PASSWORD-HASHES", "ssh-key-only"): ['"bob": "descrypt"', "rounds=1000"],
    ("LOG-JOURNALD-RETENTION", "ssh-key-only"): ["observé 30.4"],
    ("LOG-LOGROTATE-RETENTION", "ssh-key-only"): ["measured: oldest rotated file 20"],
    ("LOG-FORWARDING-CONFIG", "ssh-key-only"): ['"Direct file=None"'],
    ("LOG-FORWARDING-LIVE", "ssh-key-only"): ['"established": false', "unable to get local issuer certificate"],
}
PASS_QUOTES = {  # what a pass must show it measured
    ("LOG-FORWARDING-LIVE", "ssh-mfa"): [
        '"certificate_verified": true',
        '"established": true',
        "collector.lab",
        '"syslog-ng d_collector": {"ca": "/etc/preuve-lab-tls/ca.pem", '
        '"certificate_verified": true, "established": true',
    ],
    ("LOG-LOGROTATE-RETENTION", "ssh-mfa"): ["measured: oldest rotated file 200"],
    ("MFA-SSH-ENFORCED", "ssh-mfa-admin"): ['["keyboard-interactive"]'],
}


def _in_admin(fn):
    from preuve_lab import netns

    with netns.enter("pv-admin"):
        return fn()


def _userauth(address: str, code: str | None) -> tuple[list[str] | None, bool | str]:
    """Key first, then (if asked) the TOTP code over keyboard-interactive: (methods left, final outcome)."""
    sock = socket.create_connection((address, 22), timeout=5)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=5)
        left = t.auth_publickey("pvadmin", paramiko.PKey.from_path(str(CANARY_KEY)))
        if t.is_authenticated() or code is None:
            return left, t.is_authenticated()
        try:
            t.auth_interactive("pvadmin", lambda title, instructions, prompts: [code for _ in prompts])
        except paramiko.AuthenticationException:
            return left, "rejected"
        return left, t.is_authenticated()
    finally:
        t.close()


def _totp(ahead: int = 0) -> str:
    """oathtool's TOTP code for the current 30 s step, or `ahead` steps later (pam_oath refuses a replayed step)."""
    seed = CANARY_TOTP.read_text().strip()
    argv = ["oathtool", "--totp", f"--now=now + {30 * ahead} seconds", seed]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def test_ssh_mfa_real_logins(lab):
    """The PAM OATH server wants a second factor after the key; a wrong code fails, oathtool's code logs in."""
    left, outcome = _in_admin(lambda: _userauth(MFA, None))
    assert left == ["keyboard-interactive"] and outcome is False
    wrong = f"{(int(_totp()) + 1) % 1_000_000:06d}"
    assert _in_admin(lambda: _userauth(MFA, wrong))[1] == "rejected"
    from preuve_lab import hosts
    from preuve_lab.paths import LabPaths

    hosts.reset_oath(LabPaths.current())  # pam_oath refuses a step already used (by an earlier run of this test)
    code = _totp()  # one code for both logins: recomputed, it could belong to the next step and be fresh
    assert _in_admin(lambda: _userauth(MFA, code)) == (["keyboard-interactive"], True)
    assert _in_admin(lambda: _userauth(MFA, code))[1] == "rejected", "a replayed code must be refused"
    hosts.reset_oath(LabPaths.current())  # leave the canary as found: its step forgotten, its tally empty
    (LAB / "hosts" / "ssh-mfa" / "log" / "faillock" / "pvadmin").unlink(missing_ok=True)


def test_key_only_server_lets_the_key_alone_in(lab):
    left, outcome = _in_admin(lambda: _userauth(KEY_ONLY, None))
    assert outcome is True and not left


@pytest.fixture(scope="module")
def baseline_run(lab, tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline") / "run"
    run = scan(out, *(a for g in ("MFA-*", "HYG-*", "LOG-*", "TIME-*", "LOCK-FAILLOCK") for a in ("--select", g)))
    WEB_SECRETS.extend(p.read_text().strip() for p in (WEB_PASSWORD, WEB_TOTP))
    assert (out / "results.jsonl").exists(), run.proc.stderr
    return run


@pytest.mark.parametrize(("check", "target"), sorted(EXPECTED))
def test_each_check_both_ways(baseline_run, check, target):
    status, quote = EXPECTED[(check, target)]
    r = baseline_run.result(check, target)
    assert r["status"] == status, r["message"]
    if status == "fail":
        for q in [quote, *EXTRA_QUOTES.get((check, target), [])]:
            assert q in r["message"]["fr"] or q in r["message"]["en"], (q, r["message"])
        assert "attendu" in r["message"]["fr"] and "expected" in r["message"]["en"]
        assert r["remediation"]["fr"] and r["remediation"]["en"]
    for q in PASS_QUOTES.get((check, target), []):
        assert q in r["message"]["fr"], (q, r["message"])
    assert r["evidence"] and all(len(e["sha256"]) == 64 for e in r["evidence"])


# matched by the globs, in tests/lab/test_oidc_password_grant.py
JUDGED_ELSEWHERE = {"MFA-OIDC-PASSWORD-GRANT", "MFA-OIDC-FACTOR"}


def test_every_baseline_check_is_listed(baseline_run):
    judged = {
        (r["check_id"], r["target"]["name"]) for r in baseline_run.results if r["target"]["kind"] != "log_store"
    }  # central log stores: tests/lab/test_log_stores.py
    judged = {(c, t) for c, t in judged if c not in JUDGED_ELSEWHERE}
    assert judged == set(EXPECTED)


def test_no_canary_secret_in_any_output(baseline_run):
    key_lines = [ln for ln in CANARY_KEY.read_text().splitlines() if ln and "PRIVATE KEY" not in ln]
    secrets = [CANARY_TOTP.read_text().strip(), *key_lines, *WEB_SECRETS]
    assert len(secrets) >= 4
    texts = [baseline_run.proc.stdout, baseline_run.proc.stderr]
    texts += [p.read_text(errors="replace") for p in baseline_run.out.rglob("*") if p.is_file()]
    for secret in secrets:
        assert not any(secret in t for t in texts)


@pytest.mark.parametrize("host", ["ssh-mfa", "ssh-key-only"])
def test_no_hash_or_salt_leaves_the_host(baseline_run, host):
    """Neither a hash nor a salt of the lab host's real /etc/shadow is in the evidence (raw output included)."""
    text = (baseline_run.out / "observations" / "ssh_host" / f"{host}.json").read_text()
    assert "shadow" in json.loads(text)["facts"]
    fields = [ln.split(":")[1] for ln in (LAB / "hosts" / host / "etc" / "shadow").read_text().splitlines()]
    hashes = [f for f in fields if f.startswith("$") or len(f) == 13]
    assert hashes
    for h in hashes:
        salt = h[:2] if len(h) == 13 else h.rsplit("$", 1)[0].rsplit("$", 1)[-1][:22]
        assert h not in text and h.rsplit("$", 1)[-1] not in text and (len(salt) < 8 or salt not in text)


def test_tls_forwarding_delivers_to_the_collector(lab):
    """A marker logged on ssh-mfa reaches the collector in pv-sup (over TLS: the only path its config has)."""
    import time
    import uuid

    pid = (LAB / "hosts" / "ssh-mfa" / "log" / "rsyslogd.pid").read_text().strip()
    marker = f"preuve-{uuid.uuid4().hex}"
    subprocess.run(["nsenter", "-t", pid, "-m", "logger", "-u", "/var/log/lab-log.sock", marker], check=True, timeout=5)
    received = LAB / "logsup" / "received.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if received.is_file() and marker in received.read_text(errors="replace"):
            return
        time.sleep(0.2)
    pytest.fail(f"{marker} did not reach {received} within 10 s")


def _web_login(port: int, otp: str | None) -> tuple[int, int]:
    """(login status, admin page status with whatever session came back), from pv-admin, certificate verified."""
    import requests

    form = {"username": "webadmin", "password": WEB_PASSWORD.read_text().strip()}
    if otp is not None:
        form["otp"] = otp
    with requests.Session() as s:
        login = s.post(
            f"https://198.18.3.12:{port}/login", data=form, allow_redirects=False, verify=str(WEB_CA), timeout=5
        )
        admin = s.get(f"https://198.18.3.12:{port}/admin/", allow_redirects=False, verify=str(WEB_CA), timeout=5)
    return login.status_code, admin.status_code


def test_web_mfa_real_logins(lab):
    """Password alone: refused on the MFA variant, a session on the other; password + oathtool's code: a session."""
    seed = WEB_TOTP.read_text().strip()
    code = subprocess.run(["oathtool", "--totp", "-b", seed], capture_output=True, text=True, check=True).stdout.strip()
    assert _in_admin(lambda: _web_login(8443, None)) == (401, 302)
    assert _in_admin(lambda: _web_login(8443, code)) == (303, 200)
    assert _in_admin(lambda: _web_login(9443, None)) == (303, 200)


def test_refused_shadow_read_is_an_error_not_an_empty_list(lab):
    """On ssh-good the auditor may not read /etc/shadow: the fact is an error (the checks then say error)."""
    from preuve.observe.ssh import host as ssh_host

    target = ssh_host.SshTarget(
        host="198.18.2.10", user="auditor", key_file=str(LAB / "keys" / "auditor"), known_hosts=str(LAB / "known_hosts")
    )
    ssh_host.forget()
    facts, raw = _in_admin(lambda: ssh_host.collect(target, ["shadow"], timeout=10))
    assert set(facts["shadow"]) == {"error"} and raw["shadow"]["rc"] != 0


def test_faillock_locks_the_canary_then_is_reset(lab):
    """Active lockout proof: 5 wrong codes lock pvadmin (even a right code is then refused); reset, it logs in."""
    from preuve_lab import hosts
    from preuve_lab.paths import LabPaths

    tally = LAB / "hosts" / "ssh-mfa" / "log" / "faillock" / "pvadmin"
    tally.unlink(missing_ok=True)
    hosts.reset_oath(LabPaths.current())
    try:
        wrong = f"{(int(_totp()) + 500_000) % 1_000_000:06d}"
        for _ in range(5):
            assert _in_admin(lambda: _userauth(MFA, wrong))[1] == "rejected"
        assert _in_admin(lambda: _userauth(MFA, _totp()))[1] == "rejected", "a locked account must refuse a good code"
    finally:
        tally.unlink(missing_ok=True)  # the reset (what `faillock --reset` does) and a fresh TOTP state
        hosts.reset_oath(LabPaths.current())
    assert _in_admin(lambda: _userauth(MFA, _totp())) == (["keyboard-interactive"], True)
