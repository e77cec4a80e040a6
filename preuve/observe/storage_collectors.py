"""Adapters from storage targets (S3 buckets and endpoints, backup repositories) to their collectors.

They resolve secret references (registered with the redactor at once), build the query recorded as evidence,
and hand plain values to preuve/observe/storage/s3.py and preuve/observe/backup/repository.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from preuve import __version__
from preuve.inputs.targets import Target
from preuve.observe.errors import ObservationError
from preuve.observe.reveal import reveal, tool

Outcome = tuple[dict[str, Any], dict[str, Any], Any, str]


def _s3_endpoint_of(ep: Any) -> Any:
    from preuve.observe.storage import s3

    return s3.Endpoint(
        url=ep.url.rstrip("/"),
        signing_region=ep.region,
        access_key=reveal(ep.access_key, f"access key of endpoint {ep.name}"),
        secret_key=reveal(ep.secret_key, f"secret key of endpoint {ep.name}"),
        ca_file=ep.ca_file,
    )


def _s3_client(ep: Any, timeout: float) -> Any:
    from preuve.observe.storage import s3

    return s3.client(_s3_endpoint_of(ep), timeout)


def _s3_bucket(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.storage import s3

    bucket, ep = target.spec.item, target.spec.endpoint
    backup = bucket.role == "backup"
    parts = tuple(sorted(facts)) or ("location", "protection")
    calls = ["HeadBucket", "GetBucketEncryption"]
    if "location" in parts:
        calls += ["GetBucketReplication", "HeadBucket (each destination)"]
    if "protection" in parts:
        calls += ["GetBucketPolicy"] + (["GetBucketVersioning", "GetObjectLockConfiguration"] if backup else [])
        calls += [f"GetBucketLocation over plain HTTP ({u})" for u in s3.plain_http_urls(ep.url.rstrip("/"))]
    query = {"endpoint": ep.url, "bucket": bucket.name, "facts": list(parts), "calls": calls}
    endpoint = _s3_endpoint_of(ep)
    found, raw = s3.collect_bucket(s3.client(endpoint, timeout), bucket.name, backup, parts, endpoint, timeout)
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


def _s3_endpoint(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.storage import s3

    ep = target.spec.item
    sites = dict(target.spec.site_countries)
    buckets = [(b.name, b.owner) for b in target.spec.buckets]
    query = {"endpoint": ep.url, "resolve": target.address, "calls": ["GetBucketEncryption (each bucket)"]}
    found, raw = s3.collect_endpoint(_s3_client(ep, timeout), target.address, buckets)
    found.update(provider=ep.provider, url=ep.url, site=ep.site, site_country=sites.get(ep.site) if ep.site else None)
    return query, found, raw, tool("boto3") + " + iptocc"


def _backup(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.backup import repository as backup
    from preuve.observe.profile_params import current

    repo = target.spec.item
    sites = dict(target.spec.site_countries)
    params = current().backup
    secret = reveal(repo.password, f"password of repository {repo.name}") if repo.password else None
    backend_env = tuple((k, reveal(v, f"{k} of repository {repo.name}")) for k, v in sorted(repo.backend_env.items()))
    job = backup.Job(
        tool=repo.tool,
        repository=repo.repository,
        password=secret,
        password_file=repo.password.file if repo.password is not None else None,
        canary=(repo.canary.path, repo.canary.sha256) if repo.canary else None,
        scratch_dir=repo.scratch_dir,
        sample_size=params.drill_sample_size,
        data_check_fraction=params.data_check_fraction,
        data_check_seconds=params.data_check_seconds,
        timeout=max(timeout * 20, 60.0),
        backend_env=backend_env,
    )
    remote = None
    if repo.host is not None:
        from preuve.observe.collectors import ssh_target

        if repo.host not in hosts or hosts[repo.host].access is None:
            raise ObservationError(f"host {repo.host} has no SSH access in the inventory: cannot run {repo.tool} there")
        remote = ssh_target(hosts[repo.host], hosts)
    found, raw, query = backup.collect(job, remote)
    found["site"] = {"name": repo.site, "country": sites.get(repo.site)}
    found["primary_site"] = {"name": repo.primary_site, "country": sites.get(repo.primary_site)}
    return query, found, raw, f"preuve {__version__} + {found['tool_version']}"


Collector = Callable[[Target, tuple[str, ...], float, dict[str, Target]], Outcome]
STORAGE_COLLECTORS: dict[str, Collector] = {
    "s3_bucket": _s3_bucket,
    "s3_endpoint": _s3_endpoint,
    "backup": _backup,
}
