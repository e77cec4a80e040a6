"""The container image recipe (issue 16 item 3) and the templates that use it.

The build itself is opt-in (`-m container`, needs a running docker or podman and network access to pull the base
image and the Debian/PyPI packages): never in the default suite. The static checks below always run.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from preuve import __version__
from tests.conftest import REPO

CONTAINERFILE = REPO / "Containerfile"


def test_containerfile_runs_unprivileged_with_the_tools_the_checks_need():
    text = CONTAINERFILE.read_text()
    user = re.findall(r"^USER (\d+)(?::(\d+))?$", text, re.M)
    assert user and user[-1][0] != "0", "the image's last USER is a numeric, non-root uid"
    install = re.search(r"apt-get install[^\n]*", text).group(0)
    for package in ("openssh-client", "restic", "borgbackup"):
        assert package in install
    assert 'ENTRYPOINT ["preuve"]' in text
    assert "lab up" not in text and "moto" not in text


def test_templates_run_the_image_or_install_from_a_checkout_never_from_pypi():
    offenders = [
        p.relative_to(REPO).as_posix()
        for p in (REPO / "ci").rglob("*")
        if p.is_file() and re.search(r"pip install preuve\b", p.read_text())
    ]
    assert not offenders, f"preuve is not on PyPI: {offenders}"


def test_kubernetes_templates_run_as_the_image_user():
    uid = re.findall(r"^USER (\d+)", CONTAINERFILE.read_text(), re.M)[-1]
    images = set()
    for path in sorted((REPO / "ci" / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            text = yaml.safe_dump(doc)
            images |= set(re.findall(r"image: (\S+)", text))
            for m in re.finditer(r"runAsUser: (\d+)", text):
                assert m.group(1) == uid, f"{path.name}: runAsUser {m.group(1)} but the image runs as {uid}"
    gitlab = yaml.safe_load((REPO / "ci" / "gitlab" / "preuve.gitlab-ci.yml").read_text())["variables"]
    images.add(gitlab["PREUVE_IMAGE"])
    preuve_images = {i for i in images if "preuve" in i}
    assert preuve_images == {f"registry.example.org/preuve:{__version__}"}, preuve_images


def _builder() -> str | None:
    for tool in ("docker", "podman"):
        if shutil.which(tool) and subprocess.run([tool, "info"], capture_output=True, timeout=20).returncode == 0:
            return tool
    return None


@pytest.mark.container
def test_image_builds_and_runs_as_non_root(tmp_path, request):
    """Opt-in: pytest -m container tests/unit/test_container.py"""
    if "container" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("opt-in: run with -m container (pulls images and packages)")
    tool = _builder()
    if tool is None:
        pytest.skip("no running docker or podman daemon on this machine")
    tag = f"preuve-test:{__version__}"
    build = subprocess.run(
        [tool, "build", "-f", str(CONTAINERFILE), "-t", tag, str(REPO)], capture_output=True, text=True, timeout=1800
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    version = subprocess.run([tool, "run", "--rm", tag, "--version"], capture_output=True, text=True, timeout=120)
    assert version.stdout.strip() == f"preuve {__version__}", version.stderr
    who = subprocess.run([tool, "run", "--rm", "--entrypoint", "id", tag, "-u"], capture_output=True, text=True)
    assert who.stdout.strip() not in ("", "0")
    tools = subprocess.run(
        [tool, "run", "--rm", "--entrypoint", "sh", tag, "-c", "ssh -V && restic version && borg --version"],
        capture_output=True,
        text=True,
    )
    assert tools.returncode == 0, tools.stderr


def test_wheel_stage_copies_what_the_package_build_reads():
    """setup.py lists the packages and profiles/ holds the shipped profiles (-p secnumcloud-3.2): a wheel stage
    without them builds a wheel that cannot load a profile by name. tests/lab/test_wheel_unprivileged.py builds the
    wheel from exactly these COPY sources and runs it (the install steps of the image, where no builder runs)."""
    stage = re.split(r"(?m)^FROM ", CONTAINERFILE.read_text())[1]
    copied = {s for line in re.findall(r"(?m)^COPY (.+)$", stage) for s in line.split()[:-1]}
    assert {"pyproject.toml", "setup.py", "README.md", "LICENSE", "preuve", "checks", "profiles"} <= copied, copied
    assert "lab" not in copied, "the image has no lab"
