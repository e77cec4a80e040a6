"""Waivers (dérogations): an accepted, justified, time-limited exception to one check on some targets.

A waived failure is reported as `waived`, never hidden; once the expiry passes it is a failure again.
Expiry is unambiguous: a date alone means the end of that day in UTC (inclusive); a date-time must say
its offset. A malformed waiver file stops the run before anything is scanned.
"""

import datetime as dt
import fnmatch
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from preuve.inputs.errors import InputError, InputProblem
from preuve.inputs.source import Located, load_yaml, validate


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    check: str = Field(min_length=1, description="check id or glob")
    target: str = Field("*", min_length=1, description="target name glob")
    justification: str = Field(min_length=10)
    approver: str = Field(min_length=2)
    expires: dt.datetime

    @field_validator("expires", mode="before")
    @classmethod
    def _utc(cls, v: object) -> object:
        if isinstance(v, dt.datetime):
            if v.tzinfo is None:
                raise ValueError("a date-time expiry must carry its UTC offset (e.g. 2027-01-31T18:00:00Z)")
            return v.astimezone(dt.UTC)
        if isinstance(v, dt.date):
            return dt.datetime.combine(v, dt.time(23, 59, 59), tzinfo=dt.UTC)
        if isinstance(v, str):
            try:
                if len(v) == 10:  # a date alone, quoted ('2027-01-31'): the end of that day, UTC
                    return cls._utc(dt.date.fromisoformat(v))
                return cls._utc(dt.datetime.fromisoformat(v.replace("Z", "+00:00")))
            except ValueError:
                raise ValueError("expected an ISO 8601 date (2027-01-31) or date-time with offset") from None
        raise ValueError("expected an ISO 8601 date (2027-01-31) or date-time with offset")

    def covers(self, check_id: str, target: str) -> bool:
        return fnmatch.fnmatchcase(check_id, self.check) and fnmatch.fnmatchcase(target, self.target)

    def active(self, at: dt.datetime) -> bool:
        return at <= self.expires


class WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    waivers: list[Waiver]


def _everything(glob: str) -> bool:
    return set(glob) <= {"*"}


def load_waivers(
    path: Path | str | None, max_days: int = 365, now: dt.datetime | None = None
) -> tuple[list[Waiver], Located | None]:
    """Load and validate waivers. Refused: a waiver of every check on every target, and an expiry more than
    `max_days` (the profile's params.waivers.max_days) after `now`."""
    if path is None:
        return [], None
    located = load_yaml(Path(path))
    wf = validate(located, WaiverFile)
    seen: dict[str, int] = {}
    problems = []
    now = now or dt.datetime.now(dt.UTC)
    for i, w in enumerate(wf.waivers):
        if _everything(w.check) and _everything(w.target):
            problems.append(
                InputProblem(
                    located.path,
                    located.line_of(("waivers", i, "check")),
                    f"waivers[{i}]",
                    "a waiver of every check on every target is refused: name the checks or the targets it covers",
                )
            )
        if w.expires - now > dt.timedelta(days=max_days):
            problems.append(
                InputProblem(
                    located.path,
                    located.line_of(("waivers", i, "expires")),
                    f"waivers[{i}].expires",
                    f"expires {w.expires:%Y-%m-%d}, more than {max_days} days from now "
                    "(params.waivers.max_days of the profile): a waiver is reviewed and "
                    "re-approved, not granted forever",
                )
            )
        if w.id in seen:
            problems.append(
                InputProblem(
                    located.path,
                    located.line_of(("waivers", i, "id")),
                    f"waivers[{i}].id",
                    f"duplicate waiver id {w.id!r} (first at waivers[{seen[w.id]}])",
                )
            )
        seen.setdefault(w.id, i)
    if problems:
        raise InputError(problems)
    return list(wf.waivers), located


def find_waiver(
    waivers: list[Waiver], check_id: str, target: str, at: dt.datetime
) -> tuple[Waiver | None, Waiver | None]:
    """(active waiver, expired waiver) covering this result; the expired one is reported, not applied."""
    active = next((w for w in waivers if w.covers(check_id, target) and w.active(at)), None)
    expired = None if active else next((w for w in waivers if w.covers(check_id, target)), None)
    return active, expired


def waiver_warnings(
    waivers: list[Waiver],
    located: Located,
    check_ids: list[str],
    target_names: list[str] | None,
    now: dt.datetime | None = None,
) -> list[InputProblem]:
    """What `preuve lint` warns about (not errors: the run reports them as failures anyway): waivers already
    expired, and waivers whose check or target glob matches nothing (a typo, or a target long gone)."""
    now = now or dt.datetime.now(dt.UTC)
    out = []
    for i, w in enumerate(waivers):
        line = located.line_of(("waivers", i))

        def warn(message: str, field: str = "") -> None:
            out.append(InputProblem(located.path, line, f"waivers[{i}]{field}", f"warning: {message}"))  # noqa: B023

        if not w.active(now):
            warn(f"waiver {w.id} expired on {w.expires:%Y-%m-%d}: what it covered fails again", ".expires")
        if not any(fnmatch.fnmatchcase(c, w.check) for c in check_ids):
            warn(f"waiver {w.id}: check {w.check!r} matches no check of the catalogue", ".check")
        if target_names is not None and not any(fnmatch.fnmatchcase(t, w.target) for t in target_names):
            warn(f"waiver {w.id}: target {w.target!r} matches no target of the inventory", ".target")
    return out
