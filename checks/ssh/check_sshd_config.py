"""The SSH server's effective configuration, read with `sshd -T` on the host (Include and defaults resolved).

These ANSSI rules are invisible from the network; they need the read-only host-side view.
"""

from preuve.judge import check


def one(sshd: dict, key: str) -> str | None:
    values = sshd.get(key) or [None]
    return values[0]


@check(
    "SSH-ROOT-LOGIN",
    requirements=["9.2.b", "10.2.e"],
    target="host",
    severity="critical",
    rule="ANSSI-SSH R21",
)
def check_root_login(sshd, judge):
    judge.equals("sshd.permitrootlogin", one(sshd, "permitrootlogin"), "no")


@check(
    "SSH-PASSWORD-AUTH",
    requirements=["9.5.a", "9.6.f", "10.2.e"],
    target="host",
    severity="high",
    rule="ANSSI-SSH R17 (authentification par clé)",
)
def check_password_auth(sshd, judge):
    judge.equals("sshd.passwordauthentication", one(sshd, "passwordauthentication"), "no")


@check(
    "SSH-EMPTY-PASSWORDS",
    requirements=["9.5.a", "10.2.e"],
    target="host",
    severity="critical",
    rule="ANSSI-SSH R18",
)
def check_empty_passwords(sshd, judge):
    judge.equals("sshd.permitemptypasswords", one(sshd, "permitemptypasswords"), "no")


@check(
    "SSH-MAX-AUTH-TRIES",
    requirements=["9.5.b", "10.2.e"],
    target="host",
    severity="medium",
    rule="ANSSI-SSH R18",
)
def check_max_auth_tries(sshd, params, judge):
    value = one(sshd, "maxauthtries")
    judge.at_most("sshd.maxauthtries", int(value) if value is not None else None, params.ssh.max_auth_tries)


@check("SSH-LOGIN-GRACE-TIME", requirements=["10.2.e"], target="host", severity="low", rule="ANSSI-SSH R18")
def check_login_grace_time(sshd, params, judge):
    value = one(sshd, "logingracetime")
    grace = int(value) if value is not None else None
    judge.each(
        "sshd.logingracetime",
        {"logingracetime": grace is not None and 0 < grace <= params.ssh.max_login_grace_time},
        observed=grace,
    )


@check(
    "SSH-FORWARDING",
    requirements=["9.7.c", "10.2.e"],
    target="host",
    severity="medium",
    rule="ANSSI-SSH R27, R28",
)
def check_forwarding(sshd, judge):
    keys = ("allowtcpforwarding", "x11forwarding", "allowagentforwarding", "permittunnel")
    observed = {k: one(sshd, k) for k in keys}
    judge.each("sshd.forwarding", {k: v == "no" for k, v in observed.items()}, observed=observed)


@check(
    "SSH-LOG-LEVEL",
    requirements=["12.6.a", "10.2.e"],
    target="host",
    severity="medium",
    rule="ANSSI-SSH (traçabilité) ; LogLevel VERBOSE journalise les empreintes de clés",
)
def check_log_level(sshd, params, judge):
    judge.one_of("sshd.loglevel", one(sshd, "loglevel"), params.ssh.log_levels_allowed)


@check(
    "SSH-ALLOW-LIST", requirements=["9.3.a", "10.2.e"], target="host", severity="medium", rule="ANSSI-SSH R22"
)
def check_allow_list(sshd, judge):
    judge.non_empty(
        "sshd.allowusers_allowgroups", (sshd.get("allowusers") or []) + (sshd.get("allowgroups") or [])
    )


@check(
    "SSH-USER-ENVIRONMENT", requirements=["10.2.e"], target="host", severity="medium", rule="ANSSI-SSH R23"
)
def check_user_environment(sshd, judge):
    judge.equals("sshd.permituserenvironment", one(sshd, "permituserenvironment"), "no")


@check("SSH-STRICT-MODES", requirements=["10.2.e"], target="host", severity="medium", rule="ANSSI-SSH R17")
def check_strict_modes(sshd, judge):
    judge.equals("sshd.strictmodes", one(sshd, "strictmodes"), "yes")
