"""Hostile and mistaken inputs (issue 14, defects 2, 5-12): each refused with file:line and exit 3 (nothing
scanned, never a traceback with exit 1), or written out safely, and never echoing what could be a secret.

No lab needed: everything runs on files and, for the escaping test, a scripted SSH server on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from preuve.exitcodes import Exit
from tests.conftest import FULL_PROFILE, REPO, preuve
from tests.support.keys import throwaway_private_key
from tests.unit.test_input_errors import INVENTORY, PROFILE

HOSTILE = "ev\x1b]0;pwned\x07il\x1b[2J\uffff\x00\u202e"  # OSC title, clear screen, U+FFFF, NUL, bidi override
SOON = (dt.date.today() + dt.timedelta(days=90)).isoformat()


def _lint(tmp: Path, **files: str) -> subprocess.CompletedProcess:
    args = []
    for kind, flag in (("inventory", "-i"), ("profile", "-p"), ("waivers", "-w")):
        if kind in files:
            path = tmp / f"{kind}.yaml"
            path.write_text(files[kind])
            args += [flag, path]
    return preuve("lint", *args)


def _assert_refused(proc: subprocess.CompletedProcess, where: str, *words: str) -> None:
    """Exit 3, a message at `where` (file or file:line) with the words, no traceback."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == Exit.INVALID_INPUT, out
    assert "Traceback" not in out, out
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith(where)]
    assert lines, f"no error at {where}:\n{out}"
    assert any(all(w.lower() in ln.lower() for w in words) for ln in lines), out


# --- 6. YAML alias bombs -------------------------------------------------------------------------------------


def _bomb(levels: int = 9, width: int = 9) -> str:
    rows = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    rows += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(rows) + "\n"


