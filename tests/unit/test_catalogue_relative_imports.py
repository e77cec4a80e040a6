"""A check module may import a sibling module of its folder relatively (`from .check_x import helper`), even one
loaded after it (folder order): the catalogue's own loader (`preuve lint`, `preuve checks`, coverage) resolves it in the
same folder, as pytest does when it collects the folder as a package."""

from __future__ import annotations

import textwrap
from pathlib import Path

from preuve.judge.catalogue import load_catalogue_of


def test_a_relative_import_between_checks_of_one_folder_loads(tmp_path: Path):
    domain = tmp_path / "relimport_domain"
    domain.mkdir()
    (domain / "__init__.py").write_text("")
    (domain / "check_z_base.py").write_text(
        textwrap.dedent(
            """\
            from preuve.judge import check

            def names(facts):
                return sorted(facts)

            @check("REL-BASE", requirements={"9.5.d#1": "x"}, target="host", severity="low", rule="r")
            def check_z_base(host, judge):
                judge.non_empty("x", names(host))
            """
        )
    )
    (domain / "check_a_user.py").write_text(
        textwrap.dedent(
            """\
            from preuve.judge import check

            from .check_z_base import names

            @check("REL-USER", requirements={"9.5.d#1": "x"}, target="host", severity="low", rule="r")
            def check_a_user(host, judge):
                judge.non_empty("x", names(host))
            """
        )
    )
    ids = sorted(spec.id for spec in load_catalogue_of(domain))
    assert ids == ["REL-BASE", "REL-USER"]
