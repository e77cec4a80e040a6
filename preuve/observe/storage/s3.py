"""S3 bucket facts through boto3: region, replication, default encryption, versioning, object lock, policy.

Read-only (Head/Get calls only). Every call is bounded (botocore connect/read timeouts, two attempts); an endpoint
that is down, a bucket that is missing or a call that is denied raises ObservationError, so the checks are
`error`, never `pass`. Only the documented "not configured" answers (no encryption, no policy, no replication,
no object lock) are facts.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    from preuve.inputs.targets import Target


# "Not configured" answers: a fact (None), not an error.
NOT_CONFIGURED = {
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchBucketPolicy",
    "ReplicationConfigurationNotFoundError",
    "ObjectLockConfigurationNotFoundError",
}
KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d*:(key|alias)/.+$")
_clients: dict[tuple, Any] = {}
_unreachable: dict[str, tuple[float, str]] = {}  # plain-HTTP URL -> (when, connection-level refusal)
_lock = threading.Lock()


@dataclass(frozen=True)
class Endpoint:
    url: str
    signing_region: str
    access_key: str
    secret_key: str
    ca_file: str | None = None


def client(ep: Endpoint, timeout: float, pool: int = 64) -> Any:
    """One boto3 client per endpoint and credentials (clients are thread-safe; creating one costs ~50 ms)."""
    key = (ep, timeout, pool)
    with _lock:
        if key not in _clients:
            import boto3
            from botocore.config import Config

            _clients[key] = boto3.session.Session().client(
                "s3",
                endpoint_url=ep.url,
                region_name=ep.signing_region,
                aws_access_key_id=ep.access_key,
                aws_secret_access_key=ep.secret_key,
                verify=ep.ca_file if ep.ca_file else True,
                config=Config(
                    connect_timeout=timeout,
                    read_timeout=timeout,
                    retries={"max_attempts": 2, "mode": "standard"},
                    max_pool_connections=pool,
                    s3={"addressing_style": "path"},
                ),
            )
        return _clients[key]


def _call(fn: Any, what: str, **kw: Any) -> dict | None:
    """One S3 call; None for a "not configured" answer, ObservationError for anything else that fails."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(**kw)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        if code in NOT_CONFIGURED:
            return None
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        reason = {"403": "access denied", "404": "not found"}.get(code, err.get("Message") or code)
        raise ObservationError(f"{what}: {reason} (HTTP {status}, {code})") from None
    except BotoCoreError as exc:
        raise ObservationError(f"{what}: {type(exc).__name__}: {exc}") from None


class BucketAbsent(Exception):
    """HeadBucket answered 404: the endpoint says there is no such bucket (observed absence, not a failure)."""


def bucket_region(s3: Any, bucket: str) -> tuple[str, str]:
    """Region from HeadBucket (x-amz-bucket-region), else GetBucketLocation normalised; and which one said it."""
    from botocore.exceptions import ClientError

    from preuve.location import normalise_s3_location

    try:
        head = s3.head_bucket(Bucket=bucket) or {}
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404 or exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
            raise BucketAbsent(f"HeadBucket {bucket}: HTTP 404, no such bucket on this endpoint") from None
        head = _call(s3.head_bucket, f"HeadBucket {bucket}", Bucket=bucket) or {}  # the error, worded as usual
    region = head.get("BucketRegion") or head.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get(
        "x-amz-bucket-region"
    )
    if region:
        return region, "HeadBucket"
    loc = _call(s3.get_bucket_location, f"GetBucketLocation {bucket}", Bucket=bucket) or {}
    return normalise_s3_location(loc.get("LocationConstraint")), "GetBucketLocation"


def kms_key_region(key_id: str | None, bucket_region: str) -> tuple[str | None, str]:
    """A KMS key ARN names its region; a bare key id or alias is resolved in the bucket's own region."""
    if not key_id:
        return None, "none"
    m = KMS_ARN.match(key_id)
    if m:
        return m.group("region"), "key ARN"
    return bucket_region, "bare key id (bucket region)"


def encryption(s3: Any, bucket: str) -> dict[str, Any]:
    enc = _call(s3.get_bucket_encryption, f"GetBucketEncryption {bucket}", Bucket=bucket)
    if enc is None:
        return {"algorithm": None, "kms_key": None}
    rules = enc.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    return {"algorithm": default.get("SSEAlgorithm"), "kms_key": default.get("KMSMasterKeyID")}


