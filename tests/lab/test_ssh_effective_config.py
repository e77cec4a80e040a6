"""SSH settings judged as they apply to real connections (issue 12): `sshd -T -C` per context, the server's own
answer to a `none` request, DisableForwarding, MaxAuthTries 0 and shadowed lines.

The host side is real: the very script ssh_host sends (build_script + the sshd_effective snippet) runs here with
`sh -s` and the real `sshd -T -C` on configs written for each case (no daemon needed: sshd evaluates the file for
the given connection). The protocol side is a real SSH server: OpenSSH, or a paramiko server told which methods to
offer, whose exec'd script runs here too. The lab's ssh-match target is judged in tests/lab/test_full_scan.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support.sshd_servers import LOOPBACK, SSHD, ScriptedSshServer, host_facts_locally, keygen

from preuve.inputs.params import Params
from preuve.judge.check_api import Judge
from preuve.observe.errors import ObservationError
from preuve.observe.ssh import host as ssh_host
from preuve.observe.ssh.host import SshTarget

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(SSHD), reason="needs root and sshd")

from checks.ssh import check_sshd_config as ssh_checks  # noqa: E402


@pytest.fixture(scope="module")
def hostkey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return keygen(tmp_path_factory.mktemp("hk") / "hostkey", ["-t", "ed25519"])


COMPLIANT = """\
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PermitEmptyPasswords no
MaxAuthTries 2
LoginGraceTime 30
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTunnel no
PermitUserEnvironment no
LogLevel VERBOSE
AllowUsers auditor
"""


def write_config(
    tmp: Path, hostkey: Path, body: str, listen: tuple[str, ...] = ("127.0.0.1:22",), pam: str = "no"
) -> Path:
    cfg = tmp / "sshd_config"
    head = [f"HostKey {hostkey}", *(f"ListenAddress {a}" for a in listen), "PidFile none", f"UsePAM {pam}"]
    cfg.write_text("\n".join(head) + "\n" + body)
    check = subprocess.run([SSHD, "-t", "-f", str(cfg)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr  # sshd itself accepts the file
    return cfg


def effective(cfg: Path, addrs: str = "", users: str = "", conn: str = "198.51.100.7 40000 127.0.0.1 22") -> dict:
    facts, raw = host_facts_locally(
        ["sshd_effective"], cfg, {"PREUVE_SSH_ADDRS": addrs, "PREUVE_SSH_USERS": users}, ssh_connection=conn
    )
    fact = facts["sshd_effective"]
    assert "base" in fact, (fact, raw["sshd_effective"]["stderr"])
    fact["offered"] = {"user": "root", "port": 22, "request": "none", "none_accepted": False, "methods": ["publickey"]}
    return fact


def judge(check, sshd: dict) -> Judge:
    j = Judge()
    kwargs = {"sshd": sshd, "judge": j}
    if "params" in check.__code__.co_varnames[: check.__code__.co_argcount]:
        kwargs["params"] = Params()
    check(**kwargs)
    return j


def message(j: Judge) -> str:
    return "; ".join(f"{e.label}: {e.observed}" for e in j.failed)


# Each Match criterion sshd knows, weakening one setting for one kind of connection only; the context that
# must be named in the failure; and the inputs (zone addresses, declared accounts, listeners) that reach it.
CASES = {
    "Address": (
        "Match Address 10.1.0.0/16\n    PasswordAuthentication yes\n",
        "check_password_auth",
        {"addrs": "10.1.0.1"},
        (),
        "addr=10.1.0.1",
        "PasswordAuthentication yes",
    ),
    "User": (
        "Match User nobody\n    PermitEmptyPasswords yes\n",
        "check_empty_passwords",
        {"users": "nobody"},
        (),
        "user=nobody",
        "PermitEmptyPasswords yes",
    ),
    "Group": (
        "Match Group nogroup\n    MaxAuthTries 10\n",
        "check_max_auth_tries",
        {"users": "nobody"},
        (),
        "user=nobody",
        "MaxAuthTries 10",
    ),
    "Host": (
        "Match Host 10.2.0.1\n    AllowTcpForwarding yes\n",
        "check_forwarding",
        {"addrs": "10.2.0.1"},
        (),
        "addr=10.2.0.1",
        "AllowTcpForwarding yes",
    ),
    "LocalAddress": (
        "Match LocalAddress 127.0.0.2\n    X11Forwarding yes\n",
        "check_forwarding",
        {},
        ("127.0.0.1:22", "127.0.0.2:22"),
        "laddr=127.0.0.2",
        "X11Forwarding yes",
    ),
    "LocalPort": (
        "Match LocalPort 2222\n    LogLevel QUIET\n",
        "check_log_level",
        {},
        ("127.0.0.1:22", "127.0.0.1:2222"),
        "lport=2222",
        "LogLevel QUIET",
    ),
}
COMPLIANT_VALUE = {
    "PasswordAuthentication yes": "PasswordAuthentication no",
    "PermitEmptyPasswords yes": "PermitEmptyPasswords no",
    "MaxAuthTries 10": "MaxAuthTries 2",
    "AllowTcpForwarding yes": "AllowTcpForwarding no",
    "X11Forwarding yes": "X11Forwarding no",
    "LogLevel QUIET": "LogLevel VERBOSE",
}


@pytest.mark.parametrize("criterion", sorted(CASES))
def test_a_match_block_that_weakens_one_context_fails_naming_it(tmp_path, hostkey, criterion):
    block, check_name, inputs, listen, context, weak = CASES[criterion]
    check = getattr(ssh_checks, check_name)
    cfg = write_config(tmp_path, hostkey, COMPLIANT + block, listen or ("127.0.0.1:22",))
    fact = effective(cfg, **inputs)
    assert criterion.lower() in fact["criteria"]
    # the naive view, the scanner's own context alone (what `sshd -T` without context shows), passes...
    alone = {**fact, "contexts": []}
    assert not judge(check, alone).failed
    # ...the per-connection view fails, and names the context that produced the worst value
    j = judge(check, fact)
    assert j.failed, f"{criterion}: {weak} went unnoticed"
    assert context in message(j), message(j)
    # both ways: the same Match block setting the compliant value passes
    fixed = COMPLIANT + block.replace(weak, COMPLIANT_VALUE[weak])
    ok = write_config(tmp_path, hostkey, fixed, listen or ("127.0.0.1:22",))
    assert not judge(check, effective(ok, **inputs)).failed


def test_without_match_blocks_only_the_scanners_context_is_evaluated(tmp_path, hostkey):
    fact = effective(write_config(tmp_path, hostkey, COMPLIANT), addrs="10.1.0.1 10.2.0.1", users="nobody")
    assert fact["contexts"] == [] and fact["criteria"] == []
    assert fact["base"]["addr"] == "198.51.100.7" and fact["base"]["lport"] == "22"  # from $SSH_CONNECTION


def test_root_login_judged_for_root_only(tmp_path, hostkey):
    """PermitRootLogin is only read for root: a Match User root that permits it fails; the same value for
    another account is inert and does not."""
    body = COMPLIANT + "Match User root\n    PermitRootLogin yes\n"
    fact = effective(write_config(tmp_path, hostkey, body), users="nobody", conn="198.51.100.7 40000 127.0.0.1 22")
    j = judge(ssh_checks.check_root_login, fact)
    assert j.failed and "user=root" in message(j)
    body = COMPLIANT + "Match User nobody\n    PermitRootLogin yes\n"
    inert = effective(write_config(tmp_path, hostkey, body), users="nobody")
    assert not judge(ssh_checks.check_root_login, inert).failed


@pytest.mark.skipif(not os.path.exists("/etc/pam.d/sshd"), reason="needs sshd's PAM configuration")
def test_keyboard_interactive_through_pam_unix_is_a_password_login(tmp_path, hostkey):
    """PasswordAuthentication no, but UsePAM + keyboard-interactive + pam_unix in sshd's PAM auth stack (Debian's
    own /etc/pam.d/sshd, through @include common-auth): a password alone gets in. A key before it does not."""
    kbd = COMPLIANT.replace("KbdInteractiveAuthentication no", "KbdInteractiveAuthentication yes")
    fact = effective(write_config(tmp_path, hostkey, kbd, pam="yes"))
    assert any("pam_unix.so" in line for line in fact["pam_auth"]), fact["pam_auth"]
    assert fact["base"]["config"]["passwordauthentication"] == ["no"]
    j = judge(ssh_checks.check_password_auth, fact)
    assert j.failed and "pam_unix.so" in message(j), message(j)
    # both ways: the same stack as a second factor after a key, or no keyboard-interactive, passes
    two = kbd + "AuthenticationMethods publickey,keyboard-interactive\n"
    assert not judge(ssh_checks.check_password_auth, effective(write_config(tmp_path, hostkey, two, pam="yes"))).failed
    assert not judge(
        ssh_checks.check_password_auth, effective(write_config(tmp_path, hostkey, COMPLIANT, pam="yes"))
    ).failed


def test_a_context_sshd_cannot_evaluate_is_an_error_not_a_pass(tmp_path, hostkey):
    fact = effective(write_config(tmp_path, hostkey, COMPLIANT))
    fact["errors"] = ["sshd -T -C user=x,addr=1.2.3.4,laddr=127.0.0.1,lport=22: boom"]
    with pytest.raises(ObservationError):
        judge(ssh_checks.check_password_auth, fact)


# --- DisableForwarding, MaxAuthTries 0, shadowed lines (issue 12, point 5) ---------------------------------


def test_disable_forwarding_overrides_the_four_keys_sshd_T_still_prints(tmp_path, hostkey):
    body = (
        COMPLIANT.replace("AllowTcpForwarding no", "AllowTcpForwarding yes")
        .replace("AllowAgentForwarding no", "AllowAgentForwarding yes")
        .replace("X11Forwarding no", "X11Forwarding yes")
    )
    weak = effective(write_config(tmp_path, hostkey, body))
    assert weak["base"]["config"]["allowtcpforwarding"] == ["yes"]
    assert judge(ssh_checks.check_forwarding, weak).failed
    fact = effective(write_config(tmp_path, hostkey, "DisableForwarding yes\n" + body))
    assert fact["base"]["config"]["allowtcpforwarding"] == ["yes"]  # what sshd -T prints...
    assert fact["base"]["config"]["disableforwarding"] == ["yes"]  # ...and what decides
    assert not judge(ssh_checks.check_forwarding, fact).failed


def test_max_auth_tries_zero_fails(tmp_path, hostkey):
    fact = effective(write_config(tmp_path, hostkey, COMPLIANT.replace("MaxAuthTries 2", "MaxAuthTries 0")))
    assert fact["base"]["config"]["maxauthtries"] == ["0"]
    j = judge(ssh_checks.check_max_auth_tries, fact)
    assert j.failed and "0 (no attempt policy" in message(j)


def test_max_auth_tries_zero_is_no_policy_in_openssh(tmp_path):
    """Why 0 fails: OpenSSH (9.2 here) ends the connection at the first request, even a valid key's."""
    from support.sshd_servers import SshdLab

    with SshdLab(tmp_path) as lab:
        lab_cfg = lab.start("good")
        text = lab_cfg.config.read_text().replace("LogLevel VERBOSE", "LogLevel VERBOSE\nMaxAuthTries 0")
        lab_cfg.config.write_text(text)
        from support.sshd_servers import _wait_for_banner, free_port, stop

        stop(lab_cfg.process)
        port = free_port()
        proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(lab_cfg.config), "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        try:
            assert _wait_for_banner(port, proc)
            kh = tmp_path / "kh"
            kh.write_text(lab_cfg.known_hosts_lines(port))
            target = SshTarget(host=LOOPBACK, port=port, user="root", key_file=str(lab.client_key), known_hosts=str(kh))
            ssh_host.forget()
            with pytest.raises(ObservationError):
                ssh_host.collect(target, ["id"], timeout=5)
        finally:
            stop(proc)


