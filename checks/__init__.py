"""preuve's checks, one folder per domain: `check_*.py` (logic, requirement ids) and `catalogue.yaml`."""
