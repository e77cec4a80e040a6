"""Backup checks (SecNumCloud 12.5.a-d, 10.1.d, 17.6.a): fresh, encrypted, restorable, checked, off-site in the EU."""
