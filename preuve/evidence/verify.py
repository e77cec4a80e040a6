"""`preuve verify`: what a run directory proves, said for every run, and every reason it does not.

Checked, in order: the files against MANIFEST.sha256 (every entry walked, hidden ones included, symbolic links
refused, manifest lines outside the run refused and never read); that the run is whole (run.json, results.jsonl
listed, judging finished); that every result cites evidence the manifest lists with the same sha256, recorded
for that very target; the signature (against pinned keys when given: `--key`, `--trust`; otherwise against the
run's own copy, which must be the signer run.json names); the hash chain up to this run. Each verdict is stated
(signed or not, key pinned or not, chain checked or not), so "exit 0" never hides what was not proven.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preuve.evidence.manifest import read_manifest, verify_manifest
from preuve.evidence.store import same_target


class VerifyInputError(Exception):
    """A bad argument (key, trust store, ledger path): exit 3, nothing is claimed about the run."""


@dataclass
class Verdict:
    run: Path
    problems: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_bytes().decode("utf-8"))


def _results(run: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[str] = []
    try:
        text = (run / "results.jsonl").read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"results.jsonl: cannot be read ({type(exc).__name__})"]
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            if (
                not isinstance(r, dict)
                or not isinstance(r.get("evidence"), list)
                or not isinstance(r.get("target"), dict)
            ):
                raise ValueError("not a result record")
            rows.append((n, r))
        except ValueError as exc:
            problems.append(f"results.jsonl:{n}: not a result record ({str(exc)[:80]})")
    return rows, problems


KindsOf = Callable[[str], Iterable[str]]  # the target kinds a collector observes (the engine's registry().kinds)


def _no_kinds(collector: str) -> Iterable[str]:
    return ()


def evidence_problems(
    run: Path,
    listed: dict[str, str],
    rows: list[tuple[int, dict[str, Any]]],
    *,
    content: bool = True,
    kinds_of: KindsOf = _no_kinds,
) -> tuple[dict[str, str], list[str]]:
    """({path: sha256} admitted, problems): each result's evidence is listed in the manifest with the sha256 the
    result records, lives under observations/, and is the evidence of that result's target (by its path and by
    the identity written in it; `content=False` skips reading the files: the judge reads them itself and turns
    one that records another target, or cannot be read, into `error` for the pairs that cite it). `kinds_of` names
    the kinds a collector observes (two kinds of one machine share an observation); without it, kinds must match."""
    admitted: dict[str, str] = {}
    problems: list[str] = []
    seen: dict[str, Any] = {}  # path -> the parsed observation, None (unreadable) or "changed"
    for n, r in rows:
        t = r["target"]
        who = f"results.jsonl:{n}: {r.get('check_id')}[{t.get('name')}]"
        for e in r["evidence"]:
            if not isinstance(e, dict):
                problems.append(f"{who} cites a malformed evidence entry ({type(e).__name__})")
                continue
            path, digest = e.get("path"), e.get("sha256")
            if not isinstance(path, str) or path not in listed:
                problems.append(f"{who} cites {path!r}, which the manifest does not list")
                continue
            if digest != listed[path]:
                problems.append(
                    f"{who} cites {path} with sha256 {str(digest)[:16]}…, the file listed has "
                    f"{listed[path][:16]}… (the result and its evidence disagree)"
                )
                continue
            parts = path.split("/")
            if len(parts) != 3 or parts[0] != "observations" or not parts[2].endswith(".json"):
                problems.append(f"{who} cites {path}, which is not an observation file")
                continue
            if parts[2] != f"{t.get('name')}.json":
                problems.append(f"{who} cites {path}, the evidence of another target ({parts[2][:-5]})")
                continue
            if not content:  # re-judging: what the file says is judged per pair (EvidenceStore), not here
                admitted[path] = digest
                continue
            if path not in seen:
                try:
                    data = (run / path).read_bytes()
                    # a file changed since the manifest is named by the manifest check, not once per result
                    seen[path] = json.loads(data) if hashlib.sha256(data).hexdigest() == digest else "changed"
                except (OSError, ValueError):
                    seen[path] = None
            obs = seen[path]
            if obs == "changed":
                continue
            want = {k: t.get(k) for k in ("kind", "name", "address", "port")}
            if not isinstance(obs, dict) or obs.get("collector") != parts[1] or obs.get("target") != t.get("name"):
                problems.append(f"{who} cites {path}, which does not record {parts[1]} of {t.get('name')}")
            elif not same_target(obs.get("identity"), want, frozenset(kinds_of(parts[1]))):
                problems.append(f"{who} cites {path}, recorded for {obs.get('identity')}, not for {want}")
            else:
                admitted[path] = digest
    return admitted, problems


def admit_for_judging(run: Path) -> tuple[dict[str, str], list[str]]:
    """What `preuve judge` may read from a recorded run: the manifest must hold (every entry, no link) and
    every result's evidence must be what the manifest lists. Any problem refuses the re-judging."""
    problems = verify_manifest(run)
    listed, _ = read_manifest(run)
    rows, row_problems = _results(run) if "results.jsonl" in listed else ([], ["results.jsonl: not in the run"])
    try:
        admitted, ev_problems = evidence_problems(run, listed, rows, content=False)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        admitted, ev_problems = {}, [f"results.jsonl: not results preuve wrote ({type(exc).__name__})"]
    return admitted, problems + row_problems + ev_problems


