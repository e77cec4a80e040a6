"""Configuration backups of the technical infrastructure (17.5.a): the newest copy under a prefix and its lock.

Read with the endpoint's read-only key: ListObjectsV2 under the prefix (every page, newest LastModified kept),
HeadObject of the newest copy (its own ObjectLockMode and ObjectLockRetainUntilDate: a bucket whose lock is on
may still hold copies written without retention, or in governance mode, erasable by whoever has
s3:BypassGovernanceRetention), and GetObjectLockConfiguration of the bucket for the record.
An empty prefix is an observed absence (no copy), judged as a failure; an unreachable endpoint is an error.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture

MAX_PAGES = 50  # 50,000 objects under one prefix: beyond, the newest is taken among those read (said in evidence)


def _iso(t: Any) -> str | None:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(t, dt.datetime) else None


def newest(s3: Any, bucket: str, prefix: str) -> tuple[dict[str, Any] | None, int, bool]:
    """(newest object, objects seen, every page read) under the prefix."""
    from botocore.exceptions import ClientError

    best, seen, token = None, 0, None
    for _ in range(MAX_PAGES):
        kw: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if token:
            kw["ContinuationToken"] = token
        try:
            r = s3.list_objects_v2(**kw)
        except ClientError as e:
            err = e.response.get("Error", {})
            if err.get("Code") == "NoSuchBucket":
                return None, 0, True
            raise ObservationError(
                f"ListObjectsV2 {bucket}/{prefix}: {err.get('Code')} {err.get('Message', '')}"
            ) from None
        for o in r.get("Contents") or []:
            seen += 1
            if best is None or o["LastModified"] > best["LastModified"]:
                best = o
        token = r.get("NextContinuationToken")
        if not r.get("IsTruncated"):
            return best, seen, True
    return best, seen, False


def collect_backup(s3: Any, bucket: str, prefix: str, now: dt.datetime | None = None) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    now = now or dt.datetime.now(dt.UTC)
    obj, seen, complete = newest(s3, bucket, prefix)
    out: dict[str, Any] = {"bucket": bucket, "prefix": prefix, "objects_seen": seen, "listing_complete": complete}
    try:
        conf = s3.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration") or {}
    except ClientError as e:
        conf = {"error": e.response.get("Error", {}).get("Code")}
    out["bucket_lock"] = conf
    if obj is None:
        out["absent"] = f"no object under s3://{bucket}/{prefix}"
        return out
    try:
        head = s3.head_object(Bucket=bucket, Key=obj["Key"])
    except ClientError as e:
        raise ObservationError(f"HeadObject {bucket}/{obj['Key']}: {e.response.get('Error', {}).get('Code')}") from None
    until = head.get("ObjectLockRetainUntilDate")
    out["newest"] = {
        "key": obj["Key"],
        "last_modified": _iso(obj["LastModified"]),
        "age_hours": round((now - obj["LastModified"]).total_seconds() / 3600, 2),
        "size": obj.get("Size"),
        "lock_mode": head.get("ObjectLockMode"),
        "retain_until": _iso(until),
        "retained_now": bool(until and until > now),
        "legal_hold": head.get("ObjectLockLegalHoldStatus"),
    }
    return out


def collect(target: Any, facts: tuple[str, ...], timeout: float, hosts: dict[str, Any]) -> tuple:
    from preuve.observe.reveal import tool
    from preuve.observe.storage import s3
    from preuve.observe.storage.s3 import endpoint_of as _s3_endpoint_of

    c, ep = target.spec.item, target.spec.endpoint
    client = s3.client(_s3_endpoint_of(ep), timeout)
    query = {
        "endpoint": ep.url,
        "bucket": c.bucket,
        "prefix": c.prefix,
        "kind": c.kind,
        "calls": ["ListObjectsV2 (every page)", "GetObjectLockConfiguration", "HeadObject (newest)"],
    }
    found = collect_backup(client, c.bucket, c.prefix)
    found["kind"] = c.kind
    return query, found, {"objects_seen": found["objects_seen"]}, tool("boto3")


COLLECTOR = Collector(
    name="config_backup",
    collect=collect,
    limit=8,
    fixtures=(
        Fixture(
            "config_backup",
            "config_backup",
            doc="configuration backups (etcd snapshots, device configs): newest copy, its age and object lock",
        ),
    ),
    preload=("boto3",),
)
