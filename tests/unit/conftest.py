"""Unit tests: no root, no network namespace, no lab daemon. The `preuve` command line they run is forked from a
process that already imported it (tests/support/cli_forkserver.py), which saves two thirds of their time;
PREUVE_TEST_NO_FORKSERVER=1 starts a fresh interpreter per call instead (to compare, or to debug start-up)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import FORKSERVER


@pytest.fixture(autouse=True)
def _preuve_from_the_fork_server(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.environ.get("PREUVE_TEST_NO_FORKSERVER") != "1":
        monkeypatch.setenv(FORKSERVER, "1")
