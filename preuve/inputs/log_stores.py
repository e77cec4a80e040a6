"""Cross-entry rules of the `log_stores` inventory section (called from inventory._cross_checks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def log_store_checks(inv: Any, add: Callable[[tuple, str], None], zones: set[str], sites: set[str]) -> None:
    """Unique names; an S3 store names a declared endpoint; zones and sites are known."""
    endpoints = {e.name for e in inv.s3.endpoints}
    names: set[str] = set()
    for i, st in enumerate(inv.log_stores):
        at = ("log_stores", i)
        if st.name in names:
            add((*at, "name"), f"duplicate log store name {st.name!r}")
        names.add(st.name)
        if st.kind == "s3" and st.endpoint not in endpoints:
            add((*at, "endpoint"), f"unknown S3 endpoint {st.endpoint!r}; s3.endpoints: {sorted(endpoints)}")
        if st.zone is not None and st.zone not in zones:
            add((*at, "zone"), f"unknown zone {st.zone!r}; declared zones: {sorted(zones) or 'none'}")
        if st.site is not None and st.site not in sites:
            add((*at, "site"), f"unknown site {st.site!r}; declared sites: {sorted(sites) or 'none'}")
