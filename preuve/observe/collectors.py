"""Adapters from inventory targets to the collector functions (which know nothing about inventories)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from preuve import __version__
from preuve.evidence.redact import REDACTOR
from preuve.inputs.inventory import SshAccess
from preuve.inputs.targets import Target
from preuve.observe.errors import ObservationError
from preuve.observe.logs.stores import collect_target as log_store_collector
from preuve.observe.reveal import reveal, tool
from preuve.observe.storage_collectors import STORAGE_COLLECTORS

Outcome = tuple[dict[str, Any], dict[str, Any], Any, str]  # query, facts, raw, tool


def _tls(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe import tls

    spec = target.spec
    sni = spec.sni
    query = {"host": target.address, "port": target.port, "sni": sni, "http_path": "/" if spec.http else None}
    found, raw = tls.collect(target.address, target.port or 443, sni=sni, timeout=timeout, http_path=query["http_path"])
    return query, found, raw, tool("nassl")  # the prober is preuve's own; nassl completes full handshakes


def _ssh_protocol(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.ssh import protocol as ssh_protocol

    query = {"host": target.address, "port": target.port, "keyscan": True}
    found, raw = ssh_protocol.collect(target.address, target.port or 22, timeout=timeout)
    return query, found, raw, f"preuve {__version__} + ssh-keyscan"


def ssh_target(target: Target, hosts: dict[str, Target], depth: int = 0) -> Any:
    """Build the collector's SshTarget, resolving jump hosts and registering secrets with the redactor."""
    from preuve.observe.ssh.host import SshTarget

    access: SshAccess = target.access  # type: ignore[assignment]
    jump = None
    if access.jump:
        if depth > 4:
            raise ObservationError(f"jump host chain too long at {target.name}")
        jump = ssh_target(hosts[access.jump], hosts, depth + 1)
    password_env = None
    if access.password is not None:
        secret = reveal(access.password, f"password of {target.name}")
        password_env = access.password.env
        if password_env is None:  # a file reference: hand it to the collector through this process only
            password_env = f"_PREUVE_PASSWORD_{target.name.upper().replace('-', '_').replace('.', '_')}"
            os.environ[password_env] = secret
    return SshTarget(
        host=target.address,
        port=access.port,
        user=access.user,
        key_file=access.key_file,
        known_hosts=access.known_hosts,
        trust_on_first_use=access.trust_on_first_use,
        jump=jump,
        password_env=password_env,
    )


