"""The network and administration-plane checks (issue 20, part B) on the real lab, both ways, from the shared full
scan: tenant canaries (Kubernetes stand-in, moto S3 with IAM), configuration backups (moto object lock), admin
consoles fronted by the lab IdP, IDS events in the Loki stand-in (recorded real eve.json), real etcd 3.4 members
and real strongSwan 5.9 charons. Each failure must quote what makes it one (tests/support/network_coverage_matrix)."""

from __future__ import annotations

import json

import pytest

from tests.support.network_coverage_matrix import MATRIX


def _message(result: dict) -> str:
    return json.dumps(result.get("observed"), ensure_ascii=False) + json.dumps(
        result.get("message"), ensure_ascii=False
    )


@pytest.mark.parametrize("check_id", sorted(MATRIX))
def test_passing_and_failing_targets(lab_run, check_id):
    row = MATRIX[check_id]
    for name in row["pass"]:
        r = lab_run.result(check_id, name)
        assert r["status"] == "pass", (check_id, name, r.get("message"))
    for name, why in row["fail"].items():
        r = lab_run.result(check_id, name)
        assert r["status"] == "fail", (check_id, name, r.get("message"))
        assert why in _message(r), (check_id, name, why, _message(r)[:600])


def test_tunnel_up_fails_only_for_the_kernel_when_ike_is_up(lab_run):
    """ipsec-gw negotiates its IKE SA with its peer for real; the CHILD SA needs the kernel's xfrm SAD, which a
    sandboxed kernel may refuse (ENOSYS): then, and only then, the tunnel is reported not installed."""
    from preuve_lab import LabPaths

    r = lab_run.result("IPSEC-TUNNELS-UP", "ipsec-gw")
    if r["status"] == "pass":
        return
    assert r["status"] == "fail" and "IKE SA ESTABLISHED, no CHILD SA installed" in _message(r), _message(r)
    log = (LabPaths.current().root / "internal-flows" / "ipsec-peer" / "charon.log").read_text(errors="replace")
    assert "Function not implemented" in log


def test_no_canary_secret_reaches_the_run(lab_run):
    """The tenant canaries' token and keys and the admin canaries' passwords never appear in the run directory."""
    from preuve_lab import LabPaths

    root = LabPaths.current().root
    secrets = [
        (root / "kube" / "tenant-acme.token").read_text().strip(),
        (root / "s3" / "tenant-acme-leaky.secret").read_text().strip(),
        (root / "s3" / "tenant-acme.secret").read_text().strip(),
        (root / "keys" / "customer-admin.password").read_text().strip(),
        (root / "keys" / "web-admin.password").read_text().strip(),
    ]
    for f in lab_run.out.rglob("*"):
        if f.is_file():
            text = f.read_text(errors="replace")
            assert not [s for s in secrets if s in text], f
