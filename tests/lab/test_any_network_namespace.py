"""`scanner.netns` and vantage `netns` take any existing network namespace; a missing one is an input error.

Before the fix only lab-style names (`pv-*`) could be entered: `preuve lint` said the inputs were valid, then
the run died with INTERNALERROR. Here a namespace with a name the lab would never use is created (and removed),
a scripted SSH server listens on its own loopback, and a real `preuve run` scans it from inside. No lab needed.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from preuve.exitcodes import Exit
from tests.conftest import preuve, scan
from tests.support.sshd_servers import kexinit_packet, scripted_server

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


@pytest.fixture
def foreign_ns():
    name = f"h3scan{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


def _inventory(tmp_path, **sections) -> str:
    data = {"version": 1, "name": "netns-test", **sections}
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_scan_runs_inside_any_existing_namespace(foreign_ns, tmp_path):
    from preuve.observe.network.netns import enter

    algorithms = [
        ["curve25519-sha256"],
        ["ssh-ed25519"],
        ["aes256-gcm@openssh.com"],
        ["aes256-gcm@openssh.com"],
        ["hmac-sha2-512-etm@openssh.com"],
        ["hmac-sha2-512-etm@openssh.com"],
        ["none"],
        ["none"],
        [],
        [],
    ]
    payload = b"SSH-2.0-Scripted_1.0\r\n" + kexinit_packet(algorithms)
    with enter(foreign_ns), scripted_server(payload) as port:  # on the namespace's own loopback only
        inv = _inventory(
            tmp_path,
            scanner={"netns": foreign_ns},
            ssh_endpoints=[{"name": "inside", "address": "127.0.0.1", "port": port}],
        )
        lint = preuve("lint", "-i", inv)
        assert lint.returncode == Exit.COMPLIANT, lint.stderr
        run = scan(tmp_path / "run", "--select", "SSH-PROTOCOL", inventory=inv)
    assert "INTERNALERROR" not in run.proc.stderr + run.proc.stdout, run.proc.stderr[-2000:]
    r = run.result("SSH-PROTOCOL", "inside")
    assert r["status"] == "pass", r["message"]  # the banner was read: the scan really ran inside the namespace
    assert "2.0" in r["message"]["en"]


@pytest.mark.parametrize("where", ["scanner", "vantage"])
def test_missing_namespace_is_an_input_error_with_its_line(tmp_path, where):
    missing = f"h3-missing-{os.getpid()}"
    sections = {"zones": [{"name": "adm", "kind": "admin", "cidrs": ["198.18.1.0/24"]}]}
    if where == "scanner":
        sections["scanner"] = {"netns": missing}
    else:
        sections["vantage_points"] = [{"name": "v1", "zone": "adm", "netns": missing}]
    inv = _inventory(tmp_path, **sections)
    lines = inv.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if missing in text)
    field = "scanner.netns" if where == "scanner" else "vantage_points[0].netns"
    for proc in (preuve("lint", "-i", inv), scan(tmp_path / "run", inventory=inv).proc):
        assert proc.returncode == Exit.INVALID_INPUT, (proc.returncode, proc.stderr[-2000:])
        assert f"{inv}:{line}: {field}: network namespace {missing!r} does not exist" in proc.stderr, proc.stderr
    assert not (tmp_path / "run" / "results.jsonl").exists()  # nothing was scanned


def test_vantage_probes_run_inside_any_existing_namespace(foreign_ns):
    """The segmentation engine enters a vantage namespace not named like the lab's (before: ValueError)."""
    import socket

    from preuve.inputs.flows import Probing
    from preuve.observe.network.netns import enter
    from preuve.observe.network.segmentation import Probe, probe_in_netns

    with enter(foreign_ns):  # a listener on the namespace's own loopback, unseen from the host's
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(4)
    port = server.getsockname()[1]
    try:
        probes = [
            Probe(1, "127.0.0.1", "lo", "x", "tcp", port, "open", None, None),
            Probe(2, "127.0.0.1", "lo", "x", "tcp", 9, "closed", None, None),
        ]
        found, _ = probe_in_netns(foreign_ns, probes, Probing(timeout=1.0, retries=0))
    finally:
        server.close()
    assert found[1]["state"] == "open" and found[2]["state"] == "closed", found


def test_the_engine_imports_nothing_from_the_lab():
    """Entering a namespace, observing and judging never import preuve_lab (the lab is a separate part)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "preuve"
    offenders = []
    for package in ("observe", "judge", "inputs", "evidence", "results"):
        for f in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(f.read_text())):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [f"{node.module}"]
                    if isinstance(node, ast.ImportFrom) and node.module
                    else []
                )
                if isinstance(node, ast.ImportFrom) and node.module == "preuve":
                    names = [f"preuve.{a.name}" for a in node.names]
                offenders += [f"{f.relative_to(root)}: {n}" for n in names if n.startswith("preuve_lab")]
    assert offenders == []
