"""Host facts for access, hygiene and logs: the sh snippets (batched by ssh_host) and their parsers.

Read-only commands only. The /etc/shadow snippet reduces the file ON THE HOST to user, scheme, cost
parameter and salt-sharing group with awk, so no hash and no salt ever leaves the machine, not even in the
raw evidence.
"""

from __future__ import annotations

import fnmatch
import re

from preuve.observe.ssh.sshd_effective import WALK

_PATH = 'PATH="$PATH:/usr/sbin:/sbin"; '
_AS_ROOT = 'if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi'

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

JOURNALD = (
    _PATH + "if ! command -v systemd-analyze >/dev/null && ! command -v journalctl >/dev/null && "
    "! [ -e /lib/systemd/systemd-journald ] && ! [ -e /usr/lib/systemd/systemd-journald ]; then "
    "echo '#preuve: journald absent (no systemd-analyze, journalctl nor systemd-journald)'; exit 0; fi; "
    "systemd-analyze cat-config systemd/journald.conf && { [ -d /var/log/journal ] "
    '&& echo "#preuve: /var/log/journal exists" || echo "#preuve: /var/log/journal absent"; }'
)

LOGROTATE = (
    _PATH + "command -v logrotate >/dev/null || { echo '== absent logrotate is not installed'; exit 0; }; "
    "logrotate -d /etc/logrotate.conf 2>&1; echo '== config'; "
    "cat /etc/logrotate.conf /etc/logrotate.d/* 2>/dev/null; echo '== rotated'; date +%s; "
    "find /var/log -type f -regextype posix-extended -regex '.*([.-][0-9]+)(\\.(gz|xz|bz2|zst))?$' "
    "-printf '%T@ %p\\n' 2>/dev/null; true"
)


# --- parsers ----------------------------------------------------------------------------------------------


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


_UNITS = {
    "us": 1e-6,
    "ms": 1e-3,
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
    "month": 2629800,
    "months": 2629800,
    "M": 2629800,
    "y": 31557600,
    "year": 31557600,
    "years": 31557600,
}


def timespan_seconds(value: str) -> float | None:
    """systemd.time(7) span ("1y", "6month", "2w 3d", plain seconds) -> seconds; None if unparsable."""
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    total = 0.0
    pos = 0
    for m in re.finditer(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)", value):
        if m.start() != pos or m.group(2) not in _UNITS:
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return total if pos == len(value) else None


def parse_journald(text: str) -> dict:
    """Merged journald settings (the last assignment wins, as systemd reads them) and the files read."""
    settings: dict[str, str] = {}
    files = []
    journal_dir = None
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("#preuve: journald absent"):  # observed: not installed (a fact, not an error)
            return {"absent": s.removeprefix("#preuve: "), "settings": {}, "files": [], "var_log_journal": None}
        if s.startswith("#preuve: /var/log/journal"):
            journal_dir = s.endswith("exists")
        elif s.startswith("# /"):
            files.append(s[2:])
        elif s and not s.startswith(("#", ";", "[")) and "=" in s:
            key, _, value = s.partition("=")
            settings[key.strip()] = value.strip()
    return {"settings": settings, "files": files, "var_log_journal": journal_dir}


_PERIOD_DAYS = {"hourly": 1 / 24, "daily": 1, "weekly": 7, "monthly": 31, "yearly": 365}


def _maxages(config: str) -> dict[str, int]:
    """{pattern or "*global*": maxage days} from logrotate config text (maxage is not in `logrotate -d`)."""
    out: dict[str, int] = {}
    pending: list[str] = []
    inside: list[str] | None = None
    for raw in config.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if inside is None and line.endswith("{"):
            inside = pending + line[:-1].split()
            pending = []
            continue
        if line == "}":
            inside = None
            continue
        words = line.split()
        if words[0] == "maxage" and len(words) > 1 and words[1].isdigit():
            for p in inside if inside is not None else ["*global*"]:
                out[p] = int(words[1])
        elif inside is None and words[0].startswith("/"):
            pending += words
    return out


