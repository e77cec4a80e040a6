"""Offline configuration backups of the technical infrastructure (17.5.a): etcd snapshots and network devices'
configurations are fresh and immutable (S3 object lock in compliance mode)."""
