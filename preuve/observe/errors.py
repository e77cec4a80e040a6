"""Errors raised by collectors (the only code that touches the network)."""


class ObservationError(Exception):
    """The target could not be observed; message is shown to users and must not contain secrets."""


class HostKeyMismatch(ObservationError):
    """An SSH server presented a host key that known_hosts does not expect; it was not scanned."""
