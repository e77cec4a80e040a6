"""Time (SecNumCloud 12.8): clocks synchronised on internal sources (chrony or systemd-timesyncd, check_clock.py),
log timestamps that can be ordered."""
