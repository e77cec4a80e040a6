"""Is a second factor *enforced* on SSH, and does it refuse anything? Offer a canary administrator's key, then
answer the second factor wrongly (and, given the seed, rightly).

RFC 4252 §5.1: a server that accepts a method but still wants another answers SSH_MSG_USERAUTH_FAILURE with
*partial success*; one that opens the session on the key alone answers SUCCESS. Partial success alone proves that
something is asked, not that it is checked: a PAM stack of `pam_permit` asks keyboard-interactive and lets any
answer (or none) in. So after partial success the probe answers the second method on fresh connections:

1. when the canary's TOTP seed is given: the right code (a step this scanner has not used yet, see
   canary_ledger), which must open the session; this comes first because a success clears the lockout tally.
   A refusal is retried once on a later step (another login may have just spent the step: pam_oath refuses a
   replay); refused twice, nothing wrong is sent and the result is an error;
2. a WRONG code (six random digits valid for no step within ±20 of now), which must be refused;
3. an EMPTY answer, which must be refused.

A session that opens is closed at once: no channel is ever opened (read-only). Each attempt is recorded with
what was sent ("valid TOTP", "wrong code (6 digits)", "empty": never a code nor the seed), the prompts the
server showed and its answer. Lockout budget: steps 2 and 3 are two failures the target's lockout counts; they
are sent only when this scanner's own uncleared failures on the canary plus these two stay below the profile's
`access.faillock_max_deny` (else nothing wrong is sent and the result is an error saying why). The host key is
verified against known_hosts first (a canary key offered to an impostor would be a gift).
"""

from __future__ import annotations

import io
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from preuve.observe.errors import ObservationError
from preuve.observe.identity import canary_ledger
from preuve.observe.registry import Collector, Fixture, Outcome
from preuve.observe.ssh.target import SshTarget

if TYPE_CHECKING:
    import paramiko

    from preuve.inputs.targets import Target


VALID, WRONG, EMPTY = "valid TOTP", "wrong code (6 digits)", "empty"
VALID_LATER = "valid TOTP (a later step)"
STEP = 30
ANSWERABLE = ("keyboard-interactive", "password")  # second methods the probe can answer with a code


@dataclass(frozen=True)
class FactorProbe:
    """How the second factor is probed: the seed (resolved, redacted) and the lockout budget from the profile."""

    seed: str | None  # base32 TOTP seed of the canary, or None (then the right code is not tried)
    lookahead: int = 1  # TOTP steps ahead the server accepts
    max_deny: int = 5  # access.faillock_max_deny: the canary locks at this many failures
    interval_s: float = 900.0  # access.faillock_fail_interval_s: how long the target remembers a failure


def load_key(text: str, where: str) -> paramiko.PKey:
    """A private key from its (already resolved) text; errors never quote it."""
    import paramiko

    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text.strip() + "\n"))
        except paramiko.PasswordRequiredException:
            raise ObservationError(f"ssh {where}: the canary key is encrypted") from None
        except (paramiko.SSHException, ValueError):
            continue
    raise ObservationError(f"ssh {where}: the canary key reference does not hold an OpenSSH/PEM private key")


def wrong_code(seed: str | None) -> str:
    """Six digits that are the right code for no step within ±20 of now (so a pass cannot be luck)."""
    import pyotp

    now = int(time.time()) // STEP
    valid = {pyotp.TOTP(seed).at((now + k) * STEP) for k in range(-20, 21)} if seed else set()
    while (code := f"{secrets.randbelow(1_000_000):06d}") in valid:
        pass
    return code


