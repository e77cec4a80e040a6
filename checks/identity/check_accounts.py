"""Local accounts compared with the declared administrators: technical accounts, leftovers, dormant rights, the
rights table and the reviews (SecNumCloud 9.2, 9.3, 9.4, 9.5.d).

Who holds what is read on the host (passwd, key fingerprints, `sudo -l -U` as sudo resolves its policy, `sshd -T -C`
per account); who should is the inventory's `baseline.roster`. Judged per host."""

from __future__ import annotations

import datetime as dt
import fnmatch
import re

from preuve.judge import check

_KEY_ROOT_LOGIN = ("yes", "prohibit-password", "without-password", "forced-commands-only")
_RUNAS = re.compile(r"^\(([^)]*)\)")


def _words(values: list[str] | None) -> list[str]:
    return [w for v in values or [] for w in v.split()]


def sshd_admits(user: str, groups: list[str], ctx: dict) -> bool:
    """sshd's own order: DenyUsers, AllowUsers, DenyGroups, AllowGroups (user part of USER@HOST patterns)."""

    def hit(patterns: list[str], names: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(n, p.split("@", 1)[0]) for p in patterns for n in names)

    if hit(_words(ctx.get("denyusers")), [user]):
        return False
    allow = _words(ctx.get("allowusers"))
    if allow and not hit(allow, [user]):
        return False
    if hit(_words(ctx.get("denygroups")), groups):
        return False
    allow_groups = _words(ctx.get("allowgroups"))
    return not (allow_groups and not hit(allow_groups, groups))


def key_login(user: str, account: dict, ctx: dict, lock: str | None) -> str | None:
    """Why a key opens a session for `user` in this sshd context, or None when sshd refuses it."""
    if not account["keys"] or (ctx.get("pubkeyauthentication") or ["yes"])[0] != "yes":
        return None
    methods = (ctx.get("authenticationmethods") or ["any"])[0]
    if methods != "any" and "publickey" not in methods:
        return None
    if user == "root" and (ctx.get("permitrootlogin") or ["no"])[0] not in _KEY_ROOT_LOGIN:
        return None
    if not sshd_admits(user, account.get("groups") or [], ctx):
        return None
    if lock == "!" and (ctx.get("usepam") or ["no"])[0] == "no":
        return None  # sshd without PAM refuses an account locked with passwd -l
    n = len(account["keys"])
    return f"{n} key(s) in {', '.join(sorted(account['key_files']))} accepted by sshd"


def key_accepted(user: str, accounts: dict, shadow: list[dict], sshd_admin: dict) -> str | None:
    """Why sshd would open a session for `user` with one of its keys (first context that does), or None."""
    a = accounts["accounts"][user]
    if not a["keys"]:
        return None
    lock = next((s.get("lock") for s in shadow if s["user"] == user), None)
    contexts = (sshd_admin.get(user) or {}).get("contexts") or [{"addr": "scanner", **a["sshd"]}]
    for ctx in contexts:
        why = key_login(user, a, ctx, lock)
        if why:
            return f"{why} (from {ctx.get('addr', 'scanner')})"
    return None


def technical_accounts(accounts: dict, roster, params) -> dict[str, str]:
    """Technical (non-nominative) accounts -> why: uid 0, system uids, the profile's list, the roster's."""
    people = roster.person_of() if roster is not None else {}
    declared = roster.technical() if roster is not None else {}
    out = {}
    for user, a in accounts["accounts"].items():
        if a["uid"] == 0:
            out[user] = "uid 0"
        elif user in declared:
            out[user] = "declared technical (baseline.roster)"
        elif user in params.identity.technical_accounts:
            out[user] = "identity.technical_accounts"
        elif a["uid"] < accounts.get("uid_min", 1000) and user not in people:
            out[user] = f"system account (uid {a['uid']} < UID_MIN {accounts.get('uid_min', 1000)})"
    return out


def runas(rules: list[str]) -> set[str]:
    """Target users of `sudo -l` rules: `(root) /usr/bin/x`, `(ALL : ALL) ALL` -> {"root"}, {"ALL"}."""
    out: set[str] = set()
    for r in rules:
        if r.split(":")[-1].strip() == "list":
            continue  # sudo's `list` pseudo-command shows rules, it runs nothing as anyone
        m = _RUNAS.match(r.strip())
        users = (m.group(1).split(":", 1)[0] if m else "root").split(",")
        out |= {u.strip() for u in users if u.strip()}
    return out


