"""The evidence store: observations written once, read by the judges, re-read offline for replay.

Files are named by collector and target (readable, stable across runs so `diff` and humans can find them);
integrity comes from the sha256 recorded in every result and in MANIFEST.sha256.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from preuve.evidence.canonical import dumps, sha256, write_atomic
from preuve.evidence.record import Observation
from preuve.evidence.redact import REDACTOR


class EvidenceRef(tuple[str, str]):
    """(path relative to the run directory, sha256 of the file)."""

    __slots__ = ()

    def __new__(cls, path: str, digest: str) -> EvidenceRef:
        return super().__new__(cls, (path, digest))

    @property
    def path(self) -> str:
        return self[0]

    @property
    def sha256(self) -> str:
        return self[1]


def identity_of(target: Any) -> dict[str, Any]:
    """What identifies a target: kind, name, address and port (a name alone can be shared by a host and an
    ssh_endpoint, or reused by mistake)."""
    return {"kind": target.kind, "name": target.name, "address": target.address, "port": target.port}


def same_target(recorded: Any, wanted: dict[str, Any], kinds: Any = ()) -> bool:
    """Is the identity recorded in an observation this target's? Same name, address and port, and the same
    kind, or two kinds one collector serves (ssh_host observes a machine for `host` and `baseline_host`)."""
    if not isinstance(recorded, dict) or any(recorded.get(k) != wanted[k] for k in ("name", "address", "port")):
        return False
    return recorded.get("kind") == wanted["kind"] or (recorded.get("kind") in kinds and wanted["kind"] in kinds)


def _where(identity: dict[str, Any] | None) -> str:
    if not identity:
        return "no target identity"
    return f"{identity.get('kind')} {identity.get('name')} at {identity.get('address')}:{identity.get('port')}"


_STR_FIELDS = ("collector", "target", "started_at", "tool")
_OPTIONAL_STR_FIELDS = ("error", "error_kind")


def _as_validated(d: dict[str, Any]) -> bool:
    """Does this parsed observation hold exactly what validating it as an Observation would keep (every field,
    each of its exact type: nothing pydantic would coerce, such as an int duration or a 0/1 `ok`)?"""
    return (
        d.keys() == Observation.model_fields.keys()
        and all(type(d[k]) is str for k in _STR_FIELDS)
        and all(d[k] is None or type(d[k]) is str for k in _OPTIONAL_STR_FIELDS)
        and type(d["duration_ms"]) is float
        and type(d["ok"]) is bool
        and type(d["query"]) is dict
        and type(d["facts"]) is dict
        and (d["identity"] is None or type(d["identity"]) is dict)
    )


class EvidenceMismatch(Exception):
    """The evidence at a target's path cannot be used for it (other identity, unreadable, not what was
    recorded). Carries the reference so the error result still cites the file it could not use."""

    def __init__(self, message: str, ref: EvidenceRef | None = None):
        super().__init__(message)
        self.ref = ref


class EvidenceStore:
    """Observations keyed by their path (`observations/<collector>/<target>.json`): a file's identity is its
    path, and an observation serves a target only when the identity recorded in it is that target's."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self._obs: dict[str, tuple[Observation, EvidenceRef]] = {}
        self._broken: dict[str, tuple[str, EvidenceRef | None]] = {}
        self._lock = threading.Lock()
        self._dirs: set[Path] = set()  # folders made by _write

    def put(self, obs: Observation, target: Any = None) -> EvidenceRef:
        """Redact (preuve's own side masked; a secret in a fact withholds the observation as an error, never
        rewrites it: see preuve.evidence.redact), serialise canonically, write atomically, remember the digest.
        Checks judge what was stored, so re-judging the run gives the same verdicts. The first target recorded at
        a path keeps it: a second target with the same name never overwrites (nor borrows) its evidence."""
        plain = obs.model_dump()
        if target is not None:
            plain["identity"] = identity_of(target)
        untouched = REDACTOR.untouched(plain)
        if untouched is not None and _as_validated(untouched[1]):  # nothing to redact: the canonical bytes as is
            data = untouched[0] + b"\n"
            clean = Observation.model_construct(**untouched[1])
        else:
            clean = Observation.model_validate(REDACTOR.observation(plain))
            data = dumps(clean.model_dump()) + b"\n"
        ref = EvidenceRef(clean.relpath, sha256(data))
        with self._lock:
            held = self._obs.get(clean.relpath)
            if held is not None and held[0].identity != clean.identity:
                return held[1]
            self._write(clean.relpath, data)
            self._obs[clean.relpath] = (clean, ref)
        return ref

    def _write(self, rel: str, data: bytes) -> None:
        """canonical.write_atomic(durable=False) (synced before the manifest) in fewer system calls: each folder is
        made once per store, and the temporary file (same mode 0600, same folder, renamed over the path) is
        written with one os.write. Every system call lets the observing threads take the interpreter lock, and
        a put waited ~0.3 ms for it to come back after each one."""
        path = self.run_dir / rel
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        tmp = path.parent / f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:  # left by an earlier process with this pid and thread id: the usual way
            write_atomic(path, data, durable=False)
            return
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def find(self, collector: str, target: Any, kinds: Any = ()) -> tuple[Observation, EvidenceRef] | None:
        """The observation recorded for exactly this target, None if there is none; EvidenceMismatch when the
        file at its path records another target or could not be read."""
        rel = f"observations/{collector}/{target.name}.json"
        with self._lock:
            found, broken = self._obs.get(rel), self._broken.get(rel)
        if broken is not None:
            raise EvidenceMismatch(broken[0], broken[1])
        if found is None:
            return None
        obs, ref = found
        want = identity_of(target)
        if not same_target(obs.identity, want, kinds):
            raise EvidenceMismatch(
                f"{rel} records {_where(obs.identity)}, not {_where(want)}: it is not this target's evidence "
                "(target names must be unique across the inventory)",
                ref,
            )
        return found

    def get(self, collector: str, name: str) -> tuple[Observation, EvidenceRef] | None:
        """The observation at `observations/<collector>/<name>.json`, whoever it records (tools and tests);
        judging uses `find`, which checks the identity."""
        with self._lock:
            return self._obs.get(f"observations/{collector}/{name}.json")

    def _admit(self, rel: str, data: bytes, ref: EvidenceRef) -> None:
        """Parse a recorded file; its path says what it is, and what it says inside must agree."""
        parts = rel.split("/")
        try:
            obs = Observation.model_validate(json.loads(data))
        except (ValueError, TypeError) as exc:
            first = str(exc).splitlines()[0][:200]
            self._broken[rel] = (f"{rel}: unreadable evidence ({type(exc).__name__}: {first})", ref)
            return
        if len(parts) != 3 or obs.collector != parts[1] or f"{obs.target}.json" != parts[2]:
            self._broken[rel] = (
                f"{rel} records collector {obs.collector!r} for target {obs.target!r}, not what its path names: "
                "refused",
                ref,
            )
            return
        self._obs[rel] = (obs, ref)

    def load_recorded(self, src_dir: Path, admitted: dict[str, str]) -> int:
        """Re-judging: copy in and read back only the evidence files admitted by the recorded run (named by its
        manifest and its results, with the same sha256); a file whose bytes changed since is refused."""
        for rel in sorted(admitted):
            data = (Path(src_dir) / rel).read_bytes()
            ref = EvidenceRef(rel, admitted[rel])
            write_atomic(self.run_dir / rel, data, durable=False)  # synced before the manifest
            if sha256(data) != admitted[rel]:
                self._broken[rel] = (f"{rel}: sha256 {sha256(data)} is not the {admitted[rel]} recorded", ref)
                continue
            self._admit(rel, data, ref)
        return len(self._obs)

    def load(self) -> int:
        """Read every recorded observation file of this run back (preuve merge). Returns how many were loaded."""
        for path in sorted((self.run_dir / "observations").glob("*/*.json")):
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(self.run_dir).as_posix()
            data = path.read_bytes()
            self._admit(rel, data, EvidenceRef(rel, sha256(data)))
        return len(self._obs)

    def __len__(self) -> int:
        return len(self._obs) + len(self._broken)