def collect_bucket(
    s3: Any,
    bucket: str,
    with_backup: bool,
    parts: tuple[str, ...] = ("location", "protection"),
    endpoint: Endpoint | None = None,
    timeout: float = 5.0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Facts of one bucket, by part (only the calls the selected checks need), and the raw answers. With the
    endpoint, `protection` also says how the scanner itself reached the bucket and what plain HTTP gets."""
    raw: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    try:
        region, source = bucket_region(s3, bucket)
    except BucketAbsent as exc:  # every selected part says so: the checks fail, quoting the endpoint's answer
        return {part: {"bucket": bucket, "absent": str(exc)} for part in parts}, {"absent": str(exc)}
    enc = encryption(s3, bucket)
    key_region, key_source = kms_key_region(enc["kms_key"], region)
    encryption_facts = {**enc, "kms_key_region": key_region, "kms_key_region_source": key_source}
    if "location" in parts:
        repl = _call(s3.get_bucket_replication, f"GetBucketReplication {bucket}", Bucket=bucket)
        destinations = []
        for rule in (repl or {}).get("ReplicationConfiguration", {}).get("Rules", []):
            name = rule.get("Destination", {}).get("Bucket", "").split(":::")[-1]
            try:
                dest_region, _ = bucket_region(s3, name)
            except BucketAbsent:
                dest_region = f"none: destination bucket {name} does not exist"
            destinations.append({"bucket": name, "region": dest_region, "status": rule.get("Status")})
        facts["location"] = {
            "bucket": bucket,
            "region": region,
            "region_source": source,
            "encryption": encryption_facts,
            "replication": destinations,
        }
        raw["replication"] = (repl or {}).get("ReplicationConfiguration")
    if "protection" in parts:
        pol = _call(s3.get_bucket_policy, f"GetBucketPolicy {bucket}", Bucket=bucket)
        prot: dict[str, Any] = {
            "bucket": bucket,
            "region": region,
            "encryption": encryption_facts,
            "policy": json.loads(pol["Policy"]) if pol else None,
            "versioning": None,
            "object_lock": None,
        }
        if with_backup:
            ver = _call(s3.get_bucket_versioning, f"GetBucketVersioning {bucket}", Bucket=bucket) or {}
            prot["versioning"] = ver.get("Status") or "Never enabled"
            lock = _call(s3.get_object_lock_configuration, f"GetObjectLockConfiguration {bucket}", Bucket=bucket)
            conf = (lock or {}).get("ObjectLockConfiguration", {})
            prot["object_lock"] = {
                "enabled": conf.get("ObjectLockEnabled") == "Enabled",
                "default_retention": conf.get("Rule", {}).get("DefaultRetention"),
            }
        if endpoint is not None:
            prot["transport"] = {
                "scanner_url": endpoint.url,
                "scanner_scheme": urlsplit(endpoint.url).scheme,
                "plain_http": plain_http_probe(endpoint, bucket, timeout),
            }
        facts["protection"] = prot
        raw["policy"] = pol.get("Policy") if pol else None
    return facts, raw


def plain_http_urls(url: str) -> list[str]:
    """Where a plain-HTTP request for this endpoint goes: the endpoint itself when it is http://; for https, the
    standard port 80 of the same host, and the endpoint's own port when it is not 443 (an S3-compatible server
    listening on one port for both)."""
    parts = urlsplit(url)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    if parts.scheme == "http":
        return [f"http://{host}:{parts.port or 80}"]
    out = [f"http://{host}:80"]
    if parts.port not in (None, 443, 80):
        out.append(f"http://{host}:{parts.port}")
    return out


def plain_http_probe(ep: Endpoint, bucket: str, timeout: float) -> list[dict[str, Any]]:
    """One signed GetBucketLocation of `bucket` over plain HTTP to each of `plain_http_urls`, once, no retry:
    accepted (2xx) or refused (an S3 error such as the policy's 403 AccessDenied, a refused, reset or silent
    connection, a TLS port answering with an HTTP error). The request carries the access key id and a SigV4
    signature valid for that one read, never the secret key."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    out = []
    for url in plain_http_urls(ep.url):
        with _lock:
            known = _unreachable.get(url)
        if known is not None and time.monotonic() - known[0] < 60.0:  # same port, same run: not asked again
            out.append({"url": url, "accepted": False, "answer": known[1]})  # the same words: runs compare
            continue
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=url,
            region_name=ep.signing_region,
            aws_access_key_id=ep.access_key,
            aws_secret_access_key=ep.secret_key,
            config=Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": 1},
                s3={"addressing_style": "path"},
            ),
        )
        try:
            answer = client.get_bucket_location(Bucket=bucket)
            status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode")
            out.append({"url": url, "accepted": True, "answer": f"HTTP {status}: answered over plain HTTP"})
        except ClientError as exc:
            err = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            out.append(
                {
                    "url": url,
                    "accepted": False,
                    "answer": f"refused: HTTP {status} {err.get('Code', '')} {err.get('Message', '')}".strip(),
                }
            )
        except BotoCoreError as exc:  # refused, reset, closed or silent connection: nothing served in clear
            # botocore quotes the request URL (endpoint/bucket?location): the refusal is the port's, whichever
            # bucket asked first, so the message names the endpoint alone (the same words every run).
            said = re.sub(re.escape(url) + r"/[^\"\s]*", url, str(exc))
            answer = f"refused: {type(exc).__name__}: {said}"
            with _lock:  # a port that does not speak HTTP does so for every bucket: a silent one costs one timeout
                _unreachable[url] = (time.monotonic(), answer)
            out.append({"url": url, "accepted": False, "answer": answer})
    return out


