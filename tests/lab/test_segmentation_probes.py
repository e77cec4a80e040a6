"""Segmentation on the live lab: the compliant router matches the matrix probe for probe, the drifted one shows
exactly its deliberate deviations, an unreachable vantage is `error`, and the classifier makes no mistake on a
ground truth of thousands of accepted, dropped and rejected ports."""

from __future__ import annotations

import json
import socket
import time

import pytest

from preuve.exitcodes import Exit
from tests.conftest import LAB_INVENTORY, REPO, scan

pytestmark = pytest.mark.lab

VANTAGES = {"admin-ns", "prod-ns", "prod-ssh", "dmz-ns", "sup-ns", "pub-ns"}
# The drift variant's deliberate deviations (preuve_lab.firewall.DRIFT_RULES), as
# (vantage, destination zone, probe, observed state, matrix flow or None for default deny).
DRIFT = {
    ("pub-ns", "production", "tcp/5432", "open", None),  # forbidden flow opened
    ("dmz-ns", "production", "tcp/8080", "silent", "F-DMZ-01"),  # allowed flow blocked
    ("pub-ns", "admin", "tcp/22", "closed", None),  # let through to a closed port: the host's own reset
    ("pub-ns", "dmz", "udp/623", "closed", None),  # let through: the host's own ICMP port-unreachable
}
GUARDED = "198.18.3.70"  # preuve_lab.firewall.RESET_GUARDED: the router rejects pub -> it with a TCP reset


@pytest.fixture
def compliant(lab_up):
    from preuve_lab import LabPaths, firewall, listeners

    listeners.ensure_locked(LabPaths.current().run)
    firewall.load_flows(drift=False)
    yield
    firewall.load_flows(drift=False)


def net_scan(tmp_path, inventory=LAB_INVENTORY, select="NET-*"):
    return scan(tmp_path / "run", "--select", select, inventory=inventory)


def probes(run) -> dict[str, list[dict]]:
    out = {}
    for path in (run.out / "observations" / "segmentation").glob("*.json"):
        obs = json.loads(path.read_text())
        out[obs["target"]] = obs["facts"]["probes"] if obs["ok"] else obs
    return out


def deviations(run) -> set[tuple]:
    return {
        (vantage, p["dst_zone"], f"{p['proto']}/{p['port']}", p["state"], p["flow"])
        for vantage, rows in probes(run).items()
        for p in rows
        if p["verdict"] != "ok"
    }


def offending(result: dict) -> str:
    """Every finding of a failed result (the one-line message may shorten a long list)."""
    return "\n".join(o for e in result["expectations"] for o in e.get("offending") or [])


def test_compliant_lab_every_probe_matches_the_matrix(compliant, tmp_path):
    run = net_scan(tmp_path)
    assert run.code == Exit.COMPLIANT, run.proc.stderr
    seen = probes(run)
    assert set(seen) == VANTAGES
    assert all(rows and all(p["verdict"] == "ok" for p in rows) for rows in seen.values())
    assert sum(len(rows) for rows in seen.values()) > 500
    states = {p["state"] for rows in seen.values() for p in rows}
    assert {"open", "closed", "filtered", "silent"} <= states  # every kind of answer was exercised
    statuses = {(r["check_id"], r["target"]["name"]): r["status"] for r in run.results}
    swept_by_namespaces_only = {
        k for k, v in statuses.items() if k[0] == "NET-UNDECLARED-HOSTS" and v == "not_applicable"
    }
    assert {k[1] for k in swept_by_namespaces_only} <= {"prod-ssh"}  # an SSH vantage does not sweep its zone
    assert {v for k, v in statuses.items() if k not in swept_by_namespaces_only} == {"pass"}
    assert {("NET-FLOW-ALLOWED", v) for v in VANTAGES} | {("NET-FLOW-DENIED", v) for v in VANTAGES} <= set(statuses)
    assert statuses[("NET-ADMIN-PUBLIC", "pub-ns")] == "pass"
    plan = json.loads((run.out / "observations/segmentation/pub-ns.json").read_text())["query"]
    assert len(plan["plan"]) == len(seen["pub-ns"]) and len(plan["plan_sha256"]) == 64


