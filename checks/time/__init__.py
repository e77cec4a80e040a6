"""Time (SecNumCloud 12.8): clocks synchronised on internal sources."""
