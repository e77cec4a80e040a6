"""Location checks: customer data, backups and keys stay in the allowed countries (SecNumCloud 19.2)."""
