"""restic and borg repositories, judged on what the tools themselves answer (snapshots, keys, a real restore).

The restore drill is the point: configuration says a backup exists, only a restore proves it can be used
(12.5.c). It restores a canary into a scratch directory, compares its sha256 with the inventory's, and removes
the scratch copy whatever happened (the evidence records that it did).
"""

import datetime as dt

from preuve.judge import ObservationUnavailable, check
from preuve.location import normalise_country


def _age_hours(latest: str | None, now: dt.datetime) -> float | None:
    if latest is None:
        return None
    when = dt.datetime.fromisoformat(latest.replace("Z", "+00:00"))
    return round((now - when).total_seconds() / 3600, 2)


def absent(backup_repo: dict, judge) -> bool:
    """No repository where the inventory says the backups are (the tool reached the location and said so): an
    observed absence, so every property of the backups fails, quoting the tool (a wrong password stays `error`)."""
    return judge.absent("backup.repository", backup_repo.get("absent"), "a repository at the declared location")


@check(
    "BACKUP-FRESHNESS",
    requirements={
        "12.5.a#2": "the repository's latest snapshot is younger than the profile's limit (26 h)",
    },
    target="backup_repo",
    severity="high",
    rule="SecNumCloud 12.5.a (sauvegarde quotidienne)",
)
def check_freshness(backup_repo, params, now, judge):
    if absent(backup_repo, judge):
        return
    judge.at_most(
        "backup.latest_age_hours", _age_hours(backup_repo["snapshots"]["latest"], now), params.backup.max_age_hours
    )


@check(
    "BACKUP-ENCRYPTED",
    requirements={
        "10.1.d#1": "the backup repository is encrypted (restic always, borg unless --encryption none)",
        "12.5.b#1": "backups cannot be read without the repository key",
    },
    target="backup_repo",
    severity="high",
    rule="SecNumCloud 10.1.d (supports de sauvegarde chiffrés)",
)
def check_encrypted(backup_repo, judge):
    if absent(backup_repo, judge):
        return
    judge.equals(
        "backup.encryption",
        backup_repo["encryption"]["mode"] if not backup_repo["encryption"]["encrypted"] else "encrypted",
        "encrypted",
    )


@check(
    "BACKUP-RESTORE-DRILL",
    requirements={
        "12.5.c#2": "a canary file is really restored and its sha256 compared, at every run",
    },
    target="backup_repo",
    severity="critical",
    rule="SecNumCloud 12.5.c (test de restauration)",
)
def check_restore_drill(backup_repo, judge):
    drill = backup_repo["drill"]
    if absent(backup_repo, judge):
        return
    if not drill["performed"] and drill["reason"] in ("no snapshot", "no archive"):  # nothing to restore: a finding
        judge.equals("backup.drill.snapshot", f"{drill['reason']} in the repository: nothing to restore", "a snapshot")
        return
    if not drill["performed"]:
        judge.not_applicable(f"no restore drill: {drill['reason']}")
    judge.equals("backup.drill.restore_exit_code", drill["restore_exit_code"], 0)
    judge.equals("backup.drill.canary_sha256", drill["observed_sha256"], drill["expected_sha256"])
    judge.each("backup.drill.sample", drill["sample_ok"])
    judge.equals("backup.drill.scratch_removed", drill["scratch_removed"], True)


@check(
    "BACKUP-DATA-CHECK",
    requirements={
        "12.5.c#2": "a rotating part of the data is read back and verified at every run",
    },
    target="backup_repo",
    severity="high",
    rule="vérification partielle tournante des données (restic check --read-data-subset, borg check)",
)
def check_data(backup_repo, judge):
    if absent(backup_repo, judge):
        return
    dc = backup_repo["data_check"]
    if dc["ok"] is None:  # another client held the repository lock throughout: nothing was checked
        raise ObservationUnavailable(f"{dc['tool_command']}: repository locked by another client ({dc['message']})")
    judge.equals("backup.data_check", "ok" if dc["ok"] else f"{dc['tool_command']}: {dc['message']}", "ok")


@check(
    "BACKUP-TRANSPORT",
    requirements={
        "12.5.d#5": "the repository is reached over https, sftp or ssh, never in clear",
    },
    target="backup_repo",
    severity="high",
    rule="SecNumCloud 12.5.d (communications vers le site de sauvegarde chiffrées)",
)
def check_transport(backup_repo, params, judge):
    if backup_repo["transport"] == "local":
        judge.not_applicable("the repository is a local path where the tool runs: no transfer to judge")
    judge.one_of("backup.transport", backup_repo["transport"], params.backup.transport_schemes_allowed)


@check(
    "BACKUP-SITE",
    requirements={
        "12.5.d#1": "the repository's site is not the primary site",
        "12.5.d#3": "the repository's site is in an allowed (EU) country",
        "19.2.b#1": "backed-up customer data is stored in an allowed (EU) country",
    },
    target="backup_repo",
    severity="critical",
    rule="SecNumCloud 12.5.d (site de sauvegarde distinct, même exigences de localisation)",
)
def check_site(backup_repo, params, judge):
    site, primary = backup_repo["site"], backup_repo["primary_site"]
    allowed = sorted({normalise_country(c) for c in params.location.allowed_countries})
    judge.one_of("backup.site.country", normalise_country(site["country"] or "unknown"), allowed)
    judge.excludes("backup.site.distinct", [site["name"]], [primary["name"]])
