"""Does an admin client's IdP refuse the OAuth 2.0 password grant? One attempt with the canary's credentials.

The resource-owner password credentials grant (RFC 6749 §4.3; "Direct access grants" in Keycloak) trades a
username and password for tokens at the token endpoint: no second factor is ever asked, so an admin client that
allows it lets a password alone open an admin session (9.6.f). Steps, certificate verified, redirects never followed:

1. discovery: GET ``{issuer}/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §4); the document's
   ``issuer`` must be the configured one (§4.3) and its ``token_endpoint`` https;
2. ONE POST ``grant_type=password`` with the canary's username and password and the admin ``client_id`` (a
   confidential client authenticates with ``client_secret_basic``, RFC 6749 §2.3.1, form-encoded id and secret).
3. only if tokens came back: revoke them at the advertised ``revocation_endpoint`` (RFC 7009), so that the probe
   leaves no admin session behind; the statuses are recorded, never judged.

Evidence: the status, the OAuth error code and description (RFC 6749 §5.2), which tokens came back and their type;
never a token, the password or the client secret (every token string is registered with the redactor before
anything is recorded). An unreachable IdP, a non-JSON or non-OAuth answer is an ObservationError, never a pass.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote_plus, urljoin, urlsplit

from preuve.evidence.redact import REDACTOR
from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome

if TYPE_CHECKING:
    import requests

    from preuve.inputs.targets import Target


TOKEN_KEYS = ("access_token", "id_token", "refresh_token")
WITHHELD = (*TOKEN_KEYS, "session_state")  # Keycloak's session id is no token, but no business of a report
DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_DESCRIPTION = 200  # an error_description is free text: bounded in the evidence


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + DISCOVERY_PATH


def _json(r: requests.Response, what: str) -> Any:
    try:
        return r.json()
    except ValueError:
        kind = r.headers.get("Content-Type") or "no content type"
        size = len(r.content)
        raise ObservationError(f"{what} answered HTTP {r.status_code} with no JSON ({kind}, {size} bytes)") from None


def parse_discovery(issuer: str, status: int, doc: Any) -> dict[str, Any]:
    """The facts of a discovery document; a document that is not one is an ObservationError."""
    if status != 200 or not isinstance(doc, dict):
        raise ObservationError(f"discovery at {discovery_url(issuer)} answered HTTP {status}, not a JSON document")
    if doc.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
        raise ObservationError(f"discovery issuer {doc.get('issuer')!r} is not the configured {issuer!r} (OIDC §4.3)")
    endpoint = doc.get("token_endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise ObservationError(f"discovery at {discovery_url(issuer)} names no token_endpoint")
    if urlsplit(endpoint).scheme != "https":
        raise ObservationError(f"token endpoint {endpoint} is not https: the canary's password is not sent there")
    grants = doc.get("grant_types_supported")
    grants = [g for g in grants if isinstance(g, str)] if isinstance(grants, list) else None
    return {
        "issuer": doc["issuer"],
        "token_endpoint": endpoint,
        "grant_types_supported": grants,
        # absent means the RFC 8414 default ["authorization_code", "implicit"]: no password grant advertised
        "advertises_password_grant": "password" in (grants or []),
    }


def register_tokens(body: Any) -> None:
    """Mask every returned token in whatever is written later (evidence, reports, logs)."""
    if isinstance(body, dict):
        for key in TOKEN_KEYS:
            if isinstance(body.get(key), str) and body[key]:
                REDACTOR.register(body[key], f"the {key} the token endpoint returned")


def parse_token_response(status: int, body: Any) -> dict[str, Any]:
    """What the token endpoint answered to the password grant (no token value); a non-OAuth answer raises."""
    if not isinstance(body, dict):
        raise ObservationError(f"token endpoint answered HTTP {status} with JSON that is not an object")
    returned = {f"{k}_returned": isinstance(body.get(k), str) and bool(body[k]) for k in TOKEN_KEYS}
    error = body.get("error")
    if error is not None and not isinstance(error, str):
        raise ObservationError(f"token endpoint answered HTTP {status} with a non-string OAuth error")
    if not error and not any(returned.values()):
        raise ObservationError(f"token endpoint answered HTTP {status} with neither a token nor an OAuth error")
    description = body.get("error_description")
    description = description[:MAX_DESCRIPTION] if isinstance(description, str) else None
    token_type = body.get("token_type") if isinstance(body.get("token_type"), str) else None
    return {
        "status": status,
        "error": error or None,
        "error_description": description,
        **returned,
        "token_type": token_type if any(returned.values()) else None,
    }


def withheld(body: Any) -> Any:
    """The token response as recorded in the raw evidence: token (and session id) values replaced by their length."""
    if not isinstance(body, dict):
        return body
    return {k: (f"<withheld: {len(v)} chars>" if k in WITHHELD and isinstance(v, str) else v) for k, v in body.items()}


def revoke(
    s: requests.Session,
    endpoint: Any,
    body: dict,
    form: dict[str, str],
    auth: tuple[str, str] | None,
    verify: str | bool,
    timeout: float,
) -> dict[str, Any]:
    """Leave no admin session behind: revoke what the weak IdP issued (RFC 7009), refresh token first. Best effort,
    recorded, never judged: the grant's answer is already the evidence."""
    import requests

    if not isinstance(endpoint, str) or urlsplit(endpoint).scheme != "https":
        return {"endpoint": None, "statuses": {}, "note": "no https revocation_endpoint in the discovery document"}
    statuses: dict[str, int | str] = {}
    for kind in ("refresh_token", "access_token"):
        if isinstance(body.get(kind), str) and body[kind]:
            data = {"token": body[kind], "token_type_hint": kind, **form}
            try:
                r = s.post(endpoint, data=data, auth=auth, allow_redirects=False, verify=verify, timeout=timeout)
                statuses[kind] = r.status_code
            except requests.RequestException as e:
                statuses[kind] = type(e).__name__
    return {"endpoint": endpoint, "statuses": statuses}


