"""Attacks on real, signed run directories (issue 14, points 1-4 and 13), each verified with a pinned key.

The runs are cheap and real: two OpenSSH servers on loopback (a hardened one, "good", and a weak one), judged
with the ci-quick profile's SSH checks and signed with a key made by `preuve keygen`. An attacker plants hidden
or symlinked evidence, points results at another target's evidence, strips or replaces the signature, hides the
chain, empties the run; a crashed judge must not seal a truncated run. `reseal` is what a producer holding the
operator's key (or a bug in a tool that signs) can make: the changed files re-listed, re-signed, the ledger line
rewritten, so that only the defect under test can catch the change.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
import yaml

from preuve.exitcodes import Exit
from tests.conftest import REPO, preuve
from tests.support.sshd_servers import SshdLab

CI_QUICK = REPO / "profiles" / "ci-quick.yaml"
PLANNED = 12  # 6 SSH checks of ci-quick x 2 endpoints


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    with SshdLab(tmp_path_factory.mktemp("sshd")) as lab:
        yield lab.start("good"), lab.start("weak")


@pytest.fixture(scope="module")
def inventory(servers, tmp_path_factory) -> Path:
    good, weak = servers
    path = tmp_path_factory.mktemp("inv") / "inventory.yaml"
    path.write_text(
        yaml.safe_dump(
            _inventory(
                [
                    {"name": "good", "address": "127.0.0.1", "port": good.port},
                    {"name": "weak", "address": "127.0.0.1", "port": weak.port},
                ]
            )
        )
    )
    return path


def _inventory(endpoints: list[dict], hosts: list[dict] | None = None) -> dict:
    return {
        "version": 1,
        "name": "loopback",
        "sites": [{"name": "p1", "country": "FR", "provider": "test"}],
        "zones": [{"name": "lo", "kind": "production", "cidrs": ["127.0.0.0/8"]}],
        "ssh_endpoints": endpoints,
        "hosts": hosts or [],
    }


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    for name in ("operator", "other"):
        assert preuve("keygen", d / f"{name}.pem").returncode == 0
    return {
        "key": d / "operator.pem",
        "pub": d / "operator.pub.pem",
        "other": d / "other.pem",
        "other_pub": d / "other.pub.pem",
        "dir": d,
    }


def _run(out: Path, inventory: Path, key: Path | None, *extra, profile: Path = CI_QUICK, env=None):
    sign = ("--sign-key", key) if key else ()
    return preuve("run", "-i", inventory, "-p", profile, "-o", out, "-q", *sign, *extra, env=env)


@pytest.fixture(scope="module")
def signed(inventory, keys, tmp_path_factory) -> Path:
    """scope/r1: one signed run; the weak server fails SSH-KEX, the good one passes."""
    scope = tmp_path_factory.mktemp("scope")
    proc = _run(scope / "r1", inventory, keys["key"])
    assert proc.returncode == Exit.NON_COMPLIANT, proc.stderr
    return scope


@pytest.fixture
def scope(signed, tmp_path) -> Path:
    dest = tmp_path / "scope"
    shutil.copytree(signed, dest, symlinks=True)
    return dest


def _results(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines() if x.strip()]


def _status(run: Path, check: str, target: str) -> str:
    return next(r["status"] for r in _results(run) if r["check_id"] == check and r["target"]["name"] == target)


def verify(run: Path, *args) -> object:
    return preuve("verify", run, *map(str, args))


def pinned(run: Path, keys) -> object:
    return verify(run, "--key", keys["pub"])


def _forged_weak(run: Path) -> bytes:
    """good's observation, retargeted at weak: what would make weak pass."""
    obs = json.loads((run / "observations" / "ssh_protocol" / "good.json").read_text())
    obs["target"] = "weak"
    if isinstance(obs.get("identity"), dict):
        obs["identity"]["name"] = "weak"
    return json.dumps(obs).encode()


