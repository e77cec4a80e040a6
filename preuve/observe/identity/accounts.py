"""Local accounts of a host and how each can be reached: passwd entries, authorized keys (fingerprints only), the
last login, and what sshd decides for each account holding a key.

Why one fact: deprovisioning (9.2.c), dormant rights (9.4.a), technical accounts (9.5.d) and the rights table
(9.3.d) all judge the same accounts; reading them once keeps a host to one round trip. Key files are read with
`ssh-keygen -l -f` (through sudo for a non-root scanner), which prints bit size, fingerprint, comment and type:
no key material ever leaves the host, not even in the raw evidence. sshd's AuthorizedKeysFile and
AuthorizedKeysCommand are read from `sshd -T` for the scanner's own connection (a Match block that changes
AuthorizedKeysFile for one user is not followed; an AuthorizedKeysCommand makes the keys unlistable, which the
checks report). Last logins come from `lastlog` (shadow-utils; /var/log/lastlog), absent on systems that moved to
lastlog2, which is then said, never guessed.
"""

from __future__ import annotations

import datetime as dt

from preuve.observe.registry import HostFact

SNIPPET = r"""PATH="$PATH:/usr/sbin:/sbin"
asroot() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
set -- $SSH_CONNECTION; a=${1:-127.0.0.1}; la=${3:-127.0.0.1}; lp=${4:-22}
sx() { asroot sshd -T ${PREUVE_SSHD_CONFIG:+-f "$PREUVE_SSHD_CONFIG"} \
  -C "user=$1,host=$a,addr=$a,laddr=$la,lport=$lp"; }
echo "== now $(date +%s)"
echo "== defs $(awk '$1=="UID_MIN"||$1=="SYS_UID_MAX"{printf "%s=%s ",$1,$2}' /etc/login.defs 2>/dev/null)"
base=$(sx "$(id -un)" 2>&1) || { printf 'sshd -T: %s\n' "$base" >&2; exit 1; }
akf=$(printf '%s\n' "$base" | awk '$1=="authorizedkeysfile"{$1=""; print}')
akc=$(printf '%s\n' "$base" | awk '$1=="authorizedkeyscommand"{$1=""; print}')
echo "== sshd authorizedkeysfile$akf"
echo "== sshd authorizedkeyscommand$akc"
getent passwd | while IFS=: read -r u _ uid gid _ h sh; do
  printf '== acct %s %s %s %s %s\n' "$u" "$uid" "$gid" "${sh:-/bin/sh}" "$h"
  n=0
  for t in $akf; do
    f=$(printf '%s' "$t" | sed -e "s|%h|$h|g" -e "s|%u|$u|g" -e 's|%%|%|g')
    case "$f" in /*) ;; *) f="$h/$f" ;; esac
    p=${f%/*}
    if [ -x "$p" ] && [ ! -e "$f" ]; then continue; fi
    [ -d "$h" ] || continue
    out=$(asroot ssh-keygen -l -f "$f" 2>&1 </dev/null); r=$?
    case "$out" in
      *"No such file or directory"*) continue ;;
      *"is not a public key file"*) echo "keyfile $f 0"; continue ;;
    esac
    if [ $r -ne 0 ]; then printf 'cannot fingerprint %s: %s\n' "$f" "$(printf '%s' "$out" | head -n 1)" >&2; exit 1; fi
    c=$(printf '%s\n' "$out" | grep -c .)
    echo "keyfile $f $c"; printf '%s\n' "$out" | sed 's/^/key /'; n=$((n+c))
  done
  if [ $n -gt 0 ] || [ "$uid" -eq 0 ]; then
    echo "groups $(id -Gn "$u" 2>/dev/null | tr ' ' ,)"
    sx "$u" 2>&1 </dev/null | grep -Ei '^(permitrootlogin|pubkeyauthentication|allowusers|denyusers|allowgroups|'\
'denygroups|authenticationmethods|usepam) ' | sed 's/^/sshd /'
  fi
done || exit 1
if command -v lastlog >/dev/null 2>&1; then echo "== lastlog"; LC_ALL=C lastlog 2>&1 | sed 1d
else echo "== nolastlog lastlog is not installed (lastlog2 or wtmpdb hosts: last logins not read)"; fi
"""


