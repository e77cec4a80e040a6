"""Log daemons run without root and the logs are closed to other users (12.7.e, 12.7.a).

Read on the host: the watched log daemons of its mount namespace with their effective uid, and what /var/log lets
every other user do (preuve/observe/host/daemons.py)."""

from __future__ import annotations

import fnmatch

from preuve.judge import check
from preuve.observe.host.daemons import LOG_DAEMONS


@check(
    "LOG-DAEMON-PRIVILEGES",
    requirements={
        "12.7.e#1": "every running log daemon and shipper but journald and auditd runs under a non-root account",
    },
    target="baseline_host",
    severity="medium",
    rule="NT_JOURNAL (exécution des services de journalisation avec des privilèges restreints) ; BP-028 R9",
)
def check_log_daemon_privileges(daemons, params, judge):
    by_design = params.logs.root_log_daemons
    judged = [d for d in daemons if d["name"] in LOG_DAEMONS and d["name"] not in by_design]
    if not judged:
        kept = sorted({d["name"] for d in daemons if d["name"] in by_design})
        judge.not_applicable(f"no log daemon but those root by design runs here ({', '.join(kept) or 'none'})")
    judge.each(
        "logs.daemon_accounts",
        {f"{d['name']} (pid {d['pid']})": d["euid"] != 0 for d in judged},
        observed={f"{d['name']} (pid {d['pid']})": f"{d['user']} (euid {d['euid']})" for d in judged},
    )


@check(
    "LOG-FILE-ACCESS",
    requirements={
        "12.7.e#2": "no other user can write under /var/log, nor read the security logs (logs.private_globs)",
        "12.7.a#3": "stored events protected from other local users: no world-writable log, no readable security log",
    },
    target="baseline_host",
    severity="medium",
    rule="NT_JOURNAL (protection des journaux stockés) ; BP-028 R50, R53",
)
def check_log_file_access(var_log_access, params, judge):
    top = var_log_access["dir"]
    writable = [e for e in var_log_access["entries"] if int(e["mode"], 8) & 0o002]
    if top and int(top["mode"], 8) & 0o002 and not int(top["mode"], 8) & 0o1000:
        writable.insert(0, {"path": "/var/log", "mode": top["mode"], "type": "d"})
    judge.equals("logs.world_writable", [f"{e['path']} ({e['mode']})" for e in writable], [])
    globs = params.logs.private_globs
    readable = [
        f"{e['path']} ({e['mode']} {e['owner']}:{e['group']})"
        for e in var_log_access["entries"]
        if e["type"] == "f" and int(e["mode"], 8) & 0o004 and any(fnmatch.fnmatchcase(e["path"], g) for g in globs)
    ]
    # a directory the scanner could not list, yet others may traverse: its files are reachable by name, unseen
    readable += [
        f"{d['path']}/ ({d['mode']}: others may enter, the scanner could not list it)"
        for d in var_log_access["denied"]
        if int(d["mode"], 8) & 0o001
    ]
    judge.equals("logs.world_readable_security_logs", readable, [])
