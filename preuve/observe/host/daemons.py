"""Which security daemons run on the host and as whom, and how old the malware signatures are.

Why these facts: a protection agent (12.4.a) counts only when its process runs on this host with signatures younger
than the profile's limit; a log daemon (12.7.e) is judged on the account it really runs as. A process counts when it
shares the scanner's mount namespace (its /proc/PID/mountinfo, world-readable, is identical to ours), as in
logs/syslog_ng.py, so a daemon of a container or of another lab host on the same kernel is not taken for this
host's. Only the process name and its real and effective uids are read, never its command line (arguments can
carry secrets). Signature ages come from what the agent itself writes: the build time in the header of ClamAV's
.cvd/.cld/.cud containers ("ClamAV-VDB:..."; the 512-byte header is text), else the file's mtime (plain .hdb, .ndb
... databases, Falco rules files).
"""

from __future__ import annotations

import datetime as dt

from preuve.observe.registry import HostFact

# Process names (as /proc/PID/comm spells them, 15 characters at most) worth reporting.
LOG_DAEMONS = ("rsyslogd", "syslog-ng", "systemd-journal", "auditd", "fluent-bit", "filebeat", "vector", "promtail")
AGENTS = {
    "clamav": ("clamd", "clamonacc"),
    "falco": ("falco",),
    "crowdstrike": ("falcon-sensor",),
    "defender": ("wdavdaemon",),
    "wazuh": ("wazuh-agentd", "wazuh-syscheckd"),
    "trendmicro": ("ds_agent",),
    "sentinelone": ("s1-agent", "sentinelone-age"),
    "sophos": ("sophos_threat_d", "mcsagent"),
    "eset": ("esets_daemon", "oaeventd"),
    "elastic-endpoint": ("elastic-endpoint",),
}
NAMES = sorted({*LOG_DAEMONS, "freshclam", *(n for names in AGENTS.values() for n in names)})

DAEMONS = (
    "me=$(cksum < /proc/self/mountinfo)\n"
    "for d in /proc/[0-9]*; do\n"
    '  { read -r c < "$d/comm"; } 2>/dev/null || continue\n'
    f'  case "$c" in {"|".join(NAMES)}) ;; *) continue ;; esac\n'
    '  m=$(cksum < "$d/mountinfo" 2>/dev/null) || continue\n'
    '  [ "$m" = "$me" ] || continue\n'
    """  u=$(awk '$1=="Uid:"{print $2, $3}' "$d/status" 2>/dev/null) || continue\n"""
    '  [ -n "$u" ] || continue\n'
    '  set -- $u; n=$(getent passwd "$2" | cut -d: -f1)\n'
    '  printf \'%s %s %s %s %s\\n\' "$c" "${d#/proc/}" "$1" "$2" "${n:-?}"\n'
    "done\n"
)

SIGNATURES = r"""echo "== now $(date +%s)"
for d in /var/lib/clamav /var/clamav /usr/local/share/clamav; do
  [ -d "$d" ] || continue
  echo "== clamav $d"
  for f in "$d"/*; do
    [ -f "$f" ] || continue
    case "$f" in
      *.cvd|*.cld|*.cud) h=$(head -c 512 "$f" 2>/dev/null | tr -d '\000' | tr -c '[:print:]' ' ' | sed 's/ *$//') ;;
      *.hdb|*.hsb|*.ndb|*.ldb|*.mdb|*.msb|*.cdb|*.fp|*.sfp|*.ign|*.ign2|*.yar|*.yara|*.ftm|*.pdb|*.wdb) h=- ;;
      *) continue ;;
    esac
    printf '%s %s %s\n' "$(stat -c %Y "$f")" "${f##*/}" "$h"
  done
done
for f in /etc/falco/falco_rules.yaml /etc/falco/falco_rules.local.yaml /etc/falco/rules.d/*; do
  [ -f "$f" ] && printf '== falco %s %s\n' "$(stat -c %Y "$f")" "$f"
done
true
"""


