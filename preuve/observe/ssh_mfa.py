"""Is a second factor *enforced* on SSH? Offer a canary administrator's key and watch the server's answer.

RFC 4252 §5.1: a server that accepts a method but still wants another answers SSH_MSG_USERAUTH_FAILURE with
*partial success*; one that opens the session on the key alone answers SUCCESS. Only that answer is recorded:
no channel is ever opened (read-only), the connection is closed right after, and the host key is verified
against known_hosts first (a canary key offered to an impostor would be a gift).
"""

from __future__ import annotations

import io

import paramiko

from preuve.observe import ssh_host
from preuve.observe.errors import ObservationError


def load_key(text: str, where: str) -> paramiko.PKey:
    """A private key from its (already resolved) text; errors never quote it."""
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text.strip() + "\n"))
        except paramiko.PasswordRequiredException:
            raise ObservationError(f"ssh {where}: the canary key is encrypted") from None
        except (paramiko.SSHException, ValueError):
            continue
    raise ObservationError(f"ssh {where}: the canary key reference does not hold an OpenSSH/PEM private key")


def collect(
    target: ssh_host.SshTarget, user: str, key_text: str, *, timeout: float = 10.0
) -> tuple[dict, dict]:
    """Offer the key for `user`; facts say whether the key alone authenticated and what the server wants next."""
    where = f"{user}@{target.host}:{target.port}"
    key = load_key(key_text, where)
    transports: list[paramiko.Transport] = []
    try:
        transport, host_key = ssh_host.handshake(target, timeout, transports, where)
        try:
            remaining = transport.auth_publickey(user, key)
        except paramiko.BadAuthenticationType as e:
            raise ObservationError(
                f"ssh {where}: publickey not accepted for the canary (server allows {', '.join(e.allowed_types)})"
            ) from None
        except paramiko.AuthenticationException:
            raise ObservationError(f"ssh {where}: the canary key was rejected (not authorized for {user})") from None
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise ObservationError(f"ssh {where}: authentication error: {ssh_host._reason(e)}") from None
        authenticated = transport.is_authenticated()
    finally:
        for t in reversed(transports):
            t.close()
    facts = {
        "host_key": host_key,
        "user": user,
        "key_type": key.get_name(),
        "key_alone_authenticated": authenticated,
        "partial_success": not authenticated,
        "methods_still_required": [] if authenticated else sorted(remaining or []),
    }
    return facts, {"userauth_answer": "SUCCESS" if authenticated else f"FAILURE partial_success=1 {remaining}"}
