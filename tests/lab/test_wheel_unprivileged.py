"""preuve as users meet it: a wheel built from this tree, installed into a clean venv with the runtime dependencies
only (no dev, no lab, no bench extra), run by an unprivileged account against a real sshd and a real nginx on
127.0.0.1. No namespace, no root for preuve: root here only creates the throwaway account, starts sshd (as a
server's sshd runs) and builds the wheel.

The install and the first scan are docs/first-scan.sh itself (the newcomer's path in the README), run as that
account; the other tests use the venv the script made. The venv sits inside a git repository of its own, so a run
that recorded "the commit of whatever repository it sits in" would be caught (run.json must name the version and
the installed files' hash instead).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import preuve
from preuve.provenance import PER_INSTALL
from preuve_lab import loopback_nginx
from tests.support.sshd_servers import SshdLab
from tests.support.tls_servers import compliant_directives, free_port, make_self_signed

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _containerfile_sources() -> tuple[str, ...]:
    """What the Containerfile's wheel stage copies: the wheel is built from exactly that (no lab), so this test
    covers the image's install steps where no container builder runs (tests/unit/test_container.py builds it
    opt-in)."""
    stage = re.split(r"(?m)^FROM ", (REPO / "Containerfile").read_text())[1]
    sources = [s for line in re.findall(r"(?m)^COPY (.+)$", stage) for s in line.split()[:-1]]
    assert sources, "no COPY in the Containerfile's first stage"
    return tuple(sources)


WHEEL_SOURCES = _containerfile_sources()
USER_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"  # Debian's python3: the account cannot reach root's own interpreters
# Distributions a scan does not need: none may be in the runtime install.
NOT_RUNTIME = (
    "moto",
    "pandas",
    "ssh_audit",
    "ruff",
    "mypy",
    "xmlschema",
    "check_jsonschema",
    "flask",
    "sslyze",
    "jinja2",
)


@dataclass
class Installed:
    base: Path
    home: Path
    user: str
    venv: Path
    wheel: Path
    scan: Path  # the run directory first-scan.sh wrote
    script: subprocess.CompletedProcess
    build_seconds: float
    foreign_commit: str  # HEAD of the git repository the venv sits in


def _as_user(user: str, home: Path, argv: list[str], timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    """Run argv as `user` with a clean environment (pip's settings passed on: CI's index and cache rules)."""
    clean = {"HOME": str(home), "PATH": USER_PATH, "LANG": "C.UTF-8", "USER": user, "LOGNAME": user}
    clean |= {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    clean |= env
    return subprocess.run(
        ["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in clean.items()), *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=home,
    )


def _build_wheel(base: Path) -> Path:
    """pip wheel of a copy of the work tree's files that git does not ignore (an in-tree build would reuse the
    stale build/ directory, and ignored files such as __pycache__ or a local .venv are not part of the product)."""
    src = base / "src"
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *WHEEL_SOURCES],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (wheel,) = (base / "dist").glob("preuve-*.whl")
    wheel.chmod(0o644)
    return wheel


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    import time

    if os.geteuid() != 0:
        pytest.skip("creates a throwaway account and starts sshd: run as root")
    base = Path(tempfile.mkdtemp(prefix="preuve-wheel-", dir="/tmp"))
    base.chmod(0o755)
    user = f"pvwheel{os.getpid() % 100000}"
    home = base / "home"
    started = time.monotonic()
    try:
        wheel = _build_wheel(base)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    build_seconds = time.monotonic() - started
    subprocess.run(
        ["useradd", "--system", "--user-group", "--shell", "/bin/sh", "--home-dir", str(home), "--create-home", user],
        check=True,
    )
    nginx = None
    try:
        # '*': no password, but not a locked ('!') account, which sshd refuses without PAM.
        subprocess.run(["usermod", "-p", "*", user], check=True)
        entry = pwd.getpwnam(user)
        sshd_dir, nginx_dir = base / "sshd", home / "nginx"
        sshd_dir.mkdir(mode=0o755)
        with SshdLab(sshd_dir) as sshd:
            server = sshd.start("good")
            ssh_dir = home / ".ssh"
            ssh_dir.mkdir(mode=0o700)
            shutil.copy(sshd.client_key, ssh_dir / "id_ed25519")
            for path in (ssh_dir, ssh_dir / "id_ed25519"):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            sshd.authorized_keys.chmod(0o644)
            server.config.chmod(0o644)  # the account reads the config; the host keys stay root's (0600)

            # The TLS server runs as the account itself, from its home.
            nginx_dir.mkdir()
            cert = make_self_signed(nginx_dir, "site", _ec_key(), _sha256(), days=365)
            tls_port = free_port()
            conf = loopback_nginx.config(
                nginx_dir, [loopback_nginx.server_block(tls_port, cert.cert, cert.key, compliant_directives())]
            )
            for path in (nginx_dir, cert.cert, cert.key):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            nginx = loopback_nginx.start(nginx_dir, conf, [tls_port], user=user)

            # A git repository around the venv: its commit must not end up in run.json.
            foreign = _git_repo(home, user)
            script = _as_user(
                user,
                home,
                ["bash", str(REPO / "docs" / "first-scan.sh")],
                PREUVE_PACKAGE=os.path.relpath(wheel, home),  # relative, as the README writes it
                PREUVE_INSTALL="venv",
                SERVER="127.0.0.1",
                SSH_PORT=str(server.port),
                SSH_KEY=str(ssh_dir / "id_ed25519"),
                SSHD_CONFIG=str(server.config),
                TLS_PORT=str(tls_port),
                TLS_NAME="localhost",
                WORKDIR=str(home / "first-scan"),
            )
            yield Installed(
                base=base,
                home=home,
                user=user,
                venv=home / "first-scan" / "venv",
                wheel=wheel,
                scan=home / "first-scan" / "run",
                script=script,
                build_seconds=build_seconds,
                foreign_commit=foreign,
            )
    finally:
        if nginx is not None:
            loopback_nginx.stop(nginx)
        subprocess.run(["userdel", user], check=False)
        shutil.rmtree(base, ignore_errors=True)


def _ec_key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _sha256():
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def _git_repo(home: Path, user: str) -> str:
    """A repository made by the account (git would refuse to answer about one owned by someone else: too easy a
    pass for the old behaviour)."""
    (home / "README").write_text("not preuve\n")
    os.chown(home / "README", pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for step in (["init", "-q"], ["add", "README"], ["commit", "-q", "-m", "unrelated"]):
        assert _as_user(user, home, [*git, *step]).returncode == 0, step
    return _as_user(user, home, ["git", "rev-parse", "HEAD"]).stdout.strip()


def _preuve(inst: Installed, *args: str, **env: str) -> subprocess.CompletedProcess:
    return _as_user(inst.user, inst.home, [str(inst.venv / "bin" / "preuve"), *args], timeout=300, **env)


def _results(inst: Installed) -> list[dict]:
    assert inst.script.returncode == 0, inst.script.stdout[-2000:] + inst.script.stderr[-3000:]
    return [json.loads(line) for line in (inst.scan / "results.jsonl").read_text().splitlines() if line]


# --- the newcomer's script --------------------------------------------------------------------------------------


def test_first_scan_script_installs_and_reports(installed: Installed) -> None:
    out = installed.script
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert f"preuve {preuve.__version__}" in out.stdout
    assert "inputs are valid" in out.stdout + out.stderr
    assert (installed.scan / "report.html").is_file() and "report.html" in out.stdout
    assert not any(p.stat().st_uid == 0 for p in installed.scan.rglob("*")), "the scan wrote as root"


def test_runtime_install_holds_no_lab_bench_or_dev_tool(installed: Installed) -> None:
    site = next((installed.venv / "lib").glob("python3*/site-packages"))
    present = {p.name.split("-")[0].lower() for p in site.iterdir()}
    assert not present & set(NOT_RUNTIME), present & set(NOT_RUNTIME)
    size = subprocess.run(["du", "-sm", str(site)], capture_output=True, text=True).stdout.split()[0]
    print(f"runtime site-packages: {size} MB; wheel {installed.wheel.stat().st_size // 1024} kB")


# --- commands a user runs --------------------------------------------------------------------------------------


def test_version_and_catalogue_as_json(installed: Installed) -> None:
    version = _preuve(installed, "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"preuve {preuve.__version__}"
    listing = _preuve(installed, "checks", "--format", "json")
    assert listing.returncode == 0, listing.stderr
    checks = json.loads(listing.stdout)
    assert len(checks) >= 80 and all({"id", "requirements", "severity", "target"} <= set(c) for c in checks)
    assert {"TLS-VERSIONS", "SSH-KEX"} <= {c["id"] for c in checks}


def test_lint_example_inventory_with_named_profiles(installed: Installed) -> None:
    init = _preuve(installed, "init", "-o", "inventory.yaml")
    assert init.returncode == 0, init.stderr
    assert (installed.home / "inventory.yaml").read_text() == (REPO / "inventories" / "example.yaml").read_text()
    for profile in ("secnumcloud-3.2", "ci-quick"):
        lint = _preuve(installed, "lint", "-i", "inventory.yaml", "-p", profile)
        assert lint.returncode == 0, (profile, lint.stdout, lint.stderr)
    unknown = _preuve(installed, "lint", "-i", "inventory.yaml", "-p", "secnumcloud-9")
    assert unknown.returncode == 3 and "ci-quick" in unknown.stderr + unknown.stdout


def test_lab_and_demo_say_what_to_install(installed: Installed) -> None:
    for args in (("lab", "status"), ("demo",)):
        out = _preuve(installed, *args)
        assert out.returncode == 4, (args, out.stdout, out.stderr)
        assert "pip install -e '.[lab]'" in out.stderr and "not available here" in out.stderr, out.stderr
        assert "Traceback" not in out.stderr


# --- what the scan found -----------------------------------------------------------------------------------------


def test_scan_gives_real_verdicts_and_errors_name_the_sudo_rule(installed: Installed) -> None:
    results = _results(installed)
    statuses = {r["status"] for r in results}
    assert {"pass", "fail"} <= statuses, statuses
    counts: dict[tuple[str, str], int] = {}
    for r in results:
        counts[r["target"]["kind"], r["status"]] = counts.get((r["target"]["kind"], r["status"]), 0) + 1
    print(f"first scan: {len(results)} results {dict(sorted(counts.items()))}")
    kinds = {r["target"]["kind"] for r in results if r["status"] in ("pass", "fail")}
    # From outside (handshakes) and from inside (facts read over SSH by the unprivileged account).
    assert {"tls_endpoint", "ssh_endpoint"} <= kinds and kinds & {"host", "baseline_host"}, kinds
    tls = {r["check_id"]: r["status"] for r in results if r["target"]["kind"] == "tls_endpoint"}
    assert tls.get("TLS-VERSIONS") == "pass" and tls.get("TLS-SUITES") == "pass", tls  # the guide's settings
    errors = {(r["check_id"], r["message"]["en"]) for r in results if r["status"] == "error"}
    unexplained = sorted((c, m) for c, m in errors if not ("sudo" in m and "NOPASSWD" in m) and not _machine(c, m))
    assert not unexplained, "\n".join(f"{c}: {m}" for c, m in unexplained)


def _machine(check_id: str, message: str) -> bool:
    """An error this machine causes for any account, root included: a container has no kernel image in /boot."""
    no_kernel = not list(Path("/boot").glob("vmlinuz-*"))
    return check_id == "PATCH-KERNEL-RUNNING" and no_kernel and "no kernel image in /boot" in message


def test_run_json_names_version_and_installed_files_not_a_commit(installed: Installed) -> None:
    _results(installed)
    run = json.loads((installed.scan / "run.json").read_text())
    tool = run["tool"]
    assert tool["version"] == preuve.__version__
    assert tool.get("commit") is None
    dist = tool["distribution"]
    assert dist["install"] == "wheel" and dist["modified"] == [] and dist["files"] > 100
    assert dist["sha256"] == _record_hash(installed.venv)
    text = (installed.scan / "run.json").read_text()
    checkout_head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    for commit in (installed.foreign_commit, checkout_head.stdout.strip()):
        assert commit and commit not in text


def _record_hash(venv: Path) -> str:
    """The files hash recomputed here from RECORD and the files on disk (the same rule as preuve.provenance)."""
    site = next((venv / "lib").glob("python3*/site-packages"))
    (record,) = site.glob("preuve-*.dist-info/RECORD")
    lines = []
    rows = sorted(line.rsplit(",", 2) for line in record.read_text().splitlines() if line)
    for path, digest, _ in rows:
        if not digest or path.startswith("../") or path.rsplit("/", 1)[-1] in PER_INSTALL:
            continue
        raw = hashlib.sha256((site / path).read_bytes()).digest()
        lines.append(f"{path} sha256={base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()
