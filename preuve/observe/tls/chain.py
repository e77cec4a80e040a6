"""The chain a server presented, judged where it is cheap to: parsed (cryptography), described
(:func:`.facts.certificate_facts`), validated against the OS trust store, its name matched.

A run that observes many endpoints does this in the handshake helper process (:mod:`.handshaker`), which has
cryptography loaded anyway: the ~80 ms of importing ``cryptography.x509`` and its verifier then stay off the run's
own path. A one-endpoint run does it in-process."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from preuve.observe.errors import ObservationError
from preuve.observe.tls import facts as F


def certificate(chain_der: list[bytes], server_name: str, ocsp: bool | None) -> dict:
    """The ``certificate`` fact of a TLS observation, from the chain as presented (DER, leaf first)."""
    from cryptography import x509

    try:
        certs = [x509.load_der_x509_certificate(d) for d in chain_der]
    except ValueError as exc:
        raise ObservationError(f"a certificate of the chain it presented does not parse ({exc})") from None
    chain = [F.certificate_facts(c) for c in certs]
    trusted, error = _validate(certs)
    return {
        "hostname_matches": F.hostname_matches(server_name, chain[0]["san_dns"], chain[0]["san_ip"]),
        "trusted_by_system": trusted,
        "trusted_by": ["system"] if trusted else [],
        "validation_error": error,
        "ocsp_stapled": ocsp,
        "chain_in_order": all(certs[i].issuer == certs[i + 1].subject for i in range(len(certs) - 1)),
        "chain": chain,
    }


_SYSTEM_STORE: Any = None


def _validate(certs: list) -> tuple[bool | None, str | None]:
    """Path validation against the OS trust store (cryptography's verifier, no name check)."""
    global _SYSTEM_STORE
    from cryptography import x509
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    if _SYSTEM_STORE is None:  # looked up and parsed once per process
        ca_file = F.system_ca_file()
        if ca_file is None:
            return None, "no system trust store"
        warnings.filterwarnings("ignore", message="Parsed a serial number")  # a root of the OS bundle, not the target
        _SYSTEM_STORE = Store(x509.load_pem_x509_certificates(ca_file.read_bytes()))
    verifier = PolicyBuilder().store(_SYSTEM_STORE).time(dt.datetime.now(dt.UTC)).build_client_verifier()
    try:
        verifier.verify(certs[0], certs[1:])
    except (VerificationError, ValueError) as exc:
        return False, str(exc)[:300]
    return True, None
