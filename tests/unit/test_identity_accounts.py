"""Accounts against the declared administrators, judged on recorded facts of the two lab hosts.

The facts in tests/fixtures/identity/ are the raw stdout of preuve's own `accounts`, `shadow` and `sshd_admin` snippets
on the lab hosts ssh-mfa and ssh-key-only (real sshd 9.2, ssh-keygen, sudo, lastlog of Debian 12), recorded on
2026-12-04 from `preuve run` under the non-root scanning account `auditor`. The lab tests (tests/lab) judge the same
checks live; these pin the decisions (sshd's verdict per account, the roster comparison, the rights table export).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from checks.identity import check_accounts as ca
from preuve.inputs.errors import InputError
from preuve.inputs.params import Params
from preuve.inputs.roster import Roster
from preuve.inputs.targets import Target
from preuve.judge.check_api import Judge, TrackedParams
from preuve.observe.host.passwords import parse_shadow
from preuve.observe.identity import accounts as acc
from preuve.observe.ssh.sshd_admin import parse_sshd_admin
from preuve.report.rights import rows, write_rights
from preuve.results.messages import sentence

FIXTURES = Path(__file__).parents[1] / "fixtures" / "identity"
NOW = dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)
ROSTER = {
    "reviewed_on": "2026-11-20",
    "technical_reviewed_on": "2026-11-20",
    "people": [
        {"name": "Paula Admin", "accounts": ["pvadmin"]},
        {"name": "Alice Operator", "accounts": ["alice"]},
        {"name": "Bob Developer", "accounts": ["bob"]},
        {"name": "Carol Developer", "accounts": ["carol"]},
    ],
    "technical_accounts": [
        {"name": "root", "users": ["pvadmin", "alice"]},
        {"name": "svc-backup"},
        {"name": "auditor", "direct_login": True, "why": "scanner"},
        {"name": "pvlock", "direct_login": True, "why": "lockout canary"},
    ],
}


def _facts(host: str) -> tuple[dict, list[dict], dict]:
    read = (FIXTURES / f"{host}.{{}}.txt").as_posix().format
    return (
        acc.parse(Path(read("accounts")).read_text()),
        parse_shadow(Path(read("shadow")).read_text()),
        parse_sshd_admin(Path(read("sshd_admin")).read_text()),
    )


def _target(host: str, roster: dict | None = ROSTER) -> Target:
    return Target(
        "baseline_host", host, "198.18.2.1", 22, None, None, (), None, None, Roster(**roster) if roster else None
    )


def _params(j: Judge) -> TrackedParams:
    """The profile's parameters as the plugin hands them (reads recorded: messages name the parameter)."""
    return TrackedParams(Params(), j.reads)


def _failed(j: Judge) -> str:
    return "; ".join(sentence(e, e.label, "en") for e in j.failed)


def test_parser_reads_fingerprints_and_last_logins_never_keys():
    facts, _, _ = _facts("ssh-key-only")
    root = facts["accounts"]["root"]
    assert [k["comment"] for k in root["keys"]] == ["olivier@preuve-lab"]
    assert root["keys"][0]["fingerprint"].startswith("SHA256:") and root["keys"][0]["type"] == "ED25519"
    assert facts["accounts"]["olivier"]["last_login"] < facts["now"] - 399 * 86400
    assert facts["accounts"]["bob"]["last_login"] is None  # **Never logged in**
    text = (FIXTURES / "ssh-key-only.accounts.txt").read_text()
    assert "ssh-ed25519 AAAA" not in text and "PRIVATE KEY" not in text


@pytest.mark.parametrize(
    "host, offending",
    [("ssh-mfa", None), ("ssh-key-only", ["root", "svc-backup"])],
)
def test_technical_accounts_direct_login(host, offending):
    """ssh-key-only: root has a password; svc-backup's `*` looks locked but sshd takes its key (AllowUsers names it).
    ssh-mfa: the same svc-backup key is present but sshd refuses the account; the scanner's own login is declared."""
    facts, shadow, admin = _facts(host)
    j = Judge()
    ca.check_technical_direct_login(facts, shadow, admin, _params(j), _target(host), j)
    assert (j.failed[0].offending if j.failed else None) == offending
    if offending:
        assert "password (yescrypt)" in _failed(j)
    assert j.expectations[1].observed == ["auditor", "pvlock"]  # declared machine logins: reported, not refused


def test_locked_with_bang_is_refused_without_pam_only():
    """sshd refuses a `passwd -l` account only when UsePAM is off; with PAM the key still opens a session."""
    facts, _, _ = _facts("ssh-key-only")
    olivier = facts["accounts"]["olivier"]
    ctx = {**olivier["sshd"]}
    assert ca.key_login("olivier", olivier, ctx, "!") is None
    assert ca.key_login("olivier", olivier, {**ctx, "usepam": ["yes"]}, "!") is not None
    assert ca.key_login("olivier", olivier, {**ctx, "denyusers": ["oli*"]}, "*") is None


