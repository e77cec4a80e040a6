"""MANIFEST.sha256: every file of a run directory, in the format `sha256sum -c` checks without preuve.

Every entry counts, hidden ones included; a run holds regular files and folders only, so a symbolic link
anywhere in it (or a FIFO, a device) is refused rather than followed. A manifest line that names a path
outside the run (absolute, `..`, not normalised) is refused and never read.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path, PurePosixPath

from preuve.evidence.canonical import sync_filesystem

NAME = "MANIFEST.sha256"
# Written after the manifest, over it (preuve.evidence.signing): they cannot be listed in it.
AFTER_MANIFEST = ("MANIFEST.sha256.sig", "signer.pub.pem")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def walk(run_dir: Path) -> tuple[list[str], list[str]]:
    """(every regular file, relative and sorted; problems: symbolic links and other non-regular entries).
    Links are reported, never followed."""
    files: list[str] = []
    problems: list[str] = []
    root = Path(run_dir)

    def fail(err: OSError) -> None:
        problems.append(f"{err.filename}: cannot be read ({err.strerror})")

    for here, dirs, names in os.walk(root, onerror=fail, followlinks=False):
        for name in sorted(dirs + names):
            full = Path(here, name)
            rel = full.relative_to(root).as_posix()
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                problems.append(f"{rel}: a symbolic link (refused: a run holds regular files and folders only)")
                if name in dirs:
                    dirs.remove(name)
            elif stat.S_ISREG(mode):
                files.append(rel)
            elif not stat.S_ISDIR(mode):
                problems.append(f"{rel}: not a regular file (refused)")
    return sorted(files), problems


def write_manifest(run_dir: Path) -> str:
    """Write the manifest (sorted paths, two spaces as sha256sum expects) and return its own sha256."""
    files, _ = walk(run_dir)  # a link cannot be listed: verify names it
    lines = [f"{_digest(run_dir / rel)}  {rel}\n" for rel in files if rel != NAME and rel not in AFTER_MANIFEST]
    data = "".join(lines).encode()
    (run_dir / NAME).write_bytes(data)
    sync_filesystem(run_dir)  # the evidence files (written without their own fsync) and the manifest, at once
    return hashlib.sha256(data).hexdigest()


def safe_relpath(rel: str) -> bool:
    """A path inside the run: relative, normalised, no `..`, no empty or `.` component, no backslash."""
    if not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel:
        return False
    parts = rel.split("/")
    return all(p not in ("", ".", "..") for p in parts) and PurePosixPath(rel).as_posix() == rel


def read_manifest(run_dir: Path) -> tuple[dict[str, str], list[str]]:
    """({path: sha256} of the well-formed lines inside the run, problems). Nothing outside the run is read."""
    manifest = Path(run_dir) / NAME
    try:
        text = manifest.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return {}, [f"{NAME} is missing"]
    except OSError as exc:
        return {}, [f"{NAME}: cannot be read ({exc.strerror})"]
    except UnicodeDecodeError as exc:
        return {}, [f"{NAME}: not UTF-8 text (byte {exc.start}): not a manifest written by preuve"]
    listed: dict[str, str] = {}
    problems: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            problems.append(f"{NAME}:{n}: malformed line")
        elif not safe_relpath(rel):
            problems.append(
                f"{NAME}:{n}: {rel!r} is outside the run (absolute, `..` or not normalised): refused, not read"
            )
        elif rel in listed:
            problems.append(f"{NAME}:{n}: {rel} listed twice")
        else:
            listed[rel] = digest
    if not listed and not problems:
        problems.append(f"{NAME} lists no file: an empty run proves nothing")
    return listed, problems


def verify_manifest(run_dir: Path) -> list[str]:
    """Problems found (empty when intact): changed, missing and unlisted files, links, each named."""
    listed, problems = read_manifest(run_dir)
    if not listed and problems and problems[0].endswith("is missing"):
        files, walk_problems = walk(run_dir)
        return problems + walk_problems
    files, walk_problems = walk(run_dir)
    present = set(files)
    problems += walk_problems
    for rel, digest in listed.items():
        if rel not in present:  # only files found by the walk (no link followed) are ever opened
            problems.append(f"{rel}: missing")
        elif _digest(run_dir / rel) != digest:
            problems.append(f"{rel}: content changed (sha256 differs from the manifest)")
    for rel in files:
        if rel != NAME and rel not in AFTER_MANIFEST and rel not in listed:
            problems.append(f"{rel}: not listed in the manifest")
    return problems
