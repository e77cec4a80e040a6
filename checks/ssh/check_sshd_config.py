"""The SSH server's effective configuration, as it applies to real connections (`sshd -T -C` per context).

These ANSSI rules are invisible from the network; they need the read-only host-side view. A `Match` block can
re-enable what the global section forbids for one address range, user or port, so every check judges each
connection context the fact evaluated (preuve/observe/ssh/sshd_effective.py) and reports the WORST one, naming it
(user, source address, local address and port, and why that context was tried). Where the server's own answer
to a `none` request contradicts the configuration (it offers a method the configuration disables), the check
fails quoting both. A non-compliant line sshd ignores only because an earlier line set the keyword first (first
value wins) is reported as a warning on a passing result: it takes effect as soon as the order changes.
"""

import json
from collections.abc import Callable
from typing import Any

from preuve.judge import ObservationError, check
from preuve.observe.ssh.sshd_effective import quote, shadowed


def contexts(sshd: dict) -> list[dict]:
    """Every evaluated context with its full configuration (the scanner's own first); error if one failed."""
    if sshd.get("errors"):
        raise ObservationError("sshd -T -C could not evaluate every connection context: " + "; ".join(sshd["errors"]))
    base = sshd["base"]
    return [base] + [{**c, "config": {**base["config"], **c["config"]}} for c in sshd["contexts"]]


def one(cfg: dict, key: str) -> str | None:
    """First value of `key` in a context (or a plain `sshd -T` dict)."""
    values = (cfg.get("config", cfg)).get(key) or [None]
    return values[0]


def worst(
    judge: Any,
    label: str,
    op: str,
    expected: Any,
    ctxs: list[dict],
    value: Callable[[dict], Any],
    ok: Callable[[Any], bool],
    rank: Callable[[Any], Any] | None = None,
) -> bool:
    """One expectation on the worst context: observed is its value followed by the context that produced it
    (and how many other contexts also fail); a pass says how many contexts were judged."""
    values = [(value(c), c) for c in ctxs]
    bad = [(v, c) for v, c in values if not ok(v)]
    if bad:
        v, c = max(bad, key=lambda vc: rank(vc[0])) if rank else bad[0]
        more = f" (+{len(bad) - 1} other contexts)" if len(bad) > 1 else ""
        shown = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)
        observed: Any = f"{shown} [{quote(c)}]{more}"
    else:
        observed = values[0][0] if len({str(v) for v, _ in values}) == 1 else sorted({str(v) for v, _ in values})
    judge._add(label, op, expected, observed, not bad)  # the observed value carries its context
    return not bad


def warn_shadowed(judge: Any, sshd: dict, keyword: str, bad: Callable[[str], bool]) -> None:
    """A warning in the evidence of the result: compliant now only because an earlier line wins."""
    lines = shadowed(sshd.get("files") or [], keyword, bad)
    if lines:
        judge.each("sshd.shadowed_lines", {}, observed=lines)


def password_by_pam(ctx: dict, pam_auth: list[str] | None) -> str:
    """ "no", or how a password ALONE gets in through keyboard-interactive: with UsePAM, keyboard-interactive asks
    whatever sshd's PAM auth stack asks, and pam_unix asks the account's password; that is a password login
    whatever PasswordAuthentication says, unless AuthenticationMethods puts another method before or after it."""
    if one(ctx, "usepam") != "yes" or one(ctx, "kbdinteractiveauthentication") != "yes":
        return "no"
    lists = " ".join(ctx["config"].get("authenticationmethods") or ["any"]).split()
    alone = [
        m
        for m in lists
        if m == "any" or all(x.split(":")[0] in ("keyboard-interactive", "password") for x in m.split(","))
    ]
    if not alone:
        return "no"
    if pam_auth is None:
        raise ObservationError("UsePAM yes but sshd's PAM auth stack was not read")
    unreadable = [line for line in pam_auth if line.startswith("#unreadable")]
    if unreadable:
        raise ObservationError(f"sshd's PAM auth stack could not be read: {unreadable[0][12:]}")
    unix = [line for line in pam_auth if "pam_unix.so" in line]
    if not unix:
        return "no"
    return f"yes (AuthenticationMethods {' '.join(alone)}; PAM: {unix[0]})"


