"""What collector adapters share: turning a secret reference into its value (registered with the redactor the
moment it is read, never echoed in an error) and naming the tool that produced an observation."""

from __future__ import annotations

import functools
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
        raise ObservationError(
            f"{what}: the referenced secret is shorter than {MIN_SECRET_CHARS} characters, too "
            "short to be masked safely in evidence (preuve lint says which reference)"
        )
    return value


@functools.cache
def tool(dist: str) -> str:
    """'preuve <version> + <dist> <version>', recorded in every observation (looked up once per process: the
    metadata lookup costs ~0.2 ms, per observation otherwise)."""
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
            count += sum(
                REDACTOR.register(line, f"a line of {what}")
                for line in value.splitlines()
                if len(line) >= 16 and "PRIVATE KEY" not in line
            )
        else:
            count += REDACTOR.register(value, what)
            count += sum(REDACTOR.register(form, f"{how} of {what}") for how, form in _forms(inventory, loc, value))
    return count


def _forms(inventory: Any, loc: tuple, value: str) -> list[tuple[str, str]]:
    """The other spellings a secret travels in: a TOTP seed as hex and as base32 (pam_oath, authenticator apps),
    a password with its user as the basic-auth header value."""
    import base64
    import binascii
    import contextlib

    forms: list[tuple[str, str]] = []
    if loc and loc[-1] == "totp":
        try:
            forms.append(("base32 form", base64.b32encode(bytes.fromhex(value)).decode().rstrip("=")))
        except ValueError:
            with contextlib.suppress(binascii.Error, ValueError):
                forms.append(("hex form", base64.b32decode(value.upper() + "=" * (-len(value) % 8)).hex()))
    if loc and loc[-1] == "password":
        parent = inventory
        for step in loc[:-1]:
            parent = parent[step] if isinstance(step, int) or isinstance(parent, dict) else getattr(parent, step)
        user = getattr(parent, "user", None)
        if isinstance(user, str) and user:
            forms.append(("basic-auth header", base64.b64encode(f"{user}:{value}".encode()).decode()))
    return forms
