"""The declared software inventory (inventory `baseline.software_inventory`): which packages, at which version, on
which hosts.

Why an input: 8.1.b asks the provider to keep an inventory of the software implementing the service, each with its
version and the equipment it is installed on. preuve cannot say whether that list is complete or kept up to date
over time (the auditor can); it can compare what it declares with what each host's package database holds.
Entries name hosts (inventory names) or host tags; a package declared twice for one host must agree.
"""

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class SoftwareEntry(_Strict):
    """Packages and their versions installed on the hosts (or tagged hosts) named."""

    hosts: list[str] = Field([], description="inventory host names")
    tags: list[str] = Field([], description="every host carrying one of these tags")
    packages: dict[str, str] = Field(
        description="package name -> version exactly as the package manager prints it (dpkg: 1:9.2p1-2+deb12u3; "
        "rpm: EPOCH:VERSION-RELEASE, epoch 0 when none)"
    )


class SoftwareInventory(_Strict):
    """The software implementing the service, its versions and where it is installed (8.1.b)."""

    software: list[SoftwareEntry] = []

    def for_host(self, name: str, tags: tuple[str, ...] | list[str]) -> dict[str, str]:
        """Package -> declared version on this host (entries naming it or one of its tags)."""
        out: dict[str, str] = {}
        for e in self.software:
            if name in e.hosts or set(e.tags) & set(tags):
                out.update(e.packages)
        return out


class SoftwareInventoryFile(_Strict):
    """The software inventory kept in its own YAML file (relative to the inventory), e.g. exported from a CMDB.

    Loaded with the inventory (errors name that file and line); a run keeps a copy in its inputs/ so a re-judge
    reads the same list. A file absent at load time is left as a reference: the check then fails naming it."""

    file: str


def load_file(
    ref: SoftwareInventoryFile, as_written: str, inventory_dir: Path
) -> SoftwareInventory | SoftwareInventoryFile:
    """The inventory the reference names: the run's recorded copy when the inventory is a run's, else the file."""
    from preuve.inputs.errors import InputError, InputProblem, field_path
    from preuve.inputs.flows import recorded_input
    from preuve.inputs.source import load_yaml, validate

    path = recorded_input(inventory_dir, "software_inventory", as_written) or Path(ref.file)
    if not path.is_file():
        return ref
    located = load_yaml(path)
    declared = validate(located, SoftwareInventory)
    problems: list[InputProblem] = []
    lint(
        declared,
        (),
        lambda loc, msg: problems.append(InputProblem(located.path, located.line_of(loc), field_path(loc), msg)),
    )
    if problems:
        raise InputError(problems)
    return declared


def lint(declared: SoftwareInventory, at: tuple, add: Callable[[tuple, str], None]) -> None:
    """Each entry names where it applies and non-empty versions; one host's entries agree on a package's version."""
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for i, e in enumerate(declared.software):
        if not e.hosts and not e.tags:
            add((*at, "software", i), "an entry names the hosts or tags it is installed on (hosts: or tags:)")
        for pkg, version in e.packages.items():
            if not str(version).strip():
                add((*at, "software", i, "packages", pkg), f"{pkg!r}: empty version")
            for h in e.hosts:
                earlier = seen.get((h, pkg))
                if earlier is not None and earlier[0] != version:
                    add(
                        (*at, "software", i, "packages", pkg),
                        f"{pkg!r} on {h!r} declared {version!r} here and {earlier[0]!r} in entry {earlier[1]}",
                    )
                seen.setdefault((h, pkg), (version, i))
