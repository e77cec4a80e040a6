"""An S3 endpoint as a whole: its host, the addresses it resolves to and their registry country, and each bucket's
encryption key and owner (location of the data, 19.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from preuve.observe.registry import Collector, Fixture, Outcome
from preuve.observe.storage import s3

if TYPE_CHECKING:
    from preuve.inputs.targets import Target


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:

    from preuve.observe.reveal import tool

    ep = target.spec.item
    sites = dict(target.spec.site_countries)
    buckets = [(b.name, b.owner) for b in target.spec.buckets]
    query = {"endpoint": ep.url, "resolve": target.address, "calls": ["GetBucketEncryption (each bucket)"]}
    found, raw = s3.collect_endpoint(s3.client_of(ep, timeout), target.address, buckets)
    found.update(provider=ep.provider, url=ep.url, site=ep.site, site_country=sites.get(ep.site) if ep.site else None)
    return query, found, raw, tool("boto3") + " + iptocc"


COLLECTOR = Collector(
    "s3_endpoint",
    _collect,
    limit=4,
    fixtures=(
        Fixture(
            "s3_endpoint",
            "s3_endpoint",
            doc="S3 endpoint: host, resolved addresses and their registry country, each bucket's key and owner",
        ),
    ),
    preload=("boto3", "botocore.config", "botocore.exceptions"),
)
