"""Accounts compared with the declared administrators (SecNumCloud 9.2, 9.3, 9.4, 9.5.d)."""
