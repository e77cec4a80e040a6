"""Encryption at rest and where keys live (SecNumCloud 10.1, 10.5): LUKS volumes, unlock secrets, admin keys."""
