"""The collectors' registry: every check fixture has exactly one provider, names are unique, building it is cheap.

The registry (preuve/observe/registry.py) is built from the modules of preuve/observe/<family>/ that declare
COLLECTOR or HOST_FACTS; nothing else lists collectors. These tests read the catalogue's checks as source (the
fixture names their functions take, the target kind their @check names), so a check asking for a fixture nobody
declares, or declared on another kind of target (it would never be planned: `error` on every target), fails here,
without root or network.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import pytest

from preuve.observe.registry import Collector, Fixture, HostFact, RegistryError, build, declaring_modules, registry
from tests.conftest import REPO

# Fixtures the run driver itself provides (preuve/run/plugin.py), not collectors.
DRIVER_FIXTURES = {"judge", "params", "now", "target", "request"}
HEAVY = ("paramiko", "requests", "boto3", "botocore", "nassl", "kubernetes", "testinfra", "pyotp")


def _checks() -> list[tuple[str, str, str | None, list[str]]]:
    """(file, function, target kind, fixture names) of every @check function of the catalogue."""
    found = []
    for path in sorted((REPO / "checks").rglob("check_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "check":
                    kind = next(
                        (
                            k.value.value
                            for k in deco.keywords
                            if k.arg == "target" and isinstance(k.value, ast.Constant)
                        ),
                        None,
                    )
                    names = [a.arg for a in node.args.args]
                    found.append((str(path.relative_to(REPO)), node.name, kind, names))
    return found


def test_the_catalogue_is_read():
    checks = _checks()
    assert len(checks) > 80, "the scan of checks/ found too few @check functions: the pattern is broken"
    assert any("tls" in names for _, _, _, names in checks)


def test_every_check_fixture_resolves_to_one_provider_of_its_target_kind():
    fixtures = registry().fixtures
    problems = []
    for path, func, kind, names in _checks():
        for name in names:
            if name in DRIVER_FIXTURES:
                continue
            provider = fixtures.get(name)
            if provider is None:
                problems.append(f"{path}::{func} asks for `{name}`: no collector declares it")
            elif kind is not None and provider.kind != kind:
                problems.append(
                    f"{path}::{func} judges `{kind}` targets but `{name}` is collected on `{provider.kind}` "
                    f"({provider.module}): it would never be planned"
                )
    assert not problems, "\n".join(problems)


def test_every_declared_name_is_unique_and_each_provider_names_its_collector():
    reg = registry()
    assert reg.modules == tuple(dict.fromkeys(reg.modules)), "a module was read twice"
    for name, provider in reg.fixtures.items():
        assert provider.fixture == name
        assert provider.collector in reg.collectors, f"{name}: collector {provider.collector} is not declared"
        if provider.fact is not None and provider.collector == "ssh_host":
            assert provider.fact in reg.host_facts
    for collector in reg.collectors.values():
        assert collector.limit >= 1, f"{collector.name}: a limit below 1 would never run"


def _module(name: str, **attrs: object) -> types.ModuleType:
    mod = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(mod, k, v)
    return mod


def _noop(*_: object) -> tuple:
    return {}, {}, None, "test"


@pytest.mark.parametrize(
    "second",
    [
        {"COLLECTOR": Collector("alpha", _noop, 1)},  # the same collector name
        {"COLLECTOR": Collector("beta", _noop, 1, fixtures=(Fixture("alpha_fixture", "host"),))},  # same fixture
        {"HOST_FACTS": (HostFact("uname", "uname -a"),)},  # the same host fact
        {"HOST_FACTS": (HostFact("other", "true", fixture="alpha_fixture"),)},  # a fact claiming a taken fixture
    ],
)
def test_a_name_declared_twice_is_refused_naming_both_modules(second: dict[str, object]):
    first = _module(
        "fam.first",
        COLLECTOR=Collector("alpha", _noop, 1, fixtures=(Fixture("alpha_fixture", "host"),)),
        HOST_FACTS=(HostFact("uname", "uname -srm"),),
    )
    ssh = _module("fam.ssh", COLLECTOR=Collector("ssh_host", _noop, 1))
    with pytest.raises(RegistryError, match=r"declared twice: in fam\.first and in fam\.second"):
        build([ssh, first, _module("fam.second", **second)])


def test_host_facts_without_the_ssh_collector_or_with_a_bad_name_are_refused():
    with pytest.raises(RegistryError, match="no ssh_host collector"):
        build([_module("fam.a", HOST_FACTS=(HostFact("uname", "uname"),))])
    ssh = _module("fam.ssh", COLLECTOR=Collector("ssh_host", _noop, 1))
    with pytest.raises(RegistryError, match="identifier name"):
        build([ssh, _module("fam.b", HOST_FACTS=(HostFact("un-ame", "uname"),))])


def test_building_the_registry_imports_no_heavy_library():
    """Declaring modules keep paramiko, requests, boto3, nassl, kubernetes, testinfra inside functions: `preuve
    checks`, lint and every unit test build the registry without paying for (or needing) them."""
    code = (
        "import sys\n"
        "from preuve.observe.registry import registry\n"
        "r = registry()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_declarations_are_found_by_reading_not_importing():
    names = declaring_modules()
    assert "preuve.observe.ssh.host" in names and "preuve.observe.tls" in names
    assert "preuve.observe.ssh.connection" not in names  # declares nothing: never imported to build the registry


def test_every_preload_module_exists():
    missing = [
        (c.name, m) for c in registry().collectors.values() for m in c.preload if importlib.util.find_spec(m) is None
    ]
    assert not missing


def test_every_observe_family_is_packaged():
    spec = importlib.util.spec_from_file_location("preuve_setup", REPO / "setup.py")
    assert spec is not None and spec.loader is not None
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)  # setup.py computes the package list from the folders
    packages = set(setup.packages())
    root = REPO / "preuve" / "observe"
    families = {f"preuve.observe.{p.name}" for p in root.iterdir() if (p / "__init__.py").is_file()}
    assert families and families <= packages, f"not packaged: {sorted(families - packages)}"


def test_every_host_fact_rides_in_one_framed_script():
    from preuve.observe.ssh.host import build_script, parse_framed

    names = sorted(registry().host_facts)
    script = build_script(names, "n0nce", None)
    assert all(f"==n0nce {n} stdout" in script for n in names)
    framed = b"".join(f"==n0nce {n} stdout\nout\n==n0nce {n} stderr\n\n==n0nce {n} rc 0\n".encode() for n in names)
    assert set(parse_framed(framed, "n0nce")) == set(names)


def test_a_collector_module_is_one_file():
    """What adding a collector touches on the engine side: its own module (the registry finds it)."""
    reg = registry()
    for collector in reg.collectors.values():
        owners = {p.module for p in reg.fixtures.values() if p.collector == collector.name and p.fact is None}
        assert len(owners) <= 1, f"{collector.name}: fixtures declared in {owners}"
    assert Path(sys.modules["preuve.observe.registry"].__file__ or "").name == "registry.py"


def test_preuve_checks_names_who_observes_each_check():
    """`preuve checks describe` reads the registry: every catalogue check that judges evidence names its collector."""
    from preuve.judge.catalogue import load_catalogue
    from preuve.report.checks_listing import observed_by

    cat = load_catalogue()
    rows = {cid: observed_by(info) for cid, info in cat.items()}
    assert rows["SSH-MAX-AUTH-TRIES"] == [
        {
            "fixture": "sshd",
            "collector": "ssh_host",
            "fact": "sshd_effective",
            "module": "preuve.observe.ssh.sshd_effective",
            "doc": registry().fixtures["sshd"].doc,
        }
    ]
    blind = [cid for cid, row in rows.items() if not row and cat[cid].spec.target not in ("host",)]
    assert not blind, f"checks reading no declared fixture: {blind}"


def test_every_declared_fixture_is_collected_on_a_target_kind_the_inventory_builds():
    from preuve.inputs.targets import BUILDERS

    unknown = {p.fixture: p.kind for p in registry().fixtures.values() if p.kind not in BUILDERS}
    assert not unknown, f"no @target_kind builder (preuve/inputs/targets.py) for: {unknown}"
