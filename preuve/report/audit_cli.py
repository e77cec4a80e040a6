"""The auditor's subcommands and run options: keygen, verify (manifest, signature, chain), diff, report,
coverage; `run --replay-of`, `--sample/--seed`, `--previous`, `--ledger`, `--sign-key`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from preuve.exitcodes import Exit


def add_run_audit_options(sp: argparse.ArgumentParser, *, live: bool = True) -> None:
    sp.add_argument("--previous", metavar="RUN", help="compare with this run (default: the ledger's latest run)")
    sp.add_argument("--ledger", metavar="PATH", help="the scope's hash chain (default: ledger.jsonl next to the run)")
    sp.add_argument("--sign-key", metavar="KEY", help="Ed25519 private key (`preuve keygen`) that signs the manifest")
    if not live:
        return
    sp.add_argument("--sample", metavar="N|FRACTION", help="sample N targets per kind, or a fraction (0.2, 20%%)")
    sp.add_argument("--seed", default=None, help="seed of the sample (default 0; recorded in run.json)")
    sp.add_argument("--replay-of", metavar="RUN", help="re-run live with that run's inputs, pinned profile, sample")
    sp.add_argument("--allow-profile-change", action="store_true",
                    help="with --replay-of and -p: accept a profile whose sha256 differs from the recorded one")
    for action in sp._actions:  # with --replay-of, the inventory and profile come from the replayed run
        if action.dest in ("inventory", "profile"):
            action.required = False


def audit_args(a: argparse.Namespace) -> list[str]:
    args: list[str] = []
    for flag, value in (
        ("--preuve-previous", getattr(a, "previous", None)),
        ("--preuve-ledger", getattr(a, "ledger", None)),
        ("--preuve-sign-key", getattr(a, "sign_key", None)),
        ("--preuve-sample", getattr(a, "sample", None)),
        ("--preuve-seed", getattr(a, "seed", None)),
        ("--preuve-replay-of", getattr(a, "replay_of", None)),
    ):
        if value is not None:
            args += [flag, str(value)]
    return args


def prepare_run(a: argparse.Namespace) -> int | None:
    """Fill a live replay's inputs from the recorded run; refuse a changed profile unless told. None = go on."""
    src = getattr(a, "replay_of", None)
    if not src:
        if not getattr(a, "inventory", None) or not getattr(a, "profile", None):
            print("preuve run: -i/--inventory and -p/--profile are required (or --replay-of RUN)", file=sys.stderr)
            return int(Exit.USAGE)
        return None
    from preuve.inputs.errors import InputError
    from preuve.inputs.profile import load_profile

    src = Path(src)
    try:
        rec = json.loads((src / "run.json").read_text())
    except (OSError, ValueError) as exc:
        print(f"preuve run --replay-of: {src}: not a run directory ({exc})", file=sys.stderr)
        return int(Exit.USAGE)
    pinned = src / "inputs" / "profile" / rec["profile"]["file"]
    a.inventory = a.inventory or src / "inputs" / "inventory.yaml"
    if a.profile:
        try:
            given = load_profile(a.profile).sha256
        except InputError as exc:
            for p in exc.problems:
                print(p, file=sys.stderr)
            return int(Exit.INVALID_INPUT)
        if given != rec["profile"]["sha256"] and not a.allow_profile_change:
            print(
                f"preuve run --replay-of: profile {a.profile} has sha256 {given}, the replayed run used "
                f"{rec['profile']['sha256']} ({pinned}); nothing scanned. Use the recorded profile, or say "
                "--allow-profile-change.",
                file=sys.stderr,
            )
            return int(Exit.INVALID_INPUT)
    else:
        a.profile = pinned
    if a.waivers is None and (src / "inputs" / "waivers.yaml").exists():
        a.waivers = src / "inputs" / "waivers.yaml"
    sampling = rec.get("sampling")
    if sampling and a.sample is None:
        a.sample, a.seed = sampling["size"], sampling["seed"]
    return None


def cmd_keygen(a: argparse.Namespace) -> int:
    from preuve.evidence.signing import fingerprint, keygen

    try:
        pub = keygen(Path(a.key))
    except FileExistsError as exc:
        print(f"preuve keygen: {exc}", file=sys.stderr)
        return int(Exit.USAGE)
    print(f"private key: {a.key} (mode 0600, keep it off the scanned infrastructure)")
    print(f"public key:  {pub} (hand it to the auditor)")
    print(f"fingerprint: sha256 {fingerprint(pub.read_bytes())}")
    return 0


