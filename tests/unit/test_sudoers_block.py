"""The one sudoers block (docs/sudoers.md, generated from preuve/observe/privileged.py) covers every command the
collectors run through `sudo -n` (issue 16 item 4),
and a refused sudo names the rule to add."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess

import pytest

from preuve.observe.privileged import COMMANDS, explain_refusal, sudoers_block
from tests.conftest import REPO

OBSERVE = REPO / "preuve" / "observe"
# `asroot CMD`, `as_root CMD`, `sudo -n CMD` (and sudo's own `-l`), in the shell snippets the collectors send
CALL = re.compile(r"""(?:\basroot|\bas_root|\bsudo -n)\s+(-l\b|"\$@"|"\$bin"|\{cmd\}|[A-Za-z][\w.-]*)""")
INDIRECT = {"-l": "list", '"$bin"': "syslog-ng", "{cmd}": "faillock"}  # where the command is a variable


def _readme_block() -> str:
    text = (REPO / "docs" / "sudoers.md").read_text()
    m = re.search(r"```sudoers\n(.*?)```", text, re.S)
    assert m, "docs/sudoers.md has a ```sudoers block"
    return m.group(1).rstrip("\n")


def _rules(block: str) -> list[str]:
    specs = []
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("# ") and "NOPASSWD:" in line:
            line = line[2:]  # optional rules are shown commented out: they still cover their command
        if line.startswith("#") or "NOPASSWD:" not in line:
            continue
        specs += [s.strip() for s in line.split("NOPASSWD:", 1)[1].split(",")]
    return specs


def _covers(rule: str, command: str) -> bool:
    """sudoers matching, as far as these rules use it: a path alone allows any arguments, `*` matches anything."""
    path, _, args = rule.partition(" ")
    cpath, _, cargs = command.partition(" ")
    if path != cpath:
        return False
    return not args or fnmatch.fnmatchcase(cargs, args)


def test_every_command_run_through_sudo_is_registered():
    found: dict[str, set[str]] = {}
    for path in sorted(OBSERVE.rglob("*.py")):  # every family package
        code = "\n".join(x for x in path.read_text().splitlines() if not x.lstrip().startswith("#"))
        for m in CALL.finditer(code):
            name = INDIRECT.get(m.group(1), m.group(1))
            if name == '"$@"':  # the helper's own definition: `sudo -n "$@"`
                continue
            found.setdefault(name, set()).add(path.name)
    registered = {c.name for c in COMMANDS}
    assert found, "the scan of the collectors found nothing: the pattern is broken"
    assert set(found) <= registered, (
        f"run through sudo but not in preuve/observe/privileged.py: "
        f"{ {k: sorted(v) for k, v in found.items() if k not in registered} }"
    )
    assert {"sshd", "cat", "chronyc", "ss", "nft", "list", "syslog-ng", "faillock"} <= set(found)


def test_readme_block_is_the_generated_one_and_covers_every_command():
    block = _readme_block()
    assert block == sudoers_block(), (
        "regenerate: python -c 'from preuve.observe.privileged import sudoers_block; print(sudoers_block())'"
    )
    rules = _rules(block)
    for c in COMMANDS:
        assert any(_covers(r, c.example) for r in rules), f"{c.example} is not allowed by the docs/sudoers.md block"


def test_the_matcher_can_refuse():
    rules = _rules(sudoers_block())
    assert not any(_covers(r, "/usr/bin/cat /etc/gshadow") for r in rules)
    assert not any(_covers(r, "/usr/sbin/nft flush ruleset") for r in rules)


@pytest.mark.skipif(shutil.which("visudo") is None, reason="visudo not installed")
def test_block_is_valid_sudoers(tmp_path):
    f = tmp_path / "preuve-audit"
    f.write_text(sudoers_block() + "\n")
    proc = subprocess.run(["visudo", "-cf", str(f)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_refused_sudo_names_the_rule_to_allow():
    msg = explain_refusal("sshd_effective", "sudo: a password is required")
    assert msg.startswith("sudo: a password is required") and "NOPASSWD: /usr/sbin/sshd -T *" in msg
    msg = explain_refusal(
        "timesync",
        "Sorry, user auditor is not allowed to execute '/usr/bin/chronyc -n -c tracking' as root on h. (sudo)",
    )
    assert "/usr/bin/chronyc -n -c tracking" in msg.split("—", 1)[1]
    assert explain_refusal("sshd_effective", "sshd: no hostkeys available") == "sshd: no hostkeys available"
