"""Target kind `log_store` (registered in preuve.inputs.targets): one per `log_stores` entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from preuve.inputs.inventory import Inventory
from preuve.inputs.targets import Target, target_kind


@dataclass(frozen=True)
class LogStoreSpec:
    item: Any  # LogStore
    endpoint: Any = None  # the S3Endpoint of an s3 store


@target_kind("log_store")
def log_stores(inv: Inventory) -> list[Target]:
    """Every central log store; S3 stores are reached through their `s3.endpoints` entry."""
    endpoints = {e.name: e for e in inv.s3.endpoints}
    out = []
    for st in inv.log_stores:
        ep = endpoints.get(st.endpoint) if st.kind == "s3" else None
        url = urlsplit(ep.url if ep is not None else st.url or "")
        port = url.port or (443 if url.scheme == "https" else 80)
        site = st.site or (ep.site if ep is not None else None)
        out.append(
            Target("log_store", st.name, url.hostname or "", port, st.zone, site, tuple(st.tags), LogStoreSpec(st, ep))
        )
    return out
