"""The administration plane and egress checks on the live lab, each both ways and on the target a naive check
would pass (preuve_lab.adminplane: real snmpd, ipmi_sim, telnetd, vsftpd, Xtigervnc, tinyproxy, nginx+ModSecurity).

MATRIX is the list the issue asks for: for each new check, a target that passes, the targets that fail and the
words of the finding that must be quoted (the reason, not just the verdict)."""

from __future__ import annotations

import pytest

from tests.conftest import scan

pytestmark = pytest.mark.lab

# check -> (passing target, {failing target: words the finding quotes})
MATRIX = {
    "ADMIN-CLEARTEXT-PROTOCOLS": (
        "sup-ns",
        {
            "prod-ns": [
                "198.18.2.80 (production) udp/161 snmp: read with community public",
                "198.18.2.84 (production) udp/161 snmp: read with community private",  # refuses public: naive pass
                "tcp/21 ftp: USER answered 331 in clear",
                "tcp/23 telnet: telnet option negotiation (IAC)",
                "udp/623 ipmi: IPMI 1.5 sessions (none, MD2, MD5, straight password)",
                "tcp/5900 vnc: offers None (no encryption)",
                "198.18.2.81 (production) tcp/80 http: HTTP 200 served in clear",
            ],
            "admin-ns": ["read with community private"],
            "prod-ssh": ["read with community public"],  # the same probes shipped over SSH
        },
    ),
    "ADMIN-NETWORK-SEPARATED": (
        "pub-ns",
        {
            "prod-ns": ["BMC bmc-prod-1 198.18.2.81 sits in zone production"],
            "dmz-ns": ["dmz-ns -> bmc-prod-1 198.18.2.81 (production) tcp/8080: open"],  # F-DMZ-01 reaches the BMC
        },
    ),
    "EGRESS-DIRECT-REFUSED": (
        "prod-ns",
        {"admin-ns": ["outside-forbidden http://198.18.5.81/ direct: canary page returned"]},  # F-ADM-01 is wide
    ),
    "EGRESS-PROXY-FILTERS": (
        "egress-proxy",
        {"egress-proxy-open": ["outside-forbidden http://198.18.5.81/ via egress-proxy-open"]},  # forwards anything
    ),
    "WAF-BLOCKS-ATTACKS": (
        "front-waf",
        {
            "front-no-waf": ["<script>alert('preuve-waf-probe')</script> -> 200"],
            "front-naive-filter": ["<ScRiPt>alert('preuve-waf-probe')</sCrIpT> -> 200"],  # blocks lower case only
        },
    ),
    "K8S-TENANT-EGRESS": (
        "k8s-good",
        {
            "k8s-weak": [
                "acme/allow-egress-anywhere egress[1]: ipBlock 0.0.0.0/0",  # default deny present: naive pass
                "globex: no policy isolates every pod's egress",
            ]
        },
    ),
}


@pytest.fixture(scope="module")
def run(lab, tmp_path_factory):
    import preuve_lab as lab_mod
    from preuve_lab import LabPaths, firewall, listeners

    lab_mod.ensure_up()
    listeners.ensure_locked(LabPaths.current().run)
    firewall.load_flows(drift=False)
    selected = [a for c in MATRIX for a in ("--select", c)] + ["--select", "NET-ADMIN-PUBLIC"]
    return scan(tmp_path_factory.mktemp("admin-plane") / "run", *selected)


def offending(result: dict) -> str:
    return "\n".join(str(o) for e in result["expectations"] for o in e.get("offending") or [])


@pytest.mark.parametrize("check_id", sorted(MATRIX))
def test_each_check_passes_its_compliant_target(run, check_id):
    target = MATRIX[check_id][0]
    r = run.result(check_id, target)
    assert r["status"] == "pass", r


@pytest.mark.parametrize(("check_id", "target"), [(c, t) for c, (_, fails) in sorted(MATRIX.items()) for t in fails])
def test_each_check_fails_its_weak_target_for_the_right_reason(run, check_id, target):
    r = run.result(check_id, target)
    assert r["status"] == "fail", r
    found = offending(r)
    for words in MATRIX[check_id][1][target]:
        assert words in found, f"{words!r} not in:\n{found}"


def test_no_new_check_is_an_error(run):
    errors = [(r["check_id"], r["target"]["name"], r.get("message")) for r in run.results if r["status"] == "error"]
    assert errors == []


def test_protected_twins_are_not_findings(run):
    """SNMPv3-only, FTPS enforced and VeNCrypt-TLS answer, and are recorded as answered, but are not offending."""
    r = run.result("ADMIN-CLEARTEXT-PROTOCOLS", "prod-ns")
    found = offending(r)
    for twin in ("198.18.2.83", "198.18.2.86"):
        assert twin not in found
    answered = r["expectations"][0]["observed"]["answered"]
    assert answered["198.18.2.83 snmp/161"].startswith("SNMPv3 agent")
    assert answered["198.18.2.83 ftp/21"] == "TLS required before login"
    assert answered["198.18.2.86 vnc/5900"] == "only encrypted security types: VeNCrypt, TLSNone"


def test_naive_waf_blocks_exactly_the_lower_case_spelling(run):
    found = offending(run.result("WAF-BLOCKS-ATTACKS", "front-naive-filter"))
    assert "<script>alert('preuve-waf-probe')</script> ->" not in found  # the one spelling its rule knows


def test_canary_community_never_recorded(run):
    from preuve_lab import LabPaths

    secret = (LabPaths.current().keys / "snmp-canary.community").read_text().strip()
    obs = list((run.out / "observations" / "cleartext_admin").glob("*.json"))
    assert obs
    for path in run.out.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert "canary #1" in obs[0].read_text()


def test_bmc_is_an_admin_interface_for_the_public_zone(run):
    """The inventory's BMC joins the admin interfaces NET-ADMIN-PUBLIC probes (web console port and IPMI)."""
    r = run.result("NET-ADMIN-PUBLIC", "pub-ns")
    assert r["status"] == "pass"
    import json

    plan = json.loads((run.out / "observations" / "segmentation" / "pub-ns.json").read_text())["query"]["plan"]
    assert {("tcp", 80), ("udp", 623)} <= {(p["proto"], p["port"]) for p in plan if p["dst"] == "198.18.2.81"}
