"""LOG-JOURNALD-RETENTION's measure on real journal files (written by systemd-journal-remote, read by journalctl):
config and measure are both evidence, the stricter wins."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.observe.logs import journal as jf
from preuve.results.messages import sentence
from preuve_checks.logs.check_retention import check_journald_retention
from preuve_lab import journal_seed

MIB = 1024**2
YEAR_CONFIG = {
    "settings": {"Storage": "persistent", "MaxRetentionSec": "1y", "SystemMaxUse": "8M"},
    "files": [],
    "var_log_journal": True,
}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> dict[str, Path]:
    """Real journals as the lab writes them: oldest entry 200 d (ssh-mfa) and 20 d (ssh-key-only)."""
    root = tmp_path_factory.mktemp("journals")
    return {n: journal_seed.write(root / n, n) for n in journal_seed.AGES_DAYS}


def header_text(journal_file: Path, store: str, usage: int, fs=(100 * 1024**3, 50 * 1024**3), now=None) -> str:
    """The JOURNAL snippet's output for one store, its header lines from the real `journalctl --header`."""
    out = subprocess.run(
        ["journalctl", "--header", "--no-pager", "--file", str(journal_file)],
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    ).stdout
    lines = [
        ln.replace(str(journal_file), f"{store}/m/system.journal")
        for ln in out.splitlines()
        if ln.startswith(("File path:", "Head realtime timestamp:"))
    ]
    now = now if now is not None else int(subprocess.run(["date", "+%s"], capture_output=True, text=True).stdout)
    return f"{now}\n== store {store} {usage} {fs[0]} {fs[1]}\n== header\n" + "\n".join(lines) + "\n"


def judged(journald: dict, journal_text: str, params: Params | None = None) -> tuple[Judge, str]:
    j = Judge()
    check_journald_retention(
        journald=journald, journal=jf.parse_journal(journal_text), params=params or Params(), judge=j
    )
    return j, "; ".join(sentence(e, e.label, "en") for e in j.failed)


def test_oldest_entry_read_from_real_headers(seeded):
    text = header_text(seeded["ssh-key-only"], "/var/log/journal", 8 * MIB)
    store = jf.parse_journal(text)["stores"]["/var/log/journal"]
    assert store["files"] == 1 and store["usage_bytes"] == 8 * MIB
    age = (jf.parse_journal(text)["now"] - store["oldest"]) / 86400
    assert 19.9 < age < 20.1


def test_config_says_a_year_but_the_size_cap_evicts_first(seeded):
    """The brief's case: MaxRetentionSec=1y, yet the journal is at SystemMaxUse and 20 days deep: FAIL."""
    j, msg = judged(YEAR_CONFIG, header_text(seeded["ssh-key-only"], "/var/log/journal", 8 * MIB))
    assert [e.label for e in j.failed] == ["logs.journald.measured"]  # the config alone would pass
    assert "oldest entry 20 d in /var/log/journal, at its size cap (8.0 MiB used of SystemMaxUse 8.0 MiB)" in msg
    assert "the size cap evicts before retention" in msg


def test_young_journal_not_at_cap_is_judged_on_config(seeded):
    config = {**YEAR_CONFIG, "settings": {**YEAR_CONFIG["settings"], "SystemMaxUse": "20G"}}
    j, msg = judged(config, header_text(seeded["ssh-key-only"], "/var/log/journal", 8 * MIB))
    assert not j.failed, msg
    measured = next(e for e in j.expectations if e.label == "logs.journald.measured")
    assert measured.observed.startswith("measured: oldest entry 20 d, not at cap (8.0 MiB used of SystemMaxUse 20.0")
    assert measured.observed.endswith("judged on config")
    j, msg = judged(
        {**config, "settings": {**config["settings"], "MaxRetentionSec": "1month"}},
        header_text(seeded["ssh-key-only"], "/var/log/journal", 8 * MIB),
    )
    assert [e.label for e in j.failed] == ["logs.journald.max_retention_days"] and "observed 30.4" in msg


def test_old_enough_journal_confirms_the_config(seeded):
    config = {**YEAR_CONFIG, "settings": {**YEAR_CONFIG["settings"], "SystemMaxUse": "20G"}}
    j, msg = judged(config, header_text(seeded["ssh-mfa"], "/var/log/journal", 8 * MIB))
    assert not j.failed, msg
    assert "measured: oldest entry 200 d in /var/log/journal" in j.expectations[-1].observed


