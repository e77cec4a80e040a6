"""Where the inventory declared each target: the file and line that SARIF results and JUnit cases point at, so
that code review annotates the change that brought the target in (or changed it).

The run keeps the exact inventory it used (inputs/inventory.yaml), so its lines are the lines of the file the
operator committed; run.json `inventory.file` names that file as it was given (relative to where preuve ran).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Where:
    file: str  # the inventory as given to preuve, e.g. inventories/prod.yaml (a relative URI)
    line: int


def _names(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[str, tuple[Any, ...]]]:
    """(name, path of the item that declares it), in document order, for every mapping with a string `name`."""
    out: list[tuple[str, tuple[Any, ...]]] = []
    if isinstance(data, dict):
        if isinstance(data.get("name"), str) and path:
            out.append((data["name"], path))
        for k, v in data.items():
            out += _names(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _names(v, (*path, i))
    return out


class Locator:
    """target (kind, name) -> Where. A target named after its declaration (`ssh-mfa-admin` for the canary of
    host `ssh-mfa`) points at the longest declared name it starts with; the flow matrix at its `flow_matrix:`
    key; anything else at line 1, never nowhere."""

    def __init__(self, run_dir: Path, run: dict[str, Any], uri: str | None = None):
        self.file = uri or run.get("inventory", {}).get("file") or _rel(run_dir / "inputs" / "inventory.yaml")
        self._seen: dict[tuple[str, str], Where] = {}
        self.lines, self.first = inventory_lines(run_dir / "inputs" / "inventory.yaml")

    def __call__(self, kind: str, name: str) -> Where:
        key = (kind, name)
        if key not in self._seen:  # one lookup per target, however many results it has (500 hosts, 40k results)
            self._seen[key] = self._find(kind, name)
        return self._seen[key]

    def _find(self, kind: str, name: str) -> Where:
        if name in self.first:
            return Where(self.file, self.first[name])
        if kind == "flow_matrix" and ("flow_matrix",) in self.lines:
            return Where(self.file, self.lines[("flow_matrix",)])
        prefixes = [n for n in self.first if name.startswith(n + "-") or name.startswith(n + ":")]
        if prefixes:
            return Where(self.file, self.first[max(prefixes, key=len)])
        return Where(self.file, 1)


_LINES: dict[tuple[str, int, int], tuple[dict[tuple[Any, ...], int], dict[str, int]]] = {}


def inventory_lines(inventory: Path) -> tuple[dict[tuple[Any, ...], int], dict[str, int]]:
    """(line of every path of the inventory, first line declaring each name). Kept per file version: junit.xml
    and SARIF of the same run locate against the same file (parsing it with line numbers: ~5 ms at 100 targets)."""
    from preuve.inputs.errors import InputError
    from preuve.inputs.source import load_yaml

    try:
        st = inventory.stat()
        key = (str(inventory.resolve()), st.st_mtime_ns, st.st_size)
        found = _LINES.get(key)
        if found is None:
            located = load_yaml(inventory)
            first: dict[str, int] = {}
            for name, path in _names(located.data):
                first.setdefault(name, located.line_of(path) or 1)
            found = (located.lines, first)
            _LINES.clear()  # one inventory at a time: the run's (a warm-up thread may fill it: same value)
            _LINES[key] = found
    except (InputError, OSError):
        return {}, {}
    return found


def _rel(path: Path) -> str:
    """`path` relative to the current directory when it is below it (a CI project root), else absolute."""
    try:
        rel = os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:  # another drive
        return path.resolve().as_posix()
    return Path(rel).as_posix() if not rel.startswith("..") else path.resolve().as_posix()


def run_prefix(run_dir: Path) -> str:
    """The default prefix of evidence paths in junit.xml: the run directory relative to the current directory
    (GitLab resolves attachments against the project directory, Jenkins against the workspace)."""
    p = _rel(run_dir)
    return "" if p == "." else p + "/"
