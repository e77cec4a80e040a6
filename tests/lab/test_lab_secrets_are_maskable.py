"""Every secret the lab inventory references is long enough to be masked (a short one would be refused). The
hostile and mistaken inputs themselves, without the lab: tests/unit/test_hostile_inputs.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from preuve.exitcodes import Exit
from tests.conftest import FULL_PROFILE, preuve

# --- 6. YAML alias bombs -------------------------------------------------------------------------------------


# --- 10. tracebacks with exit 1: every hostile input is a precise message with exit 3 -------------------------


# --- 9. silently accepted nonsense ----------------------------------------------------------------------------


# --- 2. target names are unique across the inventory ---------------------------------------------------------


# --- 7. credentials inside URLs -------------------------------------------------------------------------------


# --- 8. blanket and everlasting waivers -----------------------------------------------------------------------


# --- 11. paths: no copy outside the run, no collision, no echo ------------------------------------------------


# --- 12. redaction never rewrites a fact ----------------------------------------------------------------------


# --- 5. output the target controls ----------------------------------------------------------------------------


@pytest.mark.lab
def test_lab_secrets_are_long_enough_to_be_masked(lab_up):
    """With the lab up every secret reference of lab.yaml is readable, so lint measures each one."""
    from tests.conftest import LAB_INVENTORY

    assert Path("/var/tmp/preuve-lab/keys/web-admin.password").is_file()
    proc = preuve("lint", "-i", LAB_INVENTORY, "-p", FULL_PROFILE)
    assert proc.returncode == Exit.COMPLIANT, proc.stderr
    assert "shorter than" not in proc.stderr
