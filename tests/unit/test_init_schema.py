"""`preuve init`, `preuve schema`, shell completion and the shipped example inputs (issue 16 items 1 and 4)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from preuve.schemas import schema
from tests.conftest import FULL_PROFILE, REPO, preuve

EXAMPLES = {
    "inventory": [REPO / "inventories" / "example.yaml", REPO / "inventories" / "lab.yaml"],
    "profile": sorted((REPO / "profiles").glob("*.yaml")),
    "waivers": [REPO / "inventories" / "waivers.example.yaml"],
}


def _plain(path: Path) -> object:
    """YAML as a JSON document would hold it (dates as ISO strings)."""

    def iso(v: object) -> str:
        return v.isoformat() if isinstance(v, dt.date | dt.datetime) else str(v)

    return json.loads(json.dumps(yaml.safe_load(path.read_text()), default=iso))


@pytest.mark.parametrize(
    ("kind", "path"),
    [(k, p) for k, ps in EXAMPLES.items() for p in ps],
    ids=lambda x: x.name if isinstance(x, Path) else x,
)
def test_shipped_inputs_validate_against_the_published_schema(kind, path):
    s = schema(kind)
    jsonschema.Draft202012Validator.check_schema(s)
    jsonschema.Draft202012Validator(s).validate(_plain(path))


def test_schema_refuses_what_lint_refuses():
    v = jsonschema.Draft202012Validator(schema("inventory"))
    errors = list(
        v.iter_errors(
            {
                "version": 1,
                "name": "x",
                "hosts": [{"name": "a", "address": "192.0.2.1", "ssh": {"port": 70000, "pasword": "x"}}],
            }
        )
    )
    messages = " ".join(e.message for e in errors)
    assert "70000" in messages and "pasword" in messages
    p = jsonschema.Draft202012Validator(schema("profile"))
    assert list(
        p.iter_errors(
            {
                "id": "x",
                "version": "1.0",
                "title": {"fr": "x", "en": "x"},
                "params": {"ssh": {"max_auth_tries": "many"}},
            }
        )
    ), "params are typed, not free"


def test_schema_command_writes_the_three_files(tmp_path):
    proc = preuve("schema", "-o", tmp_path)
    assert proc.returncode == 0, proc.stderr
    for kind in ("inventory", "profile", "waivers"):
        s = json.loads((tmp_path / f"{kind}.schema.json").read_text())
        assert s["$schema"].endswith("2020-12/schema") and kind in s["$id"]
    assert (
        subprocess.run(
            [
                str(REPO / ".venv" / "bin" / "check-jsonschema"),
                "--schemafile",
                tmp_path / "waivers.schema.json",
                REPO / "inventories" / "waivers.example.yaml",
            ],
            capture_output=True,
        ).returncode
        == 0
    )


def test_init_writes_a_commented_inventory_that_lints_and_never_overwrites(tmp_path):
    inv, waivers = tmp_path / "inventory.yaml", tmp_path / "waivers.yaml"
    proc = preuve("init", "-o", inv, "-w", waivers)
    assert proc.returncode == 0, proc.stderr
    text = inv.read_text()
    assert text.count("#") > 20, "commented, so a newcomer knows what each field is"
    lint = preuve("lint", "-i", inv, "-p", FULL_PROFILE, "-w", waivers)
    assert lint.returncode == 0 and "inputs are valid" in lint.stdout, lint.stderr
    inv.write_text("mine\n")
    again = preuve("init", "-o", inv)
    assert again.returncode == 4 and "exists" in again.stderr and inv.read_text() == "mine\n"


def test_packaged_templates_are_the_repository_examples():
    data = REPO / "preuve" / "data"
    assert (data / "inventory.example.yaml").read_text() == (REPO / "inventories" / "example.yaml").read_text()
    assert (data / "waivers.example.yaml").read_text() == (REPO / "inventories" / "waivers.example.yaml").read_text()


def test_waivers_example_lints_clean_and_names_real_checks_and_targets():
    proc = preuve(
        "lint",
        "-i",
        REPO / "inventories" / "example.yaml",
        "-p",
        FULL_PROFILE,
        "-w",
        REPO / "inventories" / "waivers.example.yaml",
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "inputs are valid", proc.stdout + proc.stderr


def test_bash_completion_completes_commands_options_and_choices(tmp_path):
    proc = preuve("completion", "bash")
    assert proc.returncode == 0
    script = tmp_path / "preuve.bash"
    script.write_text(proc.stdout)

    def complete(*words: str) -> list[str]:
        line = " ".join(["preuve", *words])
        cmd = (
            f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words)}; "
            '_preuve; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        return subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=tmp_path).stdout.split()

    assert {"run", "lint", "checks", "import", "init", "schema", "completion"} <= set(complete(""))
    assert complete("ru") == ["run"]
    assert "--progress" in complete("run", "--pro")
    assert complete("run", "--progress", "") == ["auto", "bar", "plain", "none"]
    assert complete("checks", "--format", "") == ["table", "json"]
    assert "describe" in complete("checks", "")
