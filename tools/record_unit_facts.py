"""Record a real lab run's facts as the unit tests' fixture: every check re-judged offline, both ways, without root.

    flock /tmp/preuve-lab.lock bash ci/demo.sh        # a real demo run of the lab (reports/demo)
    python tools/record_unit_facts.py                 # -> tests/fixtures/recorded-demo.tar.xz
    python tools/record_unit_facts.py /tmp/demo-run --drop CHECK-ID   # a run elsewhere; leave an `error` check out
    tar -xJf tests/fixtures/recorded-demo.tar.xz -C /tmp/rec   # to read it (a run directory)

Only what `preuve judge` reads is kept: run.json, results.jsonl, inputs/ (inventory, pinned profile, flow matrix) and
observations/ (the facts); the reports (HTML, OSCAL, SARIF, JUnit, CSV) are left out and MANIFEST.sha256 is written
again for the files kept, so the copy is a run directory `preuve judge` admits. It is packed as a reproducible
tar.xz (sorted, no owner, no time: the same run gives the same bytes), about 150 kB instead of 3 MB of JSON.
The recording is refused when the run has an `error` result (unless that check is --drop'ped: list it in
NOT_RECORDED) or a withheld observation, when it holds private key material or an unmasked cloud secret, or when
`preuve judge` on the copy does not give back the recorded verdicts. tests/unit/test_recorded_facts_both_ways.py
re-judges it; tests/lab/test_recorded_facts_hold_no_lab_secret.py checks it against every secret the lab inventory
references. After recording, update the two explicit lists of that unit test (NOT_RECORDED, ONE_WAY): the tool
prints what they must hold.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "tests" / "fixtures" / "recorded-demo.tar.xz"
KEPT = ("run.json", "results.jsonl", "inputs", "observations")
# Key material and cloud secrets as preuve.evidence.redact recognises them (a block with its body, a value not masked).
SECRET_SHAPES = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*(?!«redacted»)[A-Za-z0-9/+=]{20,}"),
)


def statuses(run: Path) -> dict[str, collections.Counter[str]]:
    """{check id: Counter of statuses} of a run."""
    seen: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            result = json.loads(line)
            seen[result["check_id"]][result["status"]] += 1
    return dict(seen)


def refusals(run: Path, dropped: frozenset[str] = frozenset()) -> list[str]:
    """Why a run cannot become the fixture (empty when it can)."""
    from preuve.evidence.redact import SECRET_IN_FACT

    problems = [
        f"{cid}: {n['error']} error result(s) (fix it, or --drop it and list it in NOT_RECORDED)"
        for cid, n in statuses(run).items()
        if n["error"] and cid not in dropped
    ]
    for path in sorted(run.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.parent.parent.name == "observations" and SECRET_IN_FACT in text:
            problems.append(f"{path.relative_to(run)}: an observation was withheld (a secret in a fact)")
        if any(shape.search(text) for shape in SECRET_SHAPES):
            problems.append(f"{path.relative_to(run)}: private key material or a cloud secret")
    return problems


def copy_compact(src: Path, out: Path, dropped: frozenset[str] = frozenset()) -> None:
    """The files judging needs (without the results of `dropped` check ids), and a manifest written for them."""
    from preuve.evidence.manifest import write_manifest

    out.mkdir(parents=True)
    for name in KEPT:
        if (src / name).is_dir():
            shutil.copytree(src / name, out / name)
        else:
            shutil.copy2(src / name, out / name)
    if dropped:
        kept = [
            line
            for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
            if json.loads(line)["check_id"] not in dropped
        ]
        (out / "results.jsonl").write_text("".join(kept), encoding="utf-8")
    write_manifest(out)


def pack(run: Path, archive: Path) -> None:
    """A reproducible tar.xz of the run directory: sorted entries, root-owned, mode 0644/0755, time 0."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(run.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=path.relative_to(run).as_posix())
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o755 if path.is_dir() else 0o644
            if path.is_dir():
                tar.addfile(info)
            else:
                with path.open("rb") as fh:
                    tar.addfile(info, fh)
    archive.write_bytes(buf.getvalue())


def unpack(archive: Path, dest: Path) -> Path:
    """The recorded run directory, extracted under `dest` (regular files and folders only)."""
    with tarfile.open(archive, "r:xz") as tar:
        members = tar.getmembers()
        for m in members:  # what pack() writes; the "data" filter is not in every 3.11 (3.11.4+)
            parts = Path(m.name).parts
            if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in parts:
                raise ValueError(f"{archive}: unexpected member {m.name!r}")
        tar.extractall(dest, members=members)
    return dest


def rejudge(run: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """`preuve judge` on a recorded run, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "preuve", "judge", str(run), "-o", str(out), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, nargs="?", default=REPO / "reports" / "demo", help="a finished lab run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the archive to write (replaced)")
    parser.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="CHECK_ID",
        help="leave this check's results out (one that ended in error on the lab): list it in NOT_RECORDED",
    )
    args = parser.parse_args(argv)
    dropped = frozenset(args.drop)
    sys.path.insert(0, str(REPO))
    from preuve.judge.catalogue import load_catalogue
    from tools.verdicts import project

    problems = refusals(args.run, dropped)
    if problems:
        print("record_unit_facts: refused:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        compact = Path(tmp) / "recorded"
        copy_compact(args.run, compact, dropped)
        proc = rejudge(compact, Path(tmp) / "rejudged")
        if proc.returncode not in (0, 1):
            print(f"record_unit_facts: preuve judge failed ({proc.returncode}):\n{proc.stderr}", file=sys.stderr)
            return 1
        seen = statuses(compact)
        if project(Path(tmp) / "rejudged", set(seen)) != project(compact):
            print("record_unit_facts: the copy does not re-judge to the recorded verdicts", file=sys.stderr)
            return 1
        pack(compact, args.out)
    catalogue = set(load_catalogue())
    total = sum(sum(n.values()) for n in seen.values())
    print(f"{args.out}: {len(seen)} check ids, {total} results, {args.out.stat().st_size} bytes")
    print("NOT_RECORDED must list:", sorted(catalogue - set(seen)))
    print("ONE_WAY must list (no pass):", sorted(c for c, n in seen.items() if not n["pass"]))
    print("ONE_WAY must list (no fail):", sorted(c for c, n in seen.items() if not n["fail"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
