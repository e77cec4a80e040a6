"""Every threshold failure quotes its limit and the profile parameter that set it (issue 12, point 5).

"observed 120 … expected: all compliant" hid the 183 days and where they came from. The judge now notes which
parameters a check reads (TrackedParams) and names the one behind a limit; `judge.each` takes the threshold its
items are held to. Scanned over every failing result of the shared full lab scan.
"""

from __future__ import annotations

import pytest

from preuve.inputs.params import Params
from preuve.judge.check_api import Expectation, Judge, TrackedParams
from preuve.results.messages import sentence


def test_tracked_parameters_name_the_limit_in_both_languages():
    j = Judge()
    params = TrackedParams(Params(), j.reads)
    j.each(
        "logs.logrotate.retention_days",
        {"/var/log/syslog": False},
        observed={"/var/log/syslog": "120 d"},
        at_least=params.logs.retention_days,
    )
    j.at_most("time.offset_ms", 250.0, params.time.max_offset_ms)
    fr = [sentence(e, e.label, "fr") for e in j.failed]
    en = [sentence(e, e.label, "en") for e in j.failed]
    assert fr[0].endswith("attendu : tous ≥ 183 (paramètre logs.retention_days)"), fr
    assert en[0].endswith("expected: all >= 183 (parameter logs.retention_days)"), en
    assert en[1].endswith("expected: <= 100.0 (parameter time.max_offset_ms)"), en


def test_a_flag_or_an_empty_list_is_never_taken_for_a_limit():
    j = Judge()
    params = TrackedParams(Params(), j.reads)
    _ = params.tls.ca_issuers_declared_eu, params.logs.syslog_ng_reliable_buffer  # [] and True
    j.equals("hygiene.empty_passwords", ["bob"], [])
    j.equals("x", False, True)
    assert all(e.param is None for e in j.expectations)


@pytest.mark.parametrize("op", ["at_least", "at_most"])
def test_an_expectation_without_a_read_parameter_stays_plain(op):
    e = Expectation("x", op, 3, 5, False)
    assert "param" not in sentence(e, "x", "en")
