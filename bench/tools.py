"""The tools compared: their command lines, how to tell a complete run, and what to read back.

Peers always run through :func:`bench.measure.in_admin_netns`; preuve enters the namespace itself
(``scanner.netns`` in the generated inventory, and ``--netns`` on its command line as well).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.inputs import ADMIN_NETNS, Endpoint
from bench.measure import Validator, in_admin_netns

VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Tool:
    """A command line for one endpoint, the output it writes, and how to validate it."""

    name: str
    argv: list[str]
    output: Path
    validate: Validator
    capture_stdout: bool = False
    timeout: float = 60.0
    retries: int = 2  # extra attempts when the lab moved under a run or the scan did not complete


def _bin(name: str) -> str:
    """A console script of this virtualenv (preuve, sslyze, ssh-audit)."""
    path = VENV_BIN / name
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: install {name} into the bench's virtualenv")
    return str(path)


def testssl_bin() -> str | None:
    return shutil.which("testssl") or shutil.which("testssl.sh")


# --- preuve ---------------------------------------------------------------------------------------


def preuve(inventory: Path, profile: Path, out: Path) -> Tool:
    argv = [
        _bin("preuve"),
        "run",
        "-i",
        str(inventory),
        "-p",
        str(profile),
        "-o",
        str(out),
        "-q",
        "--netns",
        ADMIN_NETNS,
    ]
    return Tool("preuve", argv, out, validate_preuve)


def validate_preuve(code: int | None, out: Path) -> str:
    """Exit 0 (compliant) or 1 (non-compliant) with every observation made; 2 means something was missed."""
    if code not in (0, 1):
        return f"preuve exited {code}"
    if not (out / "results.jsonl").is_file():
        return "no results.jsonl"
    failed = [o for o in observations(out) if not o.get("ok")]
    return f"observation error: {failed[0].get('error')}" if failed else ""


def observations(run_dir: Path) -> list[dict[str, Any]]:
    """Every observation file of a preuve run directory."""
    return [json.loads(p.read_text()) for p in sorted(run_dir.glob("observations/*/*.json"))]


def observation(run_dir: Path, collector: str, target: str) -> dict[str, Any] | None:
    path = run_dir / "observations" / collector / f"{target}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _instant(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def observation_times(run_dir: Path, endpoint: Endpoint) -> dict[str, float | None]:
    """In-process observation durations (ms) of one run; for SSH also the concurrent span of the two."""
    collectors = ["tls"] if endpoint.kind == "tls" else ["ssh_protocol", "ssh_host"]
    found = {c: observation(run_dir, c, endpoint.name) for c in collectors}
    times: dict[str, float | None] = {c: (o or {}).get("duration_ms") for c, o in found.items()}
    if endpoint.kind == "ssh" and all(found.values()):
        starts = [_instant(o["started_at"]) * 1000 for o in found.values()]  # type: ignore[index]
        ends = [s + o["duration_ms"] for s, o in zip(starts, found.values(), strict=True)]  # type: ignore[index]
        times["span"] = round(max(ends) - min(starts), 1)
    return times


# --- peers ------------------------------------------------------------------------------------------


def sslyze(endpoint: Endpoint, out: Path) -> Tool:
    """sslyze's CLI default scan; ``name:port{ip}`` sends the SNI preuve sends, to the lab address."""
    target = (
        f"{endpoint.sni}:{endpoint.port}{{{endpoint.address}}}"
        if endpoint.sni
        else f"{endpoint.address}:{endpoint.port}"
    )
    argv = in_admin_netns([_bin("sslyze"), "--quiet", f"--json_out={out}", target])
    return Tool("sslyze", argv, out, validate_sslyze)


def validate_sslyze(code: int | None, out: Path) -> str:
    doc = _load_json(out)
    if doc is None:
        return f"no JSON written (exit {code})"
    results = doc.get("server_scan_results") or []
    if not results or results[0].get("scan_status") != "COMPLETED":
        return "scan not completed"
    commands = (results[0].get("scan_result") or {}).items()
    errors = [name for name, command in commands if (command or {}).get("status") == "ERROR"]
    return f"scan commands failed: {', '.join(errors)}" if errors else ""


def testssl(endpoint: Endpoint, out: Path, *, dns: bool) -> Tool:
    """testssl.sh's default scan of the address (``--nodns none`` unless ``dns``: see README)."""
    binary = testssl_bin()
    if binary is None:
        raise FileNotFoundError("testssl (Debian package testssl.sh) not found")
    argv = [binary, "--quiet", "--color", "0", "--warnings", "off"]
    argv += [] if dns else ["--nodns", "none"]
    argv += ["--jsonfile", str(out), f"{endpoint.address}:{endpoint.port}"]
    return Tool("testssl.sh", in_admin_netns(argv), out, validate_testssl, timeout=600.0, retries=4)


def validate_testssl(code: int | None, out: Path) -> str:
    doc = _load_json(out)
    if not isinstance(doc, list):
        return f"no JSON written (exit {code})"
    problems = [f.get("finding", "") for f in doc if f.get("id") == "scanProblem"]
    interrupted = any("interrupt" in f.get("finding", "").lower() for f in doc if f.get("id") == "scanTime")
    if problems or interrupted:
        return f"scan incomplete: {(problems or ['interrupted'])[0]}"
    return ""


def ssh_audit(endpoint: Endpoint, out: Path, *, rate_test: bool) -> Tool:
    """ssh-audit's JSON report, with or without its default connection-rate (DHEat) test."""
    argv = [_bin("ssh-audit"), "-j"] + ([] if rate_test else ["--skip-rate-test"])
    argv += ["-p", str(endpoint.port), endpoint.address]
    name = "ssh-audit" if rate_test else "ssh-audit --skip-rate-test"
    return Tool(name, in_admin_netns(argv), out, validate_ssh_audit, capture_stdout=True)


def validate_ssh_audit(code: int | None, out: Path) -> str:
    doc = _load_json(out)
    return "" if isinstance(doc, dict) and doc.get("kex") else f"no JSON report (exit {code})"


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def load_json(path: str | None) -> Any:
    """A tool's JSON output, or None."""
    return _load_json(Path(path)) if path else None


# --- versions -----------------------------------------------------------------------------------------


def versions() -> dict[str, str | None]:
    """Versions of everything measured (recorded in results.json)."""
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for dist in ("preuve", "sslyze", "nassl", "paramiko", "ssh-audit"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    out["testssl.sh"] = _testssl_version()
    return out


def _testssl_version() -> str | None:
    binary = testssl_bin()
    if binary is None:
        return None
    try:
        text = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = text.replace("\x1b[1m", " ").replace("\x1b[m", " ").split()
    return next((w for w in words if w[:1].isdigit() and "." in w), None)
