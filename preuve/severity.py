"""Severity levels of checks, most severe first (shared by the CLI, the judge and the reports)."""

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
