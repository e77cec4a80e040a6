"""Every check of issue 5 (logs, time, MFA, lockout, hygiene, 10.6.a) both ways on the lab, in one table.

One full-profile scan of the lab (the demo's): for each row, the compliant target passes, the non-compliant one
fails, and the failure message quotes the observed value and says what was expected. A check added to the
issue-5 domains without a row here fails `test_the_table_lists_every_check`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

CHECKS = Path(__file__).resolve().parents[2] / "checks"
DOMAINS = ("mfa", "access", "hygiene", "logs", "time")
EXTRA = {"TLS-CA-EU", "K8S-AUDIT-LOG"}  # 10.6.a and the kube-apiserver audit flags live in their own domains

# (check, compliant target, non-compliant target, what the failure must quote)
MATRIX = [
    ("MFA-SSH-ENFORCED", "ssh-mfa-admin", "ssh-key-only-admin", "observé true"),
    ("MFA-SSH-CONFIG", "ssh-mfa", "ssh-key-only", '"pvadmin": "any"'),
    ("MFA-WEB-UNAUTHENTICATED", "web-admin-mfa", "web-admin-password-only", '"status": 200'),
    ("MFA-WEB-ENFORCED", "web-admin-mfa", "web-admin-password-only", "observé true"),
    # issue 12: second factors that ask and accept too much (pam_permit, an empty answer, any six digits)
    ("MFA-SSH-ENFORCED", "ssh-mfa-admin", "ssh-factor-permit-admin", "(6 chiffres) après la clé : observé accepted"),
    ("MFA-SSH-ENFORCED", "ssh-mfa-admin", "ssh-factor-empty-admin", "réponse vide après la clé : observé accepted"),
    ("MFA-SSH-ENFORCED", "ssh-mfa-admin", "ssh-factor-digits-admin", "(6 chiffres) après la clé : observé accepted"),
    ("MFA-WEB-ENFORCED", "web-admin-mfa", "web-admin-otp-any", "code faux (6 chiffres) : observé true"),
    ("MFA-WEB-ENFORCED", "web-admin-mfa", "web-admin-otp-empty", "code vide : observé true"),
    ("MFA-WEB-ENFORCED", "web-admin-mfa", "web-admin-otp-digits", "code faux (6 chiffres) : observé true"),
    ("MFA-OIDC-PASSWORD-GRANT", "web-admin-mfa-oidc", "web-admin-password-only-oidc", '"access_token"'),
    ("MFA-OIDC-FACTOR", "web-admin-mfa-oidc", "web-admin-otp-any-oidc", "code vide après le mot de passe : observé"),
    ("LOCK-FAILLOCK", "ssh-mfa", "ssh-key-only", '"pam_faillock in sshd auth stack": []'),
    ("LOCK-ACTIVE", "ssh-mfa-lockout", "ssh-key-only-lockout", "not locked (correct login accepted) after 5"),
    ("HYG-PASSWORD-HASHES", "ssh-mfa", "ssh-key-only", '"alice": "md5crypt"'),
    ("HYG-EMPTY-PASSWORDS", "ssh-mfa", "ssh-key-only", '["carol"]'),
    ("HYG-SHARED-SALTS", "ssh-mfa", "ssh-key-only", '"dave": ["erin"]'),
    ("HYG-HASHING-METHOD", "ssh-mfa", "ssh-key-only", "observé MD5"),
    ("LOG-JOURNALD-RETENTION", "ssh-mfa", "ssh-key-only", "oldest entry 20 d"),
    ("LOG-LOGROTATE-RETENTION", "ssh-mfa", "ssh-key-only", "maxage 30 d"),
    ("LOG-FORWARDING-CONFIG", "ssh-mfa", "ssh-key-only", "syslog-ng d_udp network(198.18.4.3:514) transport(udp)"),
    ("LOG-FORWARDING-CONFIG", "ssh-mfa", "ssh-key-only", "198.18.4.3:514 udp plaintext"),
    ("LOG-FORWARDING-LIVE", "ssh-mfa", "ssh-key-only", '"syslog-ng d_unverified": {"ca": "none'),
    ("LOG-STORE-RETENTION", "s3-logs-good", "s3-logs-short", "90 d (Expiration.Days 90)"),
    ("LOG-STORE-RETENTION", "loki-good", "loki-short", "31 d (retention_period 31d)"),
    ("LOG-STORE-RETENTION", "es-logs-good", "es-logs-short", "30 d (delete phase min_age 30d"),
    ("LOG-STORE-RETENTION", "os-logs-good", "os-logs-short", "30 d (default state hot"),
    ("TIME-SYNC", "ssh-mfa", "ssh-key-only", "Not synchronised"),
    ("TIME-OFFSET", "ssh-mfa", "ssh-key-only", "observé null"),
    ("TIME-SOURCES-INTERNAL", "ssh-mfa", "ssh-key-only", "pool 2.debian.pool.ntp.org"),
    ("TIME-LOG-TIMESTAMPS", "ssh-mfa", "ssh-key-only", '"/var/log/messages": "'),
    ("TLS-CA-EU", "tls-good", "tls-weak", "C=US: US"),
    ("K8S-AUDIT-LOG", "k8s-good", "k8s-weak", "observé 30 ; attendu : ≥ 183"),
]


def _declared() -> set[str]:
    found = set()
    for domain in DOMAINS:
        for f in (CHECKS / domain).glob("check_*.py"):
            found |= set(re.findall(r'@check\(\s*"([A-Z0-9-]+)"', f.read_text()))
    return found | EXTRA


def test_the_table_lists_every_check():
    assert {row[0] for row in MATRIX} == _declared()


@pytest.mark.parametrize(("check", "good", "bad", "quote"), MATRIX, ids=[f"{r[0]}:{r[2]}" for r in MATRIX])
def test_both_ways_on_the_lab(lab_run, check, good, bad, quote):
    passed, failed = lab_run.result(check, good), lab_run.result(check, bad)
    assert passed["status"] == "pass", passed["message"]
    assert failed["status"] == "fail", failed["message"]
    fr, en = failed["message"]["fr"], failed["message"]["en"]
    assert quote in fr or quote in en, fr
    assert "attendu" in fr and "expected" in en, fr


def _lab_secrets() -> dict[str, str]:
    """Every secret the lab hands the inventory by reference (keys/: passwords, TOTP seeds in the forms they take,
    client secret, private key bodies), by where it comes from."""
    import base64
    import binascii

    keys = Path("/var/tmp/preuve-lab/keys")
    found: dict[str, str] = {}
    for f in sorted(keys.iterdir()):
        if f.suffix == ".pub" or not f.is_file():
            continue
        text = f.read_text().strip()
        if "PRIVATE KEY" in text:
            found |= {
                f"{f.name} line {i}": ln
                for i, ln in enumerate(text.splitlines())
                if len(ln) > 20 and "PRIVATE KEY" not in ln
            }
            continue
        found[f.name] = text
        if f.name.endswith(".totp"):  # a seed also travels as hex (pam_oath) or base32 (authenticator apps)
            try:
                found[f"{f.name} as base32"] = base64.b32encode(bytes.fromhex(text)).decode().rstrip("=")
            except ValueError:
                found[f"{f.name} as hex"] = base64.b32decode(text + "=" * (-len(text) % 8)).hex()
            except binascii.Error:
                pass
    # issue 19: key bodies and kubeconfig credentials in the lab hosts' admin homes, the LUKS key file of ssh-key-only
    from preuve_lab import admin_homes
    from preuve_lab.paths import LabPaths

    paths = LabPaths.current()
    found |= {f"admin home line {i}": line for i, line in enumerate(admin_homes.secret_lines(paths))}
    luks_key = paths.root / "volumes" / "data.key"
    if luks_key.is_file():
        found["LUKS key file (hex)"] = luks_key.read_bytes().hex()
    return found


def test_no_lab_secret_in_any_output_of_the_full_scan(lab_run):
    """The demo's scan touches every canary (SSH key + TOTP, web password + TOTP, IdP client secret, lockout
    canary, log-store password): none of them, in any form, in any file of the run, nor on stdout/stderr."""
    secrets = _lab_secrets()
    assert len(secrets) >= 12, sorted(secrets)
    texts = {"stdout": lab_run.proc.stdout, "stderr": lab_run.proc.stderr}
    texts |= {str(p): p.read_bytes().decode("utf-8", "replace") for p in lab_run.out.rglob("*") if p.is_file()}
    leaks = [(name, where) for name, s in secrets.items() for where, t in texts.items() if s in t]
    assert not leaks, leaks
