"""What `preuve` does at start-up to stay fast, without changing what it does: the `import` command's models are
imported only when it runs; the cyclic GC is tuned only when `main()` is the process's own entry (a caller
passing argv, such as the tests' forkserver, keeps its collector as it was); the freeze plugin runs before
preuve's own collection_finish (which starts the observations)."""

from __future__ import annotations

import gc
import subprocess
import sys

from preuve import cli


def test_building_the_parser_imports_no_ansible_models() -> None:
    code = (
        "import sys, preuve.cli; p = preuve.cli.build_parser(); "
        "a = p.parse_args(['import', 'ansible', 'x.ini']); "
        "assert a.func is preuve.cli.cmd_import, a.func; "
        "assert 'preuve.inputs.ansible' not in sys.modules, 'imported at parse time'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_main_with_argv_leaves_the_collector_alone() -> None:
    before = gc.get_threshold()
    assert cli.main(["schema", "waivers"]) == 0
    assert gc.get_threshold() == before
    assert cli._OWN_PROCESS is False


def test_the_freeze_plugin_runs_first_and_freezes() -> None:
    plugin = cli._freeze_after_collection()
    hook = type(plugin).pytest_collection_finish  # type: ignore[attr-defined]
    assert getattr(hook, "pytest_impl", {}).get("tryfirst") is True
    frozen = gc.get_freeze_count()
    gc.collect()  # leave little to freeze but this test's own objects
    try:
        plugin.pytest_collection_finish()  # type: ignore[attr-defined]
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
