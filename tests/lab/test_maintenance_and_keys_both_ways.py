"""Maintained software, controlled installation, encryption at rest and admin keys (issue 19) both ways on the lab.

One full-profile scan of the lab (the demo's): for each row the compliant target passes, the non-compliant one
fails, and the failure quotes what was observed. Rows marked "naive" fail on a target a naive check would pass.
A check added to checks/patching or checks/encryption (or the three Kubernetes supply checks) without a row here
fails `test_the_table_lists_every_check`. The last test extends the secret canary to the new sources: no key
line, kubeconfig token or LUKS key file of the lab hosts reaches any file of the run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

CHECKS = Path(__file__).resolve().parents[2] / "checks"
DOMAINS = ("patching", "encryption")
EXTRA = {"K8S-VERSION-SUPPORTED", "K8S-IMAGES-ALLOWED", "K8S-IMAGE-ADMISSION"}

# (check, compliant target, non-compliant target, what the failure must quote)
MATRIX = [
    ("PATCH-SECURITY-PENDING", "ssh-mfa", "ssh-key-only", '"base-files": "12.'),
    ("PATCH-INDEX-FRESH", "ssh-mfa", "ssh-key-only", "observé 60.0"),
    ("PATCH-KERNEL-RUNNING", "ssh-mfa", "ssh-key-only", "attendu : 6.99.0-99-amd64"),
    ("PATCH-OS-SUPPORTED", "ssh-mfa", "ssh-key-only", "patching.eol_min_days_left"),
    # naive: the deb822 source has Signed-By (a check reading only that passes it) and Trusted: yes beside it
    (
        "SOURCES-SIGNED",
        "ssh-mfa",
        "ssh-key-only",
        "preuve-lab.sources:1 file:/var/tmp/preuve-lab/apt-mirror/ssh-key-only",
    ),
    ("SOURCES-MIRRORS", "ssh-mfa", "ssh-key-only", "http://deb.example.invalid/debian"),
    # naive: the keyring Signed-By names exists and holds the mirror's Ed25519 key, and a 1024-bit RSA key too
    ("SOURCES-SIGNING-KEYS", "ssh-mfa", "ssh-key-only", "RSA 1024 bits"),
    # the recommended size (10.4.b): a 2048-bit key, which the rule accepts, fails it in test_signing_keys_recommended
    ("SOURCES-SIGNING-KEYS-RECOMMENDED", "ssh-mfa", "ssh-key-only", "RSA 1024 bits"),
    # naive: ssh-key-only has every declared package installed; its declared openssh-server version is stale
    ("INV-SOFTWARE-DECLARED", "ssh-mfa", "ssh-key-only", "declared 1:8.4p1-5+deb11u1, installed "),
    ("ENC-DATA-VOLUMES", "ssh-mfa", "ssh-key-only", '"/dev/loop63": "not a LUKS volume (plaintext)"'),
    ("ENC-LUKS-PARAMS", "ssh-mfa", "ssh-key-only", "aes-cbc-essiv:sha256"),
    # naive: /dev/loop61's header is as good as ssh-mfa's; its key file lies in the host's /etc
    ("KEYS-LUKS-UNLOCK", "ssh-mfa", "ssh-key-only", "key file /etc/luks-keys/data.key"),
    ("KEYS-ADMIN-HARDWARE", "ssh-mfa", "ssh-key-only", '": "ED25519"'),
    # naive: besides id_ed25519, a PEM key under a name that is not id_* (.ssh/backup-deploy)
    ("KEYS-ADMIN-HOMES", "ssh-mfa", "ssh-key-only", "root:.ssh/backup-deploy"),
    ("K8S-VERSION-SUPPORTED", "k8s-good", "k8s-weak", "patching.eol_min_days_left"),
    ("K8S-IMAGES-ALLOWED", "k8s-good", "k8s-weak", "docker.io/library/nginx:latest"),
    # naive: the weak cluster holds a ValidatingAdmissionPolicy about images, bound to nothing
    ("K8S-IMAGE-ADMISSION", "k8s-good", "k8s-weak", "images-from-lab-registry"),
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


def test_the_scanner_reads_as_a_non_root_account_through_its_sudo_rules(lab_run):
    """The lab scans as `auditor` (not root): the LUKS headers and root's home were read through the per-device
    and per-path sudo rules, not skipped (a refused sudo would be an error, never a pass)."""
    import json

    obs = json.loads((lab_run.out / "observations" / "ssh_host" / "ssh-key-only.json").read_text())
    assert obs["query"]["user"] == "auditor"
    assert obs["facts"]["luks"]["volumes"]["/dev/loop62"]["luks"]["version"] == 1
    assert obs["facts"]["admin_keys"]["admins"]["root"]["private_keys"]
    assert obs["facts"]["admin_keys"]["admins"]["pvadmin"]["declared_canary"]


def test_no_key_material_of_the_new_sources_in_any_output(lab_run):
    """Admin homes (private key bodies, kubeconfig token and client key) and the LUKS key file of ssh-key-only:
    none of them in any file of the run, nor on stdout/stderr (the facts keep names and fingerprints only)."""
    import base64

    from preuve_lab import admin_homes
    from preuve_lab.paths import LabPaths

    paths = LabPaths.current()
    secrets = {f"home line {i}": s for i, s in enumerate(admin_homes.secret_lines(paths))}
    key = (paths.root / "volumes" / "data.key").read_bytes()
    secrets |= {"luks key (hex)": key.hex(), "luks key (base64)": base64.b64encode(key).decode()}
    assert len(secrets) >= 10, sorted(secrets)
    texts = {"stdout": lab_run.proc.stdout, "stderr": lab_run.proc.stderr}
    raw = {str(p): p.read_bytes() for p in lab_run.out.rglob("*") if p.is_file()}
    texts |= {k: v.decode("utf-8", "replace") for k, v in raw.items()}
    leaks = [(name, where) for name, s in secrets.items() for where, t in texts.items() if s in t]
    leaks += [("luks key (bytes)", where) for where, b in raw.items() if key in b]
    assert not leaks, leaks