def rights(accounts: dict, shadow: list[dict], sshd_admin: dict) -> dict[str, dict]:
    """Every account holding a way in or a right: password, keys, sudo rules, admin groups."""
    pw = {a["user"]: a for a in shadow}
    out = {}
    for user, a in accounts["accounts"].items():
        s = pw.get(user, {})
        admin = sshd_admin.get(user, {})
        row = {
            "uid": a["uid"],
            "shell": a["shell"],
            "password": s.get("scheme") not in (None, "locked"),
            "keys": [f"{k['fingerprint']} {k['comment']}".strip() for k in a["keys"]],
            "sudo_rules": admin.get("sudo_rules", []),
            "admin_groups": "admin-group" in admin.get("why", []) or "primary-group" in admin.get("why", []),
        }
        if row["password"] or row["keys"] or row["sudo_rules"] or row["admin_groups"] or a["uid"] == 0:
            out[user] = row
    return out


def _declared(target):
    """The target's declared roster, None when absent or when its file could not be read."""
    return target.roster if hasattr(target.roster, "person_of") else None


def _no_roster(target, judge) -> bool:
    """No declared list: the comparison cannot be made, and that absence is itself the finding."""
    why = None
    if target.roster is None:
        why = "the inventory declares no baseline.roster"
    elif _declared(target) is None:
        why = f"the roster file {target.roster.file} could not be read"
    return judge.absent("identity.roster", why, "a declared list of active administrators")


@check(
    "ACC-TECH-DIRECT-LOGIN",
    requirements={
        "9.5.d#1": "root holds no usable password and no key sshd would accept, in every connection context",
        "9.5.d#2": "other technical accounts: no usable password, no accepted key (unless a declared machine login)",
    },
    target="baseline_host",
    severity="high",
    rule="ANSSI BP-028 R30, R33 (comptes de service, accès root par sudo) ; NT_ADMIN (comptes nominatifs)",
)
def check_technical_direct_login(accounts, shadow, sshd_admin, params, target, judge):
    locks = {a["user"]: a for a in shadow}
    technical = technical_accounts(accounts, _declared(target), params)
    declared = _declared(target).technical() if _declared(target) is not None else {}
    ways: dict[str, list[str]] = {}
    machine: dict[str, list[str]] = {}
    for user in technical:
        s = locks.get(user, {})
        found = []
        if s.get("scheme") not in (None, "locked"):
            found.append(f"password ({s['scheme']})")
        why = key_accepted(user, accounts, shadow, sshd_admin)
        if why:
            found.append(why)
        if found and user in declared and declared[user].direct_login:
            machine[user] = [f"{declared[user].why}: {'; '.join(found)}"]
        else:
            ways[user] = found
    judge.each(
        "identity.technical_direct_login",
        {u: not w for u, w in ways.items()},
        observed={u: w or "no password, no accepted key" for u, w in ways.items() if w or u == "root"},
    )
    if machine:  # reported, not refused: the roster says who logs in there and why
        judge.subset("identity.declared_machine_logins", sorted(machine), sorted(declared))


@check(
    "ACC-LEFTOVER-ACCESS",
    requirements={
        "9.2.c#1": "no undeclared account holds a password, a key, a sudo rule or an admin group on the host",
        "9.2.b#1": "every account holding access belongs to a declared person (nominative) or is a declared "
        "technical account",
        "9.3.c#3": "the hosts' holders of access and admin rights are all in the declared inventory of administrators",
        "9.3.a#2": "no right survives outside the declared attribution (withdrawals applied on the host)",
    },
    target="baseline_host",
    severity="high",
    rule="Guide d'hygiène ANSSI mesure 8 (supprimer les comptes inutilisés) ; BP-028 R30",
)
def check_leftover_access(accounts, shadow, sshd_admin, params, target, judge):
    if _no_roster(target, judge):
        return
    roster = _declared(target)
    people = roster.person_of()
    technical = technical_accounts(accounts, roster, params)
    held = rights(accounts, shadow, sshd_admin)
    undeclared = {u: r for u, r in held.items() if u not in people and u not in technical}
    judge.equals(
        "identity.undeclared_access",
        {u: _summary(r) for u, r in sorted(undeclared.items())},
        {},
    )
    keys = {p.name: set(p.keys) for p in roster.people if p.keys}
    stray = {}
    for user, person in people.items():
        a = accounts["accounts"].get(user)
        if a and person in keys:
            extra = [_key(k) for k in a["keys"] if k["fingerprint"] not in keys[person]]
            if extra:
                stray[user] = extra
    judge.equals("identity.undeclared_keys", stray, {})


