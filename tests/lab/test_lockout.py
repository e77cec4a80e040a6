"""LOCK-ACTIVE on the lab: a dedicated canary (pvlock) is really locked by 5 failures on ssh-mfa (pam_faillock deny=5)
and not on ssh-key-only; the lock is reset afterwards (proven by a real login); a failed reset is loud; the probe
only runs when the profile opts in; no canary secret appears in any output.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import paramiko
import pyotp
import pytest
import yaml

from tests.conftest import REPO, scan

pytestmark = pytest.mark.lab

LAB = Path("/var/tmp/preuve-lab")
KEY = LAB / "keys" / "lockout-canary"
SEED = LAB / "keys" / "lockout-canary.totp"
MFA, KEY_ONLY = "198.18.2.12", "198.18.2.13"
TALLY = LAB / "hosts" / "ssh-mfa" / "log" / "faillock" / "pvlock"
INVENTORY = REPO / "inventories" / "lab.yaml"


def _in_admin(fn):
    from preuve_lab import netns

    with netns.enter("pv-admin"):
        return fn()


def _login(address: str) -> bool:
    """A real login as pvlock: key, then (if asked) a TOTP code of a step pam_oath has not seen yet."""
    from preuve_lab import hosts
    from preuve_lab.paths import LabPaths

    hosts.reset_oath(LabPaths.current())  # forget pam_oath's last used step (the probe used the current ones)
    sock = socket.create_connection((address, 22), timeout=5)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=5)
        t.auth_publickey("pvlock", paramiko.PKey.from_path(str(KEY)))
        if not t.is_authenticated():
            code = pyotp.TOTP(SEED.read_text().strip()).now()
            try:
                t.auth_interactive("pvlock", lambda title, instructions, prompts: [code for _ in prompts])
            except paramiko.AuthenticationException:
                return False
        return t.is_authenticated()
    finally:
        t.close()


def _tally_rows() -> list[str]:
    """The failures `faillock` itself lists for pvlock on ssh-mfa (its dir is the lab host's /var/log/faillock)."""
    argv = ["faillock", "--dir", str(TALLY.parent), "--user", "pvlock"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[:2] and out[0] == "pvlock:" and out[1].startswith("When"), out
    return out[2:]


def _unlock() -> None:
    """Between probes: no tally, and pam_oath forgets the steps the last probe used (it refuses a replayed step)."""
    from preuve_lab import hosts
    from preuve_lab.paths import LabPaths

    subprocess.run(["faillock", "--dir", str(TALLY.parent), "--user", "pvlock", "--reset"], check=True)
    hosts.reset_oath(LabPaths.current())


def _inventory(tmp_path: Path, **canary: object) -> Path:
    """inventories/lab.yaml with the first lockout canary alone and changed (the flow matrix path made absolute)."""
    inv = yaml.safe_load(INVENTORY.read_text())
    inv["flow_matrix"] = str(INVENTORY.parent / inv["flow_matrix"])
    inv["baseline"]["lockout_canaries"] = [{**inv["baseline"]["lockout_canaries"][0], **canary}]
    (tmp_path / "inv.yaml").write_text(yaml.safe_dump(inv))
    return tmp_path / "inv.yaml"


def _profile(tmp_path: Path, probe: bool) -> Path:
    p = tmp_path / f"lockout-{probe}.yaml"
    profile = {
        "id": "lockout-test",
        "version": "1.0",
        "title": {"fr": "t", "en": "t"},
        "select": {"checks": ["LOCK-ACTIVE"]},
        "params": {"access": {"lockout_probe": probe}},
    }
    p.write_text(yaml.safe_dump(profile))
    return p


@pytest.fixture(scope="module")
def lockout_run(lab_module, tmp_path_factory):
    _unlock()
    t0 = time.monotonic()
    run = scan(tmp_path_factory.mktemp("lockout") / "run", "--select", "LOCK-ACTIVE")
    run.seconds = time.monotonic() - t0  # type: ignore[attr-defined]
    assert (run.out / "results.jsonl").exists(), run.proc.stderr
    return run


def test_pam_faillock_host_is_locked_then_reset(lockout_run):
    r = lockout_run.result("LOCK-ACTIVE", "ssh-mfa-lockout")
    assert r["status"] == "pass", r["message"]
    assert "locked after 5 failed totp attempts" in r["message"]["fr"]
    assert "reset, login accepted" in r["message"]["fr"]
    assert r["evidence"] and len(r["evidence"][0]["sha256"]) == 64
    obs = __import__("json").loads((lockout_run.out / r["evidence"][0]["path"]).read_text())
    kinds = [(a["kind"], a["outcome"]) for a in obs["raw"]["attempts"]]
    assert kinds == [
        ("correct", "accepted"),
        *[("wrong:totp", "refused")] * 5,
        ("correct", "refused"),
        ("correct", "accepted"),
    ], kinds


def test_host_without_faillock_fails_with_the_observed_value(lockout_run):
    r = lockout_run.result("LOCK-ACTIVE", "ssh-key-only-lockout")
    assert r["status"] == "fail", r["message"]
    assert "not locked (correct login accepted) after 5 failed publickey attempts" in r["message"]["fr"]
    assert "attendu" in r["message"]["fr"] and "expected" in r["message"]["en"]
    assert r["remediation"]["fr"] and r["remediation"]["en"]


def test_the_lock_is_really_gone_afterwards(lockout_run):
    """After the probe, faillock lists no failure for pvlock and a real key + TOTP login gets in."""
    assert _tally_rows() == []
    assert _in_admin(lambda: _login(MFA)) is True
    assert _in_admin(lambda: _login(KEY_ONLY)) is True


def test_probe_is_fast_enough_for_the_demo(lockout_run):
    assert lockout_run.seconds < 20, lockout_run.seconds


def test_no_canary_secret_in_any_output(lockout_run):
    seed = SEED.read_text().strip()
    key_lines = [ln for ln in KEY.read_text().splitlines() if len(ln) >= 16 and "PRIVATE KEY" not in ln]
    secrets_ = [seed, seed.lower(), __import__("base64").b32decode(seed).hex(), *key_lines]
    texts = [lockout_run.proc.stdout, lockout_run.proc.stderr]
    texts += [p.read_text(errors="replace") for p in lockout_run.out.rglob("*") if p.is_file()]
    assert not [s for s in secrets_ for t in texts if s in t]


def test_disabled_probe_is_not_applicable_and_touches_nothing(lab_up, tmp_path):
    _unlock()
    before = TALLY.stat().st_mtime_ns if TALLY.exists() else None
    run = scan(tmp_path / "run", profile=_profile(tmp_path, False))
    for name in ("ssh-mfa-lockout", "ssh-key-only-lockout"):
        r = run.result("LOCK-ACTIVE", name)
        assert r["status"] == "not_applicable", r
        assert "lockout_probe is false" in r["message"]["fr"] + r["message"]["en"]
    assert (TALLY.stat().st_mtime_ns if TALLY.exists() else None) == before


def test_failed_reset_is_reported_loudly(lab_up, tmp_path):
    """A reset the sudo rule does not allow (another faillock dir): the canary stays locked, the result says so."""
    inventory = _inventory(tmp_path, faillock_dir="/var/log/nope")
    _unlock()
    try:
        run = scan(tmp_path / "run", "--select", "LOCK-ACTIVE", inventory=inventory)
        r = run.result("LOCK-ACTIVE", "ssh-mfa-lockout")
        assert r["status"] == "fail", r["message"]
        assert "RESET FAILED" in r["message"]["fr"] and "left LOCKED" in r["message"]["fr"], r["message"]
        lock = next(e for e in r["expectations"] if e["label"] == "lock.active.after_failures")
        assert lock["ok"] and lock["observed"] == "locked after 5 failed totp attempts", lock
    finally:
        _unlock()
    assert _in_admin(lambda: _login(MFA)) is True


def test_wrong_seed_is_an_error_not_a_lock(lab_up, tmp_path):
    """Every correct-looking login refused (here a wrong TOTP seed) must not pass for a lock: error, tally reset."""
    _unlock()
    inventory = _inventory(tmp_path, totp={"file": str(LAB / "keys" / "web-admin.totp")})
    run = scan(tmp_path / "run", "--select", "LOCK-ACTIVE", inventory=inventory)
    r = run.result("LOCK-ACTIVE", "ssh-mfa-lockout")
    assert r["status"] == "error", r["message"]
    assert "refused before any failure" in r["message"]["en"] and "failure count was reset" in r["message"]["en"]
    assert _tally_rows() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"host": "nowhere"}, "unknown host 'nowhere'"),
        ({"user": "auditor"}, "is the scanning account of 'ssh-mfa'"),
        ({"user": "pvadmin"}, "is also the MFA canary 'ssh-mfa-admin'"),
        ({"private_key": "inline-secret"}, "secrets are referenced, never inlined"),
    ],
)
def test_inventory_errors(tmp_path, change, message):
    from tests.conftest import preuve

    proc = preuve("lint", "-i", _inventory(tmp_path, **change), "-p", REPO / "profiles" / "secnumcloud-3.2.yaml")
    assert proc.returncode == 3 and message in proc.stdout + proc.stderr, proc.stdout + proc.stderr


@pytest.fixture(scope="session")
def oath_forgotten(lab):
    """Before the shared full-lab run, if it has not run yet: pam_oath forgets the steps this file's probes used."""
    import preuve_lab as lab_mod

    lab_mod.ensure_up()
    _unlock()


def test_full_lab_run_includes_lock_active(oath_forgotten, lab_run):
    """What `preuve demo` scans (inventories/lab.yaml, full profile) judges LOCK-ACTIVE both ways."""
    assert lab_run.statuses("ssh-mfa-lockout") == {"LOCK-ACTIVE": "pass"}
    assert lab_run.statuses("ssh-key-only-lockout") == {"LOCK-ACTIVE": "fail"}
