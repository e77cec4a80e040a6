"""The dated end-of-life table shipped with preuve (preuve/data/eol.yaml): which release is still patched, and since
when the table itself has not been updated."""

from __future__ import annotations

import datetime as dt
import functools
from importlib.resources import files
from typing import Any

import yaml

from preuve.judge import ObservationUnavailable


@functools.cache
def table() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(files("preuve.data").joinpath("eol.yaml").read_text(encoding="utf-8"))
    return loaded


def fresh_table(now: dt.datetime, max_age_days: int) -> dict[str, Any]:
    """The table, or `error` when it is older than the limit: a stale table cannot see a release that ended since."""
    t = table()
    compiled = dt.date.fromisoformat(t["compiled"])
    age = (now.date() - compiled).days
    if age > max_age_days:
        raise ObservationUnavailable(
            f"preuve's end-of-life table (preuve/data/eol.yaml) was compiled on {compiled} ({age} days ago), older "
            f"than params.patching.eol_table_max_age_days = {max_age_days}: update preuve or the table"
        )
    return t


def os_entry(t: dict[str, Any], os_release: dict[str, str]) -> tuple[str, dict[str, Any] | None]:
    """(release name, its table entry or None) from /etc/os-release ID and VERSION_ID (major for RHEL-likes)."""
    os_id = os_release.get("ID", "").lower()
    version = os_release.get("VERSION_ID", "")
    family = t["os"].get(os_id, {})
    entry = family.get(version) or family.get(version.split(".")[0])
    return f"{os_id} {version}".strip(), entry
