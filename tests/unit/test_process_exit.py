"""`preuve run`/`judge` in their own process end with os._exit once every output is written (preuve.run.finish.
exit_process): what a normal exit does that matters still happens (streams flushed, atexit handlers run), and a
non-daemon thread still running makes it return so the normal exit waits for it as before."""

from __future__ import annotations

import subprocess
import sys
import threading

from preuve.run.finish import exit_process
from tests.conftest import REPO
from tools.record_unit_facts import DEFAULT_OUT as ARCHIVE
from tools.record_unit_facts import unpack


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)


def test_buffered_output_and_atexit_handlers_survive_the_exit():
    proc = python(
        "import atexit, sys\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "sys.stdout.write('x' * 200000)\n"
        "sys.stderr.write('to stderr')\n"
        "from preuve.run.finish import exit_process\n"
        "exit_process(4)\n"
        "print('not reached')\n"
    )
    assert proc.returncode == 4
    assert proc.stdout == "x" * 200000 + "atexit ran\n" and proc.stderr == "to stderr"


def test_a_running_non_daemon_thread_keeps_the_normal_exit():
    release = threading.Event()
    worker = threading.Thread(target=release.wait, daemon=False)
    worker.start()
    try:
        assert exit_process(3) == 3  # returned: the caller's normal exit then waits for the thread
    finally:
        release.set()
        worker.join()


def test_a_judged_run_is_complete_when_the_process_ends(tmp_path):
    """The real entry point (`python -m preuve`, argv from the command line) with the summary on a pipe."""
    recorded = unpack(ARCHIVE, tmp_path / "recorded")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "preuve", "judge", str(recorded), "-o", str(out), "--lang", "en"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 1, proc.stderr
    assert "Reports:" in proc.stdout and str(out / "report.html") in proc.stdout, proc.stdout
    verify = subprocess.run(
        [sys.executable, "-m", "preuve", "verify", str(out)], capture_output=True, text=True, timeout=300, cwd=REPO
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
