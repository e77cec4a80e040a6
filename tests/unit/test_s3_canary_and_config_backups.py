"""A customer's S3 key and the configuration backups, on a moto server seeded as the lab seeds it (IAM enforced,
same buckets, objects and policies; plain HTTP on loopback, so the lab's TLS-only bucket policies are lifted).

- the tenant key reads its bucket and is refused everything else; its leaky twin is refused every list (what a
  naive check looks at) yet GETs objects of the provider's backup, config and log buckets and of another customer;
- a key that cannot even read its own bucket is an error, never a pass;
- configuration copies: compliance lock and fresh pass; governance lock fails immutability; a 9-day-old unlocked copy
  fails both; an empty prefix is an observed absence (fail)."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import pytest

from checks.config_backup.check_config_backup import check_config_backup_fresh, check_config_backup_immutable
from checks.isolation.check_tenant_canaries import check_s3_tenant_canary, check_s3_tenant_canary_logs
from preuve.inputs.params import Params
from preuve.judge.check_api import Judge, NotApplicable
from preuve.observe.errors import ObservationError
from preuve.observe.storage import config_backup, s3_canary

pytest.importorskip("moto")


@pytest.fixture(scope="module")
def moto():
    import boto3
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.server import ThreadedMotoServer

    import preuve_lab.s3 as lab

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"

    def client(key: tuple[str, str] = ("seed", "seed")):
        return boto3.client(
            "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key[0], aws_secret_access_key=key[1]
        )

    lab.seed(client())
    for bucket in lab.BUCKETS:
        client().delete_bucket_policy(Bucket=bucket)  # TLS-only policies: this server speaks plain HTTP
    iam = boto3.client(
        "iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="seed", aws_secret_access_key="seed"
    )
    keys = {}
    users = (
        ("auditor", lab.AUDITOR_POLICY),
        ("tenant-acme", lab.tenant_policy(False)),
        ("tenant-acme-leaky", lab.tenant_policy(True)),
        ("nobody", None),
    )
    for user, policy in users:
        iam.create_user(UserName=user)
        if policy:
            iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(policy))
        k = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])
    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    yield SimpleNamespace(client=client, keys=keys)
    settings.INITIAL_NO_AUTH_ACTION_COUNT = saved
    server.stop()


BUCKETS = (
    ("pv-customer-paris", "acme", "customer-data"),
    ("pv-customer-lyon", "beta", "customer-data"),
    ("pv-backup-locked", None, "backup"),
    ("pv-config-locked", None, "config (etcd)"),
    ("pv-logs-unencrypted", None, "logs"),
)


def _judge(fn, facts, **kw) -> Judge:
    judge = Judge()
    fn(facts, judge=judge, **kw)
    return judge


def test_tenant_key_reads_its_bucket_and_nothing_else(moto):
    found = s3_canary.probe(moto.client(moto.keys["auditor"]), moto.client(moto.keys["tenant-acme"]), "acme", BUCKETS)
    assert [c["bucket"] for c in found["control"]] == ["pv-customer-paris"]
    gets = [a for a in found["attempts"] if a["how"] == "GetObject by key"]
    assert {a["bucket"] for a in gets} == {
        "pv-customer-lyon",
        "pv-backup-locked",
        "pv-config-locked",
        "pv-logs-unencrypted",
    }
    assert not _judge(check_s3_tenant_canary, found).failed
    assert not _judge(check_s3_tenant_canary_logs, found).failed


def test_leaky_key_refused_every_list_still_reads_by_key(moto):
    leaky = moto.client(moto.keys["tenant-acme-leaky"])
    found = s3_canary.probe(moto.client(moto.keys["auditor"]), leaky, "acme", BUCKETS)
    lists = [a for a in found["attempts"] if a["how"] != "GetObject by key"]
    assert lists and not any(a["allowed"] for a in lists)  # a naive "cannot list" check passes
    failed = _judge(check_s3_tenant_canary, found).failed
    assert len(failed) == 1
    assert set(failed[0].offending) == {
        "GetObject by key pv-customer-lyon/beta/invoices.csv (tenant beta)",
        "GetObject by key pv-backup-locked/db/nightly.dump (provider)",
        "GetObject by key pv-config-locked/etcd/snapshot-latest.db (provider)",
        "GetObject by key pv-config-locked/network/core-rtr-1.cfg (provider)",
    }
    logs = _judge(check_s3_tenant_canary_logs, found).failed
    assert logs[0].offending == ["GetObject by key pv-logs-unencrypted/syslog/2026/12/04/core-rtr-1.log.gz (provider)"]


def test_a_key_that_reads_nothing_is_an_error(moto):
    with pytest.raises(ObservationError, match="cannot list its own tenant's buckets"):
        s3_canary.probe(moto.client(moto.keys["auditor"]), moto.client(moto.keys["nobody"]), "acme", BUCKETS)


def test_logs_check_not_applicable_without_log_bucket(moto):
    found = s3_canary.probe(
        moto.client(moto.keys["auditor"]), moto.client(moto.keys["tenant-acme"]), "acme", BUCKETS[:3]
    )
    with pytest.raises(NotApplicable):
        _judge(check_s3_tenant_canary_logs, found)


@pytest.mark.parametrize(
    ("bucket", "prefix", "fresh", "immutable"),
    [
        ("pv-config-locked", "etcd/", True, True),
        ("pv-config-locked", "network/", True, True),
        ("pv-config-governance", "etcd/", True, False),  # lock on, GOVERNANCE: a naive "bucket locked" passes
        ("pv-config-stale", "etcd/", False, False),
        ("pv-config-locked", "nothing-here/", False, False),  # no copy: an observed absence
    ],
)
def test_config_backups_both_ways(moto, bucket, prefix, fresh, immutable):
    facts = config_backup.collect_backup(moto.client(moto.keys["auditor"]), bucket, prefix)
    params = Params()
    assert (not _judge(check_config_backup_fresh, facts, params=params).failed) is fresh
    assert (not _judge(check_config_backup_immutable, facts, params=params).failed) is immutable
    if bucket == "pv-config-governance":
        assert facts["newest"]["lock_mode"] == "GOVERNANCE" and facts["bucket_lock"]["ObjectLockEnabled"] == "Enabled"
    if bucket == "pv-config-stale":
        assert facts["newest"]["age_hours"] > 24 * 8
