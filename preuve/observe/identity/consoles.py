"""Whose directory each administration console logs in against, and whether the other side's admin gets in
(9.6.a-d). Behaviour only: where a console really sends an anonymous visitor, what its login answers.

Per console (certificate verified): GET its URL, following redirects within its own origin (at most 5), until a
redirect leaves for an OpenID Connect / OAuth 2.0 authorization request (`client_id` and `redirect_uri` in the
query): its endpoint (origin + path: a Keycloak realm is in the path) and client id are the console's identity
facts. Then, for each canary administrator of the *other* side, one login on that very authorization request:
the login form, the canary's user and password posted, and the IdP's answer classified:
- "refused": the login form again (the password field is back) or a 4xx;
- "accepted (second factor asked)": another form, without the password field (an OTP step);
- "accepted (code issued)": a redirect to the console's redirect_uri carrying `code`.
A control login of each canary on its own side's consoles must be accepted (at least one), otherwise a refusal
elsewhere proves nothing and the observation is an error. No code is ever redeemed, no OTP is ever sent.
Evidence: statuses, endpoints, client ids, outcomes; never a password (registered with the redactor).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture

MAX_HOPS = 5


def origin(url: str) -> str:
    u = urlsplit(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    return f"{u.scheme}://{u.hostname}:{port}"


def authorization_request(session: Any, url: str, verify: str | bool, timeout: float) -> dict[str, Any]:
    """Follow the console's own redirects to the authorization request it makes (or say where it stopped)."""
    hops: list[dict[str, Any]] = []
    here = url
    for _ in range(MAX_HOPS + 1):
        r = session.get(here, allow_redirects=False, verify=verify, timeout=timeout)
        where = urljoin(here, r.headers.get("Location", "")) if r.is_redirect else None
        hops.append({"url": here.split("?", 1)[0], "status": r.status_code})
        if where is None:
            return {"hops": hops, "idp": None, "stopped": f"HTTP {r.status_code} without a redirect to an IdP"}
        q = {k: v[0] for k, v in parse_qs(urlsplit(where).query).items()}
        if "client_id" in q and "redirect_uri" in q:
            endpoint = where.split("?", 1)[0]
            return {
                "hops": hops,
                "idp": {
                    "authorization_endpoint": endpoint,
                    "origin": origin(endpoint),
                    "client_id": q["client_id"],
                    "redirect_uri": q["redirect_uri"],
                },
                "request": where,
            }
        if origin(where) != origin(url):
            return {"hops": hops, "idp": None, "stopped": f"redirected off-site to {where.split('?', 1)[0]}"}
        here = where
    return {"hops": hops, "idp": None, "stopped": f"more than {MAX_HOPS} redirects"}


def login(
    request: str,
    redirect_uri: str,
    fields: dict[str, str],
    user: str,
    password: str,
    verify: str | bool,
    timeout: float,
) -> dict[str, Any]:
    """One login on a fresh session with the console's own authorization request; the IdP's answer classified."""
    import requests

    from preuve.observe.identity.oidc import _form_with, _post

    with requests.Session() as s:
        page = s.get(request, allow_redirects=False, verify=verify, timeout=timeout)
        form = _form_with(page.text, fields["password"]) if page.status_code == 200 else None
        if form is None:
            raise ObservationError(
                f"the authorization request of {urlsplit(request).path} answered HTTP {page.status_code} with no "
                f"login form (no POST form with a {fields['password']!r} field)"
            )
        r = _post(s, page, form, {fields["user"]: user, fields["password"]: password}, verify, timeout)
    statuses = [page.status_code, r.status_code]
    where = r.headers.get("Location", "") if r.is_redirect else ""
    if where.startswith(redirect_uri) and parse_qs(urlsplit(where).query).get("code"):
        from preuve.evidence.redact import REDACTOR

        REDACTOR.register(parse_qs(urlsplit(where).query)["code"][0], "an authorization code the IdP issued")
        return {"statuses": statuses, "outcome": "accepted (code issued)"}
    if r.status_code >= 400 or (r.status_code == 200 and _form_with(r.text, fields["password"]) is not None):
        return {"statuses": statuses, "outcome": "refused"}
    if r.status_code == 200 and "<form" in r.text.lower():
        return {"statuses": statuses, "outcome": "accepted (second factor asked)"}
    return {"statuses": statuses, "outcome": f"unclassified answer: HTTP {r.status_code}"}


def collect(target: Any, facts: tuple[str, ...], timeout: float, hosts: dict[str, Any]) -> tuple:
    import requests

    from preuve.observe.reveal import reveal, tool

    section = target.spec
    passwords = {k.name: reveal(k.password, f"password of identity canary {k.name}") for k in section.canaries}
    consoles: dict[str, Any] = {}
    try:
        for c in section.consoles:
            verify: str | bool = c.ca_file or True
            with requests.Session() as s:
                seen = authorization_request(s, c.url, verify, timeout)
            entry: dict[str, Any] = {"audience": c.audience, "url": c.url, "origin": origin(c.url), **seen}
            entry.pop("request", None)
            entry["logins"] = {}
            if seen["idp"] is not None and c.audience != "end-user":  # end-user portals: where they log in only
                for k in section.canaries:
                    a = login(
                        seen["request"],
                        seen["idp"]["redirect_uri"],
                        k.fields,
                        k.user,
                        passwords[k.name],
                        verify,
                        timeout,
                    )
                    entry["logins"][k.name] = {**a, "canary_audience": k.audience, "control": k.audience == c.audience}
            consoles[c.name] = entry
    except requests.exceptions.SSLError as e:
        raise ObservationError(f"TLS certificate not verified: {type(e).__name__}") from None
    except requests.RequestException as e:
        raise ObservationError(f"{type(e).__name__}: {e.__class__.__doc__ or ''}".strip()) from None
    controls: dict[str, list[str]] = {}
    for entry in consoles.values():
        for canary, a in entry["logins"].items():
            if a["control"]:
                controls.setdefault(canary, []).append(a["outcome"])
    dead = [k.name for k in section.canaries if not any(o.startswith("accepted") for o in controls.get(k.name, []))]
    if dead:
        raise ObservationError(
            f"canary {', '.join(dead)} is refused by every console of its own side (or none logs in through an IdP): "
            "its refusal by the other side would prove nothing"
        )
    query = {
        "consoles": [{"name": c.name, "audience": c.audience, "url": c.url} for c in section.consoles],
        "canaries": [
            {
                "name": k.name,
                "audience": k.audience,
                "user": k.user,
                "password": k.password.model_dump(exclude_none=True),
            }
            for k in section.canaries
        ],
        "requests": "per console: GET (own-origin redirects followed) up to its authorization request; per canary: "
        "its login form, one POST of user and password; no OTP sent, no code redeemed",
    }
    return query, {"consoles": consoles}, {"consoles": len(consoles)}, tool("requests")


COLLECTOR = Collector(
    name="admin_identity",
    collect=collect,
    limit=2,
    fixtures=(
        Fixture(
            "admin_identity",
            "admin_identity",
            doc="each admin console's IdP (authorization endpoint, client) and its answer to each side's canary",
        ),
    ),
    preload=("requests",),
)
