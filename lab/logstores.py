"""Stand-ins for Loki, Elasticsearch and OpenSearch: the read-only APIs the LOG-STORE-RETENTION check uses.

None of the three can be installed on the lab machine (no Debian package; each needs a JVM or Go binary and
gigabytes of RAM), so one small stdlib HTTPS server in pv-sup answers their retention endpoints with bodies
shaped as the documented APIs return them, each in a compliant and a non-compliant flavour:

- Loki, `GET /config` and `GET /runtime_config` (YAML): https://grafana.com/docs/loki/latest/reference/loki-http-api/
  and retention semantics https://grafana.com/docs/loki/latest/operations/storage/retention/ — :3100 keeps 185 d
  (and a 1 y audit stream), :3101 keeps 31 d (the 744h default);
- Elasticsearch, `GET <index>/_ilm/explain` and `GET _ilm/policy/<name>`:
  https://www.elastic.co/guide/en/elasticsearch/reference/current/ilm-explain-lifecycle.html and
  .../ilm-get-lifecycle.html — :9200 deletes at 200d, :9201 at 30d;
- OpenSearch ISM, `GET _plugins/_ism/explain/<index>` and `GET _plugins/_ism/policies/<id>`:
  https://opensearch.org/docs/latest/im-plugin/ism/api/ — :9210 deletes at 200d, :9211 at 30d;
- Loki `GET /loki/api/v1/query_range`: the IDS sensors' events (preuve_lab.ids_events, recorded eve.json line).

Elasticsearch and OpenSearch demand basic auth (user `auditor`, password file under keys/), as a secured cluster
does; Loki is reached directly, as behind its gateway. Only GET is served: the scanner has nothing to write.
Run as ``python -m preuve_lab.logstores --state DIR --address A --pid-file F`` inside pv-sup (started by the lab).
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import hmac
import json
import secrets
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from . import https_standin, ids_events
from .paths import LabPaths
from .topology import SERVICES

NAME = "log-stores"
USER = "auditor"
SERVER_NAME = "logs.lab"
PORTS = {"loki-good": 3100, "loki-short": 3101, "es-good": 9200, "es-short": 9201, "os-good": 9210, "os-short": 9211}
DAYS = {"good": "200d", "short": "30d"}


def root(paths: LabPaths) -> Path:
    return paths.root / "logstores"


def password_file(paths: LabPaths) -> Path:
    return paths.keys / "log-stores.password"


def cert_file(paths: LabPaths) -> Path:
    return root(paths) / "cert.pem"


def write(paths: LabPaths) -> None:
    """The read-only account's password (referenced by the inventory) and a self-signed certificate."""
    https_standin.secret_file(password_file(paths), lambda: secrets.token_urlsafe(18))
    https_standin.self_signed(root(paths), SERVER_NAME, SERVICES[NAME].address)


# --- Loki (YAML, as /config dumps durations: model.Duration prints 744h as 31d) ------------------------------

LOKI_CONFIG = """target: all
auth_enabled: true
server:
  http_listen_port: 3100
  grpc_listen_port: 9095
common:
  path_prefix: /loki
  replication_factor: 1
compactor:
  working_directory: /loki/compactor
  compaction_interval: 10m0s
  apply_retention_interval: 0s
  retention_enabled: {enabled}
  retention_delete_delay: 2h0m0s
  retention_delete_worker_count: 150
  delete_request_store: s3
limits_config:
  ingestion_rate_mb: 4
  max_query_lookback: 0s
  retention_period: {period}
  retention_stream:{streams}
  per_tenant_override_config: /etc/loki/overrides.yaml
table_manager:
  retention_deletes_enabled: false
  retention_period: 0s
"""
LOKI = {
    "good": dict(
        enabled="true",
        period="185d",
        streams="\n  - selector: '{job=\"audit\"}'\n    priority: 1\n    period: 1y",
        overrides="overrides:\n  acme:\n    retention_period: 1y\n",
    ),
    "short": dict(enabled="true", period="31d", streams=" []", overrides="overrides: {}\n"),
}


