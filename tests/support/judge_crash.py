"""Test-only pytest plugin (PYTEST_PLUGINS=tests.support.judge_crash): makes the judge crash on purpose.

PREUVE_TEST_CRASH=check:ID  building the verdict of check ID raises TypeError (as sorting a None flow did in
                            messages.show): the crash happens inside preuve's own makereport hook.
PREUVE_TEST_CRASH=internal:N the N-th judged item's report hook raises: pytest stops with INTERNALERROR.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

MODE = os.environ.get("PREUVE_TEST_CRASH", "")
_seen = [0]


def pytest_configure(config: pytest.Config) -> None:
    if not MODE.startswith("check:"):
        return
    from preuve.run import plugin

    real, victim = plugin.build_result, MODE.split(":", 1)[1]

    def crashing(info: Any, *args: Any, **kwargs: Any) -> Any:
        if info.spec.id == victim:
            return sorted([None, "flow"])  # TypeError, like the None flow of messages.show
        return real(info, *args, **kwargs)

    plugin.build_result = crashing


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if MODE.startswith("internal:") and report.when == "call":
        _seen[0] += 1
        if _seen[0] == int(MODE.split(":", 1)[1]):
            raise RuntimeError("judge crash injected by the test")
