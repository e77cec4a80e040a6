"""Is an account really locked after repeated failures (9.5.b)? Lock a dedicated canary, try it, reset it.

The only collector that changes its target, on purpose and on one dedicated account: (1) a correct login must
succeed (else nothing could be concluded: wrong credentials would pass for a lock); (2) N failed authentications,
each on its own connection, run concurrently (servers delay each failure by seconds), with whatever failing
attempt the server offers (a wrong TOTP code after the key's partial success, else a wrong password or
keyboard-interactive answer, else a throwaway key); (3) a correct login again: refused means locked; (4)
`faillock --reset` through the host's scanning account (a sudo rule for exactly that command); (5) a correct
login once more, which proves the reset. Step (4) runs whatever happened before it, and its outcome is in the
evidence: a failed reset leaves the target changed and must be seen.

No channel is ever opened by the canary: authentication answers are the whole observation. TOTP codes come from
steps never used in the probe (pam_oath and others refuse a replayed step). No secret reaches the facts.
"""

from __future__ import annotations

import secrets
import shlex
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from preuve import __version__
from preuve.observe.errors import ObservationError
from preuve.observe.registry import Collector, Fixture, Outcome
from preuve.observe.ssh.target import SshTarget

if TYPE_CHECKING:
    import paramiko

    from preuve.inputs.targets import Target


ACCEPTED, REFUSED = "accepted", "refused"
STEP = 30


@dataclass(frozen=True)
class Canary:
    """Where the canary logs in and with what (resolved secrets live only here, already redacted)."""

    ssh: SshTarget  # address, port, known_hosts; user = the canary
    key: paramiko.PKey
    seed: str | None  # base32 TOTP seed
    lookahead: int = 1