def fresh_code(seed: str, record: dict, lookahead: int, deadline: float) -> str:
    """The right code for the earliest step the server accepts that this scanner has not used (pam_oath refuses a
    replayed step); waits for the next step when all accepted ones are spent, within the deadline."""
    import pyotp

    last = record.get("last_step")
    step = max(int(time.time()) // STEP, (last + 1) if isinstance(last, int) else 0)
    while step > int(time.time()) // STEP + lookahead:
        wait = STEP - time.time() % STEP + 0.05
        if time.monotonic() + wait > deadline:
            raise ObservationError(
                f"every TOTP step the server accepts (lookahead {lookahead}) was already used by "
                "this scanner within the last minutes: run again later"
            )
        time.sleep(wait)
    record["last_step"] = step
    return pyotp.TOTP(seed).at(step * STEP)


def _attempt(
    target: SshTarget, user: str, key: paramiko.PKey, method: str, sent: str, answer: str, timeout: float
) -> dict[str, Any]:
    """One connection: the key (partial success again), then `answer` to every prompt of the second method."""
    import paramiko

    from preuve.observe.ssh import connection

    where = f"{user}@{target.host}:{target.port}"
    prompts: list[str] = []
    messages: list[str] = []  # what the server said besides prompts (pam_faillock: "The account is locked ...")
    rounds = 0
    t0 = time.perf_counter()

    def handler(title: str, instructions: str, questions: list[tuple[str, bool]]) -> list[str]:
        nonlocal rounds
        rounds += 1
        prompts.extend(q.strip() for q, _ in questions)
        messages.extend(m.strip()[:200] for m in (title, instructions) if m and m.strip())
        return [answer for _ in questions]

    transports: list[paramiko.Transport] = []
    try:
        transport, _ = connection.handshake(target, timeout, transports, where)
        try:
            left = transport.auth_publickey(user, key)
            if transport.is_authenticated():
                raise ObservationError(f"ssh {where}: the key alone was accepted on a later connection")
            if method == "password":
                left = transport.auth_password(user, answer)
            else:
                left = transport.auth_interactive(user, handler)
            outcome = "accepted" if transport.is_authenticated() else f"accepted, then wants {sorted(left or [])}"
        except paramiko.AuthenticationException:
            outcome = "refused"
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise ObservationError(f"ssh {where}: {sent} attempt: {connection.reason(e)}") from None
    finally:
        for t in reversed(transports):
            t.close()  # a session that opened is closed at once, before any channel
    return {
        "sent": sent,
        "method": method,
        "info_requests": rounds,
        "prompts": prompts,
        "messages": messages,
        "outcome": outcome,
        "ms": round((time.perf_counter() - t0) * 1000, 1),
    }


def probe_factor(
    target: SshTarget, user: str, key: paramiko.PKey, method: str, probe: FactorProbe, timeout: float
) -> dict[str, Any]:
    """Right code (if seeded), wrong code, empty answer, within the lockout budget (see the module docstring)."""
    where = f"{target.host}:{target.port}"
    deadline = time.monotonic() + timeout + 2 * STEP
    attempts: list[dict[str, Any]] = []
    out: dict[str, Any] = {
        "run": True,
        "reason": None,
        "method": method,
        "attempts": attempts,
        "valid_code": "not tried: no TOTP seed given" if probe.seed is None else None,
        "wrong_code": None,
        "empty_answer": None,
        "budget": {"access.faillock_max_deny": probe.max_deny, "access.faillock_fail_interval_s": probe.interval_s},
    }
    with canary_ledger.entry("ssh", where, user) as record:
        before = canary_ledger.pending(record, probe.interval_s)
        out["budget"]["scanner_failures_pending_before"] = before

        def send(sent: str, answer: str) -> str:
            a = _attempt(target, user, key, method, sent, answer, timeout)
            attempts.append(a)
            if a["outcome"] == "refused":
                canary_ledger.failed(record)
            elif a["outcome"] == "accepted" and sent in (VALID, VALID_LATER):
                canary_ledger.cleared(record)
            return a["outcome"]

        if probe.seed is not None:
            if method != "keyboard-interactive":
                out["valid_code"] = f"not tried: after the key the server wants {method}, not a code"
            else:
                out["valid_code"] = send(VALID, fresh_code(probe.seed, record, probe.lookahead, deadline))
                said = [ln.strip() for m in attempts[-1]["messages"] + attempts[-1]["prompts"] for ln in m.splitlines()]
                locked = [ln for ln in said if "locked" in ln.lower()]  # pam_faillock's preauth says so before asking
                if out["valid_code"] == "refused" and not locked:  # its step may have just been spent: one later
                    out["valid_code"] = send(VALID_LATER, fresh_code(probe.seed, record, probe.lookahead, deadline))
                if locked:
                    out.update(
                        run=False,
                        reason=f"the server says the canary is locked ({locked[0]!r}): nothing "
                        "more was sent; unlock it (faillock --reset) and keep it for preuve",
                    )
                    return out
                if out["valid_code"] != "accepted":
                    out.update(
                        run=False,
                        reason=(
                            f"the right TOTP code was refused on two steps ({out['valid_code']}): wrong seed, clock "
                            "skew or a locked canary; refusals would prove nothing, so no wrong answer was sent"
                        ),
                    )
                    return out
        pending = canary_ledger.pending(record, probe.interval_s)
        out["budget"]["scanner_failures_pending"] = pending
        if pending + 2 >= probe.max_deny:
            out.update(
                run=False,
                reason=(
                    f"a wrong code and an empty answer would bring this scanner's failures on the canary to "
                    f"{pending + 2} within {probe.interval_s:g} s, reaching access.faillock_max_deny={probe.max_deny}: "
                    "the canary would be locked, so nothing wrong was sent (give its TOTP seed: a right login first "
                    "clears the count; or wait)"
                ),
            )
            return out
        out["wrong_code"] = send(WRONG, wrong_code(probe.seed))
        if out["wrong_code"] == "refused":
            out["empty_answer"] = send(EMPTY, "")
        else:
            out["empty_answer"] = "not sent: the wrong code was already accepted"
    return out


def collect(
    target: SshTarget, user: str, key_text: str, *, probe: FactorProbe | None = None, timeout: float = 10.0
) -> tuple[dict, dict]:
    """Offer the key for `user`; then, on partial success, probe the second factor (None: the key only)."""
    import paramiko

    from preuve.observe.ssh import connection

    where = f"{user}@{target.host}:{target.port}"
    key = load_key(key_text, where)
    transports: list[paramiko.Transport] = []
    try:
        transport, host_key = connection.handshake(target, timeout, transports, where)
        try:
            remaining = transport.auth_publickey(user, key)
        except paramiko.BadAuthenticationType as e:
            raise ObservationError(
                f"ssh {where}: publickey not accepted for the canary (server allows {', '.join(e.allowed_types)})"
            ) from None
        except paramiko.AuthenticationException:
            raise ObservationError(f"ssh {where}: the canary key was rejected (not authorized for {user})") from None
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise ObservationError(f"ssh {where}: authentication error: {connection.reason(e)}") from None
        authenticated = transport.is_authenticated()
    finally:
        for t in reversed(transports):
            t.close()
    required = [] if authenticated else sorted(remaining or [])
    method = next((m for m in ANSWERABLE if m in required), None)
    if probe is None:
        factor: dict[str, Any] = {"run": False, "reason": "the factor probe was not asked for"}
    elif authenticated:
        factor = {"run": False, "reason": "the key alone opened a session: there is no second factor to probe"}
    elif method is None:
        factor = {
            "run": False,
            "reason": f"after the key the server wants {required}; the probe answers {' or '.join(ANSWERABLE)} only",
        }
    else:
        factor = probe_factor(target, user, key, method, probe, timeout)
    facts = {
        "host_key": host_key,
        "user": user,
        "key_type": key.get_name(),
        "key_alone_authenticated": authenticated,
        "partial_success": not authenticated,
        "methods_still_required": required,
        "factor_probe": factor,
    }
    raw = {
        "userauth_answer": "SUCCESS" if authenticated else f"FAILURE partial_success=1 {remaining}",
        "factor_attempts": factor.get("attempts", []),
    }
    return facts, raw


def _collect(target: Target, facts: tuple[str, ...], timeout: float, hosts: dict[str, Target]) -> Outcome:
    """Offer a canary administrator's key (by reference, redacted) and record the server's answer."""
    from preuve.evidence.redact import REDACTOR
    from preuve.observe.reveal import reveal, tool

    spec = target.spec
    key_text = reveal(spec.private_key, f"canary key of {target.name}")
    for line in key_text.splitlines():
        if len(line) >= 16 and "PRIVATE KEY" not in line:
            REDACTOR.register(line, f"a line of the canary key of {target.name}")
    from preuve.observe.profile_params import current
    from preuve.observe.ssh.host import SshTarget

    access = current().access
    seed = reveal(spec.totp, f"canary TOTP seed of {target.name}") if spec.totp is not None else None
    probe = FactorProbe(seed, spec.totp_lookahead, access.faillock_max_deny, access.faillock_fail_interval_s)
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
    found, raw = collect(ssh, spec.user, key_text, probe=probe, timeout=timeout)
    return query, found, raw, tool("paramiko")


COLLECTOR = Collector(
    "ssh_mfa",
    _collect,
    limit=8,
    fixtures=(Fixture("ssh_canary", "ssh_canary", doc="SSH server's answer to a canary admin's key alone"),),
    preload=("paramiko", "preuve.observe.ssh.connection"),
)