def _ssh_host(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.ssh import host as ssh_host
    from preuve.observe.ssh import sshd_effective

    access: SshAccess = target.access  # type: ignore[assignment]
    env = None
    if {"sshd_effective", "sshd_admin"} & set(facts):  # where real connections come from: zones, vantage points,
        from preuve.observe.profile_params import current  # declared accounts; who the admin groups are

        addrs, users = sshd_effective.sources(sshd_effective.current_inventory(), target)
        env = sshd_effective.shell_env(addrs, users, current().access.admin_groups)
    query = {
        "host": target.address,
        "port": access.port,
        "user": access.user,
        "facts": sorted(facts),
        "commands": {f: ssh_host.FACT_COMMANDS[f] for f in sorted(facts)},
        "sshd_config_path": access.sshd_config,
        "known_hosts": access.known_hosts,
        "trust_on_first_use": access.trust_on_first_use,
    }
    if env is not None:
        query["sshd_contexts"] = {
            "addresses": addrs,
            "accounts": users,
            "admin_groups": env["PREUVE_ADMIN_GROUPS"].split(),
            "also": "the scanner's own connection ($SSH_CONNECTION), root, admin group members, "
            "every ListenAddress (only for the criteria Match blocks use)",
        }
    ssh = ssh_target(target, hosts)
    found, raw = ssh_host.collect(ssh, sorted(facts), timeout=timeout, sshd_config_path=access.sshd_config, env=env)
    effective = found.get("sshd_effective")
    if env is not None and isinstance(effective, dict) and "base" in effective:
        sshd_effective.annotate(effective, addrs, users)
        inv = sshd_effective.current_inventory()
        vantages = [(v.name, v.netns) for v in inv.vantage_points if v.netns] if inv is not None else []
        # The `none` request from each namespace vantage point, when Match blocks make the offer depend on the
        # source address (the user is the same): a client of that zone sees what sshd -T -C computed for it.
        if vantages and {"address", "host"} & set(effective.get("criteria", [])):
            query["none_from_vantages"] = [name for name, _ in vantages]
            effective["offered_from_vantages"] = ssh_host.none_from_vantages(  # a dropped SYN costs 0.5 s
                ssh, vantages, timeout, min(timeout, 0.5)
            )
    return query, found, raw, tool("paramiko")


def _kubernetes(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.k8s import cluster as kubernetes

    spec = target.spec
    token = None
    if spec.token is not None:
        token = reveal(spec.token, f"token of cluster {target.name}")
    conn = kubernetes.Connection(
        target.name,
        server=spec.server,
        ca_file=spec.ca_file,
        token=token,
        kubeconfig=spec.kubeconfig,
        context=spec.context,
        velero_namespace=spec.velero_namespace,
    )
    query = {
        "server": spec.server,
        "kubeconfig": spec.kubeconfig,
        "context": spec.context,
        "ca_file": spec.ca_file,
        "facts": sorted(facts),
        "method": "GET only",
        "paths": {f: kubernetes.PATHS.get(f) for f in sorted(facts)},
    }
    found, raw = kubernetes.collect(conn, sorted(facts), timeout)
    return query, found, raw, tool("kubernetes")


def _ssh_mfa(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    """Offer a canary administrator's key (by reference, redacted) and record the server's answer."""
    from preuve.observe.identity import ssh_mfa

    spec = target.spec
    key_text = reveal(spec.private_key, f"canary key of {target.name}")
    for line in key_text.splitlines():
        if len(line) >= 16 and "PRIVATE KEY" not in line:
            REDACTOR.register(line, f"a line of the canary key of {target.name}")
    from preuve.observe.profile_params import current
    from preuve.observe.ssh.host import SshTarget

    access = current().access
    seed = reveal(spec.totp, f"canary TOTP seed of {target.name}") if spec.totp is not None else None
    probe = ssh_mfa.FactorProbe(seed, spec.totp_lookahead, access.faillock_max_deny, access.faillock_fail_interval_s)
    ssh = SshTarget(host=target.address, port=target.port or 22, user=spec.user, known_hosts=spec.known_hosts)
    query = {
        "host": target.address,
        "port": ssh.port,
        "user": spec.user,
        "known_hosts": ssh.known_hosts,
        "private_key": spec.private_key.model_dump(exclude_none=True),
        "totp": spec.totp.model_dump(exclude_none=True) if spec.totp else None,
        "method": "publickey; on partial success the second method answered on fresh connections: "
        + ("valid TOTP, " if seed else "")
        + "wrong code (6 digits), empty; no channel opened",
        "lockout_budget": {
            "faillock_max_deny": access.faillock_max_deny,
            "fail_interval_s": access.faillock_fail_interval_s,
        },
    }
    found, raw = ssh_mfa.collect(ssh, spec.user, key_text, probe=probe, timeout=timeout)
    return query, found, raw, tool("paramiko")


def _segmentation(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.inputs.flows import matrix_of
    from preuve.observe.network import segmentation

    vantage, inv = target.spec
    matrix = matrix_of(inv)
    if matrix is None:
        raise ObservationError("the inventory names no flow_matrix: nothing to probe against")
    ssh = None
    if vantage.ssh:
        if vantage.ssh not in hosts:
            raise ObservationError(f"vantage host {vantage.ssh} has no SSH access in the inventory")
        ssh = ssh_target(hosts[vantage.ssh], hosts)
    query, found, raw = segmentation.collect(vantage, inv, matrix, ssh, timeout)
    return query, found, raw, f"preuve {__version__} ({found['mode']})"


def _flow_matrix(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.inputs.flows import matrix_of

    matrix = matrix_of(target.spec)
    if matrix is None:
        raise ObservationError("no flow matrix")
    flows = [{**f.model_dump(), "line": matrix.where(f.id)} for f in matrix.flows]
    raw = matrix.path.read_text(errors="replace")
    return {"path": str(matrix.path)}, {"sha256": matrix.sha256, "flows": flows}, raw, f"preuve {__version__}"


def _web_mfa(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    """Probe a web admin interface with its canary account (secrets by reference, redacted)."""
    from preuve.observe.identity import web_mfa
    from preuve.observe.profile_params import current
    from preuve.observe.identity.ssh_mfa import FactorProbe

    spec, access = target.spec, current().access
    password = reveal(spec.password, f"canary password of {target.name}")
    seed = reveal(spec.totp, f"canary TOTP seed of {target.name}") if spec.totp is not None else None
    probe = FactorProbe(seed, spec.totp_lookahead, access.faillock_max_deny, access.faillock_fail_interval_s)
    logins = [*([web_mfa.VALID] if seed else []), web_mfa.PASSWORD_ONLY, web_mfa.WRONG, web_mfa.EMPTY]
    query = {
        "url": spec.url,
        "login_url": spec.login_url,
        "user": spec.user,
        "ca_file": spec.ca_file,
        "password": spec.password.model_dump(exclude_none=True),
        "totp": spec.totp.model_dump(exclude_none=True) if spec.totp else None,
        "requests": ["GET url (anonymous)", *(f"POST login ({s}), GET url" for s in logins)],
        "lockout_budget": {
            "faillock_max_deny": access.faillock_max_deny,
            "fail_interval_s": access.faillock_fail_interval_s,
        },
    }
    found, raw = web_mfa.collect(spec, password, probe, timeout=timeout)
    return query, found, raw, tool("requests")


def _oidc(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    """Try the web admin canary's password grant on its IdP client (secrets by reference, tokens redacted)."""
    from preuve.observe.identity import oidc

    spec, client = target.spec, target.spec.oidc
    password = reveal(spec.password, f"canary password of {spec.name}")
    secret = reveal(client.client_secret, f"client secret of {target.name}") if client.client_secret else None
    ca_file = client.ca_file or spec.ca_file
    query = {
        "issuer": client.issuer,
        "client_id": client.client_id,
        "user": spec.user,
        "scope": client.scope,
        "ca_file": ca_file,
        "password": spec.password.model_dump(exclude_none=True),
        "client_secret": client.client_secret.model_dump(exclude_none=True) if client.client_secret else None,
        "requests": ["GET issuer/.well-known/openid-configuration", "POST token_endpoint grant_type=password"],
    }
    found, raw = oidc.collect(
        client.issuer,
        client.client_id,
        secret,
        spec.user,
        password,
        scope=client.scope,
        ca_file=ca_file,
        timeout=timeout,
    )
    found["login_flow"] = {
        "run": False,
        "reason": "no oidc.redirect_uri in the inventory: the browser login's second factor is not probed",
    }
    if client.redirect_uri:
        from preuve.observe.profile_params import current
        from preuve.observe.identity.ssh_mfa import FactorProbe

        access = current().access
        seed = reveal(spec.totp, f"canary TOTP seed of {spec.name}") if spec.totp is not None else None
        probe = FactorProbe(seed, spec.totp_lookahead, access.faillock_max_deny, access.faillock_fail_interval_s)
        query["requests"].append(
            "GET authorization_endpoint, POST login form, POST code form (per attempt: "
            + ("valid TOTP, " if seed else "")
            + "wrong code (6 digits), empty); no code redeemed"
        )
        try:
            found["login_flow"] = oidc.collect_login_flow(
                client.issuer,
                client.client_id,
                client.redirect_uri,
                spec.fields,
                spec.user,
                password,
                probe,
                ca_file=ca_file,
                timeout=timeout,
            )
        except ObservationError as e:
            found["login_flow"] = {"run": False, "error": str(e)}
        raw["login_flow_attempts"] = found["login_flow"].get("attempts", [])
    return query, found, raw, tool("requests")


def _ssh_lockout(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    """Lock a dedicated canary on purpose and reset it (only when the profile opts in: access.lockout_probe)."""
    from preuve.observe.identity import ssh_lockout
    from preuve.observe.profile_params import current
    from preuve.observe.identity.ssh_mfa import load_key

    spec, access = target.spec, current().access
    query = {
        "host": target.address,
        "port": target.port,
        "user": spec.user,
        "lockout_probe": access.lockout_probe,
        "failures": access.faillock_max_deny,
        "private_key": spec.private_key.model_dump(exclude_none=True),
        "totp": spec.totp.model_dump(exclude_none=True) if spec.totp else None,
        "reset": ssh_lockout.reset_command(spec.user, spec.faillock_dir),
        "reset_as": spec.host,
    }
    if not access.lockout_probe:
        return query, {"probed": False, "reason": "params.access.lockout_probe is false"}, {}, f"preuve {__version__}"
    key_text = reveal(spec.private_key, f"lockout canary key of {target.name}")
    for line in key_text.splitlines():
        if len(line) >= 16 and "PRIVATE KEY" not in line:
            REDACTOR.register(line, f"a line of the lockout canary key of {target.name}")
    seed = reveal(spec.totp, f"lockout canary TOTP seed of {target.name}") if spec.totp else None
    admin = ssh_target(hosts[spec.host], hosts)
    canary = ssh_lockout.Canary(
        replace(admin, user=spec.user, key_file=None, password_env=None),
        load_key(key_text, f"{spec.user}@{target.address}"),
        seed,
        spec.totp_lookahead,
    )
    found, raw = ssh_lockout.collect(
        canary,
        admin,
        failures=access.faillock_max_deny,
        faillock_dir=spec.faillock_dir,
        timeout=timeout,
        budget=timeout * 5 + 20,
    )
    return query, found, raw, tool("paramiko")


def _host_commands(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    from preuve.observe.host import testinfra_host  # check packs' `host` fixture: testinfra over one SSH connection

    return testinfra_host.collect(target, facts, timeout, hosts)


Collector = Callable[[Target, tuple[str, ...], float, dict[str, Target]], Outcome]
COLLECTORS: dict[str, Collector] = {
    "tls": _tls,
    "ssh_protocol": _ssh_protocol,
    "ssh_host": _ssh_host,
    "kubernetes": _kubernetes,
    "ssh_mfa": _ssh_mfa,
    "web_mfa": _web_mfa,
    "ssh_lockout": _ssh_lockout,
    "oidc": _oidc,
    "segmentation": _segmentation,
    "flow_matrix": _flow_matrix,
    **STORAGE_COLLECTORS,  # s3_bucket, s3_endpoint, backup
    "log_store": log_store_collector,
    "host_commands": _host_commands,
}
