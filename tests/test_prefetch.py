"""Prefetching TLS handshakes while pytest starts changes timing, never verdicts, and never observes a target
the run would not have observed."""

from __future__ import annotations

import json

import pytest

from preuve.observe import prefetch
from tests.conftest import FULL_PROFILE, lab_inventory, scan

pytestmark = pytest.mark.lab


def _tls_only(tmp):
    return lab_inventory(tmp, lambda inv: inv.update(hosts=[]), keep=("tls_endpoints",))


def _verdicts(run):
    return {(r["check_id"], r["target"]["name"]): (r["status"], r["observed"]) for r in run.results}


def test_prefetched_and_collected_runs_agree(lab_up, tmp_path):
    inventory = _tls_only(tmp_path)
    assert prefetch.plan(str(inventory), str(FULL_PROFILE), None, None), "small TLS runs are prefetched"
    fast = scan(tmp_path / "fast", inventory=inventory)
    plain = scan(tmp_path / "plain", inventory=inventory, env={"PREUVE_NO_PREFETCH": "1"})
    assert fast.code == plain.code
    assert _verdicts(fast) == _verdicts(plain) and len(fast.results) >= 20
    obs = json.loads((fast.out / "observations/tls/tls-good.json").read_text())
    assert obs["ok"] and obs["duration_ms"] > 0 and obs["started_at"].endswith("Z")


def test_no_prefetch_when_the_profile_selects_no_tls_check(tmp_path):
    profile = tmp_path / "ssh-only.yaml"
    profile.write_text('id: ssh-only\nversion: "1.0"\ntitle: {fr: s, en: s}\nselect: {checks: ["SSH-*"]}\n')
    assert prefetch.plan(str(_tls_only(tmp_path)), str(profile), None, None) == []


def test_no_prefetch_when_selection_is_by_requirement(tmp_path):
    profile = tmp_path / "by-req.yaml"
    profile.write_text('id: by-req\nversion: "1.0"\ntitle: {fr: s, en: s}\nselect: {requirements: ["10.2.*"]}\n')
    assert prefetch.plan(str(_tls_only(tmp_path)), str(profile), None, None) == [], "any doubt: no prefetch"
