"""What the lab's central Loki holds from its IDS sensors (IDS-EVENTS-RECENT, 13.3.a).

Suricata (and Zeek) have no installation candidate in this machine's Debian 12 sources, so no sensor runs:
the stand-in serves, in Loki's `query_range` answer format (https://grafana.com/docs/loki/latest/reference/
loki-http-api/#query-logs-within-a-range-of-time), one REAL eve.json line per sensor, re-timestamped. The line is
the output of `tail -n1 /var/log/suricata/eve.json` on a Suricata 6 agent, as printed in the Wazuh documentation
("Learning Wazuh: Suricata", wazuh/wazuh-documentation, source/learning-wazuh/suricata.rst); only its `timestamp`
is rewritten to the event's lab time. Sensors: `ids-uplink` (Internet uplink, an event 2 minutes ago) and
`ids-partner` (partner link, last event 3 days ago: silent since).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qs

RECORDED_EVE_ALERT = (
    '{"timestamp":"2022-01-11T18:57:14.198005+0000","flow_id":1154611008869142,"in_iface":"eth0",'
    '"event_type":"alert","src_ip":"10.0.2.15","src_port":59010,"dest_ip":"31.3.245.133","dest_port":80,'
    '"proto":"TCP","tx_id":0,"alert":{"action":"allowed","gid":1,"signature_id":2013028,"rev":6,'
    '"signature":"ET POLICY curl User-Agent Outbound","category":"Attempted Information Leak","severity":2,'
    '"metadata":{"created_at":["2011_06_14"],"updated_at":["2021_12_01"]}},"http":{"hostname":"testmyids.com",'
    '"url":"/","http_user_agent":"curl/7.61.1","http_content_type":"text/html","http_method":"GET",'
    '"protocol":"HTTP/1.1","status":301,"redirect":"https://testmyids.com/","length":169},"app_proto":"http",'
    '"flow":{"pkts_toserver":4,"pkts_toclient":3,"bytes_toserver":313,"bytes_toclient":540,'
    '"start":"2022-01-11T18:57:13.561942+0000"}}'
)
SENSORS: dict[str, dt.timedelta] = {"ids-uplink": dt.timedelta(minutes=2), "ids-partner": dt.timedelta(days=3)}
MATCHER = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')


def eve_line(at: dt.datetime) -> str:
    """The recorded line with its timestamp set to `at` (Suricata's format: microseconds, +0000)."""
    doc = json.loads(RECORDED_EVE_ALERT)
    doc["timestamp"] = at.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    return json.dumps(doc, separators=(",", ":"))


def query_range(raw_query: str, now: dt.datetime | None = None) -> tuple[int, str, bytes]:
    """Loki's answer to `GET /loki/api/v1/query_range`: equality matchers only, newest first, within [start, end]."""
    now = now or dt.datetime.now(dt.UTC)
    q = {k: v[0] for k, v in parse_qs(raw_query).items()}
    wanted = dict(MATCHER.findall(q.get("query", "")))
    if not wanted:
        body = b"parse error : queries require at least one regexp or equality matcher"
        return 400, "text/plain; charset=utf-8", body
    start, end = int(q.get("start", "0")), int(q.get("end", str(int(now.timestamp() * 1e9))))
    result: list[dict[str, Any]] = []
    for sensor, ago in SENSORS.items():
        labels = {"job": "suricata", "host": sensor, "sensor": sensor, "filename": "/var/log/suricata/eve.json"}
        if any(labels.get(k) != v for k, v in wanted.items()):
            continue
        at = now - ago
        ts = int(at.timestamp() * 1e9)
        if start <= ts <= end:
            result.append({"stream": labels, "values": [[str(ts), eve_line(at)]]})
    body = {"status": "success", "data": {"resultType": "streams", "result": result, "stats": {}}}
    return 200, "application/json", json.dumps(body).encode()
