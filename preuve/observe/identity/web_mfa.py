"""Is a second factor *enforced* on a web admin interface, and does it refuse anything? Requests with a canary.

1. the admin URL without credentials: it must answer 401/403 or redirect (to the login page or the IdP) before any
   content; 2. when the TOTP seed is given: password + the right code (a step this scanner has not used yet, see
   canary_ledger), which must give a session (else the refusals below prove nothing; retried once on a later
   step); it comes first because a success clears the application's failure count; 3. the password alone,
   4. password + a WRONG code (six digits valid for no step within ±20 of now) and 5. password + an EMPTY code
   field: none may give a session.

Lockout budget: 3-5 are three failures an application's lockout may count; they are sent only when this scanner's
own uncleared failures on the canary plus these three stay below the profile's `access.faillock_max_deny` (else
nothing wrong is sent and the check reports an error saying why). Redirects are never followed automatically,
the server certificate is verified, and no form value is recorded: each attempt says what was sent ("password
only", "password + valid TOTP", "password + wrong code (6 digits)", "password + empty code"), the status codes,
whether a session cookie came back, and sizes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from preuve.observe.errors import ObservationError
from preuve.observe.identity import canary_ledger
from preuve.observe.identity.ssh_mfa import STEP, FactorProbe, fresh_code, wrong_code
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    import requests

    from preuve.inputs.targets import Target


PASSWORD_ONLY, VALID, WRONG, EMPTY = (
    "password only",
    "password + valid TOTP",
    "password + wrong code (6 digits)",
    "password + empty code",
)
VALID_LATER = "password + valid TOTP (a later step)"


def _admin(session: requests.Session, url: str, verify: str | bool, timeout: float) -> dict:
    r = session.get(url, allow_redirects=False, verify=verify, timeout=timeout)
    return {
        "status": r.status_code,
        "location": r.headers.get("Location"),
        "content_bytes": len(r.content),
        "content_type": r.headers.get("Content-Type"),
    }


def _login(url: str, login_url: str, form: dict[str, str], verify: str | bool, timeout: float) -> dict:
    import requests

    with requests.Session() as s:
        r = s.post(login_url, data=form, allow_redirects=False, verify=verify, timeout=timeout)
        cookies = sorted(s.cookies.keys())
        after = _admin(s, url, verify, timeout)
    return {
        "login_status": r.status_code,
        "cookies_set": cookies,
        "admin_status_after": after["status"],
        "session": after["status"] == 200 and bool(cookies),
    }


def collect(spec, password: str, probe: FactorProbe, *, timeout: float = 10.0) -> tuple[dict, dict]:
    """Anonymous request, then the logins of the module docstring, within the lockout budget."""
    import requests

    verify: str | bool = spec.ca_file or True
    f = spec.fields
    user_pw = {f["user"]: spec.user, f["password"]: password}
    facts: dict[str, Any] = {
        "anonymous": None,
        "password_only": None,
        "password_totp": None,
        "wrong_otp": None,
        "empty_otp": None,
        "factor_probe": {"run": True, "reason": None},
    }
    attempts: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout + 2 * STEP

    def login(sent: str, form: dict[str, str]) -> dict:
        result = {"sent": sent, **_login(spec.url, spec.login_url, form, verify, timeout)}
        attempts.append(result)
        return result

    try:
        with requests.Session() as s:
            facts["anonymous"] = _admin(s, spec.url, verify, timeout)
        with canary_ledger.entry("web", spec.login_url, spec.user) as record:
            budget = {
                "access.faillock_max_deny": probe.max_deny,
                "access.faillock_fail_interval_s": probe.interval_s,
                "scanner_failures_pending_before": canary_ledger.pending(record, probe.interval_s),
            }
            facts["factor_probe"]["budget"] = budget
            if probe.seed is not None:
                code = fresh_code(probe.seed, record, probe.lookahead, deadline)
                facts["password_totp"] = login(VALID, {**user_pw, f["otp"]: code})
                if not facts["password_totp"]["session"]:  # a step just spent by another login: one later step
                    canary_ledger.failed(record)
                    code = fresh_code(probe.seed, record, probe.lookahead, deadline)
                    facts["password_totp"] = login(VALID_LATER, {**user_pw, f["otp"]: code})
                if facts["password_totp"]["session"]:
                    canary_ledger.cleared(record)
                else:
                    canary_ledger.failed(record)
            pending = budget["scanner_failures_pending"] = canary_ledger.pending(record, probe.interval_s)
            if pending + 3 >= probe.max_deny:
                facts["factor_probe"] = {
                    "run": False,
                    "budget": budget,
                    "reason": (
                        "the password alone, a wrong code and an empty code would bring this scanner's failures "
                        f"on the canary to {pending + 3} within {probe.interval_s:g} s, reaching "
                        f"access.faillock_max_deny={probe.max_deny}: the canary could be locked, so nothing wrong was "
                        "sent (give its TOTP seed: a right login first clears the count; or wait)"
                    ),
                }
            else:
                for name, sent, form in (
                    ("password_only", PASSWORD_ONLY, user_pw),
                    ("wrong_otp", WRONG, {**user_pw, f["otp"]: wrong_code(probe.seed)}),
                    ("empty_otp", EMPTY, {**user_pw, f["otp"]: ""}),
                ):
                    facts[name] = login(sent, form)
                    if not facts[name]["session"]:
                        canary_ledger.failed(record)
    except requests.exceptions.SSLError as e:
        raise ObservationError(f"{spec.url}: TLS certificate not verified: {type(e).__name__}") from None
    except requests.RequestException as e:
        raise ObservationError(f"{spec.url}: {type(e).__name__}: {e.__class__.__doc__ or ''}".strip()) from None
    return facts, {**facts, "attempts": attempts}


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    """Probe a web admin interface with its canary account (secrets by reference, redacted)."""
    from preuve.observe.identity.ssh_mfa import FactorProbe
    from preuve.observe.profile_params import current
    from preuve.observe.reveal import reveal, tool

    spec, access = target.spec, current().access
    password = reveal(spec.password, f"canary password of {target.name}")
    seed = reveal(spec.totp, f"canary TOTP seed of {target.name}") if spec.totp is not None else None
    probe = FactorProbe(seed, spec.totp_lookahead, access.faillock_max_deny, access.faillock_fail_interval_s)
    logins = [*([VALID] if seed else []), PASSWORD_ONLY, WRONG, EMPTY]
    query = {
        "url": spec.url,
        "login_url": spec.login_url,
        "user": spec.user,
        "ca_file": spec.ca_file,
        "password": spec.password.model_dump(exclude_none=True),
        "totp": spec.totp.model_dump(exclude_none=True) if spec.totp else None,
        "requests": ["GET url (anonymous)", *(f"POST login ({s}), GET url" for s in logins)],
        "lockout_budget": {
            "faillock_max_deny": access.faillock_max_deny,
            "fail_interval_s": access.faillock_fail_interval_s,
        },
    }
    found, raw = collect(spec, password, probe, timeout=timeout)
    return query, found, raw, tool("requests")


COLLECTOR = Collector(
    "web_mfa",
    _collect,
    limit=8,
    fixtures=(Fixture("web_admin", "web_admin", doc="web admin answers: anonymous, password alone, + TOTP"),),
    preload=("requests", "preuve.observe.identity.web_mfa"),
)
