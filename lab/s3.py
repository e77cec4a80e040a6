"""The lab's S3 service: a moto server in pv-sup, seeded with compliant and non-compliant buckets.

Run as its own process (``python -m preuve_lab.s3 STATE_DIR``) inside the namespace: it starts moto, seeds the
buckets through boto3 over its own address, creates the IAM users the scanner uses (``auditor`` read-only,
``nobody`` with no right, ``admin`` for the bench), switches authentication on, then writes its pid file, so a
live pid file means a seeded, authenticating server. Region table, replication and KMS key ARNs are plain S3
configuration: the checks see exactly what a real AWS account would answer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from . import netns
from .paths import LabPaths
from .s3_lifecycle import LOG_LIFECYCLE  # log buckets (LOG-STORE-RETENTION)
from .topology import SERVICES

NAME = "s3"
ACCOUNT = "123456789012"
TLS_ADDRESS, TLS_PORT = "198.18.4.50", 443
"""The same S3 over TLS only: nothing listens in clear on this address (plain HTTP to :80 is refused, to :443 gets
a TLS error). The moto backend is the process's own, so both listeners serve the same buckets; the plain listener
(:5000 on 198.18.4.20) is the lab's naive S3, which does not enforce aws:SecureTransport (as moto does not)."""


def _kms(region: str, key: str) -> str:
    return f"arn:aws:kms:{region}:{ACCOUNT}:key/{key}"


