"""Are the detection sensors of each interconnection heard by the central store? (13.3.a, 12.9)

For each sensor declared on an interconnection, one Loki query (GET, the store's read-only credentials):
`/loki/api/v1/query_range?query=<its stream selector>&direction=backward&limit=1` over the last LOOKBACK_HOURS,
i.e. the newest entry the store holds for that sensor (Loki HTTP API, "Query logs within a range of time"). The
entry's own timestamp is its arrival in the store's stream; an eve.json line's `timestamp` and `event_type` are
kept too when the line is Suricata EVE JSON. The line itself (addresses, URLs, payloads) is never recorded.
A store that cannot be queried is an error; a sensor with no entry in the window is an observed silence (fail).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture

LOOKBACK_HOURS = 168  # a week: a sensor silent for longer is reported as silent, with no date


def parse_query_range(body: Any, now_ns: int) -> dict[str, Any]:
    """The newest entry of a Loki `streams` answer: its time, its age, and the EVE fields when it is EVE JSON."""
    if not isinstance(body, dict) or body.get("status") != "success":
        raise ObservationError(f"Loki answered no success: {str(body)[:200]}")
    data = body.get("data") or {}
    if data.get("resultType") != "streams":
        raise ObservationError(f"Loki answered resultType {data.get('resultType')!r}, not streams")
    newest: tuple[int, str] | None = None
    for stream in data.get("result") or []:
        for ts, line in stream.get("values") or []:
            if newest is None or int(ts) > newest[0]:
                newest = (int(ts), line)
    if newest is None:
        return {"newest": None}
    ts, line = newest
    out: dict[str, Any] = {
        "newest": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts / 1e9)),
        "age_minutes": round((now_ns - ts) / 6e10, 1),
    }
    try:
        eve = json.loads(line)
    except ValueError:
        eve = None
    if isinstance(eve, dict):
        out.update(event_type=eve.get("event_type"), event_timestamp=eve.get("timestamp"))
    return out


def sensor_newest(http: Any, selector: str, now_ns: int | None = None) -> dict[str, Any]:
    now_ns = now_ns or time.time_ns()
    params = {
        "query": selector,
        "start": str(now_ns - LOOKBACK_HOURS * 3600 * 10**9),
        "end": str(now_ns),
        "limit": "1",
        "direction": "backward",
    }
    path = "/loki/api/v1/query_range?" + urlencode(params)
    return parse_query_range(http.json(path), now_ns)


def collect(target: Any, facts: tuple[str, ...], timeout: float, hosts: dict[str, Any]) -> tuple:
    from preuve.observe.logs.stores import Http
    from preuve.observe.reveal import reveal, tool

    ic, stores = target.spec
    by_name = dict(stores)
    sensors: dict[str, Any] = {}
    for s in ic.sensors:
        st = by_name[s.store]
        auth = (st.user, reveal(st.password, f"password of log store {st.name}")) if st.user else None
        headers = {"X-Scope-OrgID": st.tenant} if st.tenant else {}
        http = Http(st.url, timeout, st.ca_file, auth, headers)
        sensors[s.name] = {
            "engine": s.engine,
            "store": s.store,
            "selector": s.selector,
            **sensor_newest(http, s.selector),
        }
    query = {
        "interconnection": ic.name,
        "kind": ic.kind,
        "sensors": [{"name": s.name, "store": s.store, "selector": s.selector} for s in ic.sensors],
        "calls": f"GET /loki/api/v1/query_range (newest entry of each selector, last {LOOKBACK_HOURS} h)",
    }
    return query, {"kind": ic.kind, "sensors": sensors}, {"sensors": len(sensors)}, tool("requests")


COLLECTOR = Collector(
    name="ids_events",
    collect=collect,
    limit=4,
    fixtures=(
        Fixture(
            "ids_events",
            "interconnection",
            doc="newest event of each IDS sensor of an interconnection in the central log store (Loki)",
        ),
    ),
    preload=("requests",),
)
