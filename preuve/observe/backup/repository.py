"""restic and borg repositories: snapshots, encryption, a restore drill and a rotating partial data check.

The tools run on the scanner with the repository password in the subprocess environment only (a file reference
goes through RESTIC_PASSWORD_FILE, never read into a command line). The drill restores the canary (and a small
sample of other files) into a fresh scratch directory, hashes what came back, then removes the scratch
directory in a `finally`, whatever happened. A repository that cannot be opened (missing, wrong password,
timeout) is an ObservationError (-> error); a repository that opens but does not restore is a fact (-> fail).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preuve import __version__
from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    from preuve.inputs.targets import Target


OUTPUT_TAIL = 600


@dataclass(frozen=True)
class Job:
    tool: str  # restic | borg
    repository: str
    password: str | None
    password_file: str | None
    canary: tuple[str, str] | None  # (absolute path in the snapshot, expected sha256)
    scratch_dir: str | None
    sample_size: int
    data_check_fraction: float
    data_check_seconds: int
    timeout: float
    backend_env: tuple[tuple[str, str], ...] = ()  # resolved backend credentials (S3 keys...), subprocess only


def transport(tool: str, repository: str) -> str:
    """How the repository is reached: local, sftp/ssh, https, or http (plain) for REST/S3 backends."""
    repo = repository.strip()
    if repo.startswith("/") or repo.startswith("local:"):
        return "local"
    if tool == "borg":
        return "ssh" if repo.startswith("ssh://") or re.match(r"^[^/]+@[^/]+:", repo) else "unknown"
    backend, _, rest = repo.partition(":")
    if backend == "sftp":
        return "sftp"
    if backend in ("rest", "s3"):
        if rest.startswith("http://"):
            return f"{backend}+http"
        return f"{backend}+https"  # restic's S3 and REST backends default to https
    if backend in ("b2", "azure", "gs", "swift"):
        return "https"
    return "unknown"


def public_repository(repository: str) -> str:
    """The repository string without user:password@ (a REST URL may carry credentials)."""
    return re.sub(r"(://)[^/@\s]+@", r"\1***@", repository)


def _env(job: Job, home: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8", "TMPDIR": home}
    env.update(dict(job.backend_env))
    if job.tool == "restic":
        env["RESTIC_REPOSITORY"] = job.repository
        if job.password_file:
            env["RESTIC_PASSWORD_FILE"] = job.password_file
        elif job.password is not None:
            env["RESTIC_PASSWORD"] = job.password
    else:
        env["BORG_BASE_DIR"] = home
        env["BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK"] = "yes"
        env["BORG_RELOCATED_REPO_ACCESS_IS_OK"] = "yes"
        env["BORG_PASSPHRASE"] = job.password or ""
    return env


class Runner:
    """Runs the tool with the job's environment and a deadline shared by every command of the observation."""

    def __init__(self, job: Job, home: str) -> None:
        self.job, self.env = job, _env(job, home)
        self.deadline = time.monotonic() + job.timeout
        self.log: list[dict[str, Any]] = []

    def __call__(self, argv: list[str], cwd: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ObservationError(f"{self.job.tool}: time budget of {self.job.timeout:.0f} s exhausted")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(argv, env=self.env, cwd=cwd, capture_output=True, text=True, timeout=left)
        except subprocess.TimeoutExpired:
            raise ObservationError(f"{' '.join(argv[:2])}: no answer within {left:.0f} s") from None
        except OSError as exc:
            raise ObservationError(f"cannot run {argv[0]}: {exc}") from None
        self.log.append(
            {
                "argv": argv,
                "rc": proc.returncode,
                "seconds": round(time.perf_counter() - t0, 3),
                "stderr": proc.stderr[-OUTPUT_TAIL:],
            }
        )
        if check and proc.returncode != 0:
            raise ObservationError(f"{' '.join(argv[:2])} failed (exit {proc.returncode}): {_last_line(proc.stderr)}")
        return proc

    # Where the drill writes: the scanner's filesystem here, the backup host's for a RemoteRunner.
    def make_scratch(self, base: str) -> str:
        Path(base).mkdir(parents=True, exist_ok=True)
        sweep_orphans(Path(base))
        return tempfile.mkdtemp(prefix=f"preuve-drill-{os.getpid()}-", dir=base)

    def file_sha256(self, path: str) -> str | None:
        return _sha256(Path(path)) if Path(path).is_file() else None

    def file_sizes(self, root: str) -> dict[str, int]:
        return {str(f): f.stat().st_size for f in Path(root).rglob("*") if f.is_file() and not f.is_symlink()}

    def remove(self, path: str) -> bool:
        """Remove the scratch tree; True when nothing is left."""
        shutil.rmtree(path, ignore_errors=True)
        return not os.path.lexists(path)

    def close(self) -> None:
        """Nothing to release for a local runner."""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def _utc(text: str) -> str:
    """restic's RFC 3339 with nanoseconds, or borg's naive local time, as UTC ISO 8601 (seconds)."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.astimezone()  # borg prints local time
    return when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _rotation(fraction: float, salt: str) -> tuple[int, int]:
    """Which 1/t of the data to read today: slice n of t, advancing by one each day (all data in t days)."""
    total = max(1, round(1 / fraction))
    day = dt.datetime.now(dt.UTC).toordinal()
    return (day + sum(salt.encode())) % total + 1, total


# --- restic -------------------------------------------------------------------------------------------------


# What restic 0.14 / borg 1.2 say when there is no repository at the location (the tool reached it): a fact.
ABSENT = re.compile(
    r"Is there a repository at the following location\?|Repository .* does not exist\.|"
    r"unable to open config file: .*(no such file or directory|does not exist)",
    re.I,
)


class RepositoryAbsent(Exception):
    """The tool reached the location and found no repository there (observed absence, not a failure to observe)."""


def _opened(run: Runner, argv: list[str]) -> subprocess.CompletedProcess:
    """The first command that opens the repository: its absence raises RepositoryAbsent, any other failure
    (wrong password, unreachable backend) stays an ObservationError."""
    proc = run(argv, check=False)
    if proc.returncode != 0 and ABSENT.search(proc.stderr):
        raise RepositoryAbsent(" ".join(line.strip() for line in proc.stderr.strip().splitlines()[:2]))
    if proc.returncode != 0:
        raise ObservationError(f"{' '.join(argv[:2])} failed (exit {proc.returncode}): {_last_line(proc.stderr)}")
    return proc


def _restic_snapshots(run: Runner) -> list[dict[str, Any]]:
    proc = _opened(run, ["restic", "snapshots", "--json", "--no-lock", "--no-cache"])
    snaps = json.loads(proc.stdout or "[]")
    return sorted(snaps, key=lambda s: _utc(s["time"]))


def _restic_encryption(job: Job, local: bool = True) -> dict[str, Any]:
    """restic always encrypts (the snapshots listing already needed the key); a local repository's config file
    is also checked not to be plain JSON."""
    plaintext = None
    if local and transport("restic", job.repository) == "local":
        raw = (Path(job.repository.removeprefix("local:")) / "config").read_bytes()
        try:
            json.loads(raw)
            plaintext = True
        except ValueError:
            plaintext = False
    return {
        "encrypted": plaintext is not True,
        "mode": "restic (AES-256-CTR + Poly1305-AES, always on)",
        "config_file_plaintext": plaintext,
    }


def _restic_files(run: Runner, snap: str) -> list[tuple[str, int]]:
    proc = run(["restic", "ls", "--json", "--no-lock", "--no-cache", snap], check=False)
    if proc.returncode != 0:  # a damaged tree: the drill will say so when it restores
        return []
    out = []
    for line in proc.stdout.splitlines():
        node = json.loads(line)
        if node.get("struct_type") == "node" and node.get("type") == "file":
            out.append((node["path"], node.get("size", 0)))
    return out


def _restic_restore(run: Runner, snap: str, paths: list[str], scratch: str) -> subprocess.CompletedProcess:
    argv = ["restic", "restore", snap, "--target", scratch, "--no-lock", "--no-cache"]
    for p in paths:
        argv += ["--include", p]
    return run(argv, check=False)


LOCKED = re.compile(r"already locked|unable to create lock|Failed to lock", re.I)


def _locked_retry(run: Runner, argv: list[str]) -> tuple[subprocess.CompletedProcess, bool]:
    """Run a command that takes the repository lock; wait a little while another client holds it, and let
    `restic unlock` drop *stale* locks (of dead processes: restic 0.14's check does not ignore them).
    Returns the last result and whether it still could not get the lock (then nothing was checked)."""
    for attempt in range(4):
        proc = run(argv, check=False)
        locked = proc.returncode != 0 and bool(LOCKED.search(proc.stderr))
        if not locked:
            return proc, False
        if argv[0] == "restic" and attempt == 0:
            run(["restic", "unlock"], check=False)  # stale locks only (never --remove-all)
            continue
        time.sleep(1.5 * attempt)
    return proc, True


def _restic_check(run: Runner, job: Job) -> dict[str, Any]:
    n, t = _rotation(job.data_check_fraction, job.repository)
    proc, locked = _locked_retry(run, ["restic", "check", f"--read-data-subset={n}/{t}"])
    return {
        "tool_command": f"restic check --read-data-subset={n}/{t}",
        "subset": f"{n}/{t}",
        "ok": None if locked else proc.returncode == 0,
        "exit_code": proc.returncode,
        "message": _last_line(proc.stderr if proc.returncode else proc.stdout),
    }


# --- borg ---------------------------------------------------------------------------------------------------


def _borg_list(run: Runner, job: Job) -> dict[str, Any]:
    return json.loads(_opened(run, ["borg", "list", "--json", job.repository]).stdout)


def _borg_files(run: Runner, job: Job, archive: str) -> list[tuple[str, int]]:
    proc = run(["borg", "list", "--json-lines", f"{job.repository}::{archive}"], check=False)
    if proc.returncode != 0:
        return []
    out = []
    for line in proc.stdout.splitlines():
        item = json.loads(line)
        if item.get("type") == "-":
            out.append(("/" + item["path"].lstrip("/"), item.get("size", 0)))
    return out


def _borg_restore(run: Runner, job: Job, archive: str, paths: list[str], scratch: str) -> subprocess.CompletedProcess:
    argv = ["borg", "extract", f"{job.repository}::{archive}", *[p.lstrip("/") for p in paths]]
    return run(argv, cwd=scratch, check=False)


def _borg_check(run: Runner, job: Job) -> dict[str, Any]:
    argv = ["borg", "check", "--repository-only", "--max-duration", str(job.data_check_seconds), job.repository]
    proc, locked = _locked_retry(run, argv)
    return {
        "tool_command": " ".join(argv[:5]),
        "subset": f"up to {job.data_check_seconds} s, resumes next run",
        "ok": None if locked else proc.returncode == 0,
        "exit_code": proc.returncode,
        "message": _last_line(proc.stderr) if proc.returncode else "ok",
    }


# --- the drill ----------------------------------------------------------------------------------------------


def _sample(files: list[tuple[str, int]], canary: str, size: int, salt: str) -> list[tuple[str, int]]:
    others = sorted(f for f in files if f[0] != canary)
    rng = random.Random(f"{salt}:{dt.datetime.now(dt.UTC).date()}")  # a different sample each day, replayable
    return rng.sample(others, min(len(others), max(0, size - 1)))


def sweep_orphans(base: Path) -> list[str]:
    """Remove scratch copies left by a drill whose process was killed (SIGKILL skips `finally`)."""
    removed = []
    for d in base.glob("preuve-drill-*-*"):
        pid = d.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)
            removed.append(str(d))
    return removed


def drill(run: Runner, job: Job, snapshot: str, files: list[tuple[str, int]]) -> dict[str, Any]:
    """Restore the canary (and a sample) into a fresh scratch dir, verify it, and always remove the scratch dir."""
    if job.canary is None:
        return {"performed": False, "reason": "no canary declared in the inventory"}
    canary, expected = job.canary
    sample = _sample(files, canary, job.sample_size, job.repository)
    scratch = run.make_scratch(job.scratch_dir or tempfile.gettempdir())
    result: dict[str, Any] = {
        "performed": True,
        "snapshot": snapshot,
        "canary": canary,
        "expected_sha256": expected,
        "sample": [p for p, _ in sample],
        "scratch_dir": scratch,
    }
    t0 = time.perf_counter()
    try:
        wanted = [canary, *[p for p, _ in sample]]
        if job.tool == "restic":
            proc = _restic_restore(run, snapshot, wanted, scratch)
        else:
            proc = _borg_restore(run, job, snapshot, wanted, scratch)
        result["restore_exit_code"] = proc.returncode
        if proc.returncode != 0:
            result["error"] = _last_line(proc.stderr)
        result["observed_sha256"] = run.file_sha256(scratch + canary)
        sizes = run.file_sizes(scratch)
        result["restored_bytes"] = sum(sizes.values())
        result["sample_ok"] = {p: sizes.get(scratch + p) == size for p, size in sample}
    finally:
        result["scratch_removed"] = run.remove(scratch)
        result["seconds"] = round(time.perf_counter() - t0, 3)
    result["ok"] = (
        result.get("restore_exit_code") == 0
        and result.get("observed_sha256") == expected
        and all(result["sample_ok"].values())
    )
    return result


_repo_locks: dict[str, threading.Lock] = {}
_repo_locks_guard = threading.Lock()


def _repo_lock(repository: str) -> threading.Lock:
    """Two inventory entries for one repository are observed one after the other (restic check locks it)."""
    with _repo_locks_guard:
        return _repo_locks.setdefault(repository, threading.Lock())


def collect(job: Job, remote: Any = None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Facts, raw tool log and query of one repository; `remote` (an ssh_host.SshTarget) runs the tools on the
    backup host over SSH instead of on the scanner."""
    with _repo_lock(f"{getattr(remote, 'host', '')}:{job.repository}"):
        return _collect(job, remote)


def _query(job: Job, run: Runner, remote: Any) -> dict[str, Any]:
    query = {
        "repository": public_repository(job.repository),
        "tool": job.tool,
        "commands": [" ".join(c["argv"]) for c in run.log],
        "drill_sample_size": job.sample_size,
        "data_check_fraction": job.data_check_fraction,
        "data_check_seconds": job.data_check_seconds,
    }
    if remote is not None:
        query["ssh"] = f"{remote.user}@{remote.host}:{remote.port}"
    return query


def _collect(job: Job, remote: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    home = tempfile.mkdtemp(prefix="preuve-backup-home-")
    run: Runner | None = None
    try:
        if remote is not None:
            from preuve.observe.backup.remote import RemoteRunner

            run = RemoteRunner(job, remote)
        else:
            run = Runner(job, home)
        version = run([job.tool, "version" if job.tool == "restic" else "--version"]).stdout.strip()
        facts: dict[str, Any] = {
            "tool": job.tool,
            "tool_version": version.split(" compiled")[0],
            "repository": public_repository(job.repository),
            "transport": transport(job.tool, job.repository),
        }
        try:
            opened = _restic_snapshots(run) if job.tool == "restic" else _borg_list(run, job)
        except RepositoryAbsent as exc:  # observed: no repository where the inventory says the backups are
            facts.update(
                absent=str(exc),
                encryption={"encrypted": False, "mode": "no repository"},
                snapshots={"count": 0, "latest": None, "latest_id": None},
                drill={"performed": False, "reason": f"no repository: {exc}"},
                data_check={"ok": False, "tool_command": f"{job.tool} check", "message": f"no repository: {exc}"},
            )
            return facts, {"commands": run.log}, _query(job, run, remote)
        if job.tool == "restic":
            snaps = opened
            facts["encryption"] = _restic_encryption(job, remote is None)
            latest = snaps[-1] if snaps else None
            facts["snapshots"] = {
                "count": len(snaps),
                "latest": _utc(latest["time"]) if latest else None,
                "latest_id": latest["short_id"] if latest else None,
            }
            files = _restic_files(run, latest["id"]) if latest else []
            facts["drill"] = (
                drill(run, job, latest["id"], files) if latest else {"performed": False, "reason": "no snapshot"}
            )
            facts["data_check"] = _restic_check(run, job)
        else:
            listing = opened
            archives = sorted(listing.get("archives", []), key=lambda a: _utc(a.get("time") or a["start"]))
            mode = listing.get("encryption", {}).get("mode", "unknown")
            facts["encryption"] = {"encrypted": mode not in ("none", "unknown"), "mode": mode}
            latest = archives[-1] if archives else None
            facts["snapshots"] = {
                "count": len(archives),
                "latest": _utc(latest.get("time") or latest["start"]) if latest else None,
                "latest_id": latest["name"] if latest else None,
            }
            files = _borg_files(run, job, latest["name"]) if latest else []
            facts["drill"] = (
                drill(run, job, latest["name"], files) if latest else {"performed": False, "reason": "no archive"}
            )
            facts["data_check"] = _borg_check(run, job)
        return facts, {"commands": run.log}, _query(job, run, remote)
    finally:
        if run is not None:
            run.close()
        shutil.rmtree(home, ignore_errors=True)


def _collect_target(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.profile_params import current
    from preuve.observe.reveal import reveal
    from preuve.observe.ssh.target import ssh_target

    repo = target.spec.item
    sites = dict(target.spec.site_countries)
    params = current().backup
    secret = reveal(repo.password, f"password of repository {repo.name}") if repo.password else None
    backend_env = tuple((k, reveal(v, f"{k} of repository {repo.name}")) for k, v in sorted(repo.backend_env.items()))
    job = Job(
        tool=repo.tool,
        repository=repo.repository,
        password=secret,
        password_file=repo.password.file if repo.password is not None else None,
        canary=(repo.canary.path, repo.canary.sha256) if repo.canary else None,
        scratch_dir=repo.scratch_dir,
        sample_size=params.drill_sample_size,
        data_check_fraction=params.data_check_fraction,
        data_check_seconds=params.data_check_seconds,
        timeout=max(timeout * 20, 60.0),
        backend_env=backend_env,
    )
    remote = None
    if repo.host is not None:
        if repo.host not in hosts or hosts[repo.host].access is None:
            raise ObservationError(f"host {repo.host} has no SSH access in the inventory: cannot run {repo.tool} there")
        remote = ssh_target(hosts[repo.host], hosts)
    found, raw, query = collect(job, remote)
    found["site"] = {"name": repo.site, "country": sites.get(repo.site)}
    found["primary_site"] = {"name": repo.primary_site, "country": sites.get(repo.primary_site)}
    return query, found, raw, f"preuve {__version__} + {found['tool_version']}"


COLLECTOR = Collector(
    "backup",
    _collect_target,
    limit=8,
    fixtures=(
        Fixture(
            "backup_repo",
            "backup_repo",
            doc="restic/borg repository: snapshots, encryption, restore drill, partial data check",
        ),
    ),
)
