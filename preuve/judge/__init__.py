"""Judge: checks are pytest functions of recorded observations; this package is their vocabulary and plugin.

Check authors need only `from preuve.judge import check`.
"""

from preuve.judge.verdicts import Judge, check

__all__ = ["Judge", "check"]