def parse_logrotate(text: str) -> dict:
    """Per rotated pattern: period, rotations, size, maxage; plus rotated files with their age in days."""
    if text.startswith("== absent "):  # observed: logrotate is not installed
        return {"absent": text.removeprefix("== absent ").strip(), "patterns": [], "errors": [], "rotated_files": []}
    debug, _, rest = text.partition("\n== config\n")
    config, _, rotated = rest.partition("\n== rotated\n")
    maxages = _maxages(config)
    patterns = []
    for m in re.finditer(
        r"^rotating pattern: (.+?)\s+(hourly|daily|weekly|monthly|yearly|after (\d+) days|"
        r"(\d+) bytes) \((\d+) rotations\)",
        debug,
        re.M,
    ):
        pattern, how, after, size, rotations = m.groups()
        period = _PERIOD_DAYS.get(how) if after is None else int(after)
        entry: dict = {"pattern": pattern, "rotations": int(rotations)}
        if size is not None:
            entry["size_bytes"] = int(size)
        else:
            entry["period_days"] = period
        for word in pattern.split():
            if word in maxages:
                entry["maxage_days"] = maxages[word]
        if "maxage_days" not in entry and "*global*" in maxages:
            entry["maxage_days"] = maxages["*global*"]
        patterns.append(entry)
    lines = rotated.splitlines()
    now = float(lines[0]) if lines and re.fullmatch(r"\d+", lines[0].strip()) else None
    files = []
    for line in lines[1:]:
        stamp, _, path = line.partition(" ")
        try:
            age = (now - float(stamp)) / 86400 if now is not None else None
        except ValueError:
            continue
        files.append({"path": path, "age_days": round(age, 1) if age is not None else None})
    return {"patterns": patterns, "rotated_files": files, "errors": re.findall(r"^error: (.*)$", debug, re.M)}


def rotated_of(pattern: str, files: list[dict]) -> list[dict]:
    """Rotated files of a logrotate pattern (base name followed by .N / -DATE and an optional extension)."""
    out = []
    for word in pattern.split():
        rx = re.compile(fnmatch.translate(word)[:-2] + r"[.-][0-9]+(\.(gz|xz|bz2|zst))?\Z")
        out += [f for f in files if rx.match(f["path"])]
    return out


# --- time (chrony) ------------------------------------------------------------------------------------------

CHRONY = (
    _PATH + "asroot() { " + _AS_ROOT + "; }; "
    "asroot chronyc -n -c tracking || exit 1; echo '== sources'; asroot chronyc -n -c sources || exit 1; "
    "echo '== config'; cat /etc/chrony/chrony.conf /etc/chrony/conf.d/*.conf /etc/chrony/sources.d/*.sources "
    "/etc/chrony.conf 2>/dev/null; true"
)

_SOURCE_DIRECTIVES = ("server", "pool", "peer")


def parse_chrony(text: str) -> dict:
    """chronyc -c tracking and sources (CSV), and the sources the configuration names."""
    tracking, _, rest = text.partition("== sources\n")
    sources, _, config = rest.partition("== config\n")
    t = next((ln.split(",") for ln in tracking.splitlines() if ln.strip()), [])
    track = {}
    if len(t) >= 14:
        track = {
            "reference_id": t[0],
            "reference": t[1],
            "stratum": int(t[2]) if t[2].isdigit() else None,
            "system_offset_seconds": float(t[4]),
            "root_delay_seconds": float(t[10]),
            "root_dispersion_seconds": float(t[11]),
            "leap_status": t[13],
        }
    live = []
    for line in sources.splitlines():
        f = line.split(",")
        if len(f) >= 6:
            live.append({"mode": f[0], "state": f[1], "address": f[2], "stratum": f[3], "reach": f[5]})
    configured = []
    for raw in config.splitlines():
        words = raw.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] in _SOURCE_DIRECTIVES:
            configured.append({"directive": words[0], "name": words[1]})
    return {"tracking": track, "sources": live, "configured": configured}


# --- log forwarding (rsyslog) -------------------------------------------------------------------------------

