"""How long a central log store keeps logs, decided from the configuration its own API returns (12.6.c).

Pure functions (no I/O): the check calls them on recorded facts, so an offline re-judge applies the same logic.
Each store yields `Scope`s: one part of the logs (an S3 rule's prefix, a Loki tenant or stream selector, the
indices under one ILM/ISM policy) with the days it is kept, `None` meaning unbounded (nothing deletes it), and
how that was decided. Every scope is judged: the shortest one is what an auditor can rely on.

Semantics followed (documentation of each product):
- S3 lifecycle (docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html): only `Enabled` rules
  whose filter overlaps the log prefix count; `Expiration.Days` deletes (unversioned) or makes the current version
  noncurrent (versioned: kept `NoncurrentVersionExpiration.NoncurrentDays` more); `Expiration.Date` deletes
  every object on that date whatever its age; transitions change the storage class only.
- Loki (grafana.com/docs/loki/latest/operations/storage/retention/): nothing is deleted unless
  `compactor.retention_enabled`; then `limits_config.retention_period` (0 disables it, Loki >= 2.8),
  `retention_stream` rules and per-tenant overrides (runtime config) all apply; legacy table manager retention
  deletes when `table_manager.retention_deletes_enabled`.
- Elasticsearch ILM (elastic.co/guide/en/elasticsearch/reference/current/ilm-index-lifecycle.html): an index is
  deleted when its policy's `delete` phase (with a `delete` action) is reached, `min_age` after rollover or
  creation; an unmanaged index or a policy without delete phase keeps data.
- OpenSearch ISM (opensearch.org/docs/latest/im-plugin/ism/policies/): states linked by transitions whose
  conditions are `min_index_age` / `min_rollover_age` (time), `min_doc_count` / `min_size` / `cron` (no time
  bound); the earliest age at which a state holding a `delete` action can be entered is the retention.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from preuve.observe.errors import ObservationError

DAY = 86400.0


@dataclass(frozen=True)
class Scope:
    scope: str  # which logs: "prefix logs/", "tenant acme", "policy logs-30d (3 indices)"
    days: float | None  # None: unbounded, nothing deletes these logs
    how: str  # the setting that decides, in the product's own words

    def describe(self) -> str:
        kept = "unbounded" if self.days is None else f"{self.days:g} d"
        return f"{kept} ({self.how})"


_PROM = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_PROM_SECONDS = {"y": 365 * DAY, "w": 7 * DAY, "d": DAY, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def prom_duration_days(text: str) -> float:
    """Loki durations (Prometheus model.Duration: `744h`, `1y2w`, `0s`) in days."""
    s = str(text).strip()
    if s == "0":
        return 0.0
    if not s or _PROM.sub("", s) != "":
        raise ObservationError(f"not a Loki duration: {text!r}")
    return round(sum(int(n) * _PROM_SECONDS[u] for n, u in _PROM.findall(s)) / DAY, 3)


_ES = re.compile(r"^(\d+(?:\.\d+)?)(d|h|m|s|ms|micros|nanos)$")
_ES_SECONDS = {"d": DAY, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "micros": 1e-6, "nanos": 1e-9}


def es_time_days(text: str | None) -> float:
    """Elasticsearch/OpenSearch time units (`30d`, `0ms`, `12h`) in days; a missing min_age is 0."""
    if text is None:
        return 0.0
    m = _ES.match(str(text).strip())
    if not m:
        raise ObservationError(f"not an Elasticsearch time value: {text!r}")
    return round(float(m.group(1)) * _ES_SECONDS[m.group(2)] / DAY, 3)


# --- S3 lifecycle ---------------------------------------------------------------------------------------------


def rule_prefix(rule: dict[str, Any]) -> str:
    f = rule.get("Filter")
    if isinstance(f, dict):
        return f.get("Prefix") or (f.get("And") or {}).get("Prefix") or ""
    return rule.get("Prefix") or ""  # legacy rule-level prefix


def _filter_text(rule: dict[str, Any]) -> str:
    f = rule.get("Filter") or {}
    parts = [f"prefix {rule_prefix(rule)!r}"]
    tags = ([f["Tag"]] if "Tag" in f else []) + (f.get("And") or {}).get("Tags", [])
    parts += [f"tag {t.get('Key')}={t.get('Value')}" for t in tags]
    for key in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        value = f.get(key, (f.get("And") or {}).get(key))
        if value is not None:
            parts.append(f"{key} {value}")
    return ", ".join(parts)


def _lock_text(lock: dict[str, Any] | None) -> str:
    """Object Lock's default retention: a floor under which versions cannot be deleted (reported, not judged)."""
    default = (lock or {}).get("default_retention") or {}
    if not (lock or {}).get("enabled") or not default:
        return ""
    span = f"{default['Days']} d" if "Days" in default else f"{default.get('Years')} y"
    return f"; object lock {default.get('Mode')} {span} by default"


