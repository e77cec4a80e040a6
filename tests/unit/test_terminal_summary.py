"""The terminal summary (issue 16 item 4): unknown host keys grouped per target with the fix, a table that wraps
instead of cutting the offending value, COLUMNS respected in CI logs, a closing line that names report.html."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from rich.console import Console

from preuve.report.summary import print_summary
from preuve.results.model import Result
from tests.conftest import REPO

RUN = {"profile": {"id": "secnumcloud-3.2", "version": "1.0"}, "stats": {"pass": 0, "fail": 1, "error": 26}}


def _result(check: str, target: str, status: str, en: str, port: int = 22) -> Result:
    return Result.model_validate(
        {
            "finding_id": f"PV-{check}-{target}",
            "check_id": check,
            "title": {"fr": "t", "en": "t"},
            "requirements": ["10.2.e"],
            "rule": "r",
            "severity": "high",
            "status": status,
            "target": {"name": target, "kind": "host", "address": "198.18.2.10", "port": port},
            "expected": {},
            "observed": {},
            "expectations": [],
            "message": {"fr": en, "en": en},
            "remediation": None,
            "evidence": [],
            "collected_at": None,
            "duration_ms": None,
        }
    )


def _unknown(target: str, host: str, port: int, check: str) -> Result:
    return _result(
        check,
        target,
        "error",
        f"could not observe: ssh auditor@{host}:{port}: host key unknown for "
        f"[{host}]:{port} (ssh-ed25519 SHA256:abcDEF) in known_hosts /etc/preuve/known_hosts; add it to "
        "known_hosts or enable trust_on_first_use",
        port,
    )


def _show(results: list[Result], out: str, width: int = 100) -> str:
    buf = io.StringIO()
    print_summary(results, RUN, out, lang="en", console=Console(file=buf, width=width, color_system=None))
    return buf.getvalue()


def test_unknown_host_key_is_one_line_per_target_with_the_fix(tmp_path):
    results = [_unknown("web1", "198.18.2.10", 2222, f"SSH-CHECK-{i}") for i in range(13)]
    results += [_unknown("web2", "198.18.2.11", 22, f"SSH-CHECK-{i}") for i in range(13)]
    results.append(_result("TLS-VERSIONS", "api", "fail", "TLS 1.0 accepted: observed [TLSv1.0]"))
    shown = _show(results, str(tmp_path))
    assert "SSH-CHECK-" not in shown, "no row per check left unjudged"
    assert "Unknown host key (2 target(s), 26 result(s) not judged)" in shown
    assert "trust_on_first_use: true" in shown
    assert "web1: ssh-ed25519 SHA256:abcDEF — ssh-keyscan -p 2222 198.18.2.10 >> /etc/preuve/known_hosts" in shown
    assert "web2: ssh-ed25519 SHA256:abcDEF — ssh-keyscan 198.18.2.11 >> /etc/preuve/known_hosts" in shown
    assert "TLS-VERSIONS" in shown, "other findings keep their rows"


def test_table_wraps_the_verdict_instead_of_cutting_it(tmp_path):
    offending = "x" * 50 + "-OFFENDING-VALUE-AT-THE-END"
    msg = "Ciphers: observed " + ", ".join(f"cipher-{i}" for i in range(40)) + ", " + offending
    shown = _show([_result("SSH-CIPHERS", "web1", "fail", msg)], str(tmp_path), width=80)
    flat = "".join(line.strip(" │┃") for line in shown.splitlines())
    assert "OFFENDING-VALUE-AT-THE-END" in flat.replace(" ", ""), shown
    assert "…" not in shown
    table = [line for line in shown.splitlines() if line[:1] in "┏┃┡│└"]
    assert len(table) > 4 and max(len(line) for line in table) <= 80, "wrapped within the width"


def test_closing_line_names_report_html(tmp_path):
    (tmp_path / "report.html").write_text("<html></html>")
    shown = _show([], str(tmp_path))
    assert f"Reports: {tmp_path / 'report.html'}" in shown.replace("\n", "")


def test_ci_log_width_follows_columns(tmp_path):
    """stdout is a pipe: COLUMNS sets the width (default 160)."""
    code = (
        "import sys; from tests.unit.test_terminal_summary import _result, RUN; "
        "from preuve.report.summary import print_summary; "
        "print_summary([_result('SSH-CIPHERS', 'web1', 'fail', 'observed ' + 'abc ' * 200)], RUN, sys.argv[1], "
        "lang='en')"
    )
    for columns, limit in (("70", 70), ("", 160)):
        env = {**os.environ, "COLUMNS": columns} if columns else {k: v for k, v in os.environ.items() if k != "COLUMNS"}
        out = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env, cwd=REPO
        ).stdout
        widths = [len(line) for line in out.splitlines() if line.startswith(("┏", "└"))]
        assert widths and max(widths) == limit, (columns, widths, out)
