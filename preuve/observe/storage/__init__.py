"""storage: collectors of one family (see preuve/observe/registry.py)."""
