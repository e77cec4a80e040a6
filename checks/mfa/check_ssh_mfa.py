"""SSH: a second factor is enforced for administrators, proven by a canary key and by `sshd -T -C` per admin.

The behavioural check is the proof: the server must answer *partial success* to a valid admin key (RFC 4252
§5.1), i.e. still require a second factor. The configuration check explains it and covers every admin user,
Match blocks resolved for a connection from where the scanner stands.
"""

import fnmatch

from preuve.judge import check


@check("MFA-SSH-ENFORCED", requirements=["9.6.f", "9.5.a"], target="ssh_canary", severity="critical",
       rule="SecNumCloud 9.6.f (authentification multifacteur des administrateurs)")
def check_ssh_mfa_enforced(ssh_canary, params, judge):
    judge.equals("mfa.ssh.key_alone_authenticated", ssh_canary["key_alone_authenticated"], False)
    judge.non_empty(
        "mfa.ssh.second_factor_required",
        [m for m in ssh_canary["methods_still_required"] if m in params.access.second_factor_methods],
    )


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


@check("MFA-SSH-CONFIG", requirements=["9.6.f", "9.5.a"], target="baseline_host", severity="high",
       rule="sshd -T -C par administrateur : AuthenticationMethods à deux méthodes")
def check_ssh_mfa_config(sshd_admin, params, judge):
    admins = {u: c for u, c in sshd_admin.items() if set(c["groups"]) & set(params.access.admin_groups)}
    concerned = {u: c for u, c in admins.items() if allowed(u, c["groups"], c)}
    if not concerned:
        judge.not_applicable(f"no administrator may log in over SSH (admins: {sorted(admins) or 'none'})")
    observed = {u: " ".join(c.get("authenticationmethods", ["any"])) for u, c in concerned.items()}
    judge.each("mfa.ssh.authenticationmethods", {u: not single_factor_lists(c) for u, c in concerned.items()},
               observed=observed)
