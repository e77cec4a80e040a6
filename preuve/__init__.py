"""preuve: continuous, replayable SecNumCloud 3.2 evidence.

The package is laid out along the path a scan takes:
inputs (inventory, profile, waivers) -> observe (the only network I/O) -> evidence (recorded observations)
-> judge (pytest checks, pure functions of evidence) -> results (results.jsonl)
-> report (JUnit, run.json, ...).
"""

__version__ = "0.1.0"