RSYSLOG = (
    # no rsyslog.conf: rsyslog is not what this host uses (no forwarder then; an unreadable one is an error)
    _PATH + '[ -r /etc/rsyslog.conf ] || [ ! -e /etc/rsyslog.conf ] || { echo "unreadable /etc/rsyslog.conf" >&2; '
    "exit 1; }; c=$([ -e /etc/rsyslog.conf ] && cat /etc/rsyslog.conf; "
    'for f in /etc/rsyslog.d/*.conf; do [ -r "$f" ] && cat "$f"; done); '
    'printf "%s\\n" "$c"; '
    # -p names each connection's process (LOG-FORWARDING-LIVE attributes it to a daemon of this host); other
    # users' processes are shown to root only: sudo -n for exactly this command, else the connections alone.
    # Two samples 0.3 s apart: a forwarding session persists, a daemon whose TLS handshake is refused reconnects
    # on a new port each time (syslog-ng time-reopen; each refused connection lives ~5 ms in the lab) and is not
    # counted as connected. (POSIX sleep takes whole seconds: fall back to 1 s where fractions are refused.)
    'est() { if [ "$(id -u)" -eq 0 ]; then ss -tnpH state established; else sudo -n ss -tnpH state established '
    '2>/dev/null || ss -tnH state established; fi; }; echo "== established"; est; '
    "sleep 0.3 2>/dev/null || sleep 1; "
    'echo "== established-again"; est; echo "== addresses"; '
    "ip -o addr show | awk '{print $4}'; "
    "ca=$(printf '%s' \"$c\" | grep -o 'DefaultNetstreamDriverCAFile=\"[^\"]*\"' | head -n1 | cut -d'\"' -f2); "
    "peer=$(printf '%s' \"$c\" | grep -oE 'PermittedPeers?=\"[^\"]*\"' | head -n1 | cut -d'\"' -f2); "
    "printf '%s' \"$c\" | tr -s ' \\n\\t' '   ' | grep -o 'target=\"[^\"]*\" port=\"[0-9]*\"' | tr -d '\"' | "
    'while read -r t p; do t=${t#target=}; p=${p#port=}; echo "== verify $t:$p"; '
    'timeout 5 openssl s_client -connect "$t:$p" ${ca:+-CAfile "$ca"} ${peer:+-verify_hostname "$peer"} '
    "-verify_return_error -brief </dev/null 2>&1 | grep -E '^(Verification|Verified peername|Peer certificate|"
    "CONNECTION ESTABLISHED)|error' | head -n 5; done; true"
)

_KV = re.compile(r'([A-Za-z][\w.]*)\s*=\s*(?:"([^"]*)"|\[([^\]]*)\])')
_LEGACY_FWD = re.compile(r"^\S+\s+(@@?)(?:\(([^)]*)\))?\[?([^\]\s:;]+)\]?(?::(\d+))?", re.M)


