"""The auditor's subcommands and run options: keygen, verify (manifest, signature, chain), diff, report,
coverage; `run --replay-of`, `--sample/--seed`, `--previous`, `--ledger`, `--sign-key`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preuve.exitcodes import Exit

if TYPE_CHECKING:
    from preuve.evidence.verify import Verdict


def add_run_audit_options(sp: argparse.ArgumentParser, *, live: bool = True) -> None:
    sp.add_argument("--previous", metavar="RUN", help="compare with this run (default: the ledger's latest run)")
    sp.add_argument("--ledger", metavar="PATH", help="the scope's hash chain (default: ledger.jsonl next to the run)")
    sp.add_argument("--sign-key", metavar="KEY", help="Ed25519 private key (`preuve keygen`) that signs the manifest")
    if not live:
        return
    sp.add_argument("--sample", metavar="N|FRACTION", help="sample N targets per kind, or a fraction (0.2, 20%%)")
    sp.add_argument("--seed", default=None, help="seed of the sample (default 0; recorded in run.json)")
    sp.add_argument("--replay-of", metavar="RUN", help="re-run live with that run's inputs, pinned profile, sample")
    sp.add_argument(
        "--allow-profile-change",
        action="store_true",
        help="with --replay-of and -p: accept a profile whose sha256 differs from the recorded one",
    )
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


def _verify_one(
    run: Path, trusted: list[tuple[str, bytes, str]] | None, ledger: Path | None, no_chain: bool
) -> Verdict:
    """A run whose files are not what preuve writes fails verification with a message, never a traceback."""
    from preuve.evidence.verify import Verdict, verify_run
    from preuve.observe.registry import registry

    try:
        return verify_run(run, trusted, ledger, no_chain, registry().kinds)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return Verdict(run, [f"not a run preuve wrote: {type(exc).__name__}: {str(exc)[:200]}"], [])


def cmd_verify(a: argparse.Namespace) -> int:
    """Every run named: what is proven and what is not, on stdout; each problem on stderr. Exit 5 on any
    integrity problem, 3 on a bad argument (key, trust store, ledger), 0 otherwise."""
    from preuve.evidence.verify import VerifyInputError, load_trust

    try:
        trusted = load_trust(a.key or [], a.trust or [])
        ledger = Path(a.ledger) if a.ledger else None
        if ledger is not None and not ledger.is_file():
            raise VerifyInputError(f"--ledger {ledger}: not found")
        verdicts = [_verify_one(Path(r), trusted, ledger, a.no_chain) for r in a.run]
    except VerifyInputError as exc:
        print(f"preuve verify: {exc}", file=sys.stderr)
        return int(Exit.INVALID_INPUT)
    failed = 0
    for v in verdicts:
        for p in v.problems:
            print(f"{v.run}: {p}", file=sys.stderr)
        for line in v.said:
            print(f"{v.run}: {line}")
        if v.problems:
            failed += 1
            print(f"{v.run}: FAILED: {len(v.problems)} problem(s), listed on stderr")
        else:
            print(f"{v.run}: VERIFIED (read the signature and chain lines above for what that covers)")
    return int(Exit.INTEGRITY) if failed else 0


def cmd_diff(a: argparse.Namespace) -> int:
    from preuve.results.diff import diff_runs, summary_lines

    for d in (a.a, a.b):
        if not (Path(d) / "results.jsonl").is_file():
            print(f"preuve diff: {d}: no results.jsonl", file=sys.stderr)
            return int(Exit.USAGE)
    try:
        d = diff_runs(Path(a.a), Path(a.b))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        print(
            f"preuve diff: a run is not readable as preuve wrote it ({type(exc).__name__}: {str(exc)[:200]}); "
            "check it with `preuve verify`",
            file=sys.stderr,
        )
        return int(Exit.INTEGRITY)
    if a.out:
        Path(a.out).write_text(json.dumps(d, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    print("\n".join(summary_lines(d, a.lang)))
    return 1 if d["counts"]["regressions"] else 0


def cmd_report(a: argparse.Namespace) -> int:
    from preuve.report.html import write_report

    run = Path(a.run)
    out = Path(a.out) if a.out else run.with_name(f"{run.name}-report.{a.lang}.html")
    if not (run / "results.jsonl").is_file() or not (run / "run.json").is_file():
        print(f"preuve report: {run}: not a run directory (no results.jsonl or run.json)", file=sys.stderr)
        return int(Exit.USAGE)
    try:
        print(write_report(run, a.lang, out))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        print(
            f"preuve report: {run} is not readable as preuve wrote it ({type(exc).__name__}: {str(exc)[:200]}); "
            "check it with `preuve verify`",
            file=sys.stderr,
        )
        return int(Exit.INTEGRITY)
    return 0


EXPORTS = ("junit", "sarif", "oscal", "ciso", "prowler")


def cmd_export(a: argparse.Namespace) -> int:
    """One output regenerated from a run, outside it (the run and its manifest stay as sealed): another path
    prefix for JUnit attachments, SARIF with every result, another language."""
    run_dir = Path(a.run)
    if not (run_dir / "results.jsonl").is_file() or not (run_dir / "run.json").is_file():
        print(f"preuve export: {run_dir}: not a run directory (no results.jsonl or run.json)", file=sys.stderr)
        return int(Exit.USAGE)
    out = Path(a.out)
    try:
        from preuve.results.jsonl import read_jsonl

        results = read_jsonl(run_dir / "results.jsonl")
        run = json.loads((run_dir / "run.json").read_text())
        if a.format == "junit":
            from preuve.report.junit import write_junit
            from preuve.results.model import Result

            write_junit(
                [Result.model_validate(r) for r in results],
                out,
                run,
                prefix=a.attachment_prefix,
                run_dir=run_dir,
                inventory_uri=a.inventory_uri,
                strict=a.strict,
            )
        elif a.format == "sarif":
            from preuve.report.sarif import write_sarif

            write_sarif(out, run_dir, a.lang, a.all_results, a.inventory_uri)
        elif a.format == "prowler":
            from preuve.report.prowler import write_prowler

            write_prowler(out, results)
        else:
            from preuve.report.exports import write_ciso_csv, write_oscal
            from preuve.report.html import run_coverage

            cov = run_coverage(run, results)
            if a.format == "oscal":
                write_oscal(out, results, run, cov, a.lang)
            else:
                write_ciso_csv(out, results, cov, a.lang)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        print(
            f"preuve export: {run_dir} is not readable as preuve wrote it ({type(exc).__name__}: "
            f"{str(exc)[:200]}); check it with `preuve verify`",
            file=sys.stderr,
        )
        return int(Exit.INTEGRITY)
    print(out)
    return 0


def cmd_coverage(a: argparse.Namespace) -> int:
    """Every requirement of the referential (278), its level computed from the elements the profile's checks
    evidence, and for a partial one the elements left to the auditor."""
    from preuve.inputs.errors import InputError
    from preuve.inputs.profile import load_profile
    from preuve.report.coverage import (
        as_json,
        coverage,
        profile_checks,
        totals,
        unknown_elements,
        unknown_requirements,
    )

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
    for e in unknown_elements(checks):
        print(
            f"preuve coverage: a check names element {e}, which preuve/data/secnumcloud-3.2.yaml does not define",
            file=sys.stderr,
        )
    for c in rows:
        for cid in c.unjustified:
            print(
                f"preuve coverage: {cid} names {c.requirement.id} without saying which element it evidences "
                "(counted for nothing)",
                file=sys.stderr,
            )
    if a.format == "json":
        print(json.dumps(as_json(rows), indent=2, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("requirement", "kind", "coverage", "checks", "left to the auditor", "text")
    for c in rows:
        if a.hide_manual and c.level == "manual":
            continue
        left = (
            "; ".join(f"{e.id} {e.text}" for e in c.left)
            if c.level == "partial"
            else ("" if c.level == "automated" else "all")
        )
        table.add_row(c.requirement.id, c.requirement.kind, c.level, ", ".join(c.checks), left, c.requirement.text[:60])
    console = Console()
    console.print(table)
    t = totals(rows)
    console.print(
        f"{profile.id} {profile.version}: {len(rows)} SecNumCloud 3.2 requirements — "
        + ", ".join(f"{k} {v}" for k, v in t.items())
        + (" (manual rows hidden)" if a.hide_manual else "")
    )
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
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

    e = sub.add_parser("export", help="regenerate one output of a run elsewhere: junit, sarif, oscal, ciso, prowler")
    e.add_argument("run")
    e.add_argument("--format", required=True, choices=EXPORTS)
    e.add_argument("-o", "--out", required=True, help="file to write (outside the run: its manifest stays valid)")
    e.add_argument("--lang", default="fr", choices=["fr", "en"])
    e.add_argument(
        "--attachment-prefix",
        metavar="P",
        help="junit: put P before evidence paths (default: the run directory relative to the current "
        "directory; '' for paths relative to the run)",
    )
    e.add_argument(
        "--inventory-uri",
        metavar="PATH",
        help="junit/sarif: the inventory's path in the repository (default: as given to preuve run)",
    )
    e.add_argument(
        "--strict",
        action="store_true",
        help="junit: only what Jenkins' junit-10.xsd allows (no file/line, no skipped on the root)",
    )
    e.add_argument("--all-results", action="store_true", help="sarif: passes and not-applicable too")
    e.set_defaults(func=cmd_export)

    c = sub.add_parser("coverage", help="which SecNumCloud 3.2 requirements a profile automates, partly or not")
    c.add_argument("profile")
    c.add_argument("--format", choices=["table", "json"], default="table")
    c.add_argument("--all", action="store_true", help="kept for compatibility: every requirement is listed")
    c.add_argument("--hide-manual", action="store_true", help="leave out the requirements no check evidences")
    c.set_defaults(func=cmd_coverage)


def add_verify_options(v: argparse.ArgumentParser) -> None:
    v.add_argument(
        "--key",
        action="append",
        help="a trusted signer's public key (PEM, repeatable); without "
        "--key or --trust the run's own copy is used, which does not prove who signed",
    )
    v.add_argument(
        "--trust",
        action="append",
        metavar="DIR|FILE",
        help="a trust store: a folder of *.pem public keys, or a file of PEM public keys; any other signer fails",
    )
    v.add_argument("--ledger", help="the scope's ledger.jsonl (default: the one run.json names)")
    v.add_argument(
        "--no-chain",
        action="store_true",
        help="verify a run handed over without its ledger (the chain is then reported NOT CHECKED)",
    )
    v.set_defaults(func=cmd_verify)
