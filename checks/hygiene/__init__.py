"""Host hygiene (SecNumCloud 10.3, 5.1.b): password hashes and hashing method."""
