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

from typing import Any
from urllib.parse import quote_plus, urlsplit

import requests

from preuve.evidence.redact import REDACTOR
from preuve.observe.errors import ObservationError

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
    return {"issuer": doc["issuer"], "token_endpoint": endpoint, "grant_types_supported": grants,
            # absent means the RFC 8414 default ["authorization_code", "implicit"]: no password grant advertised
            "advertises_password_grant": "password" in (grants or [])}  # fmt: skip


def register_tokens(body: Any) -> None:
    """Mask every returned token in whatever is written later (evidence, reports, logs)."""
    if isinstance(body, dict):
        for key in TOKEN_KEYS:
            if isinstance(body.get(key), str) and body[key]:
                REDACTOR.register(body[key])


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
    return {"status": status, "error": error or None, "error_description": description, **returned,
            "token_type": token_type if any(returned.values()) else None}  # fmt: skip


def withheld(body: Any) -> Any:
    """The token response as recorded in the raw evidence: token (and session id) values replaced by their length."""
    if not isinstance(body, dict):
        return body
    return {k: (f"<withheld: {len(v)} chars>" if k in WITHHELD and isinstance(v, str) else v)
            for k, v in body.items()}  # fmt: skip


def revoke(s: requests.Session, endpoint: Any, body: dict, form: dict[str, str], auth: tuple[str, str] | None,
           verify: str | bool, timeout: float) -> dict[str, Any]:  # fmt: skip
    """Leave no admin session behind: revoke what the weak IdP issued (RFC 7009), refresh token first. Best effort,
    recorded, never judged: the grant's answer is already the evidence."""
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


def collect(issuer: str, client_id: str, client_secret: str | None, user: str, password: str, *,
            scope: str = "openid", ca_file: str | None = None, timeout: float = 10.0) -> tuple[dict, dict]:  # fmt: skip
    verify: str | bool = ca_file or True
    client_form: dict[str, str] = {}
    auth = None
    if client_secret is None:
        client_form["client_id"] = client_id
    else:  # RFC 6749 §2.3.1: both form-encoded, then HTTP Basic
        auth = (quote_plus(client_id), quote_plus(client_secret))
    try:
        with requests.Session() as s:
            d = s.get(discovery_url(issuer), allow_redirects=False, verify=verify, timeout=timeout,
                      headers={"Accept": "application/json"})  # fmt: skip
            doc = _json(d, f"discovery at {discovery_url(issuer)}")
            found = parse_discovery(issuer, d.status_code, doc)
            form = {"grant_type": "password", "username": user, "password": password, "scope": scope, **client_form}
            t = s.post(found["token_endpoint"], data=form, auth=auth, allow_redirects=False, verify=verify,
                       timeout=timeout, headers={"Accept": "application/json"})  # fmt: skip
            body = _json(t, f"token endpoint {found['token_endpoint']}")
            register_tokens(body)
            grant = parse_token_response(t.status_code, body)
            issued = any(grant[f"{k}_returned"] for k in TOKEN_KEYS)
            revocation = revoke(s, doc.get("revocation_endpoint"), body, client_form, auth, verify, timeout) \
                if issued else None  # fmt: skip
    except requests.exceptions.SSLError as e:
        raise ObservationError(f"{issuer}: TLS certificate not verified: {type(e).__name__}") from None
    except requests.RequestException as e:
        raise ObservationError(f"{issuer}: {type(e).__name__}: {e.__class__.__doc__ or ''}".strip()) from None
    facts = {**found, "client_id": client_id, "client_authentication": "none" if auth is None
             else "client_secret_basic", "password_grant": grant, "revocation": revocation}  # fmt: skip
    raw = {"discovery": doc, "token_response": {"status": t.status_code, "content_type": t.headers.get("Content-Type"),
                                                "body": withheld(body)}}  # fmt: skip
    return facts, raw
