"""The committed recording of a lab demo (tests/fixtures/recorded-demo.tar.xz, see tools/record_unit_facts.py) holds
none of the secrets the lab inventory references, in any file: the same canary as the full scan's
(tests/lab/test_redaction_on_the_lab.py), run over the fixture. Needs the lab's keys, so it lives with the lab."""

from __future__ import annotations

from tests.conftest import LAB_INVENTORY
from tools.record_unit_facts import DEFAULT_OUT, unpack


def test_recorded_facts_hold_no_secret_of_the_lab_inventory(lab, tmp_path):
    from preuve.inputs.inventory import _secret_refs, load_inventory

    inv, _ = load_inventory(LAB_INVENTORY)
    secrets: dict[str, str] = {}
    for loc, ref in _secret_refs(inv, ()):
        value = ref.resolve()
        lines = [ln for ln in value.splitlines() if len(ln) >= 16 and "PRIVATE KEY" not in ln]
        for i, v in enumerate(lines if "PRIVATE KEY" in value else [value]):
            secrets[f"{'.'.join(map(str, loc))} #{i}"] = v
    assert len(secrets) >= 40, sorted(secrets)
    run = unpack(DEFAULT_OUT, tmp_path / "recorded")
    texts = {str(p.relative_to(run)): p.read_text(encoding="utf-8", errors="replace") for p in run.rglob("*.*")}
    assert len(texts) >= 50
    leaks = [(name, where) for name, s in secrets.items() for where, t in texts.items() if s in t]
    assert not leaks, leaks