def test_root_key_reopened_by_a_match_block_is_direct_login():
    """PermitRootLogin no globally, a Match Address block re-allowing keys: the context that allows it decides."""
    facts, shadow, admin = _facts("ssh-key-only")
    ctxs = [{"addr": "198.18.1.10", "permitrootlogin": ["no"]}, {"addr": "198.18.4.10", "permitrootlogin": ["yes"]}]
    base = {k: v for k, v in facts["accounts"]["root"]["sshd"].items() if k != "permitrootlogin"}
    admin = {**admin, "root": {**admin["root"], "contexts": [{**base, **c, "allowusers": ["root"]} for c in ctxs]}}
    why = ca.key_accepted("root", facts, shadow, admin)
    assert why and "198.18.4.10" in why


@pytest.mark.parametrize(
    "host, undeclared",
    [("ssh-mfa", set()), ("ssh-key-only", {"dave", "erin", "olivier"})],
)
def test_leftover_access(host, undeclared):
    facts, shadow, admin = _facts(host)
    j = Judge()
    ca.check_leftover_access(facts, shadow, admin, _params(j), _target(host), j)
    assert set(j.expectations[0].observed) == undeclared
    if undeclared:
        assert "sudo (ALL : ALL) ALL" in _failed(j) and "olivier@preuve-lab" in _failed(j)


def test_undeclared_key_in_a_person_account():
    """A person declaring her keys: any other key in her account (a colleague's, left behind) is a leftover."""
    facts, shadow, admin = _facts("ssh-mfa")
    roster = {**ROSTER, "people": [{"name": "Paula Admin", "accounts": ["pvadmin"], "keys": ["SHA256:" + "A" * 43]}]}
    roster["people"] += ROSTER["people"][1:]
    j = Judge()
    ca.check_leftover_access(facts, shadow, admin, _params(j), _target("ssh-mfa", roster), j)
    assert "canary@preuve-lab" in _failed(j)


def test_no_roster_is_a_finding_not_an_error():
    facts, shadow, admin = _facts("ssh-mfa")
    j = Judge()
    ca.check_leftover_access(facts, shadow, admin, _params(j), _target("ssh-mfa", None), j)
    assert "declares no baseline.roster" in _failed(j)


@pytest.mark.parametrize(
    "host, idle",
    [("ssh-mfa", None), ("ssh-key-only", ["alice", "olivier"])],
)
def test_dormant_rights_and_review_age(host, idle):
    facts, shadow, admin = _facts(host)
    j = Judge()
    ca.check_rights_review(facts, shadow, admin, _params(j), _target(host), NOW, j)
    assert j.expectations[0].ok  # reviewed 14 days ago
    assert j.expectations[1].offending == idle
    late = Judge()
    ca.check_rights_review(facts, shadow, admin, _params(late), _target(host), NOW + dt.timedelta(days=400), late)
    assert "identity.review_max_days" in _failed(late)


@pytest.mark.parametrize(
    "host, offending",
    [("ssh-mfa", None), ("ssh-key-only", ["root", "svc-backup"])],
)
def test_technical_users_review(host, offending):
    facts, shadow, admin = _facts(host)
    j = Judge()
    ca.check_technical_users_review(facts, shadow, admin, _params(j), _target(host), NOW, j)
    assert (j.failed[0].offending if j.failed else None) == offending
    assert j.expectations[1].observed["root"] == (
        ["alice", "pvadmin"] if host == "ssh-mfa" else ["alice", "olivier", "pvadmin"]
    )
    stale = Judge()
    ca.check_technical_users_review(
        facts, shadow, admin, _params(stale), _target(host), NOW + dt.timedelta(days=93), stale
    )
    assert "identity.technical_review_max_days" in _failed(stale)


def test_rights_table_export(tmp_path):
    results = []
    for host in ("ssh-mfa", "ssh-key-only"):
        facts, shadow, admin = _facts(host)
        j = Judge()
        ca.check_rights_table(facts, shadow, admin, _params(j), _target(host), j)
        assert not j.failed
        table = next(e.observed for e in j.expectations if e.label == "identity.rights_table")
        results.append(
            {
                "check_id": "ACC-RIGHTS-TABLE",
                "target": {"name": host},
                "expectations": [{"label": "identity.rights_table", "observed": table}],
            }
        )
    write_rights(tmp_path, results)
    csv_text = (tmp_path / "identity-rights.csv").read_text()
    assert csv_text.startswith("host,account,person,")
    assert "ssh-key-only,olivier,undeclared," in csv_text
    by_person = __import__("json").loads((tmp_path / "identity-rights.json").read_text())["by_person"]
    assert set(by_person["Alice Operator"]) == {"ssh-mfa", "ssh-key-only"}
    assert by_person["Alice Operator"]["ssh-key-only"][0]["acts_as"] == ["root"]
    assert len(rows(results)) == len(csv_text.splitlines()) - 1


