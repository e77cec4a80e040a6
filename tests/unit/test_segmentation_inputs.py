"""Flow matrix input (YAML and CSV), its lint with file:line, the probe plan, and the pure parts of the checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

from preuve.exitcodes import Exit
from preuve.inputs.flows import load_matrix
from preuve.inputs.inventory import load_inventory
from preuve.observe.network.listening import parse_ss
from preuve.observe.network.segmentation import plan
from tests.conftest import REPO, preuve

INVENTORY = """\
version: 1
name: seg
zones:
  - {name: admin, kind: admin, cidrs: [198.18.1.0/24]}
  - {name: prod, kind: production, cidrs: [198.18.2.0/24]}
  - {name: pub, kind: public, cidrs: [198.18.5.0/24]}
hosts:
  - {name: app, address: 198.18.2.10, zone: prod}
flow_matrix: FLOWS
vantage_points:
  - {name: pub-ns, zone: pub, netns: pv-pub}
  - {name: admin-ns, zone: admin, netns: pv-admin}
"""

# For `preuve run` on the matrix file alone: no vantage point, so no network namespace has to exist (unit tests run
# without the lab; lint refuses a vantage whose namespace is missing).
MATRIX_ONLY = INVENTORY.split("vantage_points:")[0]

GOOD_YAML = """\
version: 1
sentinel_ports: {tcp: [22, 5432], udp: [161]}
probe_hosts: {admin: [198.18.1.10]}
flows:
  - {id: F-1, src: pub, dst: prod, proto: tcp, ports: [443], service: web, justification: front end, owner: web}
  - {id: F-2, src: admin, dst: [prod, pub], proto: tcp, ports: [1-65535], justification: bastion, owner: ops}