def test_drift_lab_reports_exactly_the_deliberate_deviations(compliant, tmp_path):
    from preuve_lab import firewall

    firewall.load_flows(drift=True)
    try:
        run = net_scan(tmp_path)
    finally:
        firewall.load_flows(drift=False)
    assert run.code == Exit.NON_COMPLIANT, run.proc.stderr
    assert deviations(run) == DRIFT
    failed = {(r["check_id"], r["target"]["name"]): r for r in run.results if r["status"] == "fail"}
    assert set(failed) == {
        ("NET-FLOW-DENIED", "pub-ns"),
        ("NET-FLOW-ALLOWED", "dmz-ns"),
        ("NET-ADMIN-PUBLIC", "pub-ns"),
    }
    blocked = offending(failed[("NET-FLOW-ALLOWED", "dmz-ns")])
    assert "dmz-ns (dmz) -> ssh-good 198.18.2.10 (production) tcp/8080: observed silent (no-response)" in blocked
    assert "expected open by F-DMZ-01 (lab-flows.yaml:" in blocked
    opened = offending(failed[("NET-FLOW-DENIED", "pub-ns")])
    assert "pub-ns (public) -> ssh-good 198.18.2.10 (production) tcp/5432: observed open (syn-ack)" in opened
    assert "default deny (no matrix flow)" in opened
    own_reset = (
        "observed closed (reset from the destination: RST TTL 63 (1 hop(s)); a SYN with TTL 2 to tcp/22 "
        "drew a reset again (nothing forwards it further))"
    )
    assert f"pub-ns (public) -> 198.18.1.10 198.18.1.10 (admin) tcp/22: {own_reset}" in opened
    assert f"tcp/22: {own_reset}" in offending(failed[("NET-ADMIN-PUBLIC", "pub-ns")])
    assert "observed closed (reset from the destination" in failed[("NET-ADMIN-PUBLIC", "pub-ns")]["message"]["en"]
    assert f"-> {GUARDED} {GUARDED} (dmz) udp/623: observed closed (icmp port-unreachable from {GUARDED})" in opened


def test_firewall_reset_on_a_denied_flow_is_blocked_and_says_which_signal_decided(compliant, tmp_path):
    """The router rejects pub -> 198.18.3.70 with a TCP reset / ICMP port-unreachable in the host's name: the
    probes see that the answer came from a hop before the destination, so the denied flows pass."""
    run = net_scan(tmp_path, select="NET-FLOW-DENIED")
    assert run.result("NET-FLOW-DENIED", "pub-ns")["status"] == "pass", run.result("NET-FLOW-DENIED", "pub-ns")
    rows = [p for p in probes(run)["pub-ns"] if p["dst"] == GUARDED]
    tcp = [p for p in rows if p["proto"] == "tcp"]
    udp = [p for p in rows if p["proto"] == "udp"]
    assert len(tcp) > 20 and len(udp) == 4
    for p in tcp:
        assert p["state"] == "filtered" and p["verdict"] == "ok", p
        assert p["reason"].startswith("reset from a middlebox: RST TTL 64 (0 hop(s)); a SYN with TTL 1 to tcp/"), p
        assert p["reason"].endswith(f"got ICMP time-exceeded from 198.18.5.1, a router before {GUARDED}"), p
    for p in udp:
        assert (p["state"], p["reason"]) == (
            "filtered",
            f"icmp port-unreachable from 198.18.5.1, not from {GUARDED}: a filter rejected it",
        ), p
    prohibited = [p for p in probes(run)["pub-ns"] if p["dst"] == "198.18.2.10" and p["proto"] == "udp"]
    assert prohibited and all(
        p["reason"] == "icmp admin-prohibited (type 3 code 13) from 198.18.5.1" for p in prohibited
    ), prohibited
    # the admin zone may reach it: there the host's own resets are told by its echo reply's TTL
    admin = [p for p in probes(run)["admin-ns"] if p["dst"] == GUARDED and p["proto"] == "tcp"]
    assert admin and all(
        p["reason"].startswith(
            "reset from the destination: RST TTL 63 (1 hop(s)), as its ICMP echo reply (TTL 63, 1 hop(s))"
        )
        for p in admin
    ), admin


INVENTORY = """\
version: 1
name: unreachable
defaults:
  timeout: 2
  ssh: {{user: auditor, key_file: /var/tmp/preuve-lab/keys/auditor, known_hosts: /var/tmp/preuve-lab/known_hosts}}
zones:
  - {{name: admin, kind: admin, cidrs: [198.18.1.0/24]}}
  - {{name: production, kind: production, cidrs: [198.18.2.0/24]}}
  - {{name: dmz, kind: dmz, cidrs: [198.18.3.0/24]}}
  - {{name: supervision, kind: supervision, cidrs: [198.18.4.0/24]}}
  - {{name: public, kind: public, cidrs: [198.18.5.0/24]}}
hosts:
  - {{name: ghost, address: 198.18.2.99, zone: production}}
flow_matrix: {flows}
scanner: {{netns: pv-admin}}
vantage_points:
  - {{name: ghost-ssh, zone: production, ssh: ghost}}
"""
# A vantage namespace that does not exist is an input error (exit 3, file:line) before anything is scanned:
# tests/lab/test_any_network_namespace.py (issue 12). An SSH vantage that cannot be reached is observed: `error`.