def test_a_shadowed_non_compliant_line_is_a_warning_on_a_passing_result(tmp_path, hostkey):
    inc = tmp_path / "conf.d"
    inc.mkdir()
    (inc / "50-cloud-init.conf").write_text("PasswordAuthentication yes\n")
    body = COMPLIANT + f"Include {inc}/*.conf\n"
    fact = effective(write_config(tmp_path, hostkey, body))
    j = judge(ssh_checks.check_password_auth, fact)
    assert not j.failed  # sshd keeps the first value: compliant today
    warning = next(e for e in j.expectations if e.label == "sshd.shadowed_lines")
    assert warning.observed == [f"{inc}/50-cloud-init.conf:1: PasswordAuthentication yes"]
    # without the shadowed line there is no warning
    (inc / "50-cloud-init.conf").write_text("PasswordAuthentication no\n")
    j = judge(ssh_checks.check_password_auth, effective(write_config(tmp_path, hostkey, body)))
    assert not j.failed and all(e.label != "sshd.shadowed_lines" for e in j.expectations)
    # and when the order changes (Include first), the line wins and the check fails
    (inc / "50-cloud-init.conf").write_text("PasswordAuthentication yes\n")
    fact = effective(write_config(tmp_path, hostkey, f"Include {inc}/*.conf\n" + COMPLIANT))
    assert judge(ssh_checks.check_password_auth, fact).failed


