"""Maintained software on each host: security updates applied, a recent package index, the kernel running the
newest installed one, a release still under security support (apt/dnf read on the host, offline)."""

import datetime as dt

from preuve.judge import ObservationUnavailable, check
from preuve.judge.eol import fresh_table, os_entry
from preuve.observe.host.patching import newest_kernel


def _manager(patching: dict) -> str:
    if patching["manager"] is None:
        raise ObservationUnavailable("no supported package manager on the host (apt-get, dnf or yum)")
    return patching["manager"]


@check(
    "PATCH-SECURITY-PENDING",
    requirements={
        "5.1.a#1": "no published security update is waiting on the host (apt simulation, dnf/yum updateinfo)",
        "12.11.a#1": "each host knows the security fixes published for its packages and none is pending",
        "12.11.b#1": "the security updates available to the host are installed",
    },
    target="baseline_host",
    severity="high",
    rule="ANSSI hygiène R34 (mettre à jour les logiciels) ; apt-get -s dist-upgrade / dnf updateinfo --security",
)
def check_security_pending(patching, judge):
    manager = _manager(patching)
    if patching.get("unparsed"):
        raise ObservationUnavailable(
            f"{manager} updateinfo printed lines preuve cannot read (format unknown), e.g. {patching['unparsed'][0]!r}"
        )
    pending = {p["package"]: f"{p.get('installed') or '?'} -> {p['candidate']}" for p in patching["pending"]}
    judge.equals(
        "patching.security_pending",
        {p: pending[p] for p in patching["security"]},
        {},
    )


@check(
    "PATCH-INDEX-FRESH",
    requirements={
        "12.11.a#1": "the host's package index (apt lists, dnf cache) was fetched within the limit",
        "5.1.a#1": "the security follow-up is current: the index the host judges updates against is recent",
    },
    target="baseline_host",
    severity="medium",
    rule="un index de paquets ancien masque les correctifs publiés depuis",
)
def check_index_fresh(patching, params, judge):
    _manager(patching)
    files = patching["index"]["files"]
    if judge.absent("patching.index_age_days", None if files else f"no index in {patching['index']['dir']}", "index"):
        return
    newest = max(f["mtime"] for f in files)
    age = round((patching["now"] - newest) / 86400, 1)
    judge.at_most("patching.index_age_days", age, params.patching.index_max_age_days)


@check(
    "PATCH-KERNEL-RUNNING",
    requirements={
        "5.1.a#1": "the kernel running is the newest installed one and no reboot is pending",
    },
    target="baseline_host",
    severity="medium",
    rule="un noyau corrigé n'est effectif qu'après redémarrage",
)
def check_kernel_running(patching, judge):
    kernel = patching["kernel"]
    newest = newest_kernel(kernel["installed"])
    if newest is None:
        raise ObservationUnavailable("no kernel image in /boot (vmlinuz-*): the installed kernels cannot be told")
    judge.equals("patching.running_kernel", kernel["running"], newest)
    judge.equals("patching.reboot_required", kernel["reboot_packages"] if kernel["reboot_required"] else [], [])


@check(
    "PATCH-OS-SUPPORTED",
    requirements={
        "5.1.a#2": "the OS release still gets security fixes (dated table shipped with preuve)",
        "11.7.b#1": "security updates are still published for the installed system's release",
    },
    target="baseline_host",
    severity="high",
    rule="preuve/data/eol.yaml (Debian LTS, Red Hat life cycle)",
)
def check_os_supported(patching, params, now, judge):
    t = fresh_table(now, params.patching.eol_table_max_age_days)
    release, entry = os_entry(t, patching["os_release"])
    if entry is None:
        raise ObservationUnavailable(f"release {release!r} (/etc/os-release) is not in preuve/data/eol.yaml")
    until = dt.date.fromisoformat(entry["security_until"])
    judge.at_least("patching.os_security_days_left", (until - now.date()).days, params.patching.eol_min_days_left)
