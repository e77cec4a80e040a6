"""Is a second factor *enforced* on a web admin interface? Three requests with a canary account.

1. the admin URL without credentials: it must answer 401/403 or redirect (to the login page or the IdP)
   before any content; 2. the login form with the password alone: no session may result; 3. password + a
   fresh TOTP code: a session must result (else the first two prove nothing). Redirects are never followed
   automatically, the server certificate is verified, and no form value is recorded (only status codes,
   whether a session cookie came back, and sizes).
"""

from __future__ import annotations

import requests

from preuve.observe.errors import ObservationError


def _admin(session: requests.Session, url: str, verify: str | bool, timeout: float) -> dict:
    r = session.get(url, allow_redirects=False, verify=verify, timeout=timeout)
    return {"status": r.status_code, "location": r.headers.get("Location"), "content_bytes": len(r.content),
            "content_type": r.headers.get("Content-Type")}


def _login(url: str, login_url: str, form: dict[str, str], verify: str | bool, timeout: float) -> dict:
    with requests.Session() as s:
        r = s.post(login_url, data=form, allow_redirects=False, verify=verify, timeout=timeout)
        cookies = sorted(s.cookies.keys())
        after = _admin(s, url, verify, timeout)
    return {"login_status": r.status_code, "cookies_set": cookies,
            "admin_status_after": after["status"], "session": after["status"] == 200 and bool(cookies)}


def collect(spec, password: str, totp_code: str | None, *, timeout: float = 10.0) -> tuple[dict, dict]:
    verify: str | bool = spec.ca_file or True
    f = spec.fields
    try:
        with requests.Session() as s:
            anonymous = _admin(s, spec.url, verify, timeout)
        password_only = _login(spec.url, spec.login_url, {f["user"]: spec.user, f["password"]: password},
                               verify, timeout)  # fmt: skip
        with_totp = None
        if totp_code is not None:
            with_totp = _login(spec.url, spec.login_url,
                               {f["user"]: spec.user, f["password"]: password, f["otp"]: totp_code}, verify, timeout)
    except requests.exceptions.SSLError as e:
        raise ObservationError(f"{spec.url}: TLS certificate not verified: {type(e).__name__}") from None
    except requests.RequestException as e:
        raise ObservationError(f"{spec.url}: {type(e).__name__}: {e.__class__.__doc__ or ''}".strip()) from None
    facts = {"anonymous": anonymous, "password_only": password_only, "password_totp": with_totp}
    return facts, dict(facts)
