"""MANIFEST.sha256: every file of a run directory, in the format `sha256sum -c` checks without preuve."""

from __future__ import annotations

import hashlib
from pathlib import Path

NAME = "MANIFEST.sha256"
# Written after the manifest, over it (preuve.evidence.signing): they cannot be listed in it.
AFTER_MANIFEST = ("MANIFEST.sha256.sig", "signer.pub.pem")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(run_dir: Path) -> str:
    """Write the manifest (sorted paths, two spaces as sha256sum expects) and return its own sha256."""
    lines = []
    for path in sorted(
        p for p in run_dir.rglob("*") if p.is_file() and p.name != NAME and not p.name.startswith(".")
    ):
        rel = path.relative_to(run_dir).as_posix()
        lines.append(f"{_digest(path)}  {rel}\n")
    data = "".join(lines).encode()
    (run_dir / NAME).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def verify_manifest(run_dir: Path) -> list[str]:
    """Problems found (empty when intact): changed, missing and unlisted files, each named."""
    manifest = run_dir / NAME
    if not manifest.exists():
        return [f"{NAME} is missing"]
    problems, listed = [], set()
    for n, line in enumerate(manifest.read_text().splitlines(), 1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64:
            problems.append(f"{NAME}:{n}: malformed line")
            continue
        listed.add(rel)
        path = run_dir / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif _digest(path) != digest:
            problems.append(f"{rel}: content changed (sha256 differs from the manifest)")
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir).as_posix()
        if rel in AFTER_MANIFEST:
            continue
        if path.is_file() and path.name != NAME and not path.name.startswith(".") and rel not in listed:
            problems.append(f"{rel}: not listed in the manifest")
    return problems
