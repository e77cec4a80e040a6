"""Inventory sections of the admin-plane and egress probes (management, egress, waf_endpoints): errors name the
file, line and field; the probe plans are what the checks are judged on (no socket opened here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from preuve.inputs.errors import InputError
from preuve.inputs.inventory import load_inventory

BASE = """\
version: 1
name: adm
zones:
  - {name: admin, kind: admin, cidrs: [198.18.1.0/24]}
  - {name: prod, kind: production, cidrs: [198.18.2.0/24]}
  - {name: dmz, kind: dmz, cidrs: [198.18.3.0/24]}
  - {name: pub, kind: public, cidrs: [198.18.5.0/24]}
hosts:
  - {name: app, address: 198.18.2.10, zone: prod}
vantage_points:
  - {name: prod-ns, zone: prod, netns: pv-prod}
  - {name: pub-ns, zone: pub, netns: pv-pub}
"""

GOOD = (
    BASE
    + """\
management:
  bmcs:
    - {name: bmc-1, address: 198.18.1.50, zone: admin, web_port: 443}
egress:
  canaries:
    - {name: out-ok, url: "http://198.18.5.80/", through_proxy: allowed}
    - {name: out-no, url: "http://198.18.5.81/"}
  proxies:
    - {name: proxy, url: "http://198.18.3.80:8888", vantage: prod-ns}
waf_endpoints:
  - {name: front, url: "https://198.18.3.82/", zone: dmz}
"""
)


def load(tmp_path: Path, text: str):
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return load_inventory(path)[0]


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        load(tmp_path, text)
    return [f"{p.line} {p.field}: {p.message}" for p in exc.value.problems]


def test_good_sections_load_and_make_targets(tmp_path):
    from preuve.inputs.targets import targets

    inv = load(tmp_path, GOOD)
    t = targets(inv)
    assert [x.name for x in t["egress_vantage"]] == ["prod-ns"]  # the public zone is the outside itself
    assert [(x.name, x.address, x.port) for x in t["egress_proxy"]] == [("proxy", "198.18.3.80", 8888)]
    assert [(x.name, x.port) for x in t["waf_endpoint"]] == [("front", 443)]


def test_errors_name_line_and_field(tmp_path):
    bad = GOOD.replace("zone: admin, web_port", "zone: nowhere, web_port").replace("vantage: prod-ns", "vantage: x")
    bad = bad.replace("through_proxy: allowed", "through_proxy: refused")
    found = problems(tmp_path, bad)
    assert any(f.startswith("15 management.bmcs[0].zone: unknown zone 'nowhere'") for f in found), found
    assert any("egress.proxies[0].vantage: unknown vantage point 'x'" in f for f in found), found
    assert any("through_proxy: allowed" in f for f in found), found  # no canary proves the proxy works


def test_snmp_community_is_a_reference_never_inline(tmp_path):
    found = problems(
        tmp_path, GOOD + "  snmp_communities: [s3cr3t-community-value]\n".replace("  snmp", "management:\n  snmp")
    )
    assert found and not any("s3cr3t-community-value" in f for f in found)


def test_cleartext_plan_covers_bmcs_and_admin_http(tmp_path):
    from preuve.observe.network.cleartext import matrix_or_empty, plan

    inv = load(tmp_path, GOOD)
    probes = plan(inv, matrix_or_empty(inv))
    kinds = {(p["dst"], p["kind"], p["port"]) for p in probes}
    assert {("198.18.1.50", "ipmi", 623), ("198.18.1.50", "http", 443), ("198.18.1.50", "http", 80)} <= kinds
    assert ("198.18.2.10", "telnet", 23) in kinds and ("198.18.2.10", "snmp", 161) in kinds
    assert [p["id"] for p in probes] == list(range(len(probes)))


def test_egress_plans(tmp_path):
    from preuve.observe.network.egress import plan_proxy, plan_vantage

    inv = load(tmp_path, GOOD)
    direct = plan_vantage(inv)
    assert [(p["canary"], p.get("proxy")) for p in direct] == [
        ("out-ok", None),
        ("out-no", None),
        ("out-ok", "198.18.3.80:8888"),  # the control: the allowed canary through the proxy
    ]
    assert [(p["canary"], p["expect"]) for p in plan_proxy(inv.egress.proxies[0], inv)] == [
        ("out-ok", "allowed"),
        ("out-no", "refused"),
    ]


def test_waf_probe_is_added_as_one_encoded_parameter():
    from preuve.observe.network.waf import with_probe

    assert with_probe("https://a.example/app?x=1", "q", "<script>") == "https://a.example/app?x=1&q=%3Cscript%3E"
    assert with_probe("http://a.example", "q", "' OR '1'='1") == "http://a.example/?q=%27%20OR%20%271%27%3D%271"
