"""The lab's backup repositories (restic and borg), built under the state dir with the tools themselves.

fresh (a snapshot taken at lab-up), stale (a snapshot dated three days back with the tools' own options,
`restic backup --time` / `borg create --timestamp`: the clock is faked honestly, not the check), corrupted (the
file-data pack zeroed after the backup) and unencrypted (`borg init --encryption none`). Repositories
are built once and reused; the fresh ones get a new snapshot whenever theirs is older than an hour.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
from pathlib import Path

from .paths import LabPaths

PASSWORD = "lab-backup-passphrase"  # a lab secret: written to a 0600 file, referenced by {file: ...}
CANARY_TEXT = "preuve canary: if you can read this, the restore worked\n"
STALE_AGE = dt.timedelta(hours=72)
REFRESH = 3600.0


def root(paths: LabPaths) -> Path:
    return paths.root / "backups"


def source(paths: LabPaths) -> Path:
    return root(paths) / "source"


def canary(paths: LabPaths) -> Path:
    return source(paths) / "canary" / "canary.txt"


def password_file(paths: LabPaths) -> Path:
    return root(paths) / "password"


def _run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
    proc = subprocess.run(argv, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} failed: {proc.stderr.strip()[-400:]}")


def _restic_env(paths: LabPaths, repo: Path) -> dict[str, str]:
    return {
        "RESTIC_REPOSITORY": str(repo),
        "RESTIC_PASSWORD_FILE": str(password_file(paths)),
        "RESTIC_CACHE_DIR": str(root(paths) / ".restic-cache"),
    }


def _borg_env(paths: LabPaths, encrypted: bool) -> dict[str, str]:
    env = {"BORG_BASE_DIR": str(root(paths) / ".borg"), "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes"}
    if encrypted:
        env["BORG_PASSPHRASE"] = PASSWORD
    return env


def _write_source(paths: LabPaths) -> None:
    src = source(paths)
    (src / "canary").mkdir(parents=True, exist_ok=True)
    canary(paths).write_text(CANARY_TEXT)
    data = src / "data"
    data.mkdir(exist_ok=True)
    for i in range(8):
        f = data / f"customer-{i}.bin"
        if not f.exists():
            f.write_bytes(os.urandom(64 * 1024))


def _stamp_old(stamp: Path) -> bool:
    return not stamp.exists() or time.time() - stamp.stat().st_mtime > REFRESH


def _restic(paths: LabPaths, name: str, when: dt.datetime | None = None, corrupt: bool = False) -> None:
    repo = root(paths) / name
    env = _restic_env(paths, repo)
    stamp = root(paths) / f"{name}.stamp"
    if repo.exists() and (when is not None or corrupt or not _stamp_old(stamp)):
        return
    if not repo.exists():
        _run(["restic", "init"], env)
    argv = ["restic", "backup", "--host", "lab-primary", str(source(paths))]
    if when is not None:
        argv += ["--time", when.strftime("%Y-%m-%d %H:%M:%S")]
    _run(argv, env)
    if corrupt:  # zero the blobs of the largest pack (file data; the tree pack stays readable)
        pack = max((p for p in (repo / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
        raw = bytearray(pack.read_bytes())
        end = max(0, len(raw) - 2048)  # every blob; the pack header at the end stays readable
        raw[:end] = b"\0" * end
        os.chmod(pack, 0o600)
        pack.write_bytes(bytes(raw))
    stamp.touch()


def _borg(paths: LabPaths, name: str, when: dt.datetime | None = None, encrypted: bool = True) -> None:
    repo = root(paths) / name
    env = _borg_env(paths, encrypted)
    stamp = root(paths) / f"{name}.stamp"
    if repo.exists() and (when is not None or not _stamp_old(stamp)):
        return
    if not repo.exists():
        _run(["borg", "init", "--encryption", "repokey-blake2" if encrypted else "none", str(repo)], env)
    stamp_name = (when or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S")
    argv = ["borg", "create", f"{repo}::lab-{stamp_name}", str(source(paths))]
    if when is not None:
        argv[2:2] = ["--timestamp", when.strftime("%Y-%m-%dT%H:%M:%S")]
    _run(argv, env)
    stamp.touch()


def ensure(paths: LabPaths) -> None:
    """Build (or refresh) every lab repository; needs the restic and borg commands."""
    if shutil.which("restic") is None or shutil.which("borg") is None:
        raise RuntimeError("the lab's backups need restic and borg (apt-get install restic borgbackup)")
    root(paths).mkdir(parents=True, exist_ok=True)
    os.chmod(root(paths), 0o700)
    password_file(paths).write_text(PASSWORD + "\n")
    os.chmod(password_file(paths), 0o600)
    _write_source(paths)
    stale = dt.datetime.now(dt.UTC).replace(microsecond=0) - STALE_AGE
    _restic(paths, "restic-fresh")
    _restic(paths, "restic-stale", when=stale.astimezone())  # restic reads --time as local time
    _restic(paths, "restic-corrupt", corrupt=True)
    _borg(paths, "borg-fresh")
    _borg(paths, "borg-stale", when=stale.replace(tzinfo=None))  # borg reads --timestamp as UTC
    _borg(paths, "borg-plain", encrypted=False)
    _remote_copy(paths)


def remote_root(paths: LabPaths) -> Path:
    """Repositories the lab's `auditor` owns, opened on ssh-good over SSH (the lab hosts share this filesystem)."""
    return paths.root / "backups-remote"


def _remote_copy(paths: LabPaths) -> None:
    """A copy of restic-fresh owned by the auditor account (refreshed with it), plus its scratch dir."""
    src, dest = root(paths) / "restic-fresh", remote_root(paths) / "restic-fresh"
    stamp, copied = root(paths) / "restic-fresh.stamp", remote_root(paths) / "restic-fresh.stamp"
    if dest.exists() and copied.exists() and copied.stat().st_mtime >= stamp.stat().st_mtime:
        return
    uid = (paths.home / "auditor").stat().st_uid
    shutil.rmtree(remote_root(paths), ignore_errors=True)
    shutil.copytree(src, dest)
    (remote_root(paths) / "scratch").mkdir()
    for p in [remote_root(paths), *remote_root(paths).rglob("*")]:
        os.chown(p, uid, uid)
    os.chmod(remote_root(paths), 0o755)
    copied.touch()
