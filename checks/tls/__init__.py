"""TLS checks (SecNumCloud 10.2.c: the ANSSI TLS guide)."""
