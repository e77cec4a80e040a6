"""The matrix of the network/admin-plane checks (tests/support/network_coverage_matrix.py) covers every check of
their folders, names only targets of the lab inventory, and gives each check a failing target (and a passing one,
but for IPSEC-TUNNELS-UP whose passing target depends on the kernel's IPsec support)."""

from __future__ import annotations

from preuve.inputs.inventory import load_inventory
from preuve.inputs.targets import targets
from preuve.judge.catalogue import load_catalogue
from tests.conftest import LAB_INVENTORY
from tests.support.network_coverage_matrix import MATRIX

FOLDERS = ("admin_identity", "isolation", "config_backup", "detection", "internal_flows")


def test_every_check_of_the_folders_is_in_the_matrix_both_ways():
    ids = {cid for cid, info in load_catalogue().items() if info.spec.module.split(".")[1] in FOLDERS}
    assert ids == set(MATRIX)
    inv, _ = load_inventory(LAB_INVENTORY)
    names = {t.name for ts in targets(inv).values() for t in ts}
    for cid, row in MATRIX.items():
        assert row["fail"], cid
        assert row["pass"] or row.get("kernel_dependent"), cid
        for name in [*row["pass"], *row["fail"], *row.get("kernel_dependent", [])]:
            assert name in names, (cid, name)
        assert not set(row["pass"]) & set(row["fail"]), cid