def loki(flavour: str, path: str) -> tuple[int, str, bytes]:
    spec = LOKI[flavour]
    if path == "/config":
        body = LOKI_CONFIG.format(enabled=spec["enabled"], period=spec["period"], streams=spec["streams"])
    elif path == "/runtime_config":
        body = spec["overrides"] + "configs: {}\nmulti_kv_config: null\n"
    elif path == "/ready":
        body = "ready\n"
    else:
        return 404, "text/plain; charset=utf-8", b"404 page not found\n"
    return 200, "text/plain; charset=utf-8", body.encode()


# --- Elasticsearch ILM and OpenSearch ISM ---------------------------------------------------------------------

INDICES = ("logs-2026.11.21", "logs-2026.11.22", "logs-2026.11.23")
UNMANAGED = ".kibana_1"


def _millis(days_ago: float) -> int:
    return int((dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)).timestamp() * 1000)


def ilm_policy(flavour: str) -> tuple[str, dict[str, Any]]:
    name = f"logs-{DAYS[flavour]}"
    return name, {
        "version": 3,
        "modified_date": "2026-10-01T08:00:00.000Z",
        "policy": {
            "phases": {
                "hot": {"min_age": "0ms", "actions": {"rollover": {"max_age": "1d", "max_primary_shard_size": "50gb"}}},
                "warm": {
                    "min_age": "7d",
                    "actions": {"shrink": {"number_of_shards": 1}, "forcemerge": {"max_num_segments": 1}},
                },
                "delete": {"min_age": DAYS[flavour], "actions": {"delete": {"delete_searchable_snapshot": True}}},
            }
        },
        "in_use_by": {"indices": list(INDICES), "data_streams": [], "composable_templates": ["logs"]},
    }


def _matches(patterns: str) -> list[str]:
    wanted = patterns.split(",")
    return [i for i in (*INDICES, UNMANAGED) if any(fnmatch.fnmatchcase(i, p) for p in wanted)]


def _es_error(status: int, kind: str, reason: str) -> tuple[int, str, bytes]:
    body = {
        "error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
        "status": status,
    }
    return status, "application/json", json.dumps(body).encode()


def elasticsearch(flavour: str, path: str) -> tuple[int, str, bytes]:
    name, policy = ilm_policy(flavour)
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[1:] == ["_ilm", "explain"]:
        out = {}
        for i, index in enumerate(_matches(parts[0])):
            if index == UNMANAGED:
                out[index] = {"index": index, "managed": False}
                continue
            age = 2 - i
            out[index] = {
                "index": index,
                "managed": True,
                "policy": name,
                "index_creation_date_millis": _millis(age),
                "time_since_index_creation": f"{age}d",
                "lifecycle_date_millis": _millis(age),
                "age": f"{age}d",
                "phase": "hot",
                "phase_time_millis": _millis(age),
                "action": "rollover",
                "action_time_millis": _millis(age),
                "step": "check-rollover-ready",
                "step_time_millis": _millis(age),
                "phase_execution": {
                    "policy": name,
                    "phase_definition": policy["policy"]["phases"]["hot"],
                    "version": 3,
                    "modified_date_in_millis": _millis(53),
                },
            }
        return 200, "application/json", json.dumps({"indices": out}).encode()
    if parts[:2] == ["_ilm", "policy"]:
        if len(parts) == 2 or parts[2] == name:
            return 200, "application/json", json.dumps({name: policy}).encode()
        return _es_error(404, "resource_not_found_exception", f"Lifecycle policy not found: {parts[2]}")
    return _es_error(400, "illegal_argument_exception", f"no handler found for uri [{path}] and method [GET]")


