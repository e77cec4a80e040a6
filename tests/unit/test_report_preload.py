"""The reports' head start: what the driver's warm-up thread loads while a run waits on the network is what the
end of the run then uses, without reading or parsing it again."""

from __future__ import annotations

from pathlib import Path

import pytest

from preuve.report import locate
from preuve.report.bundle import preload

INVENTORY = """\
name: preload
tls_endpoints:
  - name: api
    address: 127.0.0.1
    port: 443
  - name: console
    address: 127.0.0.1
    port: 8443
"""


def test_the_inventory_is_parsed_once_for_every_locator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "inventory.yaml").write_text(INVENTORY)
    preload(tmp_path)

    def parse_again(path: Path) -> None:
        raise AssertionError(f"{path} parsed again")

    monkeypatch.setattr("preuve.inputs.source.load_yaml", parse_again)
    where = locate.Locator(tmp_path, {"inventory": {"file": "inv.yaml"}})
    assert (where("tls_endpoint", "console").file, where("tls_endpoint", "console").line) == ("inv.yaml", 6)
    assert where("tls_endpoint", "unknown").line == 1
