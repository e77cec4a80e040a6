"""Retention of central log stores (S3 lifecycle, Loki, Elasticsearch ILM, OpenSearch ISM) from the configuration
their own API returns. Every part of the logs a store treats differently (rule, tenant, stream, policy) is judged;
"unbounded" means nothing in the store deletes them. The decisions are in preuve/observe/logs/store_retention.py.
12.9.a is cited with 12.6.c: the central store is where analysis "a posteriori" of six months of events happens
(12.7.b is about local storage sizing at the sources, judged by LOG-JOURNALD/LOGROTATE-RETENTION)."""

from preuve.judge import check
from preuve.observe.logs.store_retention import scopes


@check(
    "LOG-STORE-RETENTION",
    requirements={
        "12.6.c#1": "the central store's applied retention is at least the profile's (183 days)",
        "12.9.a#2": "six months of events stay in the central store for analysis after the fact",
    },
    target="log_store",
    severity="high",
    rule="cycle de vie S3, Loki retention_period, ILM/ISM : suppression au plus tôt ≥ durée de conservation",
)
def check_log_store_retention(log_store, params, judge):
    found = scopes(log_store)
    minimum = params.logs.retention_days
    judge.each(
        "logs.store.retention_days",
        {s.scope: s.days is None or s.days >= minimum for s in found},
        observed={s.scope: s.describe() for s in found},
        at_least=minimum,
    )
    bounded = [s.days for s in found if s.days is not None]
    if bounded:  # the shortest retention, against the threshold (all unbounded: nothing to compare)
        judge.at_least("logs.store.shortest_retention_days", min(bounded), minimum)