def _blocks(text: str, word: str) -> list[dict[str, str]]:
    """key="value" parameters of every `word(...)` RainerScript statement."""
    out = []
    for m in re.finditer(rf"\b{word}\s*\(", text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        body = text[m.end() : i - 1]
        out.append({k.lower(): (v if v is not None else arr) for k, v, arr in _KV.findall(body)})
    return out


def parse_rsyslog(text: str) -> dict:
    """Forwarding actions (RainerScript omfwd and legacy @/@@ lines) with their transport settings; live facts."""
    config, _, rest = text.partition("\n== established\n")
    established, _, rest = rest.partition("\n== addresses\n")
    first, again, second = established.partition("== established-again")
    addresses, *verifies = rest.split("\n== verify ")
    config = "\n".join(
        line.split("#", 1)[0] if not line.lstrip().startswith("$") else line for line in config.splitlines()
    )
    glob: dict[str, str] = {}
    for g in _blocks(config, "global"):
        glob.update(g)
    legacy = {m[1].lower(): m[2].strip() for m in re.finditer(r"^\s*\$(\w+)\s+(.*)$", config, re.M)}
    forwarders = []
    for a in _blocks(config, "action"):
        if a.get("type") != "omfwd":
            continue
        tls = a.get("streamdrivermode", "0") == "1"
        forwarders.append(
            {
                "target": a.get("target"),
                "port": int(a.get("port", "514")),
                "protocol": a.get("protocol", "udp"),
                "tls": tls,
                "driver": a.get("streamdriver", glob.get("defaultnetstreamdriver", "ptcp")),
                "auth_mode": a.get("streamdriverauthmode", "anon") if tls else None,
                "permitted_peers": [
                    p.strip().strip('"') for p in a.get("streamdriverpermittedpeers", "").split(",") if p.strip()
                ],
                "queue_type": a.get("queue.type", "Direct"),
                "queue_file": a.get("queue.filename"),
                "syntax": "rainerscript",
            }
        )
    for m in _LEGACY_FWD.finditer(config):
        tcp = m[1] == "@@"
        tls = tcp and legacy.get("actionsendstreamdrivermode") == "1"
        forwarders.append(
            {
                "target": m[3],
                "port": int(m[4] or 514),
                "protocol": "tcp" if tcp else "udp",
                "tls": tls,
                "driver": legacy.get("defaultnetstreamdriver", "ptcp") if tcp else None,
                "auth_mode": legacy.get("actionsendstreamdriverauthmode", "anon") if tls else None,
                "permitted_peers": [legacy["actionsendstreamdriverpermittedpeer"]]
                if "actionsendstreamdriverpermittedpeer" in legacy
                else [],
                "queue_type": legacy.get("actionqueuetype", "Direct"),
                "queue_file": legacy.get("actionqueuefilename"),
                "syntax": "legacy",
            }
        )
    conns = _connections(second if again else first)
    if again:  # only the connections present in both samples: a session, not a refused reconnect loop
        kept = {(c["local"], c["remote"]) for c in _connections(first)}
        conns = [c for c in conns if (c["local"], c["remote"]) in kept]
    verify = {}
    for block in verifies:
        endpoint, _, out = block.partition("\n")
        verify[endpoint.strip()] = {
            "verified": "Verification: OK" in out,
            "peer_name": next(
                (ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Verified peername")), None
            ),
            "detail": next((ln.strip() for ln in out.splitlines() if "Verification" in ln or "error" in ln), ""),
        }
    return {
        "forwarders": forwarders,
        "established": conns,
        "addresses": [a.split("/")[0] for a in addresses.split() if a],
        "tls_verify": verify,
    }


def _connections(ss_output: str) -> list[dict]:
    """`ss -tn[p]H state established` lines -> local, remote and (with -p) the owning processes."""
    conns = []
    for line in ss_output.splitlines():
        f = line.split()
        if len(f) >= 4:
            owners = [{"name": n, "pid": int(pid)} for n, pid in re.findall(r'\("([^"]+)",pid=(\d+)', line)]
            conns.append({"local": f[2], "remote": f[3], "owners": owners})
    return conns


# --- lockout (pam_faillock) ---------------------------------------------------------------------------------

FAILLOCK = (
    "echo '== /etc/security/faillock.conf'; cat /etc/security/faillock.conf 2>/dev/null; "
    "for f in /etc/pam.d/sshd /etc/pam.d/common-auth /etc/pam.d/system-auth /etc/pam.d/password-auth; do "
    '[ -r "$f" ] && { echo "== $f"; cat "$f"; }; done; true'
)


def parse_faillock(text: str) -> dict:
    """faillock.conf settings and the auth lines of the PAM files sshd may use (includes kept by name)."""
    files: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("== /"):
            current = files.setdefault(line[3:].strip(), [])
        elif current is not None and line.split("#", 1)[0].strip():
            current.append(line.split("#", 1)[0].strip())
    conf = {}
    for line in files.pop("/etc/security/faillock.conf", []):
        key, _, value = line.partition("=")
        conf[key.strip()] = value.strip() or "true"
    pam: dict[str, list[dict]] = {}
    for path, lines in files.items():
        entries = []
        for line in lines:
            if line.startswith("@include"):
                entries.append({"include": line.split()[1]})
                continue
            m = re.match(r"-?(\w+)\s+(\[[^\]]*\]|\S+)\s+(\S+)\s*(.*)", line)
            if not m or m[1] != "auth":
                continue
            if m[2] in ("include", "substack"):
                entries.append({"include": m[3]})
            else:
                entries.append({"control": m[2], "module": m[3].rsplit("/", 1)[-1], "args": m[4].split()})
        pam[path.rsplit("/", 1)[-1]] = entries
    return {"conf": conf, "pam": pam}


# --- timestamps of local log files (12.8.b) ------------------------------------------------------------------

# Only the leading timestamp words of the newest line leave the host, never the message itself. A journal store
# holding journal files is listed too (`<dir>\tjournal`): journald stamps every entry with __REALTIME_TIMESTAMP,
# microseconds since the epoch (UTC), so a journald-only host is judged on it instead of being an error.
LOG_TIMESTAMPS = (
    'for f in /var/log/syslog /var/log/messages; do [ -f "$f" ] || continue; '
    'l=$(tail -n 1 "$f") || exit 1; printf \'%s\\t%s\\n\' "$f" "$(printf \'%s\' "$l" | cut -d\' \' -f1-3)"; done; '
    'for d in /var/log/journal /run/log/journal; do [ -d "$d" ] || continue; '
    '[ -n "$(find "$d" -name \'*.journal\' 2>/dev/null | head -n 1)" ] && printf \'%s\\tjournal\\n\' "$d"; done; true'
)
JOURNAL_STAMP = "__REALTIME_TIMESTAMP (µs since the epoch, UTC)"

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")


def parse_log_timestamps(text: str) -> dict[str, dict]:
    """{file: {"timestamp": leading words, "year_and_zone": bool}} for the newest line of each local log."""
    out = {}
    for line in text.splitlines():
        path, _, words = line.partition("\t")
        if words == "journal":
            out[path] = {"timestamp": JOURNAL_STAMP, "year_and_zone": True, "kind": "journal"}
            continue
        first = words.split(" ", 1)[0]
        stamp = first if RFC3339.match(first) else words
        out[path] = {"timestamp": stamp, "year_and_zone": bool(RFC3339.match(first))}
    return out
