"""Shell fragments the host facts share (POSIX sh, run in the batched script of the ssh_host collector)."""

SBIN_PATH = 'PATH="$PATH:/usr/sbin:/sbin"; '
"""Commands such as sshd, ss, nft live in sbin, which a non-root login's PATH often lacks."""

AS_ROOT = 'if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi'
"""The body of a function running its arguments as root: directly, or through `sudo -n` (never a password prompt;
a refusal is an error that names the sudoers rule to add, preuve/observe/privileged.py)."""
