"""Faults of a fleet sweep: SIGINT/SIGTERM mid-run, a tarpit, targets vanishing mid-run, atomic evidence writes,
and no file-descriptor growth with fleet size. Real sshd fleet (`preuve lab up --hosts N`), real signals."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from preuve.exitcodes import Exit
from tests.conftest import FULL_PROFILE, REPO, preuve, scan

pytestmark = pytest.mark.lab
FLEET = 60  # every test of this module uses the same fleet size, so the fleet is started once
TARPIT = "198.18.2.250"  # outside the fleet's 198.18.2.100-249


@pytest.fixture(scope="module")
def fleet(lab):
    """`preuve lab up --hosts 60`, through the command line as users run it."""
    proc = preuve("lab", "up", "--hosts", FLEET, timeout=180)
    assert proc.returncode == 0 and f"fleet: {FLEET} sshd hosts" in proc.stdout, proc.stdout + proc.stderr
    yield _fleet()
    from preuve_lab import LabPaths
    from preuve_lab import fleet as fleet_mod

    # the fleet's addresses would be undeclared live hosts to every later scan of pv-prod (NET-UNDECLARED-HOSTS)
    fleet_mod.stop(LabPaths.current())


def test_fleet_inventory_is_valid_and_matches_the_running_fleet(fleet, tmp_path):
    proc = preuve("lab", "inventory", "--hosts", FLEET)
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "inv.yaml").write_text(proc.stdout)
    assert preuve("lint", "-i", tmp_path / "inv.yaml", "-p", FULL_PROFILE).returncode == 0
    inv = yaml.safe_load(proc.stdout)
    assert inv == yaml.safe_load(Path(fleet["inventory"]).read_text())
    endpoints = {(h["address"], h["ssh"]["port"]) for h in inv["hosts"]}
    assert len(endpoints) == FLEET, "one sshd per host, each on its own address:port"


def _fleet():
    from preuve_lab import fleet as fleet_mod

    return fleet_mod.up(FLEET)


def _start_run(out: Path, *extra: str) -> subprocess.Popen:
    inv = _fleet()["inventory"]
    argv = [
        sys.executable,
        "-m",
        "preuve",
        "run",
        "-i",
        inv,
        "-p",
        str(FULL_PROFILE),
        "-o",
        str(out),
        "-q",
        "--select",
        "SSH-*",
        *extra,
    ]
    return subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_observations(out: Path, count: int, proc: subprocess.Popen, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while len(list((out / "observations").glob("*/*.json"))) < count:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "no observation recorded in time"
        time.sleep(0.02)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_run_writes_valid_partial_reports(fleet, tmp_path, sig):
    out = tmp_path / "run"
    proc = _start_run(out, "--concurrency", "2")
    _wait_observations(out, 6, proc)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == Exit.INCOMPLETE, stderr
    run = json.loads((out / "run.json").read_text())
    assert run["interrupted"] is True and run["exit_code"] == Exit.INCOMPLETE
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    hosts = {r["target"]["name"] for r in results}
    assert len(hosts) == FLEET, "every target is reported, judged or not"
    interrupted = [r for r in results if "interrupted" in r["message"]["en"]]
    assert interrupted and all(r["status"] == "error" for r in interrupted)
    assert {r["status"] for r in results} <= {"pass", "error"}
    verify = preuve("verify", out)  # the manifest covers exactly what was written, and says judging did not finish
    assert verify.returncode == Exit.INTEGRITY and "did not finish judging" in verify.stderr, verify.stderr
    assert "files: every file matches MANIFEST.sha256" in verify.stdout
    assert run["judging"]["complete"] is False and "interrupted" in run["judging"]["reason"]
    suite = ET.parse(out / "junit.xml").getroot()
    assert len(suite.findall(".//testcase")) == len(results)


def test_tarpit_is_cut_by_its_timeout(lab, tmp_path):
    """A server that accepts TCP then never speaks: error after the timeout, the run goes on."""
    from preuve_lab.procs import port_answers

    subprocess.run(["ip", "-n", "pv-prod", "address", "replace", f"{TARPIT}/24", "dev", "eth0"], check=True)
    code = (
        "import socket,time\n"
        f"s=socket.create_server(('{TARPIT}',22));held=[]\n"
        "end=time.monotonic()+120\n"
        "s.settimeout(1)\n"
        "while time.monotonic()<end:\n"
        "  try: held.append(s.accept()[0])\n"
        "  except OSError: pass\n"
    )
    tarpit = subprocess.Popen(["ip", "netns", "exec", "pv-prod", sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10
        while not port_answers(TARPIT, 22):
            assert time.monotonic() < deadline, "tarpit did not start"
            time.sleep(0.1)
        lab_inv = yaml.safe_load((REPO / "inventories" / "lab.yaml").read_text())
        inv = {k: lab_inv[k] for k in ("version", "name", "scanner", "defaults", "sites", "zones")}
        inv["defaults"]["timeout"] = 2
        good = next(h for h in lab_inv["hosts"] if h["name"] == "ssh-good")
        inv["hosts"] = [{"name": "tarpit", "address": TARPIT, "zone": "production"}, good]
        path = tmp_path / "inventory.yaml"
        path.write_text(yaml.safe_dump(inv, sort_keys=False))
        t0 = time.monotonic()
        run = scan(tmp_path / "run", "--select", "SSH-*", inventory=path)
        elapsed = time.monotonic() - t0
    finally:
        tarpit.kill()
        tarpit.wait(timeout=10)
        subprocess.run(["ip", "-n", "pv-prod", "address", "del", f"{TARPIT}/24", "dev", "eth0"], check=False)
    assert run.code == Exit.INCOMPLETE, run.proc.stderr
    pit = [r for r in run.results if r["target"]["name"] == "tarpit"]
    assert pit and {r["status"] for r in pit} == {"error"}
    assert all("timeout" in r["message"]["en"].lower() or "timed out" in r["message"]["en"].lower() for r in pit), {
        r["message"]["en"] for r in pit
    }
    good = [r for r in run.results if r["target"]["name"] != "tarpit"]
    assert good and {r["status"] for r in good} == {"pass"}, "the other host is judged normally"
    for obs in (run.out / "observations").glob("*/tarpit.json"):
        assert json.loads(obs.read_text())["duration_ms"] < 3 * 2000 + 1000
    assert elapsed < 30, f"a 2 s timeout must not stall the sweep ({elapsed:.1f} s)"


def test_targets_vanishing_mid_run_become_errors_without_stalling(fleet, tmp_path):
    """The last hosts' addresses disappear from pv-prod while the sweep runs (the host is gone from the network)."""
    from preuve_lab import fleet as fleet_mod

    gone = [fleet_mod.endpoint(i)[0] for i in range(FLEET - 8, FLEET)]
    gone_names = {fleet_mod.host_name(i) for i in range(FLEET - 8, FLEET)}
    out = tmp_path / "run"
    t0 = time.monotonic()
    proc = _start_run(out, "--concurrency", "4", "--timeout", "1")
    try:
        _wait_observations(out, 8, proc)
        cut = dt.datetime.now(dt.UTC)
        batch = "\n".join(f"address del {a}/24 dev eth0" for a in gone) + "\n"
        subprocess.run(["ip", "-n", "pv-prod", "-batch", "-"], input=batch, text=True, check=True)
        _, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
        batch = "\n".join(f"address replace {a}/24 dev eth0" for a in gone) + "\n"
        subprocess.run(["ip", "-n", "pv-prod", "-batch", "-"], input=batch, text=True, check=False)
    elapsed = time.monotonic() - t0
    assert proc.returncode == Exit.INCOMPLETE, stderr
    late = []
    for path in (out / "observations").glob("*/*.json"):
        obs = json.loads(path.read_text())
        started = dt.datetime.fromisoformat(obs["started_at"].replace("Z", "+00:00"))
        if obs["target"] in gone_names and started > cut + dt.timedelta(seconds=0.2):
            late.append(obs)
    assert late and not any(o["ok"] for o in late), "a vanished host is never judged on fresh evidence"
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {r["status"] for r in results if r["target"]["name"] not in gone_names} == {"pass"}
    assert {r["status"] for r in results if r["target"]["name"] in gone_names} <= {"pass", "error"}
    assert elapsed < 60, f"vanished hosts must not stall the sweep ({elapsed:.1f} s)"


