"""EvidenceStore.put writes the bytes the full redaction walk would write, and keeps secrets out.

put() skips the string-by-string walk of an observation when its serialised form shows there is nothing to redact
(Redactor.untouched); these tests compare every file it writes with the reference (redact the whole observation,
validate it, serialise it: what put() did before) on the recorded lab demo's observations and on observations
built to hit each rule: a registered secret in a fact, in preuve's own query, a secret holding characters JSON
escapes, private key blocks, AWS secret lines in odd letter cases, keys that are not strings, tuples, values
pydantic would coerce.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from preuve.evidence import store as store_module
from preuve.evidence.canonical import dumps
from preuve.evidence.record import Observation
from preuve.evidence.redact import MASK, SECRET_IN_FACT, Redactor
from preuve.evidence.store import EvidenceStore
from tests.support.keys import throwaway_private_key
from tools.record_unit_facts import DEFAULT_OUT as ARCHIVE
from tools.record_unit_facts import unpack

SECRET = "administrator-2026"
ODD_SECRET = 'pa"ss\\wo\nrd-2026\t\u00e9\u2028'  # a quote, a backslash, control characters, non-ASCII


class Target:
    def __init__(self, name: str, kind: str = "web_admin") -> None:
        self.kind, self.name, self.address, self.port = kind, name, "198.18.2.10", 443


@pytest.fixture
def redactor(monkeypatch: pytest.MonkeyPatch) -> Redactor:
    r = Redactor()
    r.register(SECRET, "the secret of web_admins.0.password")
    r.register(ODD_SECRET, "the secret of web_admins.1.password")
    monkeypatch.setattr(store_module, "REDACTOR", r)
    return r


def reference(r: Redactor, obs: Observation, target: Any) -> bytes:
    """What put() wrote before it learnt to skip the walk."""
    if target is not None:
        obs = obs.model_copy(update={"identity": store_module.identity_of(target)})
    clean = Observation.model_validate(r.observation(obs.model_dump()))
    return dumps(clean.model_dump()) + b"\n"


def put_and_compare(tmp_path: Path, r: Redactor, obs: Observation, target: Any = None) -> tuple[bytes, Observation]:
    store = EvidenceStore(tmp_path)
    ref = store.put(obs, target)
    written = (tmp_path / ref.path).read_bytes()
    assert written == reference(r, obs, target), obs.collector
    assert (tmp_path / ref.path).stat().st_mode & 0o777 == 0o600, "as canonical.write_atomic leaves it"
    assert [p.name for p in (tmp_path / ref.path).parent.iterdir()] == [Path(ref.path).name], "no temporary left"
    held = store.get(obs.collector, obs.target)
    assert held is not None
    assert held[0] == Observation.model_validate(json.loads(written)), "the judges read what was stored"
    return written, held[0]


def observation(collector: str = "web_mfa", **fields: Any) -> Observation:
    base: dict[str, Any] = {
        "collector": collector,
        "target": "w",
        "query": {"user": "webadmin"},
        "started_at": "2026-12-04T00:00:00.000Z",
        "duration_ms": 1.0,
        "ok": True,
        "facts": {"users": ["webadmin"]},
        "raw": None,
        "tool": "t",
    }
    return Observation(**{**base, **fields})


def test_recorded_demo_observations_are_written_byte_for_byte(tmp_path, redactor):
    run = unpack(ARCHIVE, tmp_path / "recorded")
    files = sorted((run / "observations").glob("*/*.json"))
    assert len(files) > 100
    for i, f in enumerate(files):
        recorded = json.loads(f.read_bytes())
        identity = recorded.pop("identity")
        target = Target(identity["name"], identity["kind"]) if identity else None
        if target is not None:
            target.address, target.port = identity["address"], identity["port"]
        obs = Observation.model_validate(recorded)
        put_and_compare(tmp_path / f"out{i}", redactor, obs, target)
        if obs.collector == "tls":  # the walk is skipped where nothing needs it (what makes put() cheap)
            assert redactor.untouched({**obs.model_dump(), "identity": identity}) is not None


@pytest.mark.parametrize("secret", [SECRET, ODD_SECRET])
def test_a_registered_secret_in_a_fact_still_withholds_the_observation(tmp_path, redactor, secret):
    obs = observation(facts={"users": ["webadmin", f"<{secret}>"]}, raw={"page": "x"})
    written, held = put_and_compare(tmp_path, redactor, obs, Target("w"))
    assert held.ok is False and held.error_kind == SECRET_IN_FACT and held.facts == {}
    escaped = json.dumps(secret, ensure_ascii=False)[1:-1].encode()
    assert secret.encode() not in written and escaped not in written


def test_a_secret_in_a_key_or_in_preuve_own_query_is_handled_as_before(tmp_path, redactor):
    written, held = put_and_compare(tmp_path / "q", redactor, observation(query={"url": f"https://u:{ODD_SECRET}@x/"}))
    assert held.ok and MASK in held.query["url"] and ODD_SECRET.encode() not in written
    written, held = put_and_compare(tmp_path / "k", redactor, observation(facts={f"k-{SECRET}": 1}))
    assert held.ok is False and SECRET.encode() not in written


def test_secret_shapes_are_masked_in_every_collector_and_letter_case(tmp_path, redactor):
    key = throwaway_private_key()
    for i, text in enumerate(
        [
            key,
            "AWS_SECRET_ACCESS_KEY = abcdefghijklmnop",
            "aws_\u017fecret_access_\u212aey: abcdefghijklmnop",  # long s and Kelvin sign: (?i) matches them
        ]
    ):
        for collector in ("tls", "web_mfa"):
            written, held = put_and_compare(tmp_path / f"{i}{collector}", redactor, observation(collector, raw=text))
            assert MASK in held.raw and b"abcdefghijklmnop" not in written
            assert key.splitlines()[1].encode() not in written


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the unvalidated `ok` of the last case
def test_values_json_or_pydantic_would_change_take_the_full_path(tmp_path, redactor):
    """Keys that are not strings, tuples, an int duration or a 0/1 `ok` (an Observation built without
    validation): the bytes are the ones the full path writes (string keys, lists, 5.0, true)."""
    cases = [
        observation(facts={"ports": {443: "open", 80: "closed"}, "pair": ("a", "b")}),
        observation(facts={"nested": [{1: (2, 3)}]}),
        Observation.model_construct(**{**observation().model_dump(), "duration_ms": 5, "ok": 1}),
    ]
    for i, obs in enumerate(cases):
        written, _ = put_and_compare(tmp_path / str(i), redactor, obs, Target("w"))
    assert b'"duration_ms":5.0' in written and b'"ok":true' in written


def test_the_first_target_at_a_path_keeps_it(tmp_path, redactor):
    store = EvidenceStore(tmp_path)
    first = store.put(observation(facts={"n": 1}), Target("w"))
    other = Target("w")
    other.address = "198.18.2.11"
    assert store.put(observation(facts={"n": 2}), other) == first
    assert json.loads((tmp_path / first.path).read_bytes())["facts"] == {"n": 1}