class Codes:
    """TOTP codes for steps not used before in this probe; waits (bounded) when the next step is not valid yet."""

    def __init__(self, seed: str | None, lookahead: int, deadline: float) -> None:
        import pyotp

        self.totp = pyotp.TOTP(seed) if seed else None
        self.lookahead, self.deadline, self.last = lookahead, deadline, -1

    def fresh(self) -> str:
        if self.totp is None:
            raise ObservationError("the server asks a code after the key but the lockout canary has no `totp` seed")
        step = max(int(time.time()) // STEP, self.last + 1)
        while step > int(time.time()) // STEP + self.lookahead:
            wait = STEP - time.time() % STEP + 0.05
            if time.monotonic() + wait > self.deadline:
                raise ObservationError(f"no fresh TOTP step within the probe's budget (lookahead {self.lookahead})")
            time.sleep(wait)
        self.last = step
        return self.totp.at(step * STEP)

    def wrong(self) -> str:
        """A 6-digit code valid for no step within ±20 of now."""
        now = int(time.time()) // STEP
        valid = {self.totp.at((now + k) * STEP) for k in range(-20, 21)} if self.totp else set()
        while True:
            code = f"{secrets.randbelow(1_000_000):06d}"
            if code not in valid:
                return code


@dataclass
class Attempt:
    kind: str  # "correct" or "wrong:<method>"
    outcome: str  # accepted / refused
    after_key: list[str] | None  # methods the server still wanted after the key (None: key not offered)
    messages: list[str]  # what the server said in keyboard-interactive (e.g. pam_faillock's "account is locked")
    ms: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _login(canary: Canary, kind: str, codes: Codes, timeout: float) -> tuple[Attempt, list[str]]:
    """One connection, one authentication of kind "correct", "wrong:totp", "wrong:password", "wrong:kbdint",
    "wrong:publickey". Returns the attempt and the methods the server allowed before any ("none" probe)."""
    import paramiko

    from preuve.observe.ssh import connection

    t0 = time.perf_counter()
    where = connection.where(canary.ssh)
    transports: list[paramiko.Transport] = []
    messages: list[str] = []
    after_key: list[str] | None = None
    allowed: list[str] = []

    def answer(code_or_text: str) -> Callable[[str, str, list[tuple[str, bool]]], list[str]]:
        def handler(title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
            messages.extend(m.strip() for m in (title, instructions) if m and m.strip())
            return [code_or_text for _ in prompts]

        return handler

    try:
        t, _ = connection.handshake(canary.ssh, timeout, transports, where)
        user = canary.ssh.user
        try:
            try:
                t.auth_none(user)
            except paramiko.BadAuthenticationType as e:
                allowed = list(e.allowed_types)
            except paramiko.AuthenticationException:
                pass
            if t.is_authenticated():
                raise ObservationError(f"ssh {where}: the server lets {user} in with no authentication at all")
            if kind == "wrong:password":
                t.auth_password(user, secrets.token_urlsafe(18))
            elif kind == "wrong:kbdint":
                t.auth_interactive(user, answer(secrets.token_urlsafe(18)))
            elif kind == "wrong:publickey":
                t.auth_publickey(user, paramiko.ECDSAKey.generate())
            else:
                after_key = list(t.auth_publickey(user, canary.key) or [])
                if not t.is_authenticated():
                    if "keyboard-interactive" not in after_key:
                        raise ObservationError(
                            f"ssh {where}: after the key the server wants {after_key}; the probe can answer "
                            "keyboard-interactive only"
                        )
                    code = codes.fresh() if kind == "correct" else codes.wrong()
                    t.auth_interactive(user, answer(code))
            outcome = ACCEPTED if t.is_authenticated() else REFUSED
        except paramiko.AuthenticationException:
            outcome = REFUSED
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise ObservationError(f"ssh {where}: authentication error: {connection.reason(e)}") from None
    finally:
        for tr in reversed(transports):
            tr.close()
    ms = round((time.perf_counter() - t0) * 1000, 1)
    return Attempt(kind, outcome, after_key, messages, ms), allowed


def reset_command(user: str, faillock_dir: str | None) -> str:
    """The exact command line the sudo rule allows (root runs it without sudo)."""
    argv = ["/usr/sbin/faillock", *(["--dir", faillock_dir] if faillock_dir else []), "--user", user, "--reset"]
    cmd = shlex.join(argv)
    return f'if [ "$(id -u)" -eq 0 ]; then {cmd}; else sudo -n {cmd}; fi'


def _reset(admin: SshTarget, command: str, timeout: float) -> dict[str, Any]:
    """Run the reset over the scanning account's own connection; never raises (its failure is evidence)."""
    import paramiko

    from preuve.observe.ssh import connection

    transports: list[paramiko.Transport] = []
    try:
        transport, _ = connection.connect(admin, timeout, transports)
        channel = transport.open_session(timeout=timeout)
        channel.exec_command(command)
        channel.shutdown_write()
        out, stalled = connection.read_all(channel, time.monotonic() + timeout)
        channel.status_event.wait(0 if stalled else timeout)
        rc = channel.exit_status if channel.exit_status_ready() else None
        err = channel.recv_stderr(65536).decode(errors="replace").strip() if channel.recv_stderr_ready() else ""
        return {"ok": rc == 0, "rc": rc, "stderr": err[:500], "stdout": out.decode(errors="replace")[:500]}
    except ObservationError as e:
        return {"ok": False, "rc": None, "stderr": str(e), "stdout": ""}
    except (paramiko.SSHException, OSError, EOFError) as e:
        return {
            "ok": False,
            "rc": None,
            "stderr": f"ssh {connection.where(admin)}: {connection.reason(e)}",
            "stdout": "",
        }
    finally:
        for t in reversed(transports):
            t.close()


def _failing_kind(first: Attempt, allowed: list[str]) -> str:
    """The failing attempt that server offers for this account (the one its lockout should count)."""
    if first.after_key:  # partial success: the second factor is where failures are counted
        return "wrong:totp"
    if "password" in allowed:
        return "wrong:password"
    if "keyboard-interactive" in allowed:
        return "wrong:kbdint"
    return "wrong:publickey"


def collect(
    canary: Canary,
    admin: SshTarget,
    *,
    failures: int,
    faillock_dir: str | None,
    timeout: float = 5.0,
    budget: float = 50.0,
) -> tuple[dict, dict]:
    """Lock the canary with `failures` failed attempts, try a correct login, reset, log in again."""
    from preuve.observe.ssh import connection

    deadline = time.monotonic() + budget
    codes = Codes(canary.seed, canary.lookahead, deadline)
    command = reset_command(canary.ssh.user, faillock_dir)
    first, allowed = _login(canary, "correct", codes, timeout)
    if first.outcome != ACCEPTED:  # that refusal may have counted as a failure: reset it too
        reset = _reset(admin, command, timeout)
        state = "reset" if reset["ok"] else f"NOT reset ({reset['stderr'] or reset['rc']})"
        raise ObservationError(
            f"ssh {connection.where(canary.ssh)}: the lockout canary's correct login is refused before any failure "
            "(wrong key or seed; still locked by an earlier run; or its TOTP step already used by a login less than "
            f"a minute or two ago): a lock cannot be proven; its failure count was {state}"
        )
    kind = _failing_kind(first, allowed)
    attempts: list[Attempt] = [first]
    after: Attempt | None = None
    try:
        with ThreadPoolExecutor(max_workers=min(failures, 8), thread_name_prefix="preuve-lockout") as pool:
            futures = [pool.submit(_login, canary, kind, codes, timeout) for _ in range(failures)]
        attempts += [f.result()[0] for f in futures]  # the first error, if any, raises here (after all ended)
        for a in attempts[1:]:
            if a.outcome == ACCEPTED:
                raise ObservationError(
                    f"ssh {connection.where(canary.ssh)}: a deliberately wrong {kind[6:]} "
                    "attempt was accepted: the probe cannot count failures"
                )
        after, _ = _login(canary, "correct", codes, timeout)
        attempts.append(after)
    finally:
        reset = _reset(admin, command, timeout)
        if after is None:  # the probe broke off: say what became of the canary, then let the error through
            exc = sys.exc_info()[1]
            state = "reset" if reset["ok"] else f"RESET FAILED ({reset['stderr'] or reset['rc']}): it may be LOCKED"
            if isinstance(exc, ObservationError):
                raise ObservationError(f"{exc}; the canary was {state}") from None
    try:
        verify, _ = _login(canary, "correct", codes, timeout)
    except ObservationError as e:
        state = "reset" if reset["ok"] else f"RESET FAILED ({reset['stderr'] or reset['rc']}): it may be LOCKED"
        raise ObservationError(f"{e} (the login that checks the reset); the canary was {state}") from None
    attempts.append(verify)
    wrong = attempts[1:-2]
    facts = {
        "probed": True,
        "user": canary.ssh.user,
        "methods_before_key": allowed,
        "second_factor_after_key": first.after_key or [],
        "failure_method": kind[6:],
        "failures": len(wrong),
        "failed_attempts_refused": sum(a.outcome == REFUSED for a in wrong),
        "login_after_failures": after.outcome,
        "locked": after.outcome == REFUSED,
        "server_messages": sorted({m for a in attempts for m in a.messages}),
        "reset": {"command": command, **{k: reset[k] for k in ("ok", "rc", "stderr")}},
        "login_after_reset": verify.outcome,
        "unlocked_after_reset": verify.outcome == ACCEPTED,
    }
    return facts, {"attempts": [a.as_dict() for a in attempts], "reset": reset}


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    """Lock a dedicated canary on purpose and reset it (only when the profile opts in: access.lockout_probe)."""
    from dataclasses import replace

    from preuve.evidence.redact import REDACTOR
    from preuve.observe.identity.ssh_mfa import load_key
    from preuve.observe.profile_params import current
    from preuve.observe.reveal import reveal, tool
    from preuve.observe.ssh.target import ssh_target

    spec, access = target.spec, current().access
    query = {
        "host": target.address,
        "port": target.port,
        "user": spec.user,
        "lockout_probe": access.lockout_probe,
        "failures": access.faillock_max_deny,
        "private_key": spec.private_key.model_dump(exclude_none=True),
        "totp": spec.totp.model_dump(exclude_none=True) if spec.totp else None,
        "reset": reset_command(spec.user, spec.faillock_dir),
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
    canary = Canary(
        replace(admin, user=spec.user, key_file=None, password_env=None),
        load_key(key_text, f"{spec.user}@{target.address}"),
        seed,
        spec.totp_lookahead,
    )
    found, raw = collect(
        canary,
        admin,
        failures=access.faillock_max_deny,
        faillock_dir=spec.faillock_dir,
        timeout=timeout,
        budget=timeout * 5 + 20,
    )
    return query, found, raw, tool("paramiko")


COLLECTOR = Collector(
    "ssh_lockout",
    _collect,
    limit=4,
    fixtures=(
        Fixture(
            "lockout",
            "lockout_canary",
            doc="a lockout canary: login, N failures, correct login (locked?), reset, login again",
        ),
    ),
    preload=("paramiko", "pyotp", "preuve.observe.ssh.connection"),
)
