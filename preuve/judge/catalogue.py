"""The catalogue of checks: each check's declaration joined with its prose (catalogue.yaml next to it).

Prowler pairs a check with its metadata file; we do the same per domain folder: `checks/<domain>/check_*.py`
hold the logic and requirement ids, `checks/<domain>/catalogue.yaml` the bilingual title, rationale,
remediation and the labels of what is observed.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from preuve import yamlio
from preuve.judge.check_api import DECLARED, CheckSpec


def checks_dir() -> Path:
    """The `checks/` folder: from a source checkout (editable install) or the installed `preuve_checks`."""
    here = Path(__file__).resolve().parents[2] / "checks"
    if (here / "pytest.ini").exists():
        return here
    import importlib.util

    spec = importlib.util.find_spec("preuve_checks")  # located, not imported: the checks sit above the judge
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("preuve_checks: neither a source checkout nor an installed check folder")
    return Path(spec.origin).parent


@dataclass(frozen=True)
class CheckInfo:
    spec: CheckSpec
    title: dict[str, str]
    rationale: dict[str, str]
    remediation: dict[str, str]
    path: str
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.spec.id

    def label(self, key: str, lang: str) -> str:
        return self.labels.get(key, {}).get(lang, key)


class CatalogueError(Exception):
    pass


def _package(name: str, folder: Path | None) -> None:
    """A stand-in package for the catalogue's own imports, so that a check's relative import of a sibling module
    (`from .check_tenants import tenant_namespaces`) resolves in the same folder."""
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [str(folder)] if folder is not None else []
        sys.modules[name] = package


def _import(path: Path) -> Any:
    name = f"_preuve_catalogue_.{path.parent.name}.{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    _package("_preuve_catalogue_", None)
    _package(f"_preuve_catalogue_.{path.parent.name}", path.parent)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_catalogue_of(domain: Path) -> list[CheckSpec]:
    """The declarations of one domain folder's checks (no prose), importing its modules if needed."""
    specs: list[CheckSpec] = []
    for path in sorted(domain.glob("check_*.py")):
        key = str(path.resolve())
        if key not in DECLARED:
            _import(path)
        specs.extend(DECLARED.get(key, {}).values())
    return specs


def load_catalogue(root: Path | None = None) -> dict[str, CheckInfo]:
    """Import every check module and join it with its catalogue.yaml; inconsistencies are errors. Without
    `root`: the shipped checks plus the check packs in use (preuve.judge.packs)."""
    from preuve.judge.packs import PackError, pack_dirs

    if root is not None:
        return _load((root,), ())
    try:
        packs = tuple(pack_dirs())
    except PackError as exc:
        raise CatalogueError(str(exc)) from None
    return _load((checks_dir(),), packs)


def _pack_domains(packs: tuple[Path, ...]) -> list[tuple[Path, Path]]:
    from preuve.judge.packs import PackError, domains

    try:
        return [(d, pack.parent) for pack in packs for d in domains(pack)]
    except PackError as exc:
        raise CatalogueError(str(exc)) from None


@lru_cache(maxsize=4)
def _load(roots: tuple[Path, ...], packs: tuple[Path, ...]) -> dict[str, CheckInfo]:
    out: dict[str, CheckInfo] = {}
    by_folder: dict[Path, set[str]] = {}  # check ids by folder relative to its base (the `missing` test below)
    found = [
        (p, root.parent)
        for root in roots
        for p in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    ]
    for domain, base in found + _pack_domains(packs):
        meta_file = domain / "catalogue.yaml"
        meta = yamlio.load(meta_file.read_text()) if meta_file.exists() else {}
        labels = meta.get("labels", {}) or {}
        prose = meta.get("checks", {}) or {}
        for path in sorted(domain.glob("check_*.py")):
            key = str(path.resolve())
            if key not in DECLARED:  # not imported yet (outside a pytest run): import it once
                _import(path)
            for spec in DECLARED.get(key, {}).values():
                if spec.id in out:
                    raise CatalogueError(f"check id {spec.id} declared twice ({out[spec.id].path}, {path})")
                text = prose.get(spec.id)
                if not text:
                    raise CatalogueError(f"check {spec.id} ({path}) has no entry in {meta_file}")
                relative = path.relative_to(base)
                out[spec.id] = CheckInfo(
                    spec=spec,
                    title=text["title"],
                    rationale=text["rationale"],
                    remediation=text["remediation"],
                    path=str(relative),
                    labels=labels,
                )
                by_folder.setdefault(relative.parent, set()).add(spec.id)
        missing = set(prose) - by_folder.get(domain.relative_to(base), set())
        if missing:
            raise CatalogueError(f"{meta_file} describes checks that do not exist: {sorted(missing)}")
    return out


def requirement_chapter(req: str) -> str:
    """'10.2.c' -> '10'."""
    return req.split(".")[0]
