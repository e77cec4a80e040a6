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

CHECKS = Path(__file__).resolve().parents[1] / "checks"
DOMAINS = ("mfa", "hygiene", "logs", "time")
EXTRA = {"TLS-CA-EU", "K8S-AUDIT-LOG"}  # 10.6.a and the kube-apiserver audit flags live in their own domains

# (check, compliant target, non-compliant target, what the failure must quote)
MATRIX = [
    ("MFA-SSH-ENFORCED", "ssh-mfa-admin", "ssh-key-only-admin", "observé true"),
    ("MFA-SSH-CONFIG", "ssh-mfa", "ssh-key-only", '"pvadmin": "any"'),
    ("MFA-WEB-UNAUTHENTICATED", "web-admin-mfa", "web-admin-password-only", '"status": 200'),
    ("MFA-WEB-ENFORCED", "web-admin-mfa", "web-admin-password-only", "observé true"),
    ("MFA-OIDC-PASSWORD-GRANT", "web-admin-mfa-oidc", "web-admin-password-only-oidc", '"access_token"'),
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
