"""Bad input gets a precise error (file, line, field, what was expected), exit code 3, and nothing scanned."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from preuve.exitcodes import Exit
from tests.conftest import FULL_PROFILE, preuve

INVENTORY = """\
version: 1
name: t
sites:
  - {name: par, country: FR}
zones:
  - {name: admin, kind: admin, cidrs: [198.18.1.0/24]}
hosts:
  - name: h1
    address: 198.18.1.20
    zone: admin
    site: par
    ssh:
      user: auditor
      port: 22
tls_endpoints:
  - {name: web, address: 198.18.1.30, port: 443}
"""

PROFILE = """\
id: p
version: "1.0"
title: {fr: t, en: t}
select: {checks: ["*"]}
params:
  tls: {min_rsa_bits: 2048}
"""

WAIVERS = """\
waivers:
  - id: W-1
    check: TLS-VERSIONS
    target: web
    justification: legacy client until migration
    approver: RSSI
    expires: 2027-06-30
"""

# (kind, text, line, field, words expected in the message)
CASES = [
    ("inventory", INVENTORY.replace("port: 22", "port: abc"), 14, "hosts[0].ssh.port", "integer"),
    ("inventory", INVENTORY.replace("port: 22", "port: 70000"), 14, "hosts[0].ssh.port", "65535"),
    (
        "inventory",
        INVENTORY.replace("address: 198.18.1.20", "address: 'not an address'"),
        9,
        "hosts[0].address",
        "IP address",
    ),
    ("inventory", INVENTORY.replace("zone: admin\n", "zone: nowhere\n"), 10, "hosts[0].zone", "unknown zone"),
    ("inventory", INVENTORY.replace("site: par\n", "site: lyon\n"), 11, "hosts[0].site", "unknown site"),
    ("inventory", INVENTORY.replace("country: FR", "country: France"), 4, "sites[0].country", "pattern"),
    (
        "inventory",
        INVENTORY.replace("    zone: admin\n", "    zoen: admin\n"),
        10,
        "hosts[0].zoen",
        "unknown field",
    ),
    (
        "inventory",
        INVENTORY.replace("      port: 22\n", "      port: 22\n      password: hunter2-secret\n"),
        15,
        "hosts[0].ssh.password",
        "never inlined",
    ),
    ("inventory", INVENTORY.replace("198.18.1.0/24", "198.18.1.0/33"), 6, "zones[0].cidrs", "cidrs"),
    (
        "inventory",
        INVENTORY + "  - {name: web, address: 198.18.1.31}\n",
        17,
        "tls_endpoints[1].name",
        "duplicate name",
    ),
    (
        "inventory",
        INVENTORY.replace("  - name: h1\n", "  - name: h1\n    name: h2\n"),
        9,
        "hosts[0].name",
        "duplicate key",
    ),
    ("inventory", INVENTORY.replace("kind: admin", "kind: admni"), 6, "zones[0].kind", "admin"),
    (
        "inventory",
        INVENTORY.replace("    site: par\n", "    site: par\n    data_volumes: [sdb]\n"),
        12,
        "hosts[0].data_volumes",
        "device paths under /dev/",
    ),
    (
        "inventory",
        INVENTORY.replace("    site: par\n", "    site: par\n    package_mirrors: http://mirror.dmz/\n"),
        12,
        "hosts[0].package_mirrors",
        "list",
    ),
    ("inventory", INVENTORY.replace("sites:\n", "sites: [\n"), None, "", "YAML syntax"),
    ("inventory", INVENTORY.replace("name: t\n", ""), 1, "name", "required"),
    (
        "profile",
        PROFILE.replace("min_rsa_bits: 2048", "min_rsa_bits: 512"),
        6,
        "params.tls.min_rsa_bits",
        "1024",
    ),
    ("profile", PROFILE.replace("min_rsa_bits", "min_rsa_bit"), 6, "params.tls.min_rsa_bit", "unknown field"),
    ("profile", PROFILE.replace('version: "1.0"', "version: one"), 2, "version", "pattern"),
    (
        "profile",
        PROFILE.replace('select: {checks: ["*"]}\n', "extends: nowhere\n"),
        4,
        "extends",
        "not found",
    ),
    (
        "waivers",
        WAIVERS.replace("expires: 2027-06-30", "expires: someday"),
        7,
        "waivers[0].expires",
        "ISO 8601",
    ),
    (
        "waivers",
        WAIVERS.replace("expires: 2027-06-30", "expires: 2027-06-30T10:00:00"),
        7,
        "waivers[0].expires",
        "offset",
    ),
    ("waivers", WAIVERS.replace("    approver: RSSI\n", ""), 2, "waivers[0].approver", "required"),
    (
        "waivers",
        WAIVERS.replace("justification: legacy client until migration", "justification: ok"),
        5,
        "waivers[0].justification",
        "at least 10",
    ),
]


def _write(tmp: Path, kind: str, text: str) -> list[str]:
    files = {"inventory": INVENTORY, "profile": PROFILE, "waivers": WAIVERS, kind: text}
    args = []
    for k, flag in (("inventory", "-i"), ("profile", "-p"), ("waivers", "-w")):
        path = tmp / f"{k}.yaml"
        path.write_text(files[k])
        args += [flag, str(path)]
    return args


def test_valid_inputs_lint_clean(tmp_path):
    proc = preuve("lint", *_write(tmp_path, "inventory", INVENTORY))
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("kind", "text", "line", "field", "words"),
    CASES,
    ids=[f"{c[0]}-{c[3] or 'syntax'}-{i}" for i, c in enumerate(CASES)],
)
def test_malformed_input_is_named_precisely(tmp_path, kind, text, line, field, words):
    proc = preuve("lint", *_write(tmp_path, kind, text))
    assert proc.returncode == Exit.INVALID_INPUT, proc.stdout + proc.stderr
    where = f"{tmp_path / (kind + '.yaml')}:{line}:" if line else f"{tmp_path / (kind + '.yaml')}:"
    matching = [ln for ln in proc.stderr.splitlines() if ln.startswith(where) and field in ln]
    assert matching, f"expected an error at {where} naming {field!r}, got:\n{proc.stderr}"
    assert any(words.lower() in ln.lower() for ln in matching), proc.stderr


def test_inline_secret_is_not_echoed(tmp_path):
    text = INVENTORY.replace("      port: 22\n", "      port: 22\n      password: hunter2-secret\n")
    proc = preuve("lint", *_write(tmp_path, "inventory", text))
    assert proc.returncode == Exit.INVALID_INPUT
    assert "hunter2-secret" not in proc.stdout + proc.stderr


def test_run_with_bad_input_scans_nothing(tmp_path):
    args = _write(tmp_path, "inventory", INVENTORY.replace("port: 22", "port: abc"))
    out = tmp_path / "run"
    proc = preuve("run", *args, "-o", out)
    assert proc.returncode == Exit.INVALID_INPUT, proc.stderr
    assert "hosts[0].ssh.port" in proc.stderr
    assert not (out / "observations").exists()


def test_profile_inheritance_narrows_and_overrides():
    from preuve.inputs.profile import load_profile

    quick = load_profile(FULL_PROFILE.parent / "ci-quick.yaml")
    assert quick.chain == ["secnumcloud-3.2", "ci-quick"]
    assert quick.params.timeout == 3
    assert quick.params.tls.min_rsa_bits == 2048
    assert quick.selected("TLS-VERSIONS", [], ["10.2.c"])
    assert not quick.selected("SSH-ROOT-LOGIN", [], ["10.2.e"])


def test_usage_error_has_its_own_exit_code():
    proc = preuve("run", "--no-such-flag")
    assert proc.returncode == Exit.USAGE


def test_all_cases_are_distinct():
    assert len(CASES) >= 15
    assert len({textwrap.dedent(c[1]) for c in CASES}) == len(CASES)
