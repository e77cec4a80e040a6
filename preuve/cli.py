"""The `preuve` command: run, lint, judge, verify, checks, lab, demo.

Exit codes (preuve.exitcodes): 0 compliant, 1 non-compliant, 2 incomplete (some target could not be
observed), 3 invalid input (nothing scanned), 4 usage or internal error, 5 integrity failure (verify).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn, cast

from preuve import __version__
from preuve.exitcodes import Exit


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2, which means "incomplete" here
        self.print_usage(sys.stderr)
        self.exit(int(Exit.USAGE), f"{self.prog}: error: {message}\n")


UNUSED_PYTEST_PLUGINS = (
    "doctest",
    "junitxml",
    "pastebin",
    "unittest",
    "stepwise",
    "setuponly",
    "setupplan",
    "legacypath",
    "recwarn",
    "tmpdir",
    "monkeypatch",
    "faulthandler",
    "debugging",
    "logging",
    "unraisableexception",
    "threadexception",
)


PROFILE_HELP = "profile YAML, or the name of a shipped profile (secnumcloud-3.2, secnumcloud-3.2-caas, ci-quick)"


def _pytest_args(a: argparse.Namespace) -> list[str]:
    from preuve.judge.catalogue import checks_dir
    from preuve.judge.packs import PackError, pack_dirs, use

    use(getattr(a, "checks_dir", None))
    root = checks_dir()
    try:
        packs = [str(d) for d in pack_dirs()]
    except PackError:
        packs = []  # the catalogue reports it (a collection error naming the pack)
    args = [
        str(root),
        *packs,
        "-c",
        str(root / "pytest.ini"),
        "--rootdir",
        str(root),
        "-p",
        "no:terminal",
        "-p",
        "no:cacheprovider",
        "--assert=plain",  # checks state expectations through `judge`, never `assert`: no rewriting to pay for
        "--capture=no",  # checks never print (they judge recorded facts): no per-test fd swap and read-back (~10 %)
    ]
    for unused in UNUSED_PYTEST_PLUGINS:  # a scan is not a test session: skip what it never uses (start-up time)
        args += ["-p", f"no:{unused}"]
    for flag, value in (
        ("--preuve-inventory", getattr(a, "inventory", None)),
        ("--preuve-profile", a.profile),
        ("--preuve-out", a.out),
        ("--preuve-waivers", a.waivers),
        ("--preuve-netns", getattr(a, "netns", None)),
        ("--preuve-timeout", getattr(a, "timeout", None)),
        ("--preuve-lang", a.lang),
        ("--preuve-replay", getattr(a, "replay", None)),
    ):
        if value is not None:
            args += [flag, str(value)]
    args += ["--preuve-concurrency", str(getattr(a, "concurrency", 32))]
    for sel in a.select or []:
        args += ["--preuve-select", sel]
    if a.quiet:
        args.append("--preuve-quiet")
    if getattr(a, "progress", None):
        args += ["--preuve-progress", a.progress]
    from preuve.report.audit_cli import audit_args

    return args + _scope_args(a) + audit_args(a)


def _scope_args(a: argparse.Namespace) -> list[str]:
    """--shard, --only, --targets-file, --fail-on (run and judge) as plugin options."""
    args = []
    for flag, value in (
        ("--preuve-shard", getattr(a, "shard", None)),
        ("--preuve-targets-file", getattr(a, "targets_file", None)),
        ("--preuve-fail-on", getattr(a, "fail_on", None)),
    ):
        if value is not None:
            args += [flag, str(value)]
    for name in getattr(a, "only", None) or []:
        args += ["--preuve-only", name]
    return args


def add_scope_options(sp: argparse.ArgumentParser) -> None:
    from preuve.severity import SEVERITIES

    sp.add_argument("--shard", metavar="I/N", help="only shard I of N (1-based); merge shards with `preuve merge`")
    sp.add_argument("--only", nargs="+", metavar="NAME", help="only these targets (names or globs)")
    sp.add_argument("--targets-file", metavar="FILE", help="only the targets listed in FILE (one per line)")
    sp.add_argument("--fail-on", choices=SEVERITIES, help="exit 1 only for failures of this severity or worse")


def cmd_merge(a: argparse.Namespace) -> int:
    from preuve.run.merge import MergeError, merge

    try:
        return int(merge([Path(d) for d in a.shards], Path(a.out), lang=a.lang, quiet=a.quiet))
    except MergeError as exc:
        print(f"preuve merge: {exc}", file=sys.stderr)
        return int(Exit.USAGE)


# Set by `main` when it runs as the process's own command (argv from sys.argv): the process ends when it returns.
_OWN_PROCESS = False


def _collect_less() -> None:
    """A scan is a short process whose objects mostly live until it exits (modules, pydantic schemas, pytest's
    items, the recorded facts). The cyclic collector's defaults suit long-running programs: here it walked those
    objects again and again (~40 ms of a 1-endpoint run, ~200 ms at 100 endpoints; at 50,000 still three
    collections of 15-28 ms each, holding the interpreter lock the TLS probes wait on). Young objects are collected
    after 1,000,000 allocations instead of 700: a run below that collects nothing, a larger one as much as before
    in fewer, longer passes (the work grows with what survives, not with the threshold); what exists once the
    checks are collected is frozen (`_freeze_after_collection`)."""
    import gc

    gc.set_threshold(1_000_000, 10, 10)


def _freeze_after_collection() -> object:
    """pytest plugin of `preuve run`/`judge` in their own process: once the checks are collected (before the
    observations), the imported modules, inputs and collected items are moved out of the collector's reach
    (gc.freeze): they live until the process exits, so walking them again would find nothing."""
    import gc

    import pytest

    class FreezeAfterCollection:
        @pytest.hookimpl(tryfirst=True)  # before preuve's plugin starts the observations in the same hook
        def pytest_collection_finish(self) -> None:
            gc.freeze()

    return FreezeAfterCollection()


def _pytest(args: list[str]) -> int:
    import os

    import pytest

    # Only preuve's plugin: other pytest plugins installed alongside must not change (or break) a scan,
    # and an auditor replaying a run gets the same judge whatever else the environment holds.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugins = [_freeze_after_collection()] if _OWN_PROCESS else []
    code = int(pytest.main(["-p", "preuve.run.plugin", *args], plugins=plugins))
    # pytest's own codes for a run that never reached judging (collection error, internal error).
    return code if code in {e.value for e in Exit} else int(Exit.USAGE)


def cmd_run(a: argparse.Namespace) -> int:
    from preuve.report.audit_cli import prepare_run

    refused = prepare_run(a)  # --replay-of: recorded inputs, pinned profile, same sample
    if refused is not None:
        return refused
    return _pytest(_pytest_args(a))


def cmd_import(a: argparse.Namespace) -> int:
    """`preuve import ansible|kubeconfig` (preuve.inputs.ansible: its models are built only for this command)."""
    from preuve.inputs.ansible import cmd_import as run_import

    return run_import(a)


def cmd_judge(a: argparse.Namespace) -> int:
    a.replay, a.inventory, a.netns, a.timeout = a.run, None, None, None
    return _pytest(_pytest_args(a))


def cmd_lint(a: argparse.Namespace) -> int:
    """Every problem of every input at once (exit 3 if any), then warnings that do not block a run: waivers
    expired or matching nothing, a profile that selects no check."""
    from preuve.inputs.errors import InputError, InputProblem
    from preuve.inputs.inventory import load_inventory
    from preuve.inputs.profile import load_profile
    from preuve.inputs.waivers import load_waivers, waiver_warnings
    from preuve.judge.catalogue import CatalogueError, load_catalogue
    from preuve.textsafe import terminal_line

    problems: list[str] = []
    warnings: list[InputProblem] = []
    loaded: dict[str, object] = {}

    def waivers_of(path: str) -> object:
        profile = loaded.get("profile")
        return load_waivers(path, profile.params.waivers.max_days if profile else 365)  # type: ignore[attr-defined]

    for key, loader, path in (
        ("inventory", load_inventory, a.inventory),
        ("profile", load_profile, a.profile),
        ("waivers", waivers_of, a.waivers),
    ):
        if path is None:
            continue
        try:
            loaded[key] = loader(path)
        except InputError as exc:
            problems += [str(p) for p in exc.problems]
            continue
        if key == "inventory":  # the namespaces a run would enter exist on this machine
            from preuve.inputs.inventory import namespace_problems
            from preuve.observe.network.netns import problem

            inventory, where = cast(tuple[Any, Any], loaded[key])  # (Inventory, Located)
            problems += [str(p) for p in namespace_problems(inventory, where, problem)]
    if a.inventory:  # flows without justification (13.1.a): a lint error, a failed check in a run
        from preuve.inputs.flows import justification_problems

        problems += [str(p) for p in justification_problems(a.inventory)]
    catalogue: dict[str, Any] = {}
    from preuve.judge.packs import use

    use(a.checks_dir)
    try:
        catalogue = load_catalogue()
    except CatalogueError as exc:
        problems.append(f"checks catalogue: {terminal_line(str(exc))}")
    if "profile" in loaded and catalogue:
        profile = loaded["profile"]
        if not any(
            profile.selected(i.id, list(i.spec.tags), list(i.spec.requirements))  # type: ignore[attr-defined]
            for i in catalogue.values()
        ):
            path = profile.files[-1]  # type: ignore[attr-defined]
            warnings.append(
                InputProblem(
                    Path(path),
                    1,
                    "select",
                    "warning: this profile selects no check of the catalogue: a run would judge nothing",
                )
            )
    if "waivers" in loaded and loaded["waivers"][1] is not None:  # type: ignore[index]
        from preuve.inputs.targets import targets

        waivers, located = cast(tuple[Any, Any], loaded["waivers"])  # (list[Waiver], Located)
        names = None
        if "inventory" in loaded:
            names = sorted({t.name for ts in targets(loaded["inventory"][0]).values() for t in ts})  # type: ignore[index]
        warnings += waiver_warnings(waivers, located, sorted(catalogue), names)
    for p in problems:
        print(p, file=sys.stderr)
    for w in warnings:
        print(w, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s): invalid input", file=sys.stderr)
        return int(Exit.INVALID_INPUT)
    print(f"inputs are valid ({len(warnings)} warning(s))" if warnings else "inputs are valid")
    return int(Exit.COMPLIANT)


def cmd_verify(a: argparse.Namespace) -> int:
    from preuve.report.audit_cli import cmd_verify as verify  # manifest, signature, hash chain

    return verify(a)


def _lab_unusable() -> list[str]:
    """Why the lab cannot run from this install (nothing imported, nothing started): the package, its S3
    stand-in (moto, the preuve[lab] extra) and the checkout files it reads (inventories/lab.yaml). A wheel install
    has none of the last, so `preuve lab`/`preuve demo` must refuse before they touch any namespace."""
    import importlib.util

    spec = importlib.util.find_spec("preuve_lab")
    if spec is None or spec.origin is None:
        return ["the lab package (preuve_lab) is not installed"]
    missing = []
    if importlib.util.find_spec("moto") is None:
        missing.append("its S3 stand-in moto (the preuve[lab] extra) is not installed")
    if not (Path(spec.origin).resolve().parents[1] / "inventories" / "lab.yaml").exists():
        missing.append("this is not a checkout of preuve (no inventories/lab.yaml beside the lab package)")
    return missing


def _lab_missing(reasons: list[str]) -> int:
    print(
        f"preuve: the lab is not available here: {'; '.join(reasons)}. It ships apart from the scanner: from a "
        "checkout of preuve, run `pip install -e '.[lab]'` (the lab also needs root, sshd, nginx and network "
        "namespaces).",
        file=sys.stderr,
    )
    return int(Exit.USAGE)


def cmd_lab(a: argparse.Namespace) -> int:
    if reasons := _lab_unusable():
        return _lab_missing(reasons)
    from preuve_lab.cli import main as lab_main

    return int(
        lab_main(
            [
                a.action,
                *(["--hosts", str(a.hosts)] if a.hosts else []),
                *(["--drift"] if getattr(a, "drift", False) else []),
                *(["--force"] if getattr(a, "force", False) else []),
            ]
        )
    )


def cmd_demo(a: argparse.Namespace) -> int:
    if reasons := _lab_unusable():
        return _lab_missing(reasons)
    from preuve.demo import demo

    return demo(a, cmd_run)


def build_parser() -> argparse.ArgumentParser:
    from preuve.report import audit_cli

    p = Parser(prog="preuve", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"preuve {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    def common(sp: argparse.ArgumentParser, *, inventory: bool = True) -> None:
        if inventory:
            sp.add_argument("-i", "--inventory", required=True, help="inventory YAML")
        sp.add_argument("-p", "--profile", help=PROFILE_HELP, required=inventory)
        sp.add_argument("-w", "--waivers", help="waivers (dérogations) YAML")
        sp.add_argument("-o", "--out", help="run directory to create (default reports/run-<UTC time>)")
        sp.add_argument("--select", action="append", help="only these check ids (glob, repeatable)")
        sp.add_argument("--lang", default="fr", choices=["fr", "en"])
        sp.add_argument("-q", "--quiet", action="store_true")
        sp.add_argument(
            "--checks-dir",
            action="append",
            metavar="DIR",
            help="a check pack of your own (folder with check_*.py and catalogue.yaml; repeatable)",
        )
        add_scope_options(sp)

    r = sub.add_parser("run", help="observe the inventory and judge it against a profile")
    common(r)
    r.add_argument("--concurrency", type=int, default=32, help="observations in flight (default 32)")
    r.add_argument("--timeout", type=float, help="seconds per network operation (default: profile)")
    r.add_argument("--netns", help="run the scan from this network namespace")
    r.add_argument(
        "--progress",
        choices=["auto", "bar", "plain", "none"],
        help="observation progress on stderr: auto (bar on a terminal, plain lines otherwise, none with -q)",
    )
    r.set_defaults(func=cmd_run)
    audit_cli.add_run_audit_options(r)

    j = sub.add_parser("judge", help="re-judge a recorded run offline (optionally with another profile)")
    j.add_argument("run", help="run directory")
    common(j, inventory=False)
    j.set_defaults(func=cmd_judge)
    audit_cli.add_run_audit_options(j, live=False)

    lint = sub.add_parser("lint", help="validate inputs without scanning")
    lint.add_argument("-i", "--inventory")
    lint.add_argument("-p", "--profile", help=PROFILE_HELP)
    lint.add_argument("-w", "--waivers")
    lint.add_argument("--checks-dir", action="append", metavar="DIR", help="a check pack of your own (repeatable)")
    lint.set_defaults(func=cmd_lint)

    v = sub.add_parser("verify", help="what a run directory proves: manifest, evidence, signature, hash chain")
    v.add_argument("run", nargs="+", help="run directories (each gets its own verdict)")
    v.set_defaults(func=cmd_verify)
    audit_cli.add_verify_options(v)

    from preuve.report import checks_listing

    imp = sub.add_parser("import", help="hosts from an Ansible inventory or a cluster's nodes into an inventory")
    imp.add_argument("kind", choices=["ansible", "kubeconfig"])
    imp.add_argument("source", help="Ansible inventory (INI, YAML, `ansible-inventory --list` JSON) or kubeconfig")
    imp.add_argument("--rules", help="YAML: name, defaults, sites, zones, group -> zone/site/tags mapping")
    imp.add_argument("--context", help="kubeconfig: context to use (default: the current one)")
    imp.add_argument("-o", "--out", help="inventory YAML to write (default: stdout)")
    imp.set_defaults(func=cmd_import)
    from preuve import init_inputs, schemas, shell_completion

    init_inputs.add_parser(sub)  # preuve init: a commented starter inventory
    schemas.add_parser(sub)  # preuve schema: JSON Schema of the inputs
    shell_completion.add_parser(sub, p)  # preuve completion bash|zsh

    checks_listing.add_parser(sub)  # list with filters, JSON, describe ID

    lab = sub.add_parser("lab", help="the local lab (network namespaces with real sshd and nginx)")
    lab.add_argument("action", choices=["up", "down", "status", "inventory"])
    lab.add_argument("--hosts", type=int, default=0, help="up/inventory: N extra sshd hosts (the fleet)")
    lab.add_argument("--drift", action="store_true", help="up: router rules with the flow matrix's deliberate drift")
    lab.add_argument("--force", action="store_true", help="up: rebuild even if healthy (after changing lab code)")
    lab.set_defaults(func=cmd_lab)

    m = sub.add_parser("merge", help="merge the run directories of a sharded sweep into one run")
    m.add_argument("shards", nargs="+", help="shard run directories (every shard i/n exactly once)")
    m.add_argument("-o", "--out", required=True, help="run directory to create")
    m.add_argument("--lang", default="fr", choices=["fr", "en"])
    m.add_argument("-q", "--quiet", action="store_true")
    m.set_defaults(func=cmd_merge)

    d = sub.add_parser("demo", help="bring the lab up, scan it with the full profile, write the reports")
    d.add_argument("-o", "--out", default="reports/demo", help="run directory (replaced if it exists)")
    d.add_argument("--lang", default="fr", choices=["fr", "en"])
    d.set_defaults(func=cmd_demo)
    audit_cli.register(sub)  # keygen, diff, report, coverage
    return p


def main(argv: list[str] | None = None) -> int:
    global _OWN_PROCESS
    if argv is None:  # the process's own command line (console script, python -m preuve): it ends with us
        _OWN_PROCESS = True
        _collect_less()
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args))
    except KeyboardInterrupt:
        return int(Exit.INCOMPLETE)
    if _OWN_PROCESS and args.func in (cmd_run, cmd_judge):  # every output written: no interpreter teardown
        from preuve.run.finish import exit_process

        return exit_process(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
