"""SSH checks (SecNumCloud 10.2.e: the ANSSI OpenSSH guide; 9.5, 9.6)."""
