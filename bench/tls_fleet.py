"""TLS fleet bench: N endpoints served by one real nginx on 127.0.0.1, scanned in one run by preuve,
nmap --script ssl-enum-ciphers, the sslyze CLI (all targets in one invocation) and sslscan (--targets).

    .venv/bin/python -m bench.tls_fleet --sizes 1 100 500 --runs 5 --json bench/tls_fleet.json

Half the endpoints are "good" (TLS 1.2/1.3, ECDSA, AEAD + ECDHE, HSTS), half "weak" (TLS 1.0-1.2, RSA-1024
SHA-1 certificate, CBC, static RSA, DHE 1024). Each tool runs as a whole process under ``/usr/bin/time -v``
(wall, user + system CPU, peak RSS); preuve's open file descriptors are sampled every 10 ms from /proc.
Findings agreement per endpoint: accepted versions and suites (IANA names) of each peer against preuve's facts.
A benchmark, not a test: nothing asserts on time. Loopback only: nothing else is ever scanned.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml

from preuve_lab import loopback_nginx  # the nginx wrapper the test servers use too

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from support.tls_servers import (  # noqa: E402  (test support: certificates and nginx directives)
    LOOPBACK,
    compliant_directives,
    make_self_signed,
    weak_directives,
    write_dhparam_1024,
)

VENV_BIN = Path(sys.executable).parent
SNI = "localhost"
BASE_PORT = 20000
VERSIONS = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")


# --- the fleet ------------------------------------------------------------------------------------


def start_fleet(root: Path, n: int) -> tuple[subprocess.Popen, list[dict]]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    good = make_self_signed(root, "good", ec.generate_private_key(ec.SECP256R1()), hashes.SHA256(), days=365)
    weak = make_self_signed(
        root, "weak", rsa.generate_private_key(public_exponent=65537, key_size=1024), hashes.SHA1(), days=3650
    )
    dh = write_dhparam_1024(root / "dh1024.pem")
    endpoints, blocks = [], []
    for i in range(n):
        kind = "good" if i % 2 == 0 else "weak"
        cert = good if kind == "good" else weak
        port = BASE_PORT + i
        directives = compliant_directives() if kind == "good" else weak_directives(dh)
        blocks.append(loopback_nginx.server_block(port, cert.cert, cert.key, directives))
        endpoints.append({"name": f"ep-{i:04d}-{kind}", "kind": kind, "port": port})
    conf = loopback_nginx.config(root, blocks, workers=2, connections=8192, log_level="crit")
    proc = loopback_nginx.start(root, conf, [e["port"] for e in endpoints], timeout=20)
    return proc, endpoints


def write_inputs(root: Path, endpoints: list[dict]) -> tuple[Path, Path]:
    lab = yaml.safe_load((REPO / "inventories" / "lab.yaml").read_text())
    inventory = {k: lab[k] for k in ("version", "defaults", "sites", "zones") if k in lab}
    inventory["name"] = f"tls-fleet-{len(endpoints)}"
    inventory["scanner"] = {"zone": lab["scanner"]["zone"]}
    inventory["tls_endpoints"] = [
        {"name": e["name"], "address": LOOPBACK, "port": e["port"], "sni": SNI, "zone": "dmz", "site": "paris-1"}
        for e in endpoints
    ]
    profile = {
        "id": "bench-tls",
        "version": "0.1.0",
        "title": {"fr": "banc TLS", "en": "TLS bench"},
        "select": {"checks": ["TLS-*"]},
    }
    inv, prof = root / "inventory.yaml", root / "profile.yaml"
    inv.write_text(yaml.safe_dump(inventory, sort_keys=False))
    prof.write_text(yaml.safe_dump(profile, sort_keys=False, allow_unicode=True))
    return inv, prof


# --- tools ----------------------------------------------------------------------------------------


def commands(root: Path, endpoints: list[dict], inv: Path, prof: Path, run: int) -> dict[str, tuple[list[str], Path]]:
    out = root / f"run-{run}"
    out.mkdir(exist_ok=True)
    ports = ",".join(str(e["port"]) for e in endpoints)
    targets = root / "targets.txt"
    targets.write_text("".join(f"{SNI}:{e['port']}{{{LOOPBACK}}}\n" for e in endpoints))
    sslscan_targets = root / "sslscan-targets.txt"
    sslscan_targets.write_text("".join(f"{LOOPBACK}:{e['port']}\n" for e in endpoints))
    return {
        "preuve": (
            [str(VENV_BIN / "preuve"), "run", "-i", str(inv), "-p", str(prof), "-o", str(out / "preuve"), "-q"],
            out / "preuve",
        ),
        "nmap": (
            [
                "nmap",
                "-Pn",
                "-n",
                "-sT",
                "--script",
                "ssl-enum-ciphers",
                "-p",
                ports,
                LOOPBACK,
                "-oX",
                str(out / "nmap.xml"),
            ],
            out / "nmap.xml",
        ),
        "sslyze": (
            [str(VENV_BIN / "sslyze"), "--quiet", f"--targets_in={targets}", f"--json_out={out / 'sslyze.json'}"],
            out / "sslyze.json",
        ),
        "sslscan": (
            [
                "sslscan",
                "--no-colour",
                "--no-heartbleed",
                f"--sni-name={SNI}",
                f"--targets={sslscan_targets}",
                f"--xml={out / 'sslscan.xml'}",
            ],
            out / "sslscan.xml",
        ),
    }


def timed(argv: list[str], sample_fds: bool) -> dict:
    """Run under /usr/bin/time -v: wall, CPU (user + system), peak RSS; optionally the peak of open fds."""
    report = Path(tempfile.mktemp(prefix="time-", suffix=".txt"))
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["/usr/bin/time", "-v", "-o", str(report), *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak_fds = 0
    if sample_fds:
        while proc.poll() is None:
            peak_fds = max(peak_fds, _fds_of_children(proc.pid))
            time.sleep(0.01)
    _, stderr = proc.communicate()
    wall = time.perf_counter() - started
    text = report.read_text()
    report.unlink()
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", text).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", text).group(1))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    code = int(re.search(r"Exit status: (\d+)", text).group(1))
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(user + system, 3),
        "peak_rss_mb": round(rss_kb / 1024, 1),
        "exit": code,
        "peak_fds": peak_fds if sample_fds else None,
        "stderr": stderr.decode()[-500:],
    }


def _fds_of_children(pid: int) -> int:
    """Open descriptors of the process /usr/bin/time started (its only child) and of that process's own children
    (preuve's TLS handshake helper), added up."""

    def tree(p: str) -> list[str]:
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            return []
        return [k for c in kids for k in (c, *tree(c))]

    total = 0
    for c in tree(str(pid)):
        with contextlib.suppress(OSError):  # ended meanwhile
            total += len(os.listdir(f"/proc/{c}/fd"))
    return total


# --- findings -------------------------------------------------------------------------------------


def preuve_findings(run_dir: Path, endpoints: list[dict]) -> dict[int, dict]:
    out = {}
    by_name = {e["name"]: e["port"] for e in endpoints}
    for path in (run_dir / "observations" / "tls").glob("*.json"):
        obs = json.loads(path.read_text())
        if obs.get("ok"):
            facts = obs["facts"]
            out[by_name[obs["target"]]] = {v: sorted(s) for v, s in facts["cipher_suites"].items()}
    return out


def nmap_findings(xml_path: Path) -> dict[int, dict]:
    out: dict[int, dict] = {}
    names = {"TLSv1.0": "TLSv1.0", "TLSv1.1": "TLSv1.1", "TLSv1.2": "TLSv1.2", "TLSv1.3": "TLSv1.3", "SSLv3": "SSLv3"}
    for port in ET.parse(xml_path).getroot().iter("port"):
        script = port.find("script[@id='ssl-enum-ciphers']")
        if script is None:
            continue
        found = {}
        for table in script.findall("table"):
            version = names.get(table.get("key"))
            ciphers = table.find("table[@key='ciphers']")
            if version and ciphers is not None:
                found[version] = sorted(
                    t.findtext("elem[@key='name']").replace("TLS_AKE_WITH_", "TLS_") for t in ciphers.findall("table")
                )
        out[int(port.get("portid"))] = found
    return out


def sslyze_findings(json_path: Path) -> dict[int, dict]:
    out = {}
    keys = {
        "ssl_2_0": "SSLv2",
        "ssl_3_0": "SSLv3",
        "tls_1_0": "TLSv1.0",
        "tls_1_1": "TLSv1.1",
        "tls_1_2": "TLSv1.2",
        "tls_1_3": "TLSv1.3",
    }
    for server in json.loads(json_path.read_text())["server_scan_results"]:
        found = {}
        for key, version in keys.items():
            attempt = (server.get("scan_result") or {}).get(f"{key}_cipher_suites") or {}
            accepted = (attempt.get("result") or {}).get("accepted_cipher_suites") or []
            if accepted:
                found[version] = sorted(a["cipher_suite"]["name"] for a in accepted)
        out[int(server["server_location"]["port"])] = found
    return out


def sslscan_findings(xml_path: Path) -> dict[int, dict]:
    from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuitesRepository
    from sslyze.server_connectivity import TlsVersionEnum

    iana = {s.openssl_name: s.name for v in TlsVersionEnum for s in CipherSuitesRepository.get_all_cipher_suites(v)}
    out: dict[int, dict] = {}
    for test in ET.parse(xml_path).getroot().iter("ssltest"):
        found: dict[str, list[str]] = {}
        for cipher in test.findall("cipher"):
            if cipher.get("status") in ("accepted", "preferred"):
                version = cipher.get("sslversion")
                found.setdefault(version, []).append(iana.get(cipher.get("cipher"), cipher.get("cipher")))
        out[int(test.get("port"))] = {v: sorted(s) for v, s in found.items()}
    return out


def agreement(ours: dict[int, dict], theirs: dict[int, dict], endpoints: list[dict]) -> dict:
    """Per endpoint: do the accepted versions and suites match exactly? Lists the endpoints that differ."""
    differ = []
    for e in endpoints:
        a, b = ours.get(e["port"]), theirs.get(e["port"])
        if a is None or b is None or a != b:
            differ.append({"endpoint": e["name"], "preuve": a, "peer": b})
    return {"endpoints": len(endpoints), "agree": len(endpoints) - len(differ), "differ": differ[:3]}


# --- main -----------------------------------------------------------------------------------------


FINDINGS = {"nmap": nmap_findings, "sslyze": sslyze_findings, "sslscan": sslscan_findings}


def bench_size(n: int, runs: int, peer_runs: dict[str, int], tools: list[str]) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"tls-fleet-{n}-"))
    proc, endpoints = start_fleet(root, n)
    inv, prof = write_inputs(root, endpoints)
    samples: dict[str, list[dict]] = {t: [] for t in tools}
    last: dict[str, Path] = {}
    try:
        for run in range(runs):
            cmds = commands(root, endpoints, inv, prof, run)
            for tool in tools:  # interleaved: load drift hits every tool alike
                if run >= peer_runs.get(tool, runs):
                    continue
                argv, output = cmds[tool]
                sample = timed(argv, sample_fds=tool == "preuve")
                samples[tool].append(sample)
                if output.exists():
                    last[tool] = output
                print(
                    f"  n={n} run {run + 1}/{runs} {tool}: {sample['wall_s']} s, {sample['peak_rss_mb']} MB",
                    file=sys.stderr,
                )
        ours = preuve_findings(last["preuve"], endpoints) if "preuve" in last else {}
        result: dict[str, Any] = {"endpoints": n, "tools": {}}
        for tool in tools:
            s = samples[tool]
            entry: dict[str, Any] = {
                "runs": len(s),
                "wall_s": statistics.median(x["wall_s"] for x in s),
                "cpu_s": statistics.median(x["cpu_s"] for x in s),
                "peak_rss_mb": statistics.median(x["peak_rss_mb"] for x in s),
                "walls": [x["wall_s"] for x in s],
                "exits": sorted({x["exit"] for x in s}),
            }
            if tool == "preuve":
                entry["peak_fds"] = max(x["peak_fds"] for x in s)
                entry["in_process_observation_s"] = _observation_span(last["preuve"])
                entry["findings"] = {"endpoints_observed": len(ours)}
            elif tool in last:
                entry["agreement_with_preuve"] = agreement(ours, FINDINGS[tool](last[tool]), endpoints)
            result["tools"][tool] = entry
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _observation_span(run_dir: Path) -> dict:
    """Per-observation durations (duration_ms) and the span from the first start to the last end."""
    import datetime as dt

    obs = [json.loads(p.read_text()) for p in (run_dir / "observations" / "tls").glob("*.json")]
    starts = [dt.datetime.fromisoformat(o["started_at"].replace("Z", "+00:00")) for o in obs]
    ends = [s + dt.timedelta(milliseconds=o["duration_ms"]) for s, o in zip(starts, obs, strict=True)]
    durations = sorted(o["duration_ms"] for o in obs)
    return {
        "span_s": round((max(ends) - min(starts)).total_seconds(), 3),
        "median_ms": statistics.median(durations),
        "max_ms": durations[-1],
    }


