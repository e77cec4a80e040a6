"""INV-SOFTWARE-DECLARED (8.1.b) judged on recorded real `dpkg-query -W` output, and the inventory input's lint.

tests/fixtures/host_maintenance/lab.packages.txt is the raw stdout of the `packages` host fact's snippet run as an
unprivileged account (nobody) on this Debian 12 machine, whose dpkg database the lab hosts share. No rpm output is
recorded here (rpm cannot run on this machine), so the rpm branch is not judged in these tests.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from checks.patching import check_inventory as ci
from preuve.inputs.errors import InputError
from preuve.inputs.params import Params
from preuve.inputs.software import SoftwareInventory, SoftwareInventoryFile, load_file
from preuve.judge.check_api import Judge, TrackedParams
from preuve.observe.host import packages

RECORDED = Path(__file__).parents[1] / "fixtures" / "host_maintenance" / "lab.packages.txt"
FACT = packages.parse(RECORDED.read_text())
REAL = {p: FACT["packages"][p][0] for p in Params().patching.inventory_watch if p in FACT["packages"]}


def _judge(declared: SoftwareInventory | SoftwareInventoryFile | None, **params) -> Judge:
    j = Judge()
    p = Params.model_validate({"patching": params}) if params else Params()
    target = SimpleNamespace(name="web-1", tags=("web",), software=declared)
    ci.check_software_declared(FACT, TrackedParams(p, j.reads), target, j)
    return j


def _inv(**packages_) -> SoftwareInventory:
    watched = {p: v for p, v in REAL.items() if p not in packages_}
    return SoftwareInventory.model_validate({"software": [{"tags": ["web"], "packages": {**watched, **packages_}}]})


def test_parse_keeps_installed_packages_only():
    assert FACT["manager"] == "dpkg"
    assert FACT["packages"]["openssh-server"] == ["1:9.2p1-2+deb12u10"]
    assert "systemd-timesyncd" not in FACT["packages"]  # `rc`: removed, configuration files left


def test_matching_inventory_passes():
    j = _judge(_inv())
    assert not j.failed, [f.observed for f in j.failed]


def test_stale_version_fails_quoting_both():
    j = _judge(_inv(**{"openssh-server": "1:8.4p1-5+deb11u1"}))
    (f,) = j.failed
    assert f.label == "inventory.declared_mismatch"
    assert "declared 1:8.4p1-5+deb11u1, installed 1:9.2p1-2+deb12u10" in str(f.observed)


def test_declared_but_absent_fails():
    j = _judge(_inv(**{"strongswan": "5.9.8-5+deb12u1"}))
    assert [f.label for f in j.failed] == ["inventory.declared_mismatch"]
    assert "not installed" in str(j.failed[0].observed)


def test_undeclared_watched_software_fails_unless_turned_off():
    partial = SoftwareInventory.model_validate({"software": [{"hosts": ["web-1"], "packages": {"sudo": REAL["sudo"]}}]})
    j = _judge(partial)
    (f,) = j.failed
    assert f.label == "inventory.watch_undeclared" and "openssh-server" in str(f.observed)
    assert not _judge(partial, inventory_watch_undeclared=False).failed


def test_epoch_zero_is_implicit():
    assert not _judge(_inv(**{"nginx": "0:" + REAL["nginx"]})).failed


def test_no_inventory_or_unreadable_file_fails():
    for declared, words in ((None, "declares no"), (SoftwareInventoryFile(file="/nonexistent/sw.yaml"), "could not")):
        (f,) = _judge(declared).failed
        assert words in str(f.observed)


def test_file_lint_names_file_and_line(tmp_path):
    f = tmp_path / "software.yaml"
    f.write_text("software:\n  - packages: {sudo: '1.9'}\n  - hosts: [a]\n    packages: {sudo: ''}\n")
    with pytest.raises(InputError) as e:
        load_file(SoftwareInventoryFile(file=str(f)), str(f), tmp_path)
    text = str(e.value)
    assert "software.yaml" in text and "hosts: or tags:" in text and "empty version" in text


def test_watch_list_default_names_service_software():
    assert {"openssh-server", "nginx", "etcd-server", "strongswan"} <= set(Params().patching.inventory_watch)
