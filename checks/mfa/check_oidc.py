"""The OAuth 2.0 password grant (resource-owner password credentials, RFC 6749 §4.3) is refused for admin clients:
with it, a password alone obtains admin tokens and the IdP's second factor is never asked (9.6.f, 9.6.h).

Refused means an OAuth error the profile accepts as a refusal of the grant itself (`unauthorized_client`: the client
may not use it, Keycloak's answer when "Direct access grants" is off; `unsupported_grant_type`: the server has no
such grant). `invalid_grant` (wrong username or password) and `invalid_client` (wrong client credentials, which
Keycloak words "Invalid client or Invalid client credentials" even under `unauthorized_client`) are answered before
or instead of the grant decision: they cannot tell a refused grant from a wrong canary, so the result is `error`,
never `pass`; so are `invalid_request` / `invalid_scope` (the request itself was not taken) and `server_error` /
`temporarily_unavailable`. Any other error is judged against the profile's list (fail when not in it).

The discovery document's `grant_types_supported` is supporting evidence only (quoted in errors, never a verdict):
Keycloak lists "password" for the whole realm whatever each client allows, and an IdP may omit what it accepts.
"""

from preuve.judge import ObservationError, check

TOKENS = ("access_token", "id_token", "refresh_token")
UNDECIDABLE = {
    "invalid_grant": "the canary's username or password was rejected",
    "invalid_client": "the client's credentials were rejected",
    "invalid_request": "the request was rejected as malformed",
    "invalid_scope": "the requested scope was rejected",
    "server_error": "the IdP failed",
    "temporarily_unavailable": "the IdP was unavailable",
}


def undecidable(grant: dict) -> str | None:
    """Why a refusal proves nothing about the grant (None when it does)."""
    error, description = grant["error"], (grant["error_description"] or "").lower()
    if error == "unauthorized_client" and "invalid client" in description:  # Keycloak: bad client secret
        error = "invalid_client"
    return UNDECIDABLE.get(error)


@check(
    "MFA-OIDC-PASSWORD-GRANT",
    requirements={
        "9.6.f#1": "the IdP refuses the password grant for admin clients: no token without the second factor",
    },
    target="oidc_client",
    severity="critical",
    rule="9.6.f : octroi par mot de passe (RFC 6749 §4.3) refusé aux clients d'administration",
)
def check_oidc_password_grant(oidc_client, params, judge):
    grant = oidc_client["password_grant"]
    tokens = [t for t in TOKENS if grant[f"{t}_returned"]]
    reason = None if tokens else undecidable(grant)
    if reason:
        advertised = "advertises" if oidc_client["advertises_password_grant"] else "does not advertise"
        raise ObservationError(
            f"HTTP {grant['status']} {grant['error']} ({grant['error_description']}): {reason}, "
            "so the answer does not show whether the password grant is allowed "
            f"(the IdP {advertised} it in its discovery document)"
        )
    judge.equals("mfa.oidc.password_grant_tokens", tokens, [])
    judge.one_of("mfa.oidc.password_grant_error", grant["error"], params.access.oidc_refusal_errors)


@check(
    "MFA-OIDC-FACTOR",
    requirements={
        "9.6.f#1": "the IdP's admin login refuses a wrong or empty code after the password: the factor is checked",
    },
    target="oidc_client",
    severity="critical",
    rule="9.6.f : connexion par navigateur à l'IdP — code faux ou vide refusé, bon code TOTP accepté",
)
def check_oidc_factor(oidc_client, judge):
    """The IdP's own login (authorization code flow) must ask a code after the password and refuse a wrong or an
    empty one: an OTP step that takes anything is no second factor. Probed only when the inventory gives the admin
    client's registered redirect_uri (the code is never redeemed)."""
    flow = oidc_client.get("login_flow") or {"run": False, "reason": "no login flow in this observation"}
    if not flow["run"]:
        if "error" in flow:
            raise ObservationError(f"browser login not probed: {flow['error']}")
        if "no oidc.redirect_uri" in flow["reason"]:
            judge.not_applicable(flow["reason"])
        raise ObservationError(f"second factor not probed: {flow['reason']}")
    alone = [a["sent"] for a in flow["attempts"] if a.get("stage", "").startswith("after the password alone")]
    judge.equals("mfa.oidc.code_after_password_alone", alone, [])
    judge.equals("mfa.oidc.wrong_code", flow["wrong_code"], "refused")
    judge.equals("mfa.oidc.empty_code", flow["empty_code"], "refused")
    if flow["valid_code"] == "code issued":  # else "not tried: no TOTP seed given" (in the evidence)
        judge.equals("mfa.oidc.valid_code", flow["valid_code"], "code issued")