def test_unreachable_vantage_gives_error_not_pass(compliant, tmp_path):
    inv = tmp_path / "inv.yaml"
    inv.write_text(INVENTORY.format(flows=REPO / "inventories" / "lab-flows.yaml"))
    run = net_scan(tmp_path, inventory=inv, select="NET-FLOW-*")
    assert run.code == Exit.INCOMPLETE, run.proc.stderr
    by = {(r["check_id"], r["target"]["name"]): r for r in run.results}
    for check in ("NET-FLOW-ALLOWED", "NET-FLOW-DENIED"):
        assert by[(check, "ghost-ssh")]["status"] == "error", by[(check, "ghost-ssh")]
    assert "198.18.2.99" in by[("NET-FLOW-DENIED", "ghost-ssh")]["message"]["en"]


def test_ground_truth_misclassification_rate_is_zero(compliant):
    """2,400 raw SYN probes and 300 connect() probes on ports whose fate we set: accept (open/closed), drop,
    reject with ICMP admin-prohibited, reject with a TCP reset."""
    from preuve.observe.network import probe_remote, synscan
    from preuve_lab import LabPaths, enter, groundtruth

    fate = groundtruth.plan(30000, 2400, {"drop": 0.4, "icmp": 0.2, "reset": 0.15, "listen": 0.15, "closed": 0.1})
    t0 = time.monotonic()
    with groundtruth.installed(fate, LabPaths.current().root) as gt, enter("pv-admin"):
        raw = synscan.scan([(p, gt.address, "tcp", p) for p in fate], timeout=1.0, retries=1, rate=5000)
        subset = list(fate)[:300]
        conn = probe_remote.run(
            [{"id": p, "dst": gt.address, "proto": "tcp", "port": p} for p in subset],
            timeout=1.0,
            retries=1,
            workers=128,
            rate=2000,
        )
    wrong = [(p, fate[p], raw[p].state) for p in fate if raw[p].state != gt.expected(p)]
    assert len(fate) >= 2000 and {f for f in fate.values()} == set(groundtruth.EXPECTED)
    assert wrong == [], f"{len(wrong)}/{len(fate)} misclassified, e.g. {wrong[:5]}"
    wrong_conn = [(r["id"], fate[r["id"]], r["state"]) for r in conn if r["state"] != gt.expected(r["id"])]
    assert wrong_conn == []
    assert time.monotonic() - t0 < 60


def test_host_checks_both_ways(compliant, tmp_path):
    """NET-HOST-FIREWALL passes with the prod hosts' nftables table and fails without it; NET-HOST-LISTEN reads
    `ss` on the same hosts (their sshd is bound to one address)."""
    from preuve_lab import enter, firewall, run_in

    ok = scan(tmp_path / "ok", "--select", "NET-HOST-*")
    assert ok.code == Exit.COMPLIANT, ok.proc.stderr
    by = {(r["check_id"], r["target"]["name"]): r for r in ok.results}
    assert {k[0] for k in by} == {"NET-HOST-FIREWALL", "NET-HOST-LISTEN"}
    fw = next(r for (c, _), r in by.items() if c == "NET-HOST-FIREWALL")
    assert "inet preuve-host/input (policy accept, 1 deny rule(s))" in json.dumps(fw["observed"])
    run_in(firewall.HOST_NS, ["nft", "delete", "table", *firewall.HOST_TABLE.split()])
    with enter(firewall.HOST_NS):  # a kubelet-like admin port bound to every interface (etcd holds 2379 here)
        wild = socket.socket()
    try:
        wild.bind(("0.0.0.0", 10250))
        wild.listen(1)
        bad = scan(tmp_path / "bad", "--select", "NET-HOST-*")
    finally:
        wild.close()
        firewall.load_flows(drift=False)
    assert bad.code == Exit.NON_COMPLIANT, bad.proc.stderr
    assert {r["status"] for r in bad.results} == {"fail"}
    listen = next(r for r in bad.results if r["check_id"] == "NET-HOST-LISTEN")
    assert "0.0.0.0:10250" in listen["message"]["en"]