def collect(
    issuer: str,
    client_id: str,
    client_secret: str | None,
    user: str,
    password: str,
    *,
    scope: str = "openid",
    ca_file: str | None = None,
    timeout: float = 10.0,
) -> tuple[dict, dict]:
    import requests

    verify: str | bool = ca_file or True
    client_form: dict[str, str] = {}
    auth = None
    if client_secret is None:
        client_form["client_id"] = client_id
    else:  # RFC 6749 §2.3.1: both form-encoded, then HTTP Basic
        auth = (quote_plus(client_id), quote_plus(client_secret))
    try:
        with requests.Session() as s:
            d = s.get(
                discovery_url(issuer),
                allow_redirects=False,
                verify=verify,
                timeout=timeout,
                headers={"Accept": "application/json"},
            )
            doc = _json(d, f"discovery at {discovery_url(issuer)}")
            found = parse_discovery(issuer, d.status_code, doc)
            form = {"grant_type": "password", "username": user, "password": password, "scope": scope, **client_form}
            t = s.post(
                found["token_endpoint"],
                data=form,
                auth=auth,
                allow_redirects=False,
                verify=verify,
                timeout=timeout,
                headers={"Accept": "application/json"},
            )
            body = _json(t, f"token endpoint {found['token_endpoint']}")
            register_tokens(body)
            grant = parse_token_response(t.status_code, body)
            issued = any(grant[f"{k}_returned"] for k in TOKEN_KEYS)
            revocation = (
                revoke(s, doc.get("revocation_endpoint"), body, client_form, auth, verify, timeout) if issued else None
            )
    except requests.exceptions.SSLError as e:
        raise ObservationError(f"{issuer}: TLS certificate not verified: {type(e).__name__}") from None
    except requests.RequestException as e:
        raise ObservationError(f"{issuer}: {type(e).__name__}: {e.__class__.__doc__ or ''}".strip()) from None
    facts = {
        **found,
        "client_id": client_id,
        "client_authentication": "none" if auth is None else "client_secret_basic",
        "password_grant": grant,
        "revocation": revocation,
    }
    raw = {
        "discovery": doc,
        "token_response": {
            "status": t.status_code,
            "content_type": t.headers.get("Content-Type"),
            "body": withheld(body),
        },
    }
    return facts, raw


# --- the browser login (authorization code flow): does its second factor refuse anything? (issue 12) -----------