def startup(runs: int) -> dict:
    """preuve's start-up with nothing to observe: the interpreter alone, `preuve --help` (CLI imports), and
    `preuve run --select NO-SUCH-*` (imports, pytest start, plugin, collecting every check, empty reports)."""
    root = Path(tempfile.mkdtemp(prefix="tls-fleet-startup-"))
    inv, prof = write_inputs(root, [{"name": "ep-0000-good", "port": BASE_PORT}])
    argvs = {"python -c pass": [sys.executable, "-c", "pass"], "preuve --help": [str(VENV_BIN / "preuve"), "--help"]}
    out = {name: statistics.median(timed(argv, False)["wall_s"] for _ in range(runs)) for name, argv in argvs.items()}
    walls = []
    for i in range(runs):
        argv = [
            str(VENV_BIN / "preuve"),
            "run",
            "-i",
            str(inv),
            "-p",
            str(prof),
            "-o",
            str(root / f"r{i}"),
            "-q",
            "--select",
            "NO-SUCH-*",
        ]
        walls.append(timed(argv, False)["wall_s"])
    out["preuve run, empty selection"] = statistics.median(walls)
    shutil.rmtree(root, ignore_errors=True)
    return out


def compile_bytecode() -> None:
    """Byte-compile preuve and its checks first, as installing a wheel does (pip compiles every module): in a
    working tree under PYTHONDONTWRITEBYTECODE (set in this project's environment) each run would otherwise
    compile every preuve module and check from source again, ~0.25 s the peers (installed with .pyc) never pay."""
    import compileall

    for tree in ("preuve", "checks"):
        compileall.compile_dir(REPO / tree, quiet=2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 500])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tools", nargs="+", default=["preuve", "nmap", "sslyze", "sslscan"])
    parser.add_argument(
        "--peer-runs-above-100",
        type=int,
        default=1,
        help="runs of sslyze and sslscan past 100 endpoints (minutes each)",
    )
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "tls_fleet.json")
    a = parser.parse_args()
    compile_bytecode()
    results = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_before": os.getloadavg(),
        "startup": startup(a.runs),
        "sizes": [],
    }
    for n in a.sizes:
        slow = {"sslyze": a.peer_runs_above_100, "sslscan": a.peer_runs_above_100} if n > 100 else {}
        results["sizes"].append(bench_size(n, a.runs, slow, a.tools))
        a.json.write_text(json.dumps(results, indent=1))
    results["load_after"] = os.getloadavg()
    a.json.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
