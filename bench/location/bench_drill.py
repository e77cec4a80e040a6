"""Restore-drill throughput vs a plain `restic restore` of the same data (target: the drill within 10 %).

Builds a private restic repository (in a temp dir under /var/tmp) holding one canary file of --mb MiB of random
data, then alternates, --rounds times: a plain `restic restore --include <canary>` into a fresh dir (then removed,
not timed), and preuve's drill (the same restore + sha256 of the restored file + removal of the scratch dir).
Prints the medians and the drill's overhead. Needs restic; touches nothing else.

    python -m bench.location.bench_drill --mb 256 --rounds 5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from preuve.observe.backup import repository as backup


def build(root: Path, mb: int) -> tuple[Path, Path, Path, str]:
    repo, src, pw = root / "repo", root / "src", root / "password"
    pw.write_text("bench-password\n")
    (src / "canary").mkdir(parents=True)
    canary = src / "canary" / "big.bin"
    h = hashlib.sha256()
    with open(canary, "wb") as fh:
        for _ in range(mb):
            chunk = os.urandom(1 << 20)
            h.update(chunk)
            fh.write(chunk)
    env = {**os.environ, "RESTIC_REPOSITORY": str(repo), "RESTIC_PASSWORD_FILE": str(pw)}
    subprocess.run(["restic", "init"], env=env, check=True, capture_output=True)
    subprocess.run(["restic", "backup", "--no-cache", str(src)], env=env, check=True, capture_output=True)
    return repo, pw, canary, h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="preuve-bench-drill-", dir="/var/tmp"))
    try:
        repo, pw, canary, digest = build(root, a.mb)
        job = backup.Job(
            "restic", str(repo), None, str(pw), (str(canary), digest), str(root / "scratch"), 1, 0.1, 10, 600.0
        )
        home = root / "home"
        home.mkdir()
        run = backup.Runner(job, str(home))
        snap = backup._restic_snapshots(run)[-1]["id"]
        plain, drills = [], []
        for i in range(a.rounds):
            target = root / f"plain-{i}"
            t0 = time.perf_counter()
            subprocess.run(
                [
                    "restic",
                    "restore",
                    snap,
                    "--target",
                    str(target),
                    "--include",
                    str(canary),
                    "--no-lock",
                    "--no-cache",
                ],
                env=run.env,
                check=True,
                capture_output=True,
            )
            plain.append(time.perf_counter() - t0)
            shutil.rmtree(target)
            t0 = time.perf_counter()
            result = backup.drill(run, job, snap, [])
            drills.append(time.perf_counter() - t0)
            assert result["ok"] and result["scratch_removed"], result
        p, d = statistics.median(plain), statistics.median(drills)
        out = {
            "data_mib": a.mb,
            "rounds": a.rounds,
            "plain_restore_s": round(p, 3),
            "drill_s": round(d, 3),
            "plain_mib_per_s": round(a.mb / p, 1),
            "drill_mib_per_s": round(a.mb / d, 1),
            "drill_overhead_pct": round((d / p - 1) * 100, 1),
            "target": "drill within 10 % of plain restore",
        }
        print(json.dumps(out, indent=2))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
