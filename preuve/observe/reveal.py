"""What collector adapters share: turning a secret reference into its value (registered with the redactor the
moment it is read, never echoed in an error) and naming the tool that produced an observation."""

from __future__ import annotations

from typing import Any

from preuve import __version__
from preuve.evidence.redact import MIN_SECRET_CHARS, REDACTOR
from preuve.inputs.inventory import SecretRef
from preuve.observe.errors import ObservationError


def reveal(ref: SecretRef, what: str) -> str:
    """The secret's value; an unreadable reference is an ObservationError naming `what`, not the value."""
    try:
        value = ref.resolve()
    except (KeyError, OSError) as exc:
        raise ObservationError(f"{what} reference cannot be read: {exc}") from None
    if value and not REDACTOR.register(value, what) and "PRIVATE KEY" not in value:
        raise ObservationError(f"{what}: the referenced secret is shorter than {MIN_SECRET_CHARS} characters, too "
                               "short to be masked safely in evidence (preuve lint says which reference)")
    return value


def tool(dist: str) -> str:
    """'preuve <version> + <dist> <version>', recorded in every observation."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"preuve {__version__} + {dist} {version(dist)}"
    except PackageNotFoundError:
        return f"preuve {__version__} + {dist}"


def register_inventory(inventory: Any) -> int:
    """Register every readable secret of the inventory before the first observation is stored, so the evidence
    store's safety net (preuve.evidence.redact) sees one target's secret in another target's facts whichever is
    observed first. A reference unreadable here is left to its collector (an error for that target only).
    Returns how many values were registered."""
    from preuve.inputs.inventory import _secret_refs

    count = 0
    for loc, ref in _secret_refs(inventory, ()):
        try:
            value = ref.resolve()
        except (KeyError, OSError, UnicodeDecodeError):
            continue
        what = f"the secret of {'.'.join(map(str, loc))} ({f'env {ref.env}' if ref.env else f'file {ref.file}'})"
        if "PRIVATE KEY" in value:  # a key file: its body's lines, as the collectors register them
            count += sum(REDACTOR.register(line, f"a line of {what}") for line in value.splitlines()
                         if len(line) >= 16 and "PRIVATE KEY" not in line)  # fmt: skip
        else:
            count += REDACTOR.register(value, what)
    return count