def test_evidence_files_are_written_atomically(tmp_path):
    """A writer killed in the middle of write_atomic leaves the previous file intact, never half a file."""
    path = tmp_path / "observations" / "ssh_host" / "web-1.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"old":true}\n')
    code = (
        "import sys\nfrom pathlib import Path\nfrom preuve.evidence.canonical import write_atomic\n"
        "write_atomic(Path(sys.argv[1]), b'x' * (512 << 20))\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=REPO)
    deadline = time.monotonic() + 20
    while not list(path.parent.glob(".web-1.json.*")):  # the temporary file exists: the write is under way
        assert time.monotonic() < deadline and writer.poll() is None
        time.sleep(0.005)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=10)
    assert path.read_bytes() == b'{"old":true}\n'
    leftovers = list(path.parent.glob(".web-1.json.*"))
    assert leftovers, "the partial data went to a dot-file, which manifests and loaders ignore"
    from preuve.evidence.canonical import write_atomic

    write_atomic(path, b'{"new":true}\n')
    assert path.read_bytes() == b'{"new":true}\n'


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_no_file_descriptor_growth_with_fleet_size(fleet, tmp_path):
    """In-process sweeps of 20 then 60 hosts: descriptors in use peak with concurrency, not fleet size, and every
    transport and socket is closed at the end."""
    from preuve.evidence.store import EvidenceStore
    from preuve.inputs.inventory import load_inventory
    from preuve.inputs.targets import targets
    from preuve.observe.engine import Request, observe
    from preuve.observe.ssh import host as ssh_host
    from preuve_lab import enter

    inv, _ = load_inventory(fleet["inventory"])
    hosts = targets(inv)["host"]
    peaks = {}
    for n in (20, FLEET):
        ssh_host.forget()
        reqs = [Request("ssh_host", t, ("sshd_config",)) for t in hosts[:n]]
        reqs += [Request("ssh_protocol", t) for t in targets(inv)["ssh_endpoint"][:n]]
        store = EvidenceStore(tmp_path / str(n))
        before, peak = _fds(), [0]

        def sample(_obs, peak=peak):
            peak[0] = max(peak[0], _fds())

        with enter("pv-admin"):
            observe(reqs, store, timeout=5, concurrency=8, hosts={t.name: t for t in hosts}, on_done=sample)
        time.sleep(0.3)  # paramiko's transport threads finish closing
        assert all(o.ok for o, _ in (store.get(r.collector, r.target.name) for r in reqs))
        assert _fds() - before <= 2, f"{_fds() - before} descriptors left open after {n} hosts"
        peaks[n] = peak[0] - before
    # In flight at once: 8 observations, each at most a socket plus ssh-keyscan's pipes. Not a function of fleet size.
    assert max(peaks.values()) <= 8 * 4 + 8, f"peak descriptors in use: {peaks}"
