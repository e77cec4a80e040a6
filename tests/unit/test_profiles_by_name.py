"""`-p secnumcloud-3.2` / `-p ci-quick` name a shipped profile (package data of preuve_profiles), so an install
without a checkout finds them; a site's own profile may extend a shipped one without copying it."""

from __future__ import annotations

from pathlib import Path

import pytest

from preuve.inputs.errors import InputError
from preuve.inputs.profile import load_profile, shipped_names


def test_shipped_profiles_load_by_name() -> None:
    assert {"secnumcloud-3.2", "ci-quick"} <= set(shipped_names())
    quick = load_profile("ci-quick")
    assert quick.id == "ci-quick" and quick.chain == ["secnumcloud-3.2", "ci-quick"]
    assert load_profile("secnumcloud-3.2").sha256 == load_profile(Path(load_profile("secnumcloud-3.2").files[0])).sha256


def test_a_site_profile_extends_a_shipped_one(tmp_path: Path) -> None:
    own = tmp_path / "acme.yaml"
    own.write_text(
        'id: acme\nversion: "1.0"\ntitle: {fr: acme, en: acme}\nextends: secnumcloud-3.2\n'
        'select: {checks: ["TLS-*"]}\nparams: {timeout: 4}\n'
    )
    profile = load_profile(own)
    assert profile.chain == ["secnumcloud-3.2", "acme"] and profile.params.timeout == 4


def test_an_unknown_name_lists_the_shipped_ones() -> None:
    with pytest.raises(InputError) as err:
        load_profile("secnumcloud-9")
    assert "ci-quick" in str(err.value) and "secnumcloud-9" in str(err.value)


def test_a_path_that_does_not_exist_stays_a_path_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_profile(tmp_path / "missing.yaml")
    assert "shipped profile" not in str(err.value)