def test_roster_lint_errors_name_file_and_line(tmp_path):
    from preuve.inputs.inventory import load_inventory

    inv = tmp_path / "inv.yaml"
    inv.write_text(
        "version: 1\nname: t\nbaseline:\n  roster:\n    reviewed_on: 2026-11-20\n    people:\n"
        "      - {name: A, accounts: [a]}\n      - {name: B, accounts: [a]}\n    technical_accounts:\n"
        "      - {name: root, users: [zed]}\n      - {name: svc, direct_login: true}\n"
    )
    with pytest.raises(InputError) as exc:
        load_inventory(inv)
    text = str(exc.value)
    assert f"{inv}:8" in text and "already belongs to 'A'" in text
    assert f"{inv}:10" in text and "'zed' is no declared person's account" in text
    assert f"{inv}:11" in text and "needs a `why`" in text


def test_roster_file_errors_name_the_roster_file_and_a_missing_file_is_a_finding(tmp_path):
    from preuve.inputs.inventory import load_inventory
    from preuve.inputs.roster import RosterFile

    inv = tmp_path / "inv.yaml"
    inv.write_text("version: 1\nname: t\nbaseline:\n  roster: {file: people/roster.yaml}\n")
    loaded, _ = load_inventory(inv)  # no file yet: kept as a reference, the checks fail naming it
    assert isinstance(loaded.baseline.roster, RosterFile)
    j = Judge()
    facts, shadow, admin = _facts("ssh-mfa")
    target = Target("baseline_host", "h", "198.18.2.1", 22, None, None, (), None, None, loaded.baseline.roster)
    ca.check_leftover_access(facts, shadow, admin, _params(j), target, j)
    assert "people/roster.yaml could not be read" in _failed(j)
    (tmp_path / "people").mkdir()
    roster = tmp_path / "people" / "roster.yaml"
    roster.write_text("reviewed_on: 2026-11-20\npeople:\n  - {name: A, accounts: [a]}\n  - {name: B, accounts: [a]}\n")
    with pytest.raises(InputError) as exc:
        load_inventory(inv)
    assert f"{roster}:4" in str(exc.value) and "already belongs to 'A'" in str(exc.value)
    roster.write_text("reviewed_on: 2026-11-20\npeople:\n  - {name: A, accounts: [a]}\n")
    assert load_inventory(inv)[0].baseline.roster.person_of() == {"a": "A"}


@pytest.mark.parametrize(("host", "offending"), [("ssh-mfa", None), ("ssh-key-only", ["olivier"])])
def test_elevated_privileges_held_by_vetted_people(host, offending):
    """pvadmin's `(ALL : ALL) ALL` is declared with a vetting date; olivier's is nobody's; alice's one root command
    (systemctl restart nginx) is no elevated privilege."""
    roster = {**ROSTER, "people": [{**ROSTER["people"][0], "vetted_on": "2025-06-02"}, *ROSTER["people"][1:]]}
    facts, shadow, admin = _facts(host)
    j = Judge()
    ca.check_privileged_vetted(facts, shadow, admin, _params(j), _target(host, roster), j)
    assert (j.failed[0].offending if j.failed else None) == offending
    assert "alice" not in j.expectations[0].observed
    assert ca.full_root(["(root) NOPASSWD: /bin/sh", "(ALL) NOPASSWD: list", "(www-data) ALL"]) == [
        "(root) NOPASSWD: /bin/sh"
    ]


def test_a_run_reads_its_recorded_roster_not_the_live_file(tmp_path):
    """In a run's inputs/, the roster named by the inventory is the content-addressed copy index.json points to."""
    import json

    from preuve.inputs.inventory import load_inventory

    live = tmp_path / "roster.yaml"
    live.write_text("reviewed_on: 2026-11-20\npeople:\n  - {name: Live, accounts: [live]}\n")
    inputs = tmp_path / "run" / "inputs"
    (inputs / "roster" / "abc").mkdir(parents=True)
    (inputs / "roster" / "abc" / "roster.yaml").write_text(
        "reviewed_on: 2026-11-01\npeople:\n  - {name: Recorded, accounts: [rec]}\n"
    )
    (inputs / "index.json").write_text(
        json.dumps({"roster": {"as_written": str(live), "copy": "roster/abc/roster.yaml", "sha256": "abc"}})
    )
    (inputs / "inventory.yaml").write_text(f"version: 1\nname: t\nbaseline:\n  roster: {{file: {live}}}\n")
    assert load_inventory(inputs / "inventory.yaml")[0].baseline.roster.person_of() == {"rec": "Recorded"}
