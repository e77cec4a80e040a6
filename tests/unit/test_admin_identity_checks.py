"""ADMIN-* judged on facts recorded from the lab's IdP-fronted consoles (tests/fixtures/admin_identity): the good
plane passes all five (its end-user portal apart); the federated plane (customers' own IdP that also accepts the
provider's admin) passes the "distinct IdP" check a naive reading would stop at and fails the login check; the
shared directory and the single console fail for their reasons; a console whose IdP was never reached is an error,
not a pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks.admin_identity.check_admin_identity import (
    check_console_distinct,
    check_enduser_distinct,
    check_idp_separate,
    check_refuses_customer,
    check_refuses_provider,
)
from preuve.judge.check_api import Judge, NotApplicable
from preuve.observe.errors import ObservationError

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "admin_identity"
CHECKS = {
    "ADMIN-IDP-SEPARATE": check_idp_separate,
    "ADMIN-CONSOLE-DISTINCT": check_console_distinct,
    "ADMIN-CONSOLE-REFUSES-PROVIDER": check_refuses_provider,
    "ADMIN-CONSOLE-REFUSES-CUSTOMER": check_refuses_customer,
    "ADMIN-ENDUSER-DISTINCT": check_enduser_distinct,
}
EXPECTED = {  # plane -> checks that fail on it
    "good": set(),
    "federated": {"ADMIN-CONSOLE-REFUSES-PROVIDER", "ADMIN-ENDUSER-DISTINCT"},  # end users on the admin console
    "shared": {"ADMIN-IDP-SEPARATE", "ADMIN-CONSOLE-REFUSES-PROVIDER", "ADMIN-CONSOLE-REFUSES-CUSTOMER"},
    "one-console": set(CHECKS) - {"ADMIN-ENDUSER-DISTINCT"},  # no end-user interface there: not applicable
}


def _facts(plane: str) -> dict:
    return json.loads((FIX / f"admin-plane-{plane}.json").read_text())


@pytest.mark.parametrize("plane", sorted(EXPECTED))
def test_each_plane_fails_exactly_its_checks(plane):
    failing = set()
    for cid, fn in CHECKS.items():
        judge = Judge()
        try:
            fn(_facts(plane), judge)
        except NotApplicable:
            continue
        if judge.failed:
            failing.add(cid)
    assert failing == EXPECTED[plane]


def test_federated_customer_directory_is_caught_by_the_login_not_by_the_endpoints():
    judge = Judge()
    check_refuses_provider(_facts("federated"), judge)
    assert judge.failed[0].observed == {"customer-console <- provider-admin": "accepted (second factor asked)"}


def test_console_without_observed_idp_is_an_error():
    facts = _facts("good")
    facts["consoles"]["customer-console"].update(idp=None, stopped="HTTP 200 without a redirect to an IdP")
    with pytest.raises(ObservationError, match="no IdP login observed"):
        check_idp_separate(facts, Judge())