# --- the protocol corroborates the configuration ----------------------------------------------------------


def scripted_target(server: ScriptedSshServer, key: Path) -> SshTarget:
    return SshTarget(
        host=LOOPBACK, port=server.port, user="root", key_file=str(key), known_hosts=str(server.known_hosts)
    )


@pytest.mark.parametrize(("methods", "fails"), [("publickey,password", True), ("publickey", False)])
def test_a_server_offering_password_fails_even_if_sshd_T_C_says_no(tmp_path, hostkey, methods, fails):
    """Host facts say `passwordauthentication no` (real sshd -T -C on a compliant file); the server's answer
    to `none` decides whether it really offers passwords."""
    cfg = write_config(tmp_path, hostkey, COMPLIANT)
    key = keygen(tmp_path / "client", ["-t", "ed25519"])
    with ScriptedSshServer(tmp_path, methods, Path(f"{key}.pub")) as server:
        ssh_host.forget()
        facts, raw = ssh_host.collect(scripted_target(server, key), ["sshd_effective"], sshd_config_path=str(cfg))
    fact = facts["sshd_effective"]
    assert fact["base"]["config"]["passwordauthentication"] == ["no"], raw
    assert fact["base"]["addr"] == LOOPBACK  # the scanner's own connection, from $SSH_CONNECTION
    assert fact["offered"]["methods"] == methods.split(",")
    j = judge(ssh_checks.check_password_auth, fact)
    assert bool(j.failed) is fails
    if fails:
        text = message(j)
        assert "password (sshd -T -C for this connection: passwordauthentication no)" in text, text


