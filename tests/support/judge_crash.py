"""Test-only pytest plugin (PYTEST_PLUGINS=tests.support.judge_crash): makes the judge crash on purpose.

PREUVE_TEST_CRASH=check:ID  building the verdict of check ID raises TypeError (as sorting a None flow did in
                            messages.show): the crash happens inside preuve's conclude() (the direct
                            judging loop runs: this plugin adds no per-item hook in this mode).
PREUVE_TEST_CRASH=internal:N the N-th judged item's report hook raises: pytest stops with INTERNALERROR.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

MODE = os.environ.get("PREUVE_TEST_CRASH", "")
_seen = [0]


def pytest_configure(config: pytest.Config) -> None:
    if MODE.startswith("internal:"):  # a report hook only then: any per-item hook sends every item through
        config.pluginmanager.register(_InternalCrash(), "preuve-test-internal-crash")  # pytest's protocol
    if not MODE.startswith("check:"):
        return
    from preuve.run import verdict  # where both judging paths build a result

    real, victim = verdict.build_result, MODE.split(":", 1)[1]

    def crashing(info: Any, *args: Any, **kwargs: Any) -> Any:
        if info.spec.id == victim:
            return sorted([None, "flow"])  # TypeError, like the None flow of messages.show
        return real(info, *args, **kwargs)

    verdict.build_result = crashing


class _InternalCrash:
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            _seen[0] += 1
            if _seen[0] == int(MODE.split(":", 1)[1]):
                raise RuntimeError("judge crash injected by the test")
