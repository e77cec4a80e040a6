"""The full-lab run (what `preuve demo` scans: inventories/lab.yaml with the full profile) includes the S3, backup
and location checks, judged both ways (shares the session's `lab_run` with tests/lab/test_full_scan.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.lab

STORAGE_CHECKS = {
    "S3-BUCKET-LOCATION",
    "S3-REPLICATION-LOCATION",
    "S3-KMS-LOCATION",
    "S3-DEFAULT-ENCRYPTION",
    "S3-TLS-ONLY",
    "S3-BACKUP-VERSIONING",
    "S3-BACKUP-OBJECT-LOCK",
    "S3-ENDPOINT-LOCATION",
    "S3-ENDPOINT-IP-COUNTRY",
    "S3-KEY-PER-CUSTOMER",
    "BACKUP-FRESHNESS",
    "BACKUP-ENCRYPTED",
    "BACKUP-RESTORE-DRILL",
    "BACKUP-DATA-CHECK",
    "BACKUP-TRANSPORT",
    "BACKUP-SITE",
}


def test_full_lab_run_judges_every_storage_check(lab_run):
    seen: dict[str, set[str]] = {}
    for r in lab_run.results:
        if r["check_id"] in STORAGE_CHECKS:
            seen.setdefault(r["check_id"], set()).add(r["status"])
    assert set(seen) == STORAGE_CHECKS
    assert not [c for c, s in seen.items() if "error" in s], seen
    both_ways = STORAGE_CHECKS - {"S3-ENDPOINT-IP-COUNTRY", "BACKUP-DATA-CHECK"}  # data check: see test_storage_lab
    assert all("fail" in seen[c] for c in both_ways), seen
    assert (lab_run.out / "junit.xml").read_text().count("BACKUP-RESTORE-DRILL[") >= 5
