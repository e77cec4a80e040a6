"""Kubernetes (CaaS) checks: the API server's exposure and configuration, RBAC, tenant isolation, Velero backups."""
