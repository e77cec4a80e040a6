"""Maintained software and controlled installation (SecNumCloud 5.1.a, 12.10, 12.11): patches, releases, sources."""