def ism_policy(flavour: str) -> dict[str, Any]:
    pid = f"logs-ism-{DAYS[flavour]}"
    states = [
        {
            "name": "hot",
            "actions": [
                {"retry": {"count": 3, "backoff": "exponential", "delay": "1m"}, "rollover": {"min_index_age": "1d"}}
            ],
            "transitions": [{"state_name": "warm", "conditions": {"min_index_age": "7d"}}],
        },
        {
            "name": "warm",
            "actions": [
                {
                    "retry": {"count": 3, "backoff": "exponential", "delay": "1m"},
                    "replica_count": {"number_of_replicas": 1},
                }
            ],
            "transitions": [{"state_name": "delete", "conditions": {"min_index_age": DAYS[flavour]}}],
        },
        {
            "name": "delete",
            "actions": [{"retry": {"count": 3, "backoff": "exponential", "delay": "1m"}, "delete": {}}],
            "transitions": [],
        },
    ]
    return {
        "_id": pid,
        "_version": 2,
        "_primary_term": 1,
        "_seq_no": 4,
        "policy": {
            "policy_id": pid,
            "description": "log indices",
            "last_updated_time": _millis(53),
            "schema_version": 17,
            "error_notification": None,
            "default_state": "hot",
            "states": states,
            "ism_template": [{"index_patterns": ["logs-*"], "priority": 100, "last_updated_time": _millis(53)}],
        },
    }


def opensearch(flavour: str, path: str) -> tuple[int, str, bytes]:
    policy = ism_policy(flavour)
    pid = policy["_id"]
    parts = path.strip("/").split("/")
    if parts[:3] == ["_plugins", "_ism", "explain"] and len(parts) == 4:
        out: dict[str, Any] = {}
        for index in _matches(parts[3]):
            managed = index != UNMANAGED
            out[index] = {
                "index.plugins.index_state_management.policy_id": pid if managed else None,
                "index.opendistro.index_state_management.policy_id": pid if managed else None,
            }
            if managed:
                out[index].update(index=index, index_uuid=secrets.token_urlsafe(16), policy_id=pid, enabled=True)
            else:
                out[index]["enabled"] = None
        out["total_managed_indices"] = sum(1 for i in out if i != UNMANAGED)
        return 200, "application/json", json.dumps(out).encode()
    if parts[:3] == ["_plugins", "_ism", "policies"] and len(parts) == 4:
        if parts[3] == pid:
            return 200, "application/json", json.dumps(policy).encode()
        return _es_error(404, "status_exception", "Policy not found")
    return _es_error(400, "illegal_argument_exception", f"no handler found for uri [{path}] and method [GET]")


APIS = {"loki": loki, "es": elasticsearch, "os": opensearch}


def handler(store: str, password: str) -> type[BaseHTTPRequestHandler]:
    api, flavour = store.split("-")
    expected = "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        server_version = "preuve-lab-logstore"

        def log_message(self, *args: object) -> None:  # no access log (it would hold the Authorization header)
            return

        def _send(self, status: int, ctype: str, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if api != "loki" and not hmac.compare_digest(self.headers.get("Authorization", ""), expected):
                status, ctype, body = _es_error(401, "security_exception", "missing authentication credentials")
                self._send(status, ctype, body, {"WWW-Authenticate": 'Basic realm="security" charset="UTF-8"'})
                return
            path, _, query = self.path.partition("?")
            if api == "loki" and path == "/loki/api/v1/query_range":  # the IDS sensors' events (13.3.a)
                self._send(*ids_events.query_range(query))
                return
            self._send(*APIS[api](flavour, path))

    return Handler


def serve(state: Path, address: str, pid_file: Path) -> None:
    paths = LabPaths(state)
    password = password_file(paths).read_text().strip()
    handlers = {port: handler(store, password) for store, port in PORTS.items()}
    https_standin.serve_tls(address, cert_file(paths), root(paths) / "key.pem", handlers, pid_file)


def start(paths: LabPaths) -> None:
    """Start the stand-ins detached inside pv-sup; the lab waits for the first port and the pid file."""
    https_standin.start(paths, NAME, "preuve_lab.logstores")


if __name__ == "__main__":
    sys.exit(https_standin.main(serve, __doc__))
