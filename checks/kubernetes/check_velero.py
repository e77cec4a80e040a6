"""Velero backups of the cluster: for every schedule, the newest backup completed without error, recently."""

import datetime as dt

from preuve.judge import check


def parse_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@check(
    "K8S-VELERO-BACKUPS",
    requirements={
        "12.5.a#2": "the newest backup of each Velero schedule completed and is younger than the limit",
    },
    target="k8s_cluster",
    severity="high",
    rule="newest backup per schedule Completed, no error, younger than the profile limit",
)
def check_velero_backups(k8s_velero, target, params, now, judge):
    if not target.spec.velero:
        judge.not_applicable("the inventory says this cluster is not backed up by Velero (velero: false)")
    if not k8s_velero.get("installed"):
        judge.non_empty("k8s.velero.schedules", [])
        return
    limit = params.backup.max_age_hours
    seen: dict[str, dict] = {}
    for sched in k8s_velero["schedules"]:
        name = sched["metadata"]["name"]
        mine = [
            b
            for b in k8s_velero["backups"]
            if (b["metadata"].get("labels") or {}).get("velero.io/schedule-name") == name
        ]
        newest = max(mine, key=lambda b: (b.get("status") or {}).get("startTimestamp") or "", default=None)
        st = (newest or {}).get("status") or {}
        done = parse_time(st.get("completionTimestamp"))
        seen[name] = {
            "backup": newest["metadata"]["name"] if newest else None,
            "phase": st.get("phase"),
            "errors": st.get("errors", 0),
            "age_hours": round((now - done).total_seconds() / 3600, 1) if done else None,
        }
    judge.non_empty("k8s.velero.schedules", sorted(seen))
    judge.each(
        "k8s.velero.newest_backups",
        {
            n: s["phase"] == "Completed" and not s["errors"] and s["age_hours"] is not None and s["age_hours"] <= limit
            for n, s in seen.items()
        },
        observed=seen,
        at_most=limit,
    )
