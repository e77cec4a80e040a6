"""MFA on administration interfaces (SecNumCloud 9.6.d-h, 9.5.b): enforcement proven by behaviour."""
