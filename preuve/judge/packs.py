"""Out-of-tree check packs: a team's own checks, next to preuve's, with their own catalogue.

A pack is a folder laid out like a domain of `checks/`: `check_*.py` files declaring checks with
`@check(...)` (from `preuve.judge`) and a `catalogue.yaml` with their bilingual title, rationale and remediation.
A folder whose own `catalogue.yaml` is missing is read as a set of such domain folders (one per subfolder).

Where packs come from, all added to the built-in catalogue (an id declared twice is an error, so a pack can
neither shadow nor silently replace a shipped check):
- `--checks-dir DIR` (repeatable) on `preuve run`, `judge`, `lint` and `checks`, passed on as `PREUVE_CHECKS_DIRS`
  (os.pathsep-separated), which plain `pytest` runs can set too;
- installed distributions declaring an entry point in the group `preuve.checks`, whose value is a module or
  package: its folder is the pack (`[project.entry-points."preuve.checks"] acme = "acme_preuve_checks"`).

A re-judging (`preuve judge RUN`) needs the same packs, given the same way: a run records the packs it loaded
(`run.json` is the report writers'; the catalogue entries name each check's file).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

ENV = "PREUVE_CHECKS_DIRS"
GROUP = "preuve.checks"


class PackError(Exception):
    pass


@lru_cache(maxsize=1)
def _entry_point_dirs() -> tuple[Path, ...]:
    """Once per process: the installed distributions do not change during a run, and reading every one's
    entry points costs ~8 ms, asked five times per run (CLI, collection, catalogue, reports)."""
    from importlib import import_module
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group=GROUP):
        try:
            module = import_module(ep.value.split(":")[0])
        except ImportError as exc:
            raise PackError(f"check pack {ep.name!r} ({ep.value}): cannot import: {exc}") from None
        out.append(Path(module.__file__).resolve().parent)  # type: ignore[arg-type]
    return tuple(out)


def pack_dirs() -> list[Path]:
    """Every pack folder in use, in a stable order, each once."""
    dirs = [Path(p).expanduser().resolve() for p in os.environ.get(ENV, "").split(os.pathsep) if p]
    for d in dirs:
        if not d.is_dir():
            raise PackError(f"check pack {d}: not a folder")
    dirs += list(_entry_point_dirs())
    return list(dict.fromkeys(dirs))


def domains(pack: Path) -> list[Path]:
    """The domain folders of a pack: itself when it holds a catalogue.yaml, else its subfolders that do."""
    if (pack / "catalogue.yaml").exists():
        return [pack]
    found = sorted(p for p in pack.iterdir() if p.is_dir() and (p / "catalogue.yaml").exists())
    if not found:
        raise PackError(f"check pack {pack}: no catalogue.yaml in it nor in its subfolders")
    return found


def use(dirs: list[str] | None) -> None:
    """Make `--checks-dir` values visible to the catalogue and the pytest run (same process or child)."""
    if not dirs:
        return
    current = [p for p in os.environ.get(ENV, "").split(os.pathsep) if p]
    os.environ[ENV] = os.pathsep.join(dict.fromkeys([*current, *(str(Path(d).resolve()) for d in dirs)]))
