"""`sshd -T -C` evaluated for each administrator account (the configuration an admin's login really gets)."""

from __future__ import annotations

from preuve.observe.registry import HostFact
from preuve.observe.shell import AS_ROOT as _AS_ROOT
from preuve.observe.shell import SBIN_PATH as _PATH
from preuve.observe.ssh.sshd_effective import WALK

# Administrators are root, the members of sudo/wheel/admin (supplementary or primary group) and every account
# with a sudo rule, as sudo itself resolves its policy (`sudo -n -l -U user`: aliases, groups, Include files;
# needs the sudoers "list" privilege when not root, e.g. `auditor ALL=(ALL) NOPASSWD: list`). An account without a
# login shell is not a candidate (it cannot get a session). Sudo that cannot list is an error, never a narrower
# set. For each administrator: why, its groups, its sudo rules, then what `sshd -T -C` resolves for it from the
# scanner's own connection and, when Match blocks test Address or Host, from each address in $PREUVE_SSH_ADDRS
# (zones, vantage points).
SSHD_ADMIN = (
    WALK + "walk no; " + _PATH + "asroot() { " + _AS_ROOT + "; }; cf=; "
    'if [ -n "$PREUVE_SSHD_CONFIG" ]; then cf="$PREUVE_SSHD_CONFIG"; fi; '
    "set -- $SSH_CONNECTION; a=${1:-127.0.0.1}; la=${3:-127.0.0.1}; lp=${4:-22}; me=$(id -un); "
    "adm=$(getent group ${PREUVE_ADMIN_GROUPS:-sudo wheel admin}); "
    'gids=" $(printf "%s\\n" "$adm" | cut -d: -f3 | tr "\\n" " ") "; '
    'members=" $(printf "%s\\n" "$adm" | cut -d: -f4 | tr ",\\n" "  ") "; '
    "command -v sudo >/dev/null 2>&1 && hs=yes || { hs=no; echo '#nosudo sudo is not installed: no sudo rule'; }; "
    "getent passwd | while IFS=: read -r u _ _ gid _ _ shell; do "
    'why=; [ "$u" = root ] && why=root; '
    'case "$gids" in *" $gid "*) why="$why,primary-group";; esac; '
    'case "$members" in *" $u "*) why="$why,admin-group";; esac; '
    'case "$shell" in */nologin|*/false|*/sync|*/shutdown|*/halt) [ -z "$why" ] && continue;; esac; '
    'rules=; if [ "$hs" = yes ]; then r=$(LC_ALL=C sudo -n -l -U "$u" 2>&1 </dev/null); '
    'case "$r" in *"may run the following commands"*) why="$why,sudo-rule"; '
    'rules=$(printf "%s\\n" "$r" | sed -n "/may run the following commands/,\\$p" | sed 1d);; '
    '*"is not allowed to run sudo"*) ;; '
    '*) printf "cannot list the sudo rules of %s (sudo -n -l -U): %s; the scanning account needs the sudoers '
    '\\"list\\" privilege, e.g. %s ALL=(ALL) NOPASSWD: list\\n" "$u" "$(printf "%s" "$r" | head -n 1)" "$me" >&2; '
    "exit 1;; esac; fi; "
    '[ -n "$why" ] || continue; '
    'printf "== %s %s %s\\n" "$u" "${why#,}" "$(id -Gn "$u" | tr " " ,)"; '
    '[ "$u" = "$me" ] && echo "#scanning-account"; '
    'printf "%s\\n" "$rules" | sed -n "s/^[[:space:]]*\\(..*\\)/#sudo \\1/p"; '
    'S=$a; case " $crit " in *" address "*|*" host "*) S=$(distinct $a $PREUVE_SSH_ADDRS);; esac; for s in $S; do '
    'out=$(asroot sshd -T ${cf:+-f "$cf"} -C "user=$u,host=$s,addr=$s,laddr=$la,lport=$lp" 2>&1 </dev/null) '
    '|| { printf "%s\\n" "$out" >&2; exit 1; }; printf "=> %s\\n" "$s"; printf "%s\\n" "$out" | grep -Ei '
    '"^(authenticationmethods|pubkeyauthentication|passwordauthentication|kbdinteractiveauthentication|'
    'allowusers|denyusers|allowgroups|denygroups|permitrootlogin|usepam) "; done; done'
)


def parse_sshd_admin(text: str) -> dict[str, dict]:
    """{user: {"why", "groups", "sudo_rules", "scanning_account", "contexts": [{"addr", keyword: [values]}]}}.

    The first context is the scanner's own connection; its keywords are also copied at the top level."""
    out: dict[str, dict] = {}
    current: dict | None = None
    ctx: dict | None = None
    for line in text.splitlines():
        if line.startswith("== "):
            _, user, why, *groups = line.split(" ")
            current = out.setdefault(
                user,
                {
                    "why": why.split(","),
                    "sudo_rules": [],
                    "scanning_account": False,
                    "groups": [g for g in ",".join(groups).split(",") if g],
                    "contexts": [],
                },
            )
            ctx = None
        elif current is None:
            continue
        elif line == "#scanning-account":
            current["scanning_account"] = True
        elif line.startswith("#sudo "):
            current["sudo_rules"].append(line[6:])
        elif line.startswith("=> "):
            ctx = {"addr": line[3:].strip()}
            current["contexts"].append(ctx)
        else:
            keyword, _, value = line.strip().partition(" ")
            if ctx is not None and keyword:
                ctx.setdefault(keyword.lower(), []).append(value.strip())
    for entry in out.values():
        if entry["contexts"]:
            entry.update({k: v for k, v in entry["contexts"][0].items() if k != "addr"})
    return out


HOST_FACTS = (
    HostFact(
        "sshd_admin",
        SSHD_ADMIN,
        parse_sshd_admin,
        fixture="sshd_admin",
        doc="`sshd -T -C` for each admin user",
        many_processes=True,
    ),
)