@pytest.mark.skipif(not shutil.which("ssh-keyscan"), reason="needs ssh-keyscan")
def test_openssh_none_reply_is_recorded_on_the_facts_connection(tmp_path):
    from support.sshd_servers import SshdLab

    with SshdLab(tmp_path) as lab:
        server = lab.start("good")  # the test sshd allows passwords (PasswordAuthentication yes)
        kh = tmp_path / "kh"
        kh.write_text(server.known_hosts_lines())
        target = SshTarget(
            host=LOOPBACK, port=server.port, user="root", key_file=str(lab.client_key), known_hosts=str(kh)
        )
        ssh_host.forget()
        before = dict(ssh_host.counters)
        facts, _ = ssh_host.collect(target, ["sshd_effective"], sshd_config_path=str(server.config))
        assert ssh_host.counters["connections"] - before["connections"] == 1
    fact = facts["sshd_effective"]
    assert fact["offered"]["methods"][:2] == ["publickey", "password"]
    j = judge(ssh_checks.check_password_auth, fact)
    assert j.failed and "yes [user=root,addr=127.0.0.1" in message(j)


# --- MFA-SSH-CONFIG: administrators are root, the admin groups and every sudo rule (issue 12, point 5) --------

from checks.mfa.check_ssh_mfa import check_ssh_mfa_config  # noqa: E402
from preuve.judge.check_api import NotApplicable  # noqa: E402

