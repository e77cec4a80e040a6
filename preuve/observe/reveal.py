"""What collector adapters share: turning a secret reference into its value (registered with the redactor the
moment it is read, never echoed in an error) and naming the tool that produced an observation."""

from __future__ import annotations

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
    if value and not REDACTOR.register(value) and "PRIVATE KEY" not in value:
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
