"""Judging starts as observations are recorded (preuve.run.observation.Sweep, preuve.run.direct.as_observed):
a pair is never judged before every observation it reads is recorded, pairs recorded together keep collection
order, a sweep that ends early hands over the rest (they then read what there is: nothing, so `error`), and a
recorded observation is waited for whatever the judging order (verdict.recorded's wait). A live run judges alike
both ways (it fails when neither the order nor the wait holds a pair back until its observation is recorded)."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from preuve.run.direct import as_observed
from preuve.run.observation import Sweep


def _sweep(*keys: tuple[str, str]) -> Sweep:
    """A sweep over these (collector, target) observations, not started: the test records them itself."""
    requests = [SimpleNamespace(collector=c, target=SimpleNamespace(name=t)) for c, t in keys]
    return Sweep(SimpleNamespace(), requests)  # type: ignore[arg-type]


def _record(sweep: Sweep, key: tuple[str, str]) -> None:
    sweep._record(SimpleNamespace(collector=key[0], target=key[1]))  # type: ignore[arg-type]


ITEMS: dict[str, list[tuple[str, str]]] = {  # collection order: item -> what it reads
    "tls-a/check1": [("tls", "a")],
    "tls-b/check1": [("tls", "b")],
    "both/check2": [("tls", "a"), ("ssh_host", "a")],
    "nothing/check3": [],
    "tls-a/check4": [("tls", "a")],
    "unplanned/check5": [("tls", "zz")],  # not in the sweep (its twin was planned): read at once, then `error`
}


def _judged_as(sweep: Sweep, recording: list[tuple[str, str]], end_early: bool = False) -> list[tuple[str, Any]]:
    """Consume as_observed while another thread records `recording`; for each item, what was recorded then."""
    seen: list[tuple[str, Any]] = []

    def recorder() -> None:
        for key in recording:
            time.sleep(0.02)
            _record(sweep, key)
        if end_early or len(recording) == len(sweep.keys):
            sweep._end()

    thread = threading.Thread(target=recorder)
    thread.start()
    for item in as_observed(list(ITEMS), sweep, keys_of=ITEMS.__getitem__):
        seen.append((item, set(sweep.recorded)))
    thread.join()
    return seen


def test_a_pair_is_judged_only_once_what_it_reads_is_recorded() -> None:
    sweep = _sweep(("tls", "a"), ("tls", "b"), ("ssh_host", "a"))
    seen = _judged_as(sweep, [("tls", "b"), ("tls", "a"), ("ssh_host", "a")])
    assert sorted(item for item, _ in seen) == sorted(ITEMS)  # every item, once
    for item, recorded in seen:
        planned = {k for k in ITEMS[item] if k in sweep.keys}
        assert planned <= recorded, f"{item} judged before {planned - recorded} was recorded"
    order = [item for item, _ in seen]
    # nothing to wait for first (collection order among them), then as recorded: b, then a's, then both
    assert order[:2] == ["nothing/check3", "unplanned/check5"]
    assert order[2] == "tls-b/check1"
    assert order[3:5] == ["tls-a/check1", "tls-a/check4"]  # recorded together: collection order
    assert order[5] == "both/check2"


def test_a_sweep_that_ends_early_hands_over_the_rest_in_collection_order() -> None:
    sweep = _sweep(("tls", "a"), ("tls", "b"), ("ssh_host", "a"))
    seen = _judged_as(sweep, [("tls", "a")], end_early=True)  # b and ssh_host never recorded (stopped)
    order = [item for item, _ in seen]
    assert order[:4] == ["nothing/check3", "unplanned/check5", "tls-a/check1", "tls-a/check4"]
    assert order[4:] == ["tls-b/check1", "both/check2"]  # after the end, as collected; they read nothing
    assert sweep.over


def test_wait_returns_once_recorded_and_at_once_for_what_was_not_planned() -> None:
    sweep = _sweep(("tls", "a"))
    started = time.monotonic()
    sweep.wait(("tls", "not-planned"))
    assert time.monotonic() - started < 0.05
    timer = threading.Timer(0.2, _record, (sweep, ("tls", "a")))
    timer.start()
    sweep.wait(("tls", "a"))
    assert ("tls", "a") in sweep.recorded and time.monotonic() - started >= 0.19
    timer.join()


def test_wait_returns_when_the_sweep_ends_without_the_observation() -> None:
    sweep = _sweep(("tls", "a"))
    timer = threading.Timer(0.1, sweep._end)
    timer.start()
    sweep.wait(("tls", "a"))  # returns: the store then has nothing, and the pair is `error`
    assert sweep.over and ("tls", "a") not in sweep.recorded
    timer.join()


def test_a_live_run_judges_alike_while_observing_and_through_pytests_protocol(tmp_path: Path) -> None:
    """Three loopback TLS servers (ECDSA, RSA 2048 and a silent port), scanned twice: the direct loop judging each
    pair as its observation is recorded, and pytest's own protocol in collection order (each pair's evidence lookup
    waiting for it). Same verdicts, same messages, every pair judged once; the silent one is `error`, not `pass`."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from preuve.exitcodes import Exit
    from tests.conftest import FULL_PROFILE, preuve
    from tests.support.tls_servers import make_self_signed, silent_server, threaded_server

    def tls_server(name: str, key: Any) -> Any:
        cert = make_self_signed(tmp_path, name, key, hashes.SHA256(), days=90)  # far from any threshold
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert.cert, cert.key)

        def handle(raw: socket.socket) -> None:
            with contextlib.suppress(OSError, ssl.SSLError), ctx.wrap_socket(raw, server_side=True) as conn:
                conn.settimeout(5)
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

        return threaded_server(handle)

    verdicts = {}
    with (
        tls_server("ec", ec.generate_private_key(ec.SECP256R1())) as ec_port,
        tls_server("rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048)) as rsa_port,
        silent_server() as silent,
    ):
        inv = tmp_path / "inventory.yaml"
        inv.write_text(
            "version: 1\nname: t\ntls_endpoints:\n"
            + "".join(
                f"  - {{name: {n}, address: 127.0.0.1, port: {p}, sni: localhost, http: true}}\n"
                for n, p in (("ec", ec_port), ("rsa", rsa_port), ("silent", silent))
            )
        )
        for mode, env in (("direct", {}), ("protocol", {"PREUVE_JUDGE_PROTOCOL": "pytest"})):
            out = tmp_path / mode
            proc = preuve(
                "run", "-i", inv, "-p", FULL_PROFILE, "-o", out, "-q", "--select", "TLS-*", "--timeout", "2", env=env
            )
            assert proc.returncode in (Exit.NON_COMPLIANT, Exit.INCOMPLETE), proc.stdout + proc.stderr
            rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
            verdicts[mode] = {(r["check_id"], r["target"]["name"]): _verdict(r) for r in rows}
            assert len(verdicts[mode]) == len(rows)  # each pair once
    assert verdicts["direct"] == verdicts["protocol"]
    targets = {t for _, t in verdicts["direct"]}
    assert targets == {"ec", "rsa", "silent"}
    assert {s for (_, t), (s, _) in verdicts["direct"].items() if t == "silent"} == {"error"}
    assert {s for (_, t), (s, _) in verdicts["direct"].items() if t != "silent"} & {"pass", "fail"}


def _verdict(row: dict) -> tuple[str, Any]:
    """Status and message; for the validity check the status only: its message counts the days left from the run's
    own instant, which two runs a few seconds apart can see on either side of a day."""
    if row["check_id"] == "TLS-CERT-VALIDITY":
        return row["status"], None
    return row["status"], row["message"]
