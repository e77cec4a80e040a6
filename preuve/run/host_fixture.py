"""The `host` fixture of check packs, registered by the plugin only when preuve is active (a preuve run or
`pytest --preuve-inventory`), so that pytest-testinfra's own `host` stays untouched in every other test suite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Evidence = Callable[[pytest.FixtureRequest, str], Any]  # the plugin's reader of a target's recorded observation


class HostFixture:
    """A pytest plugin object holding the `host` fixture; the plugin gives it its evidence reader (this module
    does not import the plugin back)."""

    def __init__(self, evidence: Evidence) -> None:
        self._evidence = evidence

    @pytest.fixture(name="host")
    def preuve_host(self, request: pytest.FixtureRequest) -> Any:
        """testinfra's `host` (file, package, service, run...) answering from the recorded `host_commands`
        observation of this target (preuve.observe.host.testinfra_host): judging never touches the network."""
        from preuve.observe.host.testinfra_host import Replay, make_host

        facts = self._evidence(request, "host")
        name = request.getfixturevalue("target").name
        return make_host(Replay(facts, name), name)
