"""NET-UNDECLARED-HOSTS (8.1.a) on the real lab: each namespace vantage sweeps its own zone's subnet (raw SYN on the
matrix's sweep ports, one echo). With the tls-weak endpoint removed from a copy of the lab inventory, its live
address 198.18.3.11 is undeclared: dmz-ns fails naming it, its port and its answer; prod-ns, whose every live
address (router under zone gateways included) is declared, passes; the SSH vantage is not swept."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import LAB_INVENTORY, lab_inventory, scan


def test_the_lab_passes_and_an_address_taken_out_of_the_inventory_fails(lab_up, tmp_path: Path) -> None:
    import yaml

    keep = tuple(yaml.safe_load(LAB_INVENTORY.read_text()))

    def edit(data: dict) -> None:
        data["tls_endpoints"] = [e for e in data["tls_endpoints"] if e["name"] != "tls-weak"]
        data["flow_matrix"] = str(LAB_INVENTORY.parent / data["flow_matrix"])
        data["vantage_points"] = [v for v in data["vantage_points"] if v["name"] in ("prod-ns", "dmz-ns", "prod-ssh")]

    inventory = lab_inventory(tmp_path, edit, keep=keep)
    run = scan(tmp_path / "run", "--select", "NET-UNDECLARED-HOSTS", inventory=inventory)
    assert (run.out / "results.jsonl").exists(), run.proc.stderr
    assert run.result("NET-UNDECLARED-HOSTS", "prod-ns")["status"] == "pass"
    assert run.result("NET-UNDECLARED-HOSTS", "prod-ssh")["status"] == "not_applicable"
    failed = run.result("NET-UNDECLARED-HOSTS", "dmz-ns")
    assert failed["status"] == "fail", failed
    text = str(failed)
    assert "dmz-ns (dmz) -> 198.18.3.11: answered tcp/" in text and "open (syn-ack)" in text, text
    (offending,) = failed["expectations"][0]["offending"]  # the router and every other live address are declared
    assert offending.startswith("dmz-ns (dmz) -> 198.18.3.11: ") and "declared nowhere in the inventory" in offending
