"""Retention settings of central log stores, read from their own APIs (GET only; an S3 store through boto3).

- S3: GetBucketLifecycleConfiguration (no configuration is a fact: nothing expires), GetBucketVersioning,
  GetObjectLockConfiguration;
- Loki: `GET /config` (running configuration, YAML) and `GET /runtime_config` (per-tenant overrides, YAML);
- Elasticsearch: `GET <patterns>/_ilm/explain`, then `GET _ilm/policy/<name>` for each policy in use;
- OpenSearch: `GET _plugins/_ism/explain/<patterns>`, then `GET _plugins/_ism/policies/<id>` for each policy.

Every request is bounded by the run's timeout; a refusal, an HTTP error or an unparsable answer raises
ObservationError, so the check is `error`, never `pass`. Credentials come by reference and are redacted.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    from preuve.inputs.targets import Target

LOKI_LIMITS = ("retention_period", "retention_stream")


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


# --- S3 -------------------------------------------------------------------------------------------------------


def collect_s3(s3: Any, bucket: str, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from botocore.exceptions import BotoCoreError, ClientError

    from preuve.observe.storage.s3 import _call

    try:
        lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code != "NoSuchLifecycleConfiguration":
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise ObservationError(f"GetBucketLifecycleConfiguration {bucket}: {code} (HTTP {status})") from None
        lifecycle = None
    except BotoCoreError as exc:
        raise ObservationError(f"GetBucketLifecycleConfiguration {bucket}: {type(exc).__name__}: {exc}") from None
    versioning = _call(s3.get_bucket_versioning, f"GetBucketVersioning {bucket}", Bucket=bucket) or {}
    lock = _call(s3.get_object_lock_configuration, f"GetObjectLockConfiguration {bucket}", Bucket=bucket)
    rules = _json_safe(lifecycle.get("Rules", [])) if lifecycle is not None else None
    conf = (lock or {}).get("ObjectLockConfiguration", {})
    facts = {
        "kind": "s3",
        "bucket": bucket,
        "prefix": prefix,
        "lifecycle_rules": rules,
        "versioning": versioning.get("Status") or "Never enabled",
        "object_lock": {
            "enabled": conf.get("ObjectLockEnabled") == "Enabled",
            "default_retention": conf.get("Rule", {}).get("DefaultRetention"),
        }
        if lock
        else None,
    }
    return facts, {"lifecycle": rules, "versioning": versioning.get("Status"), "object_lock": conf or None}


# --- HTTP stores ----------------------------------------------------------------------------------------------


class Http:
    """GETs against one store: bounded, verified with the store's CA, authenticated as the inventory says."""

    def __init__(
        self,
        base: str,
        timeout: float,
        ca_file: str | None,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base, self.timeout, self.verify = base.rstrip("/"), timeout, ca_file or True
        self.auth, self.headers = auth, headers or {}

    def get(self, path: str) -> Any:
        import requests

        try:
            r = requests.get(
                self.base + path,
                timeout=self.timeout,
                verify=self.verify,
                auth=self.auth,
                headers=self.headers,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise ObservationError(f"GET {path}: {type(exc).__name__}: {exc}") from None
        if r.status_code != 200:
            reason = {401: "unauthenticated", 403: "access denied", 404: "not found"}.get(r.status_code, r.reason)
            raise ObservationError(f"GET {path}: HTTP {r.status_code} ({reason})")
        return r

    def json(self, path: str) -> Any:
        try:
            return self.get(path).json()
        except ValueError:
            raise ObservationError(f"GET {path}: the answer is not JSON") from None

    def yaml(self, path: str) -> Any:
        import yaml

        try:
            data = yaml.safe_load(self.get(path).text)
        except yaml.YAMLError:
            raise ObservationError(f"GET {path}: the answer is not YAML") from None
        if not isinstance(data, dict):
            raise ObservationError(f"GET {path}: expected a YAML mapping")
        return data


def collect_loki(http: Http, tenant: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    config = http.yaml("/config")
    runtime = http.yaml("/runtime_config")
    if "limits_config" not in config or "compactor" not in config:
        raise ObservationError("GET /config: no limits_config or compactor section (not a Loki configuration?)")
    compactor = {k: v for k, v in (config.get("compactor") or {}).items() if k.startswith("retention")}
    table = {k: v for k, v in (config.get("table_manager") or {}).items() if k.startswith("retention")}
    limits = {k: v for k, v in (config.get("limits_config") or {}).items() if k in LOKI_LIMITS}
    overrides = {
        str(t): {k: v for k, v in (o or {}).items() if k in LOKI_LIMITS}
        for t, o in (runtime.get("overrides") or {}).items()
    }
    facts = {
        "kind": "loki",
        "tenant": tenant,
        "config": {"compactor": compactor, "limits_config": limits, "table_manager": table},
        "overrides": overrides,
    }
    return facts, {"config": config, "runtime_config": runtime}


def collect_elasticsearch(http: Http, indices: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    explain = http.json(f"/{','.join(indices)}/_ilm/explain").get("indices") or {}
    used = sorted({e["policy"] for e in explain.values() if e.get("managed") and e.get("policy")})
    policies: dict[str, Any] = {}
    for name in used:
        policies.update(http.json(f"/_ilm/policy/{name}"))
    slim = {i: {k: e.get(k) for k in ("managed", "policy", "phase", "age")} for i, e in explain.items()}
    facts = {
        "kind": "elasticsearch",
        "indices": indices,
        "explain": slim,
        "policies": {n: {"policy": (p.get("policy") or {})} for n, p in policies.items()},
    }
    return facts, {"explain": explain, "policies": policies}


ISM_POLICY_KEY = "index.plugins.index_state_management.policy_id"


def collect_opensearch(http: Http, indices: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    explain = http.json(f"/_plugins/_ism/explain/{','.join(indices)}")
    per_index = {i: e for i, e in explain.items() if isinstance(e, dict)}
    used = sorted({e.get(ISM_POLICY_KEY) or e.get("policy_id") for e in per_index.values()} - {None})
    policies = [http.json(f"/_plugins/_ism/policies/{pid}") for pid in used]
    slim = {
        i: {ISM_POLICY_KEY: e.get(ISM_POLICY_KEY) or e.get("policy_id"), "enabled": e.get("enabled")}
        for i, e in per_index.items()
    }
    facts = {
        "kind": "opensearch",
        "indices": indices,
        "explain": slim,
        "policies": [{"_id": p.get("_id"), "policy": p.get("policy") or {}} for p in policies],
    }
    return facts, {"explain": explain, "policies": policies}


# --- the collector ---------------------------------------------------------------------------------------------

CALLS = {
    "s3": ["GetBucketLifecycleConfiguration", "GetBucketVersioning", "GetObjectLockConfiguration"],
    "loki": ["GET /config", "GET /runtime_config"],
    "elasticsearch": ["GET <indices>/_ilm/explain", "GET _ilm/policy/<each policy in use>"],
    "opensearch": ["GET _plugins/_ism/explain/<indices>", "GET _plugins/_ism/policies/<each policy in use>"],
}


def collect_target(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    """Observe one `log_store` target: (query, facts, raw, tool)."""
    from preuve.observe.reveal import reveal, tool

    st, ep = target.spec.item, target.spec.endpoint
    query: dict[str, Any] = {"kind": st.kind, "calls": CALLS[st.kind], "method": "read-only"}
    if st.kind == "s3":
        from preuve.observe.storage.s3 import client_of

        query.update(endpoint=ep.url, bucket=st.bucket, prefix=st.prefix)
        found, raw = collect_s3(client_of(ep, timeout), st.bucket, st.prefix)
        return query, found, raw, tool("boto3")
    auth = (st.user, reveal(st.password, f"password of log store {st.name}")) if st.user else None
    headers = {}
    if st.api_key is not None:
        headers["Authorization"] = "ApiKey " + reveal(st.api_key, f"API key of log store {st.name}")
    if st.kind == "loki" and st.tenant:
        headers["X-Scope-OrgID"] = st.tenant
    query.update(
        url=st.url,
        ca_file=st.ca_file,
        user=st.user,
        tenant=st.tenant,
        indices=st.indices,
        password=st.password.model_dump(exclude_none=True) if st.password else None,
        api_key=st.api_key.model_dump(exclude_none=True) if st.api_key else None,
    )
    http = Http(st.url, timeout, st.ca_file, auth, headers)
    if st.kind == "loki":
        found, raw = collect_loki(http, st.tenant)
    elif st.kind == "elasticsearch":
        found, raw = collect_elasticsearch(http, st.indices)
    else:
        found, raw = collect_opensearch(http, st.indices)
    found["url"] = st.url
    return query, found, raw, tool("requests")


COLLECTOR = Collector(
    "log_store",
    collect_target,
    limit=8,
    fixtures=(
        Fixture(
            "log_store",
            "log_store",
            doc="central log store retention: S3 lifecycle, Loki /config + /runtime_config, ILM or ISM policies",
        ),
    ),
    preload=("preuve.observe.logs.stores", "requests", "yaml", "boto3", "botocore.exceptions"),
)