def cmd_verify(a: argparse.Namespace) -> int:
    from preuve.evidence.ledger import verify_chain
    from preuve.evidence.signing import verify_signature
    from preuve.report.manifest import verify_manifest

    run = Path(a.run)
    problems = [f"{run}: {p}" for p in verify_manifest(run)]
    sig_problems, fp = verify_signature(run, Path(a.key) if a.key else None)
    problems += [f"{run}: {p}" for p in sig_problems]
    ok = [] if problems else [f"{run}: every file matches MANIFEST.sha256"]
    if fp:
        how = "the trusted key given" if a.key else "the key copied in the run (pass --key to pin the signer)"
        ok.append(f"{run}: MANIFEST.sha256 signed by {fp} ({how})")
    ledger = Path(a.ledger) if a.ledger else None
    try:
        chain = json.loads((run / "run.json").read_text()).get("chain")
    except (OSError, ValueError):
        chain = None
    if ledger is None and chain:
        ledger = (run / chain["ledger"]).resolve()
        if not ledger.exists():  # a run handed over alone: its own files can still be checked
            ok.append(f"{run}: hash chain not checked, {ledger} not found (give the scope's ledger with --ledger)")
            ledger = None
    if ledger is not None:
        chain_problems = verify_chain(ledger, run)
        problems += [f"chain: {p}" for p in chain_problems]
        if not chain_problems:
            ok.append(f"{run}: hash chain intact ({ledger})")
    for p in problems:
        print(p, file=sys.stderr)
    for line in ok:
        print(line)
    return int(Exit.INTEGRITY) if problems else 0


def cmd_diff(a: argparse.Namespace) -> int:
    from preuve.results.diff import diff_runs, summary_lines

    for d in (a.a, a.b):
        if not (Path(d) / "results.jsonl").is_file():
            print(f"preuve diff: {d}: no results.jsonl", file=sys.stderr)
            return int(Exit.USAGE)
    d = diff_runs(Path(a.a), Path(a.b))
    if a.out:
        Path(a.out).write_text(json.dumps(d, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    print("\n".join(summary_lines(d, a.lang)))
    return 1 if d["counts"]["regressions"] else 0


def cmd_report(a: argparse.Namespace) -> int:
    from preuve.report.html import write_report

    run = Path(a.run)
    out = Path(a.out) if a.out else run.with_name(f"{run.name}-report.{a.lang}.html")
    print(write_report(run, a.lang, out))
    return 0


def cmd_coverage(a: argparse.Namespace) -> int:
    from preuve.inputs.errors import InputError
    from preuve.inputs.profile import load_profile
    from preuve.report.coverage import as_json, coverage, profile_checks, totals, unknown_requirements

    try:
        profile = load_profile(a.profile)
    except InputError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        return int(Exit.INVALID_INPUT)
    checks = profile_checks(profile)
    rows = coverage(checks)
    for r in unknown_requirements(checks):
        print(f"preuve coverage: a check names requirement {r}, which SecNumCloud 3.2 does not have", file=sys.stderr)
    if a.format == "json":
        print(json.dumps(as_json(rows), indent=2, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("requirement", "kind", "coverage", "checks", "text")
    for c in rows:
        if a.all or c.level != "manual":
            table.add_row(c.requirement.id, c.requirement.kind, c.level, ", ".join(c.checks), c.requirement.text[:80])
    console = Console()
    console.print(table)
    t = totals(rows)
    console.print(f"{profile.id} {profile.version}: {len(rows)} SecNumCloud 3.2 requirements — "
                  + ", ".join(f"{k} {v}" for k, v in t.items())
                  + ("" if a.all else " (manual rows hidden; --all shows them)"))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    k = sub.add_parser("keygen", help="create an Ed25519 key pair that signs run manifests (--sign-key)")
    k.add_argument("key", help="private key file to create (the public key goes next to it, .pub.pem)")
    k.set_defaults(func=cmd_keygen)

    d = sub.add_parser("diff", help="compare two runs: new failures, fixed, persisting (exit 1 on regressions)")
    d.add_argument("a", help="the earlier run directory")
    d.add_argument("b", help="the later run directory")
    d.add_argument("-o", "--out", help="write diff.json here")
    d.add_argument("--lang", default="fr", choices=["fr", "en"])
    d.set_defaults(func=cmd_diff)

    r = sub.add_parser("report", help="(re)generate report.html from a run directory, e.g. in English")
    r.add_argument("run")
    r.add_argument("-o", "--out", help="output file (default: <run>-report.<lang>.html next to the run)")
    r.add_argument("--lang", default="fr", choices=["fr", "en"])
    r.set_defaults(func=cmd_report)

    c = sub.add_parser("coverage", help="which SecNumCloud 3.2 requirements a profile automates, partly or not")
    c.add_argument("profile")
    c.add_argument("--format", choices=["table", "json"], default="table")
    c.add_argument("--all", action="store_true", help="list manual requirements too")
    c.set_defaults(func=cmd_coverage)


def add_verify_options(v: argparse.ArgumentParser) -> None:
    v.add_argument("--key", help="the signer's trusted public key (PEM); without it the run's own copy is used")
    v.add_argument("--ledger", help="the scope's ledger.jsonl (default: the one run.json names)")
    v.set_defaults(func=cmd_verify)
