"""The declared list of active administrators (inventory `baseline.roster`): who may hold access on the hosts.

Why an input: deprovisioning (9.2.c) and the reviews of rights (9.4.a, 9.4.c) compare what the hosts grant with
what the provider says it granted. The roster names people and the login accounts each one uses, the technical
(non-nominative) accounts and who may use them, and the dates of the last reviews. Only names, dates and key
fingerprints: no secret is ever declared here.
"""

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

_FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class RosterPerson(_Strict):
    """A person under the provider's responsibility and the accounts she logs in with (nominative accounts)."""

    name: str = Field(description="the person (as the HR or IdP record names her)")
    accounts: list[str] = Field(description="her login names on the hosts")
    keys: list[str] = Field(
        [],
        description="SHA256 fingerprints of her SSH keys (`ssh-keygen -lf`); when given, any other key found in "
        "her accounts is a leftover",
    )
    vetted_on: dt.date | None = Field(
        None, description="date of the reinforced background check of people with elevated privileges (7.1.b)"
    )

    @field_validator("keys")
    @classmethod
    def _fingerprints(cls, v: list[str]) -> list[str]:
        bad = [k for k in v if not _FINGERPRINT.match(k)]
        if bad:
            raise ValueError(f"expected SHA256 fingerprints as `ssh-keygen -lf` prints them (SHA256:...): {bad}")
        return v


class TechnicalAccount(_Strict):
    """A non-nominative account (root, a service account) and the people's accounts allowed to use it."""

    name: str
    users: list[str] = Field(
        [], description="accounts of declared people allowed to use it through sudo (reviewed quarterly, 9.4.c)"
    )
    direct_login: bool = Field(
        False, description="a machine account logged in to directly (a scanner, a backup pull): says why"
    )
    why: str | None = None


class Roster(_Strict):
    """Active administrators and technical accounts, with the dates of the last reviews."""

    reviewed_on: dt.date = Field(description="last review of the rights of every user (9.4.a: yearly)")
    technical_reviewed_on: dt.date | None = Field(
        None, description="last review of who may use the technical accounts (9.4.c: quarterly)"
    )
    people: list[RosterPerson] = []
    technical_accounts: list[TechnicalAccount] = []

    def person_of(self) -> dict[str, str]:
        """Login name -> the person it belongs to."""
        return {a: p.name for p in self.people for a in p.accounts}

    def technical(self) -> dict[str, TechnicalAccount]:
        return {t.name: t for t in self.technical_accounts}


class RosterFile(_Strict):
    """The roster kept in its own YAML file (relative to the inventory), e.g. exported from the HR or IdP system.

    Loaded with the inventory (errors name that file and line); a run keeps a copy in its inputs/ so a re-judge
    reads the same list. A file absent at load time is left as a reference: the checks then fail naming it."""

    file: str


def load_file(ref: RosterFile, as_written: str, inventory_dir: Path) -> Roster | RosterFile:
    """The roster the reference names: the run's recorded copy when the inventory is a run's, else the file."""
    from preuve.inputs.errors import InputError, InputProblem
    from preuve.inputs.flows import recorded_input
    from preuve.inputs.source import load_yaml, validate

    path = recorded_input(inventory_dir, "roster", as_written) or Path(ref.file)
    if not path.is_file():
        return ref
    located = load_yaml(path)
    roster = validate(located, Roster)
    problems: list = []
    lint(
        roster, (), lambda loc, msg: problems.append(InputProblem(located.path, located.line_of(loc), _path(loc), msg))
    )
    if problems:
        raise InputError(problems)
    return roster


def _path(loc: tuple) -> str:
    from preuve.inputs.errors import field_path

    return field_path(loc)


def lint(roster: Roster, at: tuple, add: Callable[[tuple, str], None], today: dt.date | None = None) -> None:
    """Cross-entry rules: one owner per account, technical users are declared people, dates not in the future."""
    today = today or dt.datetime.now(dt.UTC).date()
    owner: dict[str, str] = {}
    for i, p in enumerate(roster.people):
        for j, a in enumerate(p.accounts):
            if a in owner:
                add((*at, "people", i, "accounts", j), f"account {a!r} already belongs to {owner[a]!r}")
            owner.setdefault(a, p.name)
    technical: set[str] = set()
    for i, t in enumerate(roster.technical_accounts):
        if t.name in owner:
            add((*at, "technical_accounts", i, "name"), f"{t.name!r} is also the account of {owner[t.name]!r}")
        if t.name in technical:
            add((*at, "technical_accounts", i, "name"), f"duplicate technical account {t.name!r}")
        technical.add(t.name)
        if t.direct_login and not (t.why or "").strip():
            add((*at, "technical_accounts", i, "why"), "direct_login: true needs a `why` (who logs in, for what)")
        for j, u in enumerate(t.users):
            if u not in owner:
                known = sorted(owner) or "none"
                msg = f"{u!r} is no declared person's account; known: {known}"
                add((*at, "technical_accounts", i, "users", j), msg)
    for key in ("reviewed_on", "technical_reviewed_on"):
        when = getattr(roster, key)
        if when is not None and when > today:
            add((*at, key), f"{when.isoformat()} is in the future (today is {today.isoformat()} UTC)")
