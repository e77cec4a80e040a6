"""What a customer's own S3 key reads on the public object storage interface (9.6.i, 9.7.a, 12.7.e).

A key refused ListBuckets and ListObjects may still GET an object whose key it knows (a policy granting
s3:GetObject on `bucket/*` without s3:ListBucket). So object keys are first listed with the endpoint's own
read-only account (at most `MAX_KEYS` per bucket), then the customer's key tries, per foreign bucket:
ListObjectsV2 (one key), and GetObject of each listed key with `Range: bytes=0-0` (one byte, read and dropped).
First a control: ListObjectsV2 on each of its own buckets must succeed, else the key proves nothing (error).

Evidence: the S3 error code and HTTP status of each call; never an object's content, never the keys' secrets
(registered with the redactor by `reveal`).
"""

from __future__ import annotations

from typing import Any

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture

MAX_KEYS = 3


def _try(fn: Any, **kw: Any) -> dict[str, Any]:
    """One call: allowed (2xx) or the refusal's error code and status; bodies are drained and dropped."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    try:
        r = fn(**kw)
    except ClientError as e:
        code = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        reason = e.response.get("Error", {}).get("Code")
        # a refused HEAD or ranged GET carries no error body: botocore then names the code by the status
        return {"allowed": False, "code": code, "reason": None if reason == str(code) else reason}
    except EndpointConnectionError as e:
        raise ObservationError(f"S3 endpoint unreachable: {type(e).__name__}") from None
    body = r.get("Body")
    if body is not None:
        body.read(1)
        body.close()
    return {"allowed": True, "code": r.get("ResponseMetadata", {}).get("HTTPStatusCode"), "reason": None}


def listed_keys(scanner: Any, bucket: str) -> list[str] | dict[str, str]:
    """Object keys the provider's account sees in a bucket (bounded); an error is recorded, not raised."""
    from botocore.exceptions import ClientError

    try:
        r = scanner.list_objects_v2(Bucket=bucket, MaxKeys=MAX_KEYS)
    except ClientError as e:
        return {"error": f"the endpoint's account cannot list {bucket}: {e.response.get('Error', {}).get('Code')}"}
    return [o["Key"] for o in r.get("Contents") or []][:MAX_KEYS]


def probe(scanner: Any, canary: Any, tenant: str, buckets: tuple[tuple[str, str | None, str], ...]) -> dict[str, Any]:
    own = [b for b, owner, _ in buckets if owner == tenant]
    control = [dict(_try(canary.list_objects_v2, Bucket=b, MaxKeys=1), bucket=b, call="ListObjectsV2") for b in own]
    if not control or not all(c["allowed"] for c in control):
        refused = [f"{c['bucket']}: {c['reason']} (HTTP {c['code']})" for c in control if not c["allowed"]]
        raise ObservationError(
            f"the canary's key cannot list its own tenant's buckets ({'; '.join(refused) or 'none declared'}): "
            "a key that reads nothing proves nothing about isolation"
        )
    attempts = [dict(_try(canary.list_buckets), bucket=None, key=None, whose="account", role=None, how="ListBuckets")]
    names: dict[str, Any] = {}
    for bucket, owner, role in buckets:
        if owner == tenant:
            continue
        whose = f"tenant {owner}" if owner else "provider"
        attempts.append(
            dict(
                _try(canary.list_objects_v2, Bucket=bucket, MaxKeys=1),
                bucket=bucket,
                key=None,
                whose=whose,
                role=role,
                how="ListObjectsV2",
            )
        )
        keys = names[bucket] = listed_keys(scanner, bucket)
        for key in keys if isinstance(keys, list) else ():
            attempts.append(
                dict(
                    _try(canary.get_object, Bucket=bucket, Key=key, Range="bytes=0-0"),
                    bucket=bucket,
                    key=key,
                    whose=whose,
                    role=role,
                    how="GetObject by key",
                )
            )
    for a in attempts:
        a["path"] = "/".join(x for x in (a["bucket"], a["key"]) if x) or "(all buckets)"
    return {"control": control, "attempts": attempts, "keys_listed_by_scanner": names}


def collect(target: Any, facts: tuple[str, ...], timeout: float, hosts: dict[str, Any]) -> tuple:
    from dataclasses import replace

    from preuve.observe.reveal import reveal, tool
    from preuve.observe.storage import s3
    from preuve.observe.storage.s3 import endpoint_of as _s3_endpoint_of

    k, ep = target.spec.item, target.spec.endpoint
    endpoint = _s3_endpoint_of(ep)
    scanner = s3.client(endpoint, timeout)
    mine = replace(
        endpoint,
        access_key=reveal(k.access_key, f"access key of tenant canary {k.name}"),
        secret_key=reveal(k.secret_key, f"secret key of tenant canary {k.name}"),
    )
    canary = s3.client(mine, timeout, pool=4)
    query = {
        "endpoint": ep.url,
        "tenant": k.tenant,
        "access_key": k.access_key.model_dump(exclude_none=True),
        "buckets": [{"bucket": b, "owner": o, "role": r} for b, o, r in target.spec.buckets],
        "calls": "canary: ListObjectsV2 on its own buckets (control), ListBuckets, per foreign bucket ListObjectsV2 "
        "and GetObject bytes=0-0 of keys the endpoint's account listed",
    }
    found = probe(scanner, canary, k.tenant, target.spec.buckets)
    found["tenant"] = k.tenant
    return query, found, {"attempts": len(found["attempts"])}, tool("boto3")


COLLECTOR = Collector(
    name="s3_tenant_canary",
    collect=collect,
    limit=4,
    fixtures=(
        Fixture(
            "s3_tenant_canary",
            "s3_tenant_canary",
            doc="what a customer's S3 key reads: its own buckets (control), the provider's and other customers' "
            "(ListBuckets, ListObjectsV2, GetObject of keys the endpoint's account listed)",
        ),
    ),
    preload=("boto3",),
)