def offered_but_disabled(sshd: dict) -> dict[str, str]:
    """Methods the server offered the scanner after `none` although its own context's configuration disables
    them: {method: the configuration keyword and value}."""
    offered = sshd.get("offered") or {}
    base = sshd["base"]
    keys = {
        "password": "passwordauthentication",
        "keyboard-interactive": "kbdinteractiveauthentication",
        "publickey": "pubkeyauthentication",
        "hostbased": "hostbasedauthentication",
    }
    return {
        m: f"{keys[m]} {one(base, keys[m])}"
        for m in offered.get("methods", [])
        if m in keys and one(base, keys[m]) == "no"
    }


@check(
    "SSH-ROOT-LOGIN",
    requirements={
        "9.5.d#1": "root cannot log in directly over SSH (PermitRootLogin no)",
        "10.2.e#2": "PermitRootLogin no (R21)",
    },
    target="host",
    severity="critical",
    rule="ANSSI-SSH R21",
)
def check_root_login(sshd, judge):
    ctxs = contexts(sshd)
    roots = [c for c in ctxs if c["user"] == "root"] or ctxs  # PermitRootLogin is only read for root
    worst(
        judge, "sshd.permitrootlogin", "equals", "no", roots, lambda c: one(c, "permitrootlogin"), lambda v: v == "no"
    )
    warn_shadowed(judge, sshd, "permitrootlogin", lambda v: v.lower() != "no")


@check(
    "SSH-PASSWORD-AUTH",
    requirements={
        "10.2.e#2": "password authentication is off (R17)",
    },
    target="host",
    severity="high",
    rule="ANSSI-SSH R17 (authentification par clé)",
)
def check_password_auth(sshd, judge):
    worst(
        judge,
        "sshd.passwordauthentication",
        "equals",
        "no",
        contexts(sshd),
        lambda c: one(c, "passwordauthentication"),
        lambda v: v == "no",
    )
    worst(
        judge,
        "sshd.kbdinteractive_password",
        "equals",
        "no",
        contexts(sshd),
        lambda c: password_by_pam(c, sshd.get("pam_auth")),
        lambda v: v == "no",
    )
    offered = sshd.get("offered") or {}
    if "methods" not in offered:
        raise ObservationError(f"the server's answer to a `none` request was not recorded: {offered.get('error')}")
    disagree = offered_but_disabled(sshd)
    seen = [f"{m} (sshd -T -C for this connection: {disagree[m]})" if m in disagree else m for m in offered["methods"]]
    if offered.get("none_accepted"):
        seen.append("none (accepted: no authentication at all)")
    for reply in sshd.get("offered_from_vantages") or []:  # the same request from each namespace vantage point
        if "password" in reply.get("methods", []):
            seen.append(f"password (offered from vantage {reply['vantage']})")
        if reply.get("none_accepted"):
            seen.append(f"none (accepted from vantage {reply['vantage']})")
    forbidden = [m for m in seen if m.startswith(("password", "none")) or " (sshd -T -C" in m]
    judge.excludes("ssh.auth_offered", seen, forbidden or ["password"])
    warn_shadowed(judge, sshd, "passwordauthentication", lambda v: v.lower() != "no")


@check(
    "SSH-EMPTY-PASSWORDS",
    requirements={
        "10.2.e#2": "PermitEmptyPasswords no (R17)",
    },
    target="host",
    severity="critical",
    rule="ANSSI-SSH R18",
)
def check_empty_passwords(sshd, judge):
    worst(
        judge,
        "sshd.permitemptypasswords",
        "equals",
        "no",
        contexts(sshd),
        lambda c: one(c, "permitemptypasswords"),
        lambda v: v == "no",
    )
    warn_shadowed(judge, sshd, "permitemptypasswords", lambda v: v.lower() != "no")


@check(
    "SSH-MAX-AUTH-TRIES",
    requirements={
        "10.2.e#2": "MaxAuthTries is bounded (R18)",
    },
    target="host",
    severity="medium",
    rule="ANSSI-SSH R18",
)
def check_max_auth_tries(sshd, params, judge):
    """1 <= MaxAuthTries <= the profile's limit in every context. 0 is not "at most N": OpenSSH 9.2 then ends
    every connection at its first `none` request ("Too many authentication failures"), so it states no
    attempt policy at all (a misconfiguration, often meant as "unlimited"); it fails as out of range."""
    limit = params.ssh.max_auth_tries

    def value(c: dict) -> int | str | None:
        v = one(c, "maxauthtries")
        if v == "0":
            return "0 (no attempt policy: sshd ends every connection at its first request)"
        return int(v) if v is not None and v.isdigit() else None

    worst(
        judge,
        "sshd.maxauthtries",
        "at_most",
        limit,
        contexts(sshd),
        value,
        lambda v: isinstance(v, int) and 1 <= v <= limit,
        rank=lambda v: v if isinstance(v, int) else 10**9,
    )
    warn_shadowed(judge, sshd, "maxauthtries", lambda v: not v.isdigit() or not 1 <= int(v) <= limit)


