"""S3 checks: buckets and their replicas, keys and endpoints stay in the allowed countries (19.2), data is
encrypted at rest with one key per customer (10.1.a), backup buckets are versioned and locked (12.5.b)."""