def collect_endpoint(
    s3: Any, host: str, buckets: list[tuple[str, str | None]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Where the endpoint resolves to (with the IP registry's country, a second signal) and the default
    encryption key of each declared bucket with its owner (for one key per customer)."""
    import socket

    from preuve.location import ip_country

    try:
        addresses = sorted({i[4][0] for i in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
    except OSError as exc:
        raise ObservationError(f"cannot resolve {host}: {exc}") from None
    keys = {}  # no bucket declared on this endpoint: its location is still judged, its keys are not applicable
    for name, owner in buckets:
        try:
            enc = encryption(s3, name)
        except ObservationError as exc:
            if "HTTP 404" not in str(exc):
                raise
            enc = {"algorithm": "none (no such bucket on this endpoint)", "kms_key": None}
        keys[name] = {"owner": owner, **enc}
    facts = {
        "host": host,
        "addresses": addresses,
        "ip_countries": {a: ip_country(a) for a in addresses},
        "bucket_keys": keys,
    }
    return facts, {"addresses": addresses}


def endpoint_of(ep: Any) -> Endpoint:
    """The Endpoint of an inventory S3 endpoint, its keys revealed (and registered with the redactor)."""
    from preuve.observe.reveal import reveal

    return Endpoint(
        url=ep.url.rstrip("/"),
        signing_region=ep.region,
        access_key=reveal(ep.access_key, f"access key of endpoint {ep.name}"),
        secret_key=reveal(ep.secret_key, f"secret key of endpoint {ep.name}"),
        ca_file=ep.ca_file,
    )


def client_of(ep: Any, timeout: float) -> Any:
    """A boto3 client for an inventory S3 endpoint."""

    return client(endpoint_of(ep), timeout)


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:

    from preuve.observe.reveal import tool

    bucket, ep = target.spec.item, target.spec.endpoint
    backup = bucket.role == "backup"
    parts = tuple(sorted(facts)) or ("location", "protection")
    calls = ["HeadBucket", "GetBucketEncryption"]
    if "location" in parts:
        calls += ["GetBucketReplication", "HeadBucket (each destination)"]
    if "protection" in parts:
        calls += ["GetBucketPolicy"] + (["GetBucketVersioning", "GetObjectLockConfiguration"] if backup else [])
        calls += [f"GetBucketLocation over plain HTTP ({u})" for u in plain_http_urls(ep.url.rstrip("/"))]
    query = {"endpoint": ep.url, "bucket": bucket.name, "facts": list(parts), "calls": calls}
    endpoint = endpoint_of(ep)
    found, raw = collect_bucket(client(endpoint, timeout), bucket.name, backup, parts, endpoint, timeout)
    sites = dict(target.spec.site_countries)
    for part in found.values():
        part.update(
            provider=ep.provider,
            role=bucket.role,
            owner=bucket.owner,
            endpoint=ep.name,
            site=ep.site,
            site_country=sites.get(ep.site) if ep.site else None,
        )
    return query, found, raw, tool("boto3")


COLLECTOR = Collector(
    "s3_bucket",
    _collect,
    limit=32,
    fixtures=(
        Fixture(
            "s3_bucket",
            "s3_bucket",
            "location",
            doc="S3 bucket location: region (HeadBucket), replication destinations' regions, encryption key",
        ),
        Fixture(
            "s3_protection",
            "s3_bucket",
            "protection",
            doc="S3 bucket protection: default encryption, bucket policy, versioning and object lock (backups)",
        ),
    ),
    preload=("boto3", "botocore.config", "botocore.exceptions"),
)
