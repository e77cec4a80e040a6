"""Tenant canaries: a customer's own credentials on the public interfaces (Kubernetes API, S3) read nothing of the
provider's resources nor of another customer's (9.6.i, 9.6.j, 9.7.a)."""