# Who else can read or write the logs: /var/log's own mode, every world-writable entry (sockets aside: /dev/log-like
# inputs are meant for everyone) and every world-readable file, and the directories the scanner could not list with
# their mode (a directory others cannot enter keeps its content from them whatever its files' modes).
VAR_LOG = (
    "export LC_ALL=C; echo \"== dir $(stat -c '%a %U %G' /var/log)\"; "
    "find /var/log -xdev ! -type s ! -type l \\( -perm -0002 -o \\( -type f -perm -0004 \\) \\) "
    "-printf '%m %u %g %y %p\\n' 2>\"$d/fe\"; "
    'sed -n "s/^find: \'\\(.*\\)\': Permission denied$/\\1/p" "$d/fe" | '
    'while IFS= read -r p; do printf \'denied %s %s\\n\' "$(stat -c %a "$p")" "$p"; done; true'
)


def parse_var_log(text: str) -> dict:
    """{"dir": {mode, owner, group}, "entries": [{mode, owner, group, type, path}], "denied": [{mode, path}]}."""
    out: dict = {"dir": None, "entries": [], "denied": []}
    for line in text.splitlines():
        if line.startswith("== dir "):
            mode, owner, group = ([*line[7:].split(), "", "", ""])[:3]
            out["dir"] = {"mode": mode, "owner": owner, "group": group}
        elif line.startswith("denied "):
            mode, _, path = line[7:].partition(" ")
            out["denied"].append({"mode": mode, "path": path})
        else:
            words = line.split(" ", 4)
            if len(words) == 5:
                mode, owner, group, kind, path = words
                out["entries"].append({"mode": mode, "owner": owner, "group": group, "type": kind, "path": path})
    return out


def parse_daemons(text: str) -> list[dict]:
    """[{name, pid, uid, euid, user}] of the watched daemons running in this host's mount namespace."""
    out = []
    for line in text.splitlines():
        words = line.split()
        if len(words) == 5 and words[1].isdigit():
            name, pid, uid, euid, user = words
            out.append({"name": name, "pid": int(pid), "uid": int(uid), "euid": int(euid), "user": user})
    return out


def cvd_built(header: str) -> int | None:
    """Build time of a ClamAV container from its header `ClamAV-VDB:date:version:sigs:flevel:md5:dsig:builder:stime`
    (stime, epoch seconds; else the date field `04 Dec 2026 23-35 +0000`)."""
    fields = header.split(":")
    if len(fields) < 2 or fields[0] != "ClamAV-VDB":
        return None
    if len(fields) >= 9 and fields[8].strip().isdigit():
        return int(fields[8].strip())
    try:
        return int(dt.datetime.strptime(fields[1].strip(), "%d %b %Y %H-%M %z").timestamp())
    except ValueError:
        return None


def parse_signatures(text: str) -> dict:
    """{"now", "clamav": {dir: [{file, built, how, version, signatures}]}, "falco": [{file, built}]}."""
    out: dict = {"clamav": {}, "falco": []}
    where = None
    for line in text.splitlines():
        if line.startswith("== now "):
            out["now"] = int(line[7:])
        elif line.startswith("== clamav "):
            where = out["clamav"].setdefault(line[10:], [])
        elif line.startswith("== falco "):
            stamp, _, path = line[9:].partition(" ")
            out["falco"].append({"file": path, "built": int(stamp), "how": "mtime"})
        elif where is not None and line.strip():
            stamp, name, header = ([*line.split(" ", 2), "", ""])[:3]
            entry: dict = {"file": name, "built": int(stamp), "how": "mtime"}
            if header != "-":
                built = cvd_built(header)
                fields = header.split(":")
                if built is not None:
                    entry.update(built=built, how="header")
                if len(fields) > 3 and fields[2].isdigit() and fields[3].isdigit():
                    entry.update(version=int(fields[2]), signatures=int(fields[3]))
            where.append(entry)
    return out


HOST_FACTS = (
    HostFact(
        "daemons",
        DAEMONS,
        parse_daemons,
        fixture="daemons",
        doc="log daemons and protection agents running in the host's mount namespace, with their real and "
        "effective uids (no command line)",
    ),
    HostFact(
        "var_log_access",
        VAR_LOG,
        parse_var_log,
        fixture="var_log_access",
        doc="/var/log's mode, its world-writable entries and world-readable files, directories the scanner "
        "could not list",
    ),
    HostFact(
        "malware_signatures",
        SIGNATURES,
        parse_signatures,
        fixture="malware_signatures",
        doc="ClamAV databases (header build time, else mtime) and Falco rules files (mtime)",
    ),
)
