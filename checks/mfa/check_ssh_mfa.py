"""SSH: a second factor is enforced for administrators, proven by a canary key and by `sshd -T -C` per admin.

The behavioural check is the proof: the server must answer *partial success* to a valid admin key (RFC 4252
§5.1), i.e. still require a second factor. The configuration check explains it and covers every admin user,
Match blocks resolved for a connection from where the scanner stands.
"""

import fnmatch

from preuve.judge import ObservationError, check


@check(
    "MFA-SSH-ENFORCED",
    requirements={
        "9.6.f#1": "the canary admin's key alone gets partial success, and the second factor refuses wrong/empty codes",
        "9.5.a#3": "multi-factor authentication is in place for SSH administration",
    },
    target="ssh_canary",
    severity="critical",
    rule="SecNumCloud 9.6.f (authentification multifacteur des administrateurs)",
)
def check_ssh_mfa_enforced(ssh_canary, params, judge):
    """Asked is not checked: after partial success the second factor must refuse a wrong code and an empty answer
    (and, given the seed, accept the right code), or pam_permit would pass for MFA."""
    if not judge.equals("mfa.ssh.key_alone_authenticated", ssh_canary["key_alone_authenticated"], False):
        return
    if not judge.non_empty(
        "mfa.ssh.second_factor_required",
        [m for m in ssh_canary["methods_still_required"] if m in params.access.second_factor_methods],
    ):
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


@check(
    "MFA-SSH-CONFIG",
    requirements={
        "9.6.f#1": "sshd -T -C requires two methods for every member of the admin groups",
        "9.5.a#3": "SSH administration is configured for multi-factor authentication",
    },
    target="baseline_host",
    severity="high",
    rule="sshd -T -C par administrateur : AuthenticationMethods à deux méthodes",
)
def check_ssh_mfa_config(sshd_admin, params, judge):
    """Administrators are root, the members of `access.admin_groups` and every account with a sudo rule (sudo's
    own `sudo -l -U`); each is judged in every context evaluated (the scanner's connection, each zone and vantage
    address). An admin who cannot log in in any context (AllowUsers/DenyUsers..., PermitRootLogin no for root) is
    not concerned, and said so. The scanning account is not judged when it is not root and its sudo rules name
    commands only (preuve's own read-only access); its rules are quoted in the evidence."""
    admin_groups = set(params.access.admin_groups)
    items: dict[str, bool] = {}
    observed: dict[str, str] = {}
    for user, cfg in sorted(sshd_admin.items()):
        reasons = [w for w in cfg.get("why", []) if w in ("root", "sudo-rule")]
        reasons += [f"group {g}" for g in cfg["groups"] if g in admin_groups]
        if not reasons:
            continue
        if cfg.get("scanning_account") and user != "root" and not full_sudo(cfg.get("sudo_rules", [])):
            observed[user] = "scanning account, not judged (sudo limited to named commands)"
            continue
        contexts = cfg.get("contexts") or [cfg]
        open_ = [c for c in contexts if may_log_in(user, cfg["groups"], c)]
        if not open_:
            observed[user] = f"cannot log in: {refusal(user, contexts[0])} ({', '.join(reasons)})"
            continue
        bad = [c for c in open_ if single_factor_lists(c)]
        worst = bad[0] if bad else open_[0]
        methods = " ".join(worst.get("authenticationmethods", ["any"]))
        same = len({" ".join(c.get("authenticationmethods", ["any"])) for c in open_}) == 1
        observed[user] = methods if same else f"{methods} [addr={worst.get('addr')}]"
        items[user] = not bad
    if not items:
        judge.not_applicable(f"no administrator may log in over SSH ({observed or 'no administrator found'})")
    judge.each("mfa.ssh.authenticationmethods", items, observed=observed)


def may_log_in(user: str, groups: list[str], cfg: dict) -> bool:
    """Allowed by the allow/deny lists and, for root, by PermitRootLogin (anything but "no" lets a key in)."""
    if user == "root" and (cfg.get("permitrootlogin") or ["prohibit-password"])[0] == "no":
        return False
    return allowed(user, groups, cfg)


def refusal(user: str, cfg: dict) -> str:
    if user == "root" and (cfg.get("permitrootlogin") or [""])[0] == "no":
        return "PermitRootLogin no"
    return "refused by the Allow/Deny lists"


def full_sudo(rules: list[str]) -> bool:
    """A sudo rule whose command list is ALL: a full administrator, whatever else it is."""
    for rule in rules:
        commands = rule.split(")", 1)[-1]
        words = [w.strip() for w in commands.split(",")]
        if any(w.split(":")[-1].strip() == "ALL" for w in words):
            return True
    return False
