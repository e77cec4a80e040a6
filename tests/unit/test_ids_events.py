"""IDS-EVENTS-RECENT on the Loki query_range answers of the lab's store (a recorded real eve.json line, from the
Wazuh documentation's Suricata lab, re-timestamped: see preuve_lab.ids_events), served over real HTTPS on loopback:
the uplink sensor's event of 2 minutes ago passes; the partner sensor, silent for 3 days, fails; an interconnection
without a sensor fails as an absence; a selector matching nothing is a silence, never a pass."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from checks.detection.check_ids import check_ids_events
from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.observe.logs.ids_events import sensor_newest
from preuve.observe.logs.stores import Http
from preuve_lab import ids_events


@pytest.fixture(scope="module")
def loki():
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            status, ctype, body = (
                ids_events.query_range(query) if path == "/loki/api/v1/query_range" else (404, "", b"")
            )
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Http(f"http://127.0.0.1:{server.server_address[1]}", 5.0, None)
    server.shutdown()


def _judge(sensors: dict) -> Judge:
    judge = Judge()
    check_ids_events({"kind": "internet", "sensors": sensors}, Params(), judge)
    return judge


def test_recent_sensor_passes_and_keeps_no_payload(loki):
    s = sensor_newest(loki, '{job="suricata", host="ids-uplink"}')
    assert s["event_type"] == "alert" and 1 <= s["age_minutes"] <= 3
    assert "testmyids" not in str(s) and "31.3.245.133" not in str(s)  # the line itself is never kept
    assert not _judge({"ids-uplink": s}).failed


def test_silent_sensor_fails_quoting_its_age(loki):
    s = sensor_newest(loki, '{job="suricata", host="ids-partner"}')
    assert s["age_minutes"] > 60 * 24 * 2
    failed = _judge({"ids-partner": s}).failed
    assert failed and failed[0].offending == ["ids-partner"] and failed[0].limit == ["at_most", 60.0]


def test_no_entry_is_a_silence_and_no_sensor_an_absence(loki):
    s = sensor_newest(loki, '{job="suricata", host="ids-nowhere"}')
    assert s == {"newest": None}
    assert _judge({"ids-nowhere": s}).failed
    assert _judge({}).failed[0].observed.startswith("absent")
