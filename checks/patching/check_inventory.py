"""The declared software inventory (8.1.b) against each host's package database: every declared package installed
at its declared version, and the service software installed there declared."""

from preuve.judge import check


def _norm(version: str) -> str:
    """Epoch 0 is implicit (dpkg omits it, rpm prints (none) or 0): 0:1.2-3 and 1.2-3 are the same version."""
    version = version.strip()
    return version[2:] if version.startswith("0:") else version


def _declared(target) -> dict[str, str] | None:
    software = target.software
    return software.for_host(target.name, target.tags) if hasattr(software, "for_host") else None


@check(
    "INV-SOFTWARE-DECLARED",
    requirements={
        "8.1.b#1": "the declared software inventory matches each host's installed packages and versions",
    },
    target="baseline_host",
    severity="medium",
    rule="dpkg-query -W / rpm -qa comparés à l'inventaire logiciel déclaré (baseline.software_inventory)",
)
def check_software_declared(packages, params, target, judge):
    if target.software is None:
        why = "the inventory declares no baseline.software_inventory"
    elif not hasattr(target.software, "for_host"):
        why = f"the software inventory file {target.software.file} could not be read"
    else:
        why = None
    if judge.absent("inventory.software", why, "a declared software inventory"):
        return
    declared = _declared(target) or {}
    installed = packages["packages"]
    mismatched = {}
    for pkg, version in sorted(declared.items()):
        have = installed.get(pkg)
        if not have:
            mismatched[pkg] = f"declared {version}, not installed"
        elif _norm(version) not in {_norm(v) for v in have}:
            mismatched[pkg] = f"declared {version}, installed {', '.join(have)}"
    judge.equals("inventory.declared_mismatch", mismatched, {})
    if params.patching.inventory_watch_undeclared:
        undeclared = {
            pkg: ", ".join(installed[pkg])
            for pkg in sorted(params.patching.inventory_watch)
            if pkg in installed and pkg not in declared
        }
        judge.equals("inventory.watch_undeclared", undeclared, {})
