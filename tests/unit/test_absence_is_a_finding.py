"""Absence observed is a finding (`fail`); `error` is only for what could not be observed (issue 12, point 3).

For every check of the time, logs, S3, backup and hygiene domains that can report `error`, the component observed
to be missing is shown to be judged `fail`, on the real snippets where the absence can be staged here (a private
mount or PID namespace) and on recorded facts otherwise.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from preuve.judge.check_api import Judge
from preuve.observe.host.passwords import parse_password_hashing
from preuve.observe.logs.timestamps import parse_log_timestamps
from preuve.results.messages import sentence


def _failed(j: Judge) -> str:
    return "; ".join(sentence(e, e.label, "en") for e in j.failed)


def test_traditional_syslog_beside_a_journal_still_fails():
    """The journal's precise stamps do not excuse a text log written without year and zone."""
    from checks.time.check_clock import check_log_timestamps

    fact = parse_log_timestamps("/var/log/syslog\tNov 23 11:32:08\n/var/log/journal\tjournal\n")
    j = Judge()
    check_log_timestamps(fact, j)
    assert "/var/log/syslog" in _failed(j) and "Nov 23 11:32:08" in _failed(j)


# --- backups: the real restic and borg, on a location holding no repository / an empty one -----------------------


def _job(tool: str, repository: str, password: str | None = "not-a-secret-0001") -> object:
    from preuve.observe.backup.repository import Job

    return Job(
        tool=tool,
        repository=repository,
        password=password,
        password_file=None,
        canary=("/etc/hostname", "0" * 64),
        scratch_dir=None,
        sample_size=1,
        data_check_fraction=0.1,
        data_check_seconds=10,
        timeout=60,
    )


def _judge_backup(facts: dict) -> dict[str, tuple[bool, str]]:
    import datetime as dt

    from checks.backup import check_repository as c
    from preuve.inputs.params import Params

    out = {}
    for name, fn in (
        ("freshness", c.check_freshness),
        ("encrypted", c.check_encrypted),
        ("drill", c.check_restore_drill),
        ("data", c.check_data),
    ):
        j = Judge()
        kwargs = {"backup_repo": facts, "judge": j}
        if name == "freshness":
            kwargs |= {"params": Params(), "now": dt.datetime.now(dt.UTC)}
        fn(**kwargs)
        out[name] = (bool(j.failed), _failed(j))
    return out


@pytest.mark.parametrize("tool", ["restic", "borg"])
def test_no_repository_at_the_declared_location_fails_every_backup_check(tmp_path, tool):
    """Before: "restic snapshots failed (exit 1)" -> four `error`s. The tool reached the path and found nothing:
    the backups are absent, a finding quoting the tool."""
    from preuve.observe.backup import repository as backup

    facts, _, _ = backup.collect(_job(tool, str(tmp_path / "nothing-here")))
    assert facts["absent"], facts
    for name, (failed, msg) in _judge_backup(facts).items():
        assert failed and "absent:" in msg and ("Is there a repository" in msg or "does not exist" in msg), (name, msg)


def test_wrong_password_is_still_an_error(tmp_path):
    from preuve.observe.backup import repository as backup
    from preuve.observe.errors import ObservationError

    repo = tmp_path / "repo"
    env = {**os.environ, "RESTIC_PASSWORD": "the-right-one-0001"}
    subprocess.run(["restic", "init", "-r", str(repo)], env=env, check=True, capture_output=True, timeout=60)
    with pytest.raises(ObservationError, match="restic snapshots failed"):
        backup.collect(_job("restic", str(repo), password="a-wrong-one-00001"))


def test_empty_repository_fails_the_drill_instead_of_not_applicable(tmp_path):
    from preuve.observe.backup import repository as backup

    repo = tmp_path / "repo"
    env = {**os.environ, "RESTIC_PASSWORD": "not-a-secret-0001"}
    subprocess.run(["restic", "init", "-r", str(repo)], env=env, check=True, capture_output=True, timeout=60)
    facts, _, _ = backup.collect(_job("restic", str(repo)))
    verdicts = _judge_backup(facts)
    assert verdicts["drill"][0] and "no snapshot in the repository: nothing to restore" in verdicts["drill"][1]
    assert verdicts["freshness"][0] and not verdicts["encrypted"][0]


