"""Location checks over 1,000 buckets on a moto S3 server (target: under 20 s, with concurrency).

Starts a private moto server on 127.0.0.1 (never the host's network), creates --buckets buckets spread over EU
and non-EU regions (a third with SSE-KMS keys, some replicating), writes an inventory of them, and times
`preuve run` of the S3 location checks (S3-BUCKET-LOCATION, S3-REPLICATION-LOCATION, S3-KMS-LOCATION) with the
default concurrency. Prints the wall time of the whole run, the observation phase (run.json observe_seconds) and
the outcome counts, which must match the regions seeded.

    python -m bench.location.bench_s3_location --buckets 1000
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REGIONS = ["eu-west-3", "eu-central-1", "eu-west-1", "us-east-1", "eu-west-2", "eu-central-2"]  # last 3: not EU
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(url: str, n: int) -> dict[str, str]:
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(max_pool_connections=32),
    )

    def one(i: int) -> tuple[str, str]:
        name, region = f"bench-{i:04d}", REGIONS[i % len(REGIONS)]
        kw = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=name, **kw)
        if i % 3 == 0:
            default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": f"arn:aws:kms:{region}:123456789012:key/k{i}"}
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]},
            )
        return name, region

    with ThreadPoolExecutor(16) as pool:
        return dict(pool.map(one, range(n)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buckets", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=32)
    a = ap.parse_args()
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    root = Path(tempfile.mkdtemp(prefix="preuve-bench-s3-"))
    try:
        url = f"http://127.0.0.1:{port}"
        t0 = time.perf_counter()
        buckets = seed(url, a.buckets)
        seeded = time.perf_counter() - t0
        (root / "key").write_text(secrets.token_hex(16) + "\n")  # registered with the redactor: must be unique
        lines = [
            "version: 1",
            "name: bench-s3",
            "sites: [{name: paris-1, country: FR}]",
            "s3:",
            "  endpoints:",
            f"    - {{name: moto, provider: aws, url: '{url}', site: paris-1,",
            f"       access_key: {{file: {root}/key}}, secret_key: {{file: {root}/key}}}}",
            "  buckets:",
        ]
        lines += [f"    - {{name: {b}, endpoint: moto, role: customer-data}}" for b in buckets]
        inv = root / "inventory.yaml"
        inv.write_text("\n".join(lines) + "\n")
        out = root / "run"
        profile = REPO / "profiles" / "secnumcloud-3.2.yaml"
        argv = [
            sys.executable,
            "-m",
            "preuve",
            "run",
            "-i",
            str(inv),
            "-p",
            str(profile),
            "-o",
            str(out),
            "-q",
            "--concurrency",
            str(a.concurrency),
            "--select",
            "S3-BUCKET-LOCATION",
            "--select",
            "S3-REPLICATION-LOCATION",
            "--select",
            "S3-KMS-LOCATION",
        ]
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=os.environ.copy(), timeout=600)
        wall = time.perf_counter() - t0
        results = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
        errors = [r for r in results if r["status"] == "error"][:1]
        run = json.loads((out / "run.json").read_text())
        status = Counter((r["check_id"], r["status"]) for r in results)
        eu = sum(1 for r in buckets.values() if r in REGIONS[:3])
        loc = ("S3-BUCKET-LOCATION", "pass"), ("S3-BUCKET-LOCATION", "fail")
        ok = status[loc[0]] == eu and status[loc[1]] == len(buckets) - eu
        print(
            json.dumps(
                {
                    "buckets": len(buckets),
                    "seed_s": round(seeded, 1),
                    "preuve_run_wall_s": round(wall, 2),
                    "observe_s": round(run.get("observe_seconds") or 0, 2),
                    "concurrency": a.concurrency,
                    "exit_code": proc.returncode,
                    "results": len(results),
                    "outcomes": {f"{c} {s}": n for (c, s), n in sorted(status.items())},
                    "verdicts_match_seeded_regions": ok,
                    "target": "under 20 s",
                    "first_error": errors[0]["message"]["en"] if errors else None,
                },
                indent=2,
            )
        )
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
