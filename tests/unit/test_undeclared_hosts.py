"""NET-UNDECLARED-HOSTS (8.1.a): judged on a real sweep of the lab's dmz zone from pv-dmz
(tests/fixtures/host_sweep/dmz-ns.json, recorded by preuve.observe.network.host_sweep against inventories/lab.yaml).
Declared as recorded, every live address passes; with the tls-weak endpoint taken out of the same inventory, its
live address 198.18.3.11 (also named by the flow matrix, which is not the equipment inventory) fails, quoted."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from checks.network.check_inventory_sweep import check_undeclared_hosts
from preuve.inputs.flows import load_matrix
from preuve.judge.check_api import Judge
from preuve.observe.network.host_sweep import declared_addresses, live, sweep_plan
from preuve.results.messages import sentence

REPO = Path(__file__).resolve().parents[2]
RECORDED = json.loads((REPO / "tests/fixtures/host_sweep/dmz-ns.json").read_text())


class _Inventory:
    """The inventory file's own data, as declared_addresses reads it (model_dump)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        return self.data


def judged(facts: dict) -> Judge:
    j = Judge()
    check_undeclared_hosts(host_sweep=facts, judge=j)
    return j


def redeclared(edit) -> dict:
    """The recorded live addresses, declared against an edited copy of the lab inventory."""
    data = yaml.safe_load((REPO / "inventories/lab.yaml").read_text())
    edit(data)
    declared = declared_addresses(_Inventory(data), load_matrix(REPO / "inventories/lab-flows.yaml"))
    facts = copy.deepcopy(RECORDED["facts"])
    for addr, row in facts["live"].items():
        row["declared_at"] = declared.get(addr)
    return facts


def test_every_live_address_of_the_lab_dmz_is_declared():
    facts = redeclared(lambda data: None)
    assert len(facts["live"]) >= 5 and all(r["declared_at"] for r in facts["live"].values())
    j = judged(facts)
    assert j.expectations and not j.failed


def test_an_address_removed_from_the_inventory_fails_naming_address_port_and_answer():
    def drop_tls_weak(data: dict) -> None:
        data["tls_endpoints"] = [e for e in data["tls_endpoints"] if e["name"] != "tls-weak"]

    j = judged(redeclared(drop_tls_weak))
    msg = "; ".join(sentence(e, e.label, "en") for e in j.failed)
    assert "198.18.3.11: answered tcp/80 open (syn-ack); tcp/443 open (syn-ack)" in msg, msg
    assert "declared nowhere in the inventory" in msg
    assert msg.count("declared nowhere") == 1  # the router (zone gateways) and the others stay declared


def test_a_reset_of_undetermined_origin_or_a_middlebox_reset_is_not_a_live_host():
    plan = sweep_plan(_Zones(), "dmz", [22], 16)
    found = {
        0: _O("closed", "reset of undetermined origin, taken as the host's: RST TTL 63"),
        1: _O("filtered", "reset from a middlebox: RST TTL 63 (1 hop(s))"),
        2: _O("closed", "reset from the destination: RST TTL 64 (0 hop(s))"),
    }
    assert list(live(plan, found)) == [plan[2][1]]


class _O:
    def __init__(self, state: str, reason: str) -> None:
        self.state, self.reason = state, reason


class _Zones:
    def __init__(self) -> None:
        self.zones = [type("Z", (), {"name": "dmz", "cidrs": ["198.18.3.0/29"]})()]
