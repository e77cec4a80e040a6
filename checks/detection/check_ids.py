"""Judged on the central store's newest entry of each sensor, not on a sensor's own process: a sensor that runs but
whose events never reach the store is no collection source for the analysis infrastructure."""

from preuve.judge import check


@check(
    "IDS-EVENTS-RECENT",
    requirements={
        "13.3.a#1": "each declared interconnection has an IDS sensor, and it produced events recently",
        "13.3.a#2": "those events are in the central log store: the sensor is a source of the analysis chain",
    },
    target="interconnection",
    severity="high",
    rule="sonde par interconnexion, dernier événement au stockage central plus jeune que logs.ids_max_silence_minutes",
)
def check_ids_events(ids_events, params, judge):
    sensors = ids_events["sensors"]
    if judge.absent("ids.sensors", None if sensors else "no IDS sensor declared on this interconnection", "a sensor"):
        return
    limit = params.logs.ids_max_silence_minutes
    judge.each(
        "ids.newest_event_minutes",
        {n: s["newest"] is not None and s["age_minutes"] <= limit for n, s in sensors.items()},
        observed={
            n: f"{s['age_minutes']} min ago ({s.get('event_type') or 'entry'} at {s['newest']})"
            if s["newest"]
            else "no event in the store for a week"
            for n, s in sensors.items()
        },
        at_most=limit,
    )
