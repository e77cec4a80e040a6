"""A newcomer follows the README into docs/: every relative link and anchor there resolves, and the README keeps the
two commands verbatim (.ci/run calls the test one)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {_slug(m.group(1)) for m in re.finditer(r"(?m)^#{1,6} (.+)$", text)}


def _pages() -> list[Path]:
    return [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]


def test_relative_links_and_anchors_resolve() -> None:
    broken = []
    for page in _pages():
        for target in LINK.findall(re.sub(r"```.*?```", "", page.read_text(), flags=re.S)):
            if re.match(r"^[a-z]+:", target):
                continue  # an absolute URL: not followed from a test
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if not dest.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_readme_keeps_the_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    assert "bash ci/demo.sh" in text and "bash ci/test.sh" in text
    assert "bash ci/test.sh" in (REPO / ".ci" / "run").read_text()


def test_readme_stays_an_entry_page() -> None:
    """Prose goes into docs/<topic>.md: the README holds what preuve is, the two commands, a first scan, links."""
    lines = (REPO / "README.md").read_text().splitlines()
    headings = [line for line in lines if line.startswith("## ")]
    assert len(lines) <= 120 and len(headings) <= 4, headings
