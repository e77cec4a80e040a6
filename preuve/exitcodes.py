"""Process exit codes, distinct so that CI jobs and cron wrappers can branch on them."""

from enum import IntEnum


class Exit(IntEnum):
    COMPLIANT = 0  # every selected check passed (or is waived / not applicable)
    NON_COMPLIANT = 1  # at least one check failed (not waived)
    INCOMPLETE = 2  # no failure, but at least one check could not observe its target (error)
    INVALID_INPUT = 3  # inventory, profile, waivers or flow matrix rejected: nothing was scanned
    USAGE = 4  # bad command line, or an internal error of preuve itself
    INTEGRITY = 5  # `preuve verify`: a run directory does not match its manifest
