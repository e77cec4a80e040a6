"""k8s: collectors of one family (see preuve/observe/registry.py)."""
