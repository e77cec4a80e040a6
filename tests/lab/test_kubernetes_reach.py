"""The Kubernetes stand-ins inside the lab: scanned from pv-admin over TLS, like the demo does, and out of reach
of the public zone."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import FULL_PROFILE, LAB_INVENTORY, REPO, scan
from tests.unit.test_kubernetes_checks import EXPECTED_FAILURES, SELECT

pytestmark = pytest.mark.lab


def test_demo_inputs_select_the_caas_checks():
    """`preuve demo` runs inventories/lab.yaml with profiles/secnumcloud-3.2.yaml: both carry the checks."""
    from preuve.inputs.inventory import load_inventory
    from preuve.inputs.profile import load_profile
    from preuve.judge.catalogue import load_catalogue

    inv, _ = load_inventory(LAB_INVENTORY)
    assert [c.name for c in inv.kubernetes.clusters] == ["k8s-good", "k8s-weak"]
    full, caas = load_profile(FULL_PROFILE), load_profile(REPO / "profiles" / "secnumcloud-3.2-caas.yaml")
    cat = load_catalogue()
    for cid in EXPECTED_FAILURES:
        spec = cat[cid].spec
        for profile in (full, caas):
            assert profile.selected(cid, list(spec.tags), list(spec.requirements)), (profile.id, cid)


def test_lab_clusters_both_ways(lab, tmp_path):
    run = scan(tmp_path / "run", *SELECT)
    assert (run.out / "results.jsonl").exists(), run.proc.stderr
    for cid in EXPECTED_FAILURES:
        assert run.result(cid, "k8s-good")["status"] == "pass", run.result(cid, "k8s-good")["message"]["en"]
        weak = run.result(cid, "k8s-weak")
        assert weak["status"] == "fail" and EXPECTED_FAILURES[cid] in weak["message"]["en"], weak["message"]["en"]


def _connects(ns: str, address: str, port: int) -> bool:
    code = f"import socket; s=socket.socket(); s.settimeout(1.5); s.connect(({address!r}, {port})); s.close()"
    proc = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code], capture_output=True, timeout=15)
    return proc.returncode == 0


def test_api_reachable_from_admin_not_from_public(lab):
    assert _connects("pv-admin", "198.18.2.30", 6443)
    assert not _connects("pv-pub", "198.18.2.30", 6443)


def test_api_endpoint_tls_judged_by_the_tls_checks(lab, tmp_path):
    """Issue 8 point 1: the API endpoint's TLS is judged like any TLS endpoint (inventory tls_endpoints)."""
    import yaml

    inv = yaml.safe_load(LAB_INVENTORY.read_text())
    api = [t for t in inv["tls_endpoints"] if t["name"] == "k8s-good-api"]
    assert api and api[0]["address"] == "198.18.2.30" and api[0]["port"] == 6443
    small = {
        "version": 1,
        "name": "k8s-api-tls",
        "scanner": inv["scanner"],
        "sites": inv["sites"],
        "zones": inv["zones"],
        "tls_endpoints": api,
        "defaults": {"timeout": 5},
    }
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(small))
    run = scan(tmp_path / "run", "--select", "TLS-*", inventory=path)
    statuses = run.statuses("k8s-good-api")
    assert statuses and set(statuses.values()) <= {"pass", "not_applicable"}, statuses
    assert statuses["TLS-VERSIONS"] == "pass" and statuses["TLS-SUITES"] == "pass"