# --- S3: a real moto server on loopback, a declared bucket that does not exist ------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint():
    import socket

    from moto.server import ThreadedMotoServer

    from preuve.observe.storage import s3

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    ep = s3.Endpoint(
        url=f"http://127.0.0.1:{port}",
        signing_region="eu-west-3",
        access_key="testing-key-0001",
        secret_key="testing-secret-0001",
    )
    client = s3.client(ep, 5.0)
    client.create_bucket(Bucket="present", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    yield ep, client
    server.stop()


def test_declared_bucket_that_does_not_exist_fails_every_bucket_check(moto_endpoint):
    """Before: "HeadBucket missing: not found (HTTP 404)" -> `error` on 7 checks. The endpoint answered: no such
    bucket. A declared bucket that is not there is a finding."""
    from checks.s3 import check_location as loc
    from checks.s3 import check_protection as prot
    from preuve.inputs.params import Params
    from preuve.observe.storage import s3

    ep, client = moto_endpoint
    facts, raw = s3.collect_bucket(client, "missing", True, ("location", "protection"), ep, 2.0)
    assert "no such bucket" in raw["absent"]
    for fn, part in (
        (loc.check_bucket_location, "location"),
        (loc.check_replication_location, "location"),
        (loc.check_kms_location, "location"),
        (prot.check_default_encryption, "protection"),
        (prot.check_tls_only, "protection"),
        (prot.check_backup_versioning, "protection"),
        (prot.check_backup_object_lock, "protection"),
    ):
        j = Judge()
        kwargs = {("s3_bucket" if part == "location" else "s3_protection"): facts[part], "judge": j}
        if "params" in fn.__code__.co_varnames[: fn.__code__.co_argcount]:
            kwargs["params"] = Params()
        fn(**kwargs)
        assert "absent: HeadBucket missing: HTTP 404, no such bucket" in _failed(j), fn.__name__


def test_endpoint_without_declared_buckets_is_still_located(moto_endpoint):
    """Before: "no bucket of the inventory is on endpoint …" -> S3-ENDPOINT-LOCATION `error` though it needs no
    bucket. Now its location is judged and the key-per-customer check is not applicable."""
    from checks.s3.check_endpoint import check_key_per_customer
    from preuve.judge.check_api import NotApplicable
    from preuve.observe.storage import s3

    _, client = moto_endpoint
    facts, _ = s3.collect_endpoint(client, "127.0.0.1", [])
    assert facts["bucket_keys"] == {} and facts["addresses"] == ["127.0.0.1"]
    with pytest.raises(NotApplicable):
        check_key_per_customer(s3_endpoint=facts, judge=Judge())


# --- journald and logrotate not installed: staged by hiding the binaries in a private mount namespace ------------


# --- forwarding and hashing: recorded facts of a host with nothing configured -------------------------------------


def test_host_with_no_log_daemon_fails_forwarding_not_error():
    """No rsyslogd, no syslog-ng running and no configuration: nothing forwards, a finding for both checks."""
    from checks.logs.check_forwarding import check_forwarding_config, check_forwarding_live
    from preuve.inputs.params import Params

    rsyslog = {"forwarders": [], "config_present": False, "established": [], "tls_verify": {}, "addresses": []}
    syslog_ng = {
        "running": [],
        "present": False,
        "config_path": "/etc/syslog-ng/syslog-ng.conf",
        "merge": None,
        "forwarders": [],
        "daemons": [],
        "unresolved_includes": [],
    }
    j = Judge()
    check_forwarding_config(rsyslog=rsyslog, syslog_ng=syslog_ng, params=Params(), judge=j)
    assert "logs.forwarding.daemons" in _failed(j) and "logs.forwarding.actions" in _failed(j)
    j = Judge()
    check_forwarding_live(rsyslog=rsyslog, syslog_ng=syslog_ng, judge=j)
    assert "logs.forwarding.tls_targets" in _failed(j)


def test_login_defs_without_encrypt_method_is_des_and_fails():
    """login.defs absent or silent: shadow-utils falls back to DES, a finding (not an unknown)."""
    from checks.hygiene.check_password_hashes import check_hashing_method
    from preuve.inputs.params import Params

    fact = parse_password_hashing("== pam\n")
    j = Judge()
    check_hashing_method(password_hashing=fact, params=Params(), judge=j)
    assert "DES" in _failed(j)