def _lastlog(line: str) -> tuple[str, int | None] | None:
    """`lastlog` row -> (user, epoch or None for never). Dates are C-locale `%a %b %e %H:%M:%S %z %Y`."""
    words = line.split()
    if not words:
        return None
    if line.rstrip().endswith("**Never logged in**"):
        return words[0], None
    if len(words) < 7:
        return None
    try:
        when = dt.datetime.strptime(" ".join(words[-6:]), "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None
    return words[0], int(when.timestamp())


def parse(text: str) -> dict:
    """{"now", "uid_min", "sys_uid_max", "authorized_keys_files", "authorized_keys_command", "lastlog": bool,
    "accounts": {user: {uid, gid, shell, home, keys: [{bits, fingerprint, comment, type, file}], key_files,
    groups, sshd: {keyword: [values]}, last_login: epoch | None | "unknown"}}}"""
    out: dict = {"accounts": {}, "lastlog": False, "authorized_keys_command": None}
    acct: dict | None = None
    keyfile = ""
    section = ""
    for line in text.splitlines():
        if line.startswith("== "):
            word, _, rest = line[3:].partition(" ")
            section = word
            if word == "now":
                out["now"] = int(rest)
            elif word == "defs":
                defs = dict(p.split("=", 1) for p in rest.split() if "=" in p)
                out["uid_min"] = int(defs.get("UID_MIN", 1000))
                out["sys_uid_max"] = int(defs.get("SYS_UID_MAX", out["uid_min"] - 1))
            elif word == "sshd":
                key, _, value = rest.partition(" ")
                if key == "authorizedkeysfile":
                    out["authorized_keys_files"] = value.split()
                elif value.strip() and value.strip() != "none":
                    out["authorized_keys_command"] = value.strip()
            elif word == "acct":
                user, uid, gid, shell, home = [*rest.split(" ", 4), "", "", "", ""][:5]
                acct = out["accounts"][user] = {
                    "uid": int(uid),
                    "gid": int(gid),
                    "shell": shell,
                    "home": home,
                    "keys": [],
                    "key_files": {},
                    "groups": [],
                    "sshd": {},
                    "last_login": "unknown",
                }
            elif word == "lastlog":
                out["lastlog"] = True
            elif word == "nolastlog":
                out["lastlog_absent"] = rest
            continue
        if section == "lastlog":
            row = _lastlog(line)
            if row and row[0] in out["accounts"]:
                out["accounts"][row[0]]["last_login"] = row[1]
            continue
        if acct is None:
            continue
        kind, _, rest = line.partition(" ")
        if kind == "keyfile":
            keyfile, _, count = rest.rpartition(" ")
            acct["key_files"][keyfile] = int(count) if count.isdigit() else count
        elif kind == "key":
            words = rest.split()
            if len(words) >= 3:
                acct["keys"].append(
                    {
                        "bits": int(words[0]) if words[0].isdigit() else words[0],
                        "fingerprint": words[1],
                        "comment": " ".join(words[2:-1]),
                        "type": words[-1].strip("()"),
                        "file": keyfile,
                    }
                )
        elif kind == "groups":
            acct["groups"] = [g for g in rest.split(",") if g]
        elif kind == "sshd":
            key, _, value = rest.partition(" ")
            acct["sshd"].setdefault(key.lower(), []).append(value.strip())
    return out


HOST_FACTS = (
    HostFact(
        "accounts",
        SNIPPET,
        parse,
        fixture="accounts",
        doc="local accounts: passwd entry, authorized keys (fingerprints), last login, sshd's decision for each "
        "account holding a key",
        many_processes=True,
    ),
)