def s3_scopes(
    rules: list[dict[str, Any]] | None, prefix: str, versioning: str | None, lock: dict[str, Any] | None = None
) -> list[Scope]:
    """Lifecycle rules of a log bucket judged for the objects under `prefix` (tag and size filters narrow a rule
    to part of the logs: that part still loses them, so such rules count)."""
    locked = _lock_text(lock)
    where = f"prefix {prefix!r}" if prefix else "whole bucket"
    relevant = [
        r
        for r in rules or []
        if r.get("Status") == "Enabled" and (prefix.startswith(rule_prefix(r)) or rule_prefix(r).startswith(prefix))
    ]
    versioned = versioning == "Enabled"
    noncurrent = [
        r["NoncurrentVersionExpiration"]["NoncurrentDays"]
        for r in relevant
        if (r.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays") is not None
    ]
    out = []
    for r in relevant:
        exp = r.get("Expiration") or {}
        moves = [f"{t.get('StorageClass')} at {t.get('Days')} d" for t in r.get("Transitions") or []]
        moved = (f"; transitions {', '.join(moves)} keep the data" if moves else "") + locked
        label = f"rule {r.get('ID') or '(no id)'} ({_filter_text(r)})"
        if exp.get("Date") is not None:
            date = exp["Date"] if isinstance(exp["Date"], str) else exp["Date"].isoformat()
            out.append(Scope(label, 0.0, f"Expiration.Date {date[:10]} deletes every object then, whatever its age"))
        elif exp.get("Days") is not None:
            days = float(exp["Days"])
            if not versioned:
                out.append(Scope(label, days, f"Expiration.Days {exp['Days']}{moved}"))
            elif noncurrent:
                total = days + min(noncurrent)
                out.append(
                    Scope(
                        label,
                        total,
                        f"versioned: Expiration.Days {exp['Days']} + "
                        f"NoncurrentVersionExpiration {min(noncurrent)} d{moved}",
                    )
                )
            else:
                out.append(
                    Scope(
                        label,
                        None,
                        f"versioned: Expiration.Days {exp['Days']} only makes versions "
                        f"noncurrent and no NoncurrentVersionExpiration removes them{moved}",
                    )
                )
    if not out:
        disabled = [r.get("ID") or "(no id)" for r in rules or [] if r.get("Status") != "Enabled"]
        why = "no lifecycle configuration" if not rules else "no enabled lifecycle rule expires these objects"
        if disabled:
            why += f" (disabled rules: {', '.join(disabled)})"
        out.append(Scope(where, None, why + locked))
    return out


# --- Loki --------------------------------------------------------------------------------------------------


def _period(limits: dict[str, Any], default: str | None) -> tuple[float | None, str] | None:
    value = limits.get("retention_period", default)
    if value is None:
        return None
    days = prom_duration_days(value)
    return (days or None), f"retention_period {value}" + (" (0 disables retention)" if not days else "")


def _stream(owner: str, rule: dict[str, Any]) -> Scope:
    period = rule.get("period", "0s")
    return Scope(
        f"{owner}: stream {rule.get('selector')} (priority {rule.get('priority')})",
        prom_duration_days(period) or None,
        f"retention_stream period {period}",
    )


def loki_scopes(config: dict[str, Any], overrides: dict[str, Any], tenant: str | None = None) -> list[Scope]:
    """Loki's running config (`GET /config`) and per-tenant overrides (`GET /runtime_config`), for one tenant or
    every tenant the overrides name."""
    compactor = config.get("compactor") or {}
    table = config.get("table_manager") or {}
    out: list[Scope] = []
    if table.get("retention_deletes_enabled"):
        days = prom_duration_days(table.get("retention_period", "0s"))
        out.append(
            Scope(
                "all streams (table manager)",
                days or None,
                f"table_manager.retention_period {table.get('retention_period')}",
            )
        )
    if not compactor.get("retention_enabled"):
        if not out:
            out.append(Scope("all streams", None, "compactor.retention_enabled is false: Loki deletes nothing"))
        return out
    limits = config.get("limits_config") or {}
    tenants = {t: (o or {}) for t, o in (overrides or {}).items() if tenant is None or t == tenant}
    own_period = tenant is not None and "retention_period" in tenants.get(tenant, {})
    if not own_period:
        days, how = _period(limits, "744h")  # type: ignore[misc]
        who = f"tenant {tenant}" if tenant else "every tenant without override"
        out.append(Scope(f"{who}: limits_config", days, how))
    out += [_stream("global", rule) for rule in limits.get("retention_stream") or []]
    for name, o in sorted(tenants.items()):
        found = _period(o, None)
        if found:
            out.append(Scope(f"tenant {name}: override", found[0], found[1]))
        out += [_stream(f"tenant {name}", rule) for rule in o.get("retention_stream") or []]
    return out


# --- Elasticsearch ILM ----------------------------------------------------------------------------------------


def _grouped(by_policy: dict[str | None, list[str]]) -> list[tuple[str | None, str]]:
    out = []
    for policy, indices in sorted(by_policy.items(), key=lambda kv: str(kv[0])):
        shown = ", ".join(sorted(indices)[:3]) + (", …" if len(indices) > 3 else "")
        out.append((policy, f"{len(indices)} ind{'ex' if len(indices) == 1 else 'ices'}: {shown}"))
    return out


def _per_policy(
    policy_of: dict[str, str | None],
    known: Any,
    engine: str,
    listing: str,
    retention: Callable[[str], tuple[float | None, str]],
) -> list[Scope]:
    """One scope per lifecycle policy in use (and one for the unmanaged indices), each judged by `retention`."""
    if not policy_of:  # the store answered and holds no log index there: no log is kept (absence is a finding)
        return [
            Scope(
                "no index matches the log index patterns",
                0.0,
                f"{engine} answered: the store holds no index under these patterns, so no log is kept there",
            )
        ]
    by_policy: dict[str | None, list[str]] = {}
    for index, policy in policy_of.items():
        by_policy.setdefault(policy, []).append(index)
    out = []
    for policy, shown in _grouped(by_policy):
        if policy is None:
            out.append(Scope(f"unmanaged ({shown})", None, f"not managed by {engine}: nothing deletes these indices"))
        elif policy not in known:
            raise ObservationError(f"{engine} policy {policy!r} used by the log indices is not in {listing}")
        else:
            out.append(Scope(f"policy {policy} ({shown})", *retention(policy)))
    return out


def ilm_scopes(policies: dict[str, Any], explain: dict[str, Any]) -> list[Scope]:
    """`GET _ilm/policy` and `GET <indices>/_ilm/explain` (its `indices` map): retention per policy in use."""

    def retention(policy: str) -> tuple[float | None, str]:
        delete = ((policies[policy].get("policy") or {}).get("phases") or {}).get("delete")
        if delete and "delete" in (delete.get("actions") or {}):
            return (
                es_time_days(delete.get("min_age")),
                f"delete phase min_age {delete.get('min_age', '0ms')} (after rollover or creation)",
            )
        return None, "no delete phase with a delete action: indices are kept"

    policy_of = {index: e.get("policy") if e.get("managed") else None for index, e in explain.items()}
    return _per_policy(policy_of, policies, "ILM", "GET _ilm/policy", retention)


# --- OpenSearch ISM -------------------------------------------------------------------------------------------


def ism_delete_age(policy: dict[str, Any]) -> tuple[float | None, str]:
    """Earliest index age (days) at which a state with a `delete` action can be entered, and the path's reason."""
    states = {s["name"]: s for s in policy.get("states") or []}
    start = policy.get("default_state")
    if start not in states:
        raise ObservationError(f"ISM policy {policy.get('policy_id')!r}: default_state {start!r} is not a state")
    best: dict[str, tuple[float, str]] = {start: (0.0, f"default state {start}")}
    for _ in range(len(states) + 1):  # Bellman-Ford: ages only grow along a path, so this settles
        changed = False
        for name, (age, why) in list(best.items()):
            for t in states[name].get("transitions") or []:
                cond = t.get("conditions") or {}
                if "min_index_age" in cond or "min_rollover_age" in cond:
                    key = "min_index_age" if "min_index_age" in cond else "min_rollover_age"
                    new, how = max(age, es_time_days(cond[key])), f"{key} {cond[key]}"
                else:
                    new, how = age, ("no time condition (" + ", ".join(cond) + ")" if cond else "no condition")
                dest = t.get("state_name")
                if dest in states and (dest not in best or new < best[dest][0]):
                    best[dest], changed = (new, f"{why} -> {dest} on {how}"), True
        if not changed:
            break
    deleting = [
        (age, why) for name, (age, why) in best.items() if any("delete" in a for a in states[name].get("actions") or [])
    ]
    if not deleting:
        return None, "no reachable state deletes the index"
    return min(deleting)


def ism_scopes(policies: list[dict[str, Any]], explain: dict[str, Any]) -> list[Scope]:
    """`GET _plugins/_ism/policies` (its `policies` list) and `GET _plugins/_ism/explain/<indices>`."""
    indices = {k: v for k, v in explain.items() if isinstance(v, dict)}  # drops total_managed_indices
    by_id = {p.get("_id") or (p.get("policy") or {}).get("policy_id"): p.get("policy") or {} for p in policies}
    policy_of = {
        index: e.get("index.plugins.index_state_management.policy_id") or e.get("policy_id")
        for index, e in indices.items()
    }
    return _per_policy(policy_of, by_id, "ISM", "_plugins/_ism/policies", lambda p: ism_delete_age(by_id[p]))


def scopes(facts: dict[str, Any]) -> list[Scope]:
    """The retention scopes of one observed log store, whatever its kind."""
    kind = facts["kind"]
    if kind == "s3":
        return s3_scopes(facts["lifecycle_rules"], facts["prefix"], facts["versioning"], facts.get("object_lock"))
    if kind == "loki":
        return loki_scopes(facts["config"], facts["overrides"], facts.get("tenant"))
    if kind == "elasticsearch":
        return ilm_scopes(facts["policies"], facts["explain"])
    if kind == "opensearch":
        return ism_scopes(facts["policies"], facts["explain"])
    raise ObservationError(f"unknown log store kind {kind!r}")
