"""The generated reference pages (docs/checks.md, docs/inputs.md, docs/sudoers.md) say what their sources say: a
catalogue, a check declaration, an input model or privileged.py changed without re-running tools/gen_docs.py fails
here (and names the tool to run)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import REPO


def _tool():
    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "tools" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_docs", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("page", ["checks.md", "inputs.md", "sudoers.md"])
def test_committed_page_is_what_the_generator_writes(page: str) -> None:
    tool = _tool()
    committed = (REPO / "docs" / page).read_text()
    assert committed == tool.PAGES[page](), (
        f"docs/{page} drifted from its source: run .venv/bin/python tools/gen_docs.py"
    )


def test_the_generator_sees_a_change_of_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above could pass on a generator that ignores its input: a changed rule shows in the page."""
    from preuve.observe import privileged

    tool = _tool()
    first = privileged.COMMANDS[0]
    changed = type(first)(first.name, "/usr/sbin/sshd -T -C *", first.example, first.facts, first.why, first.optional)
    monkeypatch.setattr(privileged, "COMMANDS", (changed, *privileged.COMMANDS[1:]))
    assert "/usr/sbin/sshd -T -C *" in tool.sudoers_page()
    assert tool.sudoers_page() != (REPO / "docs" / "sudoers.md").read_text()