def test_filesystem_down_to_keep_free_is_at_cap(seeded):
    """No MaxUse reached, but the filesystem is at SystemKeepFree: journald vacuums, the journal is at its cap."""
    config = {**YEAR_CONFIG, "settings": {**YEAR_CONFIG["settings"], "SystemMaxUse": "20G", "SystemKeepFree": "1G"}}
    text = header_text(seeded["ssh-key-only"], "/var/log/journal", 8 * MIB, fs=(100 * 1024**3, 512 * MIB))
    _, msg = judged(config, text)
    assert "filesystem down to SystemKeepFree 1.0 GiB" in msg and "evicts before retention" in msg


def test_volatile_store_is_measured_against_runtime_max_use(seeded):
    config = {
        "settings": {"Storage": "volatile", "MaxRetentionSec": "1month", "RuntimeMaxUse": "8M"},
        "files": [],
        "var_log_journal": False,
    }
    j, msg = judged(config, header_text(seeded["ssh-key-only"], "/run/log/journal", 8 * MIB + 8192))
    assert {e.label for e in j.failed} == {
        "logs.journald.storage",
        "logs.journald.max_retention_days",
        "logs.journald.measured",
    }
    assert "RuntimeMaxUse 8.0 MiB" in msg


def test_default_cap_is_ten_percent_capped_at_4g():
    store = {"usage_bytes": 1, "fs_size_bytes": 10 * 1024**3, "fs_avail_bytes": 9 * 1024**3, "files": 0, "oldest": None}
    journal = {"now": 0, "stores": {"/var/log/journal": store}}
    m = jf.measure({}, "persistent", journal, 0.85)
    assert m["cap_bytes"] == 1024**3 and "default 10 %" in m["cap_name"] and not m["at_cap"]
    store["fs_size_bytes"] = 1024**4
    assert jf.measure({}, "persistent", journal, 0.85)["cap_bytes"] == jf.FOUR_GIB
    assert jf.measure({}, "volatile", journal, 0.85) is None  # no such store on the host


SIZES = [
    ("8M", 8 * MIB),
    ("20G", 20 * 1024**3),
    ("512K", 512 * 1024),
    ("4096", 4096),
    ("1.5G", int(1.5 * 1024**3)),
    ("", None),
    ("10%", None),
]


@pytest.mark.parametrize(("text", "n"), SIZES)
def test_size_bytes(text, n):
    assert jf.size_bytes(text) == n


UNSET = {**YEAR_CONFIG, "settings": {"Storage": "persistent", "SystemMaxUse": "20G"}}  # no MaxRetentionSec


def test_unset_max_retention_is_unbounded_like_a_log_store(seeded):
    """One rule for "unbounded" (issue 12): nothing deletes by age -> passes on age, as LOG-STORE-RETENTION passes
    a store without deletion; before, an unset MaxRetentionSec failed ("observed null")."""
    from preuve_checks.logs.check_log_stores import check_log_store_retention

    j, msg = judged(UNSET, header_text(seeded["ssh-key-only"], "/var/log/journal", 8 * MIB))
    assert not j.failed, msg
    config = next(e for e in j.expectations if e.label == "logs.journald.max_retention_days")
    assert config.observed.startswith("unbounded: MaxRetentionSec= (unset or 0), nothing deletes by age")
    store = Judge()
    check_log_store_retention(
        log_store={"kind": "s3", "prefix": "logs/", "lifecycle_rules": None, "versioning": None},
        params=Params(),
        judge=store,
    )
    assert not store.failed and "unbounded" in str(store.expectations[0].observed)


def test_unbounded_by_age_but_at_its_size_cap_fails_on_the_measure(seeded):
    config = {**UNSET, "settings": {**UNSET["settings"], "SystemMaxUse": "8M"}}
    j, msg = judged(config, header_text(seeded["ssh-key-only"], "/var/log/journal", 8 * MIB))
    assert [e.label for e in j.failed] == ["logs.journald.measured"], msg
    assert "the size cap evicts before retention" in msg and "expected: all >= 183" in msg  # the limit, quoted
