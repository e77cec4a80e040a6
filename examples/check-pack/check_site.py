"""An example check pack: site rules written the way testinfra tests are, judged like preuve's own checks.

`host` is testinfra's Host (file, package, service, run, user, ...). Its commands are sent once while preuve
observes, over preuve's SSH connection, and recorded as evidence; the check is then judged from that record,
so `preuve judge RUN --checks-dir examples/check-pack` re-judges it offline. State expectations with `judge`
(never `assert`): a failed expectation becomes a `fail` quoting what was observed; a check that states nothing
is an `error`.
"""

from preuve.judge import check


def _sshd_config(target) -> str:
    """The sshd_config this host declares in the inventory (else the distribution's default)."""
    return (target.access.sshd_config if target.access else None) or "/etc/ssh/sshd_config"


@check("SITE-SSHD-ALLOW-LIST", requirements=["10.2.e"], target="host", severity="medium",
       rule="ACME-SEC-12: logins restricted to named accounts")
def check_sshd_allow_list(host, target, judge):
    """Our rule: the sshd configuration file names who may log in (AllowUsers or AllowGroups)."""
    cfg = host.file(_sshd_config(target))
    judge.equals("sshd_config.exists", cfg.exists, True)
    if cfg.exists:
        judge.equals("sshd_config.allow_list", cfg.contains(r"^\(AllowUsers\|AllowGroups\)[[:space:]]"), True)


@check("SITE-SSHD-CONFIG-OWNER", requirements=["10.2.e"], target="host", severity="high",
       rule="ACME-SEC-13: sshd_config owned by root, not writable by others")
def check_sshd_config_owner(host, target, judge):
    cfg = host.file(_sshd_config(target))
    judge.equals("sshd_config.owner", cfg.user, "root")
    judge.equals("sshd_config.writable_by_others", bool(cfg.mode & 0o022), False)


@check("SITE-OPENSSH-PACKAGE", requirements=["10.2.e"], target="host", severity="low",
       rule="ACME-SEC-02: OpenSSH from the distribution's package")
def check_openssh_package(host, judge):
    pkg = host.package("openssh-server")
    judge.equals("openssh_server.installed", pkg.is_installed, True)


@check("SITE-SCANNER-UNPRIVILEGED", requirements=["10.2.e"], target="host", severity="medium",
       rule="ACME-SEC-20: the compliance scanner logs in without root")
def check_scanner_unprivileged(host, judge):
    uid = host.run("id -u")
    judge.equals("scanner.id_u_exit_status", uid.rc, 0)
    judge.excludes("scanner.uid", [uid.stdout.strip()], ["0"])
