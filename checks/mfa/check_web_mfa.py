"""Web administration interfaces: authentication before any content, and a second factor enforced (9.6.f, 9.6.h),
proven with a canary account: anonymous, password alone, then password + TOTP."""

from preuve.judge import check


@check("MFA-WEB-UNAUTHENTICATED", requirements=["9.6.h"], target="web_admin", severity="high",
       rule="9.6.h : authentification avant toute interaction (401/403 ou redirection vers l'IdP)")
def check_web_unauthenticated(web_admin, judge):
    a = web_admin["anonymous"]
    redirect = 300 <= a["status"] < 400 and bool(a["location"])
    refused = a["status"] in (401, 403)
    observed = {"status": a["status"], "location": a["location"], "content_bytes": a["content_bytes"]}
    judge.each("mfa.web.anonymous", {"refused (401/403) or redirected": refused or redirect}, observed=observed)
    if redirect:
        judge.at_most("mfa.web.anonymous_content_bytes", a["content_bytes"], 512)


@check("MFA-WEB-ENFORCED", requirements=["9.6.f", "9.5.a"], target="web_admin", severity="critical",
       rule="9.6.f : mot de passe seul sans session ; mot de passe + TOTP ouvre une session")
def check_web_mfa(web_admin, judge):
    judge.equals("mfa.web.password_only_session", web_admin["password_only"]["session"], False)
    totp = web_admin["password_totp"]
    judge.equals("mfa.web.password_totp_session", totp["session"] if totp else None, True)