def reseal(run: Path, key: Path | None, manifest_extra: str = "") -> None:
    """Re-list every file in MANIFEST.sha256 (as the old writer did), re-sign with `key`, rewrite the ledger line."""
    for name in ("MANIFEST.sha256.sig", "signer.pub.pem"):
        (run / name).unlink(missing_ok=True)
    lines = []
    for p in sorted(run.rglob("*")):
        if p.is_file() and not p.is_symlink() and p.name != "MANIFEST.sha256":
            lines.append(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(run).as_posix()}\n")
    (run / "MANIFEST.sha256").write_text("".join(lines) + manifest_extra)
    if key is not None:
        from preuve.evidence.signing import sign_run

        sign_run(run, key)
    ledger = run.parent / "ledger.jsonl"
    if ledger.exists():
        digest = hashlib.sha256((run / "MANIFEST.sha256").read_bytes()).hexdigest()
        entries = [json.loads(x) for x in ledger.read_text().splitlines()]
        for e in entries:
            if e["path"] == run.name:
                e["manifest_sha256"] = digest
        ledger.write_text("".join(json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n" for e in entries))


def _edit_results(run: Path, edit) -> None:
    rows = _results(run)
    for r in rows:
        edit(r)
    (run / "results.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


# --- 1. hidden and symlinked files -------------------------------------------------------------------------


def test_a_hidden_evidence_file_fails_verify_and_judge(scope, keys, tmp_path):
    run = scope / "r1"
    (run / "observations" / "zzz").mkdir()
    (run / "observations" / "zzz" / ".a.json").write_bytes(_forged_weak(run))
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY, v.stdout + v.stderr
    assert "observations/zzz/.a.json: not listed in the manifest" in v.stderr
    j = preuve("judge", run, "-o", tmp_path / "j", "-q")
    assert j.returncode == Exit.INTEGRITY, j.stderr
    assert "observations/zzz/.a.json" in j.stderr and not (tmp_path / "j" / "results.jsonl").exists()


def test_a_symlinked_evidence_folder_fails_verify_and_judge(scope, keys, tmp_path):
    run = scope / "r1"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "weak.json").write_bytes(_forged_weak(run))
    (run / "observations" / "zz_extra").symlink_to(outside)
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY, v.stdout + v.stderr
    assert "observations/zz_extra: a symbolic link" in v.stderr
    j = preuve("judge", run, "-o", tmp_path / "j", "-q")
    assert j.returncode == Exit.INTEGRITY and "observations/zz_extra: a symbolic link" in j.stderr, j.stderr


def test_judge_refuses_evidence_whose_sha256_differs_from_results(scope, keys, tmp_path):
    """weak.json replaced by good's (retargeted) and the manifest re-listed: results.jsonl still names the
    original sha256, so the judge refuses instead of re-judging weak on good's handshake."""
    run = scope / "r1"
    (run / "observations" / "ssh_protocol" / "weak.json").write_bytes(_forged_weak(run))
    reseal(run, keys["key"])
    j = preuve("judge", run, "-o", tmp_path / "j", "-q")
    assert j.returncode == Exit.INTEGRITY, j.stdout + j.stderr
    assert "observations/ssh_protocol/weak.json" in j.stderr and "results.jsonl" in j.stderr
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY and "observations/ssh_protocol/weak.json" in v.stderr, v.stderr


def test_an_evidence_file_is_what_its_path_names(scope, keys, tmp_path):
    """weak.json holding good's observation (collector/target written inside say "good"), everything re-listed
    and re-signed consistently: judge never keys it as good's; weak's checks are errors, good keeps its own."""
    run = scope / "r1"
    weak = run / "observations" / "ssh_protocol" / "weak.json"
    weak.write_bytes((run / "observations" / "ssh_protocol" / "good.json").read_bytes())
    digest = hashlib.sha256(weak.read_bytes()).hexdigest()

    def point(r):
        for e in r["evidence"]:
            if e["path"].endswith("/weak.json"):
                e["sha256"] = digest

    _edit_results(run, point)
    reseal(run, keys["key"])
    out = tmp_path / "j"
    j = preuve("judge", run, "-o", out, "-q")
    assert (out / "results.jsonl").exists(), j.stderr
    assert {r["status"] for r in _results(out) if r["target"]["name"] == "weak"} == {"error"}
    assert _status(out, "SSH-KEX", "good") == "pass"
    msg = next(r for r in _results(out) if r["target"]["name"] == "weak")["message"]["en"]
    assert "observations/ssh_protocol/weak.json" in msg and "good" in msg, msg
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY and "weak.json" in v.stderr, v.stdout + v.stderr


# --- 2. full target identity --------------------------------------------------------------------------------


def test_every_observation_records_the_full_target_identity(signed):
    run = signed / "r1"
    for r in _results(run):
        obs = json.loads((run / r["evidence"][0]["path"]).read_text())
        want = {k: r["target"][k] for k in ("kind", "name", "address", "port")}
        assert obs["identity"] == want, (obs.get("identity"), want)


def test_two_targets_with_one_name_never_share_evidence(servers, tmp_path):
    """A host and an ssh_endpoint both named "twin" (the host's SSH port is the good server, the endpoint the
    weak one). Either lint refuses the inventory, or no verdict is given on the other target's evidence, and
    junit.xml has no duplicate case."""
    good, weak = servers
    inv = tmp_path / "inv.yaml"
    host = {
        "name": "twin",
        "address": "127.0.0.1",
        "zone": "lo",
        "site": "p1",
        "ssh": {"user": "nobody", "key_file": str(tmp_path / "k"), "port": good.port},
    }
    (tmp_path / "k").write_text("unused\n")
    inv.write_text(yaml.safe_dump(_inventory([{"name": "twin", "address": "127.0.0.1", "port": weak.port}], [host])))
    out = tmp_path / "r"
    proc = _run(out, inv, None)
    if proc.returncode == Exit.INVALID_INPUT:  # the lint half of the defect refuses the inventory outright
        assert "twin" in proc.stderr and not out.exists()
        return
    rows = _results(out)
    assert rows, proc.stderr
    for r in rows:
        want = {k: r["target"][k] for k in ("kind", "name", "address", "port")}
        for e in r["evidence"]:
            assert json.loads((out / e["path"]).read_text())["identity"] == want, (r["check_id"], want)
        if not r["evidence"]:
            assert r["status"] == "error"
    weak_kex = [r for r in rows if r["check_id"] == "SSH-KEX" and r["target"]["port"] == weak.port]
    assert weak_kex and weak_kex[0]["status"] != "pass"
    names = [(c.get("classname"), c.get("name")) for c in ET.parse(out / "junit.xml").getroot().iter("testcase")]
    assert not [n for n, k in Counter(names).items() if k > 1]
    j = preuve("judge", out, "-o", tmp_path / "j", "-q")
    for r in _results(tmp_path / "j"):
        if r["target"]["port"] == weak.port and r["check_id"] == "SSH-KEX":
            assert r["status"] != "pass", j.stderr


# --- 3. a crashed judge -------------------------------------------------------------------------------------


def test_a_check_crash_is_an_error_for_its_pairs_and_the_run_goes_on(inventory, keys, tmp_path):
    out = tmp_path / "scope" / "r"
    proc = _run(
        out,
        inventory,
        keys["key"],
        env={"PYTEST_PLUGINS": "tests.support.judge_crash", "PREUVE_TEST_CRASH": "check:SSH-KEX"},
    )
    rows = _results(out)
    assert len(rows) == PLANNED, proc.stderr
    kex = [r for r in rows if r["check_id"] == "SSH-KEX"]
    assert [r["status"] for r in kex] == ["error", "error"] and "TypeError" in kex[0]["message"]["en"]
    assert _status(out, "SSH-MACS", "weak") == "fail"
    run = json.loads((out / "run.json").read_text())
    assert run["judging"]["complete"] is True and run["judging"]["planned"] == PLANNED
    assert pinned(out, keys).returncode == 0


def test_an_internal_error_seals_every_pair_and_fails_verify(inventory, keys, tmp_path):
    out = tmp_path / "scope" / "r"
    proc = _run(
        out,
        inventory,
        keys["key"],
        env={"PYTEST_PLUGINS": "tests.support.judge_crash", "PREUVE_TEST_CRASH": "internal:3"},
    )
    assert proc.returncode not in (0, 1, 2), proc.stderr  # not a verdict on the infrastructure
    rows = _results(out)
    assert len(rows) == PLANNED, (len(rows), proc.stderr)
    stopped = [r for r in rows if "did not finish judging" in r["message"]["en"]]
    assert stopped and all(r["status"] == "error" for r in stopped)
    run = json.loads((out / "run.json").read_text())
    assert run["judging"]["complete"] is False and "internal error" in run["judging"]["reason"]
    assert run["interrupted"] is True
    suite = ET.parse(out / "junit.xml").getroot()
    assert len(list(suite.iter("error"))) >= len(stopped)
    v = pinned(out, keys)
    assert v.returncode == Exit.INTEGRITY and "did not finish judging" in v.stderr, v.stdout + v.stderr


def test_a_corrupt_observation_is_an_error_not_an_empty_run(scope, keys, tmp_path):
    run = scope / "r1"
    weak = run / "observations" / "ssh_protocol" / "weak.json"
    weak.write_bytes(b'{"collector": "ssh_protocol", "target": 42')
    digest = hashlib.sha256(weak.read_bytes()).hexdigest()

    def point(r):
        for e in r["evidence"]:
            if e["path"].endswith("/weak.json"):
                e["sha256"] = digest

    _edit_results(run, point)
    reseal(run, keys["key"])
    out = tmp_path / "j"
    j = preuve("judge", run, "-o", out, "-q")
    rows = _results(out)
    assert len(rows) == PLANNED, j.stderr
    assert {r["status"] for r in rows if r["target"]["name"] == "weak"} == {"error"}
    assert _status(out, "SSH-KEX", "good") == "pass"


# --- 4. what verify proves ----------------------------------------------------------------------------------


def test_verify_states_signature_pin_and_chain_for_every_run(scope, keys, inventory, tmp_path):
    run = scope / "r1"
    v = pinned(run, keys)
    assert v.returncode == 0, v.stderr
    assert "key pinned" in v.stdout and "chain: checked" in v.stdout and "VERIFIED" in v.stdout
    v = verify(run)
    assert v.returncode == 0 and "key NOT pinned" in v.stdout, v.stdout
    unsigned = tmp_path / "u" / "r"
    assert _run(unsigned, inventory, None).returncode == Exit.NON_COMPLIANT
    v = verify(unsigned)
    assert v.returncode == 0 and "NOT SIGNED" in v.stdout, v.stdout
    v = verify(unsigned, "--key", keys["pub"])
    assert v.returncode == Exit.INTEGRITY and "not signed" in v.stderr
    both = verify(run, unsigned)  # several runs: each gets its own statement of what was proven
    assert both.returncode == 0 and both.stdout.count("VERIFIED") == 2, both.stdout
    assert (
        f"{run}: signature: MANIFEST.sha256 signed by" in both.stdout
        and f"{unsigned}: signature: NOT SIGNED" in both.stdout
        and f"{unsigned}: chain: checked" in both.stdout
    )


def test_a_trust_store_accepts_its_signers_and_refuses_others(scope, keys, tmp_path):
    run = scope / "r1"
    only_other = tmp_path / "trust-other"
    only_other.mkdir()
    shutil.copy(keys["other_pub"], only_other)
    both = tmp_path / "trust-both"
    both.mkdir()
    shutil.copy(keys["other_pub"], both)
    shutil.copy(keys["pub"], both)
    assert verify(run, "--trust", both).returncode == 0
    assert verify(run, "--trust", keys["pub"]).returncode == 0
    v = verify(run, "--trust", only_other)
    assert v.returncode == Exit.INTEGRITY and "not in the trust store" in v.stderr, v.stderr
    v = verify(run, "--key", keys["key"])  # a private key where a public one is expected: input error
    assert v.returncode == Exit.INVALID_INPUT and "Traceback" not in v.stderr and "BEGIN" not in v.stderr


def test_a_stripped_signature_fails_without_a_pinned_key(scope):
    run = scope / "r1"
    (run / "MANIFEST.sha256.sig").unlink()
    (run / "signer.pub.pem").unlink()
    v = verify(run)
    assert v.returncode == Exit.INTEGRITY and "names signer" in v.stderr, v.stdout + v.stderr


def test_a_signature_by_another_key_fails_without_a_pinned_key(scope, keys):
    from preuve.evidence.signing import sign_run

    run = scope / "r1"
    sign_run(run, keys["other"])
    v = verify(run)
    assert v.returncode == Exit.INTEGRITY and "names signer" in v.stderr, v.stdout + v.stderr


def test_a_chain_the_run_claims_but_cannot_show_fails_loudly(scope, keys, tmp_path):
    alone = tmp_path / "alone" / "r1"
    shutil.copytree(scope / "r1", alone)  # handed over without its ledger
    v = pinned(alone, keys)
    assert v.returncode == Exit.INTEGRITY and "ledger" in v.stderr, v.stdout + v.stderr
    v = verify(alone, "--key", keys["pub"], "--no-chain")
    assert v.returncode == 0 and "chain: NOT CHECKED" in v.stdout, v.stdout
    assert verify(alone, "--key", keys["pub"], "--ledger", scope / "ledger.jsonl").returncode == 0
    run = scope / "r1"
    info = json.loads((run / "run.json").read_text())
    info["chain"] = None
    (run / "run.json").write_text(json.dumps(info))
    reseal(run, keys["key"])
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY and "chain" in v.stderr, v.stdout + v.stderr


def test_an_empty_or_partial_run_fails(scope, keys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert verify(empty).returncode == Exit.INTEGRITY
    (empty / "MANIFEST.sha256").write_text("")
    v = verify(empty)
    assert v.returncode == Exit.INTEGRITY and "Traceback" not in v.stderr, v.stdout + v.stderr
    run = scope / "r1"
    (run / "results.jsonl").unlink()
    (run / "junit.xml").unlink()
    reseal(run, keys["key"])
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY and "results.jsonl" in v.stderr, v.stdout + v.stderr


def test_a_result_citing_another_targets_evidence_fails(scope, keys):
    run = scope / "r1"
    good = run / "observations" / "ssh_protocol" / "good.json"
    digest = hashlib.sha256(good.read_bytes()).hexdigest()

    def point(r):
        if r["target"]["name"] == "weak" and r["check_id"] == "SSH-KEX":
            r["evidence"] = [{"path": "observations/ssh_protocol/good.json", "sha256": digest}]
            r["status"] = "pass"

    _edit_results(run, point)
    reseal(run, keys["key"])
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY and "SSH-KEX" in v.stderr and "good.json" in v.stderr, v.stderr


def test_a_result_citing_a_sha256_that_matches_nothing_fails(scope, keys):
    run = scope / "r1"

    def point(r):
        if r["target"]["name"] == "weak":
            r["evidence"][0]["sha256"] = "0" * 64

    _edit_results(run, point)
    reseal(run, keys["key"])
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY and "weak.json" in v.stderr and "sha256" in v.stderr, v.stderr


@pytest.mark.parametrize("rel", ["../../../../../../etc/hostname", "/etc/hostname"])
def test_manifest_paths_outside_the_run_are_refused(scope, keys, rel):
    run = scope / "r1"
    digest = hashlib.sha256(Path("/etc/hostname").read_bytes()).hexdigest()
    reseal(run, keys["key"], manifest_extra=f"{digest}  {rel}\n")
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY and "outside the run" in v.stderr, v.stdout + v.stderr


def test_unreadable_manifest_and_ledger_are_integrity_failures(scope, keys):
    run = scope / "r1"
    (scope / "ledger.jsonl").write_bytes(b"{not json\n")
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY and "ledger.jsonl:1" in v.stderr and "Traceback" not in v.stderr
    (run / "MANIFEST.sha256").write_bytes(b"\xff\xfe garbage\n")
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY and "Traceback" not in v.stderr, v.stderr


# --- 13. the ledger as people use it ------------------------------------------------------------------------


def _ledger(scope: Path) -> list[dict]:
    return [json.loads(x) for x in (scope / "ledger.jsonl").read_text().splitlines()]


def test_a_rejudge_stays_outside_the_chain_unless_asked(scope, keys):
    j = preuve("judge", scope / "r1", "-o", scope / "scratch", "-q")
    assert j.returncode == Exit.NON_COMPLIANT, j.stderr
    assert (scope / "scratch" / "results.jsonl").read_bytes() == (scope / "r1" / "results.jsonl").read_bytes()
    assert [e["path"] for e in _ledger(scope)] == ["r1"]
    chain = json.loads((scope / "scratch" / "run.json").read_text())["chain"]
    assert chain["ledger"] is None and "outside" in chain
    v = verify(scope / "scratch")
    assert v.returncode == 0 and "chain: NOT CHECKED" in v.stdout, v.stdout + v.stderr
    shutil.rmtree(scope / "scratch")
    assert pinned(scope / "r1", keys).returncode == 0  # deleting a scratch re-judge breaks nothing
    j = preuve("judge", scope / "r1", "-o", scope / "kept", "-q", "--ledger", scope / "ledger.jsonl")
    assert j.returncode == Exit.NON_COMPLIANT, j.stderr
    assert [e["path"] for e in _ledger(scope)] == ["r1", "kept"]


def test_a_selection_that_selects_nothing_adds_no_ledger_entry(scope, inventory):
    proc = _run(scope / "typo", inventory, None, "--select", "SSH-KXE")
    assert proc.returncode == Exit.INCOMPLETE, proc.stderr
    assert [e["path"] for e in _ledger(scope)] == ["r1"]
    assert json.loads((scope / "typo" / "run.json").read_text())["chain"]["ledger"] is None
    v = verify(scope / "typo")
    assert "NOTHING WAS JUDGED" in v.stdout and "chain: NOT CHECKED" in v.stdout, v.stdout + v.stderr


def test_verifying_run_n_checks_the_chain_up_to_n(scope, inventory, keys):
    assert _run(scope / "r2", inventory, keys["key"]).returncode == Exit.NON_COMPLIANT
    assert [e["path"] for e in _ledger(scope)] == ["r1", "r2"]
    shutil.rmtree(scope / "r2")
    v = pinned(scope / "r1", keys)
    assert v.returncode == 0 and "up to seq 1" in v.stdout, v.stdout + v.stderr


def test_diff_and_trend_compare_runs_of_the_same_profile(scope, inventory, tmp_path):
    other = tmp_path / "ssh-only.yaml"
    other.write_text(
        'id: ssh-only\nversion: "1.0"\ntitle: {fr: ssh, en: ssh}\nextends: secnumcloud-3.2\n'
        'select: {checks: ["SSH-KEX", "SSH-MACS"]}\n'
    )
    shutil.copy(REPO / "profiles" / "secnumcloud-3.2.yaml", tmp_path)
    assert _run(scope / "r2", inventory, None, profile=other).returncode == Exit.NON_COMPLIANT
    assert _run(scope / "r3", inventory, None).returncode == Exit.NON_COMPLIANT
    r2 = json.loads((scope / "r2" / "run.json").read_text())
    r3 = json.loads((scope / "r3" / "run.json").read_text())
    assert r2["previous"] is None  # no earlier run of ssh-only: no trend against ci-quick
    assert Path(r3["previous"]).name == "r1"  # ci-quick's previous ci-quick run, not r2
    d = preuve("diff", scope / "r1", scope / "r2", "--lang", "en")
    assert "PROFILES DIFFER" in d.stdout and "ci-quick" in d.stdout and "ssh-only" in d.stdout, d.stdout
    assert "Première exécution de ce profil" in (scope / "r2" / "report.html").read_text()
    forced = _run(scope / "r4", inventory, None, "--previous", scope / "r1", profile=other)  # asked for: said loudly
    assert forced.returncode == Exit.NON_COMPLIANT, forced.stderr
    assert "PROFILS DIFFÉRENTS" in (scope / "r4" / "report.html").read_text()
    assert json.loads((scope / "r4" / "diff.json").read_text())["profiles_differ"]["before"]["id"] == "ci-quick"


def test_no_traceback_when_verifying_nonsense(tmp_path):
    for args in ((tmp_path / "nope",), (tmp_path, "--trust", tmp_path / "none")):
        v = verify(*args)
        assert v.returncode in (Exit.INVALID_INPUT, Exit.INTEGRITY) and "Traceback" not in v.stderr, v.stderr
    assert os.path.exists(tmp_path)


@pytest.mark.parametrize(
    "garbage",
    [
        ("results.jsonl", b'{"target": {"name": "weak"}, "evidence": ["x", 3, null]}\n'),
        ("results.jsonl", b"\xff\xfe\n"),
        ("run.json", b"[1, 2]"),
        ("run.json", b'{"judging": "yes", "chain": "../ledger.jsonl", "signer": "me"}'),
    ],
    ids=["evidence-not-objects", "results-not-utf8", "run-json-list", "run-json-wrong-types"],
)
def test_garbage_in_a_resealed_run_is_an_integrity_failure_never_a_traceback(scope, keys, garbage):
    name, data = garbage
    run = scope / "r1"
    (run / name).write_bytes(data)
    reseal(run, keys["key"])
    v = pinned(run, keys)
    assert v.returncode == Exit.INTEGRITY and "Traceback" not in v.stderr, v.stdout + v.stderr
    j = preuve("judge", run, "-o", scope / "j", "-q")
    assert j.returncode in (Exit.INTEGRITY, Exit.INVALID_INPUT) and "Traceback" not in j.stderr, j.stderr


def test_an_observation_serves_only_the_target_it_records(tmp_path):
    """Whatever lint lets through: evidence recorded for one target is never served to another with the same
    name (other address or port, other kind), and a collector shared by two kinds serves the same machine."""
    from preuve.evidence.record import Observation
    from preuve.evidence.store import EvidenceMismatch, EvidenceStore
    from preuve.inputs.targets import Target
    from preuve.observe.registry import registry

    collector_kinds = registry().kinds

    def target(kind, port, address="127.0.0.1"):
        return Target(kind, "twin", address, port, None, None, (), None)

    store = EvidenceStore(tmp_path)
    obs = Observation(collector="ssh_protocol", target="twin", query={}, started_at="t", duration_ms=1, ok=True)
    ref = store.put(obs, target("ssh_endpoint", 2222))
    assert store.find("ssh_protocol", target("ssh_endpoint", 2222))[1] == ref
    for other in (target("ssh_endpoint", 2223), target("ssh_endpoint", 2222, "127.0.0.2"), target("host", 2222)):
        with pytest.raises(EvidenceMismatch) as exc:
            store.find("ssh_protocol", other, collector_kinds("ssh_protocol"))
        assert exc.value.ref == ref and "twin" in str(exc.value)
    # a second target with the same name never overwrites the first one's file
    assert store.put(obs, target("ssh_endpoint", 2223)) == ref
    assert json.loads((tmp_path / ref.path).read_text())["identity"]["port"] == 2222
    host = Observation(collector="ssh_host", target="m", query={}, started_at="t", duration_ms=1, ok=True)
    store.put(host, Target("host", "m", "10.0.0.1", 22, None, None, (), None))
    assert {"host", "baseline_host"} <= collector_kinds("ssh_host")
    assert (
        store.find(
            "ssh_host", Target("baseline_host", "m", "10.0.0.1", 22, None, None, (), None), collector_kinds("ssh_host")
        )
        is not None
    )


def test_a_value_with_unsortable_keys_is_still_rendered():
    """messages.show sorted the keys of what it quotes: a None flow key among strings crashed the judge."""
    from preuve.results.messages import show

    assert "None" in show({None: "flow", "ssh": 22})
