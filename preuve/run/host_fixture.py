"""The `host` fixture of check packs, registered by the plugin only when preuve is active (a preuve run or
`pytest --preuve-inventory`), so that pytest-testinfra's own `host` stays untouched in every other test suite."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(name="host")
def preuve_host(request: pytest.FixtureRequest) -> Any:
    """testinfra's `host` (file, package, service, run...) answering from the recorded `host_commands`
    observation of this target (preuve.observe.host.testinfra_host): judging never touches the network."""
    from preuve.observe.host.testinfra_host import Replay, make_host
    from preuve.run.plugin import _evidence

    facts = _evidence(request, "host")
    name = request.getfixturevalue("target").name
    return make_host(Replay(facts, name), name)