def verify_run(
    run: Path,
    trusted: list[tuple[str, bytes, str]] | None,
    ledger: Path | None,
    no_chain: bool,
    kinds_of: KindsOf = _no_kinds,
) -> Verdict:
    v = Verdict(run)
    say, bad = v.said.append, v.problems.append
    if not run.is_dir():
        raise VerifyInputError(f"{run}: not a directory")
    # files
    problems = verify_manifest(run)
    listed, _ = read_manifest(run)
    v.problems += problems
    if not problems:
        say(
            f"files: every file matches MANIFEST.sha256 ({len(listed)} files; every entry walked, hidden ones "
            "included, no symbolic link)"
        )
    else:
        say(f"files: FAILED ({len(problems)} problem(s))")
    # a whole run
    info: dict[str, Any] = {}
    for core in ("run.json", "results.jsonl"):
        if core not in listed:
            bad(f"{core}: not in the manifest: not a complete run")
    if "run.json" in listed:
        try:
            info = _read_json(run / "run.json")
            if not isinstance(info, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            bad(f"run.json: unreadable ({type(exc).__name__})")
            info = {}
    rows: list[tuple[int, dict[str, Any]]] = []
    if "results.jsonl" in listed:
        rows, row_problems = _results(run)
        v.problems += row_problems
    judging = info.get("judging")
    if not isinstance(judging, dict):
        bad("run.json does not record that judging finished (no `judging`): a partial or foreign run")
    elif not judging.get("complete") or judging.get("planned") != len(rows):
        bad(
            f"the run did not finish judging ({judging.get('reason') or 'incomplete'}): {len(rows)} results for "
            f"{judging.get('planned')} planned check × target pairs"
        )
    elif not rows:
        say(
            "judging: NOTHING WAS JUDGED (0 planned check × target pairs): this run proves nothing about the "
            "infrastructure"
        )
    else:
        say(f"judging: complete ({len(rows)} results for {judging['planned']} planned check × target pairs)")
    # results -> evidence
    _, ev_problems = evidence_problems(run, listed, rows, kinds_of=kinds_of)
    v.problems += ev_problems
    if rows and not ev_problems:
        say(
            f"evidence: each of the {len(rows)} results cites evidence listed in the manifest with its sha256, "
            "recorded for that very target"
        )
    _signature(v, info, trusted)
    _chain(v, info, ledger, no_chain)
    return v


def _signature(v: Verdict, info: dict[str, Any], trusted: list[tuple[str, bytes, str]] | None) -> None:
    from preuve.evidence.signing import PUB, SIG, check_with, fingerprint_or_none

    run, say, bad = v.run, v.said.append, v.problems.append
    signer = info.get("signer")
    claimed = signer.get("fingerprint") if isinstance(signer, dict) else None
    sig = run / SIG
    if trusted:
        if not sig.is_file():
            bad(f"{SIG}: missing: the run is not signed, and a trusted key was given")
            say("signature: NOT SIGNED (a signature by a pinned key was required)")
            return
        for fp, pem, name in trusted:
            if check_with(run, pem):
                if claimed and claimed != fp:
                    bad(f"run.json names signer {claimed}, the signature is by {fp}")
                say(f"signature: MANIFEST.sha256 signed by {fp}, key pinned ({name})")
                return
        own = fingerprint_or_none(run / PUB)
        fps = ", ".join(fp[:16] + "…" for fp, _, _ in trusted)
        bad(
            f"{SIG}: the signature does not match MANIFEST.sha256 for the trusted key(s) {fps}: signed by a key "
            f"not in the trust store" + (f" (the run's own copy is {own[:16]}…)" if own else "")
        )
        say("signature: FAILED (no pinned key verifies it)")
        return
    if not sig.is_file():
        if claimed:
            bad(f"run.json names signer {claimed} but {SIG} is missing: the signature was stripped")
            say("signature: FAILED (stripped)")
        else:
            say(
                "signature: NOT SIGNED (so no key, pinned or not): nothing proves who produced this run or that it "
                "was not rewritten (sign with `preuve run --sign-key`, verify with --key or --trust)"
            )
        return
    pem_path = run / PUB
    if not pem_path.is_file():
        bad(f"{PUB}: missing, and no trusted public key given (--key/--trust)")
        return
    own_fp = fingerprint_or_none(pem_path)
    if own_fp is None or not check_with(run, pem_path.read_bytes()):
        bad(f"{SIG}: the signature does not match MANIFEST.sha256 for key {(own_fp or '?')[:16]} (the run's own copy)")
        say("signature: FAILED")
        return
    if claimed != own_fp:
        bad(
            f"run.json names signer {claimed or 'none'}, but the run is signed by {own_fp}: re-signed by another key"
            if claimed
            else f"run.json names no signer, but the run is signed by {own_fp}: signed after the fact"
        )
        say("signature: FAILED (not the signer run.json names)")
        return
    say(
        f"signature: MANIFEST.sha256 signed by {own_fp} (the signer run.json names), key NOT pinned: the run's own "
        "copy of the key proves the files are unchanged since signing, not who signed (pass --key or --trust)"
    )


def _chain(v: Verdict, info: dict[str, Any], ledger: Path | None, no_chain: bool) -> None:
    from preuve.evidence.ledger import LedgerError, verify_chain

    say, bad = v.said.append, v.problems.append
    chain = info.get("chain", "absent")
    if ledger is None and no_chain:
        say(
            "chain: NOT CHECKED (--no-chain): nothing proves that no run was removed before this one, or that "
            "this one was not replaced"
        )
        return
    if ledger is None:
        if not isinstance(chain, dict):
            bad(
                f"run.json records no chain (chain: {json.dumps(chain) if chain != 'absent' else 'absent'}): a "
                "run sealed by preuve is in a ledger or says why not; give --ledger, or --no-chain"
            )
            say("chain: NOT CHECKED (no chain record)")
            return
        if chain.get("ledger") is None:
            why = chain.get("outside")
            if not why:
                bad("run.json's chain names no ledger and no reason to be outside one")
                say("chain: NOT CHECKED")
            else:
                say(f"chain: NOT CHECKED: the run is outside any chain ({why}); give --ledger to check it against one")
            return
        ledger = (v.run / str(chain["ledger"])).resolve()
        if not ledger.is_file():
            bad(
                f"the run claims seq {chain.get('seq')} in the ledger {ledger}, which is not here: give the scope's "
                "ledger with --ledger, or --no-chain to verify this run alone"
            )
            say("chain: NOT CHECKED (the ledger the run names is missing)")
            return
    try:
        problems, seq = verify_chain(ledger, v.run)
    except LedgerError as exc:
        bad(f"chain: {exc}")
        say("chain: FAILED (unreadable ledger)")
        return
    v.problems += [f"chain: {p}" for p in problems]
    if problems:
        say(f"chain: FAILED ({ledger})")
    else:
        say(f"chain: checked up to seq {seq} in {ledger}: hash chain intact (runs after this one are not checked)")


def load_trust(keys: list[str], stores: list[str]) -> list[tuple[str, bytes, str]] | None:
    from preuve.evidence.signing import BadKey, load_public_keys

    trusted: list[tuple[str, bytes, str]] = []
    try:
        for k in keys:
            trusted += load_public_keys(Path(k), directory=False)
        for s in stores:
            trusted += load_public_keys(Path(s), directory=True)
    except BadKey as exc:
        raise VerifyInputError(str(exc)) from None
    return trusted or None
