"""Profiles: which checks run, with which parameters, for which service type (DESIGN.md §2).

A profile may `extends:` another one (found next to it as `<id>.yaml`, else among the shipped profiles): the child
narrows the parent's selection and overrides its parameters key by key. The resolved profile's sha256 goes into
every run. `-p` takes a path or the name of a shipped profile (`secnumcloud-3.2`, `ci-quick`: package data of
`preuve_profiles`, so a wheel install finds them without a checkout).
"""

import fnmatch
import functools
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from preuve.inputs.errors import InputError, InputProblem
from preuve.inputs.params import Params
from preuve.inputs.source import Located, load_yaml, validate

ServiceType = Literal["IaaS", "CaaS", "PaaS", "SaaS"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Text(Strict):
    fr: str
    en: str


class Selection(Strict):
    """Globs over check ids, tags and requirement ids (`10.2.*`). Empty lists select nothing on that axis."""

    checks: list[str] = []
    tags: list[str] = []
    requirements: list[str] = []


class ProfileFile(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?$")
    title: Text
    extends: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9.-]*$",
        description="id of the parent profile, found next to this file as <id>.yaml",
    )
    service_types: list[ServiceType] = ["IaaS", "CaaS", "PaaS", "SaaS"]
    select: Selection | None = None
    exclude: Selection = Selection()
    params: dict[str, Any] = {}


class Profile(BaseModel):
    """A resolved profile: the chain of files, the merged parameters, the selection rules."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    id: str
    version: str
    title: Text
    chain: list[str]
    service_types: list[str]
    selects: list[Selection]
    excludes: list[Selection]
    params: Params
    sha256: str
    files: list[str]

    def selected(self, check_id: str, tags: list[str], requirements: list[str]) -> bool:
        """A check runs if every profile in the chain selects it and none excludes it."""
        return all(_matches(s, check_id, tags, requirements) for s in self.selects) and not any(
            _matches(e, check_id, tags, requirements) for e in self.excludes
        )


def _matches(sel: Selection, check_id: str, tags: list[str], reqs: list[str]) -> bool:
    return (
        _any_glob(tuple(sel.checks))(check_id)
        or any(_any_glob(tuple(sel.tags))(t) for t in tags)
        or any(_any_glob(tuple(sel.requirements))(r) for r in reqs)
    )


@functools.lru_cache(maxsize=256)
def _any_glob(globs: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a name matches any of these globs (fnmatch.fnmatchcase's rules), as one compiled pattern: the
    selection is asked for every collected (check, target) pair, ~2,500 times at 100 endpoints."""
    if not globs:
        return lambda name: False
    pattern = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))
    return lambda name: pattern.match(name) is not None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def shipped_dir() -> Path:
    """Where the shipped profiles are installed (the checkout's profiles/ in an editable install)."""
    from importlib.resources import files

    return Path(str(files("preuve_profiles")))


def shipped_names() -> list[str]:
    return sorted(p.stem for p in shipped_dir().glob("*.yaml"))


def resolve_profile(ref: Path | str) -> Path:
    """A path as given when it exists or looks like one; otherwise the shipped profile of that name."""
    path = Path(ref)
    if path.exists() or path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return path
    shipped = shipped_dir() / f"{ref}.yaml"
    if shipped.exists():
        return shipped
    names = ", ".join(shipped_names())
    raise InputError([InputProblem(path, None, "", f"no such file, nor a shipped profile of that name ({names})")])


def _load_chain(path: Path, seen: list[str]) -> list[tuple[ProfileFile, Located]]:
    located = load_yaml(path)
    pf = validate(located, ProfileFile)
    if pf.id in seen:
        raise InputError(
            [
                InputProblem(
                    path,
                    located.line_of(("extends",)),
                    "extends",
                    f"inheritance cycle: {' -> '.join([*seen, pf.id])}",
                )
            ]
        )
    chain: list[tuple[ProfileFile, Located]] = []
    if pf.extends:
        parent = path.parent / f"{pf.extends}.yaml"
        if not parent.exists() and (shipped_dir() / f"{pf.extends}.yaml").exists():
            parent = shipped_dir() / f"{pf.extends}.yaml"  # a site profile extending a shipped one
        if not parent.exists():
            raise InputError(
                [
                    InputProblem(
                        path,
                        located.line_of(("extends",)),
                        "extends",
                        f"parent profile {pf.extends!r} not found (looked for {parent})",
                    )
                ]
            )
        chain = _load_chain(parent, [*seen, pf.id])
    return [*chain, (pf, located)]


def load_profile(path: Path | str) -> Profile:
    """Resolve a profile and its parents; parameter errors point at the file that set the bad value."""
    chain = _load_chain(resolve_profile(path), [])
    merged: dict[str, Any] = {}
    for pf, located in chain:
        merged = _merge(merged, pf.params)
        try:
            Params.model_validate(merged)
        except Exception:
            # Re-validate this file's own params block to get file:line for the culprit.
            wrapped = Located(located.path, {"params": merged}, located.lines, located.sha256)
            validate(wrapped, _ParamsHolder)
    params = Params.model_validate(merged)
    leaf = chain[-1][0]
    digest = hashlib.sha256()
    for _, located in chain:
        digest.update(located.sha256.encode())
    if all(pf.select is None for pf, _ in chain):
        raise InputError([InputProblem(chain[-1][1].path, 1, "select", "no check selected: add a 'select' block")])
    return Profile(
        id=leaf.id,
        version=leaf.version,
        title=leaf.title,
        chain=[pf.id for pf, _ in chain],
        service_types=list(leaf.service_types),
        selects=[pf.select for pf, _ in chain if pf.select],
        excludes=[pf.exclude for pf, _ in chain],
        params=params,
        sha256=digest.hexdigest(),
        files=[str(located.path) for _, located in chain],
    )


class _ParamsHolder(Strict):
    params: Params


def params_digest(params: Params) -> str:
    return hashlib.sha256(json.dumps(params.model_dump(), sort_keys=True).encode()).hexdigest()