def _tls_only(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


# name: region, default encryption (KMS ARN, "AES256" or None), versioning, object lock, TLS-only policy, replica
BUCKETS: dict[str, dict[str, Any]] = {
    "pv-customer-paris": dict(
        region="eu-west-3",
        sse=_kms("eu-west-3", "acme-par"),
        versioning=True,
        tls=True,
        replicate="pv-replica-frankfurt",
    ),
    "pv-replica-frankfurt": dict(
        region="eu-central-1", sse=_kms("eu-central-1", "acme-fra"), versioning=True, tls=True
    ),
    "pv-customer-lyon": dict(region="eu-west-3", sse=_kms("eu-west-3", "beta"), tls=True),
    "pv-customer-replicated": dict(
        region="eu-west-3", sse=_kms("eu-west-3", "epsilon"), versioning=True, tls=True, replicate="pv-replica-us"
    ),
    "pv-replica-us": dict(region="us-east-1", sse=_kms("us-east-1", "epsilon-us"), versioning=True, tls=True),
    "pv-customer-kms-us": dict(region="eu-west-3", sse=_kms("us-east-1", "eta"), tls=True),
    "pv-logs-unencrypted": dict(region="eu-west-3", sse=None, tls=False),
    "pv-backup-locked": dict(region="eu-west-3", sse=_kms("eu-west-3", "backup"), lock=True, tls=True),
    "pv-backup-plain": dict(region="eu-west-3", sse="AES256", tls=True),
    "pv-customer-us": dict(region="us-east-1", sse=_kms("us-east-1", "gamma"), tls=True),
    "pv-customer-london": dict(region="eu-west-2", sse=_kms("eu-west-2", "delta"), tls=True),
    "pv-customer-sharedkey": dict(region="eu-west-2", sse=_kms("eu-west-2", "delta"), tls=True),
    "pv-restic-offsite": dict(region="eu-west-3", sse=_kms("eu-west-3", "backup"), versioning=True),
    # a self-hosted S3 (inventory provider `own`, site paris-1) answering MinIO's default region us-east-1, with a
    # key of its own KMS (a bare key id): located by its site, not by the region name it reports
    "pv-own-minio": dict(region="us-east-1", sse="theta-minio-key", tls=True),
    **{name: dict(region="eu-west-3", sse=_kms("eu-west-3", "logs"), tls=True) for name in LOG_LIFECYCLE},
    # offline copies of the technical infrastructure's configuration (17.5.a, CONFIG-BACKUP-*): etcd snapshots and
    # network device configurations. `locked`: compliance-mode object lock; `governance`: object lock on, but in
    # governance mode (erasable by whoever holds s3:BypassGovernanceRetention); `stale`: no lock, newest copy 9 days
    # old. No TLS-only policy on them: moto applies a Deny statement to object reads without evaluating its
    # Condition (aws:SecureTransport), so such a policy would refuse every object read, even the auditor's over TLS.
    "pv-config-locked": dict(region="eu-west-3", sse=_kms("eu-west-3", "backup"), lock=True),
    "pv-config-governance": dict(
        region="eu-west-3", sse=_kms("eu-west-3", "backup"), lock=True, lock_mode="GOVERNANCE"
    ),
    "pv-config-stale": dict(region="eu-west-3", sse=_kms("eu-west-3", "backup"), versioning=True),
}
# Objects written at seed time (key -> age in days; 0 = now): the configuration copies, and one object in buckets of
# the provider and of customers, so that a tenant canary has something to be refused (TENANT canaries: names are
# listed by the auditor, then read with the canary's key).
OBJECTS: dict[str, dict[str, int]] = {
    "pv-config-locked": {"etcd/snapshot-latest.db": 0, "network/core-rtr-1.cfg": 0},
    "pv-config-governance": {"etcd/snapshot-latest.db": 0, "network/core-rtr-1.cfg": 0},
    "pv-config-stale": {"etcd/snapshot-latest.db": 9, "network/core-rtr-1.cfg": 9},
    "pv-customer-paris": {"acme/report.csv": 0},
    "pv-customer-lyon": {"beta/invoices.csv": 0},
    "pv-backup-locked": {"db/nightly.dump": 0},
    "pv-logs-unencrypted": {"syslog/2026/12/04/core-rtr-1.log.gz": 0},
}
OFFSITE = "pv-restic-offsite"  # a restic repository kept in S3, reached over plain http (BACKUP-TRANSPORT fails)

AUDITOR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "s3:HeadBucket"], "Resource": "*"}],
}
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def tenant_policy(leaky: bool) -> dict[str, Any]:
    """The acme customer's key: its own bucket only. The leaky twin may also GET objects (not list them) in the
    provider's backup, configuration and log buckets and in another customer's: a naive "cannot list" check passes."""
    own = [f"arn:aws:s3:::{b}{s}" for b in ("pv-customer-paris", "pv-replica-frankfurt") for s in ("", "/*")]
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": own}
    ]
    if leaky:
        foreign = ["pv-backup-locked", "pv-config-locked", "pv-logs-unencrypted", "pv-customer-lyon"]
        statements.append(
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{b}/*" for b in foreign]}
        )
    return {"Version": "2012-10-17", "Statement": statements}


def credentials_dir(paths: LabPaths) -> Path:
    return paths.root / "s3"


def url() -> str:
    svc = SERVICES[NAME]
    return f"http://{svc.address}:{svc.port}"


def tls_dir(paths: LabPaths) -> Path:
    """cert.pem (self-signed, SAN 198.18.4.50: the inventory's ca_file) and key.pem of the TLS-only listener."""
    return credentials_dir(paths) / "tls"


def _serve_tls(paths: LabPaths) -> Any:
    """The TLS-only listener on TLS_ADDRESS:TLS_PORT, sharing this process's moto backend; returns the server."""
    import ssl

    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from .https_standin import self_signed

    self_signed(tls_dir(paths), "s3-tls.lab", TLS_ADDRESS)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(tls_dir(paths) / "cert.pem", tls_dir(paths) / "key.pem")
    server = make_server(
        TLS_ADDRESS,
        TLS_PORT,
        DomainDispatcherApplication(create_backend_app),
        True,
        request_handler=MotoRequestHandler,
        ssl_context=ctx,
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def write_config(paths: LabPaths) -> None:
    """The credentials folder (filled by the server once IAM users exist)."""
    d = credentials_dir(paths)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)


def start(paths: LabPaths) -> None:
    """Start the seeding moto server in its namespace, detached; it writes its pid file when ready."""
    svc = SERVICES[NAME]
    paths.pid_file(NAME).unlink(missing_ok=True)
    log = open(paths.log(NAME), "w")  # noqa: SIM115 - handed to the daemon
    argv = ["ip", "netns", "exec", netns.check_name(svc.ns), sys.executable, "-m", "preuve_lab.s3", str(paths.root)]
    subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()


def client(service: str, key_id: str = "seed", secret: str = "seed", endpoint: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint or url(),
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2}),
    )


def seed(s3: Any) -> None:
    """Create every lab bucket with its configuration (idempotent on a fresh server)."""
    for name, spec in BUCKETS.items():
        kw: dict[str, Any] = {"Bucket": name}
        if spec["region"] != "us-east-1":
            kw["CreateBucketConfiguration"] = {"LocationConstraint": spec["region"]}
        if spec.get("lock"):
            kw["ObjectLockEnabledForBucket"] = True
        s3.create_bucket(**kw)
        if spec.get("versioning") or spec.get("lock"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if spec.get("lock"):
            s3.put_object_lock_configuration(
                Bucket=name,
                ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": {"Mode": spec.get("lock_mode", "COMPLIANCE"), "Days": 30}},
                },
            )
        sse = spec.get("sse")
        if sse:
            kms = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": sse}  # an ARN, or a bare key id (pv-own-minio)
            default = {"SSEAlgorithm": "AES256"} if sse == "AES256" else kms
            rules = [{"ApplyServerSideEncryptionByDefault": default}]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        put_objects(s3, name)  # before the TLS-only policy: the seeding client speaks plain HTTP
        if spec.get("tls"):
            s3.put_bucket_policy(Bucket=name, Policy=_tls_only(name))
    for name, rules in LOG_LIFECYCLE.items():
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    for name, spec in BUCKETS.items():
        if spec.get("replicate"):
            s3.put_bucket_replication(
                Bucket=name,
                ReplicationConfiguration={
                    "Role": f"arn:aws:iam::{ACCOUNT}:role/replication",
                    "Rules": [
                        {
                            "ID": "all",
                            "Status": "Enabled",
                            "Priority": 1,
                            "Filter": {"Prefix": ""},
                            "DeleteMarkerReplication": {"Status": "Disabled"},
                            "Destination": {"Bucket": f"arn:aws:s3:::{spec['replicate']}"},
                        }
                    ],
                },
            )


def put_objects(s3: Any, bucket: str) -> None:
    """The bucket's OBJECTS, with their age: moto stamps LastModified at write time, so an old copy is dated back in
    this process's own backend (what a real bucket holding a 9-day-old snapshot answers)."""
    import datetime as dt

    from moto.s3.models import s3_backends

    for key, age in OBJECTS.get(bucket, {}).items():
        s3.put_object(Bucket=bucket, Key=key, Body=os.urandom(64))
        if age:
            fake = s3_backends[ACCOUNT]["global"].buckets[bucket].keys[key]
            fake.last_modified = fake.last_modified - dt.timedelta(days=age)


def _users(iam: Any, out: Path) -> None:
    """IAM users and their access keys, written 0600 for the inventory's {file: ...} references."""
    users = (
        ("auditor", AUDITOR_POLICY),
        ("nobody", None),
        ("admin", ADMIN_POLICY),
        ("tenant-acme", tenant_policy(False)),
        ("tenant-acme-leaky", tenant_policy(True)),
    )
    for user, policy in users:
        iam.create_user(UserName=user)
        if policy:
            iam.put_user_policy(UserName=user, PolicyName=f"{user}-policy", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        for suffix, value in (("id", key["AccessKeyId"]), ("secret", key["SecretAccessKey"])):
            f = out / f"{user}.{suffix}"
            f.write_text(value + "\n")
            os.chmod(f, 0o600)


def _restic_offsite(paths: LabPaths) -> None:
    """A restic repository in the OFFSITE bucket with one fresh snapshot of the lab's backup source."""
    from . import backups

    creds = credentials_dir(paths)
    env = {
        **os.environ,
        "RESTIC_REPOSITORY": f"s3:{url()}/{OFFSITE}",
        "RESTIC_PASSWORD_FILE": str(backups.password_file(paths)),
        "AWS_ACCESS_KEY_ID": (creds / "admin.id").read_text().strip(),
        "AWS_SECRET_ACCESS_KEY": (creds / "admin.secret").read_text().strip(),
        "RESTIC_CACHE_DIR": str(backups.root(paths) / ".restic-cache"),
    }
    for argv in (["restic", "init"], ["restic", "backup", "--host", "lab-primary", str(backups.source(paths))]):
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=60)


def serve(root: Path) -> None:
    """Entry point inside pv-sup: serve, seed, authenticate, then announce readiness with the pid file."""
    import logging

    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request log line
    paths = LabPaths(root)
    svc = SERVICES[NAME]
    server = ThreadedMotoServer(ip_address=svc.address, port=svc.port, verbose=False)
    server.start()
    seed(client("s3"))
    _users(client("iam"), credentials_dir(paths))
    _restic_offsite(paths)
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # from now on every request is signed by a known IAM user
    ActionAuthenticatorMixin.request_count = 0
    tls = _serve_tls(paths)
    paths.pid_file(NAME).write_text(f"{os.getpid()}\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    tls.shutdown()
    server.stop()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
