"""Controlled installation on each host: every package source is signature-checked with a key of its own and
comes from a declared mirror (the DMZ mirror), read from the apt and yum/dnf source files."""

from preuve.judge import check
from preuve.observe.host.package_sources import unsigned_reason, where


def enabled(package_sources: dict) -> list[dict]:
    return [s for s in package_sources["sources"] if s["enabled"] and s["type"] in ("deb", "rpm")]


@check(
    "SOURCES-SIGNED",
    requirements={
        "12.10.c#1": "every enabled package source is signature-checked (apt signed-by, yum/dnf gpgcheck + gpgkey)",
        "12.10.a#1": "no package installs from a source whose signatures are not checked",
    },
    target="baseline_host",
    severity="high",
    rule="ANSSI BP-028 R15 ; sources.list(5) signed-by, yum.conf(5) gpgcheck",
)
def check_sources_signed(package_sources, judge):
    sources = enabled(package_sources)
    if judge.absent("sources.signed", None if sources else "no enabled package source", "signed sources"):
        return
    reasons = {
        f"{where(s)} {' '.join(s['uris'])}": unsigned_reason(s, package_sources["apt_insecure"]) for s in sources
    }
    judge.each(
        "sources.signed",
        {k: r is None for k, r in reasons.items()},
        observed={k: r or "signed" for k, r in reasons.items()},
    )


@check(
    "SOURCES-MIRRORS",
    requirements={
        "12.10.c#2": "hosts take packages only from the declared mirrors (the DMZ where updates are inspected)",
        "12.10.a#1": "every enabled package source is on the host's declared allow-list",
    },
    target="baseline_host",
    severity="medium",
    rule="inventaire : hosts[].package_mirrors (préfixes d'URL autorisés)",
)
def check_sources_mirrors(package_sources, target, judge):
    allowed = target.spec.package_mirrors
    if allowed is None:
        judge.not_applicable("the inventory declares no package_mirrors for this host")
    uris = {f"{where(s)} {u}": u for s in enabled(package_sources) for u in s["uris"]}
    judge.each(
        "sources.mirrors",
        {k: any(u.startswith(a) for a in allowed) for k, u in uris.items()},
        observed=sorted(uris),
    )
