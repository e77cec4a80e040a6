"""Web administration interfaces: authentication before any content, and a second factor enforced (9.6.f, 9.6.h),
proven with a canary account: anonymous, password alone, then password + TOTP."""

from preuve.judge import ObservationError, check


@check(
    "MFA-WEB-UNAUTHENTICATED",
    requirements={
        "9.6.h#1": "an anonymous request to the web console gets 401/403 or a redirect, no content",
    },
    target="web_admin",
    severity="high",
    rule="9.6.h : authentification avant toute interaction (401/403 ou redirection vers l'IdP)",
)
def check_web_unauthenticated(web_admin, judge):
    a = web_admin["anonymous"]
    redirect = 300 <= a["status"] < 400 and bool(a["location"])
    refused = a["status"] in (401, 403)
    observed = {"status": a["status"], "location": a["location"], "content_bytes": a["content_bytes"]}
    judge.each("mfa.web.anonymous", {"refused (401/403) or redirected": refused or redirect}, observed=observed)
    if redirect:
        judge.at_most("mfa.web.anonymous_content_bytes", a["content_bytes"], 512)


@check(
    "MFA-WEB-ENFORCED",
    requirements={
        "9.6.f#1": "password alone, or with a wrong or empty code, opens no session; password + TOTP opens one",
        "9.5.a#3": "multi-factor authentication is in place for the web console",
    },
    target="web_admin",
    severity="critical",
    rule="9.6.f : mot de passe seul, code faux ou vide sans session ; mot de passe + TOTP ouvre une session",
)
def check_web_mfa(web_admin, judge):
    """The factor must refuse: a form that asks a code and takes any (or an empty one) is no second factor."""
    factor = web_admin.get("factor_probe") or {"run": True}
    if not factor["run"]:
        raise ObservationError(f"second factor not probed: {factor['reason']}")
    totp = web_admin["password_totp"]
    if totp is not None and not totp["session"]:
        raise ObservationError(
            f"password + the right TOTP code gave no session (login HTTP {totp['login_status']}, "
            f"admin page HTTP {totp['admin_status_after']}): wrong password or seed, or a refusal "
            "of everything; the refusals prove nothing"
        )
    judge.equals("mfa.web.password_only_session", web_admin["password_only"]["session"], False)
    for key in ("wrong_otp", "empty_otp"):
        if web_admin.get(key) is not None:
            judge.equals(f"mfa.web.{key}_session", web_admin[key]["session"], False)
    judge.equals("mfa.web.password_totp_session", totp["session"] if totp else None, True)
