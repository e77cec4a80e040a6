"""SSH: a second factor is enforced for administrators, proven by a canary key and by `sshd -T -C` per admin.

The behavioural check is the proof: the server must answer *partial success* to a valid admin key (RFC 4252
§5.1), i.e. still require a second factor. The configuration check explains it and covers every admin user,
Match blocks resolved for a connection from where the scanner stands.
"""

import fnmatch

from preuve.judge import check
from preuve.observe.errors import ObservationError


@check("MFA-SSH-ENFORCED", requirements={
    "9.6.f#1": "the canary admin's key alone gets partial success: a second factor is required",
    "9.5.a#3": "multi-factor authentication is in place for SSH administration",
}, target="ssh_canary", severity="critical",
       rule="SecNumCloud 9.6.f (authentification multifacteur des administrateurs)")
def check_ssh_mfa_enforced(ssh_canary, params, judge):
    """Asked is not checked: after partial success the second factor must refuse a wrong code and an empty answer
    (and, given the seed, accept the right code), or pam_permit would pass for MFA."""
    if not judge.equals("mfa.ssh.key_alone_authenticated", ssh_canary["key_alone_authenticated"], False):
        return
    if not judge.non_empty("mfa.ssh.second_factor_required",
                           [m for m in ssh_canary["methods_still_required"]
                            if m in params.access.second_factor_methods]):  # fmt: skip
        return
    factor = ssh_canary.get("factor_probe") or {"run": False, "reason": "no factor probe in this observation"}
    if not factor["run"]:
        raise ObservationError(f"second factor not probed: {factor['reason']}")
    judge.equals("mfa.ssh.wrong_code", factor["wrong_code"], "refused")
    if factor["wrong_code"] == "refused":
        judge.equals("mfa.ssh.empty_answer", factor["empty_answer"], "refused")
    if factor["valid_code"] == "accepted":  # else "not tried: no TOTP seed given" (in the evidence)
        judge.equals("mfa.ssh.valid_code", factor["valid_code"], "accepted")


def allowed(user: str, groups: list[str], cfg: dict) -> bool:
    """Could `user` log in at all, by AllowUsers/AllowGroups/DenyUsers/DenyGroups (patterns, user part)?"""

    def match(patterns: list[str], names: list[str]) -> bool:
        words = [w.split("@", 1)[0] for p in patterns for w in p.split()]
        return any(fnmatch.fnmatchcase(n, w) for n in names for w in words)

    if match(cfg.get("denyusers", []), [user]) or match(cfg.get("denygroups", []), groups):
        return False
    if cfg.get("allowusers") and not match(cfg["allowusers"], [user]):
        return False
    return not (cfg.get("allowgroups") and not match(cfg["allowgroups"], groups))


def single_factor_lists(cfg: dict) -> list[str]:
    """AuthenticationMethods lists that let an admin in with one method ("any" included)."""
    lists = " ".join(cfg.get("authenticationmethods", ["any"])).split()
    return [m for m in lists if m == "any" or len(set(m.split(","))) < 2]


@check("MFA-SSH-CONFIG", requirements={
    "9.6.f#1": "sshd -T -C requires two methods for every member of the admin groups",
    "9.5.a#3": "SSH administration is configured for multi-factor authentication",
}, target="baseline_host", severity="high",
       rule="sshd -T -C par administrateur : AuthenticationMethods à deux méthodes")
def check_ssh_mfa_config(sshd_admin, params, judge):
    admins = {u: c for u, c in sshd_admin.items() if set(c["groups"]) & set(params.access.admin_groups)}
    concerned = {u: c for u, c in admins.items() if allowed(u, c["groups"], c)}
    if not concerned:
        judge.not_applicable(f"no administrator may log in over SSH (admins: {sorted(admins) or 'none'})")
    observed = {u: " ".join(c.get("authenticationmethods", ["any"])) for u, c in concerned.items()}
    judge.each("mfa.ssh.authenticationmethods", {u: not single_factor_lists(c) for u, c in concerned.items()},
               observed=observed)
