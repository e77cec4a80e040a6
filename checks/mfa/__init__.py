"""MFA on administration interfaces (SecNumCloud 9.6.d-h): enforcement proven by behaviour.

Account lockout after repeated failures (9.5.b) is judged in checks/access."""
