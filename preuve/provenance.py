"""Which preuve code ran, for run.json: the package version and a hash of the installed distribution's files.

A wheel install is identified by its files (RECORD lists them; we hash what is on disk, so an edited install shows
a different hash and names the edited files). A git commit is recorded only for an editable install whose package
directory is a file tracked by that repository: a venv that merely sits inside some git checkout must not lend
the checkout's commit to code that did not come from it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import preuve

DIST = "preuve"


def _record_digest(path: Path) -> str:
    """The file's hash as RECORD writes it (sha256, urlsafe base64 without padding)."""
    raw = hashlib.sha256(path.read_bytes()).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# Written per install, not by the wheel: where it came from, which installer, the console script's shebang.
PER_INSTALL = ("direct_url.json", "INSTALLER", "REQUESTED")


def _of_the_wheel(path: str) -> bool:
    """A file whose bytes come from the wheel itself: the same wheel gives the same hash wherever it is installed."""
    return not path.startswith("../") and path.rsplit("/", 1)[-1] not in PER_INSTALL


def distribution_files() -> dict[str, Any]:
    """sha256 over "path digest" lines of every file the wheel installed in site-packages (RECORD's list, the bytes
    read from disk), and the files whose content no longer matches RECORD. RECORD itself, .pyc files compiled at
    install and the per-install files are left out."""
    try:
        dist = metadata.distribution(DIST)
    except metadata.PackageNotFoundError:
        return {"sha256": None, "files": 0, "modified": [], "install": "not installed as a distribution"}
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    if direct.get("dir_info", {}).get("editable"):  # the code is the checkout's: its commit says which
        return {"sha256": None, "files": 0, "modified": [], "install": "editable"}
    if not dist.files:
        return {"sha256": None, "files": 0, "modified": [], "install": "no RECORD (not installed by pip)"}
    lines, modified = [], []
    for f in sorted(dist.files or [], key=str):
        if f.hash is None or not _of_the_wheel(str(f)):
            continue
        path = Path(str(f.locate()))
        try:
            digest = _record_digest(path)
        except OSError:
            digest = "missing"
        if digest != f"{f.hash.mode}={f.hash.value}":
            modified.append(str(f))
        lines.append(f"{f} {digest}\n")
    if not lines:  # metadata without RECORD hashes (an egg-info directory found first on sys.path)
        return {"sha256": None, "files": 0, "modified": [], "install": "no RECORD (not installed by pip)"}
    return {
        "sha256": hashlib.sha256("".join(lines).encode()).hexdigest(),
        "files": len(lines),
        "modified": modified,
        "install": "wheel",
    }


def editable_commit() -> str | None:
    """The commit of the checkout preuve runs from, only when preuve/__init__.py is tracked by that repository."""
    here = Path(preuve.__file__).resolve().parent
    try:
        tracked = subprocess.run(
            ["git", "-C", str(here), "ls-files", "--error-unmatch", "__init__.py"],
            capture_output=True,
            timeout=5,
        )
        if tracked.returncode != 0:
            return None
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def tool_provenance() -> dict[str, Any]:
    """The `tool` fields of run.json that say which code ran."""
    return {"version": preuve.__version__, "distribution": distribution_files(), "commit": editable_commit()}