"""


def write(tmp: Path, flows: str, name: str = "flows.yaml", inventory: str = INVENTORY) -> Path:
    (tmp / name).write_text(textwrap.dedent(flows))
    inv = tmp / "inv.yaml"
    inv.write_text(inventory.replace("FLOWS", name))
    return inv


def lint(inv: Path) -> tuple[int, str]:
    proc = preuve("lint", "-i", inv)
    return proc.returncode, proc.stderr


def test_good_matrix_loads(tmp_path):
    inv, _ = load_inventory(write(tmp_path, GOOD_YAML))
    assert [v.name for v in inv.vantage_points] == ["pub-ns", "admin-ns"]
    m = load_matrix(Path(inv.flow_matrix))
    assert m.flows[1].ports == [(1, 65535)] and m.where("F-2") == "flows.yaml:6"


def test_yaml_problems_are_reported_with_file_and_line(tmp_path):
    bad = """\
    version: 1
    flows:
      - {id: F-1, src: pub, dst: prod, proto: tcp, ports: [443], justification: ok}
      - {id: F-1, src: pub, dst: prod, proto: tcp, ports: [80], justification: ok}
      - {id: F-3, src: nowhere, dst: prod, proto: tcp, ports: [22], justification: ok}
      - {id: F-4, src: pub, dst: prod, proto: tcp, ports: [9000-8000], justification: ok}
    """
    code, err = lint(write(tmp_path, bad))
    assert code == Exit.INVALID_INPUT
    assert "flows.yaml:4: flows[1].id: duplicate flow id 'F-1' (first at line 3)" in err
    assert "flows.yaml:5: flows[2].src: unknown zone 'nowhere'" in err
    assert "flows.yaml:6" in err and "reversed" in err


def test_port_out_of_range_and_icmp_ports(tmp_path):
    bad = """\
    flows:
      - {id: F-1, src: pub, dst: prod, proto: tcp, ports: [70000], justification: ok}
      - {id: F-2, src: pub, dst: prod, proto: icmp, ports: [1], justification: ok}
      - {id: F-3, src: pub, dst: prod, proto: udp, justification: ok}
    """
    code, err = lint(write(tmp_path, bad))
    assert code == Exit.INVALID_INPUT
    assert "flows.yaml:2" in err and "outside 1-65535" in err
    assert "flows.yaml:3: flows[1].ports: icmp flows take no ports" in err
    assert "flows.yaml:4: flows[2].ports: udp flow without ports" in err


def test_missing_justification_is_a_lint_error(tmp_path):
    flows = """\
    flows:
      - {id: F-1, src: pub, dst: prod, proto: tcp, ports: [443], justification: web}
      - {id: F-2, src: admin, dst: prod, proto: tcp, ports: [22], owner: ops}
    """
    code, err = lint(write(tmp_path, flows))
    assert code == Exit.INVALID_INPUT
    assert "flows.yaml:3: flows[1].justification: flow F-2 has no justification (13.1.a requires one)" in err


def test_csv_matrix_with_line_numbers(tmp_path):
    csv = """\
    id,src,dst,dst_hosts,proto,ports,service,justification,owner
    F-1,pub,prod,,tcp,443;8443,web,front end,web
    F-2,admin,prod,,tcp,22,ssh,,ops
    F-3,pub,mars,,tcp,22,ssh,why not,ops
    F-4,pub,prod,,tcp,22-x,ssh,typo,ops
    """
    code, err = lint(write(tmp_path, csv, "flows.csv"))
    assert code == Exit.INVALID_INPUT
    assert "flows.csv:3: flows[1].justification: flow F-2 has no justification" in err
    assert "flows.csv:4: flows[2].dst: unknown zone 'mars'" in err
    assert "flows.csv:5" in err and "bad port '22-x'" in err


def test_csv_matrix_loads_like_yaml(tmp_path):
    csv = "id,src,dst,proto,ports,justification,owner\nF-1,pub,prod,tcp,443;8000-8010,front end,web\n"
    inv, _ = load_inventory(write(tmp_path, csv, "flows.csv"))
    m = load_matrix(Path(inv.flow_matrix))
    assert m.flows[0].ports == [(443, 443), (8000, 8010)] and m.where("F-1") == "flows.csv:2"


def test_vantage_point_errors(tmp_path):
    inv = INVENTORY.replace("{name: pub-ns, zone: pub, netns: pv-pub}", "{name: x, zone: moon, ssh: ghost}")
    code, err = lint(write(tmp_path, GOOD_YAML, inventory=inv))
    assert code == Exit.INVALID_INPUT
    assert "vantage_points[0].zone: unknown zone 'moon'" in err
    assert "vantage_points[0].ssh: vantage host 'ghost' is not an inventory host" in err


def test_overlapping_zones_are_rejected(tmp_path):
    inv = INVENTORY.replace("cidrs: [198.18.5.0/24]", "cidrs: [198.18.2.128/25]")
    code, err = lint(write(tmp_path, GOOD_YAML, inventory=inv))
    assert code == Exit.INVALID_INPUT and "overlaps 198.18.2.0/24 of zone 'prod'" in err


def test_plan_positive_negative_and_sentinels(tmp_path):
    inv, _ = load_inventory(write(tmp_path, GOOD_YAML))
    m = load_matrix(Path(inv.flow_matrix))
    probes = {(p.dst, p.proto, p.port): p for p in plan(inv, m, "pub")}
    assert probes[("198.18.2.10", "tcp", 443)].expect == "open"
    assert probes[("198.18.2.10", "tcp", 443)].flow == "F-1"
    # negative: sentinels and matrix ports not allowed for the pair, plus ICMP, to every other zone's host
    for key in [
        ("198.18.2.10", "tcp", 22),
        ("198.18.2.10", "tcp", 5432),
        ("198.18.2.10", "udp", 161),
        ("198.18.1.10", "tcp", 443),
        ("198.18.1.10", "icmp", None),
    ]:
        assert probes[key].expect == "blocked" and probes[key].flow is None, key
    # the admin zone's wide range is sampled on the inventory's services, not enumerated
    admin = {(p.dst, p.proto, p.port): p for p in plan(inv, m, "admin")}
    assert admin[("198.18.2.10", "tcp", 22)].expect == "open" and len(admin) < 10


def test_full_range_mode_probes_every_port(tmp_path):
    inv, _ = load_inventory(write(tmp_path, GOOD_YAML.replace("version: 1", "version: 1\nprobing: {full_range: true}")))
    m = load_matrix(Path(inv.flow_matrix))
    tcp = [p for p in plan(inv, m, "pub") if p.proto == "tcp" and p.dst == "198.18.2.10"]
    assert len(tcp) == 65535 and sum(p.expect == "open" for p in tcp) == 1


def test_run_fails_a_flow_without_justification(tmp_path):
    flows = "flows:\n  - {id: F-9, src: pub, dst: prod, proto: tcp, ports: [443]}\n"
    inv = write(tmp_path, flows, inventory=MATRIX_ONLY)
    out = tmp_path / "run"
    proc = preuve(
        "run",
        "-i",
        inv,
        "-p",
        REPO / "profiles" / "secnumcloud-3.2.yaml",
        "-o",
        out,
        "-q",
        "--select",
        "NET-FLOW-JUSTIFIED",
    )
    assert proc.returncode == Exit.NON_COMPLIANT, proc.stderr
    import json

    (r,) = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert r["status"] == "fail" and "F-9 (flows.yaml:2)" in r["message"]["en"]


def test_ss_parser_and_wildcard_listeners():
    from checks.network.check_host_listen import on_every_interface

    text = (
        "LISTEN 0 128 198.18.2.10:22 0.0.0.0:*\nLISTEN 0 128 0.0.0.0:6443 0.0.0.0:*\n"
        "LISTEN 0 128 [::]:22 [::]:*\nLISTEN 0 511 127.0.0.1:8080 0.0.0.0:*\n"
    )
    socks = parse_ss(text)
    assert {"address": "::", "port": 22} in socks and {"address": "198.18.2.10", "port": 22} in socks
    assert on_every_interface(socks, [22, 6443]) == ["0.0.0.0:6443", ":::22"]
    assert on_every_interface(parse_ss("LISTEN 0 128 198.18.2.10:22 0.0.0.0:*\n"), [22]) == []
