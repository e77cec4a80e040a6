"""How a host stores and hashes passwords: /etc/shadow schemes and costs, login.defs and pam_unix options.

The /etc/shadow snippet reduces the file ON THE HOST to user, scheme, cost parameter, salt-sharing group and last
change day with awk, so no hash and no salt ever leaves the machine, not even in the raw evidence.
"""

from __future__ import annotations

from preuve.observe.registry import HostFact

_AWK_SHADOW = r"""{
  h = $2; k = ""; p = ""; s = ""
  if (h == "") k = "empty"
  else if (h ~ /^[!*]/) { k = "locked"; p = substr(h, 1, 1) }
  else if (h ~ /^\$/) {
    split(h, a, "$"); id = a[2]
    if (a[3] ~ /^rounds=/) { p = a[3]; s = a[4] }
    else if (id == "y" || id == "gy" || id == "7") { p = a[3]; s = a[4] }
    else if (id ~ /^2[abxy]?$/) { p = a[3]; s = substr(a[4], 1, 22) }
    else s = a[3]
    k = "$" id "$"
  }
  else if (length(h) == 13) { k = "des"; s = substr(h, 1, 2) }
  else if (h ~ /^_/ && length(h) == 20) { k = "bsdi"; s = substr(h, 6, 4) }
  else k = "unknown"
  n++; user[n] = $1; kind[n] = k; par[n] = p; salt[n] = s; changed[n] = $3
  if (s != "") { count[s]++; if (!(s in grp)) grp[s] = n }
}
END {
  for (i = 1; i <= n; i++)
    print user[i] "\t" kind[i] "\t" par[i] "\t" (count[salt[i]] > 1 ? grp[salt[i]] : "") "\t" changed[i]
}"""


# No pipefail in POSIX sh: read the file first so that a refused sudo is an error, never an empty (passing) list.
SHADOW = (
    's=$(if [ "$(id -u)" -eq 0 ]; then cat /etc/shadow; else sudo -n cat /etc/shadow; fi) || exit 1; '
    '[ -n "$s" ] || { echo "/etc/shadow read as empty" >&2; exit 1; }; '
    "printf '%s\\n' \"$s\" | awk -F: '" + _AWK_SHADOW + "'"
)


PASSWORD_HASHING = (
    'grep -hE "^[[:space:]]*(ENCRYPT_METHOD|SHA_CRYPT_MIN_ROUNDS|SHA_CRYPT_MAX_ROUNDS|YESCRYPT_COST_FACTOR)" '
    '/etc/login.defs; echo "== pam"; for f in /etc/pam.d/common-password /etc/pam.d/system-auth '
    '/etc/pam.d/password-auth; do [ -r "$f" ] && grep -hE "^[[:space:]]*password.*pam_unix\\.so" "$f"; done; true'
)


SCHEMES = {
    "$y$": "yescrypt",
    "$gy$": "gost-yescrypt",
    "$7$": "scrypt",
    "$2b$": "bcrypt",
    "$2a$": "bcrypt",
    "$2y$": "bcrypt",
    "$2x$": "bcrypt",
    "$2$": "bcrypt",
    "$6$": "sha512crypt",
    "$5$": "sha256crypt",
    "$1$": "md5crypt",
    "$md5$": "sunmd5",
    "$3$": "nthash",
    "des": "descrypt",
    "bsdi": "bsdicrypt",
}


def parse_shadow(text: str) -> list[dict]:
    """[{user, scheme, rounds, cost, shares_salt_with}] from the on-host awk summary (no hash, no salt)."""
    rows = [line.split("\t") for line in text.splitlines() if line.strip()]
    groups = [(r[0], ([*r, "", "", "", ""])[3]) for r in rows]
    out = []
    for r in rows:
        user, kind, param, group = ([*r, "", "", "", ""])[:4]
        scheme = kind if kind in ("empty", "locked", "unknown") else SCHEMES.get(kind, f"unknown ({kind})")
        entry: dict = {"user": user, "scheme": scheme}
        if len(r) > 4 and r[4].isdigit():  # last password change, days since 1970 (the account's age when unused)
            entry["changed_day"] = int(r[4])
        if scheme == "locked":  # "!" (passwd -l: sshd without PAM refuses the account) or "*" (never had one)
            entry["lock"] = param
        elif param.startswith("rounds="):
            entry["rounds"] = int(param.split("=", 1)[1]) if param[7:].isdigit() else None
        elif scheme == "sha512crypt":
            entry["rounds"] = 5000  # crypt(3): no rounds= means the default 5000
        elif param:
            entry["cost"] = param
        if group:
            entry["shares_salt_with"] = sorted(u for u, g in groups if g == group and u != user)
        out.append(entry)
    return out


def parse_password_hashing(text: str) -> dict:
    """{"login_defs": {KEY: value}, "pam_unix": [option lists]} from login.defs and the PAM password stack."""
    head, _, pam = text.partition("== pam")
    defs = {}
    for line in head.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            defs[parts[0]] = parts[1]
    lines = [line.split() for line in pam.splitlines() if line.strip()]
    options = [words[words.index(next(w for w in words if w.endswith("pam_unix.so"))) + 1 :] for words in lines]
    return {"login_defs": defs, "pam_unix": options}


HOST_FACTS = (
    HostFact("shadow", SHADOW, parse_shadow, fixture="shadow", doc="/etc/shadow: scheme, cost, shared salts"),
    HostFact(
        "password_hashing",
        PASSWORD_HASHING,
        parse_password_hashing,
        fixture="password_hashing",
        doc="login.defs ENCRYPT_METHOD and pam_unix hashing options",
    ),
)
