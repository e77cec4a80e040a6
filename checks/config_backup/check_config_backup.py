"""Configuration backups (17.5.a): judged on the newest copy itself (its date, its own lock), not on the bucket's
settings alone: a locked bucket may hold copies written in governance mode or before the lock was set."""

from preuve.judge import check


@check(
    "CONFIG-BACKUP-FRESH",
    requirements={
        "17.5.a#1": "the newest configuration copy (etcd snapshot, device config) is younger than the limit",
    },
    target="config_backup",
    severity="high",
    rule="copie de configuration la plus récente plus jeune que backup.config_max_age_hours",
)
def check_config_backup_fresh(config_backup, params, judge):
    if judge.absent("config_backup.newest", config_backup.get("absent"), "a configuration copy under the prefix"):
        return
    judge.at_most("config_backup.age_hours", config_backup["newest"]["age_hours"], params.backup.config_max_age_hours)


@check(
    "CONFIG-BACKUP-IMMUTABLE",
    requirements={
        "17.5.a#2": "the newest copy is under compliance-mode object lock, retention running: not erasable",
    },
    target="config_backup",
    severity="high",
    rule="copie la plus récente sous verrou d'objet en mode COMPLIANCE, rétention en cours",
)
def check_config_backup_immutable(config_backup, params, judge):
    if judge.absent("config_backup.newest", config_backup.get("absent"), "a configuration copy under the prefix"):
        return
    newest = config_backup["newest"]
    judge.one_of("config_backup.lock_mode", newest["lock_mode"] or "none", params.backup.config_lock_modes_allowed)
    judge.equals(
        "config_backup.retained_now",
        newest["retained_now"] if newest["retain_until"] else "no retention date",
        True,
    )
