"""Lockout after repeated failures (9.5.b): pam_faillock in the auth stack sshd uses, with a bounded `deny`."""

from preuve.judge import check


def auth_stack(pam: dict, service: str, seen: frozenset = frozenset()) -> list[dict]:
    """The auth lines of a PAM service, includes expanded (cycles cut)."""
    out = []
    for entry in pam.get(service, []):
        if "include" in entry:
            name = entry["include"]
            if name not in seen:
                out += auth_stack(pam, name, seen | {service})
        else:
            out.append(entry)
    return out


def _arg(entry: dict, key: str) -> str | None:
    return next((a.split("=", 1)[1] for a in entry["args"] if a.startswith(key + "=")), None)


@check(
    "LOCK-FAILLOCK",
    requirements={
        "9.5.b#1": "pam_faillock (preauth + authfail, deny <= limit) is in the auth stack sshd uses",
    },
    target="baseline_host",
    severity="high",
    rule="pam_faillock (preauth + authfail) dans la pile auth de sshd, deny ≤ seuil du profil",
)
def check_faillock(faillock, params, judge):
    stack = [e for e in auth_stack(faillock["pam"], "sshd") if e["module"] == "pam_faillock.so"]
    modes = {m for e in stack for m in ("preauth", "authfail") if m in e["args"]}
    deny_values = [_arg(e, "deny") for e in stack if _arg(e, "deny")]
    deny = int(deny_values[0]) if deny_values else int(faillock["conf"].get("deny", "3")) if stack else None
    observed = {"pam_faillock in sshd auth stack": sorted(modes), "deny": deny}
    judge.each(
        "lock.faillock",
        {
            "preauth": "preauth" in modes,
            "authfail": "authfail" in modes,
            "deny bounded": deny is not None and 0 < deny <= params.access.faillock_max_deny,
        },
        observed=observed,
        at_most=params.access.faillock_max_deny,
    )
