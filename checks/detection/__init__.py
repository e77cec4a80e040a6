"""Detection probes (13.3.a): every declared interconnection is watched by an IDS sensor whose events reach the
central analysis store (12.9) recently."""
