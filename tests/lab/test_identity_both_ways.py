"""The identity checks (ACC-*) both ways on the lab, and the real logins that make each verdict right.

ssh-mfa is the compliant host, ssh-key-only the other one (lab/hosts.py): root with a password, the technical
account svc-backup whose `*` shadow field looks locked but whose key sshd accepts (a check reading only shadow would
pass it), olivier who left (`passwd -l`, key and sudo rule left behind), alice idle for 200 days with a sudo rule.
The verdicts are proved against the real sshd: the svc-backup key opens a session on ssh-key-only and is refused on
ssh-mfa, where the same key file sits in the same kind of home.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

KEYS = Path("/var/tmp/preuve-lab/keys")
KNOWN_HOSTS = "/var/tmp/preuve-lab/hosts/known_hosts"
CHECKS = Path(__file__).resolve().parents[2] / "checks" / "identity"

# (check, compliant target, non-compliant target, what the failure must quote)
MATRIX = [
    ("ACC-TECH-DIRECT-LOGIN", "ssh-mfa", "ssh-key-only", "password (yescrypt)"),
    ("ACC-TECH-DIRECT-LOGIN", "ssh-mfa", "ssh-key-only", "svc-backup"),
    ("ACC-LEFTOVER-ACCESS", "ssh-mfa", "ssh-key-only", "sudo (ALL : ALL) ALL"),
    ("ACC-LEFTOVER-ACCESS", "ssh-mfa", "ssh-key-only", '"dave": ["password"]'),
    ("ACC-RIGHTS-REVIEW", "ssh-mfa", "ssh-key-only", '"alice": 200'),
    ("ACC-TECH-USERS-REVIEW", "ssh-mfa", "ssh-key-only", "olivier"),
    ("ACC-PRIVILEGED-VETTED", "ssh-mfa", "ssh-key-only", '"olivier": "undeclared: no vetting date"'),
]


def test_the_table_lists_every_check():
    declared = set(re.findall(r'@check\(\s*"([A-Z0-9-]+)"', (CHECKS / "check_accounts.py").read_text()))
    assert {row[0] for row in MATRIX} | {"ACC-RIGHTS-TABLE"} == declared


@pytest.mark.parametrize(("check", "good", "bad", "quote"), MATRIX, ids=[f"{r[0]}:{r[3][:12]}" for r in MATRIX])
def test_both_ways_on_the_lab(lab_run, check, good, bad, quote):
    passed, failed = lab_run.result(check, good), lab_run.result(check, bad)
    assert passed["status"] == "pass", passed["message"]
    assert failed["status"] == "fail", failed["message"]
    fr, en = failed["message"]["fr"], failed["message"]["en"]
    assert quote in fr or quote in en, en
    assert "attendu" in fr and "expected" in en, fr


def test_rights_table_is_exported_in_the_run(lab_run):
    for host in ("ssh-mfa", "ssh-key-only"):
        assert lab_run.result("ACC-RIGHTS-TABLE", host)["status"] == "pass"
    csv_text = (lab_run.out / "identity-rights.csv").read_text()
    assert "ssh-key-only,olivier,undeclared," in csv_text and "ssh-mfa,pvadmin,Paula Admin," in csv_text
    manifest = (lab_run.out / "MANIFEST.sha256").read_text()
    assert "identity-rights.csv" in manifest and "identity-rights.json" in manifest


def test_no_authorized_key_leaves_the_host(lab_run):
    """Only fingerprints: no public key blob of any lab key (authorized_keys content) in any file of the run."""
    blobs = [p.read_text().split()[1] for p in KEYS.glob("*.pub")]
    assert len(blobs) >= 3
    texts = {str(p): p.read_bytes().decode("utf-8", "replace") for p in lab_run.out.rglob("*") if p.is_file()}
    assert not [(b[:16], where) for b in blobs for where, t in texts.items() if b in t]


def test_no_password_hash_or_salt_leaves_the_hosts(lab_run):
    """The accounts and shadow facts print schemes and fingerprints: no hash nor salt of the lab hosts' shadow files
    (root's password on ssh-key-only included), no private key line of the lab's keys, in any file of the run."""
    hashes = []
    for shadow in Path("/var/tmp/preuve-lab/hosts").glob("*/etc/shadow"):
        for line in shadow.read_text().splitlines():
            field = line.split(":")[1] if line.count(":") > 1 else ""
            if field.startswith("$"):
                hashes.append(field)
                hashes += [p for p in field.split("$")[2:] if len(p) >= 8 and not p.startswith("rounds=")]
    private = [
        ln
        for f in KEYS.iterdir()
        if f.is_file() and f.suffix != ".pub" and "PRIVATE KEY" in f.read_text(errors="replace")
        for ln in f.read_text().splitlines()
        if len(ln) > 20 and "PRIVATE KEY" not in ln
    ]
    assert len(hashes) >= 10 and len(private) >= 4
    texts = {str(p): p.read_bytes().decode("utf-8", "replace") for p in lab_run.out.rglob("*") if p.is_file()}
    texts |= {"stdout": lab_run.proc.stdout, "stderr": lab_run.proc.stderr}
    assert not [(s[:8], where) for s in hashes + private for where, t in texts.items() if s in t]


def _login(address: str, user: str) -> subprocess.CompletedProcess:
    argv = ["ip", "netns", "exec", "pv-admin", "ssh", "-F", "/dev/null", "-i", str(KEYS / user)]
    argv += ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={KNOWN_HOSTS}"]
    argv += ["-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=3", f"{user}@{address}", "id -un"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=20)


def test_the_star_field_does_not_stop_the_key(lab):
    """The fail on ssh-key-only is right: svc-backup's key opens a session there; on ssh-mfa sshd refuses it."""
    opened = _login("198.18.2.13", "svc-backup")
    assert opened.returncode == 0 and opened.stdout.strip() == "svc-backup", opened.stderr
    refused = _login("198.18.2.12", "svc-backup")
    assert refused.returncode != 0 and "Permission denied" in refused.stderr


def test_the_departed_admin_key_is_refused_only_by_the_lock(lab):
    """olivier's `!` lock stops sshd without PAM (UsePAM no on ssh-key-only): his key and sudo rule remain, which
    ACC-LEFTOVER-ACCESS reports; a PAM host would have let the key in."""
    refused = _login("198.18.2.13", "olivier")
    assert refused.returncode != 0 and "Permission denied" in refused.stderr