def _key(k: dict) -> str:
    return f"{k['fingerprint']} {k['comment']}".strip()


def _summary(row: dict) -> list[str]:
    out = []
    if row["password"]:
        out.append("password")
    if row["keys"]:
        out.append(f"{len(row['keys'])} key(s): " + ", ".join(row["keys"]))
    out += [f"sudo {r}" for r in row["sudo_rules"]]
    if row["admin_groups"]:
        out.append("admin group")
    return out


@check(
    "ACC-RIGHTS-REVIEW",
    requirements={
        "9.4.a#1": "the declared review of every user's rights is younger than identity.review_max_days",
        "9.4.a#2": "no nominative account idle for identity.dormant_days (lastlog) still holds a right",
    },
    target="baseline_host",
    severity="medium",
    rule="Guide d'hygiène ANSSI mesure 8 ; BP-028 R30 (comptes inactifs)",
)
def check_rights_review(accounts, shadow, sshd_admin, params, target, now, judge):
    if _no_roster(target, judge):
        return
    roster = _declared(target)
    age = (now.date() - roster.reviewed_on).days
    judge.at_most("identity.review_age_days", age, params.identity.review_max_days)
    if not accounts.get("lastlog"):
        judge.absent("identity.last_logins", accounts.get("lastlog_absent") or "no lastlog", "lastlog records")
        return
    limit = params.identity.dormant_days
    technical = technical_accounts(accounts, roster, params)
    changed = {a["user"]: a.get("changed_day") for a in shadow}
    today = accounts["now"] // 86400
    idle: dict[str, int | None] = {}
    for user in rights(accounts, shadow, sshd_admin):
        if user in technical:
            continue  # used through sudo, never logged in to: lastlog says nothing of them
        last = accounts["accounts"][user]["last_login"]
        if isinstance(last, int):
            idle[user] = (accounts["now"] - last) // 86400
        elif changed.get(user) is not None:
            idle[user] = today - changed[user]  # never logged in: idle since it was set up
        else:
            idle[user] = None
    judge.each(
        "identity.idle_days_with_rights",
        {u: d is not None and d <= limit for u, d in idle.items()},
        observed=idle,
        at_most=limit,
    )


@check(
    "ACC-TECH-USERS-REVIEW",
    requirements={
        "9.4.c#1": "the quarterly review of the technical accounts' users is younger than the profile's limit",
        "9.4.c#2": "who can act as each technical account on the host (sudo run-as, accepted keys) was reviewed",
    },
    target="baseline_host",
    severity="medium",
    rule="SecNumCloud 9.4.c ; BP-028 R33 (sudo nominatif)",
)
def check_technical_users_review(accounts, shadow, sshd_admin, params, target, now, judge):
    if _no_roster(target, judge):
        return
    roster = _declared(target)
    when = roster.technical_reviewed_on
    judge.at_most(
        "identity.technical_review_age_days",
        (now.date() - when).days if when else None,
        params.identity.technical_review_max_days,
    )
    reach = reachers(accounts, shadow, sshd_admin, roster, params)
    declared = roster.technical()
    judge.each(
        "identity.technical_users",
        {t: set(u).issubset(declared[t].users if t in declared else []) for t, u in reach.items()},
        observed={t: sorted(u) for t, u in reach.items()},
    )


def reachers(accounts: dict, shadow: list[dict], sshd_admin: dict, roster, params) -> dict[str, set[str]]:
    """Technical account -> the accounts (or unattributed key fingerprints) that can act as it: root, the roster's
    and the profile's technical accounts (system accounts reached through `ALL` are root's business: counted as
    root). Sudo run-as `ALL` counts as root; a declared machine login's own keys are ACC-TECH-DIRECT-LOGIN's."""
    declared = roster.technical() if roster is not None else {}
    names = {"root", *declared, *params.identity.technical_accounts} & set(accounts["accounts"])
    people = roster.people if roster is not None else []
    owner = {k: p.accounts[0] for p in people for k in p.keys if p.accounts}
    out: dict[str, set[str]] = {t: set() for t in names}
    for user, admin in sshd_admin.items():
        if user in names:
            continue
        targets = runas(admin.get("sudo_rules", []))
        for t in names:
            if t in targets or ("ALL" in targets and t == "root"):
                out[t].add(user)
    for t in names:
        if (t in declared and declared[t].direct_login) or not key_accepted(t, accounts, shadow, sshd_admin):
            continue  # a machine login's own keys are ACC-TECH-DIRECT-LOGIN's; keys sshd refuses reach nothing
        for k in accounts["accounts"][t]["keys"]:
            out[t].add(owner.get(k["fingerprint"], f"key {_key(k)}"))
    return {t: u for t, u in out.items() if u or t == "root"}


