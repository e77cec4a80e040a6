"""Which targets this run judges: a shard of the inventory (`--shard i/n`) and/or a named subset (`--only`).

Shard assignment hashes the target's name (sha256), never list positions, so a target stays in its shard when
others are added or removed and every machine of a sharded sweep computes the same split without talking to the
others. The name, not kind:name: every kind of target named `web-1` (its SSH endpoint, its host facts, its MFA
probe) shares the observations recorded under that name, so they must land in the same shard, observed once.
"""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preuve.inputs.targets import Target


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, like GitLab's CI_NODE_INDEX
    total: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """'2/4' -> Shard(2, 4); raises ValueError with a message a user can act on."""
        i, sep, n = text.partition("/")
        try:
            shard = cls(int(i), int(n)) if sep else None
        except ValueError:
            shard = None
        if shard is None or not 1 <= shard.index <= shard.total:
            raise ValueError(f"--shard expects i/n with 1 <= i <= n (e.g. 2/4), got {text!r}")
        return shard

    def owns(self, target: Target) -> bool:
        return shard_of(target.name, self.total) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def shard_of(name: str, total: int) -> int:
    """The 1-based shard of a target: stable across machines, Python versions and inventory edits."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def read_targets_file(path: Path) -> list[str]:
    """One target name (or glob) per line; blank lines and `#` comments ignored (a CI job's changed list)."""
    names = []
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


@dataclass(frozen=True)
class Scope:
    shard: Shard | None = None
    only: tuple[str, ...] | None = None  # None: every target; () would select nothing

    def keeps(self, target: Target) -> bool:
        if self.shard is not None and not self.shard.owns(target):
            return False
        return self.only is None or any(fnmatch.fnmatchcase(target.name, g) for g in self.only)

    def describe(self) -> dict[str, Any] | None:
        """What run.json records, so `preuve merge` can check it has every shard exactly once."""
        if self.shard is None and self.only is None:
            return None
        return {
            "shard": str(self.shard) if self.shard else None,
            "only": list(self.only) if self.only is not None else None,
        }


def build_scope(shard: str | None, only: list[str] | None, targets_file: str | None) -> Scope:
    names: list[str] | None = None
    if only:
        names = list(only)
    if targets_file:
        names = (names or []) + read_targets_file(Path(targets_file))
    return Scope(Shard.parse(shard) if shard else None, tuple(names) if names is not None else None)


def unmatched_names(scope: Scope, all_targets: dict[str, list[Target]]) -> list[str]:
    """Names given to --only/--targets-file that match no inventory target (a typo, or a removed host)."""
    if scope.only is None:
        return []
    names = {t.name for ts in all_targets.values() for t in ts}
    return [g for g in scope.only if not any(fnmatch.fnmatchcase(n, g) for n in names)]
