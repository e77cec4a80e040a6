"""The CI and scheduling templates under ci/ are linted: YAML parses; Kubernetes manifests validate field by field
against the Kubernetes API models (kubernetes client); GitLab CI and GitHub Actions files validate against their
published JSON schemas (check-jsonschema's vendored copies, offline); systemd units pass `systemd-analyze verify`;
every `preuve` command line in them uses options that exist; the sample inputs load with preuve's own loaders."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from preuve.cli import build_parser
from tests.conftest import REPO

CI = REPO / "ci"
YAML_FILES = sorted(p for p in CI.rglob("*") if p.suffix in (".yaml", ".yml"))
K8S = sorted((CI / "kubernetes").glob("*.yaml"))
TEMPLATES = [*YAML_FILES, CI / "jenkins" / "Jenkinsfile", *sorted((CI / "systemd").glob("*"))]
SCALARS = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def test_templates_exist():
    names = {p.relative_to(CI).as_posix() for p in TEMPLATES}
    assert {
        "kubernetes/sweep-job.yaml",
        "kubernetes/sweep-cronjob.yaml",
        "kubernetes/merge-job.yaml",
        "gitlab/preuve.gitlab-ci.yml",
        "github/preuve.yml",
        "jenkins/Jenkinsfile",
        "systemd/preuve-sweep.service",
        "systemd/preuve-sweep.timer",
    } <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.relative_to(CI).as_posix())
def test_yaml_parses(path):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs and all(isinstance(d, dict) for d in docs)


def _strict(data: object, type_name: str, where: str) -> None:
    """Walk a manifest along the client's openapi_types: unknown fields and wrong scalar types are errors (the
    client's own deserializer silently drops unknown fields, which is how typos reach a cluster)."""
    from kubernetes.client import models

    if type_name.lower().startswith("list["):
        assert isinstance(data, list), f"{where}: expected a list"
        for i, item in enumerate(data):
            _strict(item, type_name[5:-1], f"{where}[{i}]")
        return
    if type_name.lower().startswith(("dict(", "dict[")):
        assert isinstance(data, dict), f"{where}: expected a mapping"
        value_type = re.fullmatch(r"[Dd]ict[(\[][^,]+, (.+)[)\]]", type_name).group(1)
        for k, v in data.items():
            _strict(v, value_type, f"{where}.{k}")
        return
    if type_name in SCALARS:
        ok = isinstance(data, SCALARS[type_name]) and not (type_name != "bool" and isinstance(data, bool))
        assert ok, f"{where}: expected {type_name}, got {data!r}"
        return
    if type_name == "object":  # int-or-string and free-form fields
        return
    cls = getattr(models, type_name)
    assert isinstance(data, dict), f"{where}: expected a {type_name} mapping"
    fields = {json_name: attr for attr, json_name in cls.attribute_map.items()}
    for key, value in data.items():
        assert key in fields, f"{where}.{key}: no such field in {type_name}"
        _strict(value, cls.openapi_types[fields[key]], f"{where}.{key}")


@pytest.mark.parametrize("path", K8S, ids=lambda p: p.name)
def test_kubernetes_manifests_validate_against_the_api_models(path):
    from kubernetes.client import ApiClient

    client = ApiClient()
    for doc in yaml.safe_load_all(path.read_text()):
        api, kind = doc["apiVersion"], doc["kind"]
        assert api in ("v1", "batch/v1"), f"{path.name}: {kind} uses {api}"
        type_name = f"V1{kind}"
        _strict(doc, type_name, f"{path.name}:{kind}")
        obj = client._ApiClient__deserialize(doc, type_name)  # required fields, enum checks of the client models
        if kind == "Job" and obj.spec.completion_mode == "Indexed":
            assert obj.spec.completions == obj.spec.parallelism
            env = {e.name: e.value for e in obj.spec.template.spec.containers[0].env}
            assert int(env["SHARDS"]) == obj.spec.completions, "SHARDS must equal completions"
        if kind == "CronJob":
            job = obj.spec.job_template.spec
            assert job.completion_mode == "Indexed" and obj.spec.concurrency_policy == "Forbid"


def test_cronjob_runs_the_same_pod_as_the_job():
    job = yaml.safe_load((CI / "kubernetes" / "sweep-job.yaml").read_text())
    cron = next(yaml.safe_load_all((CI / "kubernetes" / "sweep-cronjob.yaml").read_text()))
    assert cron["spec"]["jobTemplate"]["spec"] == job["spec"]