ROOT_ALLOWED = COMPLIANT.replace("AllowUsers auditor", "AllowUsers auditor root")
MFA = ROOT_ALLOWED.replace("PermitRootLogin no", "PermitRootLogin yes").replace(
    "KbdInteractiveAuthentication no", "KbdInteractiveAuthentication yes"
)


def mfa_verdict(fact: dict) -> tuple[str, dict]:
    j = Judge()
    try:
        check_ssh_mfa_config(sshd_admin=fact, params=Params(), judge=j)
    except NotApplicable as e:
        return "not_applicable", {"reason": str(e)}
    e = j.expectations[0]
    return ("fail" if j.failed else "pass"), {"observed": e.observed, "offending": e.offending}


def admins(cfg: Path) -> dict:
    facts, raw = host_facts_locally(["sshd_admin"], cfg, {"PREUVE_SSH_ADDRS": "10.9.9.9"})
    assert raw["sshd_admin"]["rc"] == 0, raw["sshd_admin"]["stderr"]
    return facts["sshd_admin"]


def test_root_with_a_key_alone_is_an_administrator_without_mfa(tmp_path, hostkey):
    """The false not_applicable of issue 12: no member of sudo/wheel/admin, but root may log in with a key."""
    fact = admins(
        write_config(tmp_path, hostkey, ROOT_ALLOWED.replace("PermitRootLogin no", "PermitRootLogin prohibit-password"))
    )
    root = fact["root"]
    assert "root" in root["why"] and "sudo-rule" in root["why"]  # read through sudo's own policy (sudo -l -U)
    assert [c["addr"] for c in root["contexts"]] == ["198.51.100.7"]  # no Match Address: the scanner's context only
    root["groups"] = [g for g in root["groups"] if g not in ("sudo", "wheel", "admin")]  # root as a plain account
    status, detail = mfa_verdict({"root": root})
    assert status == "fail" and detail["offending"] == ["root"], detail
    # both ways: two methods required for everyone passes...
    ok = admins(write_config(tmp_path, hostkey, MFA + "AuthenticationMethods publickey,keyboard-interactive\n"))
    assert mfa_verdict({"root": ok["root"]})[0] == "pass"
    # ...and root that cannot log in is not concerned, said so
    no = admins(write_config(tmp_path, hostkey, ROOT_ALLOWED))
    status, detail = mfa_verdict({"root": no["root"]})
    assert status == "not_applicable" and "PermitRootLogin no" in detail["reason"], detail


def test_admin_contexts_follow_match_address(tmp_path, hostkey):
    """An admin compliant from the scanner's network but single-factor from a zone fails, naming the address."""
    body = MFA + (
        "AuthenticationMethods publickey,keyboard-interactive\nMatch Address 10.9.0.0/16\n"
        "    AuthenticationMethods publickey\n"
    )
    root = admins(write_config(tmp_path, hostkey, body))["root"]
    assert [c["addr"] for c in root["contexts"]] == ["198.51.100.7", "10.9.9.9"]
    status, detail = mfa_verdict({"root": root})
    assert status == "fail" and detail["observed"]["root"] == "publickey [addr=10.9.9.9]", detail