@check(
    "SSH-LOGIN-GRACE-TIME",
    requirements={
        "10.2.e#2": "LoginGraceTime is short (R18)",
    },
    target="host",
    severity="low",
    rule="ANSSI-SSH R18",
)
def check_login_grace_time(sshd, params, judge):
    limit = params.ssh.max_login_grace_time

    def value(c: dict) -> int | str | None:
        v = one(c, "logingracetime")
        if v == "0":
            return "0 (no time limit)"
        return int(v) if v is not None and v.isdigit() else None

    worst(
        judge,
        "sshd.logingracetime",
        "at_most",
        limit,
        contexts(sshd),
        value,
        lambda v: isinstance(v, int) and 0 < v <= limit,
        rank=lambda v: v if isinstance(v, int) else 10**9,
    )


@check(
    "SSH-FORWARDING",
    requirements={
        "10.2.e#2": "TCP, X11, agent forwarding and tunnels are off (R27-R28)",
    },
    target="host",
    severity="medium",
    rule="ANSSI-SSH R27, R28",
)
def check_forwarding(sshd, judge):
    """`DisableForwarding yes` disables every forwarding (sshd_config(5)), although `sshd -T` still prints the
    four keys with their own values: it decides first."""
    keys = ("allowtcpforwarding", "x11forwarding", "allowagentforwarding", "permittunnel")

    def value(c: dict) -> dict:
        if one(c, "disableforwarding") == "yes":
            return {"disableforwarding": "yes"}
        return {k: one(c, k) for k in keys}

    worst(
        judge,
        "sshd.forwarding",
        "equals",
        "DisableForwarding yes, or the four keys no",
        contexts(sshd),
        value,
        lambda v: v == {"disableforwarding": "yes"} or all(v.get(k) == "no" for k in keys),
    )


@check(
    "SSH-LOG-LEVEL",
    requirements={
        "12.6.b#1": "SSH logins are logged with the account and, at VERBOSE, the key used",
        "10.2.e#2": "LogLevel is one the profile allows (VERBOSE, INFO), in every connection context",
    },
    target="host",
    severity="medium",
    rule="ANSSI-SSH (traçabilité) ; LogLevel VERBOSE journalise les empreintes de clés",
)
def check_log_level(sshd, params, judge):
    allowed = params.ssh.log_levels_allowed
    worst(
        judge, "sshd.loglevel", "one_of", allowed, contexts(sshd), lambda c: one(c, "loglevel"), lambda v: v in allowed
    )


@check(
    "SSH-ALLOW-LIST",
    requirements={
        "10.2.e#2": "AllowUsers or AllowGroups restricts who may log in (R22)",
    },
    target="host",
    severity="medium",
    rule="ANSSI-SSH R22",
)
def check_allow_list(sshd, judge):
    def value(c: dict) -> list[str]:
        return (c["config"].get("allowusers") or []) + (c["config"].get("allowgroups") or [])

    worst(judge, "sshd.allowusers_allowgroups", "non_empty", "non-empty", contexts(sshd), value, bool)


@check(
    "SSH-USER-ENVIRONMENT",
    requirements={
        "10.2.e#2": "PermitUserEnvironment no (R23)",
    },
    target="host",
    severity="medium",
    rule="ANSSI-SSH R23",
)
def check_user_environment(sshd, judge):
    worst(
        judge,
        "sshd.permituserenvironment",
        "equals",
        "no",
        contexts(sshd),
        lambda c: one(c, "permituserenvironment"),
        lambda v: v == "no",
    )


@check(
    "SSH-STRICT-MODES",
    requirements={
        "10.2.e#2": "StrictModes yes (R17)",
    },
    target="host",
    severity="medium",
    rule="ANSSI-SSH R17",
)
def check_strict_modes(sshd, judge):
    worst(
        judge,
        "sshd.strictmodes",
        "equals",
        "yes",
        contexts(sshd),
        lambda c: one(c, "strictmodes"),
        lambda v: v == "yes",
    )
