"""Benchmarks of the location and backup checks (issue 3): restore-drill throughput, 1,000-bucket location sweep."""