class _Forms(HTMLParser):
    """Every <form> of a page: action, method and its <input> fields (name, type, value)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(), "inputs": []})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["inputs"].append((a["name"], a.get("type", "text").lower(), a.get("value", "")))


def _form_with(html: str, field: str) -> dict[str, Any] | None:
    parser = _Forms()
    parser.feed(html)
    return next((f for f in parser.forms if f["method"] == "post" and any(n == field for n, _, _ in f["inputs"])), None)


def _post(
    s: requests.Session,
    page: requests.Response,
    form: dict[str, Any],
    values: dict[str, str],
    verify: str | bool,
    timeout: float,
) -> requests.Response:
    data = {n: v for n, t, v in form["inputs"] if t == "hidden"} | values
    return s.post(urljoin(page.url, form["action"]), data=data, allow_redirects=False, verify=verify, timeout=timeout)


def _redirected_with_code(r: requests.Response, redirect_uri: str) -> bool:
    where = r.headers.get("Location", "")
    if not (300 <= r.status_code < 400 and where.startswith(redirect_uri)):
        return False
    code = parse_qs(urlsplit(where).query).get("code", [""])[0]
    if code:
        REDACTOR.register(code, "an authorization code the IdP issued")  # a credential until it expires
    return bool(code)


def login_attempt(
    endpoint: str,
    client_id: str,
    redirect_uri: str,
    fields: dict[str, str],
    user: str,
    password: str,
    sent: str,
    otp: str,
    verify: str | bool,
    timeout: float,
) -> dict[str, Any]:
    """One browser login on a fresh session: the login form (user + password), then the code form with `otp`.
    Outcome: "code issued" (redirected to redirect_uri with ?code=), "refused" (no code), and where it stopped."""
    import requests

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": secrets.token_urlsafe(12),
        "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    t0 = time.perf_counter()
    out: dict[str, Any] = {"sent": sent, "statuses": []}
    with requests.Session() as s:
        page = s.get(endpoint, params=params, allow_redirects=False, verify=verify, timeout=timeout)
        out["statuses"].append(page.status_code)
        login = _form_with(page.text, fields["password"]) if page.status_code == 200 else None
        if login is None:
            raise ObservationError(
                f"authorization endpoint {endpoint} answered HTTP {page.status_code} with no login "
                f"form (no POST form with a {fields['password']!r} field)"
            )
        r = _post(s, page, login, {fields["user"]: user, fields["password"]: password}, verify, timeout)
        out["statuses"].append(r.status_code)
        if _redirected_with_code(r, redirect_uri):
            out.update(outcome="code issued", stage="after the password alone: no code was asked")
        elif (second := _form_with(r.text, fields["otp"]) if r.status_code == 200 else None) is None:
            raise ObservationError(
                f"after the password the IdP answered HTTP {r.status_code} with no form asking "
                f"{fields['otp']!r}: wrong canary password, or a factor the probe cannot answer"
            )
        else:
            r = _post(s, r, second, {fields["otp"]: otp}, verify, timeout)
            out["statuses"].append(r.status_code)
            out.update(
                outcome="code issued" if _redirected_with_code(r, redirect_uri) else "refused", stage="after the code"
            )
    out["ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


def collect_login_flow(
    issuer: str,
    client_id: str,
    redirect_uri: str,
    fields: dict[str, str],
    user: str,
    password: str,
    probe: Any,
    *,
    ca_file: str | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Right code (when seeded), then a wrong and an empty code, each on a fresh browser session, within the
    lockout budget of preuve/observe/identity/canary_ledger.py; the code is never exchanged for tokens (no session is
    used)."""
    import requests

    from preuve.observe.identity import canary_ledger
    from preuve.observe.identity.ssh_mfa import EMPTY, STEP, VALID, VALID_LATER, WRONG, fresh_code, wrong_code

    verify: str | bool = ca_file or True
    deadline = time.monotonic() + timeout + 2 * STEP
    attempts: list[dict[str, Any]] = []
    out: dict[str, Any] = {
        "run": True,
        "reason": None,
        "redirect_uri": redirect_uri,
        "attempts": attempts,
        "valid_code": "not tried: no TOTP seed given" if probe.seed is None else None,
        "wrong_code": None,
        "empty_code": None,
    }
    try:
        with requests.Session() as s:
            d = s.get(discovery_url(issuer), allow_redirects=False, verify=verify, timeout=timeout)
            doc = _json(d, f"discovery at {discovery_url(issuer)}")
        endpoint = doc.get("authorization_endpoint") if isinstance(doc, dict) else None
        if not isinstance(endpoint, str) or urlsplit(endpoint).scheme != "https":
            raise ObservationError(f"discovery at {discovery_url(issuer)} names no https authorization_endpoint")
        with canary_ledger.entry("oidc", issuer, user) as record:
            out["budget"] = {
                "access.faillock_max_deny": probe.max_deny,
                "access.faillock_fail_interval_s": probe.interval_s,
                "scanner_failures_pending_before": canary_ledger.pending(record, probe.interval_s),
            }

            def send(sent: str, otp: str) -> str:
                a = login_attempt(endpoint, client_id, redirect_uri, fields, user, password, sent, otp, verify, timeout)
                attempts.append(a)
                if a["outcome"] == "refused":
                    canary_ledger.failed(record)
                elif sent in (VALID, VALID_LATER):
                    canary_ledger.cleared(record)
                return a["outcome"]

            if probe.seed is not None:
                out["valid_code"] = send(VALID, fresh_code(probe.seed, record, probe.lookahead, deadline))
                if out["valid_code"] == "refused":
                    out["valid_code"] = send(VALID_LATER, fresh_code(probe.seed, record, probe.lookahead, deadline))
                if out["valid_code"] != "code issued":
                    out.update(
                        run=False,
                        reason="the right TOTP code got no authorization code on two steps: wrong "
                        "seed or clock skew; refusals would prove nothing, so no wrong code was sent",
                    )
                    return out
            pending = out["budget"]["scanner_failures_pending"] = canary_ledger.pending(record, probe.interval_s)
            if pending + 2 >= probe.max_deny:
                out.update(
                    run=False,
                    reason=(
                        f"a wrong and an empty code would bring this scanner's failures on the canary to {pending + 2} "
                        f"within {probe.interval_s:g} s, reaching access.faillock_max_deny={probe.max_deny}: nothing "
                        "wrong was sent"
                    ),
                )
                return out
            out["wrong_code"] = send(WRONG, wrong_code(probe.seed))
            out["empty_code"] = send(EMPTY, "")
    except requests.exceptions.SSLError as e:
        raise ObservationError(f"{issuer}: TLS certificate not verified: {type(e).__name__}") from None
    except requests.RequestException as e:
        raise ObservationError(f"{issuer}: {type(e).__name__}: {e.__class__.__doc__ or ''}".strip()) from None
    return out


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    """Try the web admin canary's password grant on its IdP client (secrets by reference, tokens redacted)."""
    from preuve.observe.reveal import reveal, tool

    spec, client = target.spec, target.spec.oidc
    password = reveal(spec.password, f"canary password of {spec.name}")
    secret = reveal(client.client_secret, f"client secret of {target.name}") if client.client_secret else None
    ca_file = client.ca_file or spec.ca_file
    query = {
        "issuer": client.issuer,
        "client_id": client.client_id,
        "user": spec.user,
        "scope": client.scope,
        "ca_file": ca_file,
        "password": spec.password.model_dump(exclude_none=True),
        "client_secret": client.client_secret.model_dump(exclude_none=True) if client.client_secret else None,
        "requests": ["GET issuer/.well-known/openid-configuration", "POST token_endpoint grant_type=password"],
    }
    found, raw = collect(
        client.issuer,
        client.client_id,
        secret,
        spec.user,
        password,
        scope=client.scope,
        ca_file=ca_file,
        timeout=timeout,
    )
    found["login_flow"] = {
        "run": False,
        "reason": "no redirect_uri in the inventory: the browser login's second factor is not probed",
    }
    if client.redirect_uri:
        from preuve.observe.identity.ssh_mfa import FactorProbe
        from preuve.observe.profile_params import current

        access = current().access
        seed = reveal(spec.totp, f"canary TOTP seed of {spec.name}") if spec.totp is not None else None
        probe = FactorProbe(seed, spec.totp_lookahead, access.faillock_max_deny, access.faillock_fail_interval_s)
        query["requests"].append(
            "GET authorization_endpoint, POST login form, POST code form (per attempt: "
            + ("valid TOTP, " if seed else "")
            + "wrong code (6 digits), empty); no code redeemed"
        )
        try:
            found["login_flow"] = collect_login_flow(
                client.issuer,
                client.client_id,
                client.redirect_uri,
                spec.fields,
                spec.user,
                password,
                probe,
                ca_file=ca_file,
                timeout=timeout,
            )
        except ObservationError as e:
            found["login_flow"] = {"run": False, "error": str(e)}
        raw["login_flow_attempts"] = found["login_flow"].get("attempts", [])
    return query, found, raw, tool("requests")


COLLECTOR = Collector(
    "oidc",
    _collect,
    limit=8,
    fixtures=(
        Fixture("oidc_client", "oidc_client", doc="IdP discovery and its answer to the canary's password grant"),
    ),
    preload=("requests", "preuve.observe.identity.oidc"),
)