def _account(why: list[str], groups: list[str], rules: list[str], scanning: bool = False) -> dict:
    ctx = {"addr": "198.51.100.7", "authenticationmethods": ["any"], "permitrootlogin": ["no"]}
    return {"why": why, "groups": groups, "sudo_rules": rules, "scanning_account": scanning, "contexts": [ctx], **ctx}


def test_an_account_with_a_sudo_rule_counts_whatever_its_groups():
    status, detail = mfa_verdict({"ops": _account(["sudo-rule"], ["ops"], ["(root) /usr/bin/systemctl restart nginx"])})
    assert status == "fail" and detail["offending"] == ["ops"]
    assert mfa_verdict({"ops": _account([], ["ops"], [])})[0] == "not_applicable"  # no rule, no group: not an admin


def test_the_scanning_account_is_exempt_only_with_named_commands():
    limited = _account(["sudo-rule"], ["auditor"], ["(root) NOPASSWD: /usr/sbin/sshd -T *"], scanning=True)
    status, detail = mfa_verdict({"auditor": limited})
    assert status == "not_applicable" and "scanning account" in detail["reason"]
    full = _account(["sudo-rule"], ["auditor"], ["(ALL : ALL) NOPASSWD: ALL"], scanning=True)
    assert mfa_verdict({"auditor": full})[0] == "fail"


def test_sudo_that_cannot_list_is_an_error_not_a_narrower_set(tmp_path, hostkey):
    """As a non-root account without the sudoers `list` privilege, the fact fails (-> error), naming the rule."""
    cfg = write_config(tmp_path, hostkey, COMPLIANT)
    cfg.parent.chmod(0o755)
    from preuve.observe.ssh import host as sh

    script = sh.build_script(["sshd_admin"], "0123456789abcdef", str(cfg), {})
    proc = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "sh", "-s"],
        input=script.encode(),
        capture_output=True,
        timeout=60,
        check=False,
        cwd="/",
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SSH_CONNECTION": "192.0.2.1 1 127.0.0.1 22"},
    )
    result = sh.parse_framed(proc.stdout, "0123456789abcdef")["sshd_admin"]
    value = sh.fact_value("sshd_admin", result)
    assert result["rc"] != 0 and "list" in value["error"], result


@pytest.mark.parametrize("patterns", ["10.1.0.0/16", "10.1.*", "!10.1.2.0/24,10.1.0.0/16", "10.1.0.?,192.0.2.9"])
def test_addresses_every_match_pattern_treats_alike_are_evaluated_once(tmp_path, hostkey, patterns):
    """Zones and vantage points can name dozens of addresses; only one per class of addresses the Match patterns
    cannot tell apart is evaluated. The oracle: sshd -T -C run for EVERY address gives its representative's
    configuration."""
    cfg = write_config(tmp_path, hostkey, COMPLIANT + f"Match Address {patterns}\n    PasswordAuthentication yes\n")
    addrs = ["10.1.0.1", "10.1.0.2", "10.1.2.3", "10.1.9.9", "192.0.2.9", "198.51.100.8", "10.2.0.1"]
    fact = effective(cfg, addrs=" ".join(addrs))
    evaluated = {fact["base"]["addr"]} | {c["addr"] for c in fact["contexts"]}
    assert set(fact["same_as"]) | evaluated == {fact["base"]["addr"], *addrs}
    assert len(evaluated) < len(addrs)  # something was merged

    def direct(addr: str) -> str:
        out = subprocess.run(
            [SSHD, "-T", "-f", str(cfg), "-C", f"user=root,host={addr},addr={addr},laddr=127.0.0.1,lport=22"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return next(line for line in out.splitlines() if line.startswith("passwordauthentication"))

    for addr, rep in fact["same_as"].items():
        assert direct(addr) == direct(rep), (addr, rep)
    assert {direct(a) for a in evaluated} == {"passwordauthentication yes", "passwordauthentication no"}
