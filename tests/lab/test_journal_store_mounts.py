"""LOG-JOURNALD-RETENTION's host snippet end to end on real journal stores bound over /var/log/journal and
/run/log/journal in a private mount namespace (root). The measure on real journal files without root:
tests/unit/test_journal_retention_measure.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from preuve.observe.logs import journal as jf
from preuve_lab import journal_seed

MIB = 1024**2


def _in_private_mounts(store: Path, script: str, as_nobody: bool) -> subprocess.CompletedProcess:
    """Run the real JOURNAL snippet with `store` bound over /var/log/journal and an empty /run/log/journal."""
    empty = store.parent / "empty-run"
    empty.mkdir(exist_ok=True)
    run = 'setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "$0"' if as_nobody else 'sh -c "$0"'
    wrapper = f"mount --bind {store} /var/log/journal && mount --bind {empty} /run/log/journal && {run}"
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", wrapper, script],
        capture_output=True,
        text=True,
        timeout=30,
    )


needs_root_mounts = pytest.mark.skipif(
    os.geteuid() != 0 or not (Path("/var/log/journal").is_dir() and Path("/run/log/journal").is_dir()),
    reason="needs root and the /var/log/journal, /run/log/journal mount points",
)


@needs_root_mounts
def test_snippet_end_to_end_on_a_real_store(tmp_path):
    journal_seed.write(tmp_path / "h", "ssh-mfa")
    proc = _in_private_mounts(tmp_path / "h" / "log" / "journal", jf.JOURNAL, as_nobody=False)
    assert proc.returncode == 0, proc.stderr
    store = jf.parse_journal(proc.stdout)["stores"]["/var/log/journal"]
    assert store["files"] == 1 and store["usage_bytes"] >= 8 * MIB and store["fs_size_bytes"]
    assert 199.9 < (jf.parse_journal(proc.stdout)["now"] - store["oldest"]) / 86400 < 200.1


@needs_root_mounts
def test_unreadable_journal_is_an_error_not_an_empty_journal(tmp_path):
    journal_seed.write(tmp_path / "h", "ssh-mfa")  # root:systemd-journal 0640; nobody is not a member
    proc = _in_private_mounts(tmp_path / "h" / "log" / "journal", jf.JOURNAL, as_nobody=True)
    assert proc.returncode == 1
    assert "system.journal is not readable by nobody" in proc.stderr