def test_alias_bomb_is_refused_fast_and_small(tmp_path):
    """9 levels of 9 aliases: ~400 million values once expanded. Measured in a fresh interpreter (memory capped
    at 1 GiB so that the old behaviour fails instead of swapping): refused with file:line, well under 1 s and
    100 MB for the lint call itself (bounds generous: 5 s; 100 MB of Python allocations and of resident growth)."""
    bomb = tmp_path / "inventory.yaml"
    bomb.write_text("version: 1\nname: bomb\n" + _bomb())
    assert len(bomb.read_bytes()) < 1024
    code = textwrap.dedent(f"""
        import contextlib, io, json, resource, sys, time, tracemalloc
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
        from preuve.cli import main
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            main(["lint", "-i", {str(REPO / "inventories" / "example.yaml")!r}])  # imports paid before measuring
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        err = io.StringIO()
        tracemalloc.start()
        t0 = time.perf_counter()
        try:
            with contextlib.redirect_stderr(err):
                rc = main(["lint", "-i", {str(bomb)!r}])
        except MemoryError:
            rc = "MemoryError"
        took = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
        print(json.dumps({{"rc": rc, "seconds": took, "peak_mb": peak, "rss_growth_mb": grown,
                          "stderr": err.getvalue()}}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.splitlines()[-1])
    assert got["rc"] == Exit.INVALID_INPUT, got
    assert f"{bomb}:" in got["stderr"] and "alias" in got["stderr"], got["stderr"]
    assert got["seconds"] < 5, got
    # What refusing the bomb costs, not what importing preuve costs (a cold interpreter compiling every module
    # without bytecode caches peaks far above a warm one): Python allocations and resident growth of the call.
    assert got["peak_mb"] < 100 and got["rss_growth_mb"] < 100, got


# --- 10. tracebacks with exit 1: every hostile input is a precise message with exit 3 -------------------------

_MATRIX_INV = INVENTORY + "flow_matrix: flows.csv\n"
_CSV_HEAD = "id,src,dst,proto,ports,justification\n"

BATTERY = [
    # (name, files, where relative to tmp (file, line), words)
    (
        "huge integer",
        {"inventory": INVENTORY.replace("port: 22", "port: 1" + "0" * 5000)},
        ("inventory.yaml", 14),
        ("integer",),
    ),
    ("huge float", {"inventory": INVENTORY.replace("port: 22", "port: 1e999")}, ("inventory.yaml", 14), ()),
    ("complex key", {"inventory": INVENTORY + "? [a, b]\n: c\n"}, ("inventory.yaml", 17), ("key",)),
    (
        "impossible date",
        {
            "waivers": "waivers:\n  - {id: W, check: TLS-VERSIONS, target: web, approver: RSSI,\n"
            "     justification: legacy client until migration, expires: 2027-02-30}\n"
        },
        ("waivers.yaml", 3),
        ("date",),
    ),
    (
        "deep nesting",
        {"inventory": INVENTORY + "tags_extra: " + "[" * 500 + "]" * 500 + "\n"},
        ("inventory.yaml", 17),
        ("nested",),
    ),
    ("recursive alias", {"inventory": INVENTORY + "loop: &l [*l]\n"}, ("inventory.yaml", 17), ("alias",)),
    (
        "not UTF-8",
        {"inventory": INVENTORY.replace("name: t", "name: t\xe9").encode("latin-1").decode("utf-8", "surrogateescape")},
        ("inventory.yaml", None),
        ("UTF-8",),
    ),
    (
        "control character in a name",
        {"inventory": INVENTORY.replace("name: h1", 'name: "h1\\e[31m"')},
        ("inventory.yaml", 8),
        ("U+001B",),
    ),
    (
        "U+FFFF in a waiver",
        {
            "waivers": "waivers:\n  - {id: W, check: TLS-VERSIONS, target: web, approver: "
            f'"RSSI\\uffff", justification: legacy client until migration, '
            f"expires: {SOON}}}\n"
        },
        ("waivers.yaml", 2),
        ("U+FFFF",),
    ),
]


@pytest.mark.parametrize(("files", "where", "words"), [c[1:] for c in BATTERY], ids=[c[0] for c in BATTERY])
def test_hostile_input_is_exit_3_with_file_and_line(tmp_path, files, where, words):
    for kind, text in files.items():  # surrogateescape: write the bytes as they are (not-UTF-8 case)
        (tmp_path / f"{kind}.yaml").write_bytes(text.encode("utf-8", "surrogateescape"))
    args = [
        x
        for k, f in (("inventory", "-i"), ("profile", "-p"), ("waivers", "-w"))
        if k in files
        for x in (f, tmp_path / f"{k}.yaml")
    ]
    proc = preuve("lint", *args)
    name, line = where
    _assert_refused(proc, f"{tmp_path / name}:{line}:" if line else f"{tmp_path / name}:", *words)
    assert "\x1b" not in proc.stdout + proc.stderr


def test_oversized_csv_field_and_input_size_are_refused(tmp_path):
    (tmp_path / "flows.csv").write_text(_CSV_HEAD + "F1,admin,admin,tcp,22," + "x" * 200_000 + "\n")
    proc = _lint(tmp_path, inventory=_MATRIX_INV)
    _assert_refused(proc, f"{tmp_path / 'flows.csv'}:2:", "CSV")
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\nname: t\n" + "# padding\n" * 1_000_000)
    proc = preuve("lint", "-i", big)
    _assert_refused(proc, f"{big}:", "MiB")


# --- 9. silently accepted nonsense ----------------------------------------------------------------------------

MATRIX = """\
version: 1
probe_hosts:
  admin: [198.18.1.9]
flows:
  - {id: F1, src: admin, dst: admin, proto: tcp, ports: [22], justification: administration by the bastion}
"""


@pytest.mark.parametrize(
    ("inventory", "matrix", "where", "words"),
    [
        (
            INVENTORY + "flow_matrix: m.yaml\n",
            "version: 1\nflows:\n  F1: {src: admin, dst: admin, proto: tcp, ports: [22]}\n",
            ("m.yaml", 2),
            ("list of flows",),
        ),
        (INVENTORY + "flow_matrix: m.yaml\n", "just some text, not a matrix\n", ("m.yaml", 1), ("not a flow matrix",)),
        (
            INVENTORY + "flow_matrix: m.yaml\n",
            MATRIX.replace("version: 1\n", "version: 1\nsentinel_ports: {tcp: [0, 70000], udp: [-5]}\n"),
            ("m.yaml", 2),
            ("65535",),
        ),
        (
            INVENTORY + "flow_matrix: m.yaml\n",
            MATRIX.replace("[198.18.1.9]", "[not-an-ip]"),
            ("m.yaml", 2),
            ("not an IP address",),
        ),
        (INVENTORY.replace("address: 198.18.1.20", "address: 999.1.1.1"), None, ("inventory.yaml", 9), ("IP address",)),
        (
            INVENTORY + "log_stores:\n  - {name: loki, kind: loki, url: 'https://logs.example:70000'}\n",
            None,
            ("inventory.yaml", 18),
            ("1-65535",),
        ),
        (
            INVENTORY + "log_stores:\n  - {name: loki, kind: loki, url: 'https://logs.example:0'}\n",
            None,
            ("inventory.yaml", 18),
            ("1-65535",),
        ),
    ],
    ids=[
        "flows-as-mapping",
        "non-matrix-file",
        "sentinel-ports",
        "probe-host-not-ip",
        "address-999",
        "url-port-70000",
        "url-port-0",
    ],
)
def test_nonsense_is_a_lint_error(tmp_path, inventory, matrix, where, words):
    if matrix is not None:
        (tmp_path / "m.yaml").write_text(matrix)
    proc = _lint(tmp_path, inventory=inventory)
    _assert_refused(proc, f"{tmp_path / where[0]}:{where[1]}:", *words)


def test_a_profile_selecting_no_check_is_a_warning(tmp_path):
    proc = _lint(tmp_path, profile=PROFILE.replace('select: {checks: ["*"]}', 'select: {checks: ["NO-SUCH-*"]}'))
    assert proc.returncode == Exit.COMPLIANT, proc.stderr
    assert "selects no check" in proc.stderr and "warning" in proc.stderr


# --- 2. target names are unique across the inventory ---------------------------------------------------------


def test_target_names_are_unique_across_sections(tmp_path):
    """A host is also judged as an ssh_endpoint under its own name: an ssh_endpoint of that name elsewhere
    would be judged on the host's evidence. Refused, naming both lines."""
    text = INVENTORY + "ssh_endpoints:\n  - {name: h1, address: 198.18.1.99, port: 2222}\n"
    proc = _lint(tmp_path, inventory=text)
    _assert_refused(proc, f"{tmp_path / 'inventory.yaml'}:18:", "h1", "hosts[0]", "line 8")
    text = INVENTORY.replace("name: web,", "name: h1,")
    _assert_refused(_lint(tmp_path, inventory=text), f"{tmp_path / 'inventory.yaml'}:16:", "line 8")


# --- 7. credentials inside URLs -------------------------------------------------------------------------------

SECRET = "Hunter2-url-secret"
SECTIONS = (
    "sites:\n  - {name: par, country: FR}\n  - {name: lyo, country: FR}\n",
    "s3:\n  endpoints:\n    - {name: s3a, provider: ovh, url: 'https://AKIA:" + SECRET + "@s3.example',\n"
    "       access_key: {env: A_KEY_ID_LONG}, secret_key: {env: A_SECRET_LONG}}\n",
    "log_stores:\n  - {name: es, kind: elasticsearch, url: 'https://auditor:" + SECRET + "@logs.example:9200',"
    " indices: [logs-*]}\n",
    "backups:\n  - {name: r1, tool: restic, repository: 'rest:https://u:" + SECRET + "@backup.example/r1',\n"
    "     password: {env: RESTIC_PW_LONG}, site: lyo, primary_site: par}\n",
    "kubernetes:\n  clusters:\n    - {name: k1, server: 'https://admin:" + SECRET + "@k8s.example:6443',"
    " ca_file: ca.pem, token: {env: K_TOKEN_LONG}}\n",
    "log_stores:\n  - {name: loki, kind: loki, url: 'https://logs.example/?token=" + SECRET + "'}\n",
)


@pytest.mark.parametrize(
    "section", SECTIONS[1:], ids=["s3-url", "log-store-url", "backup-repo", "kube-server", "token-in-query"]
)
def test_credentials_in_a_url_are_an_inline_secret(tmp_path, section):
    text = INVENTORY.replace("sites:\n  - {name: par, country: FR}\n", SECTIONS[0]) + section
    proc = _lint(tmp_path, inventory=text)
    assert proc.returncode == Exit.INVALID_INPUT, proc.stdout + proc.stderr
    assert "credentials inside a URL" in proc.stderr, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr


def test_a_user_name_alone_in_a_backup_url_is_no_secret(tmp_path):
    section = (
        "backups:\n  - {name: b1, tool: borg, repository: 'ssh://borg@backup.example:22/./repo', "
        "site: lyo, primary_site: par}\n"
    )
    text = INVENTORY.replace("sites:\n  - {name: par, country: FR}\n", SECTIONS[0]) + section
    proc = _lint(tmp_path, inventory=text)
    assert proc.returncode == Exit.COMPLIANT, proc.stderr


# --- 8. blanket and everlasting waivers -----------------------------------------------------------------------


def _waiver(check: str = "TLS-VERSIONS", target: str = "web", expires: str = SOON) -> str:
    return (
        f"waivers:\n  - {{id: W-1, check: '{check}', target: '{target}', approver: RSSI,\n"
        f"     justification: legacy client until migration, expires: '{expires}'}}\n"
    )


def test_blanket_and_everlasting_waivers_are_refused(tmp_path):
    proc = _lint(tmp_path, inventory=INVENTORY, profile=PROFILE, waivers=_waiver("*", "*"))
    _assert_refused(proc, f"{tmp_path / 'waivers.yaml'}:2:", "every check on every target")
    proc = _lint(tmp_path, inventory=INVENTORY, profile=PROFILE, waivers=_waiver(expires="9999-12-31"))
    _assert_refused(proc, f"{tmp_path / 'waivers.yaml'}:3:", "365 days", "params.waivers.max_days")
    longer = PROFILE + "  waivers: {max_days: 4000}\n"  # the cap is the profile's (at most three years)
    proc = _lint(tmp_path, profile=longer, waivers=_waiver(expires="2099-12-31"))
    _assert_refused(proc, f"{tmp_path / 'profile.yaml'}:", "max_days")
    proc = _lint(tmp_path, inventory=INVENTORY, profile=PROFILE, waivers=_waiver())
    assert proc.returncode == Exit.COMPLIANT, proc.stderr


def test_expired_and_unmatched_waivers_are_warned_about(tmp_path):
    for waiver, words in (
        (_waiver(expires="2020-01-01"), "expired on 2020-01-01"),
        (_waiver(check="TLS-VERSINS"), "matches no check"),
        (_waiver(target="wbe"), "matches no target"),
    ):
        proc = _lint(tmp_path, inventory=INVENTORY, profile=PROFILE, waivers=waiver)
        assert proc.returncode == Exit.COMPLIANT, proc.stderr
        assert any(
            ln.startswith(f"{tmp_path / 'waivers.yaml'}:2:") and "warning" in ln and words in ln
            for ln in proc.stderr.splitlines()
        ), proc.stderr


# --- 11. paths: no copy outside the run, no collision, no echo ------------------------------------------------


def test_parent_profile_is_named_by_id_only(tmp_path):
    """`extends: ../std/base` let a child named base.yaml overwrite its parent's copy in inputs/profile/."""
    (tmp_path / "std").mkdir()
    (tmp_path / "std" / "base.yaml").write_text(PROFILE.replace("id: p", "id: base"))
    (tmp_path / "mine").mkdir()
    child = tmp_path / "mine" / "base.yaml"
    child.write_text('id: mine\nversion: "1.0"\ntitle: {fr: t, en: t}\nextends: ../std/base\n')
    proc = preuve("lint", "-p", child)
    _assert_refused(proc, f"{child}:4:", "extends")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (".env", f"AWS_SECRET_ACCESS_KEY={secrets.token_urlsafe(30)}\n"),
        ("id_ed25519", throwaway_private_key("openssh")),
        ("shadow", "root:$y$j9T$Wb0z3Zp4Qx$SuperSecretHashValue1234567890:19700:0:99999:7:::\n"),
    ],
    ids=[".env", "id_ed25519", "shadow"],  # stable ids (the values are made at run time): pytest-xdist needs them
)
def test_a_file_passed_by_mistake_is_never_echoed(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    secret_bits = [w for w in content.replace("=", " ").replace(":", " ").split() if len(w) > 12]
    for flag in ("-i", "-p", "-w"):
        proc = preuve("lint", flag, path)
        assert proc.returncode == Exit.INVALID_INPUT, proc.stdout + proc.stderr
        assert f"{path}:" in proc.stderr
        leaked = [b for b in secret_bits if b in proc.stdout + proc.stderr]
        assert not leaked, proc.stderr
    inv = tmp_path / "inv.yaml"  # the same file named as a flow matrix (CSV or YAML)
    for matrix_name in (name, f"{name}.csv"):
        (tmp_path / matrix_name).write_text(content)
        inv.write_text(INVENTORY + f"flow_matrix: '{matrix_name}'\n")
        proc = preuve("lint", "-i", inv)
        assert proc.returncode == Exit.INVALID_INPUT, proc.stderr
        assert not [b for b in secret_bits if b in proc.stdout + proc.stderr], proc.stderr


def test_flow_matrix_outside_the_inventory_folder_is_copied_inside_the_run(tmp_path):
    """`flow_matrix: ../../x.yaml` was copied to RUN/inputs/../../x.yaml: outside the run, out of the manifest.
    Now it is kept under a content-addressed name inside inputs/, and a replay reads that copy."""
    inv_dir = tmp_path / "a" / "b"
    inv_dir.mkdir(parents=True)
    (tmp_path / "x.yaml").write_text(MATRIX)
    inv = inv_dir / "inventory.yaml"
    inv.write_text(
        "version: 1\nname: t\nzones:\n  - {name: admin, kind: admin, cidrs: [198.18.1.0/24]}\n"
        "flow_matrix: ../../x.yaml\n"
    )
    out = tmp_path / "runs" / "r1" / "run"
    out.parent.mkdir(parents=True)
    before = {p for p in tmp_path.rglob("*")}
    proc = preuve("run", "-i", inv, "-p", FULL_PROFILE, "-o", out, "-q", "--select", "NET-FLOW-JUSTIFIED")
    assert proc.returncode in (Exit.COMPLIANT, Exit.NON_COMPLIANT), proc.stdout + proc.stderr
    created = {p for p in tmp_path.rglob("*") if "ledger" not in p.name} - before  # the audit ledger sits beside
    assert all(out in p.parents or p == out for p in created), sorted(map(str, created))
    manifest = (out / "MANIFEST.sha256").read_text()
    copies = list((out / "inputs").rglob("x.yaml"))
    assert len(copies) == 1 and str(copies[0].relative_to(out)) in manifest, manifest
    (tmp_path / "x.yaml").unlink()  # the replay must not need the original
    again = tmp_path / "judged"
    proc = preuve("judge", out, "-o", again, "-q")
    assert proc.returncode in (Exit.COMPLIANT, Exit.NON_COMPLIANT), proc.stdout + proc.stderr
    first = {(r["check_id"], r["target"]["name"], r["status"]) for r in map(json.loads, (out / "results.jsonl").open())}
    # judge also runs the other checks that take the same facts (NET-MAP-REVIEWED): compare the one selected
    second = {
        (r["check_id"], r["target"]["name"], r["status"])
        for r in map(json.loads, (again / "results.jsonl").open())
        if r["check_id"] == "NET-FLOW-JUSTIFIED"
    }
    assert first == second and first


# --- 12. redaction never rewrites a fact ----------------------------------------------------------------------


def test_a_short_secret_is_refused_by_reference_and_never_masks_a_fact(tmp_path, monkeypatch):
    from preuve.evidence.redact import Redactor
    from preuve.inputs.inventory import SecretRef
    from preuve.observe.errors import ObservationError
    from preuve.observe.reveal import reveal

    short = "uscadmn"  # a 7-letter access key id
    key_file = tmp_path / "s3.id"
    key_file.write_text(short + "\n")
    monkeypatch.setenv("PV_TEST_S3_SECRET", "a-long-enough-secret-value")
    text = INVENTORY + (
        "s3:\n  endpoints:\n    - {name: s3a, provider: ovh, url: 'https://s3.example',\n"
        f"       access_key: {{file: {key_file}}}, secret_key: {{env: PV_TEST_S3_SECRET}}}}\n"
    )
    (tmp_path / "inventory.yaml").write_text(text)
    proc = preuve("lint", "-i", tmp_path / "inventory.yaml", env={"PV_TEST_S3_SECRET": "a-long-enough-secret-value"})
    _assert_refused(
        proc, f"{tmp_path / 'inventory.yaml'}:20:", "s3.endpoints[0].access_key", str(key_file), "shorter than 12"
    )
    assert short not in proc.stdout + proc.stderr
    with pytest.raises(ObservationError, match="shorter than 12") as exc:
        reveal(SecretRef(file=str(key_file)), "access key of s3a")
    assert short not in str(exc.value)
    r = Redactor()
    r.register(short)
    assert r.text(f"CN=tls-{short}.lab.test") == f"CN=tls-{short}.lab.test"
    long_secret = "Xq7-lab-secret-value"
    r.register(long_secret)
    assert long_secret not in r.text(f"pw={long_secret}")


# --- 5. output the target controls ----------------------------------------------------------------------------


def _hostile_result() -> object:
    from preuve.results.model import Result

    return Result.model_validate(
        {
            "finding_id": "PV-0",
            "check_id": "SSH-KEX",
            "title": {"fr": f"t{HOSTILE}", "en": "t"},
            "requirements": ["10.2.e"],
            "rule": f"r{HOSTILE}",
            "severity": "high",
            "status": "waived",
            "target": {"name": f"t{HOSTILE}", "kind": "ssh_endpoint", "address": f"a{HOSTILE}", "port": 22},
            "expected": {"kex": [f"e{HOSTILE}"]},
            "observed": {"kex": [f"o{HOSTILE}"]},
            "expectations": [],
            "message": {
                "fr": f"observé {HOSTILE} [bold red]markup[/]",
                "en": f"observed {HOSTILE} [bold red]markup[/]",
            },
            "remediation": {"fr": f"r{HOSTILE}", "en": "r"},
            "evidence": [{"path": f"observations/ssh/t{HOSTILE}.json", "sha256": "0" * 64}],
            "collected_at": "2026-01-01T00:00:00Z",
            "duration_ms": 1.0,
            "waiver": {
                "id": f"W{HOSTILE}",
                "approver": f"RSSI{HOSTILE}",
                "expires": "2027-01-01",
                "justification": f"j{HOSTILE}",
            },
        }
    )


def test_every_writer_escapes_what_a_target_controls(tmp_path):
    """junit.xml stays XML 1.0 (strict parser), the terminal gets no escape sequence nor rich markup, and
    report.html no control character; the text stays readable (\\x1b shown, not dropped)."""
    import io

    from rich.console import Console

    from preuve.report.junit import write_junit
    from preuve.report.summary import print_summary

    r = _hostile_result()
    bad = r.model_copy(update={"status": "fail"})
    run = {
        "run_id": "r",
        "tool": {"version": "0"},
        "profile": {"id": f"p{HOSTILE}", "version": "1", "sha256": "0"},
        "inventory": {"sha256": "0"},
        "started_at": "2026-01-01T00:00:00Z",
        "scanner": {"hostname": "h"},
        "stats": {"fail": 1, "waived": 1},
    }
    path = tmp_path / "junit.xml"
    write_junit([r, bad], path, run)
    root = ET.parse(path).getroot()  # expat refuses any character XML 1.0 forbids
    text = path.read_text()
    assert "\\x1b" in text and "\\uffff" in text
    assert {p.get("value") for p in root.iter("property") if p.get("name") == "run.waived"} == {"1"}  # junit-10.xsd
    buf = io.StringIO()
    print_summary([r, bad], run, str(tmp_path), lang="en", console=Console(file=buf, width=200, color_system=None))
    shown = buf.getvalue()
    assert not any(c in shown for c in "\x1b\x07\x00\uffff\u202e"), repr(shown)
    assert "[bold red]markup[/]" in shown and "Waivers: 1 failure" in shown


def test_escapes_stay_readable():
    from preuve.textsafe import terminal, xml_text

    assert xml_text("a\x1bb\uffff\n") == "a\\x1bb\\uffff\n" and terminal("a\x1b[2J\u202e") == "a\\x1b[2J\\u202e"


def test_a_hostile_ssh_server_cannot_break_the_reports(tmp_path):
    """A scripted SSH server on 127.0.0.1 whose banner and KEXINIT names carry escape sequences, U+FFFF and
    control characters: the run's junit.xml parses, report.html and the terminal carry none of them."""
    from tests.support.sshd_servers import kexinit_packet, scripted_server

    evil = "evil-kex\x1b]0;pwned\x07\x1b[31m\uffff"
    lists = [
        ["curve25519-sha256", evil],
        ["ssh-ed25519", "ssh-rsa\x1b[2J"],
        ["aes256-gcm@openssh.com"],
        ["aes256-gcm@openssh.com"],
        ["hmac-sha2-256-etm@openssh.com"],
        ["hmac-sha2-256-etm@openssh.com"],
        ["none"],
        ["none"],
        [],
        [],
    ]
    payload = "SSH-2.0-Fake\x1b[31mRED\uffff\r\n".encode() + kexinit_packet(lists)
    out = tmp_path / "run"
    with scripted_server(payload) as port:
        inv = tmp_path / "inventory.yaml"
        inv.write_text(f"version: 1\nname: t\nssh_endpoints:\n  - {{name: evil, address: 127.0.0.1, port: {port}}}\n")
        proc = preuve("run", "-i", inv, "-p", FULL_PROFILE, "-o", out, "--select", "SSH-*")
    assert proc.returncode in (Exit.NON_COMPLIANT, Exit.INCOMPLETE), proc.stdout + proc.stderr
    results = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert any(r["check_id"] == "SSH-KEX" and r["status"] == "fail" for r in results), results
    ET.parse(out / "junit.xml")
    for text in (proc.stdout, proc.stderr, (out / "report.html").read_text()):
        assert not any(c in text for c in "\x1b\x07\uffff"), repr(text[:3000])


def test_a_hostile_certificate_subject_cannot_break_the_reports(tmp_path):
    """A TLS server on 127.0.0.1 whose certificate's organisation carries an OSC title sequence, a colour escape
    and U+FFFF (the TLS checks quote subjects): junit.xml stayed unparseable before; now every writer escapes."""
    import ipaddress
    import socket
    import ssl
    import threading

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "evil\x1b]0;pwned\x07\x1b[31m\uffff"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    done = threading.Event()

    def handle(conn: socket.socket) -> None:
        try:
            with ctx.wrap_socket(conn, server_side=True) as s:
                s.settimeout(1)
                s.recv(1024)
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    out = tmp_path / "run"
    try:
        inv = tmp_path / "inventory.yaml"
        port = server.getsockname()[1]
        inv.write_text(f"version: 1\nname: t\ntls_endpoints:\n  - {{name: evil, address: 127.0.0.1, port: {port}}}\n")
        proc = preuve("run", "-i", inv, "-p", FULL_PROFILE, "-o", out, "--select", "TLS-*")
    finally:
        done.set()
        thread.join(2)
        server.close()
    assert proc.returncode in (Exit.NON_COMPLIANT, Exit.INCOMPLETE), proc.stdout + proc.stderr
    assert "evil" in (out / "results.jsonl").read_text()  # the subject reached the verdicts
    ET.parse(out / "junit.xml")
    assert "\\uffff" in (out / "junit.xml").read_text()  # U+FFFF shown as an escape, not dropped
    for text in (proc.stdout, proc.stderr, (out / "report.html").read_text(), (out / "ciso-assistant.csv").read_text()):
        assert not any(c in text for c in "\x1b\x07\uffff"), repr(text[:3000])


def test_what_a_server_shows_everyone_is_never_masked():
    """Registered secrets are masked wherever preuve's own exchanges could carry them, but a TLS certificate or
    an SSH banner is what the server shows any anonymous client: masking there rewrote a fact (the CN)."""
    from preuve.evidence.redact import Redactor

    r = Redactor()
    secret = "usca-lab-key-2026"
    r.register(secret)
    pem = throwaway_private_key("pkcs8")
    body = pem.splitlines()[1]
    cert = {"subject": f"CN=tls-{secret}.lab.test", "pem": pem}
    tls = {
        "collector": "tls",
        "target": "t",
        "query": {"host": secret},
        "facts": {"certificate": cert},
        "raw": {"chain": [cert["subject"]]},
    }
    out = r.observation(tls)
    assert out["facts"]["certificate"]["subject"] == f"CN=tls-{secret}.lab.test"
    assert out["raw"]["chain"] == [f"CN=tls-{secret}.lab.test"]
    assert body not in out["facts"]["certificate"]["pem"]  # secret shapes are still masked
    assert secret not in json.dumps(out["query"])  # what preuve asked may carry its own secrets
    host = {**tls, "collector": "ssh_host"}
    # withheld as an error (tests/unit/test_redaction_keeps_facts.py)
    assert secret not in json.dumps(r.observation(host))
