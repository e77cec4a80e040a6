"""Local log retention from the configuration each tool really reads: journald's merged config and logrotate's
own parse (`logrotate -d`). Where the configuration cannot tell (size-based rotation) the oldest rotated file
is measured instead, and the result says which way each log was judged.

journald: configuration and measure are both evidence and the stricter wins. "Unbounded" follows one rule
everywhere (journald here, LOG-STORE-RETENTION for central stores): a store where nothing deletes logs by age
(MaxRetentionSec unset or 0) is unbounded and passes on age; its size cap is what may delete, judged on the
measure. The journal's oldest entry and its disk usage against its size cap are measured: a journal at its cap
whose oldest entry is younger than the retention FAILS even if MaxRetentionSec says a year (the size cap evicts
before retention); a journal younger than the retention but not at its cap proves nothing either way, so it is
judged on its configuration and the result says "measured: oldest entry N d, not at cap"."""

import fnmatch

from preuve.judge import ObservationError, check
from preuve.observe.logs.journal import measure
from preuve.observe.logs.journald import timespan_seconds
from preuve.observe.logs.logrotate import rotated_of


@check(
    "LOG-JOURNALD-RETENTION",
    requirements={
        "12.6.c#1": "journald is persistent with MaxRetentionSec of at least the profile's retention",
        "12.7.b#1": "the journal's size cap, measured, does not cut the retention short",
    },
    target="baseline_host",
    severity="high",
    rule="journald.conf(5) : Storage=persistent, MaxRetentionSec ≥ durée ; mesure : plafond de taille atteint "
    "avant la durée",
)
def check_journald_retention(journald, journal, params, judge):
    if journald.get("absent"):  # observed: no journald on this host; its text logs are LOG-LOGROTATE-RETENTION's
        judge.not_applicable(f"{journald['absent']}: local logs are judged by LOG-LOGROTATE-RETENTION")
    settings = journald["settings"]
    storage = settings.get("Storage", "auto")
    effective = "persistent" if storage == "auto" and journald["var_log_journal"] else storage
    judge.equals("logs.journald.storage", effective, "persistent")
    seconds = timespan_seconds(settings.get("MaxRetentionSec", "0") or "0")
    minimum = params.logs.retention_days
    if seconds:
        judge.at_least("logs.journald.max_retention_days", round(seconds / 86400, 1), minimum)
    else:  # the one rule for "unbounded" (README, logs): nothing deletes by age; the size cap is judged by measure
        judge.each(
            "logs.journald.max_retention_days",
            {"MaxRetentionSec": True},
            at_least=minimum,
            observed=f"unbounded: MaxRetentionSec={settings.get('MaxRetentionSec', '')} (unset or 0), "
            "nothing deletes by age; the size cap is judged by measure",
        )
    ok, how = journal_measured(settings, effective, journal, params)
    judge.each("logs.journald.measured", {f"size cap keeps {minimum} d": ok}, observed=how, at_least=minimum)


def journal_measured(settings: dict, storage: str, journal: dict, params) -> tuple[bool, str]:
    """(measure agrees, what was measured): only a journal at its size cap bounds the retention by its age."""
    store = "volatile" if storage == "auto" else storage
    m = measure(settings, store, journal, params.logs.journald_cap_fraction)
    if m is None:
        return True, f"measured: no {store} journal store on the host: judged on config"
    if m["oldest_days"] is None:
        return True, f"measured: no entry in {m['store']} ({m['cap_detail']}): judged on config"
    oldest, retention = m["oldest_days"], params.logs.retention_days
    if oldest >= retention:
        return True, f"measured: oldest entry {oldest:g} d in {m['store']} ({m['cap_detail']})"
    if m["at_cap"]:
        return False, (
            f"measured: oldest entry {oldest:g} d in {m['store']}, at its size cap ({m['cap_detail']}): "
            "the size cap evicts before retention"
        )
    return True, f"measured: oldest entry {oldest:g} d, not at cap ({m['cap_detail']}): judged on config"


def judged_days(entry: dict, files: list[dict]) -> tuple[float | None, str]:
    """(days kept, how it was judged) for one logrotate pattern; the stricter of config and measure wins."""
    maxage = entry.get("maxage_days")
    if "period_days" in entry and entry["period_days"] is not None:
        days = entry["rotations"] * entry["period_days"]
        how = f"config: {entry['rotations']} rotations x {entry['period_days']:g} d"
    else:
        ages = [f["age_days"] for f in rotated_of(entry["pattern"], files) if f["age_days"] is not None]
        if not ages:
            return None, f"size-based ({entry.get('size_bytes')} bytes): no rotated file to measure"
        days = max(ages)
        how = f"measured: oldest rotated file {days:g} d (size-based rotation)"
    if maxage is not None and maxage < days:
        days, how = maxage, how + f", maxage {maxage} d"
    return round(days, 1), how


@check(
    "LOG-LOGROTATE-RETENTION",
    requirements={
        "12.6.c#1": "every rotated log is kept at least the profile's retention (as logrotate parses it)",
    },
    target="baseline_host",
    severity="high",
    rule="logrotate -d : rotations x période, maxage ; rotation par taille mesurée sur le plus vieux fichier",
)
def check_logrotate_retention(logrotate, params, judge):
    if logrotate.get("absent"):  # observed: nothing rotates, so nothing deletes the text logs (the journal: apart)
        judge.not_applicable(f"{logrotate['absent']}: no rotation deletes the local log files")
    ignored = params.logs.logrotate_ignored
    entries = [
        e
        for e in logrotate["patterns"]
        if not any(fnmatch.fnmatchcase(w, g) for w in e["pattern"].split() for g in ignored)
    ]
    if not logrotate["patterns"] and logrotate["errors"]:
        raise ObservationError(f"logrotate -d could not parse the configuration: {logrotate['errors'][0]}")
    if not entries:
        judge.not_applicable("logrotate rotates no log (or every pattern is in logs.logrotate_ignored)")
    verdicts = {e["pattern"]: judged_days(e, logrotate["rotated_files"]) for e in entries}
    judge.each(
        "logs.logrotate.retention_days",
        {p: d is not None and d >= params.logs.retention_days for p, (d, _) in verdicts.items()},
        observed={p: f"{d if d is not None else '?'} d ({how})" for p, (d, how) in verdicts.items()},
        at_least=params.logs.retention_days,
    )