@check(
    "ACC-RIGHTS-TABLE",
    requirements={
        "9.3.d#1": "per host: accounts with access and their rights, exported (identity-rights.csv/json)",
        "9.3.e#1": "for each user, the rights held on every scanned host (the same table, keyed by person)",
    },
    target="baseline_host",
    severity="low",
    rule="SecNumCloud 9.3.d, 9.3.e",
)
def check_rights_table(accounts, shadow, sshd_admin, params, target, judge):
    roster = _declared(target)
    people = roster.person_of() if roster is not None else {}
    technical = technical_accounts(accounts, roster, params)
    reach = reachers(accounts, shadow, sshd_admin, roster, params)
    table = {}
    for user, row in sorted(rights(accounts, shadow, sshd_admin).items()):
        last = accounts["accounts"][user]["last_login"]
        table[user] = {
            **row,
            "person": people.get(user) or ("technical" if user in technical else "undeclared"),
            "last_login": dt.datetime.fromtimestamp(last, dt.UTC).isoformat() if isinstance(last, int) else last,
            "acts_as": sorted(t for t, u in reach.items() if user in u),
        }
    command = accounts.get("authorized_keys_command")
    judge.equals(
        "identity.keys_listable",
        f"AuthorizedKeysCommand {command}: keys come from outside the host's files" if command else "from files",
        "from files",
    )
    judge.non_empty("identity.rights_table", [{"account": u, **r} for u, r in table.items()])


_SHELLS = ("ALL", "/bin/sh", "/bin/bash", "/usr/bin/bash", "/usr/bin/sh", "/bin/su", "/usr/bin/su")


def full_root(rules: list[str]) -> list[str]:
    """The sudo rules that run anything as root: run-as root or ALL, command ALL or a shell (sudo's own reading)."""
    out = []
    for r in rules:
        m = _RUNAS.match(r.strip())
        users = (m.group(1).split(":", 1)[0] if m else "root").split(",")
        if not {u.strip() for u in users} & {"root", "ALL"}:
            continue
        commands = r.strip()[m.end() :] if m else r.strip()
        words = [w for w in commands.replace(",", " ").split() if not w.endswith(":")]  # tags: NOPASSWD: SETENV:
        if any(w in _SHELLS for w in words):
            out.append(r)
    return out


@check(
    "ACC-PRIVILEGED-VETTED",
    requirements={
        "7.1.b#1": "who can run anything as root on the host is a declared person with a vetting date",
    },
    target="baseline_host",
    severity="medium",
    rule="SecNumCloud 7.1.b (privilèges d'administration élevés)",
)
def check_privileged_vetted(accounts, shadow, sshd_admin, params, target, judge):
    if _no_roster(target, judge):
        return
    roster = _declared(target)
    technical = technical_accounts(accounts, roster, params)
    elevated = {u: full_root(a.get("sudo_rules", [])) for u, a in sshd_admin.items() if u not in technical}
    holders = {u for u, rules in elevated.items() if rules}
    if key_accepted("root", accounts, shadow, sshd_admin):  # keys in root's own file: whoever holds them
        owner = {k: p.accounts[0] for p in roster.people for k in p.keys if p.accounts}
        holders |= {owner.get(k["fingerprint"], f"key {_key(k)}") for k in accounts["accounts"]["root"]["keys"]}
    people = {a: p for p in roster.people for a in p.accounts}
    judge.each(
        "identity.privileged_vetted",
        {u: u in people and people[u].vetted_on is not None for u in holders},
        observed={
            u: f"{people[u].name}: vetted {people[u].vetted_on}"
            if u in people and people[u].vetted_on
            else f"{people[u].name if u in people else 'undeclared'}: no vetting date"
            for u in sorted(holders)
        },
    )