def test_sample_inputs_in_the_configmap_load(tmp_path):
    from preuve.inputs.inventory import load_inventory
    from preuve.inputs.profile import load_profile

    docs = list(yaml.safe_load_all((CI / "kubernetes" / "preuve-reports.yaml").read_text()))
    data = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    (tmp_path / "inventory.yaml").write_text(data["inventory.yaml"])
    (tmp_path / "profile.yaml").write_text(data["profile.yaml"])
    inv, _ = load_inventory(tmp_path / "inventory.yaml")
    assert inv.hosts
    assert load_profile(tmp_path / "profile.yaml").id == "acme-nightly"


@pytest.mark.parametrize(
    ("path", "schema"),
    [("gitlab/preuve.gitlab-ci.yml", "vendor.gitlab-ci"), ("github/preuve.yml", "vendor.github-workflows")],
)
def test_ci_files_validate_against_their_schemas(path, schema):
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(CI / path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_gitlab_template_shards_and_reports_junit():
    ci = yaml.safe_load((CI / "gitlab" / "preuve.gitlab-ci.yml").read_text())
    assert ci["preuve:shard"]["parallel"] >= 2
    assert "$CI_NODE_INDEX/$CI_NODE_TOTAL" in " ".join(ci["preuve:shard"]["script"])
    assert ci["preuve:merge"]["needs"] == ["preuve:shard"]
    assert ci["preuve:merge"]["artifacts"]["reports"]["junit"] == "reports/merged/junit.xml"


def test_github_workflow_matrix_merge_and_annotations():
    wf = yaml.safe_load((CI / "github" / "preuve.yml").read_text())
    shards = wf["jobs"]["shard"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, int(wf["env"]["SHARDS"]) + 1))
    merge = wf["jobs"]["merge"]
    assert merge["needs"] == "shard" and "always()" in merge["if"]
    assert any("action-junit-report" in s.get("uses", "") for s in merge["steps"])


def test_jenkinsfile_structure():
    text = (CI / "jenkins" / "Jenkinsfile").read_text()
    code = re.sub(r"'''.*?'''|'[^'\n]*'|\"[^\"\n]*\"|//[^\n]*", "", text, flags=re.S)  # strings and comments out
    for opening, closing in ("{}", "()", "[]"):
        assert code.count(opening) == code.count(closing), f"unbalanced {opening}{closing}"
    for needle in ("pipeline {", "matrix {", "stash name", "unstash", "junit testResults", "cron("):
        assert needle in text
    values = re.search(r"values ([^\n]+)", text).group(1)
    shards = re.search(r"SHARDS = '(\d+)'", text).group(1)
    assert [int(v.strip(" '")) for v in values.split(",")] == list(range(1, int(shards) + 1))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_units_verify():
    units = sorted((CI / "systemd").glob("preuve-sweep.*"))
    proc = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, units)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and "preuve-sweep" not in proc.stderr, proc.stderr


def _preuve_commands(text: str) -> list[list[str]]:
    """Every `preuve run|merge ...` command line of a template (shell continuations joined)."""
    text = re.sub(r"\\\n\s*", " ", text)
    text = re.sub(r"\n\s+(--)", r" \1", text)  # YAML folded continuation lines starting with an option
    out = []
    for m in re.finditer(r"(?:^|[\s'>|/])preuve (run|merge|judge)\b([^\n;|']*)", text):
        line = re.sub(r"\$\{\{[^}]*\}\}|\$\$\([^)]*\)|\$\{?\w+\}?", "1", m.group(2).split(" || ")[0])
        try:
            words = shlex.split(line)
        except ValueError:  # the command closes a quote opened before it (sh -c '...')
            words = shlex.split(line.replace("'", ""))
        previous = ["", *words[:-1]]
        words = ["high" if p == "--fail-on" and w == "1" else w for p, w in zip(previous, words, strict=True)]
        out.append([m.group(1), *words])
    return out


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.relative_to(CI).as_posix())
def test_preuve_command_lines_use_real_options(path):
    commands = _preuve_commands(path.read_text())
    if path.suffix == ".timer" or path.name == "preuve-reports.yaml":
        return
    assert commands, f"{path.name}: no preuve command found"
    parser = build_parser()
    for argv in commands:
        try:
            parser.parse_args(argv)
        except SystemExit as exc:
            pytest.fail(f"{path.name}: `preuve {' '.join(argv)}` does not parse (exit {exc.code})")


def test_shard_commands_are_one_based():
    for path in TEMPLATES:
        text = path.read_text()
        if "--shard" in text and "JOB_COMPLETION_INDEX" in text:
            assert "JOB_COMPLETION_INDEX + 1" in text, f"{path.name}: Kubernetes indexes start at 0, shards at 1"


def test_templates_are_in_the_packaged_tree():
    assert Path(CI / "kubernetes" / "sweep-cronjob.yaml").read_text().count("preuve merge") == 1
